//! The rubric of a `written` exercise (`rubric.toml`): the criteria an
//! instructor scores, each with levels in ascending points, and the total
//! needed to be accepted.
//!
//! Parsed and checked once at start-up, so a rubric that could never be
//! passed (or that an instructor could not score unambiguously) stops the
//! app with the file named, instead of reaching a learner.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::load::{ContentError, parse_toml};

/// Fewest and most criteria a rubric may have.
pub const CRITERIA: std::ops::RangeInclusive<usize> = 2..=6;
/// Fewest and most levels a criterion may have.
pub const LEVELS: std::ops::RangeInclusive<usize> = 2..=4;

/// What an instructor scores written work against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// The total needed to be accepted.
    pub pass_points: u32,
    /// What is scored, in the order shown.
    #[serde(rename = "criterion")]
    pub criteria: Vec<Criterion>,
}

/// One thing the work is scored on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Unique within the rubric; scores are stored under it.
    pub id: String,
    /// What it asks, shown to learner and instructor.
    pub title: String,
    /// The levels, in ascending points.
    #[serde(rename = "level")]
    pub levels: Vec<Level>,
}

/// One level of a criterion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Points scored at this level.
    pub points: u32,
    /// What work at this level looks like.
    pub description: String,
}

impl Rubric {
    /// Reads and checks `rubric.toml` at `path`.
    pub fn load(path: &Path, text: &str) -> Result<Self, ContentError> {
        let rubric: Rubric = parse_toml(path, text, 0)?;
        rubric.check().map_err(|message| ContentError {
            path: path.to_path_buf(),
            line: None,
            message,
        })?;
        Ok(rubric)
    }

    /// The most points the rubric can give (every criterion at its top level).
    pub fn max_points(&self) -> u32 {
        self.criteria.iter().map(Criterion::max_points).sum()
    }

    /// The criterion with this id.
    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
    }

    fn check(&self) -> Result<(), String> {
        if !CRITERIA.contains(&self.criteria.len()) {
            return Err(format!(
                "a rubric needs {} to {} criteria, found {}",
                CRITERIA.start(),
                CRITERIA.end(),
                self.criteria.len()
            ));
        }
        let mut ids = HashSet::new();
        for criterion in &self.criteria {
            let id = &criterion.id;
            let valid = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                return Err(format!(
                    "criterion id {id:?} must be lower-case letters, digits and dashes"
                ));
            }
            if !ids.insert(id.as_str()) {
                return Err(format!("criterion id {id:?} is used twice"));
            }
            if criterion.title.trim().is_empty() {
                return Err(format!("criterion {id:?} has no title"));
            }
            if !LEVELS.contains(&criterion.levels.len()) {
                return Err(format!(
                    "criterion {id:?} needs {} to {} levels, found {}",
                    LEVELS.start(),
                    LEVELS.end(),
                    criterion.levels.len()
                ));
            }
            for pair in criterion.levels.windows(2) {
                if pair[1].points <= pair[0].points {
                    return Err(format!(
                        "criterion {id:?}: levels must be in ascending points, but {} follows {}",
                        pair[1].points, pair[0].points
                    ));
                }
            }
            if let Some(level) = criterion
                .levels
                .iter()
                .find(|l| l.description.trim().is_empty())
            {
                return Err(format!(
                    "criterion {id:?}: the level of {} points has no description",
                    level.points
                ));
            }
        }
        if self.pass_points == 0 {
            return Err("pass_points must be at least 1".into());
        }
        if self.pass_points > self.max_points() {
            return Err(format!(
                "pass_points = {} cannot be reached: the criteria give at most {} points",
                self.pass_points,
                self.max_points()
            ));
        }
        Ok(())
    }
}

impl Criterion {
    /// Points at the top level.
    pub fn max_points(&self) -> u32 {
        self.levels.last().map_or(0, |level| level.points)
    }

