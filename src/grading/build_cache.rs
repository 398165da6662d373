//! The build cache: what a compile step made, kept under the key of
//! everything that determined it, so the same code is never compiled twice.
//!
//! A step's key hashes the build's identity (toolchain version and path,
//! dependency cache, see [`BuildId`]) and every compile step of the job up
//! to and including it: argv, environment, the files each writes and
//! deletes. So a key covers the learner's code, the exercise's test files,
//! the mode (a visible run's test crate differs from a submission's), the
//! flags and the compiler; change any of them and the key changes. A hit
//! skips only the compile: the artifact runs in a fresh sandbox as usual.
//!
//! Entries live in `<dir>/<key>/` (the artifact and the step's report),
//! written to a temporary directory and renamed into place, so readers on
//! any worker or process see whole entries only. A hit touches its entry;
//! when the cache grows past its capacity the least recently used entries
//! go. Identical jobs in flight on this node share one compile
//! ([`BuildCache::single_flight`]).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sandbox::{Isolation, Step, StepReport};

/// What every artifact of one toolchain and dependency cache shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildId(String);

impl BuildId {
    /// The identity of builds by the toolchain `rustc_version` (the
    /// output of `rustc -vV`) at `toolchain` against the dependency cache
    /// built from `deps_source` into `deps_dir` with the rlibs `externs`.
    pub fn new(
        rustc_version: &str,
        toolchain: &Path,
        deps_source: &str,
        deps_dir: &Path,
        externs: &[String],
    ) -> Self {
        let mut hasher = Sha256::new();
        for part in [
            rustc_version,
            &toolchain.display().to_string(),
            deps_source,
            &deps_dir.display().to_string(),
        ]
        .into_iter()
        .chain(externs.iter().map(String::as_str))
        {
            hash_part(&mut hasher, part.as_bytes());
        }
        Self(hex::encode(hasher.finalize()))
    }
}

/// The key of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    /// The key as hex (the name of its entry's directory).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key of each leading compile step of `steps` that makes an artifact
/// (the steps before the first run step); `None` for the rest.
pub fn keys(build: &BuildId, steps: &[Step]) -> Vec<Option<Key>> {
    let mut hasher = Sha256::new();
    hash_part(&mut hasher, build.0.as_bytes());
    let mut cacheable = true;
    steps
        .iter()
        .map(|step| {
            cacheable &= step.isolation == Isolation::Toolchain && step.artifact.is_some();
            if !cacheable {
                return None;
            }
            hash_step(&mut hasher, step);
            Some(Key(hex::encode(hasher.clone().finalize())))
        })
        .collect()
}

/// Everything about a step that can change what it makes.
fn hash_step(hasher: &mut Sha256, step: &Step) {
    for arg in &step.argv {
        hash_part(hasher, arg.as_bytes());
    }
    hash_part(hasher, b"env");
    for (name, value) in &step.env {
        hash_part(hasher, name.as_bytes());
        hash_part(hasher, value.as_bytes());
    }
    hash_part(hasher, b"write");
    for file in &step.write {
        hash_part(hasher, file.path.as_bytes());
        hash_part(hasher, file.contents.as_bytes());
    }
    hash_part(hasher, b"delete");
    for path in &step.delete {
        hash_part(hasher, path.as_bytes());
    }
    hash_part(hasher, b"artifact");
    if let Some(artifact) = &step.artifact {
        hash_part(hasher, artifact.path.as_bytes());
    }
}

/// Length-prefixed, so parts cannot run into each other.
fn hash_part(hasher: &mut Sha256, part: &[u8]) {
    hasher.update((part.len() as u64).to_le_bytes());
    hasher.update(part);
}

/// A cached artifact, opened (it stays readable if evicted meanwhile).
#[derive(Debug)]
pub struct Entry {
    /// The artifact.
    pub file: File,
    /// Its length.
    pub length: u64,
    /// The report of the step that made it (its warnings, for the verdict).
    pub report: StepReport,
}

