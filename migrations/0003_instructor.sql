-- The instructor's dashboard (issue 7): indexes for its read paths.

-- A learner's timeline reads their submissions newest first across exercises;
-- `submissions_user_exercise` only orders within one exercise.
CREATE INDEX submissions_user_id ON submissions (user_id, id);

-- The cohort matrix reads every progress row of the cohort's learners; with
-- the cells' columns in the index it is an index-only scan, no heap visits.
CREATE INDEX exercise_progress_matrix ON exercise_progress (user_id)
    INCLUDE (exercise_id, attempts, passed_at, last_activity_at, best_passed, best_total);
