//! From read events to the entries of one sync window: zones, recurrences and edited
//! occurrences (see the parent module for the rules).

use std::collections::HashMap;

use jiff::civil::{DateTime, Time};
use jiff::SignedDuration;

use super::rule_text::{has_day_rules, rule_count, shifted_weekdays, stamp, with_count, with_until, with_until_moved};
use super::{Calendar, Event, ExtraDate, PeriodEnd, Span, Value};
use crate::domain::interval::Interval;
use crate::domain::recurrence::{ExDate, RecurringSchedule};
use crate::domain::time::{Instant, Zone};
use crate::domain::validation::MAX_ID_BYTES;
use crate::formats::{timestamp, ImportedEntries, ImportedEntry, LineError};
use crate::pb;

/// An entry with the line of the event it came from and the instant it starts (for a series,
/// its first occurrence).
struct Placed {
    entry: ImportedEntry,
    line: usize,
    starts: Instant,
}

pub(super) fn entries(
    calendar: &Calendar,
    window: Interval,
    home_zones: &HashMap<String, Zone>,
) -> Result<ImportedEntries, Vec<LineError>> {
    let placing =
        Placing { calendar, window, home_zones, utc: Zone::named("UTC").expect("the bundled tz database has UTC") };
    let mut order: Vec<&str> = Vec::new();
    let mut groups: HashMap<&str, Vec<&Event>> = HashMap::new();
    for event in &calendar.events {
        let group = groups.entry(event.uid.as_str()).or_default();
        if group.is_empty() {
            order.push(event.uid.as_str());
        }
        group.push(event);
    }
    let mut entries = ImportedEntries::default();
    let mut errors = Vec::new();
    for uid in order {
        match placing.group(&groups[uid]) {
            Ok(placed) => {
                for placed in placed {
                    if window.contains(placed.starts) {
                        entries.push(placed.entry, placed.line);
                    } else {
                        entries.outside_window += 1;
                    }
                }
            }
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

struct Placing<'c> {
    calendar: &'c Calendar,
    window: Interval,
    home_zones: &'c HashMap<String, Zone>,
    utc: Zone,
}

/// A run of a series with one pattern: the whole series, or the part before or after a
/// `RANGE=THISANDFUTURE` edit.
struct Segment {
    id: String,
    line: usize,
    start_local: DateTime,
    end_time: Time,
    rule: String,
    exdates: Vec<ExDate>,
    /// How far this run's occurrences moved from where the rule first put them.
    moved_by: SignedDuration,
    /// Wall-clock length of an occurrence.
    length: SignedDuration,
}

/// A one-off occurrence: an edited occurrence, an `RDATE`, or the event itself.
struct Single {
    id: String,
    line: usize,
    start: Instant,
    end: Instant,
}

fn failure(event: &Event, line: usize, message: impl std::fmt::Display) -> LineError {
    LineError { line, message: format!("{}: {message}", event.uid) }
}

/// `UID#suffix`, or a shortened form with a hash of its whole when that is longer than an ID
/// may be.
fn entry_id(uid: &str, suffix: Option<&str>) -> String {
    let id = match suffix {
        Some(suffix) => format!("{uid}#{suffix}"),
        None => uid.to_owned(),
    };
    if id.len() <= MAX_ID_BYTES {
        return id;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(id.as_bytes());
    let hash: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    let mut cut = MAX_ID_BYTES - hash.len() - 1;
    while !id.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{hash}", &id[..cut])
}

fn is_time_off(event: &Event) -> bool {
    event.time_off || matches!(event.start, Some((Value::Date(_), _)))
}

impl Placing<'_> {
    fn group(&self, events: &[&Event]) -> Result<Vec<Placed>, LineError> {
        let masters: Vec<&Event> = events.iter().copied().filter(|event| event.recurrence_id.is_none()).collect();
        let mut overrides: Vec<&Event> = events.iter().copied().filter(|event| event.recurrence_id.is_some()).collect();
        if let [first, second, ..] = masters.as_slice() {
            return Err(failure(
                second,
                second.line,
                format!("a second VEVENT with this UID and no RECURRENCE-ID (the first is on line {})", first.line),
            ));
        }
        let Some(master) = masters.first().copied() else {
            // Edited occurrences whose series is not in the file stand on their own.
            let mut placed = Vec::new();
            for event in overrides.into_iter().filter(|event| !event.cancelled) {
                let (rid, _, _) = event.recurrence_id.as_ref().expect("an override");
                let (rid_local, _) = self.local(rid, event).map_err(|message| failure(event, event.line, message))?;
                placed.extend(self.standalone(event, Some(&stamp(rid_local)))?);
            }
            return Ok(placed);
        };
        if master.cancelled {
            return Ok(Vec::new());
        }
        overrides.sort_by_key(|event| event.line);
        if is_time_off(master) {
            self.time_off(master, &overrides)
        } else {
            self.shift(master, &overrides)
        }
    }

    /// The zone and local date-time of a value of `event`.
    fn local(&self, value: &Value, event: &Event) -> Result<(DateTime, Zone), String> {
        match value {
            Value::Utc(utc) => Ok((*utc, self.utc.clone())),
            Value::Local(local, Some(tzid)) => {
                let zone = self.calendar.zones.get(tzid).ok_or_else(|| format!("TZID {tzid:?} was not resolved"))?;
                Ok((*local, zone.clone()))
            }
            Value::Local(local, None) => match &self.calendar.default_zone {
                Some(zone) => Ok((*local, zone.clone())),
                None => Ok((*local, self.home_zone(event, "a floating date-time (no TZID) is read in")?)),
            },
            Value::Date(day) => {
                Ok((day.to_datetime(Time::midnight()), self.home_zone(event, "an all-day event covers whole days of")?))
            }
        }
    }

    fn home_zone(&self, event: &Event, why: &str) -> Result<Zone, String> {
        self.home_zones.get(&event.agent).cloned().ok_or_else(|| {
            format!(
                "{why} the agent's home zone, and agent {:?} is not known to the server (create it first, or give --time-zone for floating times)",
                event.agent
            )
        })
    }

    /// A value as a local date-time of `zone`.
    fn local_in(&self, value: &Value, event: &Event, zone: &Zone) -> Result<DateTime, String> {
        let (local, own_zone) = self.local(value, event)?;
        Ok(if own_zone == *zone { local } else { zone.to_local(own_zone.to_instant(local)) })
    }

    /// The start of an event, as a local date-time of its own zone.
    fn start(&self, event: &Event) -> Result<(DateTime, Zone), LineError> {
        let (value, line) = event.start.as_ref().ok_or_else(|| failure(event, event.line, "DTSTART is missing"))?;
        self.local(value, event).map_err(|message| failure(event, *line, message))
    }

    /// The local end, in `zone`, of an event that starts at `start_local`: its DTEND, or its
    /// DURATION, or `default` (a length to keep), or a day for an all-day event.
    fn end_local(
        &self,
        event: &Event,
        start_local: DateTime,
        zone: &Zone,
        default: Option<SignedDuration>,
    ) -> Result<DateTime, LineError> {
        if let Some((value, line)) = &event.end {
            return self.local_in(value, event, zone).map_err(|message| failure(event, *line, message));
        }
        if let Some((span, line)) = &event.duration {
            return add_span(zone, start_local, *span)
                .ok_or_else(|| failure(event, *line, "the DURATION runs out of range"));
        }
        if let Some(length) = default {
            return Ok(start_local.saturating_add(length));
        }
        match &event.start {
            Some((Value::Date(_), _)) => Ok(start_local.saturating_add(SignedDuration::from_hours(24))),
            _ => Err(failure(event, event.line, "neither DTEND nor DURATION: the event has no end")),
        }
    }

    fn shift(&self, master: &Event, overrides: &[&Event]) -> Result<Vec<Placed>, LineError> {
        let (start_local, zone) = self.start(master)?;
        let end_local = self.end_local(master, start_local, &zone, None)?;
        let end_line = master
            .end
            .as_ref()
            .map(|(_, line)| *line)
            .or(master.duration.as_ref().map(|(_, line)| *line))
            .unwrap_or(master.line);
        let start = zone.to_instant(start_local);
        let end = zone.to_instant(end_local);
        if end <= start {
            return Err(failure(master, end_line, "the event ends before it starts"));
        }
        let length = end_local.duration_since(start_local);
        let Some((rule, rule_line)) = &master.rrule else {
            return self.one_off_shift(master, overrides, start_local, &zone, length);
        };
        // Its wall-clock length, as the service reads a recurring shift's end (`end_time` on the
        // start's day, or the next day when not after the start time): up to a whole day.
        if length > SignedDuration::from_hours(24) {
            return Err(failure(
                master,
                end_line,
                "a recurring shift lasts at most a day (DTEND within 24 hours of DTSTART, wall clock)",
            ));
        }
        let mut exdates = Vec::new();
        for (value, line) in &master.exdates {
            exdates.push(match value {
                Value::Date(day) => ExDate::Day(*day),
                other => {
                    ExDate::At(self.local_in(other, master, &zone).map_err(|message| failure(master, *line, message))?)
                }
            });
        }
        let mut segments = vec![Segment {
            id: entry_id(&master.uid, None),
            line: master.line,
            start_local,
            end_time: end_local.time(),
            rule: rule.clone(),
            exdates,
            moved_by: SignedDuration::ZERO,
            length,
        }];
        let mut singles = Vec::new();
        let mut edited = Vec::new();
        let mut by_occurrence: Vec<(DateTime, &Event)> = Vec::new();
        for event in overrides {
            let (rid, _, line) = event.recurrence_id.as_ref().expect("an override");
            let rid_local = match rid {
                Value::Date(day) => day.to_datetime(start_local.time()),
                other => self.local_in(other, event, &zone).map_err(|message| failure(event, *line, message))?,
            };
            by_occurrence.push((rid_local, event));
        }
        by_occurrence.sort_by_key(|(rid_local, _)| *rid_local);
        for (rid_local, event) in by_occurrence {
            edited.push(rid_local);
            let (_, this_and_future, rid_line) = event.recurrence_id.as_ref().expect("an override");
            if *this_and_future {
                self.split(&mut segments, event, rid_local, *rid_line, &zone)?;
                continue;
            }
            let segment = segments
                .iter_mut()
                .rev()
                .find(|segment| segment.start_local <= rid_local.saturating_add(segment.moved_by));
            let Some(segment) = segment else { continue };
            let moved = rid_local.saturating_add(segment.moved_by);
            segment.exdates.push(ExDate::At(moved));
            if event.cancelled {
                continue;
            }
            let (own_start, own_zone) = match &event.start {
                Some((value, line)) => {
                    let (local, own_zone) =
                        self.local(value, event).map_err(|message| failure(event, *line, message))?;
                    (local, own_zone)
                }
                None => (moved, zone.clone()),
            };
            let own_end = self.end_local(event, own_start, &own_zone, Some(segment.length))?;
            singles.push(Single {
                id: entry_id(&master.uid, Some(&stamp(rid_local))),
                line: event.line,
                start: own_zone.to_instant(own_start),
                end: own_zone.to_instant(own_end),
            });
        }
        singles.extend(self.extra_dates(master, &zone, length, &edited)?);
        let mut placed = Vec::new();
        for segment in segments {
            placed.push(self.anchored(master, segment, &zone, *rule_line)?);
        }
        for single in singles {
            placed.push(self.placed_one_off(master, single)?);
        }
        Ok(placed)
    }

    /// A shift without RRULE: the event itself (or its edit), and its RDATEs.
    fn one_off_shift(
        &self,
        master: &Event,
        overrides: &[&Event],
        start_local: DateTime,
        zone: &Zone,
        length: SignedDuration,
    ) -> Result<Vec<Placed>, LineError> {
        let mut singles = Vec::new();
        let mut edited = Vec::new();
        let mut own = Some(Single {
            id: entry_id(&master.uid, None),
            line: master.line,
            start: zone.to_instant(start_local),
            end: zone.to_instant(start_local.saturating_add(length)),
        });
        for event in overrides {
            let (rid, _, line) = event.recurrence_id.as_ref().expect("an override");
            let rid_local = self.local_in(rid, event, zone).map_err(|message| failure(event, *line, message))?;
            edited.push(rid_local);
            let suffix = (rid_local != start_local).then(|| stamp(rid_local));
            if rid_local == start_local {
                own = None;
            }
            if !event.cancelled {
                let (own_start, own_zone) = match &event.start {
                    Some((value, line)) => {
                        self.local(value, event).map_err(|message| failure(event, *line, message))?
                    }
                    None => (rid_local, zone.clone()),
                };
                let own_end = self.end_local(event, own_start, &own_zone, Some(length))?;
                singles.push(Single {
                    id: entry_id(&master.uid, suffix.as_deref()),
                    line: event.line,
                    start: own_zone.to_instant(own_start),
                    end: own_zone.to_instant(own_end),
                });
            }
        }
        singles.extend(own);
        singles.extend(self.extra_dates(master, zone, length, &edited)?);
        singles.into_iter().map(|single| self.placed_one_off(master, single)).collect()
    }

    /// The one-off occurrences an event's RDATEs add, but those an edit replaces.
    fn extra_dates(
        &self,
        event: &Event,
        zone: &Zone,
        length: SignedDuration,
        edited: &[DateTime],
    ) -> Result<Vec<Single>, LineError> {
        let mut singles = Vec::new();
        for (extra, line) in &event.rdates {
            let at = |message: String| failure(event, *line, message);
            let (start_value, end) = match extra {
                ExtraDate::Start(start) => (start, None),
                ExtraDate::Period(start, end) => (start, Some(end)),
            };
            let start_local = self.local_in(start_value, event, zone).map_err(at)?;
            if edited.contains(&start_local) {
                continue;
            }
            let end_local = match end {
                None => start_local.saturating_add(length),
                Some(PeriodEnd::At(value)) => self.local_in(value, event, zone).map_err(at)?,
                Some(PeriodEnd::After(span)) => {
                    add_span(zone, start_local, *span).ok_or_else(|| at("the period runs out of range".into()))?
                }
            };
            let suffix = match start_value {
                Value::Date(day) => day.strftime("%Y%m%d").to_string(),
                _ => stamp(start_local),
            };
            singles.push(Single {
                id: entry_id(&event.uid, Some(&suffix)),
                line: *line,
                start: zone.to_instant(start_local),
                end: zone.to_instant(end_local),
            });
        }
        Ok(singles)
    }

    /// Splits the series at an edit with `RANGE=THISANDFUTURE`: the run before it ends there, and
    /// a new run starts at the edit's time with its length.
    fn split(
        &self,
        segments: &mut Vec<Segment>,
        event: &Event,
        rid_local: DateTime,
        rid_line: usize,
        zone: &Zone,
    ) -> Result<(), LineError> {
        let at = |message: String| failure(event, rid_line, message);
        let Some(current) = segments.pop() else { return Ok(()) };
        let original_start = current.start_local.saturating_sub(current.moved_by);
        let schedule = RecurringSchedule::new(zone.clone(), original_start, current.end_time, &current.rule, vec![])
            .map_err(|error| at(format!("RRULE: {error}")))?;
        let n_before = schedule.rule_starts_before(rid_local).map_err(|error| at(error.to_string()))?.len();
        let count = rule_count(&current.rule);
        let (new_start, new_zone) = match &event.start {
            Some((value, line)) => {
                (self.local_in(value, event, zone).map_err(|message| failure(event, *line, message))?, zone.clone())
            }
            None => (rid_local.saturating_add(current.moved_by), zone.clone()),
        };
        let new_end = self.end_local(event, new_start, &new_zone, Some(current.length))?;
        let moved_by = new_start.duration_since(rid_local);
        let day_shift = new_start.date().since(rid_local.date()).map(|span| span.get_days()).unwrap_or(0);
        // Moved to other days, a rule that picks its weekdays picks the moved ones.
        let moved_rule = if day_shift != 0 && has_day_rules(&current.rule) {
            shifted_weekdays(&current.rule, i64::from(day_shift)).ok_or_else(|| {
                at("RANGE=THISANDFUTURE moves the occurrences to another day, which this rule cannot follow (it picks month days, numbered weekdays, or several weekdays every few weeks); export the two parts of the series as two events".into())
            })?
        } else {
            current.rule.clone()
        };
        let length = new_end.duration_since(new_start);
        if length <= SignedDuration::ZERO || length > SignedDuration::from_hours(24) {
            return Err(failure(event, event.line, "a recurring shift ends after its start and lasts at most a day"));
        }
        if new_end.second() != 0 {
            return Err(failure(event, event.line, "a recurring shift ends on a whole minute"));
        }
        let boundary = rid_local.saturating_add(current.moved_by);
        let (before, after): (Vec<ExDate>, Vec<ExDate>) =
            current.exdates.iter().cloned().partition(|exdate| match exdate {
                ExDate::At(local) => *local < boundary,
                ExDate::Day(day) => *day < boundary.date(),
            });
        let shifted = after
            .into_iter()
            .map(|exdate| match exdate {
                ExDate::At(local) => ExDate::At(local.saturating_sub(current.moved_by).saturating_add(moved_by)),
                ExDate::Day(day) => ExDate::Day(day.saturating_add(jiff::Span::new().days(day_shift))),
            })
            .collect();
        let (before_rule, after_rule) = match count {
            Some(count) => (
                with_count(&current.rule, n_before as u64),
                (count > n_before as u64).then(|| with_count(&moved_rule, count - n_before as u64)),
            ),
            None => (
                with_until(&current.rule, boundary.saturating_sub(SignedDuration::from_secs(1))),
                Some(with_until_moved(&moved_rule, zone, moved_by)),
            ),
        };
        if n_before > 0 {
            segments.push(Segment { rule: before_rule, exdates: before, ..current });
        }
        if let (Some(rule), false) = (after_rule, event.cancelled) {
            segments.push(Segment {
                id: entry_id(&event.uid, Some(&stamp(rid_local))),
                line: event.line,
                start_local: new_start,
                end_time: new_end.time(),
                rule,
                exdates: shifted,
                moved_by,
                length,
            });
        }
        Ok(())
    }

    /// A run of a series as a recurring shift that starts in the window: a run that began before
    /// it starts at its first occurrence inside it instead.
    fn anchored(&self, master: &Event, segment: Segment, zone: &Zone, rule_line: usize) -> Result<Placed, LineError> {
        let at = |message: String| failure(master, rule_line, message);
        if segment.end_time.second() != 0 {
            return Err(failure(master, master.line, "a recurring shift ends on a whole minute"));
        }
        let mut segment = segment;
        let first = zone.to_instant(segment.start_local);
        if first < self.window.start() {
            let schedule =
                RecurringSchedule::new(zone.clone(), segment.start_local, segment.end_time, &segment.rule, vec![])
                    .map_err(|error| at(format!("RRULE: {error}")))?;
            let limit = zone.to_local(self.window.end()).saturating_add(SignedDuration::from_hours(48));
            let starts = schedule.rule_starts_before(limit).map_err(|error| at(error.to_string()))?;
            // A series with no occurrence inside stays as it is: it starts outside the window.
            let inside = starts.iter().position(|local| self.window.contains(zone.to_instant(*local)));
            if let Some(n_before) = inside {
                let anchor = starts[n_before];
                if let Some(count) = rule_count(&segment.rule) {
                    segment.rule = with_count(&segment.rule, count.saturating_sub(n_before as u64));
                }
                segment.exdates.retain(|exdate| match exdate {
                    ExDate::At(local) => *local >= anchor,
                    ExDate::Day(day) => *day >= anchor.date(),
                });
                segment.start_local = anchor;
            }
        }
        let shift = pb::Shift {
            source: String::new(),
            shift_id: segment.id,
            agent_id: master.agent.clone(),
            severities: master.severities.clone(),
            country: master.country.clone(),
            schedule: Some(pb::shift::Schedule::Recurring(pb::RecurringShift {
                time_zone: zone.name().to_owned(),
                start_local: segment.start_local.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                end_time: segment.end_time.strftime("%H:%M").to_string(),
                rrule: segment.rule,
                exdates: segment.exdates.iter().map(ExDate::to_string).collect(),
            })),
        };
        Ok(Placed {
            entry: ImportedEntry::Shift(shift),
            line: segment.line,
            starts: zone.to_instant(segment.start_local),
        })
    }

    fn placed_one_off(&self, master: &Event, single: Single) -> Result<Placed, LineError> {
        if single.end <= single.start {
            return Err(failure(master, single.line, "the occurrence ends before it starts"));
        }
        let shift = pb::Shift {
            source: String::new(),
            shift_id: single.id,
            agent_id: master.agent.clone(),
            severities: master.severities.clone(),
            country: master.country.clone(),
            schedule: Some(pb::shift::Schedule::OneOff(pb::OneOffShift {
                starts_at: Some(timestamp(single.start)),
                ends_at: Some(timestamp(single.end)),
            })),
        };
        Ok(Placed { entry: ImportedEntry::Shift(shift), line: single.line, starts: single.start })
    }

    /// An edited occurrence whose series is not in the file.
    fn standalone(&self, event: &Event, suffix: Option<&str>) -> Result<Vec<Placed>, LineError> {
        let (start_local, zone) = self.start(event)?;
        let end_local = self.end_local(event, start_local, &zone, None)?;
        let single = Single {
            id: entry_id(&event.uid, suffix),
            line: event.line,
            start: zone.to_instant(start_local),
            end: zone.to_instant(end_local),
        };
        if is_time_off(event) {
            return Ok(vec![time_off_placed(event, single)?]);
        }
        Ok(vec![self.placed_one_off(event, single)?])
    }

    /// Time off: the event, or each of its occurrences that starts in the window.
    fn time_off(&self, master: &Event, overrides: &[&Event]) -> Result<Vec<Placed>, LineError> {
        let (start_local, zone) = self.start(master)?;
        let end_local = self.end_local(master, start_local, &zone, None)?;
        let length = end_local.duration_since(start_local);
        let whole_days = matches!(master.start, Some((Value::Date(_), _)));
        let suffix_of = |local: DateTime| {
            if whole_days {
                local.date().strftime("%Y%m%d").to_string()
            } else {
                stamp(local)
            }
        };
        // Each occurrence: its local start and the local start it was written at.
        let mut starts: Vec<DateTime> = match &master.rrule {
            None => vec![start_local],
            Some((rule, line)) => {
                let at = |message: String| failure(master, *line, message);
                let schedule = RecurringSchedule::new(zone.clone(), start_local, start_local.time(), rule, vec![])
                    .map_err(|error| at(format!("RRULE: {error}")))?;
                let limit = zone.to_local(self.window.end()).saturating_add(SignedDuration::from_hours(48));
                schedule.rule_starts_before(limit).map_err(|error| at(error.to_string()))?
            }
        };
        for (value, line) in &master.exdates {
            let excluded = match value {
                Value::Date(day) => ExDate::Day(*day),
                other => {
                    ExDate::At(self.local_in(other, master, &zone).map_err(|message| failure(master, *line, message))?)
                }
            };
            starts.retain(|local| match &excluded {
                ExDate::At(at) => local != at,
                ExDate::Day(day) => local.date() != *day,
            });
        }
        let recurring = master.rrule.is_some();
        let mut singles: Vec<Single> = starts
            .into_iter()
            .map(|local| Single {
                id: entry_id(&master.uid, recurring.then(|| suffix_of(local)).as_deref()),
                line: master.line,
                start: zone.to_instant(local),
                end: zone.to_instant(local.saturating_add(length)),
            })
            .collect();
        let mut edited = Vec::new();
        for event in overrides {
            let (rid, this_and_future, line) = event.recurrence_id.as_ref().expect("an override");
            let rid_local = self.local_in(rid, event, &zone).map_err(|message| failure(event, *line, message))?;
            let rid_instant = zone.to_instant(rid_local);
            edited.push(rid_local);
            let (own_start, own_zone) = match &event.start {
                Some((value, line)) => self.local(value, event).map_err(|message| failure(event, *line, message))?,
                None => (rid_local, zone.clone()),
            };
            let own_end = self.end_local(event, own_start, &own_zone, Some(length))?;
            let moved_by = own_zone.to_instant(own_start).duration_since(rid_instant);
            let own_length = own_end.duration_since(own_start);
            let mut kept = Vec::new();
            for single in singles {
                let hit = if *this_and_future { single.start >= rid_instant } else { single.start == rid_instant };
                if !hit {
                    kept.push(single);
                } else if !event.cancelled {
                    let start = single.start + moved_by;
                    let end = zone.to_instant(zone.to_local(start).saturating_add(own_length));
                    kept.push(Single { line: event.line, start, end, ..single });
                }
            }
            singles = kept;
        }
        singles.extend(self.extra_dates(master, &zone, length, &edited)?);
        singles.into_iter().map(|single| time_off_placed(master, single)).collect()
    }
}

fn time_off_placed(event: &Event, single: Single) -> Result<Placed, LineError> {
    if single.end <= single.start {
        return Err(failure(event, single.line, "the time off ends before it starts"));
    }
    let time_off = pb::TimeOff {
        source: String::new(),
        time_off_id: single.id,
        agent_id: event.agent.clone(),
        starts_at: Some(timestamp(single.start)),
        ends_at: Some(timestamp(single.end)),
    };
    Ok(Placed { entry: ImportedEntry::TimeOff(time_off), line: single.line, starts: single.start })
}

/// `start` plus a duration: whole days on the calendar (a DST day is still a day), then exact
/// seconds.
fn add_span(zone: &Zone, start: DateTime, span: Span) -> Option<DateTime> {
    let after_days = start.checked_add(jiff::Span::new().days(span.days)).ok()?;
    if span.seconds == 0 {
        return Some(after_days);
    }
    let instant = zone.to_instant(after_days).checked_add(SignedDuration::from_secs(span.seconds)).ok()?;
    Some(zone.to_local(instant))
}
