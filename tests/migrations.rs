//! Migrations only move forward: a migration that has landed is never edited, because
//! databases written by an earlier release have run it as it was. Each landed file's SHA-256 is
//! written here; a changed file fails this test, a new one must be added to the list (which
//! review sees), and both backends carry the same migrations.

use std::collections::BTreeSet;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Every landed migration file and the SHA-256 of its bytes.
const LANDED: [(&str, &str); 36] = [
    (
        "migrations/postgres/2026-11-29-000001_create_roster/down.sql",
        "b4ca864381f137a5b6d8f4d546a221680d921f1b92e045d8ad7539221b0086a5",
    ),
    (
        "migrations/postgres/2026-11-29-000001_create_roster/up.sql",
        "f7f1cb9a4f06f62cf3ad292dddbd090233494e610a6a3d049d294bad81aa153d",
    ),
    (
        "migrations/postgres/2026-11-30-000002_sync_sources/down.sql",
        "b5ad1d167a32285f995549a3d9d0d99877c96e3a686096b2fdc23f4806d25ba0",
    ),
    (
        "migrations/postgres/2026-11-30-000002_sync_sources/up.sql",
        "b9436bb8c07734b15ca4971443ece57ef0da76cbc9f88557537ebbccdc52860f",
    ),
    (
        "migrations/postgres/2026-11-30-000003_roster_version/down.sql",
        "bb580e26087e44c1ab8e7b27a07d245bbb555420fe5984a5c74bb3f6aa446d47",
    ),
    (
        "migrations/postgres/2026-11-30-000003_roster_version/up.sql",
        "b3d55b7ce83ba49c182d338e59283b0cdc2125c1e4c3088738edf428825d31dc",
    ),
    (
        "migrations/postgres/2026-11-30-000004_audit_events/down.sql",
        "ee9f3997181a3fac5044a154ae33785fbe580b29c43f1c55618f9afb8a10d70b",
    ),
    (
        "migrations/postgres/2026-11-30-000004_audit_events/up.sql",
        "8eed4945bd6ffb0f0e8fe32f2fd5d24e4f59a29b86f49614fca1bad601a95e1d",
    ),
    (
        "migrations/postgres/2026-11-30-000005_roster_changes/down.sql",
        "ce280a2c811b12d684e48aa0bbbecfde39d56b0654d46bc5c8039c23ddc3fe4f",
    ),
    (
        "migrations/postgres/2026-11-30-000005_roster_changes/up.sql",
        "5229a83b53a54aa3c3320e99364447fc9e04662c3495f5351be4a5a7ad939ca9",
    ),
    (
        "migrations/postgres/2026-12-01-000006_gap_webhook/down.sql",
        "fe0db9d999cbbfb80824608b525ffc437ed9c0b2ee090ea347a1c4bda83463b7",
    ),
    (
        "migrations/postgres/2026-12-01-000006_gap_webhook/up.sql",
        "803dc14d5c0399d1c29558637f95a42e734a5407aa26d9fc3d91dc3114008ef7",
    ),
    (
        "migrations/postgres/2026-12-02-000007_roster_history/down.sql",
        "7edc625780f0a688e568f1e26ff6d1e76737c156d0df0ff8ef8b5af371b875f7",
    ),
    (
        "migrations/postgres/2026-12-02-000007_roster_history/up.sql",
        "9bd0fe82f5af779b3d1e87df099aa89263df8d4ff6be38b1d7f1117ba1e34e89",
    ),
    (
        "migrations/postgres/2026-12-02-000008_policy_versions/down.sql",
        "b494ddb2e26ccca03fe76cb91faf1d79403eeac6efee810afe1cc9dc968c1c5a",
    ),
    (
        "migrations/postgres/2026-12-02-000008_policy_versions/up.sql",
        "1d3dc1f7f4896d7b083a48f9ef6c7c34706f6763001c83d1008039116e6c74ef",
    ),
    (
        "migrations/postgres/2026-12-03-000009_history_retention/down.sql",
        "0bb74d0401e27bc4fed006ed0430c56aaeba2804637fe7a7cc7d8d7990166393",
    ),
    (
        "migrations/postgres/2026-12-03-000009_history_retention/up.sql",
        "b48436b0e666e6d89ec1d6e42bcb438abb5af38abe2f7d12d7bfb8c3c9f259cd",
    ),
    (
        "migrations/sqlite/2026-11-29-000001_create_roster/down.sql",
        "b4ca864381f137a5b6d8f4d546a221680d921f1b92e045d8ad7539221b0086a5",
    ),
    (
        "migrations/sqlite/2026-11-29-000001_create_roster/up.sql",
        "f7f1cb9a4f06f62cf3ad292dddbd090233494e610a6a3d049d294bad81aa153d",
    ),
    (
        "migrations/sqlite/2026-11-30-000002_sync_sources/down.sql",
        "b5ad1d167a32285f995549a3d9d0d99877c96e3a686096b2fdc23f4806d25ba0",
    ),
    (
        "migrations/sqlite/2026-11-30-000002_sync_sources/up.sql",
        "b9436bb8c07734b15ca4971443ece57ef0da76cbc9f88557537ebbccdc52860f",
    ),
    (
        "migrations/sqlite/2026-11-30-000003_roster_version/down.sql",
        "bb580e26087e44c1ab8e7b27a07d245bbb555420fe5984a5c74bb3f6aa446d47",
    ),
    (
        "migrations/sqlite/2026-11-30-000003_roster_version/up.sql",
        "b3d55b7ce83ba49c182d338e59283b0cdc2125c1e4c3088738edf428825d31dc",
    ),
    (
        "migrations/sqlite/2026-11-30-000004_audit_events/down.sql",
        "b5c5d8f95fc3a6d13de3ba4d1959bfb32f03d69b383721dd0d6987b459b77ffd",
    ),
    (
        "migrations/sqlite/2026-11-30-000004_audit_events/up.sql",
        "4bb5b122daeb2e1e8ae27ccd2defbaf030fb77b18cd5d8e390c6d2dadc283d2d",
    ),
    (
        "migrations/sqlite/2026-11-30-000005_roster_changes/down.sql",
        "ce280a2c811b12d684e48aa0bbbecfde39d56b0654d46bc5c8039c23ddc3fe4f",
    ),
    (
        "migrations/sqlite/2026-11-30-000005_roster_changes/up.sql",
        "5229a83b53a54aa3c3320e99364447fc9e04662c3495f5351be4a5a7ad939ca9",
    ),
    (
        "migrations/sqlite/2026-12-01-000006_gap_webhook/down.sql",
        "fe0db9d999cbbfb80824608b525ffc437ed9c0b2ee090ea347a1c4bda83463b7",
    ),
    (
        "migrations/sqlite/2026-12-01-000006_gap_webhook/up.sql",
        "6526b31c826ca70f3a862d940e5376e0a8c17223ba071be4d25b270f228ea733",
    ),
    (
        "migrations/sqlite/2026-12-02-000007_roster_history/down.sql",
        "5a5296a146d84b71f42f822b4f63279cf2c637d563319ef34fed1efe46a97f9b",
    ),
    (
        "migrations/sqlite/2026-12-02-000007_roster_history/up.sql",
        "c3be3082facb712507fb1a553f61124c426f002a448b19ad2dfbc5a45c9688e7",
    ),
    (
        "migrations/sqlite/2026-12-02-000008_policy_versions/down.sql",
        "b494ddb2e26ccca03fe76cb91faf1d79403eeac6efee810afe1cc9dc968c1c5a",
    ),
    (
        "migrations/sqlite/2026-12-02-000008_policy_versions/up.sql",
        "dc07ec4d3fc826ead0919a88863ef1972d61c514b96e612d8c010c6b560d7915",
    ),
    (
        "migrations/sqlite/2026-12-03-000009_history_retention/down.sql",
        "7ed5b64fc031f23000c40ea4f60a4cebddeb4a7f911cd98ba45c02ede5a646d3",
    ),
    (
        "migrations/sqlite/2026-12-03-000009_history_retention/up.sql",
        "e8ced6633f1f713cfd5a25902c4dd328394cd3ed56e025b39ebcf83285aa32fd",
    ),
];

