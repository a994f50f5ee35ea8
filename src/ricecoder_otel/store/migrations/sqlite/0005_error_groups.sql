-- Error tracking: one row per error group (fingerprint), its affected users (bounded per group by
-- the tracker) and the latest sample events of each group (the tracker keeps a few per group).
CREATE TABLE error_groups (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    error_type TEXT NOT NULL,
    title TEXT NOT NULL,
    culprit TEXT NOT NULL DEFAULT '',
    stack_trace TEXT NOT NULL DEFAULT '',
    count INTEGER NOT NULL,
    first_seen_ns INTEGER NOT NULL,
    last_seen_ns INTEGER NOT NULL,
    release TEXT,
    environment TEXT,
    service_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'unresolved',
    resolved_at_ns INTEGER
);
CREATE INDEX error_groups_last_seen ON error_groups (last_seen_ns);

CREATE TABLE error_group_users (
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE error_samples (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    severity TEXT NOT NULL,
    source TEXT NOT NULL,
    message TEXT NOT NULL,
    stack_trace TEXT NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    user_id TEXT,
    session_id TEXT,
    context TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX error_samples_group_time ON error_samples (group_id, time_ns);
