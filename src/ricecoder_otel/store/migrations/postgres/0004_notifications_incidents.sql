-- Notifications (outbox, notification log, alerts held for grouping), silences and incidents.
-- JSON is stored as text in both dialects; times are Unix nanoseconds.
CREATE TABLE notify_outbox (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    action TEXT NOT NULL,
    group_key TEXT NOT NULL DEFAULT '',
    incident_id TEXT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ns BIGINT NOT NULL,
    lease_until_ns BIGINT,
    created_ns BIGINT NOT NULL,
    updated_ns BIGINT NOT NULL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_attempt_ns);

CREATE TABLE notify_log (
    key TEXT PRIMARY KEY,
    firing TEXT NOT NULL,
    resolved TEXT NOT NULL,
    sent_ns BIGINT NOT NULL
);

CREATE TABLE notify_alerts (
    fingerprint TEXT PRIMARY KEY,
    alert TEXT NOT NULL,
    updated_ns BIGINT NOT NULL
);

CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_ns BIGINT NOT NULL,
    ends_ns BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    updated_ns BIGINT NOT NULL
);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    group_key TEXT NOT NULL,
    channels TEXT NOT NULL,
    labels TEXT NOT NULL,
    alerts TEXT NOT NULL,
    level INTEGER NOT NULL DEFAULT 0,
    loops INTEGER NOT NULL DEFAULT 0,
    next_escalation_ns BIGINT,
    ack_deadline_ns BIGINT,
    triggered_ns BIGINT NOT NULL,
    acknowledged_ns BIGINT,
    resolved_ns BIGINT,
    updated_ns BIGINT NOT NULL
);
CREATE INDEX incidents_dedup ON incidents (dedup_key, state);

CREATE TABLE incident_timeline (
    id BIGSERIAL PRIMARY KEY,
    incident_id TEXT NOT NULL,
    at_ns BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);
-- The timeline is append-only: rows are never changed or removed.
CREATE FUNCTION incident_timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident_timeline is append-only';
END;
$$;
CREATE TRIGGER incident_timeline_append_only BEFORE UPDATE OR DELETE ON incident_timeline
    FOR EACH ROW EXECUTE FUNCTION incident_timeline_append_only();
