-- The roster as it was committed at each version (system time), for answers "as known at" a
-- past moment. Each roster table has a history table holding every version of each of its rows:
-- the row as stored from roster version `since_version` (the commit that wrote it) until
-- `until_version` (the commit that replaced or deleted it; NULL while it is the stored row).
-- Triggers on the roster tables write the history in the write's own transaction, so every path
-- that changes a row (upserts, deletes, syncs, cascades) is recorded, and a write rolled back
-- leaves none. A key has an open history row exactly while the roster table holds it, so an
-- insert (which the table's key admits only for a key it does not hold) only adds a row.
-- Writers are serialised, and the version moves once, at the end of a write: the version a
-- write commits as is `roster_version.version + 1` while it runs. A row changed twice
-- in one version keeps only its last state. The shifts' own times stay as they are (valid time);
-- the versions are system time.
--
-- `roster_commits` stamps each committed version with the moment it committed (microseconds
-- since the Unix epoch, UTC, never before the previous commit's) and the last audit event the
-- commit wrote. The history starts at the version stored when this migration runs: every row
-- stored then is recorded as of that version, stamped with the moment of the upgrade.
-- An update that leaves a row as it was records nothing.

CREATE TABLE roster_commits (
    version BIGINT PRIMARY KEY NOT NULL,
    committed_at BIGINT NOT NULL,
    audit_sequence BIGINT
);
CREATE INDEX roster_commits_by_time ON roster_commits (committed_at);

INSERT INTO roster_commits (version, committed_at, audit_sequence)
SELECT version, CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER),
       (SELECT max(sequence) FROM audit_events)
FROM roster_version WHERE id = 1;

CREATE TABLE orgs_history (
    org_id TEXT NOT NULL,
    cloud_region TEXT NOT NULL,
    plan TEXT NOT NULL,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (org_id, since_version)
) WITHOUT ROWID;
CREATE INDEX orgs_history_by_until ON orgs_history (until_version);
INSERT INTO orgs_history (org_id, cloud_region, plan, since_version)
SELECT org_id, cloud_region, plan, (SELECT version FROM roster_version WHERE id = 1) FROM orgs;
CREATE TRIGGER orgs_history_insert AFTER INSERT ON orgs
BEGIN
    INSERT INTO orgs_history (org_id, cloud_region, plan, since_version)
        VALUES (NEW.org_id, NEW.cloud_region, NEW.plan, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER orgs_history_update AFTER UPDATE ON orgs
    WHEN OLD.org_id IS NOT NEW.org_id OR OLD.cloud_region IS NOT NEW.cloud_region OR OLD.plan IS NOT NEW.plan
BEGIN
    UPDATE orgs_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE org_id = OLD.org_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM orgs_history WHERE org_id = OLD.org_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    UPDATE orgs_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE org_id = NEW.org_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM orgs_history WHERE org_id = NEW.org_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    INSERT INTO orgs_history (org_id, cloud_region, plan, since_version)
        VALUES (NEW.org_id, NEW.cloud_region, NEW.plan, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER orgs_history_delete AFTER DELETE ON orgs
BEGIN
    UPDATE orgs_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE org_id = OLD.org_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM orgs_history WHERE org_id = OLD.org_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
END;

CREATE TABLE consents_history (
    org_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (org_id, ticket_id, agent_id, since_version)
) WITHOUT ROWID;
CREATE INDEX consents_history_by_until ON consents_history (until_version);
INSERT INTO consents_history (org_id, ticket_id, agent_id, expires_at, since_version)
SELECT org_id, ticket_id, agent_id, expires_at, (SELECT version FROM roster_version WHERE id = 1) FROM consents;
CREATE TRIGGER consents_history_insert AFTER INSERT ON consents
BEGIN
    INSERT INTO consents_history (org_id, ticket_id, agent_id, expires_at, since_version)
        VALUES (NEW.org_id, NEW.ticket_id, NEW.agent_id, NEW.expires_at, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER consents_history_update AFTER UPDATE ON consents
    WHEN OLD.org_id IS NOT NEW.org_id OR OLD.ticket_id IS NOT NEW.ticket_id OR OLD.agent_id IS NOT NEW.agent_id OR OLD.expires_at IS NOT NEW.expires_at
BEGIN
    UPDATE consents_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE org_id = OLD.org_id AND ticket_id = OLD.ticket_id AND agent_id = OLD.agent_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM consents_history WHERE org_id = OLD.org_id AND ticket_id = OLD.ticket_id AND agent_id = OLD.agent_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    UPDATE consents_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE org_id = NEW.org_id AND ticket_id = NEW.ticket_id AND agent_id = NEW.agent_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM consents_history WHERE org_id = NEW.org_id AND ticket_id = NEW.ticket_id AND agent_id = NEW.agent_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    INSERT INTO consents_history (org_id, ticket_id, agent_id, expires_at, since_version)
        VALUES (NEW.org_id, NEW.ticket_id, NEW.agent_id, NEW.expires_at, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER consents_history_delete AFTER DELETE ON consents
BEGIN
    UPDATE consents_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE org_id = OLD.org_id AND ticket_id = OLD.ticket_id AND agent_id = OLD.agent_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM consents_history WHERE org_id = OLD.org_id AND ticket_id = OLD.ticket_id AND agent_id = OLD.agent_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
END;

CREATE TABLE agents_history (
    agent_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    country TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    severities TEXT NOT NULL,
    source TEXT,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (agent_id, since_version)
) WITHOUT ROWID;
CREATE INDEX agents_history_by_until ON agents_history (until_version);
INSERT INTO agents_history (agent_id, display_name, country, time_zone, severities, source, since_version)
SELECT agent_id, display_name, country, time_zone, severities, source, (SELECT version FROM roster_version WHERE id = 1) FROM agents;
CREATE TRIGGER agents_history_insert AFTER INSERT ON agents
BEGIN
    INSERT INTO agents_history (agent_id, display_name, country, time_zone, severities, source, since_version)
        VALUES (NEW.agent_id, NEW.display_name, NEW.country, NEW.time_zone, NEW.severities, NEW.source, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER agents_history_update AFTER UPDATE ON agents
    WHEN OLD.agent_id IS NOT NEW.agent_id OR OLD.display_name IS NOT NEW.display_name OR OLD.country IS NOT NEW.country OR OLD.time_zone IS NOT NEW.time_zone OR OLD.severities IS NOT NEW.severities OR OLD.source IS NOT NEW.source
BEGIN
    UPDATE agents_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE agent_id = OLD.agent_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM agents_history WHERE agent_id = OLD.agent_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    UPDATE agents_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE agent_id = NEW.agent_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM agents_history WHERE agent_id = NEW.agent_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    INSERT INTO agents_history (agent_id, display_name, country, time_zone, severities, source, since_version)
        VALUES (NEW.agent_id, NEW.display_name, NEW.country, NEW.time_zone, NEW.severities, NEW.source, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER agents_history_delete AFTER DELETE ON agents
BEGIN
    UPDATE agents_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE agent_id = OLD.agent_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM agents_history WHERE agent_id = OLD.agent_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
END;

CREATE TABLE location_changes_history (
    agent_id TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    country TEXT NOT NULL,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (agent_id, effective_at, since_version)
) WITHOUT ROWID;
CREATE INDEX location_changes_history_by_until ON location_changes_history (until_version);
INSERT INTO location_changes_history (agent_id, effective_at, country, since_version)
SELECT agent_id, effective_at, country, (SELECT version FROM roster_version WHERE id = 1) FROM location_changes;
CREATE TRIGGER location_changes_history_insert AFTER INSERT ON location_changes
BEGIN
    INSERT INTO location_changes_history (agent_id, effective_at, country, since_version)
        VALUES (NEW.agent_id, NEW.effective_at, NEW.country, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER location_changes_history_update AFTER UPDATE ON location_changes
    WHEN OLD.agent_id IS NOT NEW.agent_id OR OLD.effective_at IS NOT NEW.effective_at OR OLD.country IS NOT NEW.country
BEGIN
    UPDATE location_changes_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE agent_id = OLD.agent_id AND effective_at = OLD.effective_at AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM location_changes_history WHERE agent_id = OLD.agent_id AND effective_at = OLD.effective_at AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    UPDATE location_changes_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE agent_id = NEW.agent_id AND effective_at = NEW.effective_at AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM location_changes_history WHERE agent_id = NEW.agent_id AND effective_at = NEW.effective_at AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    INSERT INTO location_changes_history (agent_id, effective_at, country, since_version)
        VALUES (NEW.agent_id, NEW.effective_at, NEW.country, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER location_changes_history_delete AFTER DELETE ON location_changes
BEGIN
    UPDATE location_changes_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE agent_id = OLD.agent_id AND effective_at = OLD.effective_at AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM location_changes_history WHERE agent_id = OLD.agent_id AND effective_at = OLD.effective_at AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
END;

CREATE TABLE shifts_history (
    shift_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    severities TEXT NOT NULL,
    country TEXT,
    starts_at BIGINT,
    ends_at BIGINT,
    time_zone TEXT,
    start_local TEXT,
    end_time TEXT,
    rrule TEXT,
    exdates TEXT,
    source TEXT,
    first_start_at BIGINT,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (shift_id, since_version)
) WITHOUT ROWID;
CREATE INDEX shifts_history_by_until ON shifts_history (until_version);
INSERT INTO shifts_history (shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, since_version)
SELECT shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, (SELECT version FROM roster_version WHERE id = 1) FROM shifts;
CREATE TRIGGER shifts_history_insert AFTER INSERT ON shifts
BEGIN
    INSERT INTO shifts_history (shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, since_version)
        VALUES (NEW.shift_id, NEW.agent_id, NEW.severities, NEW.country, NEW.starts_at, NEW.ends_at, NEW.time_zone, NEW.start_local, NEW.end_time, NEW.rrule, NEW.exdates, NEW.source, NEW.first_start_at, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER shifts_history_update AFTER UPDATE ON shifts
    WHEN OLD.shift_id IS NOT NEW.shift_id OR OLD.agent_id IS NOT NEW.agent_id OR OLD.severities IS NOT NEW.severities OR OLD.country IS NOT NEW.country OR OLD.starts_at IS NOT NEW.starts_at OR OLD.ends_at IS NOT NEW.ends_at OR OLD.time_zone IS NOT NEW.time_zone OR OLD.start_local IS NOT NEW.start_local OR OLD.end_time IS NOT NEW.end_time OR OLD.rrule IS NOT NEW.rrule OR OLD.exdates IS NOT NEW.exdates OR OLD.source IS NOT NEW.source OR OLD.first_start_at IS NOT NEW.first_start_at
BEGIN
    UPDATE shifts_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE shift_id = OLD.shift_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM shifts_history WHERE shift_id = OLD.shift_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    UPDATE shifts_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE shift_id = NEW.shift_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM shifts_history WHERE shift_id = NEW.shift_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    INSERT INTO shifts_history (shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, since_version)
        VALUES (NEW.shift_id, NEW.agent_id, NEW.severities, NEW.country, NEW.starts_at, NEW.ends_at, NEW.time_zone, NEW.start_local, NEW.end_time, NEW.rrule, NEW.exdates, NEW.source, NEW.first_start_at, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER shifts_history_delete AFTER DELETE ON shifts
BEGIN
    UPDATE shifts_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE shift_id = OLD.shift_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM shifts_history WHERE shift_id = OLD.shift_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
END;

CREATE TABLE time_off_history (
    time_off_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    source TEXT,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (time_off_id, since_version)
) WITHOUT ROWID;
CREATE INDEX time_off_history_by_until ON time_off_history (until_version);
INSERT INTO time_off_history (time_off_id, agent_id, starts_at, ends_at, source, since_version)
SELECT time_off_id, agent_id, starts_at, ends_at, source, (SELECT version FROM roster_version WHERE id = 1) FROM time_off;
CREATE TRIGGER time_off_history_insert AFTER INSERT ON time_off
BEGIN
    INSERT INTO time_off_history (time_off_id, agent_id, starts_at, ends_at, source, since_version)
        VALUES (NEW.time_off_id, NEW.agent_id, NEW.starts_at, NEW.ends_at, NEW.source, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER time_off_history_update AFTER UPDATE ON time_off
    WHEN OLD.time_off_id IS NOT NEW.time_off_id OR OLD.agent_id IS NOT NEW.agent_id OR OLD.starts_at IS NOT NEW.starts_at OR OLD.ends_at IS NOT NEW.ends_at OR OLD.source IS NOT NEW.source
BEGIN
    UPDATE time_off_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE time_off_id = OLD.time_off_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM time_off_history WHERE time_off_id = OLD.time_off_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    UPDATE time_off_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE time_off_id = NEW.time_off_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM time_off_history WHERE time_off_id = NEW.time_off_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
    INSERT INTO time_off_history (time_off_id, agent_id, starts_at, ends_at, source, since_version)
        VALUES (NEW.time_off_id, NEW.agent_id, NEW.starts_at, NEW.ends_at, NEW.source, (SELECT version + 1 FROM roster_version WHERE id = 1));
END;
CREATE TRIGGER time_off_history_delete AFTER DELETE ON time_off
BEGIN
    UPDATE time_off_history SET until_version = (SELECT version + 1 FROM roster_version WHERE id = 1)
        WHERE time_off_id = OLD.time_off_id AND until_version IS NULL AND since_version < (SELECT version + 1 FROM roster_version WHERE id = 1);
    DELETE FROM time_off_history WHERE time_off_id = OLD.time_off_id AND since_version = (SELECT version + 1 FROM roster_version WHERE id = 1);
END;
