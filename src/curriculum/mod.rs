//! The programme: modules of lessons and exercises, loaded from `curriculum/`
//! at start-up, validated, rendered once and then shared read-only.
//!
//! The on-disk format is documented in `curriculum/README.md`. Any problem is a
//! [`ContentError`] naming the file (and line, where there is one), so a typo
//! in a lesson stops start-up with a message rather than a panic.

pub mod checks;
pub mod highlight;
mod load;
pub mod markdown;
pub mod review;
pub mod rubric;
mod test_fns;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::{ContentError, load, load_exercise_by_id};
pub use markdown::Example;

/// The whole programme, in order.
#[derive(Debug)]
pub struct Programme {
    /// The programme's title.
    pub title: String,
    /// One paragraph about it.
    pub summary: String,
    /// Modules in teaching order.
    pub modules: Vec<Module>,
}

/// A module: lessons and exercises interleaved in one order.
#[derive(Debug)]
pub struct Module {
    /// Unique id (also its folder name and URL segment).
    pub id: String,
    /// Display title.
    pub title: String,
    /// One sentence.
    pub summary: String,
    /// Position of this module in the programme, from 1.
    pub number: usize,
    /// Lessons and exercises in the order a learner meets them.
    pub items: Vec<Item>,
}

/// One step of a module.
#[derive(Debug)]
pub enum Item {
    /// Something to read.
    Lesson(Lesson),
    /// Something to solve.
    Exercise(Box<Exercise>),
}

/// A lesson: rendered prose with runnable examples.
#[derive(Debug)]
pub struct Lesson {
    /// Unique within its module.
    pub id: String,
    /// The module it belongs to.
    pub module_id: String,
    /// Display title.
    pub title: String,
    /// One sentence for the catalogue.
    pub summary: String,
    /// Estimated reading time.
    pub minutes: u32,
    /// Rendered body.
    pub html: String,
    /// Runnable examples, referred to by index from the HTML.
    pub examples: Vec<Example>,
    /// The concept check at its end (`<lesson>.checks.toml`; empty when there is none).
    pub checks: Vec<checks::Question>,
    /// The markdown file (for error messages and `curriculum list`).
    pub path: PathBuf,
}

/// What the learner hands in for an exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExerciseKind {
    /// Make the given tests pass.
    Implement,
    /// Find and fix a bug the tests expose.
    Fix,
    /// Write tests that pass on the real implementation and catch every mutant.
    Tests,
    /// Write a document (a design note, a post-mortem) an instructor scores
    /// against a rubric; never run in the sandbox.
    Written,
    /// Review a pull request: mark the lines with defects, scored against
    /// an answer key at once; never run in the sandbox.
    Review,
}

/// How hard an exercise is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    /// A warm-up.
    Easy,
    /// Needs the lesson's ideas put together.
    Medium,
    /// A stretch.
    Hard,
}

/// Per-exercise overrides of the sandbox limits (capped by the operator's ceiling).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// Wall-clock seconds for the test run.
    pub run_seconds: Option<u64>,
    /// Memory for the test run, in MiB.
    pub run_memory_mb: Option<u64>,
    /// Wall-clock seconds for compilation.
    pub compile_seconds: Option<u64>,
}

/// A buggy implementation a learner's tests must catch (kind `tests`).
#[derive(Debug, Clone)]
pub struct Mutant {
    /// File stem, e.g. `off_by_one`.
    pub name: String,
    /// What is wrong with it (the file's first `//!` line).
    pub description: String,
    /// Its source.
    pub code: String,
}

/// What an exercise's kind grades the learner's work against. Each kind
/// has its payload here and its grader in [`crate::grading::judge`]; the
/// loader checks that the two agree with [`Exercise::kind`].
#[derive(Debug)]
pub enum Work {
    /// Kinds `implement` and `fix`: the learner's library, graded by our tests.
    GivenTests(GivenTests),
    /// Kind `tests`: the learner's tests, graded against our implementation
    /// and its mutants.
    LearnerTests(LearnerTests),
    /// Kind `written`: the learner's markdown, scored by an instructor
    /// against this rubric (see [`crate::grading::judge::written`]).
    Written(rubric::Rubric),
    /// Kind `review`: the pull request and its planted defects, the key the
    /// learner's marks are scored against (see [`crate::grading::judge::review`]).
    Review(review::Review),
}

/// The tests of an `implement` or `fix` exercise.
#[derive(Debug)]
pub struct GivenTests {
    /// Shown to the learner.
    pub visible: String,
    /// Reported by name and result only.
    pub hidden: String,
}

/// What a `tests` exercise's tests run against.
#[derive(Debug)]
pub struct LearnerTests {
    /// The correct implementation.
    pub implementation: String,
    /// Buggy implementations, each to be caught.
    pub mutants: Vec<Mutant>,
}

