-- The learner's side: what each exercise looked like at every version, so a
-- learner whose passing solution went out of date can see what changed.
-- Filled when an exercise page is shown (src/progress/record.rs); rows are
-- never updated, a changed exercise gets a new hash and a new row.
CREATE TABLE exercise_versions (
    hash        TEXT PRIMARY KEY,
    exercise_id TEXT NOT NULL,
    -- What the learner can see: the statement (as text), the starter and the
    -- visible tests. Hidden tests are left out on purpose.
    visible     TEXT NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX exercise_versions_exercise ON exercise_versions (exercise_id);

-- A dashboard's streak reads the days a learner was active.
CREATE INDEX submissions_user_created ON submissions (user_id, created_at);
