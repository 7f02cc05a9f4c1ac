//! Stored orgs and consents load only with IDs the domain accepts; a row whose ID is no longer
//! valid is reported as corrupt instead of being used.

use super::*;

/// Loads an org row with `org_id` and a consent row with `org_id` as both its org and its
/// ticket, and compares what each load answers with `expected`: the ID back, or the error text.
fn check(org_id: &str, expected: Result<(), (&str, &str)>) {
    let org = OrgRow { org_id: org_id.to_owned(), cloud_region: "eu-west-1".into(), plan: "STANDARD".into() }
        .into_domain()
        .map(|org| org.org_id.into_string())
        .map_err(|error| error.to_string());
    let expected_org = expected.map(|()| org_id.to_owned()).map_err(|(org_error, _)| org_error.to_owned());
    assert_eq!(org, expected_org, "{org_id:?}");

    let consent = ConsentRow {
        org_id: org_id.to_owned(),
        ticket_id: org_id.to_owned(),
        agent_id: "agent-1".into(),
        expires_at: 1_700_000_000_000_000,
    }
    .into_domain()
    .map(|consent| (consent.org_id.into_string(), consent.ticket_id.into_string(), consent.agent_id.into_string()))
    .map_err(|error| error.to_string());
    let expected_consent = expected
        .map(|()| (org_id.to_owned(), org_id.to_owned(), "agent-1".to_owned()))
        .map_err(|(_, consent_error)| consent_error.to_owned());
    assert_eq!(consent, expected_consent, "{org_id:?}");
}

#[test]
fn rows_with_valid_ids_load_with_the_same_ids() {
    check("acme", Ok(()));
    check(&"a".repeat(128), Ok(()));
}

#[test]
fn rows_with_an_empty_id_are_corrupt() {
    check(
        "",
        Err((
            "stored data is invalid: stored org \"\" is no longer valid: org_id: is required",
            "stored data is invalid: stored consent \"//agent-1\" is no longer valid: org_id: is required; \
             ticket_id: is required",
        )),
    );
}

#[test]
fn rows_with_an_id_one_byte_over_the_limit_are_corrupt() {
    let too_long = "a".repeat(129);
    let org_error =
        format!("stored data is invalid: stored org {too_long:?} is no longer valid: org_id: is longer than 128 bytes");
    let consent_error = format!(
        "stored data is invalid: stored consent \"{too_long}/{too_long}/agent-1\" is no longer valid: \
         org_id: is longer than 128 bytes; ticket_id: is longer than 128 bytes"
    );
    check(&too_long, Err((&org_error, &consent_error)));
}
