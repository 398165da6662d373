-- A running job's phase gets the same checked vocabulary as its status and
-- mode (src/grading/job.rs, `Phase`); NULL, for a job that is not running, passes.
ALTER TABLE submissions
    ADD CONSTRAINT submissions_phase_check CHECK (phase IN ('compiling', 'running'));
