//! A cgroup per job, where the host lets us make one (running as root with a
//! writable memory controller): one memory and process budget for the whole
//! job, which rlimits cannot give — RLIMIT_AS is per process, and memory a
//! job holds in memfd files or page cache is not address space at all. The
//! kernel's OOM killer then stops the job, and we can tell that it did.
//!
//! CPU: a job's CPU time is bounded by rlimits and its wall time; an
//! operator can also cap each job's bandwidth (`--job-cpus`, written to
//! `cpu.max`, or `cpu.cfs_quota_us` in v1). It is off by default: a quota
//! throttles rustc's bursts of codegen threads even on an idle machine, and
//! a CPU cgroup without one would weigh a whole job like a single thread
//! against everything else on the host.
//!
//! Both cgroup v1 (a hierarchy per controller) and v2 (one unified
//! hierarchy) are handled. When neither is usable the sandbox refuses to run
//! jobs, unless the operator accepted rlimits only (`--allow-no-cgroup`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The job's cgroup directories (one for v2, one per controller for v1).
pub struct JobCgroup {
    memory: PathBuf,
    pids: Option<PathBuf>,
    cpu: Option<PathBuf>,
    version: Version,
}

/// The scheduler period CPU quotas are expressed in, in microseconds.
const CPU_PERIOD_US: u64 = 100_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

impl JobCgroup {
    /// Creates `lockstep-<name>` below our own cgroup with the given budgets
    /// (`cpus` 0: no CPU limit); None when cgroups are not available to us.
    pub fn create(name: &str, memory_bytes: u64, processes: u64, cpus: u32) -> Option<Self> {
        let quota = (cpus > 0).then(|| u64::from(cpus) * CPU_PERIOD_US);
        let membership = fs::read_to_string("/proc/self/cgroup").ok()?;
        let own = |controller: &str| {
            membership.lines().find_map(|line| {
                let mut parts = line.splitn(3, ':');
                let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                controllers
                    .split(',')
                    .any(|c| c == controller)
                    .then(|| path.trim_start_matches('/').to_string())
            })
        };
        // v1: a hierarchy per controller.
        if let Some(path) = own("memory") {
            let memory = Path::new("/sys/fs/cgroup/memory")
                .join(&path)
                .join(format!("lockstep-{name}"));
            if fs::create_dir(&memory).is_ok() {
                let written = fs::write(
                    memory.join("memory.limit_in_bytes"),
                    memory_bytes.to_string(),
                )
                .is_ok();
                // Without swap accounting this file is absent; the limit above still holds.
                let _ = fs::write(
                    memory.join("memory.memsw.limit_in_bytes"),
                    memory_bytes.to_string(),
                );
                let pids = own("pids").and_then(|path| {
                    let dir = Path::new("/sys/fs/cgroup/pids")
                        .join(path)
                        .join(format!("lockstep-{name}"));
                    (fs::create_dir(&dir).is_ok()
                        && fs::write(dir.join("pids.max"), processes.to_string()).is_ok())
                    .then_some(dir)
                });
                let cpu = quota.and_then(|quota| {
                    let dir = Path::new("/sys/fs/cgroup/cpu")
                        .join(own("cpu")?)
                        .join(format!("lockstep-{name}"));
                    fs::create_dir(&dir).ok()?;
                    let capped =
                        fs::write(dir.join("cpu.cfs_period_us"), CPU_PERIOD_US.to_string()).is_ok()
                            && fs::write(dir.join("cpu.cfs_quota_us"), quota.to_string()).is_ok();
                    if !capped {
                        let _ = fs::remove_dir(&dir);
                        return None;
                    }
                    Some(dir)
                });
                let cgroup = JobCgroup {
                    memory,
                    pids,
                    cpu,
                    version: Version::V1,
                };
                if written {
                    return Some(cgroup);
                }
                cgroup.remove();
                return None;
            }
        }
        // v2: one unified hierarchy ("0::/path"); needs memory enabled for children.
        let path = own("")?;
        let base = Path::new("/sys/fs/cgroup").join(path);
        let enabled = fs::read_to_string(base.join("cgroup.subtree_control")).unwrap_or_default();
        if !enabled.split_whitespace().any(|c| c == "memory") {
            return None;
        }
        let dir = base.join(format!("lockstep-{name}"));
        fs::create_dir(&dir).ok()?;
        let cgroup = JobCgroup {
            memory: dir.clone(),
            pids: None,
            cpu: None,
            version: Version::V2,
        };
        let written = fs::write(dir.join("memory.max"), memory_bytes.to_string()).is_ok();
        let _ = fs::write(dir.join("memory.swap.max"), "0");
        let _ = fs::write(dir.join("pids.max"), processes.to_string());
        if let Some(quota) = quota {
            let _ = fs::write(dir.join("cpu.max"), format!("{quota} {CPU_PERIOD_US}"));
        }
        if written {
            Some(cgroup)
        } else {
            cgroup.remove();
            None
        }
    }

    /// Moves `pid` (and so everything it will start) into the job's cgroup.
    pub fn add(&self, pid: i32) -> std::io::Result<()> {
        fs::write(self.memory.join("cgroup.procs"), pid.to_string())?;
        for dir in [&self.pids, &self.cpu].into_iter().flatten() {
            fs::write(dir.join("cgroup.procs"), pid.to_string())?;
        }
        Ok(())
    }

    /// Whether the kernel killed a process of the job for memory.
    pub fn oom_killed(&self) -> bool {
        let file = match self.version {
            Version::V1 => "memory.oom_control",
            Version::V2 => "memory.events",
        };
        fs::read_to_string(self.memory.join(file))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix("oom_kill "))
            .any(|count| count.trim().parse::<u64>().is_ok_and(|n| n > 0))
    }

    /// Removes the cgroup once its processes are gone (they die with the
    /// job's PID namespace; give the kernel a moment to reap them).
    pub fn remove(self) {
        for dir in [Some(&self.memory), self.pids.as_ref(), self.cpu.as_ref()]
            .into_iter()
            .flatten()
        {
            for _ in 0..200 {
                if fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// Whether this process can make job cgroups: the check a worker makes
/// before it accepts jobs, so budgets fail closed.
pub fn available() -> bool {
    // Unique per call: threads of one process may probe at once.
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let probe = format!(
        "probe-{}-{}",
        std::process::id(),
        PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    match JobCgroup::create(&probe, 64 * 1024 * 1024, 16, 0) {
        Some(cgroup) => {
            cgroup.remove();
            true
        }
        None => false,
    }
}
