//! `GetCoverageReport` as a download: when a JSON call's `Accept` header asks for CSV, SVG or the
//! `report` command's JSON, the answer the gRPC stack gave is rendered by `formats::report`, the
//! very functions behind `eea-coverage report --format csv|svg|json`, and sent as an attachment.
//! Every other method, and any `Accept` that does not ask for one of these, gets the proto3 JSON
//! answer as before.

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::StatusCode;
use http_body_util::Full;
use prost_reflect::MethodDescriptor;

use crate::formats::report::{file_name, render, ReportFormat};
use crate::pb;

/// The media type of the report as `eea-coverage report --format json` writes it, which is not
/// the proto3 JSON mapping of `CoverageReport`: snake_case names, 64-bit counts as numbers, each
/// gap and thin stretch with its length in seconds, pretty-printed.
pub const REPORT_JSON_MEDIA_TYPE: &str = "application/vnd.eea-coverage.report+json";

/// The one method whose answer has more than one representation.
const REPORT_METHOD: &str = "eeacoverage.v1.CoverageService.GetCoverageReport";

/// What the answer to a JSON call is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// The response message in the proto3 JSON mapping, as for every method.
    ProtoJson,
    /// The coverage report rendered as the `report` command renders it.
    Report(ReportFormat),
}

/// The representations of `GetCoverageReport`'s answer by media type, in the server's order of
/// preference (which breaks ties between equally acceptable types).
pub const REPORT_MEDIA_TYPES: [(&str, Representation); 4] = [
    ("application/json", Representation::ProtoJson),
    ("text/csv", Representation::Report(ReportFormat::Csv)),
    ("image/svg+xml", Representation::Report(ReportFormat::Svg)),
    (REPORT_JSON_MEDIA_TYPE, Representation::Report(ReportFormat::Json)),
];

/// Whether `method` answers in more than one representation (and so reads `Accept`).
pub fn negotiates(method: &MethodDescriptor) -> bool {
    method.full_name() == REPORT_METHOD
}

/// The representation of `method`'s answer that `headers` ask for, or `None` when their
/// `Accept` names none that the method offers. A method that does not negotiate, a request
/// without `Accept`, and `*/*` all get the proto3 JSON answer.
///
/// The weight of a type is that of the most specific range matching it; the heaviest type wins,
/// then the one the client named most specifically (so `text/csv, */*` is CSV), then the
/// server's order.
pub fn negotiate(method: &MethodDescriptor, headers: &http::HeaderMap) -> Option<Representation> {
    if !negotiates(method) {
        return Some(Representation::ProtoJson);
    }
    let ranges = media_ranges(headers);
    if ranges.is_empty() {
        return Some(Representation::ProtoJson);
    }
    let mut best: Option<(f32, u8, Representation)> = None;
    for (media_type, representation) in REPORT_MEDIA_TYPES {
        let Some((weight, specificity)) = acceptance(&ranges, media_type) else { continue };
        let better = match best {
            None => true,
            Some((best_weight, best_specificity, _)) => {
                weight > best_weight || (weight == best_weight && specificity > best_specificity)
            }
        };
        if weight > 0.0 && better {
            best = Some((weight, specificity, representation));
        }
    }
    best.map(|(_, _, representation)| representation)
}

/// The media types `method` answers in, for a refusal's message.
pub fn offered_media_types() -> String {
    let names: Vec<&str> = REPORT_MEDIA_TYPES.iter().map(|(media_type, _)| *media_type).collect();
    names.join(", ")
}

/// The answer carrying `report` rendered as `format`, as an attachment.
pub fn download_response(report: &pb::CoverageReport, format: ReportFormat) -> http::Response<Full<Bytes>> {
    let content_type = match format {
        ReportFormat::Csv => "text/csv; charset=utf-8",
        ReportFormat::Svg => "image/svg+xml",
        ReportFormat::Json => REPORT_JSON_MEDIA_TYPE,
        ReportFormat::Table => "text/plain; charset=utf-8",
    };
    let disposition = format!("attachment; filename=\"{}\"", file_name(report, format));
    let mut response = http::Response::new(Full::new(Bytes::from(render(report, format))));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).expect("a file name of ASCII letters, digits, - and ."),
    );
    // An SVG is never to be read as anything else, and never shown inline from this origin.
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

/// One media range of an `Accept` header: `type/subtype` (either may be `*`) and its weight.
struct MediaRange<'a> {
    type_name: &'a str,
    subtype: &'a str,
    weight: f32,
}

