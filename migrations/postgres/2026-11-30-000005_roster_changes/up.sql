-- What each committed write changed, by roster version: the agents whose rosters (the agent, its
-- location changes, shifts or time off) changed, and the orgs whose settings or consents did.
-- A replica, or the writer itself, brings its snapshot up to date by reading back only those.
-- Every write also adds one 'version' row, whatever it changed: a replica that finds a version
-- without one (written by an earlier release, or pruned) builds its snapshot from scratch.
-- Written in the write's own transaction; rows far behind the newest version are pruned.
CREATE TABLE roster_changes (
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    PRIMARY KEY (version, kind, entity_id)
);
