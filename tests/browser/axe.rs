//! Accessibility checks in the real browser with axe-core, the engine
//! behind most accessibility linters: injected into the page over
//! WebDriver and run against the WCAG 2.x A and AA rules (colour contrast,
//! keyboard access to scrollable regions, names, landmarks…).
//!
//! axe-core comes from npm, pinned by `tests/browser/axe/package-lock.json`;
//! `.ci/run` installs it, and the first check installs it when it is
//! missing (`npm ci`), so `cargo test` alone works on a machine with npm.
#![allow(dead_code)] // each test binary uses a different part of it

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::webdriver::Session;

/// The rule sets checked: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const TAGS: &[&str] = &["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/axe")
}

/// axe-core's source, installing it first when it is missing.
pub fn source() -> &'static str {
    static SOURCE: Mutex<Option<&'static str>> = Mutex::new(None);
    let mut source = SOURCE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(text) = *source {
        return text;
    }
    let script = package_dir().join("node_modules/axe-core/axe.min.js");
    if !script.is_file() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(package_dir())
            .status()
            .unwrap_or_else(|error| {
                panic!(
                    "axe-core is not installed and npm cannot be run ({error}): install Node.js \
                     and npm, or run `npm ci --prefix tests/browser/axe` (as .ci/run does)"
                )
            });
        assert!(status.success(), "`npm ci` for axe-core failed: {status}");
    }
    let text = std::fs::read_to_string(&script)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", script.display()));
    let text: &'static str = Box::leak(text.into_boxed_str());
    *source = Some(text);
    text
}

/// One rule the page breaks, with the first few elements that break it.
#[derive(Debug)]
pub struct Violation {
    /// axe's rule id (`color-contrast`, `scrollable-region-focusable`…).
    pub rule: String,
    /// Its impact and one line of help, then one line per element.
    pub detail: String,
}

/// What axe-core finds wrong with the page open in `browser`.
pub async fn violations(browser: &Session) -> Vec<Violation> {
    let loaded = browser
        .execute(
            &format!("{}\n;return typeof axe === 'object';", source()),
            json!([]),
        )
        .await;
    assert_eq!(loaded, json!(true), "axe-core loads in the page");
    // WebDriver waits for a returned promise.
    let found = browser
        .execute(
            "return axe.run(document, {
                 runOnly: { type: 'tag', values: arguments[0] },
                 resultTypes: ['violations'],
             }).then(results => results.violations.map(v => ({
                 rule: v.id,
                 detail: `${v.impact}: ${v.help}\\n` + v.nodes.slice(0, 5).map(n =>
                     `  ${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\\s+/g, ' ')}`).join('\\n'),
             })));",
            json!([TAGS]),
        )
        .await;
    found
        .as_array()
        .unwrap_or_else(|| panic!("axe returned no list: {found}"))
        .iter()
        .map(|v: &Value| Violation {
            rule: v["rule"].as_str().unwrap_or_default().to_string(),
            detail: v["detail"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Panics, naming every rule and element, unless axe finds nothing wrong
/// with the page open in `browser` (`page` names it in the message).
pub async fn assert_accessible(browser: &Session, page: &str) {
    let found = violations(browser).await;
    assert!(
        found.is_empty(),
        "{page} breaks {} accessibility rule(s):\n{}",
        found.len(),
        found
            .iter()
            .map(|v| format!("{}: {}", v.rule, v.detail))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