/// Artifacts by key, bounded in size.
#[derive(Debug)]
pub struct BuildCache {
    dir: PathBuf,
    capacity_bytes: u64,
    /// Bytes stored, as last counted (None: not counted yet).
    size: Arc<Mutex<Option<u64>>>,
    /// Jobs whose artifacts are still to be stored ([`Self::storing`]).
    stores: Mutex<usize>,
    stored: Condvar,
}

/// A job whose artifacts are on their way into the cache; dropping it
/// (stored, or not sent after all) says so.
pub struct Storing(Arc<BuildCache>);

impl Storing {
    /// The cache to store them in.
    pub fn cache(&self) -> &BuildCache {
        &self.0
    }
}

impl Drop for Storing {
    fn drop(&mut self) {
        *lock(&self.0.stores) -= 1;
        self.0.stored.notify_all();
    }
}

/// Compiles in flight in this process, by cache directory and key: every
/// judge of the process (each worker, each app in the tests) shares them.
static FLIGHTS: LazyLock<Mutex<HashMap<FlightKey, Arc<Flight>>>> = LazyLock::new(Default::default);

/// A cache directory and a key in it.
type FlightKey = (PathBuf, Key);

/// One compile in flight that identical jobs wait for.
#[derive(Debug, Default)]
struct Flight {
    done: Mutex<bool>,
    landed: Condvar,
}

/// Held by the job that compiles for a key; dropping it releases the
/// jobs that waited for it (they then find its artifacts, or compile).
pub struct FlightGuard {
    key: FlightKey,
    flight: Arc<Flight>,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        lock(&FLIGHTS).remove(&self.key);
        *lock(&self.flight.done) = true;
        self.flight.landed.notify_all();
    }
}

const ARTIFACT: &str = "artifact";
const REPORT: &str = "report.json";

impl BuildCache {
    /// The cache in `dir` (created if missing), holding at most about
    /// `capacity_bytes`.
    pub fn open(dir: &Path, capacity_bytes: u64) -> Result<Self> {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the build cache {}", dir.display()))?;
        sweep_leftovers(dir);
        // Counted in the background: a short-lived process (`lockstep
        // grade`) would otherwise walk the whole cache on its way out. A put
        // that comes first counts for itself.
        let size = Arc::new(Mutex::new(None));
        std::thread::spawn({
            let (dir, size) = (dir.to_path_buf(), size.clone());
            move || {
                let total = stored_bytes(&entries_in(&dir));
                lock(&size).get_or_insert(total);
            }
        });
        Ok(Self {
            dir: dir.to_path_buf(),
            capacity_bytes,
            size,
            stores: Mutex::new(0),
            stored: Condvar::new(),
        })
    }

