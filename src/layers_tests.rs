//! The crate's layers, checked on its source: each top-level module reaches only the modules
//! ARCHITECTURE.md draws arrows to, and the crates that belong to one layer (diesel to
//! `storage`; tonic and the HTTP stack to the gRPC side) appear nowhere else. A `use`, a full
//! path (`crate::storage::Store`), a grouped import and a chain of `super`s that climbs to the
//! crate's root all count; comments and string literals do not.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::source_scan::{grouped_first_segments, rust_files, tokens, without_inline_test_modules};

/// What each top-level module may reach of the rest of the crate. `transport` reaches `formats`
/// for one thing: a shift file sent inside `SimulateCoverage` is decoded with the same reader
/// `eea-coverage import` uses (into wire entries, which only the gRPC side knows), so a simulated
/// file means what an imported one does. `formats` does no I/O and reaches only `domain` and `pb`.
const ALLOWED_LAYERS: [(&str, &[&str]); 13] = [
    ("domain", &[]),
    ("auth", &[]),
    ("pb", &[]),
    ("clock", &["domain"]),
    ("audit", &["domain"]),
    ("storage", &["audit", "domain"]),
    ("config", &["auth", "domain", "storage"]),
    ("app", &["audit", "clock", "domain", "storage"]),
    ("transport", &["app", "audit", "auth", "clock", "config", "domain", "formats", "pb"]),
    ("startup", &["app", "audit", "auth", "clock", "config", "domain", "pb", "storage", "transport"]),
    ("formats", &["domain", "pb"]),
    ("cli", &["auth", "clock", "config", "domain", "formats", "pb", "testing"]),
    ("testing", &["auth", "config", "domain", "pb", "startup"]),
];

/// Crates that belong to one side of the service, and the modules that may name them.
const CONFINED_CRATES: [(&str, &[&str]); 12] = [
    ("diesel", &["storage"]),
    ("tonic", &["transport", "startup", "cli", "testing", "pb"]),
    ("tower", &["transport"]),
    ("hyper", &["transport"]),
    ("http", &["transport", "startup", "cli", "testing"]),
    ("arc_swap", &["app"]),
    // And `cli`, whose load generator is a client of the JSON API (`load --http`).
    ("hyper_util", &["transport", "cli"]),
    ("hyper_rustls", &["transport"]),
    ("rustls", &["transport"]),
    ("tokio_rustls", &["transport"]),
    ("hmac", &["transport"]),
    ("prost_reflect", &["transport", "pb"]),
];

/// The module a source file is, as path segments below the crate root
/// (`src/app/queries.rs` is `["app", "queries"]`, `src/app/mod.rs` is `["app"]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut segments: Vec<String> =
        relative.iter().map(|segment| segment.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
    if segments.last().is_some_and(|last| last == "mod" || last == "lib") {
        segments.pop();
    }
    segments
}

/// The top-level modules of the crate that `source`, the file of module `module`, reaches,
/// and the crates it names. Test modules written inside a file are left out: their `super` is
/// the file's module, and a test may reach what it needs to set up.
fn reached(source: &str, module: &[String]) -> (BTreeSet<String>, BTreeSet<String>) {
    let tokens = without_inline_test_modules(tokens(source));
    let (mut layers, mut crates) = (BTreeSet::new(), BTreeSet::new());
    let segment = |idx: usize| tokens.get(idx).map(String::as_str);
    for (token_idx, token) in tokens.iter().enumerate() {
        let previous = token_idx.checked_sub(1).and_then(segment);
        let joined = previous == Some("::")
            && token_idx.checked_sub(2).and_then(segment).is_some_and(|before| {
                before == ">" || before.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            });
        if joined && token != "super" {
            continue;
        }
        // Where a path that starts here lands at the crate's root: after `crate::`, or after as
        // many `super::` as the module is deep.
        let root_idx = if token == "crate" {
            Some(token_idx + 2)
        } else if token == "super" && !joined {
            let mut idx = token_idx;
            let mut n_supers = 0;
            while segment(idx) == Some("super") && segment(idx + 1) == Some("::") {
                n_supers += 1;
                idx += 2;
            }
            (n_supers == module.len()).then_some(idx)
        } else {
            None
        };
        if let Some(root_idx) = root_idx {
            if segment(root_idx.saturating_sub(1)) != Some("::") {
                continue;
            }
            if segment(root_idx) == Some("{") {
                layers.extend(grouped_first_segments(&tokens, root_idx).into_iter().map(str::to_owned));
            } else if let Some(layer) = segment(root_idx) {
                layers.insert(layer.to_owned());
            }
            continue;
        }
        let names_crate = segment(token_idx + 1) == Some("::") || previous == Some("use");
        if names_crate && CONFINED_CRATES.iter().any(|(name, _)| name == token) {
            crates.insert(token.clone());
        }
    }
    layers.remove("self");
    (layers, crates)
}

