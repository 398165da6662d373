//! The dependency cache: the pinned crate set learner code compiles against.
//!
//! `grader/deps` is a small crate whose only purpose is its `Cargo.toml` and
//! committed `Cargo.lock`. Preparing the cache builds it once, outside any
//! sandbox (it is our code and pinned crates, not the learner's), into
//! `<data dir>/grader/target`, and records which rlib each direct dependency
//! became. Jobs then see that directory read-only at `/deps` and pass
//! `--extern name=/deps/lib….rlib` to rustc: no cargo, no lock, no writes.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::build_cache::BuildId;
use super::sandbox::{Sandbox, find_toolchain};

/// What a prepared cache holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Hash of the workspace's Cargo.toml and Cargo.lock it was built from.
    pub source_hash: String,
    /// The toolchain's sysroot on the host.
    pub toolchain: PathBuf,
    /// `rustc -vV` of that toolchain: rlibs from another compiler do not link.
    #[serde(default)]
    pub rustc_version: String,
    /// Size, modification time and inode of the toolchain's `rustc` and
    /// compiler library when `rustc_version` was read: while they are the
    /// same, so is the compiler, and no `rustc -vV` is run to tell.
    #[serde(default)]
    pub toolchain_files: String,
    /// The directory of rlibs on the host.
    pub deps_dir: PathBuf,
    /// Crate name (as code writes it) → rlib file name inside `deps_dir`.
    pub externs: BTreeMap<String, String>,
}

/// Returned by [`prepare`] when `cancelled` said stop before the cache was ready.
#[derive(Debug, thiserror::Error)]
#[error("the preparation of the dependency cache was cancelled")]
pub struct Cancelled;

/// How often a build checks whether it was cancelled.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Returns the cache for `workspace`, building it first when missing or stale.
/// Prints one progress line to stderr when it has to build.
///
/// Stops soon after `cancelled` returns true (then with [`Cancelled`]): the
/// cargo build is killed with every compiler it started. Nothing half-built
/// is trusted later: the manifest is written (atomically) only after a
/// complete build, and cargo's target dir resumes where it stopped.
pub fn prepare(
    workspace: &Path,
    data_dir: &Path,
    cancelled: &dyn Fn() -> bool,
) -> Result<Manifest> {
    let grader_dir = data_dir.join("grader");
    fs::create_dir_all(&grader_dir)?;
    let grader_dir = grader_dir.canonicalize()?;
    let lock = File::create(grader_dir.join(".prepare.lock"))?;
    // One builder at a time; the others then find it ready.
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if !cancelled() => {
                std::thread::sleep(CANCEL_POLL);
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(Cancelled.into()),
            Err(std::fs::TryLockError::Error(error)) => return Err(error.into()),
        }
    }
    let manifest_path = grader_dir.join("deps.json");
    let source_hash = hash_sources(workspace)?;
    // The cache belongs to the toolchain it was built with (jobs compile
    // with that one); it is stale when that toolchain changed in place (a
    // `rustup update`), which its `rustc -vV` tells.
    if let Ok(text) = fs::read_to_string(&manifest_path)
        && let Ok(manifest) = serde_json::from_str::<Manifest>(&text)
        && manifest.source_hash == source_hash
        && toolchain_unchanged(&manifest, &manifest_path)
        && manifest.toolchain.join("bin/rustc").exists()
        && manifest
            .externs
            .values()
            .all(|file| manifest.deps_dir.join(file).exists())
    {
        return Ok(manifest);
    }
    eprintln!(
        "Preparing the grader's dependency cache (tokio, futures, loom, wiremock, …): a one-time build of a minute or two…"
    );
    let target_dir = grader_dir.join("target");
    let direct = direct_dependencies(workspace)?;
    let mut child = Command::new("cargo")
        .args(["build", "--locked", "--message-format=json", "--quiet"])
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", &target_dir)
        // The test runner uses unstable features; no other crate may.
        .env("RUSTC_BOOTSTRAP", "lockstep_harness")
        // Its own process group, so a cancel stops cargo and every rustc.
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot run cargo to build the dependency cache")?;
    let stdout = child.stdout.take().context("cargo stdout")?;
    // Read on a thread so this one can watch for a cancel.
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if cancelled() {
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            let _ = reader.join();
            eprintln!("Stopped the dependency cache's build; the next start resumes it.");
            return Err(Cancelled.into());
        }
        std::thread::sleep(CANCEL_POLL);
    };
    let lines = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reading cargo's output failed"))?;
    let mut externs = BTreeMap::new();
    for line in lines {
        let message: serde_json::Value = match serde_json::from_str(&line) {
            Ok(message) => message,
            Err(_) => continue,
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(name) = message["package_id"].as_str().and_then(|id| direct.get(id)) else {
            continue;
        };
        let Some(files) = message["filenames"].as_array() else {
            continue;
        };
        for file in files.iter().filter_map(|f| f.as_str()) {
            let path = Path::new(file);
            let is_library = file.ends_with(".rlib") || file.ends_with(".so");
            if is_library && path.parent().is_some_and(|p| p.ends_with("deps")) {
                let file_name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                externs.insert(name.clone(), file_name.to_string());
            }
        }
    }
    if !status.success() {
        bail!("building the dependency cache failed (see cargo's output above)");
    }
    if externs.len() != direct.len() {
        bail!(
            "the dependency cache lacks some crates: built {:?}",
            externs.keys().collect::<Vec<_>>()
        );
    }
    let toolchain = find_toolchain(workspace)?;
    let manifest = Manifest {
        source_hash,
        rustc_version: rustc_version(&toolchain)?,
        toolchain_files: toolchain_files(&toolchain),
        toolchain,
        deps_dir: target_dir.join("debug/deps"),
        externs,
    };
    // Whole or absent: a crash mid-write must not leave a manifest to trust.
    let partial = grader_dir.join("deps.json.partial");
    fs::write(&partial, serde_json::to_vec_pretty(&manifest)?)?;
    fs::rename(&partial, &manifest_path)?;
    eprintln!("Dependency cache ready: {} crates.", manifest.externs.len());
    Ok(manifest)
}

