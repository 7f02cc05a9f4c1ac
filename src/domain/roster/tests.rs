//! Checks of drafts, each naming the fields it rejects.

use super::*;
use crate::domain::time::Instant;
use crate::domain::validation::FieldViolation;

fn recurring_draft(time_zone: &str, start_local: &str, end_time: &str, rrule: &str) -> ShiftDraft {
    ShiftDraft {
        shift_id: "s1".into(),
        agent_id: "a1".into(),
        severities: vec![],
        country: String::new(),
        schedule: ScheduleDraft::Recurring {
            time_zone: time_zone.into(),
            start_local: start_local.into(),
            end_time: end_time.into(),
            rrule: rrule.into(),
            exdates: vec![],
        },
        source: None,
    }
}

fn fields(result: Result<Shift, Vec<FieldViolation>>) -> Vec<String> {
    result.unwrap_err().into_iter().map(|violation| violation.field).collect()
}

#[test]
fn a_floating_local_time_without_a_zone_is_rejected() {
    assert_eq!(
        fields(Shift::new(recurring_draft("", "2026-01-05T09:00:00", "17:00", "FREQ=DAILY"))),
        ["recurring.time_zone"]
    );
}

#[test]
fn each_bad_field_of_a_recurring_shift_is_named() {
    // (time zone, local start, end time, rule) with one bad field, and the field named.
    let cases = [
        (("Europe/Nowhere", "2026-01-05T09:00:00", "17:00", "FREQ=DAILY"), "recurring.time_zone"),
        (("Europe/Paris", "2026-01-05T09:00:00Z", "17:00", "FREQ=DAILY"), "recurring.start_local"),
        (("Europe/Paris", "0001-01-05T09:00:00", "17:00", "FREQ=DAILY"), "recurring.start_local"),
        (("Europe/Paris", "2026-01-05T09:00:00", "25:00", "FREQ=DAILY"), "recurring.end_time"),
        (("Europe/Paris", "2026-01-05T09:00:00", "17:00", "FREQ=SECONDLY"), "recurring.rrule"),
    ];
    for (draft @ (time_zone, start_local, end_time, rrule), field) in cases {
        assert_eq!(fields(Shift::new(recurring_draft(time_zone, start_local, end_time, rrule))), [field], "{draft:?}");
    }
}

#[test]
fn a_one_off_shift_must_end_after_it_starts() {
    let at: Instant = "2026-01-05T09:00:00Z".parse().unwrap();
    let draft = ShiftDraft {
        shift_id: "s1".into(),
        agent_id: "a1".into(),
        severities: vec![1, 7],
        country: "XX".into(),
        schedule: ScheduleDraft::OneOff { starts_at: Some(at), ends_at: Some(at) },
        source: None,
    };
    assert_eq!(fields(Shift::new(draft)), ["severities[1]", "country", "one_off.ends_at"]);
}

#[test]
fn debug_output_leaves_display_names_out() {
    let agent = Agent::new(AgentDraft {
        agent_id: "a1".into(),
        display_name: "Siobhán Ní Bhriain".into(),
        country: "IE".into(),
        time_zone: "Europe/Dublin".into(),
        severities: vec![],
        location_changes: vec![],
        source: None,
    })
    .unwrap();
    assert!(!format!("{agent:?}").contains("Siobhán"));
    assert!(format!("{agent:?}").contains("a1"));
}

#[test]
fn an_agents_country_follows_its_relocations() {
    let agent = Agent::new(AgentDraft {
        agent_id: "a1".into(),
        display_name: "Ada".into(),
        country: "DE".into(),
        time_zone: "Europe/Berlin".into(),
        severities: vec![],
        location_changes: vec![(Some("2026-06-01T00:00:00Z".parse().unwrap()), "US".into())],
        source: None,
    })
    .unwrap();
    assert_eq!(agent.country_at("2026-05-31T23:59:59Z".parse().unwrap()).as_str(), "DE");
    assert_eq!(agent.country_at("2026-06-01T00:00:00Z".parse().unwrap()).as_str(), "US");
}

#[test]
fn agents_are_kept_in_id_order_and_found_at_their_position() {
    use crate::domain::fixtures::{agent, one_off};
    let mut renamed = agent("b", "DE", &[]);
    renamed.display_name = "B, second draft".into();
    let roster = Roster::build(
        vec![],
        vec![agent("c", "FR", &[]), agent("a", "IE", &[]), agent("b", "PL", &[]), renamed],
        vec![one_off("s-b", "b", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z")],
        vec![],
        vec![],
    );
    let ids: Vec<&str> = roster.agents().map(|roster| roster.agent.agent_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    for (position, agent_id) in ids.iter().enumerate() {
        let (found_at, found) = roster.agent_at(agent_id).unwrap();
        assert_eq!((found_at, found.agent.agent_id.as_str()), (position, *agent_id));
    }
    // The last draft of an ID wins, and its shifts follow it.
    let b = roster.agent("b").unwrap();
    assert_eq!((b.agent.display_name.as_str(), b.shifts.len()), ("B, second draft", 1));
    assert!(roster.agent_at("d").is_none());
    let after = |after: Option<&str>| -> Vec<String> {
        roster.agents_after(after).map(|roster| roster.agent.agent_id.as_str().to_owned()).collect()
    };
    assert_eq!(after(None), ["a", "b", "c"]);
    assert_eq!(after(Some("a")), ["b", "c"]);
    assert_eq!(after(Some("ab")), ["b", "c"]);
    assert_eq!(after(Some("c")), Vec::<String>::new());
}
