//! Where `lockstep learn` finds the server and the API token: the config
//! file `lockstep/config.toml` in the user's config directory
//! (`$XDG_CONFIG_HOME`, else `~/.config`), written by `login` readable by
//! the user only (0600, in a 0700 directory) because the token is a
//! password. `LOCKSTEP_SERVER` and `LOCKSTEP_TOKEN` override it (CI, or a
//! second account).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The environment variable that overrides the stored token.
pub const TOKEN_VARIABLE: &str = "LOCKSTEP_TOKEN";
/// The environment variable that overrides the stored server.
pub const SERVER_VARIABLE: &str = "LOCKSTEP_SERVER";

/// A server and the token to show it.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The server's base URL, without a trailing slash.
    pub server: String,
    /// The API token (`lst_…`).
    pub token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token: it ends up in logs and panics otherwise.
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// The config file's path.
pub fn config_path() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .context(
                    "neither XDG_CONFIG_HOME nor HOME is set: cannot find the config directory",
                )?;
            PathBuf::from(home).join(".config")
        }
    };
    Ok(base.join("lockstep").join("config.toml"))
}

/// Checks a server URL: `https://…`, or `http://` to this machine only (a
/// token sent in clear over a network can be read by anyone on the way).
pub fn parse_server(server: &str) -> Result<String> {
    let server = server.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(server)
        .with_context(|| format!("{server:?} is not a URL: give it as https://host[:port]"))?;
    let local = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        "http" => bail!(
            "{server} is plain http: the token would cross the network unencrypted; use https:// (http is accepted only for localhost)"
        ),
        other => bail!("{server}: the scheme must be https, not {other}"),
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{server}: give the server's address without ?query or #fragment");
    }
    Ok(server.to_string())
}

/// Refuses what cannot be an API token, before it is sent anywhere.
pub fn check_token_shape(token: &str) -> Result<()> {
    if token.is_empty() {
        bail!("no API token given: make one on the server's /account page");
    }
    if !token.starts_with(crate::auth::api_tokens::PREFIX)
        || !token.chars().all(|c| c.is_ascii_graphic())
    {
        bail!(
            "that is not a Lockstep API token (they start with {}): copy it from the server's /account page",
            crate::auth::api_tokens::PREFIX
        );
    }
    Ok(())
}

impl Credentials {
    /// The stored credentials with the environment's overrides; a clear
    /// error when there are none.
    pub fn load() -> Result<Self> {
        let path = config_path()?;
        let stored: Option<Credentials> = match fs::read_to_string(&path) {
            Ok(text) => Some(toml::from_str(&text).with_context(|| {
                format!(
                    "{} is not a valid config file; run `lockstep learn login` again",
                    path.display()
                )
            })?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let server = match (env(SERVER_VARIABLE), &stored) {
            (Some(server), _) => server,
            (None, Some(stored)) => stored.server.clone(),
            (None, None) => bail!(
                "not signed in: run `lockstep learn login --server https://…` (or set {SERVER_VARIABLE} and {TOKEN_VARIABLE})"
            ),
        };
        let token = match (env(TOKEN_VARIABLE), &stored) {
            (Some(token), _) => token,
            (None, Some(stored)) => stored.token.clone(),
            (None, None) => bail!(
                "no API token: run `lockstep learn login --server {server}` (or set {TOKEN_VARIABLE})"
            ),
        };
        let credentials = Credentials {
            server: parse_server(&server)?,
            token: token.trim().to_string(),
        };
        check_token_shape(&credentials.token)?;
        Ok(credentials)
    }

    /// Writes the config file, readable and writable by the user only,
    /// and returns its path.
    pub fn save(&self) -> Result<PathBuf> {
        let path = config_path()?;
        let dir = path.parent().context("the config path has no directory")?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        // Written aside and renamed, so a crash never leaves half a file;
        // created 0600, so the token is never readable by others, not even
        // for a moment.
        let temporary = dir.join(".config.toml.new");
        let _ = fs::remove_file(&temporary);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        // The mode above is masked by the umask; make sure of 0600.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        let text = format!(
            "# Written by `lockstep learn login`. The token is a password: keep this file private.\n{}",
            toml::to_string(self)?
        );
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, &path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// The absolute URL of a page or API path on the server.
    pub fn web_url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_must_be_https_unless_local() {
        assert_eq!(
            parse_server("https://lockstep.example.com/").unwrap(),
            "https://lockstep.example.com"
        );
        assert!(parse_server("http://127.0.0.1:3000").is_ok());
        assert!(parse_server("http://localhost:3000").is_ok());
        let error = parse_server("http://lockstep.example.com").unwrap_err();
        assert!(error.to_string().contains("use https://"), "{error}");
        assert!(parse_server("ftp://example.com").is_err());
        assert!(parse_server("lockstep.example.com").is_err());
    }

    #[test]
    fn tokens_are_checked_before_they_are_sent() {
        assert!(check_token_shape("lst_abc").is_ok());
        assert!(check_token_shape("").is_err());
        assert!(check_token_shape("password123").is_err());
        assert!(check_token_shape("lst_a b").is_err());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let credentials = Credentials {
            server: "https://x".into(),
            token: "lst_secret".into(),
        };
        assert!(!format!("{credentials:?}").contains("lst_secret"));
    }
}
