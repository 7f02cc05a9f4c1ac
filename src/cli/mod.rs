//! The client side of the binary: the commands that talk to a running server over gRPC
//! (`report`, `deadline`, `import`, `load`). The server never imports this module; what both sides need, such
//! as reading shift files and rendering reports, lives in `formats`.

pub mod connection;
pub mod deadline;
pub mod import;
pub mod load;
pub mod report;

use crate::domain::time::Zone;

/// A date is midnight in Brussels; anything else must be an RFC 3339 instant.
pub(crate) fn parse_when(flag: &str, text: &str) -> Result<prost_types::Timestamp, String> {
    // Only a bare YYYY-MM-DD is a date: the date parser would also accept a date-time and drop
    // its time.
    let bare_date = text.len() == 10 && !text.contains('T');
    let instant = match text.parse::<jiff::civil::Date>() {
        Ok(day) if bare_date => Zone::brussels().to_instant(day.to_datetime(jiff::civil::Time::midnight())),
        _ => text.parse::<jiff::Timestamp>().map_err(|_| {
            format!("{flag} {text:?} is neither a date (2026-12-01) nor an instant (2026-12-01T08:00:00Z)")
        })?,
    };
    Ok(prost_types::Timestamp { seconds: instant.as_second(), nanos: instant.subsec_nanosecond() })
}
