//! The OpenAPI 3.1 document of the JSON API, derived from the contract's descriptors when it is
//! first asked for: one path per unary method, one schema per message and enum in the proto3
//! JSON mapping, the `google.rpc.Status` error body and the bearer scheme. Nothing in it is
//! written by hand but the prose around the contract.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{json, Map, Value};

use super::json_call::OPENAPI_PATH;
use super::report_download::{self, Representation};
use crate::formats::report::ReportFormat;
use crate::pb;

/// The name of the error body's schema.
const STATUS_SCHEMA: &str = "google.rpc.Status";

/// The OpenAPI document, built once.
pub fn openapi_document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| build(pb::descriptor_pool()))
}

fn build(pool: &prost_reflect::DescriptorPool) -> Value {
    let mut paths = Map::new();
    let mut schemas = Schemas::default();
    let mut streaming = Vec::new();
    for service in pool.services().filter(|service| service.package_name() == pb::PACKAGE) {
        for method in service.methods() {
            if method.is_client_streaming() || method.is_server_streaming() {
                streaming.push(method.full_name().to_owned());
                continue;
            }
            let (input, output) = (schemas.reference(&method.input()), schemas.reference(&method.output()));
            let mut operation = json!({
                "operationId": format!("{}_{}", service.name(), method.name()),
                "tags": [service.name()],
                "summary": format!("{} over JSON", method.full_name()),
                "requestBody": {
                    "required": true,
                    "content": { "application/json": { "schema": input } },
                },
                "responses": {
                    "200": {
                        "description": format!("The {} in the proto3 JSON mapping.", method.output().name()),
                        "content": { "application/json": { "schema": output } },
                    },
                    "default": { "$ref": "#/components/responses/Error" },
                },
            });
            if report_download::negotiates(&method) {
                add_report_downloads(&mut operation);
            }
            paths.insert(format!("/v1/{}/{}", service.name(), method.name()), json!({ "post": operation }));
        }
    }
    paths.insert(
        OPENAPI_PATH.to_owned(),
        json!({ "get": {
            "operationId": "OpenApiDocument",
            "summary": "This document.",
            "security": [],
            "responses": { "200": {
                "description": "The OpenAPI document of the JSON API.",
                "content": { "application/json": { "schema": { "type": "object" } } },
            } },
        } }),
    );
    let mut components = schemas.into_components();
    components.insert(STATUS_SCHEMA.to_owned(), status_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "eea-coverage JSON API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Every unary method of the gRPC package {} at POST /v1/<Service>/<Method>, the request and \
                 the answer in the proto3 JSON mapping: field names in lowerCamelCase (the proto names are \
                 accepted too), 64-bit integers as strings, Timestamps as RFC 3339 strings, Durations as \
                 seconds with an `s` suffix, enums by name (numbers are accepted too). Answers list every \
                 field, defaults included. Errors are a google.rpc.Status with the HTTP status of its code. \
                 The same bearer tokens and roles as over gRPC. Served over gRPC only (streams): {}.",
                pb::PACKAGE,
                streaming.join(", ")
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": { "Error": {
                "description": "The call failed: a google.rpc.Status. 400 INVALID_ARGUMENT, FAILED_PRECONDITION \
                                or OUT_OF_RANGE; 401 UNAUTHENTICATED; 403 PERMISSION_DENIED; 404 NOT_FOUND; 409 \
                                ALREADY_EXISTS or ABORTED; 429 RESOURCE_EXHAUSTED; 500 INTERNAL; 501 \
                                UNIMPLEMENTED; 503 UNAVAILABLE; 504 DEADLINE_EXCEEDED.",
                "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{STATUS_SCHEMA}") } } },
            } },
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
        "security": [ { "bearer": [] } ],
    })
}

