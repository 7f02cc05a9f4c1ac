//! The domain's boundary, checked on its source: no file under `src/domain` names another layer
//! of the crate, a crate for I/O, transport or storage, or the system clock, by a `use` or by a
//! fully qualified path. Comments and string literals are left out of the scan.

use crate::source_scan::{grouped_first_segments, rust_files, tokens, without_inline_test_modules};

/// Crates and std modules the domain may not use, as the first segment of a path (`tonic::`,
/// `::tokio::`) or a `use` of them.
const FORBIDDEN_ROOTS: [&str; 9] =
    ["tonic", "prost", "prost_types", "diesel", "tokio", "hyper", "http", "tower", "arc_swap"];
/// Layers of this crate the domain may not reach (`crate::storage`).
const FORBIDDEN_LAYERS: [&str; 12] =
    ["app", "storage", "transport", "startup", "config", "clock", "audit", "auth", "cli", "formats", "testing", "pb"];
/// Paths that do I/O, read the clock or ask the machine for its cores (the caller chooses the
/// parallelism), wherever they are written (`Instant` is the domain's name for a UTC timestamp).
const FORBIDDEN_PATHS: [&[&str]; 10] = [
    &["std", "fs"],
    &["std", "net"],
    &["std", "process"],
    &["SystemTime", "now"],
    &["Timestamp", "now"],
    &["Instant", "now"],
    &["Zoned", "now"],
    &["Utc", "now"],
    &["Local", "now"],
    &["thread", "available_parallelism"],
];

/// What in `source` crosses the boundary; `is_domain_root` for `src/domain/mod.rs`, where
/// `super` is the crate itself.
fn crossings(source: &str, is_domain_root: bool) -> Vec<String> {
    let tokens = tokens(source);
    let mut found = Vec::new();
    for (token_idx, token) in tokens.iter().enumerate() {
        let next = |offset: usize| tokens.get(token_idx + offset).map(String::as_str);
        let previous = token_idx.checked_sub(1).map(|before| tokens[before].as_str());
        // A path starts here unless a `::` joins this segment to a segment before it (`a::b`,
        // `<T>::b`); a leading `::` (`::tonic::Status`, `-> ::tonic::Status`) starts one.
        let before_separator = token_idx.checked_sub(2).map(|before| tokens[before].as_str());
        let joined = previous == Some("::")
            && before_separator.is_some_and(|segment| {
                segment == ">" || segment.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            });
        let starts_path = !joined || before_separator == Some("use");
        if FORBIDDEN_ROOTS.contains(&token.as_str()) && next(1) == Some("::") && starts_path {
            found.push(format!("{token}::"));
        }
        if FORBIDDEN_ROOTS.contains(&token.as_str()) && previous == Some("use") && next(1) != Some("::") {
            found.push(format!("use {token}"));
        }
        let crate_root = token == "crate" || (is_domain_root && token == "super");
        if crate_root && next(1) == Some("::") && next(2).is_some_and(|layer| FORBIDDEN_LAYERS.contains(&layer)) {
            found.push(format!("{token}::{}", next(2).unwrap_or_default()));
        }
        // `super::super::app`: no module inside the domain has a layer's name, so a chain of
        // `super`s that reaches one has left the domain.
        let after_super = previous == Some("::") && token_idx >= 2 && tokens[token_idx - 2] == "super";
        if after_super && FORBIDDEN_LAYERS.contains(&token.as_str()) {
            found.push(format!("super::{token}"));
        }
        // Grouped imports: `use crate::{storage::Store, ...}`, `use std::{fs, net}`.
        if (token == "crate" || token == "std" || token == "super") && next(1) == Some("::") && next(2) == Some("{") {
            for name in grouped_first_segments(&tokens, token_idx + 2) {
                let forbidden = match token.as_str() {
                    "std" => ["fs", "net", "process"].contains(&name),
                    _ => FORBIDDEN_LAYERS.contains(&name),
                };
                if forbidden {
                    found.push(format!("{token}::{{{name}}}"));
                }
            }
        }
        for path in FORBIDDEN_PATHS {
            if token == path[0] && next(1) == Some("::") && next(2) == Some(path[1]) {
                found.push(path.join("::"));
            }
        }
    }
    // Two rules may name the same crossing one after the other.
    found.dedup();
    found
}

