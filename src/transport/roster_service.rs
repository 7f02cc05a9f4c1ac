//! `eeacoverage.v1.RosterService`: agents, shifts and time off.

use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};

use super::convert::{
    agent_from_pb, agent_to_pb, batch_from_pb, bounded_window_field, requirement_gap_changes_to_pb, shift_from_pb,
    shift_to_pb, time_off_from_pb, time_off_to_pb, timestamp, warning_to_pb, window_field,
};
use super::layers::actor_of;
use super::pagination::{next_page_token, page_request};
use super::status::{invalid, invalid_field, required_id, to_status};
use super::stream_end::RequestStreamEnd;
use crate::app::{
    App, AppError, CallerPresence, EntryFilter, EntryKind, OwnedEntry, Page, PageRequest, SyncRequest, UpsertCounts,
    MAX_SYNC_ENTRIES,
};
use crate::audit::Actor;
use crate::domain::interval::Interval;
use crate::domain::roster::{Agent, Shift, TimeOff};
use crate::domain::sync::{check_complete, SyncChanges, SyncEntries, SyncEntryCounts, MAX_SYNC_DAYS};
use crate::domain::validation::{check_id, FieldViolation, LongestWindow, Violations, WindowReporting, WindowRules};
use crate::pb;
use crate::pb::roster_service_server::RosterService;

pub struct RosterApi {
    pub app: Arc<App>,
}

/// A batch upsert of shifts or time off (`E`): converted from the wire, written, and converted
/// back, each violation named by the entry's position.
/// The most working-time warnings a write's answer lists (each is about 150 bytes; the count says
/// how many there are in all).
pub(super) const MAX_LISTED_WARNINGS: usize = 1_000;

async fn upsert_batch<P, E>(
    app: &App,
    actor: &Actor,
    entries: Vec<P>,
    from_pb: impl Fn(P, Option<String>) -> Result<E, Vec<FieldViolation>>,
    to_pb: impl Fn(&E) -> P,
) -> Result<(Vec<P>, UpsertCounts), Status>
where
    E: OwnedEntry + Send + Sync + 'static,
{
    let entries = batch_from_pb(E::KIND.batch_field(), entries, |entry| from_pb(entry, None)).map_err(invalid)?;
    let (entries, counts) = app.upsert_entries(actor, entries).await.map_err(to_status)?;
    Ok((entries.iter().map(to_pb).collect(), counts))
}

/// One page of shifts or time off (`E`): the filter and page decoded, the page read by `list`,
/// and its entries encoded with the token of the next page.
fn entry_page<E, P>(
    (agent_id, window): (String, Option<pb::TimeWindow>),
    (page_size, page_token): (i32, &str),
    list: impl FnOnce(&EntryFilter, &PageRequest) -> Result<Page<E>, AppError>,
    to_pb: impl Fn(&E) -> P,
) -> Result<(Vec<P>, String), Status> {
    let window = window_filter(window)?;
    let page = page_request(page_size, page_token)?;
    let entries = list(&EntryFilter { agent_id: non_empty(agent_id), window }, &page).map_err(to_status)?;
    Ok((entries.items.iter().map(to_pb).collect(), next_page_token(entries.next_after)))
}

/// Deletes one shift or time off entry (`E`) by the ID sent in its ID field.
async fn delete_one<E: OwnedEntry>(app: &App, actor: &Actor, entry_id: String) -> Result<Response<()>, Status> {
    let kind = E::KIND;
    required_id(kind.id_field(), &entry_id)?;
    app.delete_entry::<E>(actor, entry_id.clone()).await.map_err(to_status)?;
    match kind {
        EntryKind::Shift => tracing::info!(shift.id = %entry_id, "shift deleted"),
        EntryKind::TimeOff => tracing::info!(time_off.id = %entry_id, "time off deleted"),
    }
    Ok(Response::new(()))
}

/// An optional ID field: proto3 sends an unset string as empty.
fn non_empty(id: String) -> Option<String> {
    (!id.is_empty()).then_some(id)
}

