//! The manager's view of a coverage report: a terminal table, CSV, JSON and an SVG heat map.
//! Works on the wire type (`pb::CoverageReport`), as the `report` command receives it; local
//! times are Brussels wall time, the zone the policy's hours are written in.

use std::fmt::Write as _;

use crate::domain::time::{Instant, Zone};
use crate::pb;

/// Output formats of `eea-coverage report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Csv,
    Json,
    Svg,
}

impl std::str::FromStr for ReportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<ReportFormat, String> {
        match text {
            "table" => Ok(ReportFormat::Table),
            "csv" => Ok(ReportFormat::Csv),
            "json" => Ok(ReportFormat::Json),
            "svg" => Ok(ReportFormat::Svg),
            other => Err(format!("unknown format {other:?}: expected table, csv, json or svg")),
        }
    }
}

pub fn render(report: &pb::CoverageReport, format: ReportFormat) -> String {
    match format {
        ReportFormat::Table => table(report),
        ReportFormat::Csv => csv(report),
        ReportFormat::Json => json(report),
        ReportFormat::Svg => svg(report),
    }
}

fn instant(timestamp: &Option<prost_types::Timestamp>) -> Instant {
    timestamp
        .as_ref()
        .and_then(|timestamp| Instant::new(timestamp.seconds, timestamp.nanos).ok())
        .unwrap_or(Instant::UNIX_EPOCH)
}

fn utc(timestamp: &Option<prost_types::Timestamp>) -> String {
    instant(timestamp).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn local(timestamp: &Option<prost_types::Timestamp>, pattern: &str) -> String {
    Zone::brussels().format(instant(timestamp), pattern)
}

fn plan_name(plan: i32) -> &'static str {
    match pb::Plan::try_from(plan).unwrap_or(pb::Plan::Unspecified) {
        pb::Plan::Standard => "STANDARD",
        pb::Plan::EeaOnly => "EEA_ONLY",
        pb::Plan::Unspecified => "UNSPECIFIED",
    }
}

fn severity_name(severity: i32) -> String {
    match pb::Severity::try_from(severity).unwrap_or(pb::Severity::Unspecified) {
        pb::Severity::Unspecified => "Sev?".to_owned(),
        known => format!("Sev{}", known as i32),
    }
}

fn cause_name(cause: i32) -> &'static str {
    match pb::GapCause::try_from(cause).unwrap_or(pb::GapCause::Unspecified) {
        pb::GapCause::BelowMinimum => "below minimum",
        pb::GapCause::StaffOnTimeOff => "staff on time off",
        pb::GapCause::OnlyIneligibleStaff => "only ineligible staff",
        pb::GapCause::NoOneScheduled => "no one scheduled",
        pb::GapCause::Unspecified => "unknown",
    }
}

fn cause_code(cause: i32) -> &'static str {
    pb::GapCause::try_from(cause).unwrap_or(pb::GapCause::Unspecified).as_str_name()
}

/// `1d 02h 30m`, `15h 00m` or `45m 10s`: exact to the second.
pub fn duration_text(total_seconds: i64) -> String {
    let (days, rest) = (total_seconds / 86_400, total_seconds % 86_400);
    let (hours, rest) = (rest / 3_600, rest % 3_600);
    let (minutes, seconds) = (rest / 60, rest % 60);
    match (days, hours, seconds) {
        (0, 0, _) => format!("{minutes}m {seconds:02}s"),
        (0, _, 0) => format!("{hours}h {minutes:02}m"),
        (0, _, _) => format!("{hours}h {minutes:02}m {seconds:02}s"),
        _ => format!("{days}d {hours:02}h {minutes:02}m"),
    }
}

fn seconds_between(starts_at: &Option<prost_types::Timestamp>, ends_at: &Option<prost_types::Timestamp>) -> i64 {
    instant(ends_at).as_second() - instant(starts_at).as_second()
}

