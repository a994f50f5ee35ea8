-- Compliance: GDPR subject requests, stored compliance reports, and audited purges of the
-- append-only incident timeline.
CREATE TABLE gdpr_requests (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    -- SHA-256 of the subject id with a fixed prefix: the request is tracked without holding the id.
    subject_ref TEXT NOT NULL,
    state TEXT NOT NULL,
    received_ns BIGINT NOT NULL,
    due_ns BIGINT NOT NULL,
    extended INTEGER NOT NULL DEFAULT 0,
    completed_ns BIGINT,
    rows_deleted BIGINT NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX gdpr_requests_state_due ON gdpr_requests (state, due_ns);

CREATE TABLE compliance_reports (
    id TEXT PRIMARY KEY,
    standard TEXT NOT NULL,
    status TEXT NOT NULL,
    generated_ns BIGINT NOT NULL,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX compliance_reports_standard_time ON compliance_reports (standard, generated_ns);

-- A row here exists only inside a retention or erasure transaction (never committed): while it
-- does, that transaction may delete incident timeline rows. Updates stay forbidden.
CREATE TABLE compliance_purge_guard (
    active INTEGER PRIMARY KEY
);
CREATE OR REPLACE FUNCTION incident_timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM compliance_purge_guard) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'incident_timeline is append-only';
END;
$$;
