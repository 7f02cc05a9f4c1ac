//! The manager's view of a coverage report: a terminal table, CSV, JSON and an SVG heat map
//! (`heat_map`).
//! Works on the wire type (`pb::CoverageReport`), as the `report` command receives it; local
//! times are Brussels wall time, the zone the policy's hours are written in.

use std::fmt::Write as _;

use crate::domain::time::{Instant, Zone};
use crate::pb;

mod heat_map;
mod working_time;

pub use heat_map::svg;
pub use working_time::render_working_time;
use working_time::{warnings_json, warnings_table};

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

impl ReportFormat {
    /// The file name extension of a rendering in this format.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Table => "txt",
            ReportFormat::Csv => "csv",
            ReportFormat::Json => "json",
            ReportFormat::Svg => "svg",
        }
    }
}

/// The name of a file holding `report` rendered as `format`:
/// `coverage-<audience>-<from>-<to>.<extension>`, where the audience is `eea-only`,
/// `standard-eea-tagged` or `standard-untagged`, and each end of the window is its Brussels date
/// (`2026-12-07`) when it falls on a Brussels midnight, as `report --from 2026-12-07` asks, and
/// its UTC instant without separators (`20261207T103000Z`) otherwise. Only ASCII letters,
/// digits, `-` and `.`, so the name needs no quoting anywhere.
pub fn file_name(report: &pb::CoverageReport, format: ReportFormat) -> String {
    let audience = match (pb::Plan::try_from(report.plan).unwrap_or(pb::Plan::Unspecified), report.eea_tagged) {
        (pb::Plan::EeaOnly, _) => "eea-only",
        (pb::Plan::Standard, true) => "standard-eea-tagged",
        (pb::Plan::Standard, false) => "standard-untagged",
        (pb::Plan::Unspecified, _) => "unspecified",
    };
    format!(
        "coverage-{audience}-{}-{}.{}",
        file_name_instant(&report.window_start),
        file_name_instant(&report.window_end),
        format.extension()
    )
}

fn file_name_instant(timestamp: &Option<prost_types::Timestamp>) -> String {
    let instant = instant(timestamp);
    let brussels = Zone::brussels();
    if brussels.to_local(instant).time() == jiff::civil::Time::midnight() {
        brussels.format(instant, "%Y-%m-%d")
    } else {
        instant.strftime("%Y%m%dT%H%M%SZ").to_string()
    }
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
            write_gap_line(&mut out, gap);
        }
    }
    out
}