#[test]
fn the_domain_names_no_other_layer_no_io_and_no_clock() {
    let domain = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut files = Vec::new();
    rust_files(&domain, &mut files);
    assert!(files.len() > 10, "the domain's files are found ({})", files.len());
    let mut violations = Vec::new();
    for file in &files {
        // This file names what it forbids.
        if file.ends_with("boundary_tests.rs") {
            continue;
        }
        let source = std::fs::read_to_string(file).expect("a readable source file");
        for crossing in crossings(&source, file.ends_with("domain/mod.rs")) {
            violations.push(format!("{}: {crossing}", file.display()));
        }
    }
    assert!(violations.is_empty(), "the domain crosses its boundary:\n{}", violations.join("\n"));
}

#[test]
fn the_scan_finds_every_way_of_crossing_and_nothing_in_comments_or_strings() {
    let crossing_sources: [(&str, &[&str]); 14] = [
        ("let n = std::thread::available_parallelism();", &["thread::available_parallelism"]),
        ("use std::{fs, net};", &["std::{fs}", "std::{net}"]),
        ("use crate::{domain::time::Instant, storage::Store};", &["crate::{storage}"]),
        ("use super::super::app::App;", &["super::app"]),
        ("let now = Instant::now();", &["Instant::now"]),
        ("let c = matches!(x, '\\'' | '\"'); use tokio::spawn;", &["tokio::"]),
        ("use tonic::Status;", &["tonic::"]),
        ("use tokio;", &["use tokio"]),
        ("fn f() -> ::diesel::QueryResult<()> { todo!() }", &["diesel::"]),
        ("let s = tonic::Status::internal(\"x\");", &["tonic::"]),
        ("use crate::storage::Store;", &["crate::storage"]),
        ("use super::app::App;", &["super::app"]),
        ("let t = jiff::Timestamp::now();", &["Timestamp::now"]),
        ("let f = std::fs::read(\"a\");", &["std::fs"]),
    ];
    for (source, expected) in crossing_sources {
        assert_eq!(crossings(source, true), expected, "{source}");
    }
    // Forbidden names inside comments (nested, or opened by `/*/`), strings, raw strings and
    // character literals, or as a later segment of a path; lifetimes, which open like a
    // character literal; the domain's own `crate::domain`.
    let clean_sources = [
        "/* outer /* inner */ tokio::spawn */ let y = 2;",
        "/*/ tonic::x */ let z = 3;",
        "// use tonic::Status;\n/* tokio::spawn */ let x = 1;",
        "let s = \"tonic::Status and crate::storage\"; let c = '\"'; let r = r#\"tokio::x\"#;",
        "fn f<'a>(x: &'a str) -> &'a str { x } use crate::domain::time::Instant;",
        "let http_status = my::http::value;",
    ];
    for source in clean_sources {
        assert_eq!(crossings(source, true), Vec::<String>::new(), "{source}");
    }
}

/// For each domain module, the domain modules it imports.
type ModuleImports = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;
/// Edges of an import graph (`from`, `to`), for the cycle finder's cases.
type ImportEdges<'a> = &'a [(&'a str, &'a str)];

/// The domain modules that the file at `relative_path` (under `src/domain`, such as
/// `roster/shift.rs`) names by a path: `super::x` (as many `super`s as lead back to the domain),
/// `crate::domain::x`, and the groups of both (`super::{x::A, y}`). Its own module and test
/// modules written inside it (`#[cfg(test)] mod tests { .. }`) are left out.
fn imported_modules(relative_path: &str, source: &str) -> std::collections::BTreeSet<String> {
    let module_path = module_path_of(relative_path);
    let tokens = without_inline_test_modules(tokens(source));
    let mut imported = std::collections::BTreeSet::new();
    let mut add = |name: &str| {
        if name != module_path[0] && name.starts_with(|c: char| c.is_ascii_lowercase()) && name != "self" {
            imported.insert(name.to_owned());
        }
    };
    for token_idx in 0..tokens.len() {
        let at = |offset: usize| tokens.get(token_idx + offset).map(String::as_str);
        let previous = token_idx.checked_sub(1).map(|before| tokens[before].as_str());
        // Where the domain's root is reached, the index of the segment that names a module.
        let after_root = if at(0) == Some("crate") && at(1) == Some("::") && at(2) == Some("domain") {
            (at(3) == Some("::")).then_some(token_idx + 4)
        } else if at(0) == Some("super") && previous != Some("::") {
            let mut n_supers = 0;
            while at(2 * n_supers) == Some("super") && at(2 * n_supers + 1) == Some("::") {
                n_supers += 1;
            }
            (n_supers == module_path.len()).then_some(token_idx + 2 * n_supers)
        } else {
            None
        };
        let Some(segment_idx) = after_root else { continue };
        match tokens.get(segment_idx).map(String::as_str) {
            Some("{") => grouped_first_segments(&tokens, segment_idx).into_iter().for_each(&mut add),
            Some(name) => add(name),
            None => {}
        }
    }
    imported
}

