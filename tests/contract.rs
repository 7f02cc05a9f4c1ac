//! The public contract, `eeacoverage.v1`, as compiled into the server: every message with its
//! fields (number, name, label, type, oneof), every enum with its values, every service with its
//! methods. Pinned by a committed snapshot, so that any change to the contract shows in review:
//! an addition is a new line; a renumbered, retyped, renamed or removed field is a changed or
//! missing one, which the contract forbids (see CHANGELOG.md).

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};

fn field_type(field: &prost_types::FieldDescriptorProto) -> String {
    match field.r#type() {
        Type::Message | Type::Enum => field.type_name().trim_start_matches('.').to_owned(),
        other => other.as_str_name().trim_start_matches("TYPE_").to_lowercase(),
    }
}

fn describe_message(prefix: &str, message: &DescriptorProto, lines: &mut Vec<String>) {
    let name = format!("{prefix}.{}", message.name());
    lines.push(format!("message {name}"));
    for field in &message.field {
        let label = match field.label() {
            Label::Repeated => "repeated ",
            Label::Optional if field.proto3_optional() => "optional ",
            _ => "",
        };
        let oneof = field
            .oneof_index
            .filter(|_| !field.proto3_optional())
            .map(|oneof_idx| format!(" (oneof {})", message.oneof_decl[oneof_idx as usize].name()))
            .unwrap_or_default();
        lines.push(format!("  {} {label}{} {}{oneof}", field.number(), field_type(field), field.name()));
    }
    for nested in &message.nested_type {
        describe_message(&name, nested, lines);
    }
    for nested in &message.enum_type {
        describe_enum(&name, nested, lines);
    }
}

fn describe_enum(prefix: &str, enumeration: &EnumDescriptorProto, lines: &mut Vec<String>) {
    lines.push(format!("enum {prefix}.{}", enumeration.name()));
    for value in &enumeration.value {
        lines.push(format!("  {} {}", value.number(), value.name()));
    }
}

fn contract() -> String {
    let descriptors = FileDescriptorSet::decode(eea_coverage::pb::FILE_DESCRIPTOR_SET).expect("the descriptor set");
    let mut lines = Vec::new();
    let mut files: Vec<_> = descriptors.file.iter().filter(|file| file.package() == "eeacoverage.v1").collect();
    files.sort_by_key(|file| file.name().to_owned());
    for file in files {
        lines.push(format!("file {}", file.name()));
        for message in &file.message_type {
            describe_message(file.package(), message, &mut lines);
        }
        for enumeration in &file.enum_type {
            describe_enum(file.package(), enumeration, &mut lines);
        }
        for service in &file.service {
            lines.push(format!("service {}.{}", file.package(), service.name()));
            for method in &service.method {
                let stream = |streaming: bool| if streaming { "stream " } else { "" };
                lines.push(format!(
                    "  {}({}{}) returns ({}{})",
                    method.name(),
                    stream(method.client_streaming()),
                    method.input_type().trim_start_matches('.'),
                    stream(method.server_streaming()),
                    method.output_type().trim_start_matches('.'),
                ));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn the_public_contract_is_the_one_committed() {
    let contract = contract();
    assert!(contract.contains("service eeacoverage.v1.TicketService"), "the contract is read");
    insta::assert_snapshot!(contract);
}