/// Documents the other representations of a coverage report's answer (`report_download`): the
/// media types of a 200 besides `application/json`, the attachment's name, and 406.
fn add_report_downloads(operation: &mut Value) {
    let answered = &mut operation["responses"]["200"];
    for (media_type, representation) in report_download::REPORT_MEDIA_TYPES {
        let schema = match representation {
            Representation::ProtoJson => continue,
            Representation::Report(ReportFormat::Csv) => json!({
                "type": "string",
                "description": "One CSV: a `requirement` row per severity, then `gap` and `thin` rows, as `eea-coverage report --format csv` writes it.",
            }),
            Representation::Report(ReportFormat::Svg) => json!({
                "type": "string",
                "description": "A week-by-hour heat map per requirement, as `eea-coverage report --format svg` draws it.",
            }),
            Representation::Report(ReportFormat::Json) => json!({
                "type": "object",
                "description": "The report as `eea-coverage report --format json` writes it: snake_case names, 64-bit counts as numbers, each gap and thin stretch with its length in seconds. Not the proto3 JSON mapping.",
            }),
            Representation::Report(ReportFormat::Table) => unreachable!("the table is not offered over HTTP"),
        };
        answered["content"][media_type] = json!({ "schema": schema });
    }
    answered["description"] = Value::String(format!(
        "The CoverageReport in the proto3 JSON mapping (application/json, also for no Accept header or */*); or, \
         when the Accept header prefers it, the report rendered as `eea-coverage report --format csv|svg|json` \
         renders it ({}), as an attachment. Errors are a google.rpc.Status in JSON whatever the Accept header.",
        report_download::offered_media_types()
    ));
    answered["headers"] = json!({
        "Content-Disposition": {
            "description": "On the CSV, SVG and report-JSON answers: `attachment; filename=\"coverage-<audience>-<from>-<to>.<csv|svg|json>\"`, the audience eea-only, standard-eea-tagged or standard-untagged, each end of the window its Brussels date when it is a Brussels midnight, else its UTC instant as 20261207T103000Z.",
            "schema": { "type": "string" },
        },
    });
    operation["responses"]["406"] = json!({
        "description": "The Accept header names none of the media types this operation answers in (a google.rpc.Status, INVALID_ARGUMENT).",
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{STATUS_SCHEMA}") } } },
    });
    operation["description"] = Value::String(
        "Send an Accept header of text/csv, image/svg+xml or application/vnd.eea-coverage.report+json to \
         download the report as the `report` command writes it; the call, its token, role, limits and request \
         ID are the same."
            .to_owned(),
    );
}

/// The schemas of the messages and enums reached so far, by full name.
#[derive(Default)]
struct Schemas {
    done: BTreeMap<String, Value>,
}

impl Schemas {
    fn into_components(self) -> Map<String, Value> {
        self.done.into_iter().collect()
    }

    /// The schema of a field of message type `message`: a well-known type inline, else a
    /// reference to its component (written on first sight).
    fn reference(&mut self, message: &MessageDescriptor) -> Value {
        match message.full_name() {
            "google.protobuf.Timestamp" => {
                return json!({ "type": "string", "format": "date-time", "description": "RFC 3339, UTC (Z)." })
            }
            "google.protobuf.Duration" => {
                return json!({
                    "type": "string",
                    "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
                    "description": "Seconds with up to nine decimals and an `s` suffix, such as `3600s`.",
                })
            }
            "google.protobuf.Empty" => return json!({ "type": "object", "additionalProperties": false }),
            _ => {}
        }
        let name = message.full_name().to_owned();
        if !self.done.contains_key(&name) {
            // A placeholder first: a message may reach itself.
            self.done.insert(name.clone(), Value::Null);
            let schema = self.message_schema(message);
            self.done.insert(name.clone(), schema);
        }
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    fn message_schema(&mut self, message: &MessageDescriptor) -> Value {
        let mut properties = Map::new();
        for field in message.fields() {
            properties.insert(field.json_name().to_owned(), self.field_schema(&field));
        }
        // Open to more properties: the proto names of the fields (`org_id`) are read too.
        let mut schema = json!({ "type": "object", "properties": properties });
        let oneofs: Vec<String> = message
            .oneofs()
            .filter(|oneof| !oneof.is_synthetic())
            .map(|oneof| {
                let members: Vec<String> = oneof.fields().map(|field| field.json_name().to_owned()).collect();
                format!("`{}`: at most one of {}", oneof.name(), members.join(", "))
            })
            .collect();
        if !oneofs.is_empty() {
            schema["description"] =
                Value::String(format!("One-ofs (set at most one field of each): {}.", oneofs.join("; ")));
        }
        schema
    }

    fn field_schema(&mut self, field: &FieldDescriptor) -> Value {
        if field.is_map() {
            let Kind::Message(entry) = field.kind() else { unreachable!("a map field's kind is its entry message") };
            let value_kind = entry.map_entry_value_field().kind();
            let value = self.kind_schema(&value_kind);
            return json!({ "type": "object", "additionalProperties": value });
        }
        let single = self.kind_schema(&field.kind());
        if field.is_list() {
            json!({ "type": "array", "items": single })
        } else {
            single
        }
    }

    fn kind_schema(&mut self, kind: &Kind) -> Value {
        match kind {
            Kind::Double => json!({ "type": "number", "format": "double" }),
            Kind::Float => json!({ "type": "number", "format": "float" }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({ "type": "integer", "format": "int32" }),
            Kind::Uint32 | Kind::Fixed32 => {
                json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX })
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({ "type": "string", "format": "int64", "pattern": "^-?[0-9]+$" })
            }
            Kind::Uint64 | Kind::Fixed64 => json!({ "type": "string", "format": "uint64", "pattern": "^[0-9]+$" }),
            Kind::Bool => json!({ "type": "boolean" }),
            Kind::String => json!({ "type": "string" }),
            Kind::Bytes => json!({ "type": "string", "contentEncoding": "base64" }),
            Kind::Message(message) => self.reference(message),
            Kind::Enum(enumeration) => {
                let name = enumeration.full_name().to_owned();
                if !self.done.contains_key(&name) {
                    let values: Vec<String> = enumeration.values().map(|value| value.name().to_owned()).collect();
                    self.done.insert(name.clone(), json!({ "type": "string", "enum": values }));
                }
                json!({ "$ref": format!("#/components/schemas/{name}") })
            }
        }
    }
}

