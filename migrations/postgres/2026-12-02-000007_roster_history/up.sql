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
-- On PostgreSQL the triggers run once per statement over its transition tables; an update that
-- leaves a row as it was records nothing.

CREATE TABLE roster_commits (
    version BIGINT PRIMARY KEY NOT NULL,
    committed_at BIGINT NOT NULL,
    audit_sequence BIGINT
);
CREATE INDEX roster_commits_by_time ON roster_commits (committed_at);

INSERT INTO roster_commits (version, committed_at, audit_sequence)
SELECT version, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT,
       (SELECT max(sequence) FROM audit_events)
FROM roster_version WHERE id = 1;

CREATE TABLE orgs_history (
    org_id TEXT NOT NULL,
    cloud_region TEXT NOT NULL,
    plan TEXT NOT NULL,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (org_id, since_version)
);
CREATE INDEX orgs_history_by_until ON orgs_history (until_version);
INSERT INTO orgs_history (org_id, cloud_region, plan, since_version)
SELECT org_id, cloud_region, plan, (SELECT version FROM roster_version WHERE id = 1) FROM orgs;
CREATE FUNCTION orgs_history_insert() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    INSERT INTO orgs_history (org_id, cloud_region, plan, since_version)
        SELECT r.org_id, r.cloud_region, r.plan, v FROM new_rows AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION orgs_history_update() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE orgs_history AS h SET until_version = v FROM (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r
        WHERE h.org_id = r.org_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM orgs_history AS h USING (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r WHERE h.org_id = r.org_id AND h.since_version = v;
    UPDATE orgs_history AS h SET until_version = v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r
        WHERE h.org_id = r.org_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM orgs_history AS h USING (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r WHERE h.org_id = r.org_id AND h.since_version = v;
    INSERT INTO orgs_history (org_id, cloud_region, plan, since_version)
        SELECT r.org_id, r.cloud_region, r.plan, v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION orgs_history_delete() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE orgs_history AS h SET until_version = v FROM old_rows AS r
        WHERE h.org_id = r.org_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM orgs_history AS h USING old_rows AS r WHERE h.org_id = r.org_id AND h.since_version = v;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER orgs_history_insert AFTER INSERT ON orgs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION orgs_history_insert();
CREATE TRIGGER orgs_history_update AFTER UPDATE ON orgs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION orgs_history_update();
CREATE TRIGGER orgs_history_delete AFTER DELETE ON orgs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION orgs_history_delete();

CREATE TABLE consents_history (
    org_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (org_id, ticket_id, agent_id, since_version)
);
CREATE INDEX consents_history_by_until ON consents_history (until_version);
INSERT INTO consents_history (org_id, ticket_id, agent_id, expires_at, since_version)
SELECT org_id, ticket_id, agent_id, expires_at, (SELECT version FROM roster_version WHERE id = 1) FROM consents;
CREATE FUNCTION consents_history_insert() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    INSERT INTO consents_history (org_id, ticket_id, agent_id, expires_at, since_version)
        SELECT r.org_id, r.ticket_id, r.agent_id, r.expires_at, v FROM new_rows AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION consents_history_update() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE consents_history AS h SET until_version = v FROM (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r
        WHERE h.org_id = r.org_id AND h.ticket_id = r.ticket_id AND h.agent_id = r.agent_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM consents_history AS h USING (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r WHERE h.org_id = r.org_id AND h.ticket_id = r.ticket_id AND h.agent_id = r.agent_id AND h.since_version = v;
    UPDATE consents_history AS h SET until_version = v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r
        WHERE h.org_id = r.org_id AND h.ticket_id = r.ticket_id AND h.agent_id = r.agent_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM consents_history AS h USING (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r WHERE h.org_id = r.org_id AND h.ticket_id = r.ticket_id AND h.agent_id = r.agent_id AND h.since_version = v;
    INSERT INTO consents_history (org_id, ticket_id, agent_id, expires_at, since_version)
        SELECT r.org_id, r.ticket_id, r.agent_id, r.expires_at, v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION consents_history_delete() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE consents_history AS h SET until_version = v FROM old_rows AS r
        WHERE h.org_id = r.org_id AND h.ticket_id = r.ticket_id AND h.agent_id = r.agent_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM consents_history AS h USING old_rows AS r WHERE h.org_id = r.org_id AND h.ticket_id = r.ticket_id AND h.agent_id = r.agent_id AND h.since_version = v;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consents_history_insert AFTER INSERT ON consents REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION consents_history_insert();
CREATE TRIGGER consents_history_update AFTER UPDATE ON consents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION consents_history_update();
CREATE TRIGGER consents_history_delete AFTER DELETE ON consents REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION consents_history_delete();

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
);
CREATE INDEX agents_history_by_until ON agents_history (until_version);
INSERT INTO agents_history (agent_id, display_name, country, time_zone, severities, source, since_version)
SELECT agent_id, display_name, country, time_zone, severities, source, (SELECT version FROM roster_version WHERE id = 1) FROM agents;
CREATE FUNCTION agents_history_insert() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    INSERT INTO agents_history (agent_id, display_name, country, time_zone, severities, source, since_version)
        SELECT r.agent_id, r.display_name, r.country, r.time_zone, r.severities, r.source, v FROM new_rows AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION agents_history_update() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE agents_history AS h SET until_version = v FROM (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r
        WHERE h.agent_id = r.agent_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM agents_history AS h USING (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r WHERE h.agent_id = r.agent_id AND h.since_version = v;
    UPDATE agents_history AS h SET until_version = v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r
        WHERE h.agent_id = r.agent_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM agents_history AS h USING (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r WHERE h.agent_id = r.agent_id AND h.since_version = v;
    INSERT INTO agents_history (agent_id, display_name, country, time_zone, severities, source, since_version)
        SELECT r.agent_id, r.display_name, r.country, r.time_zone, r.severities, r.source, v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION agents_history_delete() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE agents_history AS h SET until_version = v FROM old_rows AS r
        WHERE h.agent_id = r.agent_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM agents_history AS h USING old_rows AS r WHERE h.agent_id = r.agent_id AND h.since_version = v;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER agents_history_insert AFTER INSERT ON agents REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agents_history_insert();
CREATE TRIGGER agents_history_update AFTER UPDATE ON agents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agents_history_update();
CREATE TRIGGER agents_history_delete AFTER DELETE ON agents REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agents_history_delete();

CREATE TABLE location_changes_history (
    agent_id TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    country TEXT NOT NULL,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (agent_id, effective_at, since_version)
);
CREATE INDEX location_changes_history_by_until ON location_changes_history (until_version);
INSERT INTO location_changes_history (agent_id, effective_at, country, since_version)
SELECT agent_id, effective_at, country, (SELECT version FROM roster_version WHERE id = 1) FROM location_changes;
CREATE FUNCTION location_changes_history_insert() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    INSERT INTO location_changes_history (agent_id, effective_at, country, since_version)
        SELECT r.agent_id, r.effective_at, r.country, v FROM new_rows AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION location_changes_history_update() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE location_changes_history AS h SET until_version = v FROM (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r
        WHERE h.agent_id = r.agent_id AND h.effective_at = r.effective_at AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM location_changes_history AS h USING (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r WHERE h.agent_id = r.agent_id AND h.effective_at = r.effective_at AND h.since_version = v;
    UPDATE location_changes_history AS h SET until_version = v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r
        WHERE h.agent_id = r.agent_id AND h.effective_at = r.effective_at AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM location_changes_history AS h USING (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r WHERE h.agent_id = r.agent_id AND h.effective_at = r.effective_at AND h.since_version = v;
    INSERT INTO location_changes_history (agent_id, effective_at, country, since_version)
        SELECT r.agent_id, r.effective_at, r.country, v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION location_changes_history_delete() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE location_changes_history AS h SET until_version = v FROM old_rows AS r
        WHERE h.agent_id = r.agent_id AND h.effective_at = r.effective_at AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM location_changes_history AS h USING old_rows AS r WHERE h.agent_id = r.agent_id AND h.effective_at = r.effective_at AND h.since_version = v;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER location_changes_history_insert AFTER INSERT ON location_changes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION location_changes_history_insert();
CREATE TRIGGER location_changes_history_update AFTER UPDATE ON location_changes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION location_changes_history_update();
CREATE TRIGGER location_changes_history_delete AFTER DELETE ON location_changes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION location_changes_history_delete();

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
);
CREATE INDEX shifts_history_by_until ON shifts_history (until_version);
INSERT INTO shifts_history (shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, since_version)
SELECT shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, (SELECT version FROM roster_version WHERE id = 1) FROM shifts;
CREATE FUNCTION shifts_history_insert() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    INSERT INTO shifts_history (shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, since_version)
        SELECT r.shift_id, r.agent_id, r.severities, r.country, r.starts_at, r.ends_at, r.time_zone, r.start_local, r.end_time, r.rrule, r.exdates, r.source, r.first_start_at, v FROM new_rows AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION shifts_history_update() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE shifts_history AS h SET until_version = v FROM (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r
        WHERE h.shift_id = r.shift_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM shifts_history AS h USING (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r WHERE h.shift_id = r.shift_id AND h.since_version = v;
    UPDATE shifts_history AS h SET until_version = v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r
        WHERE h.shift_id = r.shift_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM shifts_history AS h USING (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r WHERE h.shift_id = r.shift_id AND h.since_version = v;
    INSERT INTO shifts_history (shift_id, agent_id, severities, country, starts_at, ends_at, time_zone, start_local, end_time, rrule, exdates, source, first_start_at, since_version)
        SELECT r.shift_id, r.agent_id, r.severities, r.country, r.starts_at, r.ends_at, r.time_zone, r.start_local, r.end_time, r.rrule, r.exdates, r.source, r.first_start_at, v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION shifts_history_delete() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE shifts_history AS h SET until_version = v FROM old_rows AS r
        WHERE h.shift_id = r.shift_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM shifts_history AS h USING old_rows AS r WHERE h.shift_id = r.shift_id AND h.since_version = v;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER shifts_history_insert AFTER INSERT ON shifts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION shifts_history_insert();
CREATE TRIGGER shifts_history_update AFTER UPDATE ON shifts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION shifts_history_update();
CREATE TRIGGER shifts_history_delete AFTER DELETE ON shifts REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION shifts_history_delete();

CREATE TABLE time_off_history (
    time_off_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    source TEXT,
    since_version BIGINT NOT NULL,
    until_version BIGINT,
    PRIMARY KEY (time_off_id, since_version)
);
CREATE INDEX time_off_history_by_until ON time_off_history (until_version);
INSERT INTO time_off_history (time_off_id, agent_id, starts_at, ends_at, source, since_version)
SELECT time_off_id, agent_id, starts_at, ends_at, source, (SELECT version FROM roster_version WHERE id = 1) FROM time_off;
CREATE FUNCTION time_off_history_insert() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    INSERT INTO time_off_history (time_off_id, agent_id, starts_at, ends_at, source, since_version)
        SELECT r.time_off_id, r.agent_id, r.starts_at, r.ends_at, r.source, v FROM new_rows AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION time_off_history_update() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE time_off_history AS h SET until_version = v FROM (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r
        WHERE h.time_off_id = r.time_off_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM time_off_history AS h USING (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows) AS r WHERE h.time_off_id = r.time_off_id AND h.since_version = v;
    UPDATE time_off_history AS h SET until_version = v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r
        WHERE h.time_off_id = r.time_off_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM time_off_history AS h USING (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r WHERE h.time_off_id = r.time_off_id AND h.since_version = v;
    INSERT INTO time_off_history (time_off_id, agent_id, starts_at, ends_at, source, since_version)
        SELECT r.time_off_id, r.agent_id, r.starts_at, r.ends_at, r.source, v FROM (SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows) AS r;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION time_off_history_delete() RETURNS trigger AS $$
DECLARE
    v BIGINT := (SELECT version + 1 FROM roster_version WHERE id = 1);
BEGIN
    UPDATE time_off_history AS h SET until_version = v FROM old_rows AS r
        WHERE h.time_off_id = r.time_off_id AND h.until_version IS NULL AND h.since_version < v;
    DELETE FROM time_off_history AS h USING old_rows AS r WHERE h.time_off_id = r.time_off_id AND h.since_version = v;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER time_off_history_insert AFTER INSERT ON time_off REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION time_off_history_insert();
CREATE TRIGGER time_off_history_update AFTER UPDATE ON time_off REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION time_off_history_update();
CREATE TRIGGER time_off_history_delete AFTER DELETE ON time_off REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION time_off_history_delete();
