//! The roster as known at each past version equals the roster that was stored when that version
//! committed, after any sequence of writes (groups with failing writes, deletes that take an
//! agent's entries with it, agents re-sent as they are), on both backends.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::schema_tests::throwaway_postgres;
use super::*;
use crate::domain::fixtures::{agent, consent, one_off, org, time_off};
use crate::domain::policy::PlanKind;
use crate::domain::roster::{Shift, TimeOff};

const N_AGENTS: usize = 4;
const N_ENTRIES: usize = 6;
const N_ORGS: usize = 2;

/// One write, drawn.
#[derive(Clone, Debug)]
pub(super) enum Write {
    UpsertAgent { agent_idx: usize, country_idx: usize, relocates: bool },
    DeleteAgent { agent_idx: usize },
    UpsertShift { shift_idx: usize, agent_idx: usize, day: u32 },
    DeleteShift { shift_idx: usize },
    UpsertTimeOff { entry_idx: usize, agent_idx: usize, day: u32 },
    DeleteTimeOff { entry_idx: usize },
    UpsertOrg { org_idx: usize, eea_only: bool },
    DeleteOrg { org_idx: usize },
    Grant { org_idx: usize, agent_idx: usize, day: u32 },
    Revoke { org_idx: usize, agent_idx: usize },
}

const COUNTRIES: [&str; 3] = ["IE", "US", "DE"];

fn agent_id(agent_idx: usize) -> String {
    format!("a-{agent_idx}")
}

fn org_id(org_idx: usize) -> String {
    format!("org-{org_idx}")
}

fn day_text(day: u32, hour: u32) -> String {
    format!("2027-03-{:02}T{hour:02}:00:00Z", day + 1)
}

/// The write as storage work; it may fail (an entry for an agent not stored, a delete of
/// something absent), and then its group goes on without it.
pub(super) fn work(write: Write) -> GroupedWork {
    Box::new(move |connection| {
        match write {
            Write::UpsertAgent { agent_idx, country_idx, relocates } => {
                let relocations: &[(&str, &str)] = if relocates { &[("2027-03-03T00:00:00Z", "PT")] } else { &[] };
                upsert_agents(connection, &[agent(&agent_id(agent_idx), COUNTRIES[country_idx], relocations)])?;
            }
            Write::DeleteAgent { agent_idx } => {
                delete_agent(connection, &agent_id(agent_idx))?;
            }
            Write::UpsertShift { shift_idx, agent_idx, day } => {
                let shift =
                    one_off(&format!("s-{shift_idx}"), &agent_id(agent_idx), &day_text(day, 8), &day_text(day, 16));
                upsert_entries(connection, &[shift])?;
            }
            Write::DeleteShift { shift_idx } => delete_entry::<Shift>(connection, &format!("s-{shift_idx}"))?,
            Write::UpsertTimeOff { entry_idx, agent_idx, day } => {
                let entry =
                    time_off(&format!("t-{entry_idx}"), &agent_id(agent_idx), &day_text(day, 0), &day_text(day + 1, 0));
                upsert_entries(connection, &[entry])?;
            }
            Write::DeleteTimeOff { entry_idx } => delete_entry::<TimeOff>(connection, &format!("t-{entry_idx}"))?,
            Write::UpsertOrg { org_idx, eea_only } => {
                let plan = if eea_only { PlanKind::EeaOnly } else { PlanKind::Standard };
                upsert_org(connection, &org(&org_id(org_idx), "eu-west-1", plan))?;
            }
            Write::DeleteOrg { org_idx } => {
                delete_org(connection, &org_id(org_idx))?;
            }
            Write::Grant { org_idx, agent_idx, day } => {
                upsert_consent(
                    connection,
                    &consent(&org_id(org_idx), "T-1", &agent_id(agent_idx), &day_text(day, 12)),
                )?;
            }
            Write::Revoke { org_idx, agent_idx } => {
                delete_consent(connection, &org_id(org_idx), "T-1", &agent_id(agent_idx))?
            }
        }
        Ok(Box::new(()) as GroupedOutcome)
    })
}

