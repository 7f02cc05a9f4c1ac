//! The one place use-case errors become gRPC statuses.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::app::AppError;
use crate::domain::validation::FieldViolation;

/// Longest text sent for one field path or description, in characters and in UTF-8 bytes
/// (before the `...` that marks a cut): statuses travel in HTTP/2 trailers, and a caller's
/// 5,000-character value echoed back would overflow them.
const MAX_TEXT_CHARS: usize = 200;
const MAX_TEXT_BYTES: usize = 240;
/// Most violations sent in one status.
const MAX_VIOLATIONS_SENT: usize = 50;
/// Most violations summarised in the message.
const MAX_VIOLATIONS_SUMMARISED: usize = 5;
/// What a status may take of the trailers once encoded: the message percent-encoded, and the
/// details (a `google.rpc.Status` holding the message again, raw, and the `BadRequest`)
/// base64-encoded. grpc-core (Python, C++, Ruby, C#) and grpc-java refuse metadata over 8 KB by
/// default and lose the whole status, so the two together stay well under.
const MAX_MESSAGE_BYTES: usize = 400;
const MAX_ENCODED_MESSAGE_BYTES: usize = 1_200;
const MAX_ENCODED_DETAILS_BYTES: usize = 4_096;
/// The details' framing: the status code, the `Any` type URL, lengths.
const DETAILS_FRAMING_BYTES: usize = 96;

/// `text` cut to `MAX_TEXT_CHARS` characters and `MAX_TEXT_BYTES` bytes, marked when cut.
fn shortened(text: &str) -> String {
    let mut cut = text.len();
    for (n_chars, (byte_idx, character)) in text.char_indices().enumerate() {
        if n_chars == MAX_TEXT_CHARS || byte_idx + character.len_utf8() > MAX_TEXT_BYTES {
            cut = byte_idx;
            break;
        }
    }
    if cut == text.len() {
        text.to_owned()
    } else {
        format!("{}...", &text[..cut])
    }
}

/// `text` cut on a character boundary so that it, and "..." after it, take at most `max_bytes`
/// raw and `max_encoded_bytes` percent-encoded.
fn cut_to(text: &str, max_bytes: usize, max_encoded_bytes: usize) -> String {
    let (mut n_bytes, mut n_encoded) = (3, 3);
    let mut cut = 0;
    for (byte_idx, character) in text.char_indices() {
        let mut buffer = [0u8; 4];
        let encoded = percent_encoded_len(character.encode_utf8(&mut buffer));
        if n_bytes + character.len_utf8() > max_bytes || n_encoded + encoded > max_encoded_bytes {
            break;
        }
        n_bytes += character.len_utf8();
        n_encoded += encoded;
        cut = byte_idx + character.len_utf8();
    }
    format!("{}...", &text[..cut])
}

/// The length of `text` in `grpc-message` at most: every byte that tonic may percent-encode
/// (anything but ASCII letters, digits and a few marks) counted as three.
fn percent_encoded_len(text: &str) -> usize {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() || b"-_.~:;,()[]=+*/'!".contains(&byte) { 1 } else { 3 })
        .sum()
}

/// The length of `n_bytes` in base64, as `grpc-status-details-bin` carries them.
fn base64_len(n_bytes: usize) -> usize {
    n_bytes.div_ceil(3) * 4
}

