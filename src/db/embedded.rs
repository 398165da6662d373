//! A private PostgreSQL cluster under the data dir, for running Lockstep (and
//! its tests) with no database setup at all.
//!
//! The cluster is created with the system's PostgreSQL binaries, listens only
//! on a Unix socket in a directory nobody else can enter, and trusts local
//! connections: the socket's permissions are the access control. PostgreSQL
//! refuses to run as root, so when Lockstep runs as root the cluster belongs
//! to (and runs as) the `postgres` user.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use nix::unistd::{Gid, Uid, User, chown};
use sha2::{Digest, Sha256};

/// The role every private cluster is initialised with.
const SUPERUSER: &str = "lockstep";
/// The file in a cluster's home naming the data dir it belongs to.
const DATA_DIR_RECORD: &str = "data-dir";
/// Unix socket paths are limited to 108 bytes including the socket's name.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// How the cluster trades durability for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on: the app's data survives a power cut.
    Full,
    /// fsync off: for throwaway test clusters.
    Relaxed,
}

/// A running private cluster. Dropping it leaves the server running; call
/// [`PrivateCluster::stop`] to shut it down.
#[derive(Debug)]
pub struct PrivateCluster {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    owner: Option<User>,
    /// Whether it was already running when we started it (another process's).
    adopted: bool,
}

impl PrivateCluster {
    /// Starts (creating it first if needed) the cluster that belongs to
    /// `data_dir`, or adopts it if a previous run left it running.
    pub fn start(data_dir: &Path, durability: Durability) -> Result<Self> {
        Self::start_with_settings(data_dir, durability, &[])
    }