pub(super) fn write() -> impl Strategy<Value = Write> {
    let agent = 0..N_AGENTS;
    let entry = 0..N_ENTRIES;
    let org = 0..N_ORGS;
    let day = 0u32..20;
    prop_oneof![
        3 => (agent.clone(), 0..COUNTRIES.len(), any::<bool>())
            .prop_map(|(agent_idx, country_idx, relocates)| Write::UpsertAgent { agent_idx, country_idx, relocates }),
        1 => agent.clone().prop_map(|agent_idx| Write::DeleteAgent { agent_idx }),
        3 => (entry.clone(), agent.clone(), day.clone())
            .prop_map(|(shift_idx, agent_idx, day)| Write::UpsertShift { shift_idx, agent_idx, day }),
        1 => entry.clone().prop_map(|shift_idx| Write::DeleteShift { shift_idx }),
        2 => (entry.clone(), agent.clone(), day.clone())
            .prop_map(|(entry_idx, agent_idx, day)| Write::UpsertTimeOff { entry_idx, agent_idx, day }),
        1 => entry.prop_map(|entry_idx| Write::DeleteTimeOff { entry_idx }),
        2 => (org.clone(), any::<bool>()).prop_map(|(org_idx, eea_only)| Write::UpsertOrg { org_idx, eea_only }),
        1 => org.clone().prop_map(|org_idx| Write::DeleteOrg { org_idx }),
        2 => (org.clone(), agent.clone(), day).prop_map(|(org_idx, agent_idx, day)| Write::Grant { org_idx, agent_idx, day }),
        1 => (org, agent).prop_map(|(org_idx, agent_idx)| Write::Revoke { org_idx, agent_idx }),
    ]
}

/// A stored roster in one order, whatever order the rows were read in.
pub(super) fn in_order(mut stored: StoredRoster) -> StoredRoster {
    stored.shifts.sort_by(|one, other| one.shift_id.as_str().cmp(other.shift_id.as_str()));
    stored.time_off.sort_by(|one, other| one.time_off_id.as_str().cmp(other.time_off_id.as_str()));
    stored.consents.sort_by(|one, other| {
        (one.org_id.as_str(), one.ticket_id.as_str(), one.agent_id.as_str()).cmp(&(
            other.org_id.as_str(),
            other.ticket_id.as_str(),
            other.agent_id.as_str(),
        ))
    });
    stored
}

/// What tells two stored rosters apart, for a failure message (agents have no `Debug`: names).
pub(super) fn differences(known: &StoredRoster, stored: &StoredRoster) -> Vec<&'static str> {
    let mut differ = Vec::new();
    if known.orgs != stored.orgs {
        differ.push("orgs");
    }
    if known.agents != stored.agents {
        differ.push("agents");
    }
    if known.shifts != stored.shifts {
        differ.push("shifts");
    }
    if known.time_off != stored.time_off {
        differ.push("time off");
    }
    if known.consents != stored.consents {
        differ.push("consents");
    }
    differ
}

/// Commits each group of writes in turn, keeping what was stored after each committed version,
/// then asks the history for every one of those versions.
fn check_history(store: &Store, groups: Vec<Vec<Write>>) {
    let start = store.read_consistent_here(history_start).unwrap();
    let mut stored_at = vec![(start.version, in_order(store.read_consistent_here(load_all).unwrap()))];
    for group in groups {
        let works = group.into_iter().map(work).collect();
        let (committed, stored) = store.write_group_here(works, load_all).unwrap();
        if stored_at.last().is_some_and(|(version, _)| *version == committed.version) {
            continue; // every write of the group failed: nothing committed
        }
        stored_at.push((committed.version, in_order(stored)));
    }
    for (version, stored) in &stored_at {
        let known = in_order(store.read_consistent_here(move |connection| load_as_of(connection, *version)).unwrap());
        assert_eq!(known.version, *version);
        let differ = differences(&known, stored);
        assert!(differ.is_empty(), "as known at version {version}, the {differ:?} differ from what was stored");
    }
    let newest = stored_at.last().unwrap().0;
    let after_newest = store.read_consistent_here(move |connection| load_as_of(connection, newest + 1));
    assert!(matches!(after_newest, Err(StorageError::NotFound { .. })), "a version not committed yet is not known");
    if start.version > 0 {
        let before_start = store.read_consistent_here(move |connection| load_as_of(connection, start.version - 1));
        assert!(matches!(before_start, Err(StorageError::NotFound { .. })));
    }
    check_stamps(store, start.version, newest);
}

