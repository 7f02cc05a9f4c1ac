//! Reading the crate's own source as tokens, for the tests that hold its layers apart
//! (`layers_tests`, `domain::boundary_tests`): comments and string literals are left out, so
//! that only code counts.

use std::path::{Path, PathBuf};

/// The code of a Rust file without its comments and its string and character literals,
/// as a list of tokens: identifiers, and `::` and other punctuation one character each.
pub fn tokens(source: &str) -> Vec<String> {
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

/// Every `.rs` file under `directory`, at any depth.
pub fn rust_files(directory: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("a readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

/// Tokens without the bodies of `#[cfg(test)] mod name { .. }`: a test may reach any module.
pub fn without_inline_test_modules(tokens: Vec<String>) -> Vec<String> {
    let test_attribute = ["#", "[", "cfg", "(", "test", ")", "]", "mod"];
    let mut kept = Vec::with_capacity(tokens.len());
    let mut token_idx = 0;
    while token_idx < tokens.len() {
        let opens_test_module = tokens[token_idx..].starts_with(&test_attribute.map(str::to_owned))
            && tokens.get(token_idx + test_attribute.len() + 1).is_some_and(|token| token == "{");
        if !opens_test_module {
            kept.push(tokens[token_idx].clone());
            token_idx += 1;
            continue;
        }
        let mut depth = 0;
        token_idx += test_attribute.len() + 1;
        while token_idx < tokens.len() {
            match tokens[token_idx].as_str() {
                "{" => depth += 1,
                "}" => depth -= 1,
                _ => {}
            }
            token_idx += 1;
            if depth == 0 {
                break;
            }
        }
    }
    kept
}

/// The first segment of each item of the group that opens at `open_idx` (a `{` token):
/// `{storage::Store, domain, self}` gives `storage`, `domain` and `self`.
pub fn grouped_first_segments(tokens: &[String], open_idx: usize) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut depth = 0;
    for (offset, grouped) in tokens[open_idx..].iter().enumerate() {
        match grouped.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            name if depth == 1 && matches!(tokens[open_idx + offset - 1].as_str(), "{" | ",") => segments.push(name),
            _ => {}
        }
    }
    segments
}
