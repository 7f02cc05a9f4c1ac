//! AIP-158 pagination: `page_size` (0 means the default) and an opaque `page_token` that carries
//! the last key returned.

use tonic::Status;

use super::status::invalid_field;
use crate::app::PageRequest;

pub const DEFAULT_PAGE_SIZE: usize = 100;
pub const MAX_PAGE_SIZE: usize = 1_000;

pub fn page_request(page_size: i32, page_token: &str) -> Result<PageRequest, Status> {
    let size = match page_size {
        0 => DEFAULT_PAGE_SIZE,
        negative if negative < 0 => return Err(invalid_field("page_size", "must not be negative")),
        positive => (positive as usize).min(MAX_PAGE_SIZE),
    };
    let after = if page_token.is_empty() {
        None
    } else {
        Some(decode(page_token).ok_or_else(|| invalid_field("page_token", "is not a token this service issued"))?)
    };
    Ok(PageRequest { size, after })
}

/// The token of the page after this one: empty when this page is the last.
pub fn next_page_token(next_after: Option<String>) -> String {
    next_after.map(|key| encode(&key)).unwrap_or_default()
}

const TOKEN_PREFIX: &str = "k1.";

fn encode(key: &str) -> String {
    let hex: String = key.bytes().map(|byte| format!("{byte:02x}")).collect();
    format!("{TOKEN_PREFIX}{hex}")
}

fn decode(token: &str) -> Option<String> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|idx| u8::from_str_radix(hex.get(idx..idx + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_foreign_ones_are_rejected() {
        assert_eq!(decode(&encode("agent-é/1")), Some("agent-é/1".to_owned()));
        assert!(page_request(10, "garbage").is_err());
        assert!(page_request(-1, "").is_err());
        assert_eq!(page_request(5000, "").unwrap().size, MAX_PAGE_SIZE);
    }

    #[test]
    fn the_next_token_names_the_last_key_or_is_empty_on_the_last_page() {
        assert_eq!(next_page_token(None), "");
        let token = next_page_token(Some("agent-3".to_owned()));
        assert_eq!(decode(&token), Some("agent-3".to_owned()));
        assert_eq!(page_request(10, &token).unwrap().after, Some("agent-3".to_owned()));
    }
}
