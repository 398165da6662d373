//! The cohort matrix: learners × exercises, each cell not started,
//! attempted or passed, read from `exercise_progress` only (one row per
//! learner×exercise, kept current by the grader) so a 500-learner cohort is
//! one index scan of ~15k small rows, never a scan of `submissions`.

use std::collections::HashMap;

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::auth::cohorts;
use crate::curriculum::Programme;
use crate::grading::job::ReviewState;

/// Where a learner stands on one exercise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellState {
    /// No graded submission yet.
    NotStarted,
    /// Submitted, not passed.
    Attempted,
    /// Passed (at least once).
    Passed,
}

impl CellState {
    /// The word used in pages, CSS classes and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            CellState::NotStarted => "not-started",
            CellState::Attempted => "attempted",
            CellState::Passed => "passed",
        }
    }
}

/// One learner × exercise.
#[derive(Clone, Copy, Debug)]
pub struct Cell {
    /// Its state.
    pub state: CellState,
    /// Graded submissions (mode `submit`).
    pub attempts: i32,
    /// Most tests passed in one submission.
    pub best_passed: i32,
    /// Tests in the exercise (hidden included); for written work, the
    /// rubric's maximum.
    pub best_total: i32,
    /// Written work: where the latest hand-in is in review.
    pub review: Option<ReviewState>,
}

impl Cell {
    const EMPTY: Cell = Cell {
        state: CellState::NotStarted,
        attempts: 0,
        best_passed: 0,
        best_total: 0,
        review: None,
    };

    /// What hover, focus and screen readers get: "passed after 3 attempts".
    pub fn describe(&self) -> String {
        let plural = if self.attempts == 1 { "" } else { "s" };
        match (self.state, self.review) {
            (CellState::Attempted, Some(review)) => format!(
                "{}: {} hand-in{plural}, best {}/{} points",
                review.label(),
                self.attempts,
                self.best_passed,
                self.best_total
            ),
            (state, _) => self.describe_graded(state, plural),
        }
    }

    fn describe_graded(&self, state: CellState, plural: &str) -> String {
        match state {
            CellState::NotStarted => "not started".into(),
            CellState::Attempted => format!(
                "attempted: {} attempt{plural}, best {}/{} tests",
                self.attempts, self.best_passed, self.best_total
            ),
            CellState::Passed => format!("passed after {} attempt{plural}", self.attempts),
        }
    }
}

/// An exercise column.
#[derive(Clone, Debug)]
pub struct Column {
    /// The exercise id.
    pub exercise_id: String,
    /// Its title.
    pub title: String,
    /// Its module.
    pub module_id: String,
}

/// A module's run of adjacent columns (for the grouped header).
#[derive(Clone, Debug)]
pub struct ModuleGroup {
    /// The module id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Columns it spans.
    pub span: usize,
}

/// A learner's row.
#[derive(Clone, Debug)]
pub struct LearnerRow {
    /// `users.id`
    pub id: i64,
    /// Their name.
    pub display_name: String,
    /// Their email.
    pub email: String,
    /// One cell per column.
    pub cells: Vec<Cell>,
    /// Exercises passed (among the columns).
    pub passed: usize,
    /// Exercises attempted but not passed (among the columns).
    pub attempted: usize,
    /// Their latest graded submission, any exercise.
    pub last_activity: Option<OffsetDateTime>,
}

/// How rows are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By name, A to Z.
    #[default]
    Name,
    /// Most passed first.
    Progress,
    /// Most recently active first.
    Activity,
}

impl SortKey {
    /// Parses the `sort` query parameter (unknown values sort by name).
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("progress") => SortKey::Progress,
            Some("activity") => SortKey::Activity,
            _ => SortKey::Name,
        }
    }

    /// The query parameter's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Progress => "progress",
            SortKey::Activity => "activity",
        }
    }
}

/// The matrix of a cohort, possibly narrowed to one module.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// Module header groups, in programme order.
    pub groups: Vec<ModuleGroup>,
    /// Exercise columns, in programme order.
    pub columns: Vec<Column>,
    /// Learner rows, sorted.
    pub rows: Vec<LearnerRow>,
    /// Per column: learners who passed.
    pub column_passed: Vec<usize>,
    /// Per column: learners who attempted without passing.
    pub column_attempted: Vec<usize>,
}

