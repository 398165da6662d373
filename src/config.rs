//! Settings shared by every command, read from flags and the environment.
//!
//! Each setting has one flag, one environment variable and one default; the
//! README's configuration table lists them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;

/// Where Lockstep finds its content and keeps its state.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Directory for the private PostgreSQL cluster and the grader's caches.
    #[arg(long, env = "LOCKSTEP_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// PostgreSQL server to use instead of the private cluster; the database
    /// is created if missing.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// PEM file of the certificate authority that signed the PostgreSQL
    /// server's certificate, trusted besides the system's roots (as
    /// `sslrootcert=` in the URL, which wins when both are given).
    #[arg(long, env = "LOCKSTEP_DATABASE_CA", global = true)]
    pub database_ca: Option<PathBuf>,

    /// The programme's content (default: the programme built into this
    /// binary, extracted under the data dir).
    #[arg(long, env = "LOCKSTEP_CURRICULUM", global = true)]
    pub curriculum: Option<PathBuf>,

    /// The pinned crate workspace that learner code compiles against
    /// (default: the one built into this binary, extracted under the data dir).
    #[arg(long, env = "LOCKSTEP_GRADER_DEPS", global = true)]
    pub grader_deps: Option<PathBuf>,

    /// Longest run time, in seconds, an exercise may ask for.
    #[arg(
        long,
        env = "LOCKSTEP_MAX_RUN_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub max_run_seconds: u64,

    /// Most memory, in MiB, an exercise may ask for.
    #[arg(
        long,
        env = "LOCKSTEP_MAX_RUN_MEMORY_MB",
        default_value_t = 2048,
        global = true
    )]
    pub max_run_memory_mb: u64,

    /// Grade even when no cgroup can be made for a job (memory, process and
    /// CPU budgets then rest on rlimits alone). Without it the grader
    /// refuses to start where it cannot enforce them.
    #[arg(long, env = "LOCKSTEP_ALLOW_NO_CGROUP", global = true)]
    pub allow_no_cgroup: bool,

    /// CPU bandwidth cap of one grading job, in CPUs (0: no cap; CPU time
    /// and wall time still bound every step).
    #[arg(long, env = "LOCKSTEP_JOB_CPUS", default_value_t = 0, global = true)]
    pub job_cpus: u32,

    /// Size of the grader's build cache (compiled learner code, tests and
    /// examples, reused when the same code comes again), in MiB; 0: off.
    #[arg(
        long,
        env = "LOCKSTEP_BUILD_CACHE_MB",
        default_value_t = 2048,
        global = true
    )]
    pub build_cache_mb: u64,

    /// Serve `/metrics`, `/healthz` and `/readyz` on this address of their
    /// own (and `/metrics` no longer on the web address); a `lockstep
    /// worker` serves them only here.
    #[arg(long, env = "LOCKSTEP_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// Log lines as `text` (for people) or `json` (one object per line, for
    /// log collectors).
    #[arg(
        long,
        env = "LOCKSTEP_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    pub log_format: LogFormat,
}

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The operator's ceiling on per-exercise limits: plain data the grader is handed.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    /// Longest wall time an exercise may ask for, in seconds.
    pub run_seconds: u64,
    /// Most memory an exercise may ask for, in MiB.
    pub run_memory_mb: u64,
}

impl Settings {
    /// The settings `lockstep` runs with given no flags: each default, or
    /// its environment variable where set (benchmarks and tests start here).
    pub fn from_environment() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Args {
            #[command(flatten)]
            settings: Settings,
        }
        Args::parse_from(["lockstep"]).settings
    }

    /// The programme's directory: `--curriculum`, or the built-in programme
    /// extracted under the data dir.
    pub fn curriculum_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.curriculum {
            Some(dir) => Ok(dir.clone()),
            None => crate::bundle::CURRICULUM.extracted(&self.data_dir),
        }
    }

    /// The grader's workspace: `--grader-deps`, or the built-in one
    /// extracted under the data dir.
    pub fn grader_deps_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.grader_deps {
            Some(dir) => Ok(dir.clone()),
            None => crate::bundle::GRADER_DEPS.extracted(&self.data_dir),
        }
    }

    /// The operator's ceiling on per-exercise limits.
    pub fn ceiling(&self) -> Ceiling {
        Ceiling {
            run_seconds: self.max_run_seconds,
            run_memory_mb: self.max_run_memory_mb,
        }
    }
}

/// Settings of the web server.
#[derive(Debug, Clone, Args)]
pub struct ServeSettings {
    /// Address to listen on.
    #[arg(long, env = "LOCKSTEP_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Static assets (CSS, JS), read once at start-up (default: the ones
    /// built into this binary).
    #[arg(long, env = "LOCKSTEP_STATIC")]
    pub static_dir: Option<PathBuf>,

    /// Grading workers run by this process (0: none; default: one per core).
    #[arg(long, env = "LOCKSTEP_WORKERS")]
    pub workers: Option<usize>,

    /// Jobs (submissions, test runs, example runs) one learner may have
    /// queued or running at once; more get 429.
    #[arg(long, env = "LOCKSTEP_MAX_JOBS_PER_LEARNER", default_value_t = 3)]
    pub max_jobs_per_learner: i64,

    /// Jobs that may wait in the grading queue at once; more get 429.
    #[arg(long, env = "LOCKSTEP_MAX_QUEUED_JOBS", default_value_t = 500)]
    pub max_queued_jobs: i64,

