//! The only module that reads the system clock. Everything else is handed `now`.

use crate::domain::time::Instant;

pub fn now() -> Instant {
    jiff::Timestamp::now()
}
