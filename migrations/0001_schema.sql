-- Lockstep schema. Forward-only: change it with a new numbered file.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'learner' CHECK (role IN ('learner', 'instructor', 'admin')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Server-side sessions; the cookie carries only the random id.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Personal API tokens: only a hash is stored.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE cohorts (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    join_code  TEXT NOT NULL UNIQUE,
    owner_id   BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE cohort_instructors (
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (cohort_id, user_id)
);

CREATE TABLE cohort_members (
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX cohort_members_user ON cohort_members (user_id);

-- A submission row is also the grading job (see src/grading/queue.rs).
CREATE TABLE submissions (
    id               BIGSERIAL PRIMARY KEY,
    user_id          BIGINT REFERENCES users (id) ON DELETE CASCADE,
    -- 'submit': graded against every test; 'visible': visible tests only;
    -- 'run': a program (a lesson's example), exercise_id is NULL.
    mode             TEXT NOT NULL CHECK (mode IN ('submit', 'visible', 'run')),
    exercise_id      TEXT,
    exercise_hash    TEXT,
    code             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
    phase            TEXT,
    attempts         INT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    verdict          JSONB,
    verdict_status   TEXT CHECK (verdict_status IN ('pass', 'fail', 'error')),
    tests_passed     INT,
    tests_total      INT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    CHECK ((mode = 'run') = (exercise_id IS NULL))
);
CREATE INDEX submissions_pending ON submissions (id) WHERE status <> 'done';
CREATE INDEX submissions_user_exercise ON submissions (user_id, exercise_id, id);
CREATE INDEX submissions_exercise ON submissions (exercise_id, id);

-- The editor's autosaved work; `version` makes stale writes fail (optimistic locking).
CREATE TABLE drafts (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exercise_id TEXT NOT NULL,
    code        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, exercise_id)
);

CREATE TABLE lesson_visits (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    module_id  TEXT NOT NULL,
    lesson_id  TEXT NOT NULL,
    first_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, module_id, lesson_id)
);

CREATE TABLE hint_reveals (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exercise_id TEXT NOT NULL,
    hint_index  INT NOT NULL,
    revealed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, exercise_id, hint_index)
);

CREATE TABLE submission_comments (
    id            BIGSERIAL PRIMARY KEY,
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    author_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX submission_comments_submission ON submission_comments (submission_id);

-- One row per learner and exercise, kept current as submissions finish, so
-- progress pages and the instructor's matrix never scan submissions.
CREATE TABLE exercise_progress (
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exercise_id      TEXT NOT NULL,
    first_opened_at  TIMESTAMPTZ,
    attempts         INT NOT NULL DEFAULT 0,
    best_passed      INT NOT NULL DEFAULT 0,
    best_total       INT NOT NULL DEFAULT 0,
    passed_at        TIMESTAMPTZ,
    passed_hash      TEXT,
    last_submission_id BIGINT,
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, exercise_id)
);
CREATE INDEX exercise_progress_exercise ON exercise_progress (exercise_id);
