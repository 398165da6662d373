//! The verdict: what grading a submission or running a program concludes.
//!
//! Its JSON follows Exercism's test-runner `results.json` (version 2), so
//! tools that read those can read ours, plus fields of our own: why a run
//! could not be judged, captured output, compiler output and its locations,
//! and timings.

use serde::{Deserialize, Serialize};

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Compiled, ran, every test passed (for a program: exit 0).
    Pass,
    /// Compiled and ran, and some test failed (for a program: non-zero exit or panic).
    Fail,
    /// Could not be judged; `reason` says why.
    Error,
}

/// Why a verdict is `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The code does not compile.
    CompileError,
    /// A wall-clock or CPU limit was hit.
    Timeout,
    /// The memory limit was hit.
    MemoryLimit,
    /// Too much output.
    OutputLimit,
    /// The program crashed or the test binary did not report every test.
    RuntimeError,
    /// Our fault: the sandbox or grader failed.
    InternalError,
}

impl Status {
    /// The word the verdict's JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

impl Reason {
    /// The word the verdict's JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::CompileError => "compile_error",
            Reason::Timeout => "timeout",
            Reason::MemoryLimit => "memory_limit",
            Reason::OutputLimit => "output_limit",
            Reason::RuntimeError => "runtime_error",
            Reason::InternalError => "internal_error",
        }
    }
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// Test name (`visible::adds_two`).
    pub name: String,
    /// pass, fail or error (did not finish).
    pub status: Status,
    /// The failure message (assertion text); never set for hidden tests.
    pub message: Option<String>,
    /// What the test printed; never set for hidden tests.
    pub output: Option<String>,
    /// Whether this is a hidden test.
    pub hidden: bool,
    /// The test's body (visible tests of the exercise only), as Exercism's
    /// `test_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_code: Option<String>,
}

/// Something a run of learner code did that no solution needs. Not a
/// verdict: instructors see it beside the submission and decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrityFlag {
    /// Stopped by the seccomp filter: tried to start a process, or to use a
    /// kernel interface no test needs.
    BlockedSyscall,
    /// Exited in the middle of the test run (`process::exit`).
    ExitedMidRun,
    /// Printed lines shaped like test-runner results (which the grader
    /// does not read).
    PrintedFakeResults,
}

impl IntegrityFlag {
    /// A sentence for the instructor.
    pub fn describe(self) -> &'static str {
        match self {
            IntegrityFlag::BlockedSyscall => {
                "made a system call no solution needs (starting a process, or a blocked kernel interface)"
            }
            IntegrityFlag::ExitedMidRun => "exited in the middle of the test run",
            IntegrityFlag::PrintedFakeResults => "printed lines shaped like test results",
        }
    }
}

/// Where a compiler diagnostic points in the learner's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub level: String,
    /// The one-line message.
    pub message: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// Milliseconds spent in each phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    /// Waiting in the queue.
    pub queue: u64,
    /// Compiling (inside the sandbox).
    pub compile: u64,
    /// Running (inside the sandbox).
    pub run: u64,
    /// From submission (or command start) to verdict.
    pub total: u64,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Always 2 (Exercism's results.json version).
    pub version: u8,
    /// Overall outcome.
    pub status: Status,
    /// Why it is `error`, else null.
    pub reason: Option<Reason>,
    /// A sentence for the learner.
    pub message: Option<String>,
    /// Every expected test, in order.
    pub tests: Vec<TestResult>,
    /// Captured stdout (programs) — capped.
    pub stdout: String,
    /// Captured stderr (programs) — capped.
    pub stderr: String,
    /// Compiler output in rustc's own format, paths relative to the learner's file.
    pub compile_output: String,
    /// Compiler errors and warnings located in the learner's file.
    pub diagnostics: Vec<Diagnostic>,
    /// Timings.
    pub duration_ms: Durations,
    /// What the runs did that no solution needs (for instructors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrity: Vec<IntegrityFlag>,
}

impl Verdict {
    /// A verdict with no tests and empty output.
    pub fn new(status: Status, reason: Option<Reason>, message: impl Into<Option<String>>) -> Self {
        Self {
            version: 2,
            status,
            reason,
            message: message.into(),
            tests: Vec::new(),
            stdout: String::new(),
            stderr: String::new(),
            compile_output: String::new(),
            diagnostics: Vec::new(),
            duration_ms: Durations::default(),
            integrity: Vec::new(),
        }
    }

    /// An internal error: not the learner's fault.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            Status::Error,
            Some(Reason::InternalError),
            Some(message.into()),
        )
    }

    /// Tests passed.
    pub fn passed(&self) -> usize {
        self.tests
            .iter()
            .filter(|t| t.status == Status::Pass)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_reason_words_are_the_json_words() {
        for status in [Status::Pass, Status::Fail, Status::Error] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for reason in [
            Reason::CompileError,
            Reason::Timeout,
            Reason::MemoryLimit,
            Reason::OutputLimit,
            Reason::RuntimeError,
            Reason::InternalError,
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }
}