fn status_schema() -> Value {
    json!({
        "type": "object",
        "description": "A google.rpc.Status in the proto3 JSON mapping.",
        "required": ["code", "message"],
        "properties": {
            "code": { "type": "integer", "format": "int32", "description": "The gRPC status code (google.rpc.Code)." },
            "message": { "type": "string" },
            "details": {
                "type": "array",
                "description": "google.protobuf.Any values: google.rpc.BadRequest, PreconditionFailure, ResourceInfo or ErrorInfo.",
                "items": {
                    "type": "object",
                    "required": ["@type"],
                    "properties": { "@type": { "type": "string" } },
                    "additionalProperties": true,
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` anywhere under `value`.
    fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|nested| references(nested, found));
            }
            Value::Array(items) => items.iter().for_each(|nested| references(nested, found)),
            _ => {}
        }
    }

    #[test]
    fn every_unary_method_has_a_path_and_no_streaming_one_does() {
        let document = openapi_document();
        let paths = document["paths"].as_object().unwrap();
        let (mut n_unary, mut n_streaming) = (0, 0);
        for service in pb::descriptor_pool().services().filter(|service| service.package_name() == pb::PACKAGE) {
            for method in service.methods() {
                let path = format!("/v1/{}/{}", service.name(), method.name());
                if method.is_client_streaming() || method.is_server_streaming() {
                    n_streaming += 1;
                    assert!(!paths.contains_key(&path), "{path} streams");
                } else {
                    n_unary += 1;
                    assert!(paths[&path]["post"].is_object(), "{path} is listed");
                }
            }
        }
        assert!(n_unary > 20 && n_streaming == 3, "{n_unary} unary, {n_streaming} streaming methods");
        assert_eq!(paths.len(), n_unary + 1, "the methods and the document itself");
    }

    #[test]
    fn every_reference_resolves_and_no_schema_is_a_placeholder() {
        let document = openapi_document();
        let mut found = Vec::new();
        references(document, &mut found);
        assert!(found.len() > 50, "{} references", found.len());
        for target in found {
            let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{target} is local"));
            let resolved = document.pointer(pointer).unwrap_or_else(|| panic!("{target} resolves"));
            assert!(resolved.is_object(), "{target} is a schema");
        }
    }

    #[test]
    fn the_coverage_report_lists_its_downloads_and_no_other_operation_does() {
        let paths = openapi_document()["paths"].as_object().unwrap();
        let report = &paths["/v1/CoverageService/GetCoverageReport"]["post"]["responses"];
        let offered: Vec<&String> = report["200"]["content"].as_object().unwrap().keys().collect();
        assert_eq!(offered.len(), report_download::REPORT_MEDIA_TYPES.len(), "{offered:?}");
        for (media_type, _) in report_download::REPORT_MEDIA_TYPES {
            assert!(report["200"]["content"][media_type]["schema"].is_object(), "{media_type}");
        }
        assert!(report["200"]["headers"]["Content-Disposition"]["schema"].is_object());
        assert!(report["406"]["content"]["application/json"]["schema"]["$ref"].is_string());
        for (path, item) in paths.iter().filter(|(path, _)| !path.ends_with("/GetCoverageReport")) {
            let Some(responses) = item["post"]["responses"].as_object() else { continue };
            let content = responses["200"]["content"].as_object().unwrap();
            assert_eq!(content.keys().collect::<Vec<_>>(), ["application/json"], "{path}");
            assert!(!responses.contains_key("406"), "{path}");
        }
    }

    #[test]
    fn the_schemas_follow_the_proto3_json_mapping() {
        let schemas = &openapi_document()["components"]["schemas"];
        let decision = &schemas["eeacoverage.v1.DecideTicketResponse"]["properties"];
        assert_eq!(decision["windowOpensAt"]["format"], "date-time");
        assert_eq!(decision["eeaTagged"]["type"], "boolean");
        let severities = schemas["eeacoverage.v1.Severity"]["enum"].as_array().unwrap();
        assert!(severities.contains(&json!("SEVERITY_1")));
        let int64_fields = schemas
            .as_object()
            .unwrap()
            .values()
            .filter_map(|schema| schema["properties"].as_object())
            .flat_map(|properties| properties.values())
            .filter(|property| property["format"] == "int64" && property["type"] == "string")
            .count();
        assert!(int64_fields > 0, "64-bit integers are strings");
    }
}
