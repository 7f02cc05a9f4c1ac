//! Phases of a load test: calls from many tasks at once for a time or a number of calls, and
//! what they measured, by kind of call.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant as WallClock};

/// What one phase measured.
pub struct PhaseResult {
    pub name: &'static str,
    pub elapsed: Duration,
    pub outcomes: BTreeMap<String, u64>,
    /// Latencies of successful calls, microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

impl PhaseResult {
    /// `next` added to what came before it (`None` for the first round).
    pub fn merged(before: Option<PhaseResult>, next: PhaseResult) -> PhaseResult {
        let Some(mut before) = before else { return next };
        before.elapsed += next.elapsed;
        for (code, count) in next.outcomes {
            *before.outcomes.entry(code).or_default() += count;
        }
        before.latencies_us.extend(next.latencies_us);
        before.latencies_us.sort_unstable();
        before
    }

    pub fn n_calls(&self) -> u64 {
        self.outcomes.values().sum()
    }

    pub fn throughput(&self) -> f64 {
        self.n_calls() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_us(&self, fraction: f64) -> u64 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = ((self.latencies_us.len() as f64 * fraction).ceil() as usize).clamp(1, self.latencies_us.len());
        self.latencies_us[rank - 1]
    }

    /// Successful calls slower than `bound_us`: the stalls a caller notices.
    pub fn n_slower_than_us(&self, bound_us: u64) -> usize {
        self.latencies_us.len() - self.latencies_us.partition_point(|&latency| latency <= bound_us)
    }

    pub fn describe(&self) -> String {
        let outcomes: Vec<String> = self.outcomes.iter().map(|(code, count)| format!("{code}={count}")).collect();
        format!(
            "{:<16} {:>9} calls in {:>5.1} s  {:>9.0} calls/s  p50 {:>6.2} ms  p99 {:>6.2} ms  p99.9 {:>6.2} ms  max {:>6.2} ms  >5ms {:>5}  [{}]",
            self.name,
            self.n_calls(),
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.percentile_us(0.50) as f64 / 1e3,
            self.percentile_us(0.99) as f64 / 1e3,
            self.percentile_us(0.999) as f64 / 1e3,
            self.latencies_us.last().copied().unwrap_or(0) as f64 / 1e3,
            self.n_slower_than_us(5_000),
            outcomes.join(" ")
        )
    }

