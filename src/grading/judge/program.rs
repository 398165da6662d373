//! A program: a lesson's example or a scratch pad, compiled as a binary and
//! run once. Its output is the point, so it is shown as printed; its exit
//! code decides pass or fail.

use super::super::sandbox::{
    Artifact, Exit, Isolation, JobFile, Limits, Progress, Step, StepReport,
};
use super::super::verdict::{Reason, Status, Verdict};
use super::{Judge, compile_failure, diagnostics, integrity_flags, limit_error};

/// Compiles `code` as a binary at `out/main`.
pub fn compile_step(judge: &Judge, code: &str) -> Step {
    Step {
        name: "compile".into(),
        isolation: Isolation::Toolchain,
        write: vec![JobFile {
            path: "src/main.rs".into(),
            contents: code.into(),
        }],
        delete: vec![],
        argv: judge.rustc.command(&[
            "--crate-type",
            "bin",
            "--crate-name",
            "main",
            "-F",
            "unsafe_code",
            "src/main.rs",
            "-o",
            "out/main",
        ]),
        env: vec![],
        limits: Limits::COMPILE,
        must_succeed: true,
        artifact: Some(Artifact {
            path: "out/main".into(),
            reuse: false,
        }),
    }
}

pub fn run(
    judge: &Judge,
    code: &str,
    progress: Option<&Progress>,
) -> anyhow::Result<(Verdict, Vec<StepReport>)> {
    let compile = compile_step(judge, code);
    let run = Step {
        name: "run".into(),
        isolation: Isolation::Run {
            binary: "out/main".into(),
            results: false,
        },
        write: vec![],
        delete: vec![],
        argv: vec![],
        env: vec![("RUST_BACKTRACE".into(), "0".into())],
        limits: Limits::RUN,
        must_succeed: false,
        artifact: None,
    };
    let steps = judge.run(vec![compile, run], progress)?;
    let [compile, run] = &steps[..] else {
        anyhow::bail!("unexpected report shape");
    };
    let (compile_output, diagnostics) = diagnostics::read(&compile.stderr, "src/main.rs", None);
    let mut verdict = if !compile.succeeded() {
        compile_failure(compile, compile_output.clone())
    } else if let Some(error) = limit_error(run) {
        error
    } else {
        match run.exit {
            Exit::Code(0) => Verdict::new(Status::Pass, None, None),
            Exit::Code(101) => Verdict::new(Status::Fail, None, "the program panicked".to_string()),
            Exit::Code(code) => Verdict::new(
                Status::Fail,
                None,
                format!("the program exited with code {code}"),
            ),
            _ => Verdict::new(
                Status::Error,
                Some(Reason::RuntimeError),
                "the program crashed".to_string(),
            ),
        }
    };
    if compile.succeeded() {
        verdict.integrity = integrity_flags(run, None);
    }
    verdict.stdout = run.stdout.clone();
    verdict.stderr = run.stderr.clone();
    verdict.compile_output = compile_output;
    verdict.diagnostics = diagnostics;
    Ok((verdict, steps))
}
