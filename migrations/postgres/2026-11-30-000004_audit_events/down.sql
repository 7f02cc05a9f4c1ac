DROP TABLE audit_event_entities;
DROP TABLE audit_events;
DROP FUNCTION audit_events_refuse_change();
