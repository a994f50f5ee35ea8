-- Firing alerts, so a restart neither notifies them again nor forgets to resolve them.
-- One row per firing alert instance; written when it fires, deleted when it resolves.
CREATE TABLE alert_state (
    rule TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    active_at REAL NOT NULL,
    fired_at REAL NOT NULL,
    value REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (rule, fingerprint)
);
