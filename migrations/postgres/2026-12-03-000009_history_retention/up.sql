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

CREATE FUNCTION audit_events_removed_only_by_expiry() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.recorded_at < before_micros) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: only eea-coverage expire removes those before the retention window';
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION audit_event_entities_removed_only_by_expiry() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM expiry_gate AS g JOIN audit_events AS e
               ON e.sequence = OLD.sequence AND e.recorded_at < g.before_micros) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: only eea-coverage expire removes those before the retention window';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_removed_only_by_expiry BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_removed_only_by_expiry();
DROP TRIGGER audit_event_entities_append_only ON audit_event_entities;
CREATE TRIGGER audit_event_entities_append_only BEFORE UPDATE ON audit_event_entities
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_event_entities_removed_only_by_expiry BEFORE DELETE ON audit_event_entities
    FOR EACH ROW EXECUTE FUNCTION audit_event_entities_removed_only_by_expiry();

CREATE FUNCTION roster_commits_removed_only_by_expiry() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.version < through_version) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'roster commits are append-only: only eea-coverage expire removes those before the retention window';
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION policy_versions_removed_only_by_expiry() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.policy_version < first_kept_policy) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'policy versions are append-only: only eea-coverage expire removes those before the retention window';
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION history_removed_only_by_expiry() RETURNS trigger AS $$
BEGIN
    IF OLD.since_version > (SELECT version FROM roster_version WHERE id = 1)
       OR EXISTS (SELECT 1 FROM expiry_gate WHERE OLD.until_version <= through_version) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the roster history is append-only: only eea-coverage expire removes rows before the retention window';
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION history_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the roster history is append-only: a closed row, a commit or a policy version never changes';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER roster_commits_removed_only_by_expiry BEFORE DELETE ON roster_commits
    FOR EACH ROW EXECUTE FUNCTION roster_commits_removed_only_by_expiry();
CREATE TRIGGER roster_commits_fixed BEFORE UPDATE ON roster_commits
    FOR EACH ROW EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER roster_commits_no_truncate BEFORE TRUNCATE ON roster_commits
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER policy_versions_removed_only_by_expiry BEFORE DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_removed_only_by_expiry();
CREATE TRIGGER policy_versions_fixed BEFORE UPDATE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER orgs_history_removed_only_by_expiry BEFORE DELETE ON orgs_history
    FOR EACH ROW EXECUTE FUNCTION history_removed_only_by_expiry();
CREATE TRIGGER orgs_history_closed_rows_fixed BEFORE UPDATE ON orgs_history
    FOR EACH ROW WHEN (OLD.until_version IS NOT NULL) EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER orgs_history_no_truncate BEFORE TRUNCATE ON orgs_history
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER consents_history_removed_only_by_expiry BEFORE DELETE ON consents_history
    FOR EACH ROW EXECUTE FUNCTION history_removed_only_by_expiry();
CREATE TRIGGER consents_history_closed_rows_fixed BEFORE UPDATE ON consents_history
    FOR EACH ROW WHEN (OLD.until_version IS NOT NULL) EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER consents_history_no_truncate BEFORE TRUNCATE ON consents_history
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER agents_history_removed_only_by_expiry BEFORE DELETE ON agents_history
    FOR EACH ROW EXECUTE FUNCTION history_removed_only_by_expiry();
CREATE TRIGGER agents_history_closed_rows_fixed BEFORE UPDATE ON agents_history
    FOR EACH ROW WHEN (OLD.until_version IS NOT NULL) EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER agents_history_no_truncate BEFORE TRUNCATE ON agents_history
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER location_changes_history_removed_only_by_expiry BEFORE DELETE ON location_changes_history
    FOR EACH ROW EXECUTE FUNCTION history_removed_only_by_expiry();
CREATE TRIGGER location_changes_history_closed_rows_fixed BEFORE UPDATE ON location_changes_history
    FOR EACH ROW WHEN (OLD.until_version IS NOT NULL) EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER location_changes_history_no_truncate BEFORE TRUNCATE ON location_changes_history
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER shifts_history_removed_only_by_expiry BEFORE DELETE ON shifts_history
    FOR EACH ROW EXECUTE FUNCTION history_removed_only_by_expiry();
CREATE TRIGGER shifts_history_closed_rows_fixed BEFORE UPDATE ON shifts_history
    FOR EACH ROW WHEN (OLD.until_version IS NOT NULL) EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER shifts_history_no_truncate BEFORE TRUNCATE ON shifts_history
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER time_off_history_removed_only_by_expiry BEFORE DELETE ON time_off_history
    FOR EACH ROW EXECUTE FUNCTION history_removed_only_by_expiry();
CREATE TRIGGER time_off_history_closed_rows_fixed BEFORE UPDATE ON time_off_history
    FOR EACH ROW WHEN (OLD.until_version IS NOT NULL) EXECUTE FUNCTION history_refuse_change();
CREATE TRIGGER time_off_history_no_truncate BEFORE TRUNCATE ON time_off_history
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