    /// The level worth exactly `points`, if there is one.
    pub fn level(&self, points: u32) -> Option<&Level> {
        self.levels.iter().find(|level| level.points == points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Rubric, ContentError> {
        Rubric::load(Path::new("ex/rubric.toml"), text)
    }

    fn criterion(id: &str, points: &[u32]) -> String {
        let mut text = format!("[[criterion]]\nid = \"{id}\"\ntitle = \"T {id}\"\n");
        for p in points {
            text.push_str(&format!(
                "[[criterion.level]]\npoints = {p}\ndescription = \"at {p}\"\n"
            ));
        }
        text
    }

    fn rubric(pass: u32, criteria: &[(&str, &[u32])]) -> String {
        let mut text = format!("pass_points = {pass}\n");
        for (id, points) in criteria {
            text.push_str(&criterion(id, points));
        }
        text
    }

    fn message(text: &str) -> String {
        let err = load(text).expect_err("the rubric is refused");
        assert!(err.path.ends_with("ex/rubric.toml"), "{err}");
        err.to_string()
    }

    #[test]
    fn a_good_rubric_loads_with_its_maximum() {
        let rubric = load(&rubric(
            5,
            &[("context", &[0, 1, 3]), ("options", &[0, 2, 4])],
        ))
        .unwrap();
        assert_eq!(rubric.max_points(), 7);
        assert_eq!(rubric.criterion("options").unwrap().max_points(), 4);
        assert_eq!(
            rubric
                .criterion("context")
                .unwrap()
                .level(1)
                .unwrap()
                .description,
            "at 1"
        );
    }

    #[test]
    fn unreachable_pass_points_are_refused() {
        let text = message(&rubric(8, &[("a", &[0, 3]), ("b", &[0, 4])]));
        assert!(text.contains("pass_points = 8 cannot be reached"), "{text}");
        assert!(text.contains("at most 7 points"), "{text}");
        assert!(message(&rubric(0, &[("a", &[0, 3]), ("b", &[0, 4])])).contains("at least 1"));
    }

    #[test]
    fn too_few_or_too_many_criteria_are_refused() {
        assert!(message(&rubric(1, &[("a", &[0, 3])])).contains("2 to 6 criteria, found 1"));
        let seven: Vec<(String, &[u32])> =
            (0..7).map(|i| (format!("c{i}"), &[0u32, 1][..])).collect();
        let seven: Vec<(&str, &[u32])> = seven.iter().map(|(id, p)| (id.as_str(), *p)).collect();
        assert!(message(&rubric(1, &seven)).contains("found 7"));
    }

    #[test]
    fn level_counts_and_order_are_checked() {
        assert!(
            message(&rubric(1, &[("a", &[0]), ("b", &[0, 1])]))
                .contains("criterion \"a\" needs 2 to 4 levels, found 1")
        );
        assert!(
            message(&rubric(1, &[("a", &[0, 1, 2, 3, 4]), ("b", &[0, 1])])).contains("found 5")
        );
        let text = message(&rubric(1, &[("a", &[0, 2, 2]), ("b", &[0, 1])]));
        assert!(text.contains("ascending points, but 2 follows 2"), "{text}");
        assert!(message(&rubric(1, &[("a", &[3, 1]), ("b", &[0, 1])])).contains("1 follows 3"));
    }

    #[test]
    fn criterion_ids_are_unique_and_plain() {
        assert!(
            message(&rubric(1, &[("a", &[0, 1]), ("a", &[0, 1])]))
                .contains("criterion id \"a\" is used twice")
        );
        assert!(message(&rubric(1, &[("A b", &[0, 1]), ("c", &[0, 1])])).contains("lower-case"));
    }

    #[test]
    fn unknown_fields_and_type_errors_name_the_line() {
        let err = load("pass_points = 2\nbonus = 1\n").expect_err("unknown field");
        assert_eq!(err.line, Some(2), "{err}");
        let err = load(
            &rubric(1, &[("a", &[0, 1]), ("b", &[0, 1])]).replace("points = 1", "points = \"one\""),
        )
        .expect_err("a string for points");
        assert!(err.line.is_some(), "{err}");
    }
}
