-- Spans, metric points and logs written by the local exporters.
-- JSON columns hold objects with sorted keys, so equal attribute sets compare equal.
CREATE TABLE spans (
    id INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status_code TEXT NOT NULL,
    status_message TEXT NOT NULL DEFAULT '',
    service_name TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '{}',
    events TEXT NOT NULL DEFAULT '[]',
    resource TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX spans_start ON spans (start_ns);
CREATE INDEX spans_trace ON spans (trace_id);
CREATE INDEX spans_name_start ON spans (name, start_ns);

CREATE TABLE metric_points (
    id INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '{}',
    value REAL,
    count INTEGER,
    sum REAL,
    bucket_bounds TEXT,
    bucket_counts TEXT,
    service_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX metric_points_time ON metric_points (time_ns);
CREATE INDEX metric_points_name_time ON metric_points (name, time_ns);

CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    severity_number INTEGER,
    severity_text TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    event_name TEXT NOT NULL DEFAULT '',
    trace_id TEXT,
    span_id TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    service_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logs_time ON logs (time_ns);
CREATE INDEX logs_trace ON logs (trace_id);