/// Whether the toolchain is the one `manifest` was built with: its files
/// are untouched, or else its `rustc -vV` says the same (then the files'
/// new identity is written down, so the next start need not ask again).
fn toolchain_unchanged(manifest: &Manifest, manifest_path: &Path) -> bool {
    let files = toolchain_files(&manifest.toolchain);
    if !manifest.toolchain_files.is_empty() && manifest.toolchain_files == files {
        return true;
    }
    if !rustc_version(&manifest.toolchain).is_ok_and(|v| v == manifest.rustc_version) {
        return false;
    }
    let updated = Manifest {
        toolchain_files: files,
        ..manifest.clone()
    };
    if let Ok(json) = serde_json::to_vec_pretty(&updated) {
        let _ = fs::write(manifest_path, json);
    }
    true
}

/// Size, modification time and inode of `bin/rustc` and every
/// `lib/librustc_driver-*` of the toolchain at `sysroot` (a `rustup update`
/// replaces them); empty when they cannot be read.
fn toolchain_files(sysroot: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let mut files = vec![sysroot.join("bin/rustc")];
    if let Ok(entries) = fs::read_dir(sysroot.join("lib")) {
        let mut drivers: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("librustc_driver-"))
            })
            .collect();
        drivers.sort();
        files.extend(drivers);
    }
    let mut identity = String::new();
    for file in &files {
        let Ok(meta) = fs::metadata(file) else {
            return String::new();
        };
        identity.push_str(&format!(
            "{}:{}:{}.{}:{};",
            file.display(),
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ino()
        ));
    }
    identity
}

