//! Recording the policy in force: a start-up with the same policy records nothing new, a changed
//! one is in force from its moment on, and a past moment finds the version in force then.

use super::*;

fn store() -> (tempfile::TempDir, Store) {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}", directory.path().join("policy.db").display())).unwrap();
    (directory, Store::open(&url).unwrap())
}

#[tokio::test]
async fn each_change_of_policy_is_recorded_once_and_found_by_the_moments_it_was_in_force() {
    let (_directory, store) = store();
    let first = store.record_policy("facts one".into(), "standard_hours = 24x7\n".into()).await.unwrap();
    let again = store.record_policy("facts one".into(), "standard_hours = 24x7\n".into()).await.unwrap();
    assert_eq!(again, first, "the same policy at the next start-up is the version in force already");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let settings_changed = store.record_policy("facts one".into(), "standard_hours = business\n".into()).await.unwrap();
    assert!(settings_changed.policy_version > first.policy_version);
    assert!(settings_changed.effective_at > first.effective_at);
    let facts_changed = store.record_policy("facts two".into(), "standard_hours = business\n".into()).await.unwrap();
    assert!(facts_changed.policy_version > settings_changed.policy_version);
    assert!(facts_changed.effective_at >= settings_changed.effective_at, "in force in the order recorded");

    let known_at = |at| store.read_consistent_here(move |connection| policy_known_at(connection, at)).unwrap();
    let just_before =
        |version: &PolicyVersion| version.effective_at.checked_sub(jiff::SignedDuration::from_micros(1)).unwrap();
    assert_eq!(known_at(just_before(&first)), None, "nothing was recorded before the first start-up");
    assert_eq!(known_at(first.effective_at), Some(first.clone()));
    assert_eq!(known_at(just_before(&settings_changed)), Some(first));
    assert_eq!(known_at(facts_changed.effective_at).map(|version| version.facts), Some("facts two".to_owned()));
    // Back to an earlier policy: a new version again, since what is in force changed.
    let back = store.record_policy("facts one".into(), "standard_hours = 24x7\n".into()).await.unwrap();
    assert!(back.policy_version > facts_changed.policy_version);
}