/// One gap of a table: Brussels time, then UTC, its length, cause and headcount.
fn write_gap_line(out: &mut String, gap: &pb::Gap) {
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

/// One CSV for spreadsheets: a `requirement` row per severity, then `gap` and `thin` rows.
pub fn csv(report: &pb::CoverageReport) -> String {
    let mut out = String::from(
        "record,severity,hours,starts_at_utc,ends_at_utc,starts_local,ends_local,duration_seconds,\
         eligible_on_shift,cause,required_seconds,covered_seconds,coverage_ratio\n",
    );
    for requirement in &report.requirements {
        let severity = severity_name(requirement.severity);
        let row = |out: &mut String, record: &str, span: String, rest: String| {
            let _ = writeln!(out, "{record},{severity},{},{span},{rest}", requirement.hours);
        };
        let rest = format!(
            ",,{},{},{:.6}",
            requirement.required_seconds, requirement.covered_seconds, requirement.coverage_ratio
        );
        row(&mut out, "requirement", span_columns(&report.window_start, &report.window_end), rest);
        for gap in &requirement.gaps {
            let rest = format!("{},{},,,", gap.eligible_on_shift, cause_code(gap.cause));
            row(&mut out, "gap", span_columns(&gap.starts_at, &gap.ends_at), rest);
        }
        for thin in &requirement.thin {
            row(&mut out, "thin", span_columns(&thin.starts_at, &thin.ends_at), format!("{},,,,", report.min_staff));
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

/// A simulation's answer (`report --what-if`): the report under the changes, rendered as
/// `format` renders a report, followed (except in an SVG) by the gaps the changes open and close
/// per requirement and the agents they touched.
pub fn render_simulation(simulation: &pb::SimulateCoverageResponse, format: ReportFormat) -> String {
    let empty = pb::CoverageReport::default();
    let report = simulation.report.as_ref().unwrap_or(&empty);
    match format {
        ReportFormat::Table => table(report) + &gap_changes_table(simulation),
        ReportFormat::Csv => csv(report) + "\n" + &gap_changes_csv(simulation),
        ReportFormat::Json => simulation_json(simulation),
        ReportFormat::Svg => svg(report),
    }
}

/// The what-if section of the table: per requirement, the gaps opened and closed.
pub fn gap_changes_table(simulation: &pb::SimulateCoverageResponse) -> String {
    let mut out = String::from("\nWhat if: gaps opened / closed against the stored roster\n");
    let touched = &simulation.touched_agent_ids;
    let _ = writeln!(
        out,
        "{} agent(s) touched{}{}",
        touched.len(),
        if touched.is_empty() { "" } else { ": " },
        touched.join(", ")
    );
    if let Some(file) = &simulation.sync_file {
        let counts = |counts: Option<pb::SyncCounts>| {
            let counts = counts.unwrap_or_default();
            format!(
                "{} created, {} updated, {} deleted, {} unchanged",
                counts.created, counts.updated, counts.deleted, counts.unchanged
            )
        };
        let _ = writeln!(
            out,
            "the file as a sync: shifts {}; time off {}; agents {}",
            counts(file.shifts),
            counts(file.time_off),
            counts(file.agents)
        );
        if file.outside_window > 0 {
            let _ = writeln!(
                out,
                "{} entr{} of the file outside the sync's window left out",
                file.outside_window,
                if file.outside_window == 1 { "y" } else { "ies" }
            );
        }
    }
    for changes in &simulation.gap_changes {
        let severity = severity_name(changes.severity);
        let _ = writeln!(out);
        if changes.opened.is_empty() && changes.closed.is_empty() {
            let _ = writeln!(out, "{severity}: no gap opened or closed");
            continue;
        }
        for (label, gaps) in [("opened", &changes.opened), ("closed", &changes.closed)] {
            if gaps.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{severity} gaps {label}:");
            for gap in gaps {
                write_gap_line(&mut out, gap);
            }
        }
    }
    out.push_str(&warnings_table(&simulation.working_time_warnings, simulation.working_time_warning_count));
    out
}

/// The what-if section as CSV: one `opened` or `closed` row per stretch.
pub fn gap_changes_csv(simulation: &pb::SimulateCoverageResponse) -> String {
    let mut out = String::from(
        "change,severity,starts_at_utc,ends_at_utc,starts_local,ends_local,duration_seconds,eligible_on_shift,cause\n",
    );
    for changes in &simulation.gap_changes {
        let severity = severity_name(changes.severity);
        for (label, gaps) in [("opened", &changes.opened), ("closed", &changes.closed)] {
            for gap in gaps {
                let _ = writeln!(
                    out,
                    "{label},{severity},{},{},{}",
                    span_columns(&gap.starts_at, &gap.ends_at),
                    gap.eligible_on_shift,
                    cause_code(gap.cause)
                );
            }
        }
    }
    out
}

/// A simulation as JSON: the report as `json` writes it, with the gaps opened and closed, the
/// touched agents and, for a file, the sync's counts.
fn simulation_json(simulation: &pb::SimulateCoverageResponse) -> String {
    let empty = pb::CoverageReport::default();
    let report: serde_json::Value =
        serde_json::from_str(&json(simulation.report.as_ref().unwrap_or(&empty))).expect("the report's own JSON");
    let gaps = |gaps: &[pb::Gap]| -> Vec<serde_json::Value> {
        gaps.iter()
            .map(|gap| {
                serde_json::json!({
                    "starts_at": utc(&gap.starts_at),
                    "ends_at": utc(&gap.ends_at),
                    "seconds": seconds_between(&gap.starts_at, &gap.ends_at),
                    "eligible_on_shift": gap.eligible_on_shift,
                    "cause": cause_code(gap.cause),
                })
            })
            .collect()
    };
    let gap_changes: Vec<serde_json::Value> = simulation
        .gap_changes
        .iter()
        .map(|changes| {
            serde_json::json!({
                "severity": pb::Severity::try_from(changes.severity).unwrap_or(pb::Severity::Unspecified).as_str_name(),
                "opened": gaps(&changes.opened),
                "closed": gaps(&changes.closed),
            })
        })
        .collect();
    let counts = |counts: Option<pb::SyncCounts>| {
        let counts = counts.unwrap_or_default();
        serde_json::json!({ "created": counts.created, "updated": counts.updated, "deleted": counts.deleted, "unchanged": counts.unchanged })
    };
    let sync_file = simulation.sync_file.as_ref().map(|file| {
        serde_json::json!({
            "shifts": counts(file.shifts),
            "time_off": counts(file.time_off),
            "agents": counts(file.agents),
            "outside_window": file.outside_window,
        })
    });
    let value = serde_json::json!({
        "report": report,
        "gap_changes": gap_changes,
        "touched_agent_ids": simulation.touched_agent_ids,
        "sync_file": sync_file,
        "working_time_warnings": warnings_json(&simulation.working_time_warnings),
        "working_time_warning_count": simulation.working_time_warning_count,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
    text.push('\n');
    text
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

/// The five CSV columns of a span: both ends in UTC, both in Brussels time, and its length.
fn span_columns(starts_at: &Option<prost_types::Timestamp>, ends_at: &Option<prost_types::Timestamp>) -> String {
    let local_format = "%Y-%m-%dT%H:%M:%S%:z";
    format!(
        "{},{},{},{},{}",
        utc(starts_at),
        utc(ends_at),
        local(starts_at, local_format),
        local(ends_at, local_format),
        seconds_between(starts_at, ends_at)
    )
}

#[cfg(test)]
mod tests;
