-- The audit trail: one event per committed write, appended in the write's own transaction.
-- Nothing may change or remove an event once written.
CREATE TABLE audit_events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    recorded_at BIGINT NOT NULL,
    caller TEXT NOT NULL,
    rpc TEXT NOT NULL,
    request_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    n_affected BIGINT NOT NULL,
    -- The first entities touched, in (kind, ID) order, as a JSON array of [kind, id] pairs: what
    -- a listing shows, read without touching the entity table.
    listed_entities TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (recorded_at);

-- Every entity each event touched, keyed for "which events touched agent a-1": one index, the
-- key itself, and no foreign key (a per-row check): a sync of 100,000 entries pays for one B-tree.
-- Only `append_audit_event` writes here, in the transaction that writes the event.
CREATE TABLE audit_event_entities (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    PRIMARY KEY (kind, entity_id, sequence)
) WITHOUT ROWID;

CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_event_entities_append_only_update BEFORE UPDATE ON audit_event_entities
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_event_entities_append_only_delete BEFORE DELETE ON audit_event_entities
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