/// The matrix of `cohort_id`: every member, the exercises of `module` (all
/// if `None`), sorted by `sort`. With `learner`, only that member's row.
pub async fn matrix(
    db: &PgPool,
    programme: &Programme,
    cohort_id: i64,
    module: Option<&str>,
    sort: SortKey,
    learner: Option<i64>,
) -> sqlx::Result<Matrix> {
    let (groups, columns) = columns_of(programme, module);
    let index: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.exercise_id.as_str(), i))
        .collect();

    // The roster is the cohort's (one learner's row: just that member).
    let members = async {
        match learner {
            Some(id) => Ok(cohorts::member(db, cohort_id, id)
                .await?
                .into_iter()
                .collect()),
            None => cohorts::members(db, cohort_id).await,
        }
    };
    let (members, progress, reviews): (Vec<cohorts::Person>, _, _) = tokio::try_join!(
        members,
        sqlx::query_as!(
            ProgressRow,
            r#"SELECT p.user_id, p.exercise_id, p.attempts, p.passed_at IS NOT NULL AS "passed!",
                      p.best_passed, p.best_total, p.last_activity_at
                 FROM cohort_members m
                 JOIN exercise_progress p ON p.user_id = m.user_id
                WHERE m.cohort_id = $1 AND ($2::bigint IS NULL OR m.user_id = $2)"#,
            cohort_id,
            learner,
        )
        .fetch_all(db),
        // Written work's review states: few rows, read through their own
        // partial index so the query above stays index-only.
        sqlx::query!(
            r#"SELECT p.user_id, p.exercise_id, p.review_state AS "review_state!: ReviewState"
                 FROM cohort_members m
                 JOIN exercise_progress p ON p.user_id = m.user_id
                WHERE m.cohort_id = $1 AND ($2::bigint IS NULL OR m.user_id = $2)
                  AND p.review_state IS NOT NULL"#,
            cohort_id,
            learner,
        )
        .fetch_all(db),
    )?;
    let reviews: HashMap<(i64, String), ReviewState> = reviews
        .into_iter()
        .map(|row| ((row.user_id, row.exercise_id), row.review_state))
        .collect();

    let mut rows: Vec<LearnerRow> = members
        .into_iter()
        .map(|member| LearnerRow {
            id: member.id,
            display_name: member.display_name,
            email: member.email,
            cells: vec![Cell::EMPTY; columns.len()],
            passed: 0,
            attempted: 0,
            last_activity: None,
        })
        .collect();
    fill_cells(&mut rows, progress, &index, &reviews);
    let (column_passed, column_attempted) = count_totals(&mut rows, columns.len());
    sort_rows(&mut rows, sort);
    Ok(Matrix {
        groups,
        columns,
        rows,
        column_passed,
        column_attempted,
    })
}

/// One learner × exercise row of `exercise_progress`, as the matrix reads it.
struct ProgressRow {
    user_id: i64,
    exercise_id: String,
    attempts: i32,
    passed: bool,
    best_passed: i32,
    best_total: i32,
    last_activity_at: OffsetDateTime,
}

/// Puts each progress row into its learner's cell (rows of learners or
/// exercises not shown are skipped) and notes each learner's latest activity.
fn fill_cells(
    rows: &mut [LearnerRow],
    progress: Vec<ProgressRow>,
    index: &HashMap<&str, usize>,
    reviews: &HashMap<(i64, String), ReviewState>,
) {
    let row_of: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    for progress in progress {
        let Some(&r) = row_of.get(&progress.user_id) else {
            continue;
        };
        let row = &mut rows[r];
        let attempts = progress.attempts;
        if attempts > 0 {
            row.last_activity = row.last_activity.max(Some(progress.last_activity_at));
        }
        let Some(&c) = index.get(progress.exercise_id.as_str()) else {
            continue;
        };
        let state = if progress.passed {
            CellState::Passed
        } else if attempts > 0 {
            CellState::Attempted
        } else {
            CellState::NotStarted
        };
        row.cells[c] = Cell {
            state,
            attempts,
            best_passed: progress.best_passed,
            best_total: progress.best_total,
            review: reviews
                .get(&(progress.user_id, progress.exercise_id.clone()))
                .copied(),
        };
    }
}

/// The matrix's columns (the exercises of `module`, or of every module) and
/// the module headings above them.
fn columns_of(programme: &Programme, module: Option<&str>) -> (Vec<ModuleGroup>, Vec<Column>) {
    let mut groups = Vec::new();
    let mut columns = Vec::new();
    for m in programme
        .modules
        .iter()
        .filter(|m| module.is_none_or(|id| id == m.id))
    {
        let before = columns.len();
        columns.extend(m.exercises().map(|e| Column {
            exercise_id: e.id.clone(),
            title: e.title.clone(),
            module_id: m.id.clone(),
        }));
        if columns.len() > before {
            groups.push(ModuleGroup {
                id: m.id.clone(),
                title: m.title.clone(),
                span: columns.len() - before,
            });
        }
    }
    (groups, columns)
}

/// Counts each learner's passed and attempted cells into their row, and
/// returns the same counts per column.
fn count_totals(rows: &mut [LearnerRow], columns: usize) -> (Vec<usize>, Vec<usize>) {
    let mut column_passed = vec![0; columns];
    let mut column_attempted = vec![0; columns];
    for row in rows.iter_mut() {
        for (c, cell) in row.cells.iter().enumerate() {
            match cell.state {
                CellState::Passed => {
                    row.passed += 1;
                    column_passed[c] += 1;
                }
                CellState::Attempted => {
                    row.attempted += 1;
                    column_attempted[c] += 1;
                }
                CellState::NotStarted => {}
            }
        }
    }
    (column_passed, column_attempted)
}

/// Sorts the rows by `sort`, then by name (case-insensitively) and id, so
/// the order is stable.
fn sort_rows(rows: &mut [LearnerRow], sort: SortKey) {
    let by_name = |a: &LearnerRow, b: &LearnerRow| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then(a.id.cmp(&b.id))
    };
    match sort {
        SortKey::Name => rows.sort_by(by_name),
        SortKey::Progress => rows.sort_by(|a, b| {
            (b.passed, b.attempted)
                .cmp(&(a.passed, a.attempted))
                .then_with(|| by_name(a, b))
        }),
        SortKey::Activity => rows.sort_by(|a, b| {
            b.last_activity
                .cmp(&a.last_activity)
                .then_with(|| by_name(a, b))
        }),
    }
}