/// What `rustc -vV` of the toolchain at `sysroot` says.
fn rustc_version(sysroot: &Path) -> Result<String> {
    let output = Command::new(sysroot.join("bin/rustc"))
        .arg("-vV")
        .output()
        .context("cannot run the toolchain's rustc")?;
    if !output.status.success() {
        bail!("rustc -vV failed");
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Manifest {
    /// The identity of every build against this cache, for the build cache.
    pub fn build_id(&self) -> BuildId {
        let externs: Vec<String> = self
            .externs
            .iter()
            .map(|(name, file)| format!("{name}={file}"))
            .collect();
        BuildId::new(
            &self.rustc_version,
            &self.toolchain,
            &self.source_hash,
            &self.deps_dir,
            &externs,
        )
    }

    /// A sandbox that runs jobs against this cache with `helper` as the helper binary.
    pub fn sandbox(&self, helper: PathBuf) -> Sandbox {
        Sandbox {
            helper,
            toolchain: self.toolchain.clone(),
            deps: self.deps_dir.clone(),
            require_cgroup: true,
            cpus: 0,
        }
    }
}

/// Package id → crate name (as `use` writes it) of the workspace's direct dependencies.
fn direct_dependencies(workspace: &Path) -> Result<BTreeMap<String, String>> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!("cargo metadata failed for {}", workspace.display());
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let root = metadata["resolve"]["root"]
        .as_str()
        .context("no root package")?;
    let node = metadata["resolve"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["id"] == root))
        .context("root package not resolved")?;
    Ok(node["deps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|dep| {
            Some((
                dep["pkg"].as_str()?.to_string(),
                dep["name"].as_str()?.to_string(),
            ))
        })
        .collect())
}