fn headline(report: &pb::CoverageReport) -> String {
    let audience = match (pb::Plan::try_from(report.plan), report.eea_tagged) {
        (Ok(pb::Plan::Standard), true) => ", EEA-tagged tickets",
        (Ok(pb::Plan::Standard), false) => ", untagged tickets",
        _ => "",
    };
    format!("Coverage of plan {}{audience}, at least {} eligible on shift", plan_name(report.plan), report.min_staff)
}

fn window_text(report: &pb::CoverageReport) -> String {
    format!(
        "{} to {} (Europe/Brussels)",
        local(&report.window_start, "%a %Y-%m-%d %H:%M %Z"),
        local(&report.window_end, "%a %Y-%m-%d %H:%M %Z")
    )
}

fn title(report: &pb::CoverageReport) -> String {
    format!("{}, {}", headline(report), window_text(report))
}

/// A readable table: one line per requirement, then every gap in Brussels time and UTC.
pub fn table(report: &pb::CoverageReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", title(report));
    let _ = writeln!(
        out,
        "tz database {}, policy {}, holiday calendar {}",
        report.tz_database_version, report.policy_version, report.holiday_calendar
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<12} {:<9} {:>13} {:>13} {:>9} {:>6} {:>6}",
        "Requirement", "Hours", "Required", "Covered", "Coverage", "Gaps", "Thin"
    );
    for requirement in &report.requirements {
        let _ = writeln!(
            out,
            "{:<12} {:<9} {:>13} {:>13} {:>8.1}% {:>6} {:>6}",
            severity_name(requirement.severity),
            requirement.hours,
            duration_text(requirement.required_seconds),
            duration_text(requirement.covered_seconds),
            requirement.coverage_ratio * 100.0,
            requirement.gaps.len(),
            requirement.thin.len()
        );
    }
    for requirement in report.requirements.iter().filter(|requirement| !requirement.gaps.is_empty()) {
        let _ = writeln!(out);
        let _ = writeln!(out, "{} gaps:", severity_name(requirement.severity));
        for gap in &requirement.gaps {
            let _ = writeln!(
                out,
                "  {} -> {}  ({} -> {})  {:>12}  {} ({} eligible)",
                local(&gap.starts_at, "%a %Y-%m-%d %H:%M %Z"),
                local(&gap.ends_at, "%a %Y-%m-%d %H:%M %Z"),
                utc(&gap.starts_at),
                utc(&gap.ends_at),
                duration_text(seconds_between(&gap.starts_at, &gap.ends_at)),
                cause_name(gap.cause),
                gap.eligible_on_shift
            );
        }
    }
    out
}

/// One CSV for spreadsheets: a `requirement` row per severity, then `gap` and `thin` rows.
pub fn csv(report: &pb::CoverageReport) -> String {
    let mut out = String::from(
        "record,severity,hours,starts_at_utc,ends_at_utc,starts_local,ends_local,duration_seconds,\
         eligible_on_shift,cause,required_seconds,covered_seconds,coverage_ratio\n",
    );
    let local_format = "%Y-%m-%dT%H:%M:%S%:z";
    for requirement in &report.requirements {
        let severity = severity_name(requirement.severity);
        let _ = writeln!(
            out,
            "requirement,{severity},{},{},{},{},{},{},,,{},{},{:.6}",
            requirement.hours,
            utc(&report.window_start),
            utc(&report.window_end),
            local(&report.window_start, local_format),
            local(&report.window_end, local_format),
            seconds_between(&report.window_start, &report.window_end),
            requirement.required_seconds,
            requirement.covered_seconds,
            requirement.coverage_ratio
        );
        for gap in &requirement.gaps {
            let _ = writeln!(
                out,
                "gap,{severity},{},{},{},{},{},{},{},{},,,",
                requirement.hours,
                utc(&gap.starts_at),
                utc(&gap.ends_at),
                local(&gap.starts_at, local_format),
                local(&gap.ends_at, local_format),
                seconds_between(&gap.starts_at, &gap.ends_at),
                gap.eligible_on_shift,
                cause_code(gap.cause)
            );
        }
        for thin in &requirement.thin {
            let _ = writeln!(
                out,
                "thin,{severity},{},{},{},{},{},{},{},,,,",
                requirement.hours,
                utc(&thin.starts_at),
                utc(&thin.ends_at),
                local(&thin.starts_at, local_format),
                local(&thin.ends_at, local_format),
                seconds_between(&thin.starts_at, &thin.ends_at),
                report.min_staff
            );
        }
    }
    out
}

