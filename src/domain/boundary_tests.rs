//! The domain's boundary, checked on its source: no file under `src/domain` names another layer
//! of the crate, a crate for I/O, transport or storage, or the system clock, by a `use` or by a
//! fully qualified path. Comments and string literals are left out of the scan.

/// Crates and std modules the domain may not use, as the first segment of a path (`tonic::`,
/// `::tokio::`) or a `use` of them.
const FORBIDDEN_ROOTS: [&str; 9] =
    ["tonic", "prost", "prost_types", "diesel", "tokio", "hyper", "http", "tower", "arc_swap"];
/// Layers of this crate the domain may not reach (`crate::storage`).
const FORBIDDEN_LAYERS: [&str; 9] =
    ["app", "storage", "transport", "startup", "config", "clock", "client", "loadgen", "pb"];
/// Paths that do I/O or read the clock, wherever they are written (`Instant` is the domain's
/// name for a UTC timestamp).
const FORBIDDEN_PATHS: [&[&str]; 9] = [
    &["std", "fs"],
    &["std", "net"],
    &["std", "process"],
    &["SystemTime", "now"],
    &["Timestamp", "now"],
    &["Instant", "now"],
    &["Zoned", "now"],
    &["Utc", "now"],
    &["Local", "now"],
];

/// The code of a Rust file without its comments and its string and character literals,
/// as a list of tokens: identifiers, and `::` and other punctuation one character each.
fn tokens(source: &str) -> Vec<String> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut idx = 0;
    while idx < bytes.len() {
        let rest = &source[idx..];
        if rest.starts_with("//") {
            idx += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            idx += block_comment_len(rest);
        } else if let Some(after_prefix) = raw_string_hashes(rest) {
            let (n_hashes, opening_len) = after_prefix;
            let closing = format!("\"{}", "#".repeat(n_hashes));
            idx += opening_len + rest[opening_len..].find(&closing).map_or(rest.len(), |end| end + closing.len());
        } else if bytes[idx] == b'"' || rest.starts_with("b\"") {
            let mut end = idx + if bytes[idx] == b'"' { 1 } else { 2 };
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            idx = end + 1;
        } else if bytes[idx] == b'\'' {
            // A character literal ('x', '\n', '"') or a lifetime ('a).
            let literal_len = match (bytes.get(idx + 1), bytes.get(idx + 2)) {
                // An escape: the quote closing it comes after the escaped character.
                (Some(b'\\'), Some(_)) => rest.get(3..).and_then(|after| after.find('\'')).map(|end| end + 4),
                (Some(_), _) => rest.char_indices().nth(2).filter(|(_, c)| *c == '\'').map(|(end, _)| end + 1),
                _ => None,
            };
            idx += literal_len.unwrap_or(1);
        } else if bytes[idx].is_ascii_alphabetic() || bytes[idx] == b'_' {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            tokens.push(rest[..end].to_owned());
            idx += end;
        } else if let Some(punctuation) =
            ["::", "->", "=>"].into_iter().find(|punctuation| rest.starts_with(punctuation))
        {
            tokens.push(punctuation.to_owned());
            idx += 2;
        } else {
            let character = rest.chars().next().expect("not at the end");
            if !character.is_whitespace() {
                tokens.push(character.to_string());
            }
            idx += character.len_utf8();
        }
    }
    tokens
}

/// The length of the block comment `rest` starts with; block comments nest.
fn block_comment_len(rest: &str) -> usize {
    let (mut depth, mut idx) = (0usize, 0);
    while idx < rest.len() {
        if rest[idx..].starts_with("/*") {
            depth += 1;
            idx += 2;
        } else if rest[idx..].starts_with("*/") {
            depth -= 1;
            idx += 2;
            if depth == 0 {
                return idx;
            }
        } else {
            idx += rest[idx..].chars().next().map_or(1, char::len_utf8);
        }
    }
    rest.len()
}

/// For a raw string's opening (`r"`, `r#"`, `br##"`), its number of hashes and its length.
fn raw_string_hashes(rest: &str) -> Option<(usize, usize)> {
    let after_b = rest.strip_prefix('b').unwrap_or(rest);
    let after_r = after_b.strip_prefix('r')?;
    let n_hashes = after_r.len() - after_r.trim_start_matches('#').len();
    after_r[n_hashes..].starts_with('"').then(|| (n_hashes, rest.len() - after_r.len() + n_hashes + 1))
}

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
            let mut depth = 0;
            for (offset, grouped) in tokens[token_idx + 2..].iter().enumerate() {
                match grouped.as_str() {
                    "{" => depth += 1,
                    "}" => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    name if depth == 1 => {
                        let opens_item = matches!(tokens[token_idx + 2 + offset - 1].as_str(), "{" | ",");
                        let forbidden = match token.as_str() {
                            "std" => ["fs", "net", "process"].contains(&name),
                            _ => FORBIDDEN_LAYERS.contains(&name),
                        };
                        if opens_item && forbidden {
                            found.push(format!("{token}::{{{name}}}"));
                        }
                    }
                    _ => {}
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

fn rust_files(directory: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("a readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
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
    let cases: [(&str, &[&str]); 19] = [
        ("use std::{fs, net};", &["std::{fs}", "std::{net}"]),
        ("use crate::{domain::time::Instant, storage::Store};", &["crate::{storage}"]),
        ("use super::super::app::App;", &["super::app"]),
        ("let now = Instant::now();", &["Instant::now"]),
        ("let c = matches!(x, '\\'' | '\"'); use tokio::spawn;", &["tokio::"]),
        ("/* outer /* inner */ tokio::spawn */ let y = 2;", &[]),
        ("/*/ tonic::x */ let z = 3;", &[]),
        ("use tonic::Status;", &["tonic::"]),
        ("use tokio;", &["use tokio"]),
        ("fn f() -> ::diesel::QueryResult<()> { todo!() }", &["diesel::"]),
        ("let s = tonic::Status::internal(\"x\");", &["tonic::"]),
        ("use crate::storage::Store;", &["crate::storage"]),
        ("use super::app::App;", &["super::app"]),
        ("let t = jiff::Timestamp::now();", &["Timestamp::now"]),
        ("let f = std::fs::read(\"a\");", &["std::fs"]),
        ("// use tonic::Status;\n/* tokio::spawn */ let x = 1;", &[]),
        ("let s = \"tonic::Status and crate::storage\"; let c = '\"'; let r = r#\"tokio::x\"#;", &[]),
        ("fn f<'a>(x: &'a str) -> &'a str { x } use crate::domain::time::Instant;", &[]),
        ("let http_status = my::http::value;", &[]),
    ];
    for (source, expected) in cases {
        assert_eq!(crossings(source, true), expected, "{source}");
    }
}