    /// This phase against a baseline phase (the health check): throughput and tail ratios.
    pub fn compare(&self, baseline: &PhaseResult) -> String {
        let ratio = |mine: u64, theirs: u64| mine as f64 / theirs.max(1) as f64;
        format!(
            "{} / {}: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x, p99.9 {:.2}x",
            self.name,
            baseline.name,
            self.throughput() / baseline.throughput().max(1e-9),
            ratio(self.percentile_us(0.50), baseline.percentile_us(0.50)),
            ratio(self.percentile_us(0.99), baseline.percentile_us(0.99)),
            ratio(self.percentile_us(0.999), baseline.percentile_us(0.999)),
        )
    }
}

/// How long a phase runs.
#[derive(Clone, Copy, Debug)]
pub enum PhaseLength {
    Duration(Duration),
    Calls(u64),
}

/// Runs `call` from `concurrency` tasks over `channels` until the phase's time or calls are
/// used up, all under the phase's `name`.
pub async fn run_phase<C, F, Fut>(
    name: &'static str,
    channels: &[C],
    concurrency: usize,
    length: PhaseLength,
    first_call_idx: u64,
    call: F,
) -> PhaseResult
where
    C: Clone + Send + 'static,
    F: Fn(C, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Code>> + Send,
{
    let labelled = move |channel: C, call_idx: u64| {
        let outcome = call(channel, call_idx);
        async move { (name, outcome.await) }
    };
    let mut by_kind = run_mixed_phase(channels, concurrency, length, first_call_idx, labelled).await;
    by_kind.pop().unwrap_or_else(|| PhaseResult {
        name,
        elapsed: Duration::ZERO,
        outcomes: BTreeMap::new(),
        latencies_us: Vec::new(),
    })
}

/// Runs `call` from `concurrency` tasks over `channels` until the phase's time or calls are
/// used up; each call names its kind, and each kind is measured on its own over the phase's
/// whole time.
pub async fn run_mixed_phase<C, F, Fut>(
    channels: &[C],
    concurrency: usize,
    length: PhaseLength,
    first_call_idx: u64,
    call: F,
) -> Vec<PhaseResult>
where
    C: Clone + Send + 'static,
    F: Fn(C, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = (&'static str, Result<(), tonic::Code>)> + Send,
{
    let call = Arc::new(call);
    let started = WallClock::now();
    let (deadline, calls_left) = match length {
        PhaseLength::Duration(duration) => (Some(started + duration), None),
        PhaseLength::Calls(n_calls) => (None, Some(Arc::new(std::sync::atomic::AtomicU64::new(n_calls)))),
    };
    let tasks: Vec<_> = (0..concurrency)
        .map(|task_idx| {
            let channel = channels[task_idx % channels.len()].clone();
            let call = call.clone();
            let calls_left = calls_left.clone();
            tokio::spawn(async move {
                let mut measured = Measured::new();
                let mut call_idx = first_call_idx + task_idx as u64 * 1_000_003;
                let another_call = || match (&calls_left, deadline) {
                    (Some(calls_left), _) => calls_left
                        .fetch_update(std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed, |n| {
                            n.checked_sub(1)
                        })
                        .is_ok(),
                    (None, Some(deadline)) => WallClock::now() < deadline,
                    (None, None) => false,
                };
                while another_call() {
                    let sent = WallClock::now();
                    let (kind, outcome) = call(channel.clone(), call_idx).await;
                    call_idx += 1;
                    count(&mut measured, kind, outcome, sent.elapsed());
                }
                measured
            })
        })
        .collect();
    let mut measured = Measured::new();
    for task in tasks {
        for (kind, (task_latencies, task_outcomes)) in task.await.expect("a load task does not panic") {
            let (latencies, outcomes) = measured.entry(kind).or_default();
            latencies.extend(task_latencies);
            for (code, count) in task_outcomes {
                *outcomes.entry(code).or_default() += count;
            }
        }
    }
    by_kind(measured, started.elapsed())
}

/// Latencies and outcomes, by kind of call.
type Measured = BTreeMap<&'static str, (Vec<u64>, BTreeMap<String, u64>)>;

/// Adds one call's outcome to `measured`.
fn count(measured: &mut Measured, kind: &'static str, outcome: Result<(), tonic::Code>, latency: Duration) {
    let (latencies, outcomes) = measured.entry(kind).or_default();
    match outcome {
        Ok(()) => {
            latencies.push(latency.as_micros() as u64);
            *outcomes.entry("OK".into()).or_default() += 1;
        }
        Err(code) => *outcomes.entry(format!("{code:?}")).or_default() += 1,
    }
}

fn by_kind(measured: Measured, elapsed: Duration) -> Vec<PhaseResult> {
    measured
        .into_iter()
        .map(|(name, (mut latencies_us, outcomes))| {
            latencies_us.sort_unstable();
            PhaseResult { name, elapsed, outcomes, latencies_us }
        })
        .collect()
}

/// Starts `call` `per_second` times a second for `duration`, spread over `channels`: an open
/// loop, as a WFM tool pushes each change when it happens rather than after the last answer,
/// so a slow call does not hold the next one back. Each kind of call is measured on its own,
/// over the time until the last call answered.
pub async fn run_paced<C, F, Fut>(
    channels: &[C],
    per_second: u32,
    duration: Duration,
    first_call_idx: u64,
    call: F,
) -> Vec<PhaseResult>
where
    C: Clone + Send + 'static,
    F: Fn(C, u64) -> Fut,
    Fut: std::future::Future<Output = (&'static str, Result<(), tonic::Code>)> + Send + 'static,
{
    let started = WallClock::now();
    let deadline = started + duration;
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(per_second.max(1))));
    // A tick the runtime was too busy to take is taken late, so the rate holds over the phase.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_flight = tokio::task::JoinSet::new();
    let mut call_idx = first_call_idx;
    loop {
        ticks.tick().await;
        if WallClock::now() >= deadline {
            break;
        }
        let answered = call(channels[call_idx as usize % channels.len()].clone(), call_idx);
        in_flight.spawn(async move {
            let sent = WallClock::now();
            let (kind, outcome) = answered.await;
            (kind, outcome, sent.elapsed())
        });
        call_idx += 1;
    }
    let mut measured = Measured::new();
    while let Some(joined) = in_flight.join_next().await {
        let (kind, outcome, latency) = joined.expect("a paced call does not panic");
        count(&mut measured, kind, outcome, latency);
    }
    by_kind(measured, started.elapsed())
}
