//! Group commit and the change log, on a throw-away SQLite database: a failing write of a group
//! rolls back alone, the group counts as one version, and the log names what changed.

use diesel::prelude::*;

use super::*;
use crate::domain::fixtures::{agent, one_off};

fn store() -> (tempfile::TempDir, Store) {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}", directory.path().join("group.db").display())).unwrap();
    (directory, Store::open(&url).unwrap())
}

fn write_agent(agent_id: &'static str) -> GroupedWork {
    Box::new(move |connection| {
        upsert_agents(connection, &[agent(agent_id, "IE", &[])])?;
        Ok(Box::new(agent_id) as GroupedOutcome)
    })
}

fn write_shift(shift_id: &'static str, agent_id: &'static str) -> GroupedWork {
    Box::new(move |connection| {
        upsert_entries(connection, &[one_off(shift_id, agent_id, "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z")])?;
        Ok(Box::new(shift_id) as GroupedOutcome)
    })
}

#[tokio::test]
async fn a_failing_write_of_a_group_rolls_back_alone_and_the_group_is_one_version() {
    let (_directory, store) = store();
    let before = store.read(migrations::read_version).await.unwrap();
    let works = vec![write_agent("a-1"), write_shift("s-x", "nobody"), write_agent("a-2"), write_shift("s-1", "a-1")];
    let committed = store.write_group_here(works, |_| Ok(())).unwrap().0;
    let answered: Vec<Result<&str, String>> = committed
        .outcomes
        .into_iter()
        .map(|outcome| outcome.map(|value| *value.downcast::<&str>().unwrap()).map_err(|error| error.to_string()))
        .collect();
    assert_eq!(answered[0], Ok("a-1"));
    assert!(answered[1].as_ref().is_err_and(|error| error.contains("nobody")), "{:?}", answered[1]);
    assert_eq!((answered[2].clone(), answered[3].clone()), (Ok("a-2"), Ok("s-1")));
    assert_eq!(committed.version, before + 1, "the group moves the version once");

    let changes = store.read(move |connection| load_changes_since(connection, before)).await.unwrap().unwrap();
    assert_eq!(changes.version, before + 1);
    let mut changed: Vec<(String, usize)> = changes
        .changes
        .agents
        .iter()
        .map(|(agent_id, roster)| (agent_id.to_string(), roster.as_ref().map_or(0, |roster| roster.shifts.len())))
        .collect();
    changed.sort();
    // The failed write's agent is not named: its savepoint took its log rows with it.
    assert_eq!(changed, [("a-1".to_owned(), 1), ("a-2".to_owned(), 0)]);
}

#[tokio::test]
async fn a_group_in_which_every_write_fails_writes_nothing() {
    let (_directory, store) = store();
    let before = store.read(migrations::read_version).await.unwrap();
    let committed = store.write_group_here(vec![write_shift("s-x", "nobody")], |_| Ok(())).unwrap().0;
    assert!(committed.outcomes[0].is_err());
    assert_eq!(committed.version, before);
    let changes = store.read(move |connection| load_changes_since(connection, before)).await.unwrap().unwrap();
    assert!(changes.changes.agents.is_empty());
}

#[tokio::test]
async fn a_version_missing_from_the_log_asks_for_a_full_read() {
    let (_directory, store) = store();
    store.write_group_here(vec![write_agent("a-1")], |_| Ok(())).unwrap();
    // A write by a release before the change log: it counts itself and logs nothing.
    store
        .read(|connection| {
            diesel::update(schema::roster_version::table)
                .set(schema::roster_version::version.eq(schema::roster_version::version + 1))
                .execute(connection)?;
            Ok(())
        })
        .await
        .unwrap();
    let since_start = store.read(|connection| load_changes_since(connection, 0)).await.unwrap();
    assert!(since_start.is_none(), "a version without its log row cannot be accounted for");
}