    /// Waits while another job of this node compiles for `key`; then
    /// returns a guard that makes later jobs with `key` wait for this one.
    pub fn single_flight(&self, key: &Key) -> FlightGuard {
        let key = (self.dir.clone(), key.clone());
        loop {
            let flight = {
                let mut flights = lock(&FLIGHTS);
                match flights.get(&key) {
                    Some(flight) => flight.clone(),
                    None => {
                        let flight = Arc::new(Flight::default());
                        flights.insert(key.clone(), flight.clone());
                        return FlightGuard { key, flight };
                    }
                }
            };
            let mut done = lock(&flight.done);
            while !*done {
                done = flight.landed.wait(done).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    /// Marks a job's artifacts as on their way ([`Self::wait_for_stores`]).
    pub fn storing(self: &Arc<Self>) -> Storing {
        *lock(&self.stores) += 1;
        Storing(self.clone())
    }

    /// Waits until no job's artifacts are on their way.
    pub fn wait_for_stores(&self) {
        let mut stores = lock(&self.stores);
        while *stores > 0 {
            stores = self.stored.wait(stores).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The artifact stored under `key`, if whole; marks it recently used.
    pub fn get(&self, key: &Key) -> Option<Entry> {
        let dir = self.dir.join(&key.0);
        let made: Made = serde_json::from_slice(&fs::read(dir.join(REPORT)).ok()?).ok()?;
        let file = File::open(dir.join(ARTIFACT)).ok()?;
        let length = file.metadata().ok()?.len();
        // A file cut short (a crash while it was written) is never used.
        if length != made.length {
            return None;
        }
        let _ = File::open(&dir).and_then(|d| d.set_modified(SystemTime::now()));
        Some(Entry {
            file,
            length,
            report: made.report,
        })
    }

    /// Stores `artifact`, made by the step reported in `report`, under `key`.
    pub fn put(&self, key: &Key, report: &StepReport, artifact: &[u8]) -> Result<()> {
        let entry = self.dir.join(&key.0);
        if entry.exists() {
            return Ok(());
        }
        let staging = self.dir.join(format!(
            ".new-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        fs::create_dir(&staging)?;
        let written = (|| -> Result<()> {
            File::create(staging.join(ARTIFACT))?.write_all(artifact)?;
            let made = Made {
                length: artifact.len() as u64,
                report: report.clone(),
            };
            fs::write(staging.join(REPORT), serde_json::to_vec(&made)?)?;
            Ok(())
        })();
        // Another worker may have stored the same key meanwhile: theirs stays.
        if written.is_err() || fs::rename(&staging, &entry).is_err() {
            let _ = fs::remove_dir_all(&staging);
            return written;
        }
        self.grew(artifact.len() as u64);
        Ok(())
    }

    /// Counts `added` bytes, and evicts the least recently used entries
    /// when the cache holds more than its capacity.
    fn grew(&self, added: u64) {
        let mut size = lock(&self.size);
        let total = match *size {
            Some(total) => total + added,
            None => stored_bytes(&entries_in(&self.dir)),
        };
        *size = Some(if total > self.capacity_bytes {
            self.evict_to(self.capacity_bytes * 9 / 10)
        } else {
            total
        });
    }

    /// Removes entries, least recently used first, until at most `target`
    /// bytes remain; returns what remains.
    fn evict_to(&self, target: u64) -> u64 {
        let mut entries = entries_in(&self.dir);
        entries.sort_by_key(|e| e.used);
        let mut total = stored_bytes(&entries);
        for entry in entries {
            if total <= target {
                break;
            }
            // Renamed first, so no reader opens a half-deleted entry.
            let doomed = self
                .dir
                .join(format!(".old-{}", uuid::Uuid::new_v4().simple()));
            if fs::rename(&entry.path, &doomed).is_ok() {
                let _ = fs::remove_dir_all(&doomed);
                total = total.saturating_sub(entry.bytes);
            }
        }
        total
    }

    /// Bytes held now (counted on disk).
    pub fn size(&self) -> u64 {
        stored_bytes(&entries_in(&self.dir))
    }
}

/// The entries of the cache in `dir`.
fn entries_in(dir: &Path) -> Vec<Stored> {
    let Ok(dir) = fs::read_dir(dir) else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let used = e.metadata().ok()?.modified().ok()?;
            let bytes = fs::metadata(e.path().join(ARTIFACT)).ok()?.len();
            Some(Stored {
                path: e.path(),
                used,
                bytes,
            })
        })
        .collect()
}

fn stored_bytes(entries: &[Stored]) -> u64 {
    entries.iter().map(|e| e.bytes).sum()
}

/// Removes what a process that died while storing or evicting left behind
/// (entries being written, entries being deleted), once it is old enough
/// that no live process is still at it.
fn sweep_leftovers(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // By name first: every open of the cache passes here, and a stat per
        // entry of a full cache is most of its cost.
        if !(name.starts_with(".new-") || name.starts_with(".old-")) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 600));
        if stale {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// An entry on disk.
struct Stored {
    path: PathBuf,
    used: SystemTime,
    bytes: u64,
}

/// How an artifact was made: the step's report and the artifact's length.
#[derive(Serialize, Deserialize)]
struct Made {
    length: u64,
    report: StepReport,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
