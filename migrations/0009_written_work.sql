-- Written work an instructor reviews (issue 15, exercise kind `written`).
-- A written submission is not a grading job, so it has its own table rather
-- than a row in `submissions` (whose rows the grading pool claims): it waits
-- for an instructor, who scores it against the exercise's rubric, comments
-- on its lines and accepts it or asks for changes (src/grading/written.rs).
CREATE TABLE written_submissions (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exercise_id     TEXT NOT NULL,
    exercise_hash   TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'awaiting_review'
                    CHECK (state IN ('awaiting_review', 'changes_requested', 'accepted')),
    -- Filled when an instructor decides.
    points          INT,
    max_points      INT NOT NULL,
    overall_comment TEXT,
    reviewer_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    reviewed_at     TIMESTAMPTZ,
    CHECK ((state = 'awaiting_review') = (reviewed_at IS NULL))
);
CREATE INDEX written_submissions_user_exercise ON written_submissions (user_id, exercise_id, id);
-- The review queue: what waits, oldest first.
CREATE INDEX written_submissions_waiting ON written_submissions (created_at)
    WHERE state = 'awaiting_review';
-- At most one submission per learner and exercise waits at a time.
CREATE UNIQUE INDEX written_submissions_one_waiting ON written_submissions (user_id, exercise_id)
    WHERE state = 'awaiting_review';

-- The level chosen for each criterion of the rubric, by its points.
CREATE TABLE written_scores (
    submission_id BIGINT NOT NULL REFERENCES written_submissions (id) ON DELETE CASCADE,
    criterion_id  TEXT NOT NULL,
    points        INT NOT NULL CHECK (points >= 0),
    PRIMARY KEY (submission_id, criterion_id)
);

-- An instructor's comment on one line (1-based) of the submitted markdown.
CREATE TABLE written_line_comments (
    id            BIGSERIAL PRIMARY KEY,
    submission_id BIGINT NOT NULL REFERENCES written_submissions (id) ON DELETE CASCADE,
    line          INT NOT NULL CHECK (line >= 1),
    author_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX written_line_comments_submission ON written_line_comments (submission_id, line, id);

-- The review state of the learner's latest written submission, so the
-- cohort matrix and exports show written work without reading submissions.
ALTER TABLE exercise_progress
    ADD COLUMN review_state TEXT
        CHECK (review_state IN ('awaiting_review', 'changes_requested', 'accepted'));
-- The matrix reads these few rows on their own, keeping its main read index-only.
CREATE INDEX exercise_progress_review ON exercise_progress (user_id)
    INCLUDE (exercise_id, review_state) WHERE review_state IS NOT NULL;

-- A certificate of completion: issued once the learner has passed every
-- exercise of the programme, verifiable by anyone at /certificates/{id}.
-- What was completed is kept as issued, so a later change of the programme
-- does not rewrite an old certificate.
CREATE TABLE certificates (
    id               TEXT PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    learner_name     TEXT NOT NULL,
    programme_title  TEXT NOT NULL,
    programme_hash   TEXT NOT NULL,
    completed        JSONB NOT NULL,
    issued_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at       TIMESTAMPTZ,
    revoked_by       BIGINT REFERENCES users (id) ON DELETE SET NULL
);
-- One live certificate per learner and version of the programme.
CREATE UNIQUE INDEX certificates_one_per_version ON certificates (user_id, programme_hash)
    WHERE revoked_at IS NULL;
