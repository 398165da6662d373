// The vocabulary of a grading job, as the server spells it: the mirror of
// src/grading/job.rs (Mode, JobStatus, Phase, Outcome). Pages compare these
// constants, never string literals, so a renamed state is renamed here once.

/** What is asked of the grader (`mode` of a submission). */
export const Mode = Object.freeze({ Submit: "submit", Visible: "visible", Run: "run" });

/** Where a job is (`status` of a submission and of a job event). */
export const JobStatus = Object.freeze({ Queued: "queued", Running: "running", Done: "done" });

/** What a running job is doing (`phase`, present only while running). */
export const Phase = Object.freeze({ Compiling: "compiling", Running: "running" });

/** How a finished job came out (`verdict.status`). */
export const Outcome = Object.freeze({ Pass: "pass", Fail: "fail", Error: "error" });

/**
 * The step a page shows for a job state (`{status, phase}` from an event or
 * from GET /api/submissions/{id}): "queued", "compiling", "running" or "done".
 * A running job without a phase has just been claimed: it is compiling.
 */
export function stepOf(state) {
  if (state.status === JobStatus.Done) return JobStatus.Done;
  if (state.status === JobStatus.Running) return state.phase || Phase.Compiling;
  return JobStatus.Queued;
}

/** The steps in the order a job goes through them. */
export const STEPS = Object.freeze([JobStatus.Queued, Phase.Compiling, Phase.Running, JobStatus.Done]);