/// An exercise with everything needed to grade it.
#[derive(Debug)]
pub struct Exercise {
    /// Unique in the programme.
    pub id: String,
    /// The module it belongs to.
    pub module_id: String,
    /// Display title.
    pub title: String,
    /// One sentence.
    pub summary: String,
    /// What is handed in.
    pub kind: ExerciseKind,
    /// How hard it is.
    pub difficulty: Difficulty,
    /// Estimated time.
    pub minutes: u32,
    /// Progressive hints, revealed one at a time.
    pub hints: Vec<String>,
    /// The library crate's name, as tests `use` it.
    pub crate_name: String,
    /// Extra `--cfg` flags.
    pub cfg: Vec<String>,
    /// Extra environment for the test run.
    pub env: BTreeMap<String, String>,
    /// Whether `unsafe` code is allowed.
    pub allow_unsafe: bool,
    /// Sandbox limit overrides.
    pub limits: LimitOverrides,
    /// The statement as written (markdown), for `lockstep learn download`.
    pub statement: String,
    /// Rendered statement.
    pub statement_html: String,
    /// Rendered discussion, shown once passed.
    pub discussion_html: Option<String>,
    /// The learner's starting point.
    pub starter: String,
    /// The reference solution.
    pub solution: String,
    /// What the learner works against: what only this kind has.
    pub work: Work,
    /// Hash of every file of the exercise: the version a verdict was graded against.
    pub content_hash: String,
    /// The exercise's folder.
    pub dir: PathBuf,
}

impl Exercise {
    /// The tests the learner may read (kinds `implement` and `fix`).
    pub fn visible_tests(&self) -> Option<&str> {
        match &self.work {
            Work::GivenTests(tests) => Some(&tests.visible),
            Work::LearnerTests(_) | Work::Written(_) | Work::Review(_) => None,
        }
    }

    /// Whether the sandbox grades this exercise (by running code), as
    /// opposed to an instructor or an answer key.
    pub fn runs_code(&self) -> bool {
        matches!(self.work, Work::GivenTests(_) | Work::LearnerTests(_))
    }

    /// The rubric of a `written` exercise.
    pub fn rubric(&self) -> Option<&rubric::Rubric> {
        match &self.work {
            Work::Written(rubric) => Some(rubric),
            Work::GivenTests(_) | Work::LearnerTests(_) | Work::Review(_) => None,
        }
    }

    /// The pull request and key of a `review` exercise.
    pub fn review(&self) -> Option<&review::Review> {
        match &self.work {
            Work::Review(review) => Some(review),
            Work::GivenTests(_) | Work::LearnerTests(_) | Work::Written(_) => None,
        }
    }
}

impl Programme {
    /// Every lesson, in programme order.
    pub fn lessons(&self) -> impl Iterator<Item = &Lesson> {
        self.modules.iter().flat_map(Module::lessons)
    }

    /// Every exercise, in programme order.
    pub fn exercises(&self) -> impl Iterator<Item = &Exercise> {
        self.modules.iter().flat_map(Module::exercises)
    }

    /// The module with this id.
    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|module| module.id == id)
    }

    /// The exercise with this id.
    pub fn exercise(&self, id: &str) -> Option<&Exercise> {
        self.exercises().find(|exercise| exercise.id == id)
    }

    /// The lesson `lesson` of module `module`.
    pub fn lesson(&self, module: &str, lesson: &str) -> Option<&Lesson> {
        self.module(module)?.lessons().find(|l| l.id == lesson)
    }

    /// Total estimated minutes.
    pub fn minutes(&self) -> u32 {
        self.modules.iter().map(Module::minutes).sum()
    }
}

impl Module {
    /// The module's lessons in order.
    pub fn lessons(&self) -> impl Iterator<Item = &Lesson> {
        self.items.iter().filter_map(|item| match item {
            Item::Lesson(lesson) => Some(lesson),
            Item::Exercise(_) => None,
        })
    }

    /// The module's exercises in order.
    pub fn exercises(&self) -> impl Iterator<Item = &Exercise> {
        self.items.iter().filter_map(|item| match item {
            Item::Exercise(exercise) => Some(exercise.as_ref()),
            Item::Lesson(_) => None,
        })
    }

    /// Total estimated minutes.
    pub fn minutes(&self) -> u32 {
        self.items.iter().map(Item::minutes).sum()
    }
}

impl Item {
    /// Display title.
    pub fn title(&self) -> &str {
        match self {
            Item::Lesson(lesson) => &lesson.title,
            Item::Exercise(exercise) => &exercise.title,
        }
    }

    /// Estimated minutes.
    pub fn minutes(&self) -> u32 {
        match self {
            Item::Lesson(lesson) => lesson.minutes,
            Item::Exercise(exercise) => exercise.minutes,
        }
    }

    /// The page that shows it.
    pub fn url(&self) -> String {
        match self {
            Item::Lesson(lesson) => format!("/lessons/{}/{}", lesson.module_id, lesson.id),
            Item::Exercise(exercise) => format!("/exercises/{}", exercise.id),
        }
    }
}

impl ExerciseKind {
    /// How the kind reads in the catalogue.
    pub fn label(self) -> &'static str {
        match self {
            ExerciseKind::Implement => "implement",
            ExerciseKind::Fix => "fix the bug",
            ExerciseKind::Tests => "write the tests",
            ExerciseKind::Written => "written work",
            ExerciseKind::Review => "code review",
        }
    }

    /// A CSS-friendly name.
    pub fn slug(self) -> &'static str {
        match self {
            ExerciseKind::Implement => "implement",
            ExerciseKind::Fix => "fix",
            ExerciseKind::Tests => "tests",
            ExerciseKind::Written => "written",
            ExerciseKind::Review => "review",
        }
    }
}

impl Difficulty {
    /// Lower-case name.
    pub fn label(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        }
    }
}