/// `coverage.rs` is `[coverage]`, `recurrence/mod.rs` is `[recurrence]`, `roster/shift.rs` is
/// `[roster, shift]`: how many `super`s lead from the file back to the domain.
fn module_path_of(relative_path: &str) -> Vec<String> {
    let without_extension = relative_path.strip_suffix(".rs").unwrap_or(relative_path);
    let without_mod = without_extension.strip_suffix("/mod").unwrap_or(without_extension);
    without_mod.split('/').map(str::to_owned).collect()
}

/// A cycle of imports, as the modules along it (the first repeated at the end), if any.
fn import_cycle(imports: &ModuleImports) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        imports: &ModuleImports,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|on_path| on_path == module) {
            let mut cycle = path[start..].to_vec();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for imported in imports.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(imported, imports, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    imports.keys().find_map(|module| visit(module, imports, &mut Vec::new(), &mut done))
}

/// Files that only tests compile: they may import anything.
fn is_test_only(relative_path: &str) -> bool {
    relative_path.ends_with("tests.rs") || relative_path == "fixtures.rs"
}

#[test]
fn imports_between_domain_modules_run_one_way_without_a_cycle() {
    let domain = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut files = Vec::new();
    rust_files(&domain, &mut files);
    let mut imports: ModuleImports = std::collections::BTreeMap::new();
    for file in &files {
        let relative_path = file.strip_prefix(&domain).expect("under src/domain").to_string_lossy().replace('\\', "/");
        if is_test_only(&relative_path) || relative_path == "mod.rs" {
            continue;
        }
        let source = std::fs::read_to_string(file).expect("a readable source file");
        let module = module_path_of(&relative_path).remove(0);
        imports.entry(module).or_default().extend(imported_modules(&relative_path, &source));
    }
    assert!(imports.len() > 10, "the domain's modules are found ({})", imports.len());
    assert!(imports["decision"].contains("snapshot"), "imports are read: {imports:?}");
    if let Some(cycle) = import_cycle(&imports) {
        panic!("domain modules import each other in a circle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_import_scan_names_every_domain_module_a_file_reaches() {
    let cases: [(&str, &str, &[&str]); 9] = [
        ("coverage.rs", "use super::eligibility::{piece_covers, ShiftPiece};", &["eligibility"]),
        ("coverage.rs", "use super::{interval::Interval, snapshot};", &["interval", "snapshot"]),
        ("coverage.rs", "pub country: super::country::Country,", &["country"]),
        ("coverage.rs", "use crate::domain::timeline::StaffingIndex;", &["timeline"]),
        ("roster/shift.rs", "use super::check_id; use super::super::interval::Interval;", &["interval"]),
        ("recurrence/mod.rs", "mod periodic; use super::time::Zone; use periodic::PeriodicRule;", &["time"]),
        ("timeline.rs", "use super::timeline::EligibilityClass; use std::sync::Arc;", &[]),
        ("timeline.rs", "#[cfg(test)]\nmod tests { use crate::domain::coverage::on_shift; }", &[]),
        ("decision.rs", "// use super::coverage::x;\nlet s = \"super::timeline\";", &[]),
    ];
    for (relative_path, source, expected) in cases {
        let found: Vec<String> = imported_modules(relative_path, source).into_iter().collect();
        assert_eq!(found, expected, "{relative_path}: {source}");
    }
}

#[test]
fn a_cycle_is_found_however_long_and_only_when_there_is_one() {
    let graph = |edges: ImportEdges| {
        let mut imports: ModuleImports = std::collections::BTreeMap::new();
        for (from, to) in edges {
            imports.entry((*from).to_owned()).or_default().insert((*to).to_owned());
            imports.entry((*to).to_owned()).or_default();
        }
        imports
    };
    let cases: [(ImportEdges, Option<&[&str]>); 4] = [
        (&[("a", "b"), ("b", "c"), ("a", "c")], None),
        (&[("a", "b"), ("b", "a")], Some(&["a", "b", "a"])),
        (&[("c", "e"), ("e", "s"), ("s", "t"), ("t", "c")], Some(&["c", "e", "s", "t", "c"])),
        (&[], None),
    ];
    for (edges, expected) in cases {
        let expected = expected.map(|cycle| cycle.iter().map(|module| (*module).to_owned()).collect::<Vec<_>>());
        assert_eq!(import_cycle(&graph(edges)), expected, "{edges:?}");
    }
}
