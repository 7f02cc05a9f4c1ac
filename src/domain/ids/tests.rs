//! Every identifier type accepts exactly what `check_id` accepts, and refuses the rest with the
//! same words.

use super::*;
use crate::domain::validation::{check_id, MAX_ID_BYTES};

/// What each of the five types makes of `id`: the identifier back, or the violation's text.
fn answers(id: &str) -> [Result<String, String>; 5] {
    let text = |problem: InvalidId| problem.to_string();
    [
        OrgId::new(id.to_owned()).map(OrgId::into_string).map_err(text),
        AgentId::new(id.to_owned()).map(AgentId::into_string).map_err(text),
        ShiftId::new(id.to_owned()).map(ShiftId::into_string).map_err(text),
        TimeOffId::new(id.to_owned()).map(TimeOffId::into_string).map_err(text),
        TicketId::new(id.to_owned()).map(TicketId::into_string).map_err(text),
    ]
}

/// Checks `id` against every type and against `check_id`: accepted unchanged, or refused with
/// `expected` as its one violation's description.
fn check(id: &str, expected: Result<(), &str>) {
    let expected_answer = expected.map(|()| id.to_owned()).map_err(str::to_owned);
    for answer in answers(id) {
        assert_eq!(answer, expected_answer, "{id:?}");
    }
    let mut violations = Violations::default();
    check_id(&mut violations, "some_id", id);
    let found: Vec<(&str, &str)> =
        violations.0.iter().map(|violation| (violation.field.as_str(), violation.description.as_str())).collect();
    let expected_violations: Vec<(&str, &str)> = expected.err().map(|text| ("some_id", text)).into_iter().collect();
    assert_eq!(found, expected_violations, "{id:?}");
    let mut violations = Violations::default();
    let checked = AgentId::check(&mut violations, "some_id", id.to_owned());
    assert_eq!(checked.map(AgentId::into_string), expected.ok().map(|()| id.to_owned()), "{id:?}");
    let found: Vec<(&str, &str)> =
        violations.0.iter().map(|violation| (violation.field.as_str(), violation.description.as_str())).collect();
    assert_eq!(found, expected_violations, "{id:?}");
}

#[test]
fn an_empty_id_is_required() {
    check("", Err("is required"));
}

#[test]
fn an_id_of_exactly_the_limit_is_accepted_and_one_byte_over_is_too_long() {
    check(&"a".repeat(MAX_ID_BYTES), Ok(()));
    check(&"a".repeat(MAX_ID_BYTES + 1), Err("is longer than 128 bytes"));
    // The limit counts bytes, not characters: 65 two-byte characters are 130 bytes.
    check(&"é".repeat(64), Ok(()));
    check(&"é".repeat(65), Err("is longer than 128 bytes"));
}

#[test]
fn an_id_with_whitespace_or_a_control_character_is_refused() {
    for id in ["a b", " a", "a\t", "a\nb", "a\u{0}b", "a\u{a0}b", "a\u{7f}"] {
        check(id, Err("must not contain whitespace or control characters"));
    }
}

#[test]
fn valid_ids_are_kept_byte_for_byte() {
    for id in ["a", "agent-1", "org_42", "shift.2026-03-02", "Ünïcødé", "emoji-🙂", "a:b/c"] {
        check(id, Ok(()));
    }
}

#[test]
fn ids_order_hash_and_print_as_their_strings_do() {
    let mut ids: Vec<AgentId> =
        ["b", "a", "B", "a-1", "é"].into_iter().map(|id| AgentId::new(id.to_owned()).unwrap()).collect();
    ids.sort();
    let sorted: Vec<&str> = ids.iter().map(AgentId::as_str).collect();
    assert_eq!(sorted, ["B", "a", "a-1", "b", "é"]);
    let id = AgentId::new("agent-1".to_owned()).unwrap();
    assert_eq!(format!("{id}"), "agent-1");
    assert_eq!(format!("{id:?}"), "\"agent-1\"");
    assert_eq!(id, *"agent-1");
    assert_eq!(id, "agent-1");
    let map: std::collections::HashMap<AgentId, u32> = [(id.clone(), 7)].into_iter().collect();
    assert_eq!(map.get("agent-1"), Some(&7));
    let tree: std::collections::BTreeMap<AgentId, u32> = [(id, 7)].into_iter().collect();
    assert_eq!(tree.get("agent-1"), Some(&7));
}
