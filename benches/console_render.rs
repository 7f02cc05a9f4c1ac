//! The console's pages in headless Chromium for a 5,000-agent roster (the load generator's, with
//! shifts over 90 days around now), served by the release binary on SQLite:
//! - *Now*: from the navigation's start to its three audience tables drawn (every JSON call of
//!   the page included: the 7-day and one-minute reports and `ListOnShift` per severity);
//! - *Coverage*: opened by a link holding a 90-day EEA_ONLY question, from the navigation's start
//!   to its four requirements drawn (heat maps, gaps, thin stretches); then the same question
//!   asked again with "Show coverage", from the press to the report drawn.
//!
//! "Drawn" is the console's performance mark, set in the animation frame after the last element
//! is in place (so WebDriver's own round trips are not counted). The issue's figure: under
//! 1 s each. Needs Debian's `chromium` and `chromium-driver`; run with
//! `cargo bench --bench console_render`. Prints the median of each round and of all rounds.

#[allow(dead_code, reason = "the benchmark uses part of the browser tests' driver")]
#[path = "../tests/api/webdriver.rs"]
mod webdriver;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use webdriver::Browser;

const N_AGENTS: &str = "5000";
const ROUNDS: usize = 3;
const SAMPLES_PER_ROUND: usize = 5;
const BINARY: &str = env!("CARGO_BIN_EXE_eea-coverage");

/// Waits (in the page) for the console's mark `eea-coverage:drawn:<what>` (set in the frame that
/// draws it) and answers its time: from the navigation's start.
const MARKED: &str = r#"
const [what, done] = [arguments[0], arguments[arguments.length - 1]];
const check = () => {
  const marks = performance.getEntriesByName(`eea-coverage:drawn:${what}`);
  if (marks.length > 0) done(marks[0].startTime);
  else setTimeout(check, 2);
};
check();
"#;

/// Presses the Coverage form's button and answers the time from the press to the mark of the
/// frame that draws the report.
const REPORTED: &str = r#"
const done = arguments[arguments.length - 1];
const started = performance.now();
document.querySelector('#coverage-form button[type=submit]').click();
const check = () => {
  const marks = performance.getEntriesByName('eea-coverage:drawn:coverage-report').filter((mark) => mark.startTime > started);
  if (marks.length > 0) done(marks[0].startTime - started);
  else setTimeout(check, 2);
};
check();
"#;

struct Server {
    process: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address").port()
}

/// Starts the service on a fresh SQLite database in `directory` and waits for its admin token.
fn serve(directory: &Path, grpc: u16, http: u16) -> (Server, String) {
    let token_file = directory.join("admin.token");
    let process = Command::new(BINARY)
        .args(["serve", "--listen", &format!("127.0.0.1:{grpc}"), "--database-url"])
        .arg(directory.join("bench.sqlite"))
        .env("EEA_COVERAGE_TOKEN_FILE", &token_file)
        .env("EEA_COVERAGE_HTTP_LISTEN", format!("127.0.0.1:{http}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting eea-coverage serve");
    let server = Server { process };
    let started = Instant::now();
    loop {
        let listening = std::net::TcpStream::connect(("127.0.0.1", http)).is_ok();
        if let (true, Ok(token)) = (listening, std::fs::read_to_string(&token_file)) {
            return (server, token.trim().to_owned());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Loads the load generator's roster of `N_AGENTS` agents.
fn seed(grpc: u16, token: &str) {
    let started = Instant::now();
    let status = Command::new(BINARY)
        .args(["load", "--server", &format!("http://127.0.0.1:{grpc}"), "--token", token])
        .args(["--seed-agents", N_AGENTS, "--calls", "1", "--concurrency", "1", "--connections", "1"])
        .stdout(Stdio::null())
        .status()
        .expect("running eea-coverage load");
    assert!(status.success(), "seeding the roster failed");
    eprintln!("seeded {N_AGENTS} agents in {:.1} s", started.elapsed().as_secs_f64());
}

fn milliseconds(answer: Value) -> f64 {
    answer.as_f64().expect("a time in milliseconds")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A Brussels date `days` from today, as the date inputs take it.
fn brussels_date(days: i64) -> String {
    let now = eea_coverage::clock::now() + jiff::SignedDuration::from_hours(24 * days);
    now.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Brussels").expect("Brussels")).date().to_string()
}

async fn now_page(browser: &Browser, sample: usize) -> f64 {
    browser.go(&format!("/?sample={sample}&page=now#now")).await;
    let drawn = browser.client().execute_async(MARKED, vec!["now".into()]).await.expect("the Now page draws");
    assert_eq!(browser.text("#page h2").await, "Now", "the Now page, not a refusal");
    milliseconds(drawn)
}

/// The Coverage page opened by a link holding a 90-day EEA_ONLY question: from the navigation's
/// start to the report drawn. Then the same question asked again with the page's button: from
/// the press to the report drawn.
async fn coverage_page(browser: &Browser, sample: usize) -> (f64, f64) {
    let question = format!("plan=PLAN_EEA_ONLY&from={}&to={}&minStaff=1", brussels_date(0), brussels_date(90));
    // A query of its own: a new document, not a jump within the Now page just drawn.
    browser.go(&format!("/?sample={sample}&page=coverage#coverage?{question}")).await;
    let linked = milliseconds(
        browser.client().execute_async(MARKED, vec!["coverage-report".into()]).await.expect("the report draws"),
    );
    let document =
        browser.client().execute("return performance.getEntriesByType('navigation')[0].name;", Vec::new()).await;
    let document = document.expect("the script runs");
    assert!(
        document.as_str().is_some_and(|url| url.contains("page=coverage")),
        "timed from its own navigation: {document}"
    );
    let pressed =
        milliseconds(browser.client().execute_async(REPORTED, Vec::new()).await.expect("the report draws again"));
    let sections = browser
        .client()
        .execute("return document.querySelectorAll('#coverage-result section.requirement').length;", Vec::new())
        .await
        .expect("the script runs");
    assert_eq!(sections, 4, "the report's four requirements are drawn");
    (linked, pressed)
}

fn main() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let (grpc, http) = (free_port(), free_port());
    let (_server, token) = serve(directory.path(), grpc, http);
    seed(grpc, &token);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let Some(browser) = Browser::open(&format!("http://127.0.0.1:{http}")).await else { return };
        browser.go(&format!("/#token={token}")).await;
        browser.page("Now").await;
        let (mut all_now, mut all_page, mut all_report) = (Vec::new(), Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            let (mut now, mut page, mut report) = (Vec::new(), Vec::new(), Vec::new());
            for sample in 0..SAMPLES_PER_ROUND {
                now.push(now_page(&browser, sample).await);
                let (drawn, reported) = coverage_page(&browser, sample).await;
                page.push(drawn);
                report.push(reported);
            }
            println!(
                "round {round}: Now {:.0} ms, Coverage by link {:.0} ms, Coverage report on press {:.0} ms (medians of {SAMPLES_PER_ROUND})",
                median(&mut now),
                median(&mut page),
                median(&mut report)
            );
            all_now.extend(now);
            all_page.extend(page);
            all_report.extend(report);
        }
        println!(
            "all rounds, {N_AGENTS} agents: Now {:.0} ms, Coverage by link {:.0} ms, Coverage report on press {:.0} ms (medians)",
            median(&mut all_now),
            median(&mut all_page),
            median(&mut all_report)
        );
        browser.close().await;
    });
}
