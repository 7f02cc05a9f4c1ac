//! The pure core: policy, calendars, intervals, recurrence, roster, coverage and ticket
//! decisions. It does no I/O, reads no clock and knows neither tonic nor diesel.

pub mod calendar;
pub mod country;
pub mod interval;
pub mod policy;
pub mod recurrence;
pub mod time;
pub mod decision;
pub mod roster;
pub mod snapshot;
