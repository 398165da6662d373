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
        let bin_dir = find_bin_dir()?;
        fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        // Serialise concurrent starts against one data dir (parallel test binaries).
        let lock = File::create(data_dir.join(".postgres.lock"))?;
        lock.lock()?;

        let owner = if Uid::effective().is_root() {
            Some(User::from_name("postgres")?.context(
                "running as root needs a `postgres` system user to own the private database \
                 (apt-get install postgresql creates it), or set DATABASE_URL",
            )?)
        } else {
            None
        };
        let home = cluster_home(&data_dir, owner.as_ref());
        let cluster = Self {
            bin_dir,
            pgdata: home.join("postgres"),
            socket_dir: home.join("run"),
            owner,
        };
        for dir in [&home, &cluster.socket_dir] {
            fs::create_dir_all(dir)?;
            cluster.give_to_owner(dir)?;
        }
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
        if cluster.is_running() {
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
    let fallback = PathBuf::from(format!("/var/tmp/lockstep-{name}"));
    tracing::info!(path = %fallback.display(), "the data dir is unreachable for the postgres user or too deep; the private cluster lives here instead");
    fallback
}

/// The URL of the private cluster's `database` for `data_dir`, running or not
/// (for tools and tests that connect alongside a running app).
pub fn url_for_data_dir(data_dir: &Path, database: &str) -> Result<String> {
    let data_dir = data_dir.canonicalize()?;
    let owner = if Uid::effective().is_root() {
        User::from_name("postgres")?
    } else {
        None
    };
    let home = cluster_home(&data_dir, owner.as_ref());
    Ok(format!(
        "postgres://{SUPERUSER}@localhost/{database}?host={}",
        home.join("run").display()
    ))
}

/// Whether the private cluster of `data_dir` has a server running.
pub fn is_running(data_dir: &Path) -> bool {
    let Ok(data_dir) = data_dir.canonicalize() else {
        return false;
    };
    let owner = if Uid::effective().is_root() {
        User::from_name("postgres").ok().flatten()
    } else {
        None
    };
    cluster_home(&data_dir, owner.as_ref())
        .join("postgres/postmaster.pid")
        .exists()
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

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn find_bin_dir() -> Result<PathBuf> {
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
    // Newest major version first.
    versioned.sort_by_key(|dir| {
        std::cmp::Reverse(
            dir.parent()
                .and_then(|version| version.file_name())
                .and_then(|name| name.to_str())
                .and_then(|name| name.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    on_path
        .into_iter()
        .chain(versioned)
        .find(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|bin| dir.join(bin).is_file())
        })
        .context(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: install them \
             (Debian: apt-get install postgresql) or set DATABASE_URL to an existing server",
        )
}