    /// [`PrivateCluster::start`] with more server settings (`name`, `value`),
    /// given after (so overriding) the defaults: e.g. a TCP listener with TLS,
    /// for the tests of TLS to PostgreSQL. A cluster left running is adopted
    /// as it is.
    pub fn start_with_settings(
        data_dir: &Path,
        durability: Durability,
        settings: &[(&str, &str)],
    ) -> Result<Self> {
        fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        // Serialise concurrent starts against one data dir (parallel test binaries).
        let lock = File::create(data_dir.join(".postgres.lock"))?;
        lock.lock()?;

        let owner = cluster_owner()?;
        let home = cluster_home(&data_dir, owner.as_ref());
        let pgdata = home.join("postgres");
        // An existing cluster runs only with its own major version's binaries.
        let bin_dir = match fs::read_to_string(pgdata.join("PG_VERSION")) {
            Ok(version) => bin_dir_for_cluster(version.trim(), &pgdata)?,
            Err(_) => find_bin_dir()?,
        };
        let cluster = Self {
            bin_dir,
            pgdata,
            socket_dir: home.join("run"),
            owner,
            adopted: false,
        };
        for dir in [&home, &cluster.socket_dir] {
            fs::create_dir_all(dir)?;
            cluster.give_to_owner(dir)?;
        }
        // Which data dir a cluster belongs to, for `lockstep cluster list`.
        fs::write(
            home.join(DATA_DIR_RECORD),
            data_dir.as_os_str().as_encoded_bytes(),
        )?;
        if !cluster.pgdata.join("PG_VERSION").exists() {
            tracing::info!(pgdata = %cluster.pgdata.display(), "creating the private PostgreSQL cluster");
            cluster.run(
                "initdb",
                [
                    OsStr::new("-D"),
                    cluster.pgdata.as_os_str(),
                    OsStr::new("-U"),
                    OsStr::new(SUPERUSER),
                    OsStr::new("--auth=trust"),
                    OsStr::new("--encoding=UTF8"),
                    OsStr::new("--no-instructions"),
                ],
            )?;
        }
        let mut cluster = cluster;
        if cluster.is_running() {
            cluster.adopted = true;
            tracing::info!(
                "adopting the private PostgreSQL cluster left running by a previous run"
            );
        } else {
            let fsync = match durability {
                Durability::Full => "on",
                Durability::Relaxed => "off",
            };
            let mut options = format!(
                "-c listen_addresses='' -c unix_socket_permissions=0700 -k {} -c fsync={fsync} -c max_connections=200",
                cluster.socket_dir.display()
            );
            for (name, value) in settings {
                // pg_ctl hands the options to a shell: quoted, and no quote inside.
                if value.contains(['\'', '\\'])
                    || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    bail!(
                        "server setting {name} = {value:?}: quotes and backslashes are not supported"
                    );
                }
                options.push_str(&format!(" -c {name}='{value}'"));
            }
            let log = home.join("postgres.log");
            cluster
                .run(
                    "pg_ctl",
                    [
                        OsStr::new("start"),
                        OsStr::new("--wait"),
                        OsStr::new("--timeout=60"),
                        OsStr::new("-D"),
                        cluster.pgdata.as_os_str(),
                        OsStr::new("-l"),
                        log.as_os_str(),
                        OsStr::new("-o"),
                        OsStr::new(&options),
                    ],
                )
                .with_context(|| format!("PostgreSQL did not start; see {}", log.display()))?;
        }
        Ok(cluster)
    }

    /// A connection URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}",
            self.socket_dir.display()
        )
    }

    /// Whether the server was already running when [`PrivateCluster::start`]
    /// was called (a `serve` is up): then it is not ours to stop.
    pub fn was_running(&self) -> bool {
        self.adopted
    }

    /// `program` of this cluster's PostgreSQL (`pg_dump`, `pg_restore`, …),
    /// run as the cluster's owner.
    pub fn tool(&self, program: &str) -> Command {
        self.command(program)
    }

    /// Shuts the server down (fast mode: open sessions are ended, data is safe).
    pub fn stop(&self) -> Result<()> {
        self.run(
            "pg_ctl",
            [
                OsStr::new("stop"),
                OsStr::new("--wait"),
                OsStr::new("-m"),
                OsStr::new("fast"),
                OsStr::new("-D"),
                self.pgdata.as_os_str(),
            ],
        )
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .args([
                OsStr::new("status"),
                OsStr::new("-D"),
                self.pgdata.as_os_str(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    fn run<I, S>(&self, program: &str, args: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self
            .command(program)
            .args(args)
            .output()
            .with_context(|| format!("cannot run {program}"))?;
        if !output.status.success() {
            bail!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout).trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        // The server must not inherit our working directory (it may be unreadable
        // to the `postgres` user) nor a locale it cannot find.
        command.current_dir(self.pgdata.parent().unwrap_or(Path::new("/")));
        command.env("LC_ALL", "C.UTF-8").env_remove("PGDATA");
        if let Some(owner) = &self.owner {
            command.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
        }
        command
    }

    fn give_to_owner(&self, dir: &Path) -> Result<()> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        if let Some(owner) = &self.owner {
            chown(dir, Some(owner.uid), Some(owner.gid))
                .with_context(|| format!("cannot give {} to the postgres user", dir.display()))?;
        }
        Ok(())
    }
}

/// Where the cluster lives: `<data dir>/db`, unless the `postgres` user cannot
/// reach it (a data dir under `/root`) or the socket path would be too long;
/// then a directory under `/var/tmp` named after the data dir.
fn cluster_home(data_dir: &Path, owner: Option<&User>) -> PathBuf {
    let home = data_dir.join("db");
    let reachable = owner.is_none_or(|owner| can_traverse(&home, owner.uid, owner.gid));
    if reachable && home.join("run").as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        return home;
    }
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let name: String = digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let fallback = Path::new(FALLBACK_ROOT).join(format!("lockstep-{name}"));
    tracing::info!(path = %fallback.display(), "the data dir is unreachable for the postgres user or too deep; the private cluster lives here instead");
    fallback
}

/// The directory of the private cluster of `data_dir` (its `postgres` data
/// directory, `run` socket directory and log), existing or not.
pub fn cluster_home_of(data_dir: &Path) -> Result<PathBuf> {
    let data_dir = data_dir.canonicalize()?;
    Ok(cluster_home(&data_dir, cluster_owner()?.as_ref()))
}

/// The URL of the private cluster's `database` for `data_dir`, running or not
/// (for tools and tests that connect alongside a running app).
pub fn url_for_data_dir(data_dir: &Path, database: &str) -> Result<String> {
    let home = cluster_home_of(data_dir)?;
    Ok(format!(
        "postgres://{SUPERUSER}@localhost/{database}?host={}",
        home.join("run").display()
    ))
}

/// Whether the private cluster of `data_dir` has a server running.
pub fn is_running(data_dir: &Path) -> bool {
    cluster_home_of(data_dir).is_ok_and(|home| home.join("postgres/postmaster.pid").exists())
}

/// Whether a user could walk down to `path` (execute permission on every ancestor).
fn can_traverse(path: &Path, uid: Uid, gid: Gid) -> bool {
    use std::os::unix::fs::MetadataExt;
    path.ancestors().skip(1).all(|dir| match fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.mode();
            if meta.uid() == uid.as_raw() {
                mode & 0o100 != 0
            } else if meta.gid() == gid.as_raw() {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        }
        Err(_) => true, // not created yet: we create it with our own permissions
    })
}

/// The OS user the private cluster runs as: `postgres` when we are root
/// (PostgreSQL refuses to run as root), ourselves otherwise.
fn cluster_owner() -> Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    Ok(Some(User::from_name("postgres")?.context(
        "running as root needs a `postgres` system user to own the private database \
         (apt-get install postgresql creates it), or set DATABASE_URL",
    )?))
}

