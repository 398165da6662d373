//! A small W3C WebDriver client over reqwest, enough for Lockstep's
//! end-to-end tests: sessions, navigation, elements, keys, scripts, alerts,
//! window size and screenshots.
//!
//! Why not fantoccini: its `webdriver` dependency pulls a second major
//! version of `http` (and of the ICU crates) into the build; the protocol we
//! need is a dozen JSON endpoints.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key WebDriver uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `chromedriver`, stopped on drop.
pub struct Driver {
    url: String,
    child: Child,
    http: reqwest::Client,
}

/// Finds a program: `$VAR`, else the first of `names` on the `PATH` or in /usr/bin.
fn find_program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(var) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

impl Driver {
    /// Starts chromedriver on a free port. Panics with instructions when
    /// chromedriver or chromium is not installed.
    pub async fn start() -> Self {
        let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "chromedriver is not installed, so the real-browser tests cannot run. \
                 Install Debian's chromium and chromium-driver \
                 (`apt-get install -y chromium chromium-driver`, as .ci/run does) \
                 or set CHROMEDRIVER to its path."
            )
        });
        assert!(
            chromium().is_some(),
            "chromium is not installed: `apt-get install -y chromium chromium-driver` (or set CHROME_BIN)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        // Its own process group: the browsers it starts go down with it
        // (see Drop), even when a test panics before quitting its session.
        let child = Command::new(&chromedriver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", chromedriver.display()));
        let driver = Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = driver
                .http
                .get(format!("{}/status", driver.url))
                .send()
                .await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless Chromium session with a fresh profile under `profile_dir`.
    pub async fn session(&self, profile_dir: &Path) -> Session {
        std::fs::create_dir_all(profile_dir).expect("profile dir");
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile_dir.display()));
        let mut options = json!({ "args": args });
        if let Some(binary) = chromium() {
            options["binary"] = json!(binary);
        }
        let body = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "unhandledPromptBehavior": "ignore",
        }}});
        let response: Value = self
            .http
            .post(format!("{}/session", self.url))
            .json(&body)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let id = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused a session: {response}"))
            .to_string();
        Session {
            base: format!("{}/session/{id}", self.url),
            http: self.http.clone(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.child.wait();
    }
}

fn chromium() -> Option<String> {
    find_program("CHROME_BIN", &["chromium", "chromium-browser", "chrome"])
        .map(|path| path.display().to_string())
}

/// One browser window.
pub struct Session {
    base: String,
    http: reqwest::Client,
}

/// An element of the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let response: Value = request
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver json");
        response["value"].clone()
    }

    async fn checked(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let value = self.call(method, path, body).await;
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            panic!(
                "webdriver {path}: {error}: {}",
                value["message"].as_str().unwrap_or("")
            );
        }
        value
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.checked(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The current URL.
    pub async fn current_url(&self) -> String {
        self.checked(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The element matching `css`, if there is one now.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        value[ELEMENT].as_str().map(|id| Element(id.to_string()))
    }

    /// The element matching `css`, waiting up to `seconds` for it to appear.
    pub async fn wait_for(&self, css: &str, seconds: u64) -> Element {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(element) = self.try_find(css).await {
                return element;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css:?} within {seconds} s on {}",
                self.current_url().await
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until the JavaScript expression `condition` is truthy.
    pub async fn wait_until(&self, condition: &str, seconds: u64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if self
                .execute(&format!("return !!({condition});"), json!([]))
                .await
                == json!(true)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not true within {seconds} s: {condition}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Clicks the element, first scrolling it to the middle of the window
    /// (out from under the sticky header).
    pub async fn click(&self, element: &Element) {
        self.execute(
            "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
            json!([{ ELEMENT: element.0 }]),
        )
        .await;
        self.checked(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            None,
        )
        .await;
    }

    /// Types `text` into the element.
    pub async fn send_keys(&self, element: &Element, text: &str) {
        self.checked(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// The element's rendered text.
    pub async fn text(&self, element: &Element) -> String {
        self.checked(
            reqwest::Method::GET,
            &format!("/element/{}/text", element.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.checked(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Accepts the open `confirm()`/`alert()`.
    pub async fn accept_alert(&self) {
        self.checked(reqwest::Method::POST, "/alert/accept", None)
            .await;
    }

    /// Resizes the window (CSS pixels).
    pub async fn set_size(&self, width: u32, height: u32) {
        self.checked(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Makes pages match `prefers-color-scheme: dark` (or light), through
    /// chromedriver's passage to Chromium's DevTools protocol; it lasts for
    /// the window's later pages too.
    #[allow(dead_code)] // only tests/browser_accessibility.rs switches themes
    pub async fn prefer_color_scheme(&self, scheme: &str) {
        self.checked(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Emulation.setEmulatedMedia",
                "params": { "features": [{ "name": "prefers-color-scheme", "value": scheme }] },
            })),
        )
        .await;
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let data = self
            .checked(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Closes the window.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
