-- Code-review exercises (issue 15, exercise kind `review`). A review is
-- scored against its answer key the moment it is handed in, never in the
-- sandbox, so it has its own table rather than rows in `submissions`
-- (src/grading/review.rs). Every hand-in is kept: the learner's last one is
-- their result, and the findings of all of them tell instructors which
-- planted defects learners miss.
CREATE TABLE review_submissions (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exercise_id   TEXT NOT NULL,
    -- The version of the exercise (its diff and key) it was scored against.
    exercise_hash TEXT NOT NULL,
    -- The learner's marks: [{file, line, category, comment}].
    marks         JSONB NOT NULL,
    -- Per planted defect, in `defects.toml` order: found, half or missed.
    findings      TEXT[] NOT NULL,
    score         DOUBLE PRECISION NOT NULL CHECK (score >= 0 AND score <= 1),
    passed        BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX review_submissions_user_exercise ON review_submissions (user_id, exercise_id, id);
CREATE INDEX review_submissions_exercise ON review_submissions (exercise_id, exercise_hash);
-- One hand-in per learner and version of the exercise: submitting shows the
-- key, so a second hand-in of the same version would only copy it.
CREATE UNIQUE INDEX review_submissions_once ON review_submissions (user_id, exercise_id, exercise_hash);