/// INVALID_ARGUMENT with a `google.rpc.BadRequest` naming each field, bounded however many
/// violations there are and however long the values they echo: the first violations in full
/// (shortened texts), as many as fit, and a count of the rest in the message.
pub fn invalid(violations: Vec<FieldViolation>) -> Status {
    let n_violations = violations.len();
    let mut sent: Vec<FieldViolation> = Vec::new();
    // Each violation costs its texts and a few bytes of protobuf framing; the message is
    // carried in the details too.
    let mut details_bytes = DETAILS_FRAMING_BYTES + MAX_MESSAGE_BYTES;
    for violation in violations.into_iter().take(MAX_VIOLATIONS_SENT) {
        let shortened = FieldViolation::new(shortened(&violation.field), shortened(&violation.description));
        let cost = shortened.field.len() + shortened.description.len() + 12;
        if base64_len(details_bytes + cost) > MAX_ENCODED_DETAILS_BYTES {
            break;
        }
        details_bytes += cost;
        sent.push(shortened);
    }
    let mut summary: Vec<String> = Vec::new();
    let (mut message_bytes, mut encoded_message_bytes) = (0, 0);
    for violation in sent.iter().take(MAX_VIOLATIONS_SUMMARISED) {
        let part = format!("{}: {}", violation.field, violation.description);
        // Room is kept for the count of the rest (ASCII, under 96 bytes).
        let fits = message_bytes + part.len() + 2 <= MAX_MESSAGE_BYTES - 96
            && encoded_message_bytes + percent_encoded_len(&part) + 2 <= MAX_ENCODED_MESSAGE_BYTES - 96;
        if !fits {
            // The first violation is always named, cut to the room there is.
            if summary.is_empty() {
                summary.push(cut_to(&part, MAX_MESSAGE_BYTES - 96, MAX_ENCODED_MESSAGE_BYTES - 96));
            }
            break;
        }
        message_bytes += part.len() + 2;
        encoded_message_bytes += percent_encoded_len(&part) + 2;
        summary.push(part);
    }
    if n_violations > summary.len() {
        summary.push(format!("and {} more", n_violations - summary.len()));
    }
    if sent.len() < n_violations {
        summary.push(format!("the details list the first {} of {n_violations}", sent.len()));
    }
    let details = ErrorDetails::with_bad_request(
        sent.into_iter()
            .map(|violation| tonic_types::FieldViolation::new(violation.field, violation.description))
            .collect::<Vec<_>>(),
    );
    Status::with_error_details(Code::InvalidArgument, summary.join("; "), details)
}

/// An identifier the call cannot do without: present, and shaped as stored IDs are (an ID no
/// entity can have is a bad argument, not a missing entity).
pub fn required_id(field: &str, value: &str) -> Result<(), Status> {
    let mut violations = crate::domain::validation::Violations::default();
    crate::domain::validation::check_id(&mut violations, field, value);
    if violations.0.is_empty() {
        Ok(())
    } else {
        Err(invalid(violations.0))
    }
}

pub fn invalid_field(field: &str, description: &str) -> Status {
    invalid(vec![FieldViolation::new(field, description)])
}

/// Maps a use-case error. Internal errors are logged here, once, and the client sees no detail.
/// Every variant has an arm of its own, so a new one must be mapped before the build passes.
#[deny(clippy::wildcard_enum_match_arm)]
/// The most violations a refusal's status carries.
const MAX_REFUSAL_VIOLATIONS: usize = 10;

pub fn to_status(error: AppError) -> Status {
    match error {
        AppError::Invalid(violations) => invalid(violations),
        AppError::NotFound { entity, id, field } => {
            // The ID is echoed shortened: statuses travel in HTTP/2 headers.
            let id = shortened(&id);
            let details =
                ErrorDetails::with_resource_info(entity, id.clone(), "", format!("no {entity} with this ID ({field})"));
            Status::with_error_details(Code::NotFound, format!("{field}: {entity} {id:?} not found"), details)
        }
        AppError::Refused(refusal) => {
            // At most a few violations: the details travel in a header.
            let violations: Vec<_> = refusal
                .violations
                .iter()
                .take(MAX_REFUSAL_VIOLATIONS)
                .map(|(subject, description)| {
                    tonic_types::PreconditionViolation::new(refusal.kind, shortened(subject), shortened(description))
                })
                .collect();
            let details = ErrorDetails::with_precondition_failure(violations);
            Status::with_error_details(Code::FailedPrecondition, shortened(&refusal.summary), details)
        }
        AppError::OwnedElsewhere { field, description } => {
            let (field, description) = (shortened(&field), shortened(&description));
            let details = ErrorDetails::with_precondition_failure(vec![tonic_types::PreconditionViolation::new(
                "SOURCE_OWNED",
                field.clone(),
                description.clone(),
            )]);
            Status::with_error_details(Code::FailedPrecondition, format!("{field}: {description}"), details)
        }
        AppError::Conflict(message) => {
            tracing::info!(error = %message, "write refused by a concurrent one");
            Status::aborted("a concurrent write took one of these IDs first; retry to see the current state")
        }
        AppError::Incomplete(incomplete) => {
            let crate::domain::sync::IncompleteSync { declared, received } = incomplete;
            let details = ErrorDetails::with_error_info(
                "SYNC_INCOMPLETE",
                "eeacoverage.v1",
                [
                    ("declared_shift_count".to_owned(), declared.n_shifts.to_string()),
                    ("declared_time_off_count".to_owned(), declared.n_time_off.to_string()),
                    ("received_shift_count".to_owned(), received.n_shifts.to_string()),
                    ("received_time_off_count".to_owned(), received.n_time_off.to_string()),
                    ("declared_agent_count".to_owned(), declared.n_agents.to_string()),
                    ("received_agent_count".to_owned(), received.n_agents.to_string()),
                ],
            );
            Status::with_error_details(
                Code::Aborted,
                format!("end: {incomplete}; nothing was written, send the whole sync again"),
                details,
            )
        }
        AppError::CallerGone => Status::cancelled("the call ended before its write committed; nothing was written"),
        AppError::Unavailable { message, source } => {
            tracing::warn!(error = %message, error.causes = cause_chain(source.as_deref()).as_deref(), "database unavailable");
            Status::unavailable("the database is unavailable; retry later")
        }
        AppError::Internal { message, source } => {
            tracing::error!(error = %message, error.causes = cause_chain(source.as_deref()).as_deref(), "internal error");
            Status::internal("internal error")
        }
    }
}

