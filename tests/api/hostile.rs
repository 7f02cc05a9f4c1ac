//! Random and malformed values thrown at every request type of the contract: every one gets a
//! clear status (never INTERNAL or UNKNOWN, never a panic), and a refused write changes nothing.

use eea_coverage::pb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tonic::Code;

use crate::helpers::{agent, org, spawn_app, ticket_question, Backend};

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\u{0}\u{7}".to_owned()),
        Just("x".repeat(5_000)),
        Just("FREQ=SECONDLY".to_owned()),
        Just("FREQ=DAILY;COUNT=99999999999999999999".to_owned()),
        Just("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31".to_owned()),
        Just("FREQ=DAILY;UNTIL=19000101T000000Z".to_owned()),
        Just("RRULE:FREQ=WEEKLY;BYDAY=XX".to_owned()),
        Just("Europe/Atlantis".to_owned()),
        Just("9999-99-99T99:99:99".to_owned()),
        Just("25:61".to_owned()),
        "\\PC{0,40}",
    ]
}

fn hostile_timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    prop_oneof![
        Just(None),
        (any::<i64>(), any::<i32>()).prop_map(|(seconds, nanos)| Some(prost_types::Timestamp { seconds, nanos })),
        (-1_000_000i64..1_000_000i64).prop_map(|seconds| Some(prost_types::Timestamp { seconds, nanos: -1 })),
    ]
}

fn hostile_shift() -> impl Strategy<Value = pb::Shift> {
    (
        hostile_text(),
        prop::collection::vec(any::<i32>(), 0..3),
        hostile_text(),
        (hostile_timestamp(), hostile_timestamp()),
        (hostile_text(), hostile_text(), hostile_text(), hostile_text(), prop::collection::vec(hostile_text(), 0..3)),
        any::<bool>(),
    )
        .prop_map(
            |(
                shift_id,
                severities,
                country,
                (starts_at, ends_at),
                (time_zone, start_local, end_time, rrule, exdates),
                one_off,
            )| {
                let schedule = if one_off {
                    pb::shift::Schedule::OneOff(pb::OneOffShift { starts_at, ends_at })
                } else {
                    pb::shift::Schedule::Recurring(pb::RecurringShift {
                        time_zone,
                        start_local,
                        end_time,
                        rrule,
                        exdates,
                    })
                };
                // Always one bad value at least: the agent does not exist.
                pb::Shift {
                    shift_id,
                    agent_id: "nobody".into(),
                    severities,
                    country,
                    schedule: Some(schedule),
                    source: String::new(),
                }
            },
        )
}

fn clear(code: Code) -> bool {
    matches!(code, Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition)
}

async fn malformed_requests_get_a_clear_status_and_change_nothing(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    crate::helpers::seed_acme_with_ie_1(&spawned.app, false).await;
    let (mut roster, mut tickets) = (spawned.app.roster.clone(), spawned.app.tickets.clone());

    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let strategy = (
        prop::collection::vec(hostile_shift(), 1..4),
        (hostile_text(), any::<i32>(), any::<i32>(), hostile_timestamp()),
        (hostile_text(), hostile_text(), hostile_text(), prop::collection::vec(any::<i32>(), 0..2)),
    );
    let handle = tokio::runtime::Handle::current();
    let outcome = runner.run(
        &strategy,
        |(shifts, (org_id, severity, category, at), (agent_id, country, time_zone, agent_severities))| {
            let (mut roster, mut tickets) = (roster.clone(), tickets.clone());
            let result: Result<(), String> = tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let refused = roster
                        .upsert_shifts(pb::UpsertShiftsRequest { shifts })
                        .await
                        .expect_err("a shift of an unknown agent is refused");
                    if !clear(refused.code()) {
                        return Err(format!("UpsertShifts answered {:?}: {}", refused.code(), refused.message()));
                    }
                    let bad_agent = pb::Agent {
                        agent_id,
                        display_name: "x".repeat(300),
                        country,
                        time_zone,
                        severities: agent_severities,
                        location_changes: vec![],
                    };
                    let refused = roster
                        .upsert_agents(pb::UpsertAgentsRequest { agents: vec![bad_agent], source: String::new() })
                        .await
                        .expect_err("an over-long name is refused");
                    if !clear(refused.code()) {
                        return Err(format!("UpsertAgents answered {:?}", refused.code()));
                    }
                    let question = ticket_question(&org_id, severity, category, at);
                    if let Err(status) = tickets.decide_ticket(question).await {
                        if !clear(status.code()) {
                            return Err(format!("DecideTicket answered {:?}: {}", status.code(), status.message()));
                        }
                    }
                    Ok(())
                })
            });
            result.map_err(proptest::test_runner::TestCaseError::fail)
        },
    );
    outcome.unwrap();
    let shifts = roster.list_shifts(pb::ListShiftsRequest::default()).await.unwrap().into_inner().shifts;
    assert!(shifts.is_empty(), "no refused write left anything behind");
    let agents = roster.list_agents(pb::ListAgentsRequest::default()).await.unwrap().into_inner().agents;
    assert_eq!(agents.len(), 1);
    let decision = tickets.decide_ticket(ticket_question("acme", 1, 0, None)).await;
    assert!(decision.is_ok(), "the server still answers");
}

