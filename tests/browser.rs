//! A real browser for the console's tests: Debian's Chromium, headless, driven through
//! Debian's `chromedriver` over WebDriver (the `fantoccini` client), with axe-core injected
//! to check each page's accessibility.
//!
//! The tests are synchronous like the rest of the harness; [`Browser`] owns a small runtime
//! and blocks on each WebDriver command. chromedriver picks its own port and says which.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// axe-core, vendored with its licence (tests/vendor/axe-core).
const AXE: &str = include_str!("vendor/axe-core/axe.min.js");

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium under WebDriver.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Where screenshots go (`target/console-screens`).
    pub shots: PathBuf,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("driver", &self.driver.id()).finish_non_exhaustive()
    }
}

/// One accessibility violation axe-core found.
#[derive(Debug, Clone)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
}

impl Browser {
    /// Starts chromedriver and a Chromium window of `width`×`height` CSS pixels.
    pub fn start(width: u32, height: u32) -> Browser {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: the console's browser tests need Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver); missing package: {package}"
            );
        }
        let mut driver = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = driver.stdout.take().expect("chromedriver's output");
        let mut reader = BufReader::new(stdout);
        let mut port = None;
        let mut line = String::new();
        while port.is_none() && reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            port = line
                .trim_end()
                .trim_end_matches('.')
                .rsplit(' ')
                .next()
                .and_then(|p| p.parse::<u16>().ok())
                .filter(|_| line.contains("started successfully"));
            line.clear();
        }
        let port = port.expect("chromedriver says which port it listens on");
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                    "--lang=fr-FR",
                ],
                // A French browser, as most of the console's people have.
                "prefs": {"intl.accept_languages": "fr-FR,fr"},
            }),
        );
        let client = runtime
            .block_on(async {
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await
            })
            .expect("a Chromium session");
        let shots = crate::workspace_root().join("target").join("console-screens");
        std::fs::create_dir_all(&shots).expect("the screenshots directory");
        let browser = Browser { runtime, client: Some(client), driver, _profile: profile, shots };
        browser.resize(width, height);
        browser
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Sets the viewport (the inner size) to `width`×`height`.
    pub fn resize(&self, width: u32, height: u32) {
        let c = self.client();
        self.runtime.block_on(async {
            c.set_window_size(width, height).await.expect("resize");
            // The window's frame is bigger than the viewport: correct by the difference.
            let inner =
                c.execute("return [window.innerWidth, window.innerHeight]", vec![]).await.expect("inner");
            let (iw, ih) = (inner[0].as_u64().unwrap_or(0) as u32, inner[1].as_u64().unwrap_or(0) as u32);
            if iw != width || ih != height {
                c.set_window_size(width + width.saturating_sub(iw), height + height.saturating_sub(ih))
                    .await
                    .expect("resize again");
            }
        });
    }

    pub fn goto(&self, url: &str) {
        self.runtime.block_on(self.client().goto(url)).unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub fn url(&self) -> String {
        self.runtime.block_on(self.client().current_url()).expect("current url").to_string()
    }

    /// Types into the field found by a CSS selector (clearing it first).
    pub fn fill(&self, css: &str, text: &str) {
        self.runtime.block_on(async {
            let field = self.client().find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
            field.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
            field.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
        });
    }

    /// Chooses a file in a file field.
    pub fn choose_file(&self, css: &str, path: &Path) {
        self.runtime.block_on(async {
            let field = self.client().find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
            field
                .send_keys(&path.display().to_string())
                .await
                .unwrap_or_else(|e| panic!("choose a file in {css}: {e}"));
        });
    }

    /// Sets a field's value by script (date-time fields, whose typing is locale-bound).
    pub fn set_value(&self, css: &str, value: &str) {
        let script = "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                      e.dispatchEvent(new Event('input', {bubbles: true})); return e.value;";
        let set = self.script(script, vec![json!(css), json!(value)]);
        assert_eq!(set, json!(value), "{css}");
    }

    pub fn click(&self, css: &str) {
        self.runtime.block_on(async {
            let element =
                self.client().find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
            element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        });
    }

    /// Clicks something that loads a new page, and waits until the new page has loaded.
    pub fn click_and_load(&self, css: &str) {
        self.script("window.palierOldPage = true; return true;", vec![]);
        self.click(css);
        self.wait_for(
            Duration::from_secs(90),
            &format!("the page after clicking {css}"),
            "return !window.palierOldPage && document.readyState === 'complete';",
        );
    }

    /// The text of the first element matching `css`, or `None`.
    pub fn text(&self, css: &str) -> Option<String> {
        self.runtime.block_on(async {
            match self.client().find(Locator::Css(css)).await {
                Ok(element) => element.text().await.ok(),
                Err(_) => None,
            }
        })
    }

    /// The whole page's visible text.
    pub fn page_text(&self) -> String {
        self.text("body").unwrap_or_default()
    }

    pub fn exists(&self, css: &str) -> bool {
        self.runtime
            .block_on(self.client().find_all(Locator::Css(css)))
            .map(|all| !all.is_empty())
            .unwrap_or(false)
    }

    /// Runs a script and returns its value.
    pub fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.runtime.block_on(self.client().execute(script, args)).unwrap_or_else(|e| panic!("script: {e}"))
    }

    /// Waits (up to `timeout`) until a script returns `true`.
    pub fn wait_for(&self, timeout: Duration, what: &str, script: &str) {
        let found = self.runtime.block_on(async {
            tokio::time::timeout(timeout, async {
                loop {
                    if self.client().execute(script, vec![]).await.ok() == Some(Value::Bool(true)) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .await
        });
        assert!(
            found.is_ok(),
            "timed out after {timeout:?} waiting until {what}; page: {}",
            self.page_text()
        );
    }

    /// Runs an asynchronous script (it calls `arguments[0]` with its result).
    pub fn script_async(&self, script: &str) -> Value {
        self.runtime
            .block_on(self.client().execute_async(script, vec![]))
            .unwrap_or_else(|e| panic!("script: {e}"))
    }

    /// Fetches a path of the current site with the page's session; returns the body.
    pub fn runtime_fetch(&self, path: &str) -> String {
        let value = self.script_async(&format!(
            "const done = arguments[0]; fetch({path:?}, {{credentials: 'same-origin'}}).then(r => r.text()).then(done);"
        ));
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Opens `url` again and again (up to `timeout`) until its text contains `needle`.
    pub fn wait_for_text_at(&self, url: &str, timeout: Duration, needle: &str) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            self.goto(url);
            let text = self.page_text();
            if text.contains(needle) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {needle:?} at {url}; page: {text}"
            );
            // Give the boards a moment before asking again; the page has no push channel.
            self.runtime.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
        }
    }

    /// Saves a screenshot as `target/console-screens/NAME.png`; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.runtime.block_on(self.client().screenshot()).expect("screenshot");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// axe-core's serious and critical violations on the current page.
    pub fn accessibility_violations(&self) -> Vec<Violation> {
        let c = self.client();
        let result = self.runtime.block_on(async {
            c.execute(AXE, vec![]).await.expect("inject axe-core");
            c.execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                    .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                        targets: v.nodes.map(n => n.target.join(' '))}))))
                    .catch(e => done({error: String(e)}));",
                vec![],
            )
            .await
            .expect("run axe-core")
        });
        let Value::Array(violations) = result else { panic!("axe-core failed: {result}") };
        violations
            .into_iter()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or("").to_owned(),
                impact: v["impact"].as_str().unwrap_or("").to_owned(),
                help: v["help"].as_str().unwrap_or("").to_owned(),
                targets: v["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
            })
            .filter(|v| v.impact == "serious" || v.impact == "critical")
            .collect()
    }

    /// Fails when the page has a serious or critical accessibility violation.
    pub fn assert_accessible(&self, page: &str) {
        let violations = self.accessibility_violations();
        assert!(
            violations.is_empty(),
            "{page} ({}) has accessibility violations: {violations:#?}",
            self.url()
        );
    }

    /// The session's cookies, as `name=value`.
    pub fn cookies(&self) -> Vec<String> {
        self.runtime
            .block_on(self.client().get_all_cookies())
            .expect("cookies")
            .into_iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
