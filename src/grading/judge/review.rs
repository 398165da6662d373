//! Kind `review`: a learner's marks on a pull request, checked and scored
//! against the exercise's planted defects at once, never run in the
//! sandbox. The arithmetic is [`Review::score`]; here the marks a learner
//! sends are checked (every one names a markable line, a category of the
//! taxonomy and a short comment) and a score is turned into the key the
//! learner reads afterwards.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::curriculum::review::{DefectCategory, Finding, Mark, Review};

/// Most marks one review may carry.
pub const MAX_MARKS: usize = 50;
/// Longest comment on a mark, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A mark as the learner sends it; the category is checked against the
/// taxonomy here so an unknown one gets a message listing the known ones.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkInput {
    /// The file, as the diff names it.
    pub file: String,
    /// A new-side line number.
    pub line: u32,
    /// A category id of the taxonomy.
    pub category: String,
    /// What the learner says is wrong.
    #[serde(default)]
    pub comment: String,
}

/// Checks `marks` against `review`: at least one, at most [`MAX_MARKS`],
/// each on a non-blank new-side line of a file of the diff, one mark per
/// line, a category of the taxonomy and a comment of at most
/// [`MAX_COMMENT_CHARS`]. The error says which mark is wrong and why.
pub fn check_marks(review: &Review, marks: Vec<MarkInput>) -> Result<Vec<Mark>, String> {
    if marks.is_empty() {
        return Err("mark at least one line before handing in the review".into());
    }
    if marks.len() > MAX_MARKS {
        return Err(format!(
            "a review holds at most {MAX_MARKS} marks; this one has {}",
            marks.len()
        ));
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(marks.len());
    for (index, mark) in marks.into_iter().enumerate() {
        let at = |message: String| {
            format!(
                "mark {} ({}:{}): {message}",
                index + 1,
                mark.file,
                mark.line
            )
        };
        if !review.files.iter().any(|file| file.path == mark.file) {
            return Err(at("the pull request has no such file".into()));
        }
        if !review.markable(&mark.file, mark.line) {
            return Err(at(
                "not a line you can mark: mark a non-blank line on the new side of the diff".into(),
            ));
        }
        let category = DefectCategory::ALL
            .iter()
            .copied()
            .find(|category| category.id() == mark.category)
            .ok_or_else(|| {
                let known: Vec<&str> = DefectCategory::ALL.iter().map(|c| c.id()).collect();
                at(format!(
                    "unknown category {:?}; one of: {}",
                    mark.category,
                    known.join(", ")
                ))
            })?;
        let length = mark.comment.chars().count();
        if length > MAX_COMMENT_CHARS {
            return Err(at(format!(
                "the comment has {length} characters; at most {MAX_COMMENT_CHARS}"
            )));
        }
        if !seen.insert((mark.file.clone(), mark.line)) {
            return Err(at("this line is marked twice: one mark per line".into()));
        }
        checked.push(Mark {
            file: mark.file,
            line: mark.line,
            category,
            comment: mark.comment,
        });
    }
    Ok(checked)
}

/// One planted defect as the learner reads it after handing in.
#[derive(Debug, Clone, Serialize)]
pub struct DefectOutcome {
    /// The file.
    pub file: String,
    /// The new-side lines where marking it counts.
    pub lines: Vec<u32>,
    /// Its category.
    pub category: DefectCategory,
    /// The category as the page names it.
    pub category_label: &'static str,
    /// Found, half or missed.
    pub finding: Finding,
    /// What goes wrong and the fix (HTML rendered from the exercise's markdown).
    pub explanation_html: String,
}

/// A scored review with its key: what the learner sees after handing in.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// points / defects, clamped to 0–1.
    pub score: f64,
    /// Whether the score reaches the pass mark.
    pub passed: bool,
    /// Defects found (1 point each).
    pub found: usize,
    /// Defects marked on the right line with another category (½ each).
    pub half: usize,
    /// Defects not marked.
    pub missed: usize,
    /// Every planted defect, in the key's order.
    pub defects: Vec<DefectOutcome>,
    /// The marks that match no defect (−¼ each).
    pub false_alarms: Vec<Mark>,
}

/// Scores `marks` against `review` and lays out the key.
pub fn outcome(review: &Review, marks: &[Mark]) -> Outcome {
    let score = review.score(marks);
    let count = |wanted: Finding| score.findings.iter().filter(|f| **f == wanted).count();
    Outcome {
        score: score.score,
        passed: score.passed(),
        found: count(Finding::Found),
        half: count(Finding::Half),
        missed: count(Finding::Missed),
        defects: review
            .defects
            .iter()
            .zip(&score.findings)
            .map(|(defect, finding)| DefectOutcome {
                file: defect.file.clone(),
                lines: defect.lines.clone(),
                category: defect.category,
                category_label: defect.category.label(),
                finding: *finding,
                explanation_html: defect.explanation_html.clone(),
            })
            .collect(),
        false_alarms: score
            .false_alarms
            .iter()
            .map(|&index| marks[index].clone())
            .collect(),
    }
}
