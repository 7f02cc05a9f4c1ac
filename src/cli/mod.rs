//! The client side of the binary: the commands that talk to a running server over gRPC
//! (`report`, `deadline`, `watch`, `import`, `load`, `console`, and the everyday commands of `everyday`). The server never imports this module; what both sides need, such
//! as reading shift files and rendering reports, lives in `formats`.

pub mod connection;
pub mod console;
pub mod deadline;
pub mod everyday;
pub mod export;
pub mod import;
pub mod load;
pub mod report;
pub mod watch;

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

/// `--severity N`: 1 to 4.
pub(crate) fn severity(number: u8) -> Result<crate::pb::Severity, String> {
    use crate::pb::Severity;
    Ok(match number {
        1 => Severity::Severity1,
        2 => Severity::Severity2,
        3 => Severity::Severity3,
        4 => Severity::Severity4,
        other => return Err(format!("--severity {other}: expected 1 to 4")),
    })
}

/// `--category NAME`, as the kebab-case of the contract's names.
pub(crate) fn category(name: &str) -> Result<crate::pb::TicketCategory, String> {
    use crate::pb::TicketCategory;
    Ok(match name {
        "product-support" => TicketCategory::ProductSupport,
        "custom-application-support" => TicketCategory::CustomApplicationSupport,
        "professional-services" => TicketCategory::ProfessionalServices,
        "third-party" => TicketCategory::ThirdParty,
        "sub-processor" => TicketCategory::SubProcessor,
        other => return Err(format!("--category {other:?}: expected product-support, custom-application-support, professional-services, third-party or sub-processor")),
    })
}

/// An instant as RFC 3339 with its Brussels wall time: `2026-12-07T10:30:00Z (Mon 07 Dec 11:30
/// Brussels)`.
pub(crate) fn brussels_text(timestamp: &prost_types::Timestamp) -> String {
    match jiff::Timestamp::new(timestamp.seconds, timestamp.nanos) {
        Ok(instant) => {
            format!("{instant} ({} Brussels)", Zone::brussels().to_local(instant).strftime("%a %d %b %H:%M"))
        }
        Err(_) => "out of range".into(),
    }
}

/// `--plan NAME`: standard or eea-only.
pub(crate) fn plan(name: &str) -> Result<crate::pb::Plan, String> {
    use crate::pb::Plan;
    match name {
        "standard" | "STANDARD" | "PLAN_STANDARD" => Ok(Plan::Standard),
        "eea-only" | "eea_only" | "EEA_ONLY" | "PLAN_EEA_ONLY" => Ok(Plan::EeaOnly),
        other => Err(format!("--plan {other:?}: expected standard or eea-only")),
    }
}
