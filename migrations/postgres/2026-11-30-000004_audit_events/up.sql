-- The audit trail: one event per committed write, appended in the write's own transaction.
-- Nothing may change or remove an event once written.
CREATE TABLE audit_events (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at BIGINT NOT NULL,
    caller TEXT NOT NULL,
    rpc TEXT NOT NULL,
    request_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    n_affected BIGINT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (recorded_at);

-- The entities each event touched, so "who changed agent a-1" is one indexed lookup.
CREATE TABLE audit_event_entities (
    sequence BIGINT NOT NULL REFERENCES audit_events (sequence),
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    PRIMARY KEY (sequence, kind, entity_id)
);
CREATE INDEX audit_event_entities_by_entity ON audit_event_entities (kind, entity_id, sequence);

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