/// Each committed version has its stamp, in commit order, and the stamps find their versions.
fn check_stamps(store: &Store, first: i64, newest: i64) {
    let stamps: Vec<(i64, i64)> = store
        .read_consistent_here(|connection| {
            Ok(schema::roster_commits::table
                .select((schema::roster_commits::version, schema::roster_commits::committed_at))
                .order(schema::roster_commits::version)
                .load(connection)?)
        })
        .unwrap();
    let versions: Vec<i64> = stamps.iter().map(|(version, _)| *version).collect();
    assert_eq!(versions, (first..=newest).collect::<Vec<_>>(), "one stamp per committed version");
    assert!(stamps.windows(2).all(|pair| pair[0].1 <= pair[1].1), "stamps keep commit order: {stamps:?}");
    let (version, committed_at) = *stamps.last().unwrap();
    let at = crate::domain::time::Instant::from_microsecond(committed_at).unwrap();
    let known = store.read_consistent_here(move |connection| commit_known_at(connection, at)).unwrap().unwrap();
    assert_eq!(known.version, version, "the newest commit at its own stamp");
    let before = crate::domain::time::Instant::from_microsecond(stamps[0].1 - 1).unwrap();
    assert_eq!(store.read_consistent_here(move |connection| commit_known_at(connection, before)).unwrap(), None);
}

pub(super) fn sqlite_store() -> (tempfile::TempDir, Store) {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}", directory.path().join("history.db").display())).unwrap();
    (directory, Store::open(&url).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_roster_as_known_at_each_version_is_what_was_stored_then(
        groups in proptest::collection::vec(proptest::collection::vec(write(), 1..4), 1..40)
    ) {
        let (_directory, store) = sqlite_store();
        check_history(&store, groups);
    }
}

#[test]
fn the_history_holds_on_postgres_too() {
    let Some((_database, url)) = throwaway_postgres("eea_history") else { return };
    let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    // The same draws as the SQLite property test, from a fixed seed: many groups, one run.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let groups = proptest::collection::vec(proptest::collection::vec(write(), 1..4), 120)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    check_history(&store, groups);
}

#[test]
fn rows_stored_before_the_history_began_are_known_as_of_the_upgrade() {
    use diesel_migrations::MigrationHarness;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("upgraded.db");
    let mut sqlite = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    // The schema of the release before the history: every migration before it.
    let mut names: Vec<String> =
        diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(&migrations::SQLITE_MIGRATIONS)
            .unwrap()
            .iter()
            .map(|migration| migration.name().to_string())
            .collect();
    names.sort();
    let n_before = names.iter().position(|name| name.ends_with("_roster_history")).expect("the history's migration");
    for _ in 0..n_before {
        sqlite.run_next_migration(migrations::SQLITE_MIGRATIONS).unwrap();
    }
    sqlite
        .batch_execute(
            "INSERT INTO orgs VALUES ('org-0', 'eu-west-1', 'EEA_ONLY'); \
             INSERT INTO agents VALUES ('a-0', 'Agent a-0', 'IE', 'Europe/Dublin', '', NULL); \
             INSERT INTO shifts (shift_id, agent_id, severities, starts_at, ends_at, first_start_at) \
                 VALUES ('s-0', 'a-0', '', 1804060800000000, 1804089600000000, 1804060800000000); \
             UPDATE roster_version SET version = 7;",
        )
        .unwrap();
    drop(sqlite);
    let store = Store::open(&DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap()).unwrap();
    let start = store.read_consistent_here(history_start).unwrap();
    assert_eq!(start.version, 7, "the history begins at the version stored at the upgrade");
    let known = store.read_consistent_here(|connection| load_as_of(connection, 7)).unwrap();
    let ids = |stored: &StoredRoster| {
        (
            stored.orgs.iter().map(|org| org.org_id.to_string()).collect::<Vec<_>>(),
            stored.agents.iter().map(|agent| agent.agent_id.to_string()).collect::<Vec<_>>(),
            stored.shifts.iter().map(|shift| shift.shift_id.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(ids(&known), (vec!["org-0".to_owned()], vec!["a-0".to_owned()], vec!["s-0".to_owned()]));
    // And the writes after the upgrade are known from then on, the old rows with them.
    check_history(
        &store,
        vec![
            vec![Write::DeleteShift { shift_idx: 0 }],
            vec![Write::UpsertAgent { agent_idx: 0, country_idx: 1, relocates: true }],
        ],
    );
}