/// The causes of a logged error, outermost first, each as it reads itself; `None` when it has
/// none (the log line then stays as it always was).
fn cause_chain(source: Option<&(dyn std::error::Error + Send + Sync + 'static)>) -> Option<String> {
    let source: &(dyn std::error::Error + 'static) = source?;
    let causes: Vec<String> =
        std::iter::successors(Some(source), |cause| cause.source()).map(ToString::to_string).collect();
    Some(causes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the status takes of the trailers, as a client counts it: each entry's name and
    /// encoded value, plus 32 bytes (RFC 7541's per-entry overhead).
    fn trailer_bytes(status: Status) -> usize {
        let response = status.into_http::<()>();
        response.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 32).sum()
    }

    fn violations(n_violations: usize, value: &str) -> Vec<FieldViolation> {
        (0..n_violations)
            .map(|entry_idx| {
                FieldViolation::new(format!("agents[{entry_idx}].country"), format!("{value:?} is not a country"))
            })
            .collect()
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_logged_error_shows_every_cause_outermost_first() {
        assert_eq!(cause_chain(None), None);
        let outer = Outer(std::io::Error::other("disk gone"));
        assert_eq!(cause_chain(Some(&outer)).as_deref(), Some("outer failed; disk gone"));
    }

    #[test]
    fn a_rejection_stays_well_under_8_kb_however_long_and_many_its_violations() {
        for letter in ["a", "ü", "€", "𝔘", "%"] {
            for n_violations in [1, 5, 20, 50, 500] {
                let status = invalid(violations(n_violations, &letter.repeat(5_000)));
                let bytes = trailer_bytes(status.clone());
                assert!(bytes < 6 * 1024, "{n_violations} violations of {letter:?}: {bytes} bytes");
                let details = tonic_types::StatusExt::get_details_bad_request(&status).expect("BadRequest details");
                assert!(!details.field_violations.is_empty(), "at least the first violation is sent");
                assert_eq!(details.field_violations[0].field, "agents[0].country");
                let n_sent = details.field_violations.len();
                if n_sent < n_violations {
                    let counted = format!("the details list the first {n_sent} of {n_violations}");
                    assert!(status.message().contains(&counted), "{}", status.message());
                }
            }
        }
    }

    #[test]
    fn the_first_violation_is_named_in_the_message_even_when_long() {
        let status = invalid(violations(3, &"ü".repeat(300)));
        assert!(status.message().starts_with("agents[0].country: \"üü"), "{}", status.message());
        assert!(status.message().ends_with("...; and 2 more"), "{}", status.message());
        assert!(status.message().len() <= MAX_MESSAGE_BYTES);
    }

    #[test]
    fn short_violations_are_sent_whole() {
        let status = invalid(vec![FieldViolation::new("agents[2].country", "\"XX\" is not a country")]);
        assert_eq!(status.message(), "agents[2].country: \"XX\" is not a country");
        let details = tonic_types::StatusExt::get_details_bad_request(&status).unwrap();
        assert_eq!(details.field_violations[0].description, "\"XX\" is not a country");
    }

    #[test]
    fn texts_are_cut_by_characters_and_bytes_on_a_character_boundary() {
        assert_eq!(shortened("plain"), "plain");
        assert_eq!(shortened(&"a".repeat(200)), "a".repeat(200));
        assert_eq!(shortened(&"a".repeat(201)), format!("{}...", "a".repeat(200)));
        assert_eq!(shortened(&"ü".repeat(200)), format!("{}...", "ü".repeat(120)));
        assert_eq!(shortened(&"𝔘".repeat(100)), format!("{}...", "𝔘".repeat(60)));
        assert_eq!(percent_encoded_len("a%ü"), 1 + 3 + 6);
        assert_eq!(percent_encoded_len("a b\""), 1 + 3 + 1 + 3);
    }
}
