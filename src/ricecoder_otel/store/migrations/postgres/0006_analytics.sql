-- Usage analytics, pseudonymous only (user ids are keyed HMACs before they get here).
-- Activity: one row per UTC day, user and feature; replicas add their uses to the same row.
CREATE TABLE analytics_activity (
    day INTEGER NOT NULL,
    user_hash TEXT NOT NULL,
    feature TEXT NOT NULL,
    uses BIGINT NOT NULL,
    first_ns BIGINT NOT NULL,
    last_ns BIGINT NOT NULL,
    sessions BIGINT NOT NULL,
    PRIMARY KEY (day, user_hash, feature)
);

-- Funnel step events (only features that appear in a configured funnel).
CREATE TABLE analytics_steps (
    user_hash TEXT NOT NULL,
    feature TEXT NOT NULL,
    at_ns BIGINT NOT NULL,
    PRIMARY KEY (user_hash, feature, at_ns)
);
CREATE INDEX analytics_steps_time ON analytics_steps (at_ns);

-- Allow-listed traits and the account of a user (identify, group).
CREATE TABLE analytics_profiles (
    user_hash TEXT PRIMARY KEY,
    traits TEXT NOT NULL,
    account TEXT,
    updated_ns BIGINT NOT NULL
);

-- An anonymous pseudonym joined to a user (alias).
CREATE TABLE analytics_aliases (
    anonymous_hash TEXT PRIMARY KEY,
    user_hash TEXT NOT NULL
);

-- Actions without a user (or without consent), per day and feature.
CREATE TABLE analytics_anonymous (
    day INTEGER NOT NULL,
    feature TEXT NOT NULL,
    actions BIGINT NOT NULL,
    PRIMARY KEY (day, feature)
);

-- HyperLogLog sketch of each replica's users per day and feature ('*' = all); reports unite them.
CREATE TABLE analytics_sketches (
    day INTEGER NOT NULL,
    feature TEXT NOT NULL,
    replica TEXT NOT NULL,
    lg_k INTEGER NOT NULL,
    sketch BYTEA NOT NULL,
    updated_ns BIGINT NOT NULL,
    PRIMARY KEY (day, feature, replica)
);