fn problems_of(src: &Path, file: &Path, source: &str) -> Vec<String> {
    let module = module_path(src, file);
    let Some(top) = module.first() else { return Vec::new() };
    let Some((_, allowed)) = ALLOWED_LAYERS.iter().find(|(name, _)| name == top) else {
        return vec![format!("{}: module {top} has no row in ALLOWED_LAYERS", file.display())];
    };
    let (layers, crates) = reached(source, &module);
    let mut problems = Vec::new();
    for layer in layers.iter().filter(|layer| *layer != top && !allowed.contains(&layer.as_str())) {
        problems.push(format!("{}: {top} reaches crate::{layer}", file.display()));
    }
    for name in &crates {
        let (_, owners) = CONFINED_CRATES.iter().find(|(confined, _)| confined == name).expect("a confined crate");
        if !owners.contains(&top.as_str()) {
            problems.push(format!("{}: {top} names {name}", file.display()));
        }
    }
    problems
}

#[test]
fn every_module_reaches_only_the_layers_and_crates_it_may() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        // The crate root and the binary wire everything; the scans name what they look for.
        let module = module_path(&src, file);
        let is_scan = file.ends_with("boundary_tests.rs") || module == ["source_scan"] || module == ["layers_tests"];
        if module.is_empty() || module == ["main"] || is_scan {
            continue;
        }
        let source = std::fs::read_to_string(file).expect("a readable source file");
        problems.extend(problems_of(&src, file, &source));
    }
    assert!(files.len() > 50, "the crate's files are found ({})", files.len());
    assert!(problems.is_empty(), "layers crossed:\n{}", problems.join("\n"));
}

#[test]
fn the_scan_finds_every_way_of_reaching_a_layer_and_nothing_in_comments_or_strings() {
    let src = Path::new("/crate/src");
    let cases: [(&str, &str, &[&str]); 11] = [
        ("app/queries.rs", "use crate::transport::status;", &["app reaches crate::transport"]),
        ("app/queries.rs", "use crate::{domain::time::Instant, cli::load};", &["app reaches crate::cli"]),
        ("app/queries.rs", "use super::super::startup::Server;", &["app reaches crate::startup"]),
        ("app/mod.rs", "use super::transport::layers;", &["app reaches crate::transport"]),
        ("app/queries.rs", "use super::pages::Page; use super::super::domain::roster::Agent;", &[]),
        ("app/writes.rs", "fn f() -> diesel::QueryResult<()> { todo!() }", &["app names diesel"]),
        ("domain/roster.rs", "let s = tonic::Status::internal(\"x\");", &["domain names tonic"]),
        ("storage/sync.rs", "use diesel::prelude::*; use crate::domain::sync::diff_entries;", &[]),
        ("app/sync.rs", "// crate::transport\nlet s = \"crate::cli and tonic::Status\";", &[]),
        ("formats/csv.rs", "let value = my::tonic::thing;", &[]),
        ("auth.rs", "#[cfg(test)] mod tests { use super::*; use crate::storage::Store; }", &[]),
    ];
    for (file, source, expected) in cases {
        let found: Vec<String> = problems_of(src, &src.join(file), source)
            .into_iter()
            .map(|problem| problem.split_once(": ").expect("a file name first").1.to_owned())
            .collect();
        assert_eq!(found, expected, "{file}: {source}");
    }
}
