//! Static files with fingerprinted URLs.
//!
//! Each file under `static/` is hashed at start-up; pages link to
//! `/static/<name>?v=<hash>`, which may be cached for a year because a new
//! version gets a new URL. Requests without the fingerprint revalidate.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

/// Fingerprints of the static files, by path relative to `static/`.
#[derive(Debug, Default)]
pub struct Assets {
    fingerprints: HashMap<String, String>,
}

impl Assets {
    /// Hashes every file under `dir`.
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let mut fingerprints = HashMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            for entry in fs::read_dir(&current)?.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(dir) {
                    let digest = Sha256::digest(fs::read(&path)?);
                    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
                    fingerprints.insert(relative.to_string_lossy().into_owned(), hash);
                }
            }
        }
        Ok(Self { fingerprints })
    }

    /// The URL of `name` (e.g. `style.css`), fingerprinted when known.
    pub fn url(&self, name: &str) -> String {
        match self.fingerprints.get(name) {
            Some(hash) => format!("/static/{name}?v={hash}"),
            None => format!("/static/{name}"),
        }
    }
}

/// Long-lived caching for fingerprinted URLs, revalidation for the rest.
pub async fn cache_headers(request: Request, next: Next) -> Response {
    let fingerprinted = request.uri().query().is_some_and(|q| q.starts_with("v="));
    let mut response = next.run(request).await;
    let value = if fingerprinted && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
