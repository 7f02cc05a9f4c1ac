-- Back to the triggers before retention: the audit trail refuses every delete again.
DROP TRIGGER orgs_history_removed_only_by_expiry;
DROP TRIGGER orgs_history_closed_rows_fixed;
DROP TRIGGER consents_history_removed_only_by_expiry;
DROP TRIGGER consents_history_closed_rows_fixed;
DROP TRIGGER agents_history_removed_only_by_expiry;
DROP TRIGGER agents_history_closed_rows_fixed;
DROP TRIGGER location_changes_history_removed_only_by_expiry;
DROP TRIGGER location_changes_history_closed_rows_fixed;
DROP TRIGGER shifts_history_removed_only_by_expiry;
DROP TRIGGER shifts_history_closed_rows_fixed;
DROP TRIGGER time_off_history_removed_only_by_expiry;
DROP TRIGGER time_off_history_closed_rows_fixed;
DROP TRIGGER policy_versions_fixed;
DROP TRIGGER policy_versions_removed_only_by_expiry;
DROP TRIGGER roster_commits_fixed;
DROP TRIGGER roster_commits_removed_only_by_expiry;
DROP TRIGGER audit_event_entities_removed_only_by_expiry;
CREATE TRIGGER audit_event_entities_append_only_delete BEFORE DELETE ON audit_event_entities
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
DROP TRIGGER audit_events_removed_only_by_expiry;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
DROP TABLE expiry_gate;