pub(super) fn count(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// An optional filter window; when given, both ends are required and end is after start.
fn window_filter(window: Option<pb::TimeWindow>) -> Result<Option<Interval>, Status> {
    let Some(pb::TimeWindow { start_at, end_at }) = window else { return Ok(None) };
    let mut violations = Violations::default();
    let rules = WindowRules {
        start_field: "window.start_at",
        end_field: "window.end_at",
        longest: None,
        reporting: WindowReporting::FirstOnly,
    };
    let window = window_field(&mut violations, &rules, start_at, end_at);
    violations.finish(|| window).map_err(invalid)
}

/// The longest window `ListShifts` expands occurrences over.
const MAX_OCCURRENCE_DAYS: i64 = 31;

/// `ListShifts`'s window when occurrences are asked for: required, and at most
/// `MAX_OCCURRENCE_DAYS` long.
fn occurrence_window(window: Option<pb::TimeWindow>) -> Result<Interval, Status> {
    let Some(pb::TimeWindow { start_at, end_at }) = window else {
        return Err(invalid_field("window", "with_occurrences needs a window"));
    };
    let too_long = format!("with_occurrences takes a window of at most {MAX_OCCURRENCE_DAYS} days");
    let mut violations = Violations::default();
    let rules = WindowRules {
        start_field: "window.start_at",
        end_field: "window.end_at",
        longest: Some(LongestWindow { max_days: MAX_OCCURRENCE_DAYS, description: &too_long }),
        reporting: WindowReporting::FirstOnly,
    };
    let window = window_field(&mut violations, &rules, start_at, end_at);
    violations
        .finish(|| window)
        .map_err(invalid)?
        .ok_or_else(|| invalid_field("window", "with_occurrences needs a window"))
}

/// `shift`'s occurrences overlapping `window`, clipped to it.
fn occurrences_to_pb(shift: &Shift, window: Interval) -> Result<Vec<pb::ShiftOccurrence>, Status> {
    let occurrences = shift.occurrences_within(window).map_err(|exceeded| {
        Status::resource_exhausted(format!("shift {} has too many occurrences to list: {exceeded}", shift.shift_id))
    })?;
    Ok(occurrences
        .into_iter()
        .map(|occurrence| pb::ShiftOccurrence {
            shift_id: shift.shift_id.as_str().to_owned(),
            agent_id: shift.agent_id.as_str().to_owned(),
            starts_at: Some(timestamp(occurrence.start())),
            ends_at: Some(timestamp(occurrence.end())),
        })
        .collect())
}

/// Reads a sync stream: a header, then batches. Every entry is converted; the violations of all
/// of them are reported together (up to a limit), each naming the entry's position and ID.
async fn read_sync_stream(
    mut stream: Streaming<pb::SyncShiftsRequest>,
    request_id: &str,
) -> Result<SyncRequest, Status> {
    let first =
        stream.message().await?.ok_or_else(|| invalid_field("header", "the stream is empty; send a header first"))?;
    let Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader { source, window_start, window_end, dry_run })) =
        first.message
    else {
        return Err(invalid_field("header", "the first message must be a header"));
    };
    let mut violations = Violations::default();
    check_id(&mut violations, "header.source", &source);
    let too_long = format!("a sync window spans at most {MAX_SYNC_DAYS} days");
    let ends = [("header.window_start", window_start), ("header.window_end", window_end)];
    let window = bounded_window_field(&mut violations, ends, (MAX_SYNC_DAYS, &too_long));
    if !violations.0.is_empty() {
        return Err(invalid(violations.0));
    }
    tracing::debug!(request.id = %request_id, sync.source = %source, sync.dry_run = dry_run, "sync header read");
    // `None` for an invalid entry: positions stay counted, so later entries are still named
    // correctly; a sync with any is rejected.
    let mut shifts: Vec<Option<Shift>> = Vec::new();
    let mut time_off: Vec<Option<TimeOff>> = Vec::new();
    let mut agents: Vec<Option<Agent>> = Vec::new();
    let mut entry_violations: Vec<FieldViolation> = Vec::new();
    let mut declared_counts: Option<SyncEntryCounts> = None;
    while let Some(message) = stream.message().await? {
        if declared_counts.is_some() {
            return Err(invalid_field("end", "must be the last message of the sync; another message followed it"));
        }
        let batch = match message.message {
            Some(pb::sync_shifts_request::Message::Batch(batch)) => batch,
            Some(pb::sync_shifts_request::Message::Header(_)) => {
                return Err(invalid_field("header", "only the first message may be a header"));
            }
            Some(pb::sync_shifts_request::Message::End(end)) => {
                declared_counts = Some(declared_counts_from_pb(end)?);
                continue;
            }
            None => continue,
        };
        let pb::SyncBatch { shifts: batch_shifts, time_off: batch_time_off, agents: batch_agents } = batch;
        let n_carried = shifts.len() + time_off.len() + agents.len();
        if n_carried + batch_shifts.len() + batch_time_off.len() + batch_agents.len() > MAX_SYNC_ENTRIES {
            return Err(invalid_field("batch", &format!("a sync carries at most {MAX_SYNC_ENTRIES} entries")));
        }
        for entry in batch_agents {
            let (agent_idx, agent_id) = (agents.len(), entry.agent_id.clone());
            match agent_from_pb(entry, Some(source.clone())) {
                Ok(agent) => agents.push(Some(agent)),
                Err(found) => {
                    agents.push(None);
                    entry_violations.extend(found.into_iter().map(|violation| FieldViolation {
                        field: format!("agents[{agent_idx}].{}", violation.field),
                        description: format!("agent {agent_id:?}: {}", violation.description),
                    }));
                }
            }
        }
        for entry in batch_shifts {
            let (entry_idx, shift_id) = (shifts.len(), entry.shift_id.clone());
            match shift_from_pb(entry, Some(source.clone())) {
                Ok(shift) => shifts.push(Some(shift)),
                Err(found) => {
                    shifts.push(None);
                    entry_violations.extend(found.into_iter().map(|violation| FieldViolation {
                        field: format!("shifts[{entry_idx}].{}", violation.field),
                        description: format!("entry {shift_id:?}: {}", violation.description),
                    }));
                }
            }
        }
        for entry in batch_time_off {
            let (entry_idx, time_off_id) = (time_off.len(), entry.time_off_id.clone());
            match time_off_from_pb(entry, Some(source.clone())) {
                Ok(converted) => time_off.push(Some(converted)),
                Err(found) => {
                    time_off.push(None);
                    entry_violations.extend(found.into_iter().map(|violation| FieldViolation {
                        field: format!("time_off[{entry_idx}].{}", violation.field),
                        description: format!("entry {time_off_id:?}: {}", violation.description),
                    }));
                }
            }
        }
    }
    // A sync that lost entries on the way is reported as such, not by what the rest lacks.
    let received = SyncEntryCounts { n_shifts: shifts.len(), n_time_off: time_off.len(), n_agents: agents.len() };
    check_complete(declared_counts, received).map_err(|incomplete| to_status(AppError::Incomplete(incomplete)))?;
    if !entry_violations.is_empty() {
        entry_violations.truncate(MAX_REPORTED_VIOLATIONS);
        return Err(invalid(entry_violations));
    }
    let entries = SyncEntries {
        shifts: shifts.into_iter().flatten().collect(),
        time_off: time_off.into_iter().flatten().collect(),
        agents: agents.into_iter().flatten().collect(),
    };
    Ok(SyncRequest { source, window: window.expect("checked above"), dry_run, entries, declared_counts })
}