/// A source of choices for building one request: proptest draws the numbers, so a failing case
/// shrinks and can be replayed.
struct Choices {
    numbers: Vec<u32>,
    next: usize,
}

impl Choices {
    fn pick(&mut self, n: usize) -> usize {
        let number = self.numbers.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        number as usize % n.max(1)
    }
}

/// Text a caller could send where a string goes: empty, control characters, huge, absurd rules,
/// unknown zones and regions, malformed local times, and a few well-formed values so that the
/// checks past the first are reached too.
const HOSTILE_TEXTS: [&str; 22] = [
    "",
    "\u{0}\u{7}",
    "   ",
    "ie-1",
    "acme",
    "T-1",
    "IE",
    "XX",
    "US",
    "eu-west-1",
    "mars-north-1",
    "Europe/Dublin",
    "Europe/Atlantis",
    "FREQ=SECONDLY",
    "FREQ=DAILY;COUNT=99999999999999999999",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
    "FREQ=DAILY;UNTIL=19000101T000000Z",
    "FREQ=WEEKLY;BYDAY=XX",
    "2026-12-07T09:00:00",
    "9999-99-99T99:99:99",
    "25:61",
    "token:test-admin",
];

fn hostile_string(choices: &mut Choices) -> String {
    match choices.pick(HOSTILE_TEXTS.len() + 2) {
        idx if idx < HOSTILE_TEXTS.len() => HOSTILE_TEXTS[idx].to_owned(),
        idx if idx == HOSTILE_TEXTS.len() => "x".repeat(5_000),
        _ => "é\u{202e}🙂".repeat(1 + choices.pick(40)),
    }
}

fn hostile_value(field: &prost_reflect::FieldDescriptor, choices: &mut Choices, depth: usize) -> prost_reflect::Value {
    use prost_reflect::{Kind, Value};
    const NUMBERS: [i64; 8] = [0, 1, 2, 4, -1, 99, i32::MAX as i64, i32::MIN as i64];
    match field.kind() {
        Kind::String => Value::String(hostile_string(choices)),
        Kind::Bool => Value::Bool(choices.pick(2) == 1),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(NUMBERS[choices.pick(NUMBERS.len())] as i32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64([0, -1, i64::MAX, i64::MIN, 1_796_083_200][choices.pick(5)])
        }
        Kind::Uint32 | Kind::Fixed32 => Value::U32([0, 1, u32::MAX][choices.pick(3)]),
        Kind::Uint64 | Kind::Fixed64 => Value::U64([0, 1, u64::MAX][choices.pick(3)]),
        Kind::Float => Value::F32([0.0, f32::NAN, f32::INFINITY][choices.pick(3)]),
        Kind::Double => Value::F64([0.0, f64::NAN, f64::NEG_INFINITY][choices.pick(3)]),
        Kind::Bytes => Value::Bytes(vec![0xff; choices.pick(64)].into()),
        // Wrong enums: numbers the contract does not define, besides its own.
        Kind::Enum(_) => Value::EnumNumber(NUMBERS[choices.pick(NUMBERS.len())] as i32),
        Kind::Message(message) if message.full_name() == "google.protobuf.Timestamp" => {
            let mut timestamp = prost_reflect::DynamicMessage::new(message.clone());
            let seconds = [0, -1, i64::MAX, i64::MIN, 253_402_300_800, -62_135_596_801, 1_796_083_200][choices.pick(7)];
            let nanos = [0, -1, 999_999_999, 1_000_000_000, i32::MIN][choices.pick(5)];
            timestamp.set_field_by_name("seconds", Value::I64(seconds));
            timestamp.set_field_by_name("nanos", Value::I32(nanos));
            Value::Message(timestamp)
        }
        Kind::Message(message) => Value::Message(hostile_message(&message, choices, depth + 1)),
    }
}

