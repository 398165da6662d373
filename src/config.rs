//! Settings shared by every command, read from flags and the environment.
//!
//! Each setting has one flag, one environment variable and one default; the
//! README's configuration table lists them.

use std::net::SocketAddr;
use std::path::PathBuf;

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

    /// The programme's content.
    #[arg(long, env = "LOCKSTEP_CURRICULUM", default_value = CURRICULUM_DIR, global = true)]
    pub curriculum: PathBuf,

    /// The pinned crate workspace that learner code compiles against.
    #[arg(long, env = "LOCKSTEP_GRADER_DEPS", default_value = GRADER_DEPS_DIR, global = true)]
    pub grader_deps: PathBuf,

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

    /// Static assets (CSS, JS).
    #[arg(long, env = "LOCKSTEP_STATIC", default_value = STATIC_DIR)]
    pub static_dir: PathBuf,

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
}

// Paths inside the source tree, so `cargo run` works from any directory.
const CURRICULUM_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/curriculum");
const STATIC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
const GRADER_DEPS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/grader/deps");
