//! Kind `written`: work an instructor judges against the exercise's rubric,
//! never run in the sandbox.
//!
//! The instructor picks one level per criterion and decides: accept or ask
//! for changes. [`score`] turns that choice into a [`Scorecard`], refusing
//! anything the rubric does not allow (a criterion left out or unknown, a
//! number of points no level has, an acceptance below `pass_points`), so a
//! stored score always reads against the rubric it was given under.

use std::collections::BTreeMap;

use crate::curriculum::rubric::Rubric;
use crate::grading::job::ReviewState;

/// What an instructor decides about a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The work meets the bar: the exercise is passed.
    Accept,
    /// The learner revises and hands in again.
    RequestChanges,
}

impl Decision {
    /// The review state the submission ends in.
    pub fn state(self) -> ReviewState {
        match self {
            Decision::Accept => ReviewState::Accepted,
            Decision::RequestChanges => ReviewState::ChangesRequested,
        }
    }
}

/// A scored rubric: the points of every criterion, in the rubric's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorecard {
    /// (criterion id, points), one per criterion.
    pub scores: Vec<(String, u32)>,
    /// Their sum.
    pub points: u32,
    /// The rubric's maximum.
    pub max_points: u32,
    /// Whether `points` reaches the rubric's `pass_points`.
    pub reaches_pass: bool,
}

/// Checks `levels` (criterion id → the points of the chosen level) against
/// `rubric` for `decision`; the error says what is wrong, for the instructor.
pub fn score(
    rubric: &Rubric,
    levels: &BTreeMap<String, u32>,
    decision: Decision,
) -> Result<Scorecard, String> {
    if let Some(unknown) = levels.keys().find(|id| rubric.criterion(id).is_none()) {
        return Err(format!("the rubric has no criterion {unknown:?}"));
    }
    let mut scores = Vec::with_capacity(rubric.criteria.len());
    for criterion in &rubric.criteria {
        let points = *levels
            .get(&criterion.id)
            .ok_or_else(|| format!("choose a level for “{}”", criterion.title))?;
        if criterion.level(points).is_none() {
            return Err(format!(
                "“{}” has no level worth {points} points",
                criterion.title
            ));
        }
        scores.push((criterion.id.clone(), points));
    }
    let points = scores.iter().map(|(_, p)| p).sum();
    let reaches_pass = points >= rubric.pass_points;
    if decision == Decision::Accept && !reaches_pass {
        return Err(format!(
            "{points} of {} points is below the {} needed to accept: ask for changes instead",
            rubric.max_points(),
            rubric.pass_points
        ));
    }
    Ok(Scorecard {
        scores,
        points,
        max_points: rubric.max_points(),
        reaches_pass,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn rubric() -> Rubric {
        Rubric::load(
            Path::new("rubric.toml"),
            "pass_points = 4\n\
             [[criterion]]\nid = \"context\"\ntitle = \"Context\"\n\
             [[criterion.level]]\npoints = 0\ndescription = \"none\"\n\
             [[criterion.level]]\npoints = 2\ndescription = \"good\"\n\
             [[criterion]]\nid = \"options\"\ntitle = \"Options\"\n\
             [[criterion.level]]\npoints = 0\ndescription = \"none\"\n\
             [[criterion.level]]\npoints = 1\ndescription = \"some\"\n\
             [[criterion.level]]\npoints = 3\ndescription = \"all\"\n",
        )
        .unwrap()
    }

    fn levels(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        pairs.iter().map(|(id, p)| (id.to_string(), *p)).collect()
    }

    #[test]
    fn a_full_choice_is_summed_in_rubric_order() {
        let card = score(
            &rubric(),
            &levels(&[("options", 3), ("context", 2)]),
            Decision::Accept,
        )
        .unwrap();
        assert_eq!(
            card.scores,
            vec![("context".to_string(), 2), ("options".to_string(), 3)]
        );
        assert_eq!(
            (card.points, card.max_points, card.reaches_pass),
            (5, 5, true)
        );
    }

    #[test]
    fn accepting_below_the_bar_is_refused_but_asking_for_changes_is_not() {
        let low = levels(&[("context", 2), ("options", 1)]);
        let err = score(&rubric(), &low, Decision::Accept).unwrap_err();
        assert!(err.contains("3 of 5 points is below the 4 needed"), "{err}");
        let card = score(&rubric(), &low, Decision::RequestChanges).unwrap();
        assert!(!card.reaches_pass);
    }

    #[test]
    fn missing_unknown_and_off_level_choices_are_refused() {
        let err = score(
            &rubric(),
            &levels(&[("context", 2)]),
            Decision::RequestChanges,
        );
        assert!(err.unwrap_err().contains("choose a level for “Options”"));
        let err = score(
            &rubric(),
            &levels(&[("context", 2), ("options", 2)]),
            Decision::RequestChanges,
        );
        assert!(err.unwrap_err().contains("no level worth 2 points"));
        let err = score(
            &rubric(),
            &levels(&[("context", 2), ("options", 1), ("style", 1)]),
            Decision::RequestChanges,
        );
        assert!(err.unwrap_err().contains("no criterion \"style\""));
    }
}
