-- Firing alerts, so a restart neither notifies them again nor forgets to resolve them.
-- One row per firing alert instance; written when it fires, deleted when it resolves.
CREATE TABLE alert_state (
    rule TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    labels JSONB NOT NULL DEFAULT '{}',
    active_at DOUBLE PRECISION NOT NULL,
    fired_at DOUBLE PRECISION NOT NULL,
    value DOUBLE PRECISION,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (rule, fingerprint)
);
