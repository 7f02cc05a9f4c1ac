//! The pure core: policy, calendars, intervals, recurrence, roster, coverage and ticket
//! decisions. It does no I/O, reads no clock and knows neither tonic nor diesel.

#[cfg(test)]
mod boundary_tests;
pub mod calendar;
pub mod country;
pub mod coverage;
pub mod deadline;
pub mod decision;
pub mod eligibility;
pub mod explain;
#[cfg(test)]
pub mod fixtures;
pub mod gap_watch;
pub mod ids;
pub mod interval;
pub mod on_shift;
pub mod parallel;
pub mod policy;
pub mod recurrence;
pub mod roster;
pub mod snapshot;
pub mod sync;
pub mod time;
pub mod timeline;
pub mod validation;
pub mod watch;
pub mod what_if;
pub mod working_time;
