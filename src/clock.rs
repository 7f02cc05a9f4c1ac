//! The only module that reads the system clock. Everything else is handed `now`.

use crate::domain::time::Instant;

pub fn now() -> Instant {
    #[allow(clippy::disallowed_methods, reason = "this is the one place that reads the wall clock")]
    jiff::Timestamp::now()
}

/// A source of the current instant for code that waits for instants to come: the wall clock in
/// service, a controlled one in tests.
pub type WallClock = std::sync::Arc<dyn Fn() -> Instant + Send + Sync>;

/// The wall clock, as a [`WallClock`], to the microsecond as every instant a caller sends is
/// kept: an answer given for one of its instants is the answer a call naming it gets.
pub fn wall_clock() -> WallClock {
    std::sync::Arc::new(|| {
        let now = now();
        Instant::from_microsecond(now.as_microsecond()).unwrap_or(now)
    })
}
