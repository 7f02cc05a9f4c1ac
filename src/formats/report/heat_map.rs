//! The SVG heat map of a coverage report: one week-by-hour grid per requirement.

use std::fmt::Write as _;

use super::{headline, severity_name, window_text};
use crate::pb;

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
