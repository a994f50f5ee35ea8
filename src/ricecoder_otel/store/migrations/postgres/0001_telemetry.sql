-- Spans, metric points and logs written by the local exporters.
CREATE TABLE spans (
    id BIGSERIAL PRIMARY KEY,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL,
    status_code TEXT NOT NULL,
    status_message TEXT NOT NULL DEFAULT '',
    service_name TEXT NOT NULL DEFAULT '',
    attributes JSONB NOT NULL DEFAULT '{}',
    events JSONB NOT NULL DEFAULT '[]',
    resource JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX spans_start ON spans (start_ns);
CREATE INDEX spans_trace ON spans (trace_id);
CREATE INDEX spans_name_start ON spans (name, start_ns);

CREATE TABLE metric_points (
    id BIGSERIAL PRIMARY KEY,
    time_ns BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    attributes JSONB NOT NULL DEFAULT '{}',
    value DOUBLE PRECISION,
    count BIGINT,
    sum DOUBLE PRECISION,
    bucket_bounds JSONB,
    bucket_counts JSONB,
    service_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX metric_points_time ON metric_points (time_ns);
CREATE INDEX metric_points_name_time ON metric_points (name, time_ns);

CREATE TABLE logs (
    id BIGSERIAL PRIMARY KEY,
    time_ns BIGINT NOT NULL,
    severity_number INTEGER,
    severity_text TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    event_name TEXT NOT NULL DEFAULT '',
    trace_id TEXT,
    span_id TEXT,
    attributes JSONB NOT NULL DEFAULT '{}',
    service_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logs_time ON logs (time_ns);
CREATE INDEX logs_trace ON logs (trace_id);
