//! What every real-browser test file shares: where screenshots and browser
//! profiles go, screenshots at desktop and phone widths (failing when a page
//! scrolls sideways on a phone), and signing in through the login form.
//!
//! Included by each browser test file next to [`super::webdriver`], whose
//! crate root also declares `mod common`.
#![allow(dead_code)] // each test binary uses a different part of it

use std::path::PathBuf;

use serde_json::json;

use crate::common::auth::PASSWORD;
use crate::webdriver::Session;

/// `target/screenshots/{name}.png`: kept as an artifact of the run.
pub fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("screenshots")
        .join(format!("{name}.png"))
}

/// A new, empty Chromium profile directory, so no test sees another's cookies.
pub fn fresh_profile(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("browser-profiles")
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()))
}

/// Screenshots `url` at desktop and phone widths (`name-desktop.png`,
/// `name-phone.png`) and panics, naming the widest elements, if the page
/// scrolls sideways on the phone.
pub async fn screenshots(browser: &Session, url: &str, name: &str) {
    browser.set_size(1280, 1000).await;
    browser.goto(url).await;
    browser
        .screenshot(&screenshot_path(&format!("{name}-desktop")))
        .await;
    browser.set_size(390, 844).await;
    browser.goto(url).await;
    browser
        .screenshot(&screenshot_path(&format!("{name}-phone")))
        .await;
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            json!([]),
        )
        .await;
    if overflow.as_i64().unwrap_or(0) > 1 {
        let culprits = browser
            .execute(
                // Elements past the edge, except those a scrolling ancestor
                // within the page clips (a code block that scrolls is fine).
                "const w = document.documentElement.clientWidth;
                 const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                     if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= w + 1) return true; }
                   return false; };
                 return Array.from(document.querySelectorAll('body *'))
                   .filter(e => e.getBoundingClientRect().right > w + 1 && !clipped(e))
                   .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right));",
                json!([]),
            )
            .await;
        panic!("{name}: the page scrolls sideways on a phone ({overflow} px): {culprits}");
    }
    browser.set_size(1280, 1000).await;
}

/// Signs in as `email` (with [`PASSWORD`]) through the login form.
pub async fn log_in(browser: &Session, base: &str, email: &str) {
    browser.goto(&format!("{base}/login")).await;
    let field = browser.wait_for("input[name=email]", 10).await;
    browser.send_keys(&field, email).await;
    let field = browser.wait_for("input[name=password]", 10).await;
    browser.send_keys(&field, PASSWORD).await;
    let button = browser.wait_for("main form button[type=submit]", 10).await;
    browser.click(&button).await;
    browser.wait_for("a[href='/dashboard']", 10).await;
}
