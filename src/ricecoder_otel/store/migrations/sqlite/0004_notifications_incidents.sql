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
    next_attempt_ns INTEGER NOT NULL,
    lease_until_ns INTEGER,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_attempt_ns);

CREATE TABLE notify_log (
    key TEXT PRIMARY KEY,
    firing TEXT NOT NULL,
    resolved TEXT NOT NULL,
    sent_ns INTEGER NOT NULL
);

CREATE TABLE notify_alerts (
    fingerprint TEXT PRIMARY KEY,
    alert TEXT NOT NULL,
    updated_ns INTEGER NOT NULL
);

CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_ns INTEGER NOT NULL,
    ends_ns INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    updated_ns INTEGER NOT NULL
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
    next_escalation_ns INTEGER,
    ack_deadline_ns INTEGER,
    triggered_ns INTEGER NOT NULL,
    acknowledged_ns INTEGER,
    resolved_ns INTEGER,
    updated_ns INTEGER NOT NULL
);
CREATE INDEX incidents_dedup ON incidents (dedup_key, state);

CREATE TABLE incident_timeline (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL,
    at_ns INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);
-- The timeline is append-only: rows are never changed or removed.
CREATE TRIGGER incident_timeline_no_update BEFORE UPDATE ON incident_timeline
BEGIN
    SELECT RAISE(ABORT, 'incident_timeline is append-only');
END;
CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline
BEGIN
    SELECT RAISE(ABORT, 'incident_timeline is append-only');
END;
