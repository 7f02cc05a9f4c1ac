//! The calls a load test makes, and the roster it seeds a server with.

use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::cli::connection::AuthChannel;
use crate::pb;
use crate::testing::rosters::{load_test_roster, LOAD_TEST_ORGS};
use crate::testing::DeterministicRandom;

fn timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

/// Loads orgs, agents, recurring shifts and time off: a 90-day roster around now.
pub async fn seed(channel: AuthChannel, n_agents: usize, now: i64) -> Result<(), String> {
    let roster_to_load = load_test_roster(n_agents, now)?;
    let mut policy = pb::policy_service_client::PolicyServiceClient::new(channel.clone());
    for org in roster_to_load.orgs {
        policy
            .upsert_org(pb::UpsertOrgRequest { org: Some(org) })
            .await
            .map_err(|status| status.message().to_owned())?;
    }
    let mut roster = pb::roster_service_client::RosterServiceClient::new(channel);
    for batch in roster_to_load.agents.chunks(1_000) {
        roster
            .upsert_agents(pb::UpsertAgentsRequest { agents: batch.to_vec(), source: "load".into() })
            .await
            .map_err(|status| status.message().to_owned())?;
    }
    let (shifts, time_off, window_start) =
        (roster_to_load.shifts, roster_to_load.time_off, roster_to_load.window_start_secs);
    let header = pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
            source: "load".into(),
            window_start: Some(timestamp(window_start - 86_400)),
            window_end: Some(timestamp(window_start + 100 * 86_400)),
            dry_run: false,
        })),
    };
    let batches = shifts.chunks(1_000).map(|chunk| pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch {
            shifts: chunk.to_vec(),
            time_off: vec![],
            agents: vec![],
        })),
    });
    let end = crate::cli::import::sync_end(shifts.len(), time_off.len(), 0);
    let leave = pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch {
            shifts: vec![],
            time_off,
            agents: vec![],
        })),
    };
    let messages: Vec<_> =
        std::iter::once(header).chain(batches).chain(std::iter::once(leave)).chain(std::iter::once(end)).collect();
    roster.sync_shifts(tokio_stream::iter(messages)).await.map_err(|status| status.message().to_owned())?;
    Ok(())
}

pub async fn health_call(channel: Channel, _call_idx: u64) -> Result<(), tonic::Code> {
    outcome(HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await)
}

/// Varied orgs, severities, categories and instants within the next two weeks.
pub async fn decide_call(channel: AuthChannel, call_idx: u64, now: i64) -> Result<(), tonic::Code> {
    let request = decide_request(call_idx, now);
    outcome(pb::ticket_service_client::TicketServiceClient::new(channel).decide_ticket(request).await)
}

/// The `DecideTicket` question of call `call_idx`, over gRPC or JSON alike.
pub fn decide_request(call_idx: u64, now: i64) -> pb::DecideTicketRequest {
    let question = RandomQuestion::draw(call_idx, now, None);
    pb::DecideTicketRequest {
        org_id: question.org_id,
        severity: question.severity,
        category: question.category,
        ticket_id: question.ticket_id,
        at: question.at,
        as_known_at: None,
    }
}

/// The same mix as `decide_call`, asked about one of the seeded agents.
pub async fn access_call(channel: AuthChannel, call_idx: u64, now: i64, n_agents: usize) -> Result<(), tonic::Code> {
    let question = RandomQuestion::draw(call_idx, now, Some(n_agents));
    let request = pb::CheckAgentAccessRequest {
        org_id: question.org_id,
        severity: question.severity,
        category: question.category,
        ticket_id: question.ticket_id,
        agent_id: question.agent_id,
        at: question.at,
        as_known_at: None,
    };
    outcome(pb::ticket_service_client::TicketServiceClient::new(channel).check_agent_access(request).await)
}

/// What a phase counts of a call: success, or the status code it failed with.
fn outcome<T>(response: Result<tonic::Response<T>, tonic::Status>) -> Result<(), tonic::Code> {
    response.map(|_| ()).map_err(|status| status.code())
}

/// One question of a load test, drawn from the call's index, so every run asks the same ones.
struct RandomQuestion {
    org_id: String,
    severity: i32,
    category: i32,
    ticket_id: String,
    /// Empty unless the question is about one of `n_agents` seeded agents.
    agent_id: String,
    at: Option<prost_types::Timestamp>,
}

impl RandomQuestion {
    /// The draws keep the order the calls have always made them in (the agent before the
    /// instant), so a question asked before this type existed is asked again.
    fn draw(call_idx: u64, now: i64, n_agents: Option<usize>) -> RandomQuestion {
        let mut random = DeterministicRandom::new(call_idx);
        let (org_id, _, _) = LOAD_TEST_ORGS[random.below(LOAD_TEST_ORGS.len() as u64) as usize];
        let severity = 1 + random.below(4) as i32;
        let category = if random.below(10) == 0 { pb::TicketCategory::ThirdParty as i32 } else { 0 };
        let ticket_id = format!("load-ticket-{}", random.below(1_000_000));
        let agent_id = match n_agents {
            Some(n_agents) => format!("load-agent-{:05}", random.below(n_agents as u64)),
            None => String::new(),
        };
        let at = Some(timestamp(now - 3 * 86_400 + random.below(17 * 86_400) as i64));
        RandomQuestion { org_id: org_id.into(), severity, category, ticket_id, agent_id, at }
    }
}