fn declared_counts_from_pb(end: pb::SyncEnd) -> Result<SyncEntryCounts, Status> {
    let pb::SyncEnd { shift_count, time_off_count, agent_count } = end;
    let mut violations = Violations::default();
    let mut count_field = |field: &str, value: i32| match usize::try_from(value) {
        Ok(count) => count,
        Err(_) => {
            violations.add(field, format!("must not be negative (got {value})"));
            0
        }
    };
    let counts = SyncEntryCounts {
        n_shifts: count_field("end.shift_count", shift_count),
        n_time_off: count_field("end.time_off_count", time_off_count),
        n_agents: count_field("end.agent_count", agent_count),
    };
    if violations.0.is_empty() {
        Ok(counts)
    } else {
        Err(invalid(violations.0))
    }
}

/// The most violations one rejected sync reports.
pub(super) const MAX_REPORTED_VIOLATIONS: usize = 100;

pub(super) fn sync_counts(changes: &SyncChanges) -> pb::SyncCounts {
    pb::SyncCounts {
        created: count(changes.created.len()),
        updated: count(changes.updated.len()),
        deleted: count(changes.deleted.len()),
        unchanged: count(changes.n_unchanged),
    }
}

#[tonic::async_trait]
impl RosterService for RosterApi {
    async fn sync_shifts(
        &self,
        request: Request<Streaming<pb::SyncShiftsRequest>>,
    ) -> Result<Response<pb::SyncShiftsResponse>, Status> {
        let started = std::time::Instant::now();
        let actor = actor_of(&request);
        let mut caller = CallerPresence::new(&actor.request_id);
        let stream_end = request.extensions().get::<RequestStreamEnd>().cloned();
        let read = read_sync_stream(request.into_inner(), &actor.request_id).await;
        // tonic ends a request stream that its client cancelled as if it had ended cleanly:
        // only the body below the decoder knows, and a stream that did not end cleanly is
        // never a whole sync, whatever arrived of it. (A stream refused before its end, for a
        // bad header say, is still open: that refusal stands.)
        let cut_short = match (&read, &stream_end) {
            // Every server installs the layer; without it, nothing says the stream was whole.
            (Ok(_), None) => true,
            (Err(_), None) => false,
            (Ok(_), Some(end)) => !end.ended_cleanly(),
            (Err(_), Some(end)) => end.broken(),
        };
        if cut_short {
            caller.finish();
            tracing::info!(
                request.id = %actor.request_id,
                sync.outcome = "refused",
                "sync refused: its request stream was cancelled or cut off before its end"
            );
            return Err(Status::cancelled("the request stream ended without END_STREAM; nothing was written"));
        }
        let rejected = |status: Status| {
            tracing::info!(
                request.id = %actor.request_id,
                sync.outcome = "rejected",
                grpc.code = ?status.code(),
                "sync rejected"
            );
            status
        };
        let sync = read.inspect_err(|_| caller.finish()).map_err(rejected)?;
        // One more look for a reset before anything is written: hyper checks for one whenever
        // this call waits, and drops the call if it finds one. A reset with NO_ERROR reaches
        // this point as a clean end (see `stream_end`); here it ends the call instead.
        tokio::task::yield_now().await;
        let source = sync.source.clone();
        let n_received = sync.entries.n_entries();
        let outcome = self.app.sync_shifts(&actor, sync, &mut caller).await;
        caller.finish();
        let report = outcome.map_err(to_status).map_err(rejected)?;
        let (shifts, time_off) = (sync_counts(&report.shifts), sync_counts(&report.time_off));
        tracing::info!(
            request.id = %actor.request_id,
            sync.outcome = if report.dry_run { "dry_run" } else { "committed" },
            sync.source = %source,
            sync.dry_run = report.dry_run,
            sync.entries = n_received,
            shifts.created = shifts.created,
            shifts.updated = shifts.updated,
            shifts.deleted = shifts.deleted,
            shifts.unchanged = shifts.unchanged,
            sync.working_time_warnings = report.warnings.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "shifts synced"
        );
        Ok(Response::new(pb::SyncShiftsResponse {
            dry_run: report.dry_run,
            created: shifts.created + time_off.created,
            updated: shifts.updated + time_off.updated,
            deleted: shifts.deleted + time_off.deleted,
            unchanged: shifts.unchanged + time_off.unchanged,
            shifts: Some(shifts),
            time_off: Some(time_off),
            agents: Some(sync_counts(&report.agents)),
            gap_changes: report.gap_changes.iter().map(requirement_gap_changes_to_pb).collect(),
            working_time_warnings: report.warnings.iter().take(MAX_LISTED_WARNINGS).map(warning_to_pb).collect(),
            working_time_warning_count: count(report.warnings.len()),
        }))
    }

