-- The policy in force over time, for answers about a past moment: the policy facts (the file's
-- text, as the server parsed it) and the plan settings (hours and holiday calendars, as
-- `name = value` lines) that a start-up runs with, recorded whenever they differ from the last
-- recorded, with the moment they took effect by the database's clock (microseconds since the
-- Unix epoch, UTC). A version is in force from its `effective_at` until the next one's.
CREATE TABLE policy_versions (
    policy_version INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    effective_at BIGINT NOT NULL,
    facts TEXT NOT NULL,
    plan_settings TEXT NOT NULL
);
CREATE INDEX policy_versions_by_time ON policy_versions (effective_at);
