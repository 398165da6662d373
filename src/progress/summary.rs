//! How far along a learner is: a mark for every item of the programme,
//! per-module completion, the next thing to do and a streak of active days.

use std::collections::{HashMap, HashSet};

use sqlx::PgPool;
use time::{Date, OffsetDateTime};

use crate::curriculum::{Item, Module, Programme};

/// Where the learner stands on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not opened yet.
    New,
    /// Opened or attempted, not passed.
    Started,
    /// Read (a lesson) or passed (an exercise).
    Done,
    /// Passed, but the exercise changed since.
    OutOfDate,
}

impl Mark {
    /// A CSS-friendly name.
    pub fn slug(self) -> &'static str {
        match self {
            Mark::New => "new",
            Mark::Started => "started",
            Mark::Done => "done",
            Mark::OutOfDate => "out-of-date",
        }
    }

    /// What a screen reader says after the item's title.
    pub fn label(self) -> &'static str {
        match self {
            Mark::New => "not started",
            Mark::Started => "in progress",
            Mark::Done => "done",
            Mark::OutOfDate => "passed, exercise changed since",
        }
    }

    /// The glyph shown beside the item.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::New => "○",
            Mark::Started => "◐",
            Mark::Done => "✓",
            Mark::OutOfDate => "↻",
        }
    }

    /// Counts towards completion (an out-of-date pass still does: progress is
    /// never silently lost).
    pub fn is_complete(self) -> bool {
        matches!(self, Mark::Done | Mark::OutOfDate)
    }
}

/// One exercise's row of `exercise_progress`, as far as marks need it.
#[derive(Debug)]
struct ExerciseRow {
    exercise_id: String,
    attempts: i32,
    first_opened_at: Option<OffsetDateTime>,
    passed_hash: Option<String>,
}

/// Everything the learner has done, loaded in two queries.
#[derive(Debug, Default)]
pub struct LearnerProgress {
    lessons_read: HashSet<(String, String)>,
    exercises: HashMap<String, ExerciseRow>,
}

impl LearnerProgress {
    /// Loads the learner's lesson visits and exercise progress.
    pub async fn load(db: &PgPool, user_id: i64) -> sqlx::Result<Self> {
        let lessons = sqlx::query!(
            "SELECT module_id, lesson_id FROM lesson_visits WHERE user_id = $1",
            user_id
        )
        .fetch_all(db)
        .await?;
        let exercises = sqlx::query_as!(
            ExerciseRow,
            "SELECT exercise_id, attempts, first_opened_at, passed_hash
               FROM exercise_progress WHERE user_id = $1",
            user_id,
        )
        .fetch_all(db)
        .await?;
        Ok(Self {
            lessons_read: lessons
                .into_iter()
                .map(|visit| (visit.module_id, visit.lesson_id))
                .collect(),
            exercises: exercises
                .into_iter()
                .map(|row| (row.exercise_id.clone(), row))
                .collect(),
        })
    }

    /// The learner's mark on `item`.
    pub fn mark(&self, item: &Item) -> Mark {
        match item {
            Item::Lesson(lesson) => {
                let key = (lesson.module_id.clone(), lesson.id.clone());
                if self.lessons_read.contains(&key) {
                    Mark::Done
                } else {
                    Mark::New
                }
            }
            Item::Exercise(exercise) => match self.exercises.get(&exercise.id) {
                None => Mark::New,
                Some(row) => match &row.passed_hash {
                    Some(hash) if *hash == exercise.content_hash => Mark::Done,
                    Some(_) => Mark::OutOfDate,
                    None if row.attempts > 0 || row.first_opened_at.is_some() => Mark::Started,
                    None => Mark::New,
                },
            },
        }
    }

    /// Completion of one module.
    pub fn module(&self, module: &Module) -> ModuleProgress {
        let total = module.items.len();
        let done = module
            .items
            .iter()
            .filter(|item| self.mark(item).is_complete())
            .count();
        let minutes_done = module
            .items
            .iter()
            .filter(|item| self.mark(item).is_complete())
            .map(Item::minutes)
            .sum();
        ModuleProgress {
            done,
            total,
            minutes_done,
        }
    }

    /// The first item, in programme order, that is not complete yet.
    pub fn next<'a>(&self, programme: &'a Programme) -> Option<&'a Item> {
        programme
            .modules
            .iter()
            .flat_map(|module| module.items.iter())
            .find(|item| !self.mark(item).is_complete())
    }
}

/// How much of a module is complete.
#[derive(Debug, Clone, Copy)]
pub struct ModuleProgress {
    /// Items read or passed.
    pub done: usize,
    /// Items in the module.
    pub total: usize,
    /// Estimated minutes of the completed items.
    pub minutes_done: u32,
}

impl ModuleProgress {
    /// Whole percent, rounded down.
    pub fn percent(&self) -> usize {
        (self.done * 100).checked_div(self.total).unwrap_or(0)
    }

    /// Every item done: the module's badge is earned.
    pub fn is_complete(&self) -> bool {
        self.total > 0 && self.done == self.total
    }
}

/// Consecutive days, up to today, on which the learner read or submitted
/// something (a day without activity yet today does not break it).
pub async fn streak_days(db: &PgPool, user_id: i64) -> sqlx::Result<u32> {
    // A UNION's columns are never known to be NOT NULL; these days come
    // from NOT NULL timestamps, hence the `!`.
    let days: Vec<Date> = sqlx::query_scalar!(
        r#"SELECT DISTINCT day AS "day!" FROM (
             SELECT (created_at AT TIME ZONE 'UTC')::date AS day FROM submissions WHERE user_id = $1
             UNION SELECT (first_at AT TIME ZONE 'UTC')::date FROM lesson_visits WHERE user_id = $1
             UNION SELECT (last_at AT TIME ZONE 'UTC')::date FROM lesson_visits WHERE user_id = $1
         ) AS active ORDER BY day DESC LIMIT 400"#,
        user_id,
    )
    .fetch_all(db)
    .await?;
    Ok(streak(&days, OffsetDateTime::now_utc().date()))
}

/// The streak ending today or yesterday in `days` (sorted newest first).
fn streak(days: &[Date], today: Date) -> u32 {
    let mut expected = match days.first() {
        Some(day) if *day == today => today,
        Some(day) if Some(*day) == today.previous_day() => *day,
        _ => return 0,
    };
    let mut count = 0;
    for day in days {
        if *day != expected {
            break;
        }
        count += 1;
        match expected.previous_day() {
            Some(previous) => expected = previous,
            None => break,
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::streak;
    use time::{Date, Month};

    fn may(day: u8) -> Date {
        Date::from_calendar_date(2024, Month::May, day).unwrap()
    }

    #[test]
    fn a_streak_counts_consecutive_days_up_to_today_or_yesterday() {
        let today = may(10);
        assert_eq!(streak(&[], today), 0);
        assert_eq!(streak(&[may(10), may(9), may(7)], today), 2);
        assert_eq!(streak(&[may(9), may(8)], today), 2);
        assert_eq!(streak(&[may(8)], today), 0);
    }
}