    async fn upsert_agents(
        &self,
        request: Request<pb::UpsertAgentsRequest>,
    ) -> Result<Response<pb::UpsertAgentsResponse>, Status> {
        let actor = actor_of(&request);
        let pb::UpsertAgentsRequest { agents, source } = request.into_inner();
        let source = if source.is_empty() { None } else { Some(source) };
        let agents = batch_from_pb("agents", agents, |agent| agent_from_pb(agent, source.clone())).map_err(invalid)?;
        let (agents, counts) = self.app.upsert_agents(&actor, agents).await.map_err(to_status)?;
        tracing::info!(agents.created = counts.created, agents.updated = counts.updated, "agents upserted");
        Ok(Response::new(pb::UpsertAgentsResponse {
            agents: agents.iter().map(agent_to_pb).collect(),
            created: count(counts.created),
            updated: count(counts.updated),
        }))
    }

    async fn get_agent(&self, request: Request<pb::GetAgentRequest>) -> Result<Response<pb::Agent>, Status> {
        let pb::GetAgentRequest { agent_id } = request.into_inner();
        required_id("agent_id", &agent_id)?;
        let agent = self.app.get_agent(&agent_id).map_err(to_status)?;
        Ok(Response::new(agent_to_pb(&agent)))
    }

    async fn list_agents(
        &self,
        request: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsResponse>, Status> {
        let pb::ListAgentsRequest { page_size, page_token } = request.into_inner();
        let page = page_request(page_size, &page_token)?;
        let agents = self.app.list_agents(&page);
        Ok(Response::new(pb::ListAgentsResponse {
            agents: agents.items.iter().map(agent_to_pb).collect(),
            next_page_token: next_page_token(agents.next_after),
        }))
    }

    async fn delete_agent(&self, request: Request<pb::DeleteAgentRequest>) -> Result<Response<()>, Status> {
        let actor = actor_of(&request);
        let pb::DeleteAgentRequest { agent_id } = request.into_inner();
        required_id("agent_id", &agent_id)?;
        self.app.delete_agent(&actor, agent_id.clone()).await.map_err(to_status)?;
        tracing::info!(agent.id = %agent_id, "agent deleted");
        Ok(Response::new(()))
    }

    async fn upsert_shifts(
        &self,
        request: Request<pb::UpsertShiftsRequest>,
    ) -> Result<Response<pb::UpsertShiftsResponse>, Status> {
        let actor = actor_of(&request);
        let pb::UpsertShiftsRequest { shifts } = request.into_inner();
        let shifts = batch_from_pb("shifts", shifts, |shift| shift_from_pb(shift, None)).map_err(invalid)?;
        let (shifts, counts, warnings) = self.app.upsert_shifts(&actor, shifts).await.map_err(to_status)?;
        tracing::info!(
            shifts.created = counts.created,
            shifts.updated = counts.updated,
            shifts.working_time_warnings = warnings.len(),
            "shifts upserted"
        );
        Ok(Response::new(pb::UpsertShiftsResponse {
            shifts: shifts.iter().map(shift_to_pb).collect(),
            created: count(counts.created),
            updated: count(counts.updated),
            working_time_warnings: warnings.iter().take(MAX_LISTED_WARNINGS).map(warning_to_pb).collect(),
            working_time_warning_count: count(warnings.len()),
        }))
    }

    async fn list_shifts(
        &self,
        request: Request<pb::ListShiftsRequest>,
    ) -> Result<Response<pb::ListShiftsResponse>, Status> {
        let pb::ListShiftsRequest { agent_id, window, page_size, page_token, with_occurrences } = request.into_inner();
        let expand_within = if with_occurrences { Some(occurrence_window(window)?) } else { None };
        let list = |filter: &EntryFilter, page: &PageRequest| self.app.list_shifts(filter, page);
        let listed = |shift: &Shift| {
            let occurrences = expand_within.map_or(Ok(Vec::new()), |window| occurrences_to_pb(shift, window));
            (shift_to_pb(shift), occurrences)
        };
        let (listed, next_page_token) = entry_page((agent_id, window), (page_size, &page_token), list, listed)?;
        let mut response = pb::ListShiftsResponse { shifts: Vec::new(), next_page_token, occurrences: Vec::new() };
        for (shift, occurrences) in listed {
            response.shifts.push(shift);
            response.occurrences.extend(occurrences?);
        }
        Ok(Response::new(response))
    }

    async fn delete_shift(&self, request: Request<pb::DeleteShiftRequest>) -> Result<Response<()>, Status> {
        let actor = actor_of(&request);
        let pb::DeleteShiftRequest { shift_id } = request.into_inner();
        delete_one::<Shift>(&self.app, &actor, shift_id).await
    }

    async fn upsert_time_off(
        &self,
        request: Request<pb::UpsertTimeOffRequest>,
    ) -> Result<Response<pb::UpsertTimeOffResponse>, Status> {
        let actor = actor_of(&request);
        let pb::UpsertTimeOffRequest { time_off } = request.into_inner();
        let (time_off, counts) = upsert_batch(&self.app, &actor, time_off, time_off_from_pb, time_off_to_pb).await?;
        tracing::info!(time_off.created = counts.created, time_off.updated = counts.updated, "time off upserted");
        Ok(Response::new(pb::UpsertTimeOffResponse {
            time_off,
            created: count(counts.created),
            updated: count(counts.updated),
        }))
    }

    async fn list_time_off(
        &self,
        request: Request<pb::ListTimeOffRequest>,
    ) -> Result<Response<pb::ListTimeOffResponse>, Status> {
        let pb::ListTimeOffRequest { agent_id, window, page_size, page_token } = request.into_inner();
        let list = |filter: &EntryFilter, page: &PageRequest| self.app.list_time_off(filter, page);
        let (time_off, next_page_token) =
            entry_page((agent_id, window), (page_size, &page_token), list, time_off_to_pb)?;
        Ok(Response::new(pb::ListTimeOffResponse { time_off, next_page_token }))
    }

    async fn delete_time_off(&self, request: Request<pb::DeleteTimeOffRequest>) -> Result<Response<()>, Status> {
        let actor = actor_of(&request);
        let pb::DeleteTimeOffRequest { time_off_id } = request.into_inner();
        delete_one::<TimeOff>(&self.app, &actor, time_off_id).await
    }
}
