-- Bounded history (retention): what lies before the retention window is exported, then removed
-- by `eea-coverage expire` alone. The command writes one row into `expiry_gate` in its own
-- transaction, removes through it, and empties it before that transaction commits; every other
-- path still finds the history, the commits, the policy versions and the audit trail
-- append-only. Inside the window nothing may be removed even through the gate:
--   * a history row only once it was replaced or deleted at or before `through_version`
--     (the last roster version committed at or before the cutoff, which stays, with everything
--     stored at it);
--   * a roster commit only before `through_version`;
--   * a policy version only before `first_kept_policy` (the one in force at the cutoff);
--   * an audit event only when recorded before `before_micros` (the cutoff), and the entities
--     it touched with it.
-- A history row written by a write still running (a version not committed yet) may still be
-- removed by that write's own triggers, as before. A history row, once closed, never changes.
CREATE TABLE expiry_gate (
    through_version BIGINT PRIMARY KEY NOT NULL,
    before_micros BIGINT NOT NULL,
    first_kept_policy BIGINT NOT NULL
);

DROP TRIGGER audit_events_append_only_delete;
CREATE TRIGGER audit_events_removed_only_by_expiry BEFORE DELETE ON audit_events
    WHEN NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.recorded_at < before_micros)
BEGIN SELECT RAISE(ABORT, 'audit events are append-only: only eea-coverage expire removes those before the retention window'); END;
DROP TRIGGER audit_event_entities_append_only_delete;
CREATE TRIGGER audit_event_entities_removed_only_by_expiry BEFORE DELETE ON audit_event_entities
    WHEN NOT EXISTS (SELECT 1 FROM expiry_gate AS g JOIN audit_events AS e
                     ON e.sequence = OLD.sequence AND e.recorded_at < g.before_micros)
BEGIN SELECT RAISE(ABORT, 'audit events are append-only: only eea-coverage expire removes those before the retention window'); END;

CREATE TRIGGER roster_commits_removed_only_by_expiry BEFORE DELETE ON roster_commits
    WHEN NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.version < through_version)
BEGIN SELECT RAISE(ABORT, 'roster commits are append-only: only eea-coverage expire removes those before the retention window'); END;
CREATE TRIGGER roster_commits_fixed BEFORE UPDATE ON roster_commits
BEGIN SELECT RAISE(ABORT, 'roster commits are append-only'); END;
CREATE TRIGGER policy_versions_removed_only_by_expiry BEFORE DELETE ON policy_versions
    WHEN NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.policy_version < first_kept_policy)
BEGIN SELECT RAISE(ABORT, 'policy versions are append-only: only eea-coverage expire removes those before the retention window'); END;
CREATE TRIGGER policy_versions_fixed BEFORE UPDATE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy versions are append-only'); END;

CREATE TRIGGER orgs_history_removed_only_by_expiry BEFORE DELETE ON orgs_history
    WHEN OLD.since_version <= (SELECT version FROM roster_version WHERE id = 1)
     AND NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.until_version <= through_version)
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: only eea-coverage expire removes rows before the retention window'); END;
CREATE TRIGGER orgs_history_closed_rows_fixed BEFORE UPDATE ON orgs_history WHEN OLD.until_version IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: a closed row never changes'); END;

CREATE TRIGGER consents_history_removed_only_by_expiry BEFORE DELETE ON consents_history
    WHEN OLD.since_version <= (SELECT version FROM roster_version WHERE id = 1)
     AND NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.until_version <= through_version)
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: only eea-coverage expire removes rows before the retention window'); END;
CREATE TRIGGER consents_history_closed_rows_fixed BEFORE UPDATE ON consents_history WHEN OLD.until_version IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: a closed row never changes'); END;

CREATE TRIGGER agents_history_removed_only_by_expiry BEFORE DELETE ON agents_history
    WHEN OLD.since_version <= (SELECT version FROM roster_version WHERE id = 1)
     AND NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.until_version <= through_version)
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: only eea-coverage expire removes rows before the retention window'); END;
CREATE TRIGGER agents_history_closed_rows_fixed BEFORE UPDATE ON agents_history WHEN OLD.until_version IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: a closed row never changes'); END;

CREATE TRIGGER location_changes_history_removed_only_by_expiry BEFORE DELETE ON location_changes_history
    WHEN OLD.since_version <= (SELECT version FROM roster_version WHERE id = 1)
     AND NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.until_version <= through_version)
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: only eea-coverage expire removes rows before the retention window'); END;
CREATE TRIGGER location_changes_history_closed_rows_fixed BEFORE UPDATE ON location_changes_history WHEN OLD.until_version IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: a closed row never changes'); END;

CREATE TRIGGER shifts_history_removed_only_by_expiry BEFORE DELETE ON shifts_history
    WHEN OLD.since_version <= (SELECT version FROM roster_version WHERE id = 1)
     AND NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.until_version <= through_version)
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: only eea-coverage expire removes rows before the retention window'); END;
CREATE TRIGGER shifts_history_closed_rows_fixed BEFORE UPDATE ON shifts_history WHEN OLD.until_version IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: a closed row never changes'); END;

CREATE TRIGGER time_off_history_removed_only_by_expiry BEFORE DELETE ON time_off_history
    WHEN OLD.since_version <= (SELECT version FROM roster_version WHERE id = 1)
     AND NOT EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.until_version <= through_version)
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: only eea-coverage expire removes rows before the retention window'); END;
CREATE TRIGGER time_off_history_closed_rows_fixed BEFORE UPDATE ON time_off_history WHEN OLD.until_version IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the roster history is append-only: a closed row never changes'); END;
