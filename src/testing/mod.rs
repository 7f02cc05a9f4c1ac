//! Support for the tests, the benchmarks and the load generator; the server never uses it.
//!
//! It holds what those three would otherwise each copy: a deterministic random generator and the
//! rosters built from it (so a benchmark or a load run measures the same workload every time), and
//! a server started on its own task for a test or a benchmark to call.

pub mod calendars;
pub mod rosters;
pub mod server;

pub use server::{settings_with_admin_token, SpawnedServer};

/// A one-off shift from `starts_at_secs` to `ends_at_secs` (UTC seconds), with no severities
/// and no country of its own: the entry that generated syncs send by the thousand.
pub fn one_off_shift(shift_id: String, agent_id: String, starts_at_secs: i64, ends_at_secs: i64) -> crate::pb::Shift {
    let at = |seconds: i64| Some(prost_types::Timestamp { seconds, nanos: 0 });
    crate::pb::Shift {
        source: String::new(),
        shift_id,
        agent_id,
        severities: vec![],
        country: String::new(),
        schedule: Some(crate::pb::shift::Schedule::OneOff(crate::pb::OneOffShift {
            starts_at: at(starts_at_secs),
            ends_at: at(ends_at_secs),
        })),
    }
}

/// A linear congruential generator: the same seed gives the same sequence on every machine, so
/// the rosters and questions generated from it, and the runs measured on them, stay comparable.
pub struct DeterministicRandom(u64);

impl DeterministicRandom {
    pub fn new(seed: u64) -> DeterministicRandom {
        DeterministicRandom(seed)
    }

    /// The next number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound.max(1)
    }
}