/// A message of `descriptor`'s type whose every field is left unset or holds a hostile value;
/// repeated fields hold none, one, a few or (for scalars) thousands.
fn hostile_message(
    descriptor: &prost_reflect::MessageDescriptor,
    choices: &mut Choices,
    depth: usize,
) -> prost_reflect::DynamicMessage {
    let mut message = prost_reflect::DynamicMessage::new(descriptor.clone());
    if depth > 3 {
        return message;
    }
    for field in descriptor.fields() {
        if field.is_map() || choices.pick(4) == 0 {
            continue;
        }
        let value = if field.is_list() {
            let length = match choices.pick(5) {
                4 if !matches!(field.kind(), prost_reflect::Kind::Message(_)) => 3_000,
                pick => pick.min(3),
            };
            prost_reflect::Value::List((0..length).map(|_| hostile_value(&field, choices, depth)).collect())
        } else {
            hostile_value(&field, choices, depth)
        };
        message.set_field(&field, value);
    }
    message
}

/// Whether `request` is a SyncShifts header asking for a dry run.
fn is_dry_run(request: &prost_reflect::DynamicMessage) -> bool {
    let Some(header) = request.get_field_by_name("header") else { return false };
    let prost_reflect::Value::Message(header) = header.as_ref() else { return false };
    header.get_field_by_name("dry_run").is_some_and(|dry_run| dry_run.as_bool() == Some(true))
}

/// How many audit events the server holds: every committed write adds one.
async fn n_audit_events(
    policy: &mut pb::policy_service_client::PolicyServiceClient<crate::helpers::AuthChannel>,
) -> usize {
    let mut count = 0;
    let mut page_token = String::new();
    loop {
        let page = policy
            .list_audit_events(pb::ListAuditEventsRequest { page_size: 200, page_token, ..Default::default() })
            .await
            .expect("listing audit events")
            .into_inner();
        count += page.events.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        page_token = page.next_page_token;
    }
}

