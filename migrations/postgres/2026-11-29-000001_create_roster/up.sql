-- Instants are BIGINT microseconds since the Unix epoch, UTC. Severities are a comma-separated
-- list of numbers ("" = all). Exdates are a newline-separated list of local date-times.
CREATE TABLE orgs (
    org_id TEXT PRIMARY KEY NOT NULL,
    cloud_region TEXT NOT NULL,
    plan TEXT NOT NULL
);

CREATE TABLE consents (
    org_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, ticket_id, agent_id)
);

CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    country TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    severities TEXT NOT NULL,
    source TEXT
);

CREATE TABLE location_changes (
    agent_id TEXT NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    effective_at BIGINT NOT NULL,
    country TEXT NOT NULL,
    PRIMARY KEY (agent_id, effective_at)
);

CREATE TABLE shifts (
    shift_id TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    severities TEXT NOT NULL,
    country TEXT,
    starts_at BIGINT,
    ends_at BIGINT,
    time_zone TEXT,
    start_local TEXT,
    end_time TEXT,
    rrule TEXT,
    exdates TEXT,
    source TEXT
);
CREATE INDEX shifts_by_agent ON shifts (agent_id);

CREATE TABLE time_off (
    time_off_id TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    source TEXT
);
CREATE INDEX time_off_by_agent ON time_off (agent_id);
