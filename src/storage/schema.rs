//! Table definitions, matching `migrations/{sqlite,postgres}`.

diesel::table! {
    orgs (org_id) {
        org_id -> Text,
        cloud_region -> Text,
        plan -> Text,
    }
}

diesel::table! {
    consents (org_id, ticket_id, agent_id) {
        org_id -> Text,
        ticket_id -> Text,
        agent_id -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    agents (agent_id) {
        agent_id -> Text,
        display_name -> Text,
        country -> Text,
        time_zone -> Text,
        severities -> Text,
        source -> Nullable<Text>,
    }
}

diesel::table! {
    location_changes (agent_id, effective_at) {
        agent_id -> Text,
        effective_at -> BigInt,
        country -> Text,
    }
}

diesel::table! {
    shifts (shift_id) {
        shift_id -> Text,
        agent_id -> Text,
        severities -> Text,
        country -> Nullable<Text>,
        starts_at -> Nullable<BigInt>,
        ends_at -> Nullable<BigInt>,
        time_zone -> Nullable<Text>,
        start_local -> Nullable<Text>,
        end_time -> Nullable<Text>,
        rrule -> Nullable<Text>,
        exdates -> Nullable<Text>,
        source -> Nullable<Text>,
        first_start_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    time_off (time_off_id) {
        time_off_id -> Text,
        agent_id -> Text,
        starts_at -> BigInt,
        ends_at -> BigInt,
        source -> Nullable<Text>,
    }
}

diesel::table! {
    roster_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    audit_events (sequence) {
        sequence -> BigInt,
        recorded_at -> BigInt,
        caller -> Text,
        rpc -> Text,
        request_id -> Text,
        summary -> Text,
        n_affected -> BigInt,
        listed_entities -> Text,
    }
}

diesel::table! {
    audit_event_entities (kind, entity_id, sequence) {
        kind -> Text,
        entity_id -> Text,
        sequence -> BigInt,
    }
}

diesel::table! {
    roster_changes (version, kind, entity_id) {
        version -> BigInt,
        kind -> Text,
        entity_id -> Text,
    }
}

diesel::joinable!(location_changes -> agents (agent_id));
diesel::joinable!(shifts -> agents (agent_id));
diesel::joinable!(time_off -> agents (agent_id));
diesel::allow_tables_to_appear_in_same_query!(orgs, consents, agents, location_changes, shifts, time_off);
diesel::allow_tables_to_appear_in_same_query!(audit_events, audit_event_entities);

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        term -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    gap_webhook_state (name) {
        name -> Text,
        roster_version -> BigInt,
        looked_at -> BigInt,
        gaps -> Text,
    }
}

diesel::table! {
    gap_webhook_outbox (event_id) {
        event_id -> BigInt,
        created_at -> BigInt,
        payload -> Text,
    }
}

// The roster as committed at each version (migration `2026-12-02-000007_roster_history`): each
// history table holds its roster table's columns, and the versions from which and until which
// the row was stored (`until_version` NULL: still stored).

diesel::table! {
    roster_commits (version) {
        version -> BigInt,
        committed_at -> BigInt,
        audit_sequence -> Nullable<BigInt>,
    }
}

diesel::table! {
    orgs_history (org_id, since_version) {
        org_id -> Text,
        cloud_region -> Text,
        plan -> Text,
        since_version -> BigInt,
        until_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    consents_history (org_id, ticket_id, agent_id, since_version) {
        org_id -> Text,
        ticket_id -> Text,
        agent_id -> Text,
        expires_at -> BigInt,
        since_version -> BigInt,
        until_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    agents_history (agent_id, since_version) {
        agent_id -> Text,
        display_name -> Text,
        country -> Text,
        time_zone -> Text,
        severities -> Text,
        source -> Nullable<Text>,
        since_version -> BigInt,
        until_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    location_changes_history (agent_id, effective_at, since_version) {
        agent_id -> Text,
        effective_at -> BigInt,
        country -> Text,
        since_version -> BigInt,
        until_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    shifts_history (shift_id, since_version) {
        shift_id -> Text,
        agent_id -> Text,
        severities -> Text,
        country -> Nullable<Text>,
        starts_at -> Nullable<BigInt>,
        ends_at -> Nullable<BigInt>,
        time_zone -> Nullable<Text>,
        start_local -> Nullable<Text>,
        end_time -> Nullable<Text>,
        rrule -> Nullable<Text>,
        exdates -> Nullable<Text>,
        source -> Nullable<Text>,
        first_start_at -> Nullable<BigInt>,
        since_version -> BigInt,
        until_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    time_off_history (time_off_id, since_version) {
        time_off_id -> Text,
        agent_id -> Text,
        starts_at -> BigInt,
        ends_at -> BigInt,
        source -> Nullable<Text>,
        since_version -> BigInt,
        until_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    policy_versions (policy_version) {
        policy_version -> BigInt,
        effective_at -> BigInt,
        facts -> Text,
        plan_settings -> Text,
    }
}

// The one path that removes what lies before the retention window (migration
// `2026-12-03-000009_history_retention`); only `retention::expire_before` writes it, and empties
// it before its transaction commits.
diesel::table! {
    expiry_gate (through_version) {
        through_version -> BigInt,
        before_micros -> BigInt,
        first_kept_policy -> BigInt,
    }
}