/// The binaries of PostgreSQL `version` (a cluster's `PG_VERSION`: `15`,
/// or `9.6` before PostgreSQL 10), or an error naming both versions and the
/// way to upgrade when only other major versions are installed.
fn bin_dir_for_cluster(version: &str, pgdata: &Path) -> Result<PathBuf> {
    let installed = installed_bin_dirs();
    if let Some((_, dir)) = installed.iter().find(|(major, _)| major == version) {
        return Ok(dir.clone());
    }
    let names: Vec<&str> = installed.iter().map(|(major, _)| major.as_str()).collect();
    let newest = names.first().copied().unwrap_or("none");
    bail!(
        "the private PostgreSQL cluster {} was created by PostgreSQL {version}, but this machine \
         has PostgreSQL {} installed and a cluster only runs with its own major version. \
         Either install PostgreSQL {version} beside it (Debian: apt-get install \
         postgresql-{version}), or upgrade the cluster to PostgreSQL {newest}: with the \
         PostgreSQL {version} binaries installed run `lockstep backup FILE`, move the data dir \
         aside, then `lockstep restore FILE` into a fresh data dir (or use pg_upgrade \
         --old-bindir=/usr/lib/postgresql/{version}/bin --new-bindir=/usr/lib/postgresql/{newest}/bin \
         on {}).",
        pgdata.display(),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        },
        pgdata.display(),
    )
}

/// Every directory holding `initdb`, `pg_ctl` and `postgres` with its
/// major version, PATH first, then the newest installed version first.
fn installed_bin_dirs() -> Vec<(String, PathBuf)> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut versioned: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versioned
        .sort_by_key(|dir| std::cmp::Reverse(major_of(dir).and_then(|v| v.parse::<u32>().ok())));
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for dir in on_path.into_iter().chain(versioned) {
        let complete = ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|bin| dir.join(bin).is_file());
        // Through symlinks (`/usr/local/bin/postgres` → …/15/bin/postgres) to
        // the real installation, which also has pg_dump and pg_restore.
        let dir = match dir.join("postgres").canonicalize() {
            Ok(real) if complete => real.parent().map_or(dir, Path::to_path_buf),
            _ => dir,
        };
        if complete
            && let Some(major) = major_of(&dir)
            && !found.iter().any(|(_, known)| known == &dir)
        {
            found.push((major, dir));
        }
    }
    found
}

/// The major version of the PostgreSQL in `bin_dir`, as `PG_VERSION` writes
/// it: from its `/usr/lib/postgresql/<major>/bin` path, else `postgres --version`.
fn major_of(bin_dir: &Path) -> Option<String> {
    if let Some(name) = bin_dir
        .parent()
        .filter(|parent| parent.parent() == Some(Path::new("/usr/lib/postgresql")))
        .and_then(|version| version.file_name())
        .and_then(|name| name.to_str())
    {
        return Some(name.to_string());
    }
    let output = Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split_whitespace().nth(2)?;
    let mut parts = version.split('.');
    let first = parts.next()?;
    match first.parse::<u32>().ok()? {
        major if major >= 10 => Some(major.to_string()),
        _ => Some(format!("{first}.{}", parts.next()?)),
    }
}

/// `program` (`pg_dump`, `pg_restore`) of the newest installed PostgreSQL,
/// for a server that is not the private cluster.
pub fn client_tool(program: &str) -> Result<PathBuf> {
    let dir = find_bin_dir()?;
    let path = dir.join(program);
    if !path.is_file() {
        bail!(
            "{program} was not found in {}: install PostgreSQL's client programs",
            dir.display()
        );
    }
    Ok(path)
}

/// The directory holding `initdb`, `pg_ctl` and `postgres` for a new cluster.
fn find_bin_dir() -> Result<PathBuf> {
    installed_bin_dirs()
        .into_iter()
        .map(|(_, dir)| dir)
        .next()
        .context(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: install them \
             (Debian: apt-get install postgresql) or set DATABASE_URL to an existing server",
        )
}

/// Where clusters go whose data dir the `postgres` user cannot reach or
/// whose socket path would be too long (see [`cluster_home`]).
pub const FALLBACK_ROOT: &str = "/var/tmp";

/// A private cluster found under [`FALLBACK_ROOT`].
#[derive(Debug, Clone)]
pub struct FoundCluster {
    /// Its home: `postgres/` (the data), `run/` (the socket), the log.
    pub home: PathBuf,
    /// The data dir it belongs to (`None`: made before Lockstep recorded it).
    pub data_dir: Option<PathBuf>,
    /// Whether its server is running.
    pub running: bool,
}

