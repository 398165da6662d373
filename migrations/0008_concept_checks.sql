-- Concept checks: every answer a learner gives to a lesson's questions.
-- Rows are only ever inserted (src/progress/checks.rs); a learner's first
-- attempt at a question is what the instructor's scores count, the latest is
-- what the lesson page shows back.
CREATE TABLE concept_check_attempts (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    module_id   TEXT NOT NULL,
    lesson_id   TEXT NOT NULL,
    question_id TEXT NOT NULL,
    -- Option indices (0-based), or the one line number picked for a `line` question.
    answer      INTEGER[] NOT NULL,
    correct     BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX concept_check_attempts_learner
    ON concept_check_attempts (user_id, module_id, lesson_id, created_at);
CREATE INDEX concept_check_attempts_question
    ON concept_check_attempts (module_id, lesson_id, question_id);