fn migration_files() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for backend in ["postgres", "sqlite"] {
        for migration in std::fs::read_dir(root.join("migrations").join(backend)).expect("a migrations folder") {
            let migration = migration.expect("a directory entry").path();
            for file in std::fs::read_dir(&migration).expect("a migration folder") {
                let file = file.expect("a directory entry").path();
                let relative = file.strip_prefix(root).expect("under the crate").to_string_lossy().into_owned();
                files.push(relative);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_landed_migration_has_changed_and_every_migration_is_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for (file, expected_sha256) in LANDED {
        match std::fs::read(root.join(file)) {
            Ok(bytes) => {
                let found: String = Sha256::digest(&bytes).iter().map(|byte| format!("{byte:02x}")).collect();
                if found != expected_sha256 {
                    problems.push(format!("{file} was edited after it landed (sha256 {found})"));
                }
            }
            Err(error) => problems.push(format!("{file} is gone: {error}")),
        }
    }
    let listed: BTreeSet<&str> = LANDED.iter().map(|(file, _)| *file).collect();
    for file in migration_files() {
        if !listed.contains(file.as_str()) {
            problems.push(format!("{file} is new: add it and its sha256 to LANDED"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn both_backends_carry_the_same_migrations() {
    let names = |backend: &str| -> BTreeSet<String> {
        migration_files()
            .into_iter()
            .filter_map(|file| file.strip_prefix(&format!("migrations/{backend}/")).map(str::to_owned))
            .collect()
    };
    assert_eq!(names("postgres"), names("sqlite"));
}