    /// A reverse proxy (address or CIDR network) whose `X-Forwarded-For` /
    /// `Forwarded` headers name the client; repeat, or separate with commas.
    /// Requests from anywhere else are counted by their own address.
    #[arg(
        long = "trusted-proxy",
        env = "LOCKSTEP_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ProxyNetwork>,

    /// Purging of expired sessions and old drafts.
    #[command(flatten)]
    pub housekeeping: Housekeeping,
    /// Password reset by mail.
    #[command(flatten)]
    pub accounts: AccountSettings,
}

/// How often, and what, the web node purges.
#[derive(Debug, Clone, Args)]
pub struct Housekeeping {
    /// Seconds between purges of expired sessions and old drafts.
    #[arg(long, env = "LOCKSTEP_PURGE_INTERVAL_SECONDS", default_value_t = 3600)]
    pub purge_interval_seconds: u64,

    /// Days a draft of an exercise its learner has passed is kept after its
    /// last save (the passing code stays with the submissions).
    #[arg(long, env = "LOCKSTEP_DRAFT_RETENTION_DAYS", default_value_t = 30)]
    pub draft_retention_days: u32,

    /// Days any other draft (possibly a learner's only copy of unsubmitted
    /// work) is kept after its last save; 0 keeps them forever.
    #[arg(
        long,
        env = "LOCKSTEP_UNPASSED_DRAFT_RETENTION_DAYS",
        default_value_t = 0
    )]
    pub unpassed_draft_retention_days: u32,
}

impl Default for Housekeeping {
    fn default() -> Self {
        Self {
            purge_interval_seconds: 3600,
            draft_retention_days: 30,
            unpassed_draft_retention_days: 0,
        }
    }
}

/// How people get into their accounts besides a local password: a reset
/// link by mail and single sign-on, off until configured.
#[derive(Debug, Clone, Default, Args)]
pub struct AccountSettings {
    /// The address people reach Lockstep at (`https://lockstep.example.com`):
    /// links in mail are made from it, never from a request's `Host`.
    #[arg(long, env = "LOCKSTEP_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// SMTP relay for password-reset mail: `smtp://host:25` (plain),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host` (TLS). Password reset needs it and `--public-url`.
    #[arg(long, env = "LOCKSTEP_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of Lockstep's mail (default: `Lockstep <lockstep@HOST>`, HOST
    /// from `--public-url`).
    #[arg(long, env = "LOCKSTEP_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Single sign-on with OpenID Connect.
    #[command(flatten)]
    pub single_sign_on: SingleSignOnSettings,
}

/// Single sign-on through the operator's OpenID provider (authorization
/// code flow with PKCE), off until `--oidc-issuer` is set.
#[derive(Debug, Clone, Default, Args)]
pub struct SingleSignOnSettings {
    /// The OpenID provider's issuer URL (`https://id.example.com/realms/corp`);
    /// discovered at start-up. Needs `--public-url` (the callback is
    /// `<public url>/auth/oidc/callback`) and `--oidc-client-id`.
    #[arg(long, env = "LOCKSTEP_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// Lockstep's client id at the provider.
    #[arg(long, env = "LOCKSTEP_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// Lockstep's client secret at the provider (none: a public client, PKCE only).
    #[arg(long, env = "LOCKSTEP_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// The provider's name on the log-in button ("Log in with NAME").
    #[arg(long, env = "LOCKSTEP_OIDC_NAME", default_value = "single sign-on")]
    pub oidc_name: String,

    /// A claim (from the user-info response) whose value, or one of whose
    /// values, `--oidc-instructor-value` makes an instructor at each sign-in
    /// (learner otherwise; admins stay admins). Unset: roles are Lockstep's.
    #[arg(long, env = "LOCKSTEP_OIDC_ROLE_CLAIM")]
    pub oidc_role_claim: Option<String>,

    /// The role claim's value that means instructor.
    #[arg(
        long,
        env = "LOCKSTEP_OIDC_INSTRUCTOR_VALUE",
        default_value = "instructor"
    )]
    pub oidc_instructor_value: String,

    /// Single sign-on only: local passwords are refused (log-in, sign-up and
    /// password reset).
    #[arg(long, env = "LOCKSTEP_SSO_ONLY")]
    pub sso_only: bool,
}

/// `--public-url`: an http(s) origin, without a trailing slash.
fn parse_public_url(value: &str) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("{value:?} must start with https:// (or http://)"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "{value:?} must be an address like https://lockstep.example.com"
        ));
    }
    Ok(value.to_string())
}

/// An address or a CIDR network (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNetwork {
    address: IpAddr,
    prefix: u8,
}

impl ProxyNetwork {
    /// Whether `address` is in this network (IPv4-mapped IPv6 addresses
    /// count as the IPv4 address they carry).
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, unmapped(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// `address`, or the IPv4 address an IPv4-mapped IPv6 address carries.
pub fn unmapped(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for ProxyNetwork {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{value:?} is not an IP address or a network like 10.0.0.0/8"))?;
        let address = unmapped(address);
        let most = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => most,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= most)
                .ok_or_else(|| format!("{value:?}: the prefix length must be 0 to {most}"))?,
        };
        Ok(Self { address, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_networks_parse_and_contain_their_addresses() {
        let net: ProxyNetwork = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        let one: ProxyNetwork = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("127.0.0.1".parse().unwrap()));
        let v6: ProxyNetwork = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(
            "0.0.0.0/0"
                .parse::<ProxyNetwork>()
                .unwrap()
                .contains("192.0.2.1".parse().unwrap())
        );
        for bad in ["proxy", "10.0.0.0/33", "10.0.0.0/x", ""] {
            assert!(bad.parse::<ProxyNetwork>().is_err(), "{bad}");
        }
    }
}