fn hash_sources(workspace: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    for name in [
        "Cargo.toml",
        "Cargo.lock",
        "harness/Cargo.toml",
        "harness/src/lib.rs",
    ] {
        let path = workspace.join(name);
        hasher.update(fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?);
    }
    Ok(hasher.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A crate learner code may use, as the grader builds it: what a learner's
/// own `Cargo.toml` must ask for to compile what the server compiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PinnedCrate {
    /// The package's name on crates.io (`tokio-stream`).
    pub name: String,
    /// The exact version in the grader's `Cargo.lock`.
    pub version: String,
    /// Features the grader turns on.
    pub features: Vec<String>,
    /// Whether the crate's default features are on.
    pub default_features: bool,
}

/// The crate set learner code compiles against, for learners' own machines.
#[derive(Debug, Clone, Default)]
pub struct PinnedCrates {
    /// The direct dependencies of the grader's workspace, by name.
    pub crates: Vec<PinnedCrate>,
    /// Its `Cargo.lock` with only the registry packages (the workspace's
    /// own path crates mean nothing elsewhere).
    pub lock: String,
}

/// Reads the pinned crate set of the grader's workspace (`grader/deps`):
/// the direct dependencies of its `Cargo.toml` from crates.io, at the
/// versions its `Cargo.lock` resolved them to. No cargo is run.
pub fn pinned_crates(workspace: &Path) -> Result<PinnedCrates> {
    let read = |name: &str| -> Result<toml::Table> {
        let path = workspace.join(name);
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        text.parse::<toml::Table>()
            .with_context(|| format!("{} is not valid TOML", path.display()))
    };
    let manifest = read("Cargo.toml")?;
    let mut lock = read("Cargo.lock")?;
    let packages: Vec<toml::Table> = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .context("Cargo.lock lists no packages")?
        .iter()
        .filter_map(|p| p.as_table().cloned())
        .collect();
    let field =
        |p: &toml::Table, key: &str| p.get(key).and_then(|v| v.as_str()).map(str::to_string);
    // The root package names its dependencies, with a version where the
    // lock holds more than one of that name ("rand 0.9.5").
    let package_name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .context("the grader's Cargo.toml has no package name")?;
    let root_dependencies: Vec<String> = packages
        .iter()
        .find(|p| field(p, "name").as_deref() == Some(package_name) && !p.contains_key("source"))
        .and_then(|p| p.get("dependencies"))
        .and_then(toml::Value::as_array)
        .map(|deps| {
            deps.iter()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut crates = Vec::new();
    let dependencies = manifest
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .context("the grader's Cargo.toml has no [dependencies]")?;
    for (name, spec) in dependencies {
        let table = spec.as_table();
        if table.is_some_and(|t| t.contains_key("path")) {
            continue; // our own crates (the test harness), not the learner's
        }
        let pinned_in_root =
            root_dependencies
                .iter()
                .find_map(|entry| match entry.split_once(' ') {
                    Some((n, version)) if n == name => Some(version.to_string()),
                    _ => None,
                });
        let version = match pinned_in_root {
            Some(version) => version,
            None => {
                let mut versions = packages
                    .iter()
                    .filter(|p| field(p, "name").as_deref() == Some(name.as_str()))
                    .filter_map(|p| field(p, "version"));
                match (versions.next(), versions.next()) {
                    (Some(version), None) => version,
                    _ => bail!("the grader's Cargo.lock does not pin one version of {name}"),
                }
            }
        };
        crates.push(PinnedCrate {
            name: name.clone(),
            version,
            features: table
                .and_then(|t| t.get("features"))
                .and_then(toml::Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            default_features: table
                .and_then(|t| t.get("default-features"))
                .and_then(toml::Value::as_bool)
                .unwrap_or(true),
        });
    }
    let registry_only: Vec<toml::Value> = packages
        .into_iter()
        .filter(|p| p.contains_key("source"))
        .map(toml::Value::Table)
        .collect();
    lock.insert("package".into(), toml::Value::Array(registry_only));
    let lock = format!(
        "# The Lockstep grader's Cargo.lock: the versions the server compiles with.\n{}",
        toml::to_string(&lock).context("cannot write the lock file")?
    );
    Ok(PinnedCrates { crates, lock })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiler_is_asked_its_version_only_when_its_files_changed() {
        let sysroot = find_toolchain(Path::new(".")).unwrap();
        let dir = std::env::temp_dir().join(format!("deps-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("deps.json");
        let manifest = Manifest {
            source_hash: "sources".into(),
            rustc_version: rustc_version(&sysroot).unwrap(),
            toolchain_files: String::new(),
            toolchain: sysroot.clone(),
            deps_dir: dir.clone(),
            externs: BTreeMap::new(),
        };
        // Nothing recorded yet: rustc is asked, agrees, and its files are written down.
        assert!(toolchain_unchanged(&manifest, &path));
        let recorded: Manifest = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert!(!recorded.toolchain_files.is_empty());
        assert_eq!(recorded.toolchain_files, toolchain_files(&sysroot));
        // The same files: the same compiler, without asking (the recorded
        // version is not even compared).
        let not_asked = Manifest {
            rustc_version: "rustc 0.0.0".into(),
            ..recorded.clone()
        };
        assert!(toolchain_unchanged(&not_asked, &path));
        // Other files, and rustc says another version: stale.
        let replaced = Manifest {
            toolchain_files: "replaced by rustup update".into(),
            rustc_version: "rustc 0.0.0".into(),
            ..recorded
        };
        assert!(!toolchain_unchanged(&replaced, &path));
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod pinned_tests {
    use super::*;

    /// The real `grader/deps`: every direct crates.io dependency is pinned
    /// to the version the lock holds, and the harness is left out.
    #[test]
    fn the_grader_workspace_pins_each_crate_once() {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("grader/deps");
        let pinned = pinned_crates(&workspace).unwrap();
        let names: Vec<&str> = pinned.crates.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.contains(&"tokio") && names.contains(&"rand"),
            "{names:?}"
        );
        assert!(!names.contains(&"lockstep-harness"));
        let lock_text = fs::read_to_string(workspace.join("Cargo.lock")).unwrap();
        for krate in &pinned.crates {
            let entry = format!(
                "name = \"{}\"\nversion = \"{}\"\n",
                krate.name, krate.version
            );
            assert!(
                lock_text.contains(&entry),
                "{} {} is not in the lock",
                krate.name,
                krate.version
            );
        }
        let proptest = pinned.crates.iter().find(|c| c.name == "proptest").unwrap();
        assert!(!proptest.default_features);
        assert!(proptest.features.contains(&"bit-set".to_string()));
        assert!(!pinned.lock.contains("lockstep-harness"));
        assert!(pinned.lock.parse::<toml::Table>().is_ok());
    }
}
