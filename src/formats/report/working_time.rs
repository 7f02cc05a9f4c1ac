//! The working-time report as `eea-coverage report --working-time` writes it: a table, CSV or
//! JSON. Weeks and breaches are shown in each agent's home zone, with the UTC instants beside.

use std::fmt::Write as _;

use super::{duration_text, instant, utc, ReportFormat};
use crate::domain::time::Zone;
use crate::pb;

/// The report (every page of it joined) in `format`; SVG has no working-time rendering.
pub fn render_working_time(report: &pb::GetWorkingTimeReportResponse, format: ReportFormat) -> Result<String, String> {
    match format {
        ReportFormat::Table => Ok(table(report)),
        ReportFormat::Csv => Ok(csv(report)),
        ReportFormat::Json => {
            let mut text =
                String::from_utf8(pb::to_json(report, "GetWorkingTimeReportResponse")).expect("JSON is UTF-8");
            text.push('\n');
            Ok(text)
        }
        ReportFormat::Svg => Err("the working-time report is written as table, csv or json".into()),
    }
}

fn seconds(duration: &Option<prost_types::Duration>) -> i64 {
    duration.as_ref().map_or(0, |duration| duration.seconds)
}

fn hours(duration: &Option<prost_types::Duration>) -> String {
    duration_text(seconds(duration))
}

fn rule_name(rule: i32) -> &'static str {
    match pb::WorkingTimeRule::try_from(rule).unwrap_or(pb::WorkingTimeRule::Unspecified) {
        pb::WorkingTimeRule::DailyRest => "daily rest",
        pb::WorkingTimeRule::WeeklyRest => "weekly rest",
        pb::WorkingTimeRule::AverageWeeklyWork => "average weekly work",
        pb::WorkingTimeRule::Unspecified => "unknown",
    }
}

/// What a breach measured, in words.
fn measured(breach: &pb::WorkingTimeBreach) -> String {
    match pb::WorkingTimeRule::try_from(breach.rule).unwrap_or(pb::WorkingTimeRule::Unspecified) {
        pb::WorkingTimeRule::AverageWeeklyWork => {
            format!("{} a week on average, at most {}", hours(&breach.measured), hours(&breach.limit))
        }
        _ => format!("{} of rest at most, at least {}", hours(&breach.measured), hours(&breach.limit)),
    }
}

fn local(zone: &Option<Zone>, timestamp: &Option<prost_types::Timestamp>) -> String {
    match zone {
        Some(zone) => zone.format(instant(timestamp), "%a %Y-%m-%d %H:%M %Z"),
        None => utc(timestamp),
    }
}

fn table(report: &pb::GetWorkingTimeReportResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Working time {} -> {} (Working Time Directive; policy {}, tz database {})",
        utc(&report.window_start),
        utc(&report.window_end),
        report.policy_version,
        report.tz_database_version
    );
    let _ = writeln!(out);
    if report.agents.is_empty() {
        let _ = writeln!(out, "No agent works from an EEA country in this window.");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<24} {:>12} {:>12} {:>6} {:>11} {:>6} {:>9}",
        "Agent", "Worked", "Night", "Days", "Night days", "Night", "Breaches"
    );
    for agent in &report.agents {
        let _ = writeln!(
            out,
            "{:<24} {:>12} {:>12} {:>6} {:>11} {:>6} {:>9}",
            agent.agent_id,
            hours(&agent.worked),
            hours(&agent.night_work),
            agent.working_days,
            agent.night_working_days,
            if agent.night_worker { "worker" } else { "-" },
            agent.breaches.len()
        );
    }
    for agent in &report.agents {
        let zone = Zone::named(&agent.time_zone).ok();
        let _ = writeln!(out);
        let _ = writeln!(out, "{} ({}):", agent.agent_id, agent.time_zone);
        for week in &agent.weeks {
            let _ = writeln!(
                out,
                "  week of {:<28} worked {:>12}, night {:>12}, rolling average {:>12} over {} weeks",
                local(&zone, &week.week_start),
                hours(&week.worked),
                hours(&week.night_work),
                hours(&week.rolling_average),
                week.reference_weeks
            );
        }
        for breach in &agent.breaches {
            let _ = writeln!(
                out,
                "  BREACH {}: {} -> {} ({} -> {}): {}; shifts {}",
                rule_name(breach.rule),
                local(&zone, &breach.window_start),
                local(&zone, &breach.window_end),
                utc(&breach.window_start),
                utc(&breach.window_end),
                measured(breach),
                breach.shift_ids.join(", ")
            );
        }
    }
    out
}

/// One CSV: a `week` row per agent and week, then a `breach` row per breach.
fn csv(report: &pb::GetWorkingTimeReportResponse) -> String {
    let mut out = String::from(
        "record,agent_id,starts_at_utc,ends_at_utc,worked_seconds,night_seconds,rolling_average_seconds,\
         rule,measured_seconds,limit_seconds,shift_ids\n",
    );
    for agent in &report.agents {
        for week in &agent.weeks {
            let _ = writeln!(
                out,
                "week,{},{},{},{},{},{},,,,",
                agent.agent_id,
                utc(&week.week_start),
                utc(&week.week_end),
                seconds(&week.worked),
                seconds(&week.night_work),
                seconds(&week.rolling_average)
            );
        }
        for breach in &agent.breaches {
            let rule = pb::WorkingTimeRule::try_from(breach.rule).unwrap_or(pb::WorkingTimeRule::Unspecified);
            let _ = writeln!(
                out,
                "breach,{},{},{},,,,{},{},{},{}",
                agent.agent_id,
                utc(&breach.window_start),
                utc(&breach.window_end),
                rule.as_str_name(),
                seconds(&breach.measured),
                seconds(&breach.limit),
                breach.shift_ids.join(" ")
            );
        }
    }
    out
}

/// The breaches a change would introduce, as a table's section.
pub(super) fn warnings_table(warnings: &[pb::WorkingTimeWarning], count: i32) -> String {
    let mut out = String::new();
    let _ = writeln!(out);
    if count == 0 {
        let _ = writeln!(out, "Working time: no breach of the Working Time Directive introduced");
        return out;
    }
    let shown = if usize::try_from(count).unwrap_or(0) > warnings.len() {
        format!(" (the first {})", warnings.len())
    } else {
        String::new()
    };
    let _ = writeln!(out, "Working time: {count} breach(es) of the Working Time Directive introduced{shown}:");
    for warning in warnings {
        let Some(breach) = &warning.breach else { continue };
        let _ = writeln!(
            out,
            "  {} {}: {} -> {}: {}; shifts {}",
            warning.agent_id,
            rule_name(breach.rule),
            utc(&breach.window_start),
            utc(&breach.window_end),
            measured(breach),
            breach.shift_ids.join(", ")
        );
    }
    out
}

/// The same as JSON values, instants in RFC 3339 UTC and the rule by its proto name.
pub(super) fn warnings_json(warnings: &[pb::WorkingTimeWarning]) -> Vec<serde_json::Value> {
    warnings
        .iter()
        .filter_map(|warning| {
            let breach = warning.breach.as_ref()?;
            let rule = pb::WorkingTimeRule::try_from(breach.rule).unwrap_or(pb::WorkingTimeRule::Unspecified);
            Some(serde_json::json!({
                "agent_id": warning.agent_id,
                "rule": rule.as_str_name(),
                "window_start": utc(&breach.window_start),
                "window_end": utc(&breach.window_end),
                "measured_seconds": seconds(&breach.measured),
                "limit_seconds": seconds(&breach.limit),
                "shift_ids": breach.shift_ids,
            }))
        })
        .collect()
}
