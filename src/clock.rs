//! The only module that reads the system clock. Everything else is handed `now`.

use crate::domain::time::Instant;

pub fn now() -> Instant {
    #[allow(clippy::disallowed_methods, reason = "this is the one place that reads the wall clock")]
    jiff::Timestamp::now()
}
