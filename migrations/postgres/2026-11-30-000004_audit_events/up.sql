-- The audit trail: one event per committed write, appended in the write's own transaction.
-- Nothing may change or remove an event once written.
CREATE TABLE audit_events (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
);

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_event_entities_append_only BEFORE UPDATE OR DELETE ON audit_event_entities
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_event_entities_no_truncate BEFORE TRUNCATE ON audit_event_entities
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