impl FoundCluster {
    /// Its data dir is gone: nothing will use it again.
    pub fn is_orphan(&self) -> bool {
        self.data_dir.as_ref().is_some_and(|dir| !dir.exists())
    }
}

/// The private clusters under `root` (normally [`FALLBACK_ROOT`]).
pub fn find_clusters(root: &Path) -> Vec<FoundCluster> {
    let mut found: Vec<FoundCluster> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("lockstep-"))
        .map(|entry| entry.path())
        .filter(|home| home.join("postgres").is_dir() || home.join("run").is_dir())
        .map(|home| FoundCluster {
            data_dir: fs::read(home.join(DATA_DIR_RECORD)).ok().map(|bytes| {
                PathBuf::from(std::ffi::OsString::from(
                    String::from_utf8_lossy(&bytes).into_owned(),
                ))
            }),
            running: postmaster_pid(&home).is_some(),
            home,
        })
        .collect();
    found.sort_by(|a, b| a.home.cmp(&b.home));
    found
}

/// The pid of the cluster's running server, if one is running.
fn postmaster_pid(home: &Path) -> Option<nix::unistd::Pid> {
    let text = fs::read_to_string(home.join("postgres/postmaster.pid")).ok()?;
    let pid = nix::unistd::Pid::from_raw(text.lines().next()?.trim().parse().ok()?);
    // Signal 0: does it exist (a crash leaves a stale file behind).
    nix::sys::signal::kill(pid, None).ok().map(|()| pid)
}

/// Stops the cluster in `home` if it runs, then deletes it.
pub fn remove_cluster(home: &Path) -> Result<()> {
    stop_cluster_in(home)?;
    fs::remove_dir_all(home).with_context(|| format!("cannot remove {}", home.display()))
}

/// Stops the server of the cluster in `home`, if one runs: with `pg_ctl` of
/// its own version when installed, else by signalling it (SIGINT: PostgreSQL's
/// fast shutdown) and waiting up to 30 s.
fn stop_cluster_in(home: &Path) -> Result<()> {
    let Some(pid) = postmaster_pid(home) else {
        return Ok(());
    };
    let pgdata = home.join("postgres");
    let stopped_by_pg_ctl = fs::read_to_string(pgdata.join("PG_VERSION"))
        .ok()
        .and_then(|version| bin_dir_for_cluster(version.trim(), &pgdata).ok())
        .and_then(|bin_dir| {
            let owner = cluster_owner().ok()?;
            let cluster = PrivateCluster {
                bin_dir,
                pgdata: pgdata.clone(),
                socket_dir: home.join("run"),
                owner,
                adopted: true,
            };
            cluster.stop().ok()
        })
        .is_some();
    if !stopped_by_pg_ctl {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while nix::sys::signal::kill(pid, None).is_ok() {
            if std::time::Instant::now() > deadline {
                bail!(
                    "the PostgreSQL server {pid} in {} did not stop",
                    home.display()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    Ok(())
}

/// The lock file whose shared locks mark the private cluster of a data dir
/// as in use (by the test processes that share one cluster).
const IN_USE_LOCK: &str = ".in-use.lock";

/// Marks the private cluster of `data_dir` as in use for as long as the
/// returned file is open (a shared lock: many users at once), so that
/// [`stop_when_idle`] leaves it running.
pub fn hold_in_use(data_dir: &Path) -> Result<File> {
    fs::create_dir_all(data_dir)?;
    let file = File::create(data_dir.join(IN_USE_LOCK))?;
    file.lock_shared()?;
    Ok(file)
}

/// Waits until no process has held [`hold_in_use`] on `data_dir` for `idle`,
/// then stops its private cluster and returns. Returns at once when another
/// watcher already watches it.
pub fn stop_when_idle(data_dir: &Path, idle: std::time::Duration) -> Result<()> {
    let data_dir = data_dir.canonicalize()?;
    let watcher = File::create(data_dir.join(".watcher.lock"))?;
    if watcher.try_lock().is_err() {
        return Ok(());
    }
    let in_use = File::create(data_dir.join(IN_USE_LOCK))?;
    let mut idle_since: Option<std::time::Instant> = None;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        if in_use.try_lock().is_err() {
            idle_since = None;
            continue;
        }
        // Nobody holds it, and nobody can take it while we do.
        if idle_since
            .get_or_insert_with(std::time::Instant::now)
            .elapsed()
            < idle
        {
            in_use.unlock()?;
            continue;
        }
        let home = cluster_home(&data_dir, cluster_owner()?.as_ref());
        let stopped = stop_cluster_in(&home);
        // The watcher's lock goes first, so a user that starts the cluster
        // again once `in_use` is free can start its own watcher.
        drop(watcher);
        drop(in_use);
        return stopped;
    }
}
