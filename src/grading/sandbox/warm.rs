//! Sandboxes built ahead of their jobs.
//!
//! Building a sandbox (namespaces, the compilers' root, a cgroup, the
//! seccomp filters) takes tens of milliseconds, most of it waiting on the
//! kernel. A grading worker does it for the next job while the current
//! one runs, so a job starts in a sandbox that is already there. Each job
//! still gets a sandbox of its own, never used before.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::{Arc, Mutex, mpsc};

use anyhow::Result;

use super::{Budget, JobReport, KeepArtifacts, Progress, Sandbox, Started, Step};

/// A sandbox launcher that keeps `count` helpers started ahead of time.
#[derive(Debug, Clone)]
pub struct WarmSandbox {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sandbox: Sandbox,
    scratch_mb: u64,
    budget: Budget,
    ready: Arc<Mutex<VecDeque<Started>>>,
    /// Asks the starter thread for one more helper. Dropping it (with the
    /// last clone of the launcher) ends the thread, and with it, through
    /// their parent-death signal, the helpers it started.
    refill: Mutex<mpsc::Sender<()>>,
}

impl WarmSandbox {
    /// Starts `count` helpers for jobs within `budget`, with a
    /// `scratch_mb` MiB `/job`, and keeps that many ready.
    pub fn new(sandbox: Sandbox, scratch_mb: u64, budget: Budget, count: usize) -> Self {
        let ready = Arc::new(Mutex::new(VecDeque::new()));
        let (refill, requests) = mpsc::channel::<()>();
        // Helpers die with the thread that started them (PR_SET_PDEATHSIG),
        // so they are started from this long-lived thread, not from the
        // short-lived blocking threads that run jobs.
        let starter = {
            let (sandbox, ready) = (sandbox.clone(), ready.clone());
            move || {
                while requests.recv().is_ok() {
                    match sandbox.start(scratch_mb, budget) {
                        Ok(started) => lock(&ready).push_back(started),
                        Err(error) => {
                            tracing::warn!(
                                error = format!("{error:#}"),
                                "cannot start a sandbox ahead of its job"
                            );
                        }
                    }
                }
            }
        };
        std::thread::Builder::new()
            .name("sandbox-starter".into())
            .spawn(starter)
            .expect("spawn the sandbox starter thread");
        for _ in 0..count {
            let _ = refill.send(());
        }
        Self {
            inner: Arc::new(Inner {
                sandbox,
                scratch_mb,
                budget,
                ready,
                refill: Mutex::new(refill),
            }),
        }
    }

    /// Runs `steps` in a sandbox started ahead of time when one is ready,
    /// else in a new one, and starts another for a later job; `reused` and
    /// `keep` as for [`Started::finish_keeping`]. Blocking.
    pub fn run(
        &self,
        steps: Vec<Step>,
        reused: Vec<(File, u64)>,
        progress: Option<&Progress>,
        keep: Option<KeepArtifacts>,
    ) -> Result<JobReport> {
        let inner = &self.inner;
        if !inner.budget.covers(&Budget::of(&steps)) {
            return inner
                .sandbox
                .start(inner.scratch_mb, Budget::of(&steps))?
                .finish_keeping(steps, reused, progress, keep);
        }
        let started = loop {
            let Some(mut started) = lock(&inner.ready).pop_front() else {
                break None;
            };
            let _ = lock(&inner.refill).send(());
            // One that died waiting (a setup failure is reported by a fresh one).
            if started.is_alive() {
                break Some(started);
            }
        };
        match started {
            Some(started) => started.finish_keeping(steps, reused, progress, keep),
            // All taken (jobs came faster than sandboxes are built; one is
            // already on its way for each taken): build this one now.
            None => inner
                .sandbox
                .start(inner.scratch_mb, inner.budget)?
                .finish_keeping(steps, reused, progress, keep),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
