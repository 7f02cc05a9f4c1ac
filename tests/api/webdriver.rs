//! A headless Chromium session over WebDriver, for the browser tests and the console's render
//! benchmark: ChromeDriver (Debian's `chromium-driver`) on a port of its own, in a process group
//! of its own so that a failed test takes the browser down with it.
//!
//! Without ChromeDriver `Browser::open` prints a notice and gives `None`, except under `CI=true`,
//! where a missing browser is a failure. `EEA_COVERAGE_SCREENSHOTS=DIR` saves a screenshot of
//! every page a test names into DIR, to look at.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a page may take to show what a check waits for (a loaded CI machine is slow).
const PAGE_WAIT: Duration = Duration::from_secs(30);

/// A headless Chromium session and the ChromeDriver that runs it.
pub struct Browser {
    client: Option<Client>,
    driver: Child,
    base: String,
    screenshots: Option<PathBuf>,
}

fn program(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

impl Browser {
    /// A browser for the server at `base` (`http://host:port`), or `None` (with a notice) when
    /// this machine has no ChromeDriver and is not CI.
    pub async fn open(base: &str) -> Option<Browser> {
        let driver = program("EEA_COVERAGE_CHROMEDRIVER", CHROMEDRIVER);
        let chromium = program("EEA_COVERAGE_CHROMIUM", CHROMIUM);
        if !driver.exists() || !chromium.exists() {
            let missing = format!(
                "no browser here ({} or {} missing; `apt-get install chromium chromium-driver`)",
                driver.display(),
                chromium.display()
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "under CI=true the browser tests must run: {missing}"
            );
            eprintln!("skipping a browser test: {missing}");
            return None;
        }
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("its address").port()
        };
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that a failed test can take the browser down with it.
            .process_group(0)
            .spawn()
            .expect("starting ChromeDriver");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1400,1800",
                    "--lang=en-GB",
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("an object literal") };
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&webdriver).await {
                Ok(client) => break client,
                // ChromeDriver is still starting.
                Err(_) if started.elapsed() < PAGE_WAIT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("no WebDriver session from ChromeDriver at {webdriver}: {error}"),
            }
        };
        let base = base.to_owned();
        let screenshots = std::env::var_os("EEA_COVERAGE_SCREENSHOTS").map(PathBuf::from);
        Some(Browser { client: Some(client), driver, base, screenshots })
    }

    /// The WebDriver session, for scripts of a caller's own (the render benchmark's).
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("an open session")
    }

    /// Opens `path` (with its fragment) on the server.
    pub async fn go(&self, path: &str) {
        self.client().goto(&format!("{}{path}", self.base)).await.expect("the page loads");
    }

    /// Signs in as a person does: the sign-in form, the token pasted, the button pressed.
    pub async fn sign_in(&self, token: &str) {
        self.go("/").await;
        let field =
            self.client().wait().at_most(PAGE_WAIT).for_element(Locator::Id("token")).await.expect("a sign-in form");
        field.send_keys(token).await.expect("typing the token");
        self.client()
            .find(Locator::Css("#sign-in-form button[type=submit]"))
            .await
            .expect("its button")
            .click()
            .await
            .expect("pressing it");
    }

    /// Runs `script` (a function body) until it returns something other than null, and gives
    /// that; fails with the page's text once `PAGE_WAIT` has passed.
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let answer = self.client().execute(script, Vec::new()).await.expect("the script runs");
            if !answer.is_null() {
                return answer;
            }
            if started.elapsed() > PAGE_WAIT {
                panic!("the page never showed {what}; it shows:\n{}", self.text("main").await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What a person reads in the first element `selector` matches.
    pub async fn text(&self, selector: &str) -> String {
        let script = format!("const node = document.querySelector({selector:?}); return node ? node.innerText : null;");
        self.client()
            .execute(&script, Vec::new())
            .await
            .expect("the script runs")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits for a heading `h2` with `title` and returns the page's text.
    pub async fn page(&self, title: &str) -> String {
        let script = format!(
            "const heading = document.querySelector('#page:not([hidden]) h2'); return heading && heading.innerText === {title:?} ? true : null;"
        );
        self.wait_for(&format!("the page {title:?}"), &script).await;
        self.text("#page").await
    }

    /// Sets a form control's value as a date picker or a select would, and tells the page.
    pub async fn set(&self, id: &str, value: &str) {
        let script = format!(
            "const control = document.getElementById({id:?}); control.value = {value:?}; control.dispatchEvent(new Event('change', {{ bubbles: true }})); return control.value;"
        );
        let set = self.client().execute(&script, Vec::new()).await.expect("the script runs");
        assert_eq!(set.as_str(), Some(value), "the control {id} took the value");
    }

    pub async fn click(&self, selector: &str) {
        self.client()
            .find(Locator::Css(selector))
            .await
            .expect("the control is there")
            .click()
            .await
            .expect("clicking it");
    }

    /// Saves a screenshot named `name` when `EEA_COVERAGE_SCREENSHOTS` asks for them.
    pub async fn screenshot(&self, name: &str) {
        if let Some(directory) = &self.screenshots {
            let png = self.client().screenshot().await.expect("a screenshot");
            std::fs::create_dir_all(directory).expect("the screenshot directory");
            std::fs::write(directory.join(format!("{name}.png")), png).expect("writing the screenshot");
        }
    }

    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group is the ChromeDriver's own, and holds the browser it started.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.driver.id())]).status();
        let _ = self.driver.wait();
    }
}
