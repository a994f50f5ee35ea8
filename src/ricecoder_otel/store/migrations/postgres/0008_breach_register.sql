-- GDPR Art. 33 breach register: every personal data breach, when the controller became aware of
-- it, when (and whether) the supervisory authority was notified, the reasons for any delay past
-- 72 hours, and the minimum content of Art. 33(3). It documents breaches (Art. 33(5)); it holds no
-- subject ids, so erasure does not scan it.
CREATE TABLE gdpr_breaches (
    id TEXT PRIMARY KEY,
    aware_ns BIGINT NOT NULL,
    recorded_ns BIGINT NOT NULL,
    notified_ns BIGINT,
    nature TEXT NOT NULL,
    categories TEXT NOT NULL,
    subjects_approx BIGINT NOT NULL,
    records_approx BIGINT NOT NULL,
    contact TEXT NOT NULL,
    consequences TEXT NOT NULL,
    measures TEXT NOT NULL,
    delay_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX gdpr_breaches_aware ON gdpr_breaches (aware_ns);
