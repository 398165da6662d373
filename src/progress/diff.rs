//! Line diffs of learner code with bounded work: the one diff the learner's
//! history and the instructor's submission page both show.
//!
//! Learner code is chosen by the learner, so a diff of it must cost the
//! server a bounded amount whatever was submitted: the comparison gets a
//! [`DEADLINE`] (past it, `similar` stops searching for the smallest diff and
//! reports the rest of the changed stretch as replaced — still correct, only
//! coarser), and at most [`MAX_LINES`] lines are kept for display. Callers in
//! the web layer run it off the async workers (`web::cpu`).

use std::time::{Duration, Instant};

use similar::{ChangeTag, TextDiff};

/// How long one comparison may search for the smallest diff.
pub const DEADLINE: Duration = Duration::from_millis(200);
/// Most lines of a diff kept for display (the counts cover every line).
pub const MAX_LINES: usize = 1_000;
/// Unchanged lines shown around each change.
const CONTEXT: usize = 3;

/// What a line of a diff is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// In both versions.
    Same,
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
    /// Unchanged lines left out.
    Gap,
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    /// What it is.
    pub kind: LineKind,
    /// The line, without its newline (escaped by the templates).
    pub text: String,
}

impl DiffLine {
    /// The CSS class that colours it.
    pub fn class(&self) -> &'static str {
        match self.kind {
            LineKind::Same => "diff-same",
            LineKind::Added => "diff-add",
            LineKind::Removed => "diff-del",
            LineKind::Gap => "diff-gap",
        }
    }

    /// `+`, `-` or a space, for readers who cannot tell the colours apart.
    pub fn sign(&self) -> char {
        match self.kind {
            LineKind::Added => '+',
            LineKind::Removed => '-',
            LineKind::Same | LineKind::Gap => ' ',
        }
    }
}

/// A line diff, old → new.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineDiff {
    /// The changed lines with [`CONTEXT`] lines around them, at most [`MAX_LINES`].
    pub lines: Vec<DiffLine>,
    /// Lines added in all.
    pub added: usize,
    /// Lines removed in all.
    pub removed: usize,
    /// Lines of the diff not kept in `lines`.
    pub lines_left_out: usize,
    /// The deadline cut the search short: the diff is correct but coarser
    /// than the smallest one.
    pub approximate: bool,
}

impl LineDiff {
    /// No change at all.
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.removed == 0
    }
}

/// The diff of `old` → `new`; see the module documentation for its bounds.
pub fn line_diff(old: &str, new: &str) -> LineDiff {
    let started = Instant::now();
    let diff = TextDiff::configure()
        .deadline(started + DEADLINE)
        .diff_lines(old, new);
    let approximate = started.elapsed() >= DEADLINE;
    let mut result = LineDiff {
        approximate,
        ..LineDiff::default()
    };
    let push = |result: &mut LineDiff, kind: LineKind, text: &str| {
        if result.lines.len() < MAX_LINES {
            result.lines.push(DiffLine {
                kind,
                text: text.trim_end_matches(['\r', '\n']).to_string(),
            });
        } else {
            result.lines_left_out += 1;
        }
    };
    for (index, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if index > 0 {
            push(&mut result, LineKind::Gap, "⋯");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    ChangeTag::Insert => {
                        result.added += 1;
                        LineKind::Added
                    }
                    ChangeTag::Delete => {
                        result.removed += 1;
                        LineKind::Removed
                    }
                    ChangeTag::Equal => LineKind::Same,
                };
                push(&mut result, kind, change.value());
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_marks_added_and_removed_lines() {
        let diff = line_diff("fn a() {}\nlet x = 1;\n", "fn a() {}\nlet x = 2 < 3;\n");
        assert_eq!((diff.added, diff.removed), (1, 1));
        assert!(diff.lines.contains(&DiffLine {
            kind: LineKind::Removed,
            text: "let x = 1;".into()
        }));
        assert!(diff.lines.contains(&DiffLine {
            kind: LineKind::Added,
            text: "let x = 2 < 3;".into()
        }));
        assert!(!diff.approximate);
    }

    #[test]
    fn identical_code_has_an_empty_diff() {
        assert!(line_diff("a\n", "a\n").is_empty());
        assert!(line_diff("a\n", "a\n").lines.is_empty());
    }

    #[test]
    fn a_huge_diff_keeps_at_most_max_lines_and_counts_the_rest() {
        let old: String = (0..20_000).map(|i| format!("{}\n", i % 7)).collect();
        let new: String = (0..20_000).map(|i| format!("{}\n", i % 5)).collect();
        let diff = line_diff(&old, &new);
        assert_eq!(diff.lines.len(), MAX_LINES);
        assert!(diff.lines_left_out > 0);
        assert!(diff.added > 0 && diff.removed > 0);
    }
}