/// The report as JSON, with instants in RFC 3339 UTC and enum names as in the proto.
pub fn json(report: &pb::CoverageReport) -> String {
    let span = |starts_at: &Option<prost_types::Timestamp>, ends_at: &Option<prost_types::Timestamp>| serde_json::json!({ "starts_at": utc(starts_at), "ends_at": utc(ends_at), "seconds": seconds_between(starts_at, ends_at) });
    let requirements: Vec<serde_json::Value> = report
        .requirements
        .iter()
        .map(|requirement| {
            serde_json::json!({
                "severity": pb::Severity::try_from(requirement.severity).unwrap_or(pb::Severity::Unspecified).as_str_name(),
                "hours": requirement.hours,
                "required_seconds": requirement.required_seconds,
                "covered_seconds": requirement.covered_seconds,
                "coverage_ratio": requirement.coverage_ratio,
                "gaps": requirement.gaps.iter().map(|gap| {
                    let mut value = span(&gap.starts_at, &gap.ends_at);
                    value["eligible_on_shift"] = gap.eligible_on_shift.into();
                    value["cause"] = cause_code(gap.cause).into();
                    value
                }).collect::<Vec<_>>(),
                "thin": requirement.thin.iter().map(|thin| span(&thin.starts_at, &thin.ends_at)).collect::<Vec<_>>(),
                "hour_of_week": requirement.hour_of_week.iter().map(|cell| serde_json::json!({
                    "weekday": cell.weekday, "hour": cell.hour, "required": cell.required, "min_eligible": cell.min_eligible,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let value = serde_json::json!({
        "plan": pb::Plan::try_from(report.plan).unwrap_or(pb::Plan::Unspecified).as_str_name(),
        "eea_tagged": report.eea_tagged,
        "window_start": utc(&report.window_start),
        "window_end": utc(&report.window_end),
        "min_staff": report.min_staff,
        "tz_database_version": report.tz_database_version,
        "policy_version": report.policy_version,
        "holiday_calendar": report.holiday_calendar,
        "requirements": requirements,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
    text.push('\n');
    text
}

const CELL_WIDTH: i32 = 30;
const CELL_HEIGHT: i32 = 22;
const LEFT_MARGIN: i32 = 56;
const PANEL_GAP: i32 = 64;
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const NOT_REQUIRED: &str = "#e9e9e9";
const GAP_RED: &str = "#d7301f";
const THIN_AMBER: &str = "#fdae61";
const COVERED_GREENS: [&str; 4] = ["#d9f0a3", "#addd8e", "#78c679", "#31a354"];

fn cell_colour(cell: &pb::HourOfWeekCell, min_staff: i32) -> &'static str {
    if !cell.required {
        NOT_REQUIRED
    } else if cell.min_eligible < min_staff {
        GAP_RED
    } else if cell.min_eligible == min_staff {
        THIN_AMBER
    } else {
        let surplus = (cell.min_eligible - min_staff - 1).clamp(0, COVERED_GREENS.len() as i32 - 1);
        COVERED_GREENS[surplus as usize]
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A week-by-hour heat map per requirement: each cell is the lowest eligible headcount in that
/// Brussels hour across the window; red cells hold a gap.
pub fn svg(report: &pb::CoverageReport) -> String {
    let grid_width = 24 * CELL_WIDTH;
    let panel_height = 7 * CELL_HEIGHT + PANEL_GAP;
    let width = LEFT_MARGIN + grid_width + 24;
    let legend_top = 84 + report.requirements.len() as i32 * panel_height;
    let height = legend_top + 60;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">"#
    );
    let _ = writeln!(out, r#"<rect width="{width}" height="{height}" fill="white"/>"#);
    let _ =
        writeln!(out, r#"<text x="16" y="26" font-size="16" font-weight="bold">{}</text>"#, escape(&headline(report)));
    let _ = writeln!(out, r#"<text x="16" y="46" font-size="13">{}</text>"#, escape(&window_text(report)));
    let _ = writeln!(
        out,
        r##"<text x="16" y="64" font-size="11" fill="#444">Each cell: the lowest eligible headcount in that hour of the week (Brussels time) across the window. tz database {}, policy {}</text>"##,
        escape(&report.tz_database_version),
        escape(&report.policy_version)
    );
    for (panel_idx, requirement) in report.requirements.iter().enumerate() {
        let top = 84 + panel_idx as i32 * panel_height;
        let _ = writeln!(
            out,
            r#"<text x="16" y="{}" font-size="14" font-weight="bold">{} ({}): {:.1}% covered, {} gaps</text>"#,
            top + 14,
            severity_name(requirement.severity),
            escape(&requirement.hours),
            requirement.coverage_ratio * 100.0,
            requirement.gaps.len()
        );
        let grid_top = top + 34;
        for hour in 0..24 {
            let _ = writeln!(
                out,
                r##"<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#555">{hour:02}</text>"##,
                LEFT_MARGIN + hour * CELL_WIDTH + CELL_WIDTH / 2,
                grid_top - 3
            );
        }
        for (weekday_idx, weekday) in WEEKDAYS.iter().enumerate() {
            let _ = writeln!(
                out,
                r##"<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#333">{weekday}</text>"##,
                LEFT_MARGIN - 6,
                grid_top + weekday_idx as i32 * CELL_HEIGHT + CELL_HEIGHT / 2 + 4
            );
        }
        for cell in &requirement.hour_of_week {
            let (x, y) = (LEFT_MARGIN + cell.hour * CELL_WIDTH, grid_top + (cell.weekday - 1) * CELL_HEIGHT);
            let colour = cell_colour(cell, report.min_staff);
            let label = if cell.required { cell.min_eligible.to_string() } else { String::new() };
            let _ = writeln!(
                out,
                r#"<rect x="{x}" y="{y}" width="{CELL_WIDTH}" height="{CELL_HEIGHT}" fill="{colour}" stroke="white"><title>{} {:02}:00 {}</title></rect>"#,
                WEEKDAYS[(cell.weekday - 1).clamp(0, 6) as usize],
                cell.hour,
                if cell.required {
                    format!("lowest eligible headcount {}", cell.min_eligible)
                } else {
                    "not required".to_owned()
                }
            );
            if !label.is_empty() {
                let text_colour = if colour == GAP_RED { "white" } else { "#222" };
                let _ = writeln!(
                    out,
                    r#"<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="{text_colour}">{label}</text>"#,
                    x + CELL_WIDTH / 2,
                    y + CELL_HEIGHT / 2 + 4
                );
            }
        }
    }
    let legend = [
        (GAP_RED, format!("gap: fewer than {}", report.min_staff)),
        (THIN_AMBER, format!("thin: exactly {}", report.min_staff)),
        (COVERED_GREENS[0], format!("{}", report.min_staff + 1)),
        (COVERED_GREENS[1], format!("{}", report.min_staff + 2)),
        (COVERED_GREENS[2], format!("{}", report.min_staff + 3)),
        (COVERED_GREENS[3], format!("{} or more", report.min_staff + 4)),
        (NOT_REQUIRED, "not required".to_owned()),
    ];
    let mut x = 16;
    for (colour, text) in legend {
        let _ =
            writeln!(out, r##"<rect x="{x}" y="{legend_top}" width="18" height="14" fill="{colour}" stroke="#999"/>"##);
        let _ =
            writeln!(out, r#"<text x="{}" y="{}" font-size="12">{}</text>"#, x + 24, legend_top + 12, escape(&text));
        x += 34 + 8 * text.len() as i32;
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests;