/// Out of every 100 calls of the mixed phase: 95 `DecideTicket`, 4 `CheckAgentAccess` and one
/// single-agent write.
const MIXED_DECIDE_SHARE: u64 = 95;
const MIXED_ACCESS_SHARE: u64 = 4;

/// One call of the mixed phase, drawn from its index, named by its kind: mostly the hot path,
/// now and then a write touching one agent, as a WFM tool pushes changes when they happen.
/// With `writes_paced`, the writes come at a rate of their own (see `paced_writes`) and the
/// write's share of these calls is a `DecideTicket`.
pub async fn mixed_call(
    channel: AuthChannel,
    call_idx: u64,
    now: i64,
    agents: std::sync::Arc<Vec<pb::Agent>>,
    writes_paced: bool,
) -> (&'static str, Result<(), tonic::Code>) {
    match MixedKind::of(call_idx) {
        MixedKind::Write if !writes_paced => write_call(channel, call_idx, now, &agents).await,
        MixedKind::Decide | MixedKind::Write => ("DecideTicket", decide_call(channel, call_idx, now).await),
        MixedKind::Access => ("CheckAgentAccess", access_call(channel, call_idx, now, agents.len()).await),
    }
}

/// What one call of the mixed phase is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MixedKind {
    Decide,
    Access,
    Write,
}

impl MixedKind {
    /// A draw of its own, so the questions asked are the ones the other phases ask.
    fn of(call_idx: u64) -> MixedKind {
        let share = DeterministicRandom::new(call_idx ^ 0x6d69_7865_6421).below(100);
        if share < MIXED_DECIDE_SHARE {
            MixedKind::Decide
        } else if share < MIXED_DECIDE_SHARE + MIXED_ACCESS_SHARE {
            MixedKind::Access
        } else {
            MixedKind::Write
        }
    }
}

/// A write touching one seeded agent, in turn: the agent sent again as seeded (`UpsertAgents`),
/// a day of sick leave (`UpsertTimeOff`), or an extra four-hour shift (`UpsertShifts`), each
/// within the two weeks after `now`. Entries keep one ID per agent, so repeated writes replace
/// them and the roster does not grow.
pub async fn write_call(
    channel: AuthChannel,
    call_idx: u64,
    now: i64,
    agents: &[pb::Agent],
) -> (&'static str, Result<(), tonic::Code>) {
    let mut random = DeterministicRandom::new(call_idx.wrapping_mul(0x9e37_79b9) ^ 0x0077_7269_7465);
    let agent = &agents[random.below(agents.len() as u64) as usize];
    let agent_id = agent.agent_id.clone();
    let mut roster = pb::roster_service_client::RosterServiceClient::new(channel);
    let start = now - now % 3_600 + random.below(14 * 24) as i64 * 3_600;
    match random.below(3) {
        0 => {
            let request = pb::UpsertAgentsRequest { agents: vec![agent.clone()], source: "load".into() };
            ("UpsertAgents (1)", outcome(roster.upsert_agents(request).await))
        }
        1 => {
            let time_off = pb::TimeOff {
                source: String::new(),
                time_off_id: format!("{agent_id}-sick"),
                agent_id,
                starts_at: Some(timestamp(start)),
                ends_at: Some(timestamp(start + 86_400)),
            };
            let request = pb::UpsertTimeOffRequest { time_off: vec![time_off] };
            ("UpsertTimeOff (1)", outcome(roster.upsert_time_off(request).await))
        }
        _ => {
            let shift = crate::testing::one_off_shift(format!("{agent_id}-extra"), agent_id, start, start + 4 * 3_600);
            let request = pb::UpsertShiftsRequest { shifts: vec![shift] };
            ("UpsertShifts (1)", outcome(roster.upsert_shifts(request).await))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::MixedKind;

    #[test]
    fn the_mixed_phase_draws_95_4_1() {
        let mut counts: BTreeMap<MixedKind, u32> = BTreeMap::new();
        for call_idx in 0..100_000 {
            *counts.entry(MixedKind::of(call_idx)).or_default() += 1;
        }
        let share = |kind| f64::from(counts[&kind]) / 1_000.0;
        assert!((94.5..95.5).contains(&share(MixedKind::Decide)), "{counts:?}");
        assert!((3.7..4.3).contains(&share(MixedKind::Access)), "{counts:?}");
        assert!((0.85..1.15).contains(&share(MixedKind::Write)), "{counts:?}");
    }
}