/// Every media range of every `Accept` header; ranges that do not parse (no `/`, a weight that
/// is not a number from 0 to 1) are left out.
fn media_ranges(headers: &http::HeaderMap) -> Vec<MediaRange<'_>> {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let (type_name, subtype) = parts.next()?.split_once('/')?;
            let mut weight = 1.0;
            for parameter in parts {
                if let Some(value) = parameter.strip_prefix("q=").or_else(|| parameter.strip_prefix("Q=")) {
                    weight = value.parse::<f32>().ok().filter(|weight| (0.0..=1.0).contains(weight))?;
                }
            }
            let (type_name, subtype) = (type_name.trim(), subtype.trim());
            (!type_name.is_empty() && !subtype.is_empty()).then_some(MediaRange { type_name, subtype, weight })
        })
        .collect()
}

/// The weight `ranges` give `media_type`, from the most specific range that matches it, and that
/// range's specificity (2 for `type/subtype`, 1 for `type/*`, 0 for `*/*`).
fn acceptance(ranges: &[MediaRange<'_>], media_type: &str) -> Option<(f32, u8)> {
    let (type_name, subtype) = media_type.split_once('/').expect("an offered media type has a subtype");
    ranges
        .iter()
        .filter_map(|range| {
            let specificity = if range.type_name == "*" && range.subtype == "*" {
                0
            } else if !range.type_name.eq_ignore_ascii_case(type_name) {
                return None;
            } else if range.subtype == "*" {
                1
            } else if range.subtype.eq_ignore_ascii_case(subtype) {
                2
            } else {
                return None;
            };
            Some((range.weight, specificity))
        })
        .max_by_key(|(_, specificity)| *specificity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(path: &str) -> MethodDescriptor {
        let (service, name) = path.split_once('/').unwrap();
        pb::descriptor_pool()
            .get_service_by_name(&format!("{}.{service}", pb::PACKAGE))
            .and_then(|service| service.methods().find(|method| method.name() == name))
            .unwrap()
    }

    fn negotiated(path: &str, accept: &[&str]) -> Option<Representation> {
        let mut headers = http::HeaderMap::new();
        for value in accept {
            headers.append(ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        negotiate(&method(path), &headers)
    }

    #[test]
    fn the_report_is_rendered_as_the_accept_header_asks_and_refused_when_it_asks_for_nothing_offered() {
        use Representation::{ProtoJson, Report};
        let check = |accept: &[&str], expected: Option<Representation>| {
            assert_eq!(negotiated("CoverageService/GetCoverageReport", accept), expected, "{accept:?}");
        };
        check(&[], Some(ProtoJson));
        check(&[""], Some(ProtoJson));
        check(&["*/*"], Some(ProtoJson));
        check(&["application/json"], Some(ProtoJson));
        check(&["application/*"], Some(ProtoJson));
        check(&["text/csv"], Some(Report(ReportFormat::Csv)));
        check(&["TEXT/CSV; charset=utf-8"], Some(Report(ReportFormat::Csv)));
        check(&["image/svg+xml"], Some(Report(ReportFormat::Svg)));
        check(&[REPORT_JSON_MEDIA_TYPE], Some(Report(ReportFormat::Json)));
        check(&["text/csv, */*"], Some(Report(ReportFormat::Csv)));
        check(&["text/csv;q=0.5, image/svg+xml"], Some(Report(ReportFormat::Svg)));
        check(&["text/csv", "image/svg+xml;q=0.9"], Some(Report(ReportFormat::Csv)));
        check(&["text/*"], Some(Report(ReportFormat::Csv)));
        check(&["image/*, application/json;q=0.1"], Some(Report(ReportFormat::Svg)));
        check(&["application/json, text/csv"], Some(ProtoJson));
        check(&["text/html, */*;q=0.8"], Some(ProtoJson));
        check(&["*/*, application/json;q=0"], Some(Report(ReportFormat::Csv)));
        check(&["text/html"], None);
        check(&["application/xml, text/plain"], None);
        check(&["text/csv;q=0"], None);
        // A header with no range that parses is as good as none.
        check(&["text/csv;q=2"], Some(ProtoJson));
        check(&["nonsense"], Some(ProtoJson));
    }

    #[test]
    fn other_methods_answer_proto3_json_whatever_the_accept_header_says() {
        for accept in ["text/csv", "text/html", "image/svg+xml"] {
            let answered = negotiated("TicketService/DecideTicket", &[accept]);
            assert_eq!(answered, Some(Representation::ProtoJson), "{accept}");
        }
    }
}