/// Every method of the contract, read from its descriptor, gets requests built field by field
/// from hostile values. Each answer must be OK or a clear refusal; a refused call must leave no
/// audit event behind, and a successful write exactly one (each committed write appends one in
/// its own transaction).
async fn every_request_type_survives_hostile_values(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut policy = spawned.app.policy.clone();
    policy.upsert_org(pb::UpsertOrgRequest { org: Some(org("acme", "eu-west-1", pb::Plan::Standard)) }).await.unwrap();
    spawned
        .app
        .roster
        .clone()
        .upsert_agents(pb::UpsertAgentsRequest {
            agents: vec![agent("ie-1", "IE", "Europe/Dublin")],
            ..Default::default()
        })
        .await
        .unwrap();
    let pool = prost_reflect::DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).expect("the contract's descriptors");
    let methods: Vec<prost_reflect::MethodDescriptor> = pool
        .services()
        .filter(|service| service.package_name() == "eeacoverage.v1")
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .collect();
    assert_eq!(methods.len(), 30);

    let mut runner = TestRunner::new(Config { cases: 240, failure_persistence: None, ..Config::default() });
    let strategy = (0..methods.len(), prop::collection::vec(any::<u32>(), 400));
    let handle = tokio::runtime::Handle::current();
    let mut answered = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    let answered_cell = std::sync::Mutex::new(&mut answered);
    let outcome = runner.run(&strategy, |(method_idx, numbers)| {
        let method = &methods[method_idx];
        let request = hostile_message(&method.input(), &mut Choices { numbers, next: 0 }, 0);
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        // A sync whose header asks for a dry run writes nothing, even when it succeeds.
        let is_write =
            ["Upsert", "Delete", "Grant", "Revoke", "Sync"].iter().any(|verb| method.name().starts_with(verb))
                && !is_dry_run(&request);
        let (channel, mut policy) = (spawned.app.authed.clone(), policy.clone());
        let result: Result<(), String> = tokio::task::block_in_place(|| {
            handle.block_on(async {
                let before = n_audit_events(&mut policy).await;
                let mut grpc = tonic::client::Grpc::new(channel);
                grpc.ready().await.map_err(|error| format!("channel: {error}"))?;
                let codec = tonic_prost::ProstCodec::<prost_reflect::DynamicMessage, ()>::default();
                let path_and_query = http::uri::PathAndQuery::try_from(path.clone()).unwrap();
                let call = tonic::Request::new(request.clone());
                // A watch that starts answers its first message and goes on: that message decides.
                let code = if method.is_server_streaming() {
                    match grpc.server_streaming(call, path_and_query, codec).await {
                        Ok(response) => match response.into_inner().message().await {
                            Ok(_) => Code::Ok,
                            Err(status) => status.code(),
                        },
                        Err(status) => status.code(),
                    }
                } else {
                    match grpc.unary(call, path_and_query, codec).await {
                        Ok(_) => Code::Ok,
                        Err(status) => status.code(),
                    }
                };
                answered_cell.lock().unwrap().entry(path.clone()).or_default().insert(format!("{code:?}"));
                let clear = matches!(
                    code,
                    Code::Ok | Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition | Code::OutOfRange
                );
                if !clear {
                    return Err(format!("{path} answered {code:?} to {request:?}"));
                }
                // A refused call, or a read, writes nothing; a successful write, one event.
                let expected = if code == Code::Ok && is_write { before + 1 } else { before };
                let after = n_audit_events(&mut policy).await;
                if after != expected {
                    return Err(format!(
                        "{path} answered {code:?}, and the audit events went from {before} to {after}"
                    ));
                }
                Ok(())
            })
        });
        result.map_err(proptest::test_runner::TestCaseError::fail)
    });
    outcome.unwrap();
    eprintln!("hostile requests, answers by method: {answered:?}");
    assert!(answered.len() >= 20, "most methods were reached: {:?}", answered.keys());
    let policy_in_force = policy.get_policy(pb::GetPolicyRequest::default()).await;
    assert!(policy_in_force.is_ok(), "the server still answers");
}

crate::on_both_backends!(
    malformed_requests_get_a_clear_status_and_change_nothing,
    every_request_type_survives_hostile_values
);

/// The hostile test's one exception to "a successful write adds an event" is read correctly.
#[test]
fn a_dry_run_sync_is_recognised() {
    use prost::Message;
    let header = |dry_run: bool| pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
            source: "wfm".into(),
            window_start: None,
            window_end: None,
            dry_run,
        })),
    };
    let batch =
        pb::SyncShiftsRequest { message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch::default())) };
    let pool = prost_reflect::DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let descriptor = pool.get_message_by_name("eeacoverage.v1.SyncShiftsRequest").unwrap();
    let dynamic = |request: pb::SyncShiftsRequest| {
        prost_reflect::DynamicMessage::decode(descriptor.clone(), request.encode_to_vec().as_slice()).unwrap()
    };
    assert!(is_dry_run(&dynamic(header(true))));
    assert!(!is_dry_run(&dynamic(header(false))));
    assert!(!is_dry_run(&dynamic(batch)));
}
