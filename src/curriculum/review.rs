//! Code-review exercises (kind `review`): the pull request as a parsed
//! unified diff, the planted defects that are its answer key, the fixed
//! taxonomy of defect categories, and the exact scoring of a learner's
//! marks (format in `curriculum/README.md`, "`review`: review a pull
//! request").
//!
//! Loading validates the key against the diff — every defect names a file
//! of the diff and only non-blank new-side lines of it — so a [`Review`]
//! that exists can be graded, and `lockstep curriculum verify` (which loads
//! the programme) checks every planted defect points at a real line.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::load::{ContentError, error, parse_toml};
use super::markdown;

/// The defect taxonomy: what a learner's mark says is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DefectCategory {
    /// A lock guard held across `.await`.
    LockAcrossAwait,
    /// A blocking call on a runtime thread.
    BlockingInAsync,
    /// An unbounded channel or buffer with no backpressure.
    UnboundedQueue,
    /// A notification that can be missed.
    LostWakeup,
    /// A `select!` branch that loses data when cancelled.
    CancelUnsafeSelect,
    /// An await on I/O or another service with no deadline.
    MissingTimeout,
    /// A spawned task whose panic or error is never observed.
    DetachedTaskPanic,
    /// A Cargo feature that removes or changes API.
    NonAdditiveFeature,
    /// A breaking change released as a minor/patch.
    SemverBreak,
    /// Check-then-act or lost update across tasks.
    RaceCondition,
    /// A permit, handle or task that is never released.
    ResourceLeak,
    /// Anything else.
    Other,
}

impl DefectCategory {
    /// Every category, in the order the page offers them.
    pub const ALL: &'static [DefectCategory] = &[
        DefectCategory::LockAcrossAwait,
        DefectCategory::BlockingInAsync,
        DefectCategory::UnboundedQueue,
        DefectCategory::LostWakeup,
        DefectCategory::CancelUnsafeSelect,
        DefectCategory::MissingTimeout,
        DefectCategory::DetachedTaskPanic,
        DefectCategory::NonAdditiveFeature,
        DefectCategory::SemverBreak,
        DefectCategory::RaceCondition,
        DefectCategory::ResourceLeak,
        DefectCategory::Other,
    ];

    /// The id, as written in `defects.toml` and sent by the page.
    pub fn id(self) -> &'static str {
        match self {
            DefectCategory::LockAcrossAwait => "lock-across-await",
            DefectCategory::BlockingInAsync => "blocking-in-async",
            DefectCategory::UnboundedQueue => "unbounded-queue",
            DefectCategory::LostWakeup => "lost-wakeup",
            DefectCategory::CancelUnsafeSelect => "cancel-unsafe-select",
            DefectCategory::MissingTimeout => "missing-timeout",
            DefectCategory::DetachedTaskPanic => "detached-task-panic",
            DefectCategory::NonAdditiveFeature => "non-additive-feature",
            DefectCategory::SemverBreak => "semver-break",
            DefectCategory::RaceCondition => "race-condition",
            DefectCategory::ResourceLeak => "resource-leak",
            DefectCategory::Other => "other",
        }
    }

    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            DefectCategory::LockAcrossAwait => "Lock held across .await",
            DefectCategory::BlockingInAsync => "Blocking call in async code",
            DefectCategory::UnboundedQueue => "Unbounded queue (no backpressure)",
            DefectCategory::LostWakeup => "Lost wake-up",
            DefectCategory::CancelUnsafeSelect => "Cancel-unsafe select! branch",
            DefectCategory::MissingTimeout => "Missing timeout",
            DefectCategory::DetachedTaskPanic => "Detached task whose panic is lost",
            DefectCategory::NonAdditiveFeature => "Non-additive Cargo feature",
            DefectCategory::SemverBreak => "SemVer break",
            DefectCategory::RaceCondition => "Race condition",
            DefectCategory::ResourceLeak => "Resource leak",
            DefectCategory::Other => "Other",
        }
    }
}

impl fmt::Display for DefectCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// What a line of a hunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    /// Unchanged (both sides).
    Context,
    /// Added (new side only).
    Added,
    /// Removed (old side only).
    Removed,
}

impl LineKind {
    /// A CSS-friendly name.
    pub fn slug(self) -> &'static str {
        match self {
            LineKind::Context => "context",
            LineKind::Added => "added",
            LineKind::Removed => "removed",
        }
    }

    /// The sign the diff writes before the line.
    pub fn sign(self) -> &'static str {
        match self {
            LineKind::Context => " ",
            LineKind::Added => "+",
            LineKind::Removed => "-",
        }
    }
}

/// One line of a hunk, with its numbers on each side it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// Context, added or removed.
    pub kind: LineKind,
    /// Line number in the old file (context and removed lines).
    pub old: Option<u32>,
    /// Line number in the new file (context and added lines): what a mark names.
    pub new: Option<u32>,
    /// The text, without its `+`/`-`/` ` prefix.
    pub text: String,
    /// The text as HTML, highlighted by the file's language when loaded
    /// (escaped otherwise); never sent as JSON.
    #[serde(skip)]
    pub html: String,
}

/// A `@@ -a,b +c,d @@` hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// The hunk header as written (with any section heading after `@@`).
    pub header: String,
    /// Its lines in order.
    pub lines: Vec<DiffLine>,
}

/// One file of the pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffFile {
    /// The new-side path (`+++ b/<path>`; the old path for a deleted file).
    pub path: String,
    /// Its hunks in order.
    pub hunks: Vec<Hunk>,
}

impl DiffFile {
    /// The new-side line `number`, if the diff shows it.
    pub fn new_line(&self, number: u32) -> Option<&DiffLine> {
        self.hunks
            .iter()
            .flat_map(|hunk| &hunk.lines)
            .find(|line| line.new == Some(number))
    }
}

/// Parses a unified diff (`git diff` format) into files, hunks and lines;
/// an error says which line of the diff is wrong (1-based).
pub fn parse_diff(text: &str) -> Result<Vec<DiffFile>, (usize, String)> {
    let mut files: Vec<DiffFile> = Vec::new();
    let mut old_path: Option<String> = None;
    // Lines still expected in the current hunk: (old, new) remaining, and next numbers.
    let mut remaining = (0u32, 0u32);
    let mut next = (0u32, 0u32);
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let in_hunk = remaining != (0, 0);
        if in_hunk {
            let file = files.last_mut().expect("a hunk belongs to a file");
            let hunk = file.hunks.last_mut().expect("a hunk was opened");
            let (kind, body) = match line.chars().next() {
                Some('+') => (LineKind::Added, &line[1..]),
                Some('-') => (LineKind::Removed, &line[1..]),
                Some(' ') => (LineKind::Context, &line[1..]),
                // An empty line inside a hunk is a blank context line whose
                // trailing space an editor removed.
                None => (LineKind::Context, ""),
                Some('\\') => continue, // "\ No newline at end of file"
                Some(_) => {
                    return Err((
                        number,
                        "a hunk line starts with '+', '-' or ' ', or the hunk header counts too many lines".into(),
                    ));
                }
            };
            let (old, new) = match kind {
                LineKind::Context => (Some(next.0), Some(next.1)),
                LineKind::Added => (None, Some(next.1)),
                LineKind::Removed => (Some(next.0), None),
            };
            if (old.is_some() && remaining.0 == 0) || (new.is_some() && remaining.1 == 0) {
                return Err((number, "more lines than the hunk header counts".into()));
            }
            if old.is_some() {
                remaining.0 -= 1;
                next.0 += 1;
            }
            if new.is_some() {
                remaining.1 -= 1;
                next.1 += 1;
            }
            hunk.lines.push(DiffLine {
                kind,
                old,
                new,
                text: body.to_string(),
                html: markdown::escape(body),
            });
            continue;
        }
        if let Some(path) = line.strip_prefix("--- ") {
            old_path = Some(strip_side(path, "a/"));
        } else if let Some(path) = line.strip_prefix("+++ ") {
            let new_path = strip_side(path, "b/");
            let path = if new_path == "/dev/null" {
                old_path.take().unwrap_or(new_path)
            } else {
                new_path
            };
            files.push(DiffFile {
                path,
                hunks: Vec::new(),
            });
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            let file = files
                .last_mut()
                .ok_or((number, "a hunk before any `+++ b/<path>` line".to_string()))?;
            let (start, counts) = hunk_header(rest)
                .ok_or((number, "a hunk header reads `@@ -a,b +c,d @@`".to_string()))?;
            next = start;
            remaining = counts;
            file.hunks.push(Hunk {
                header: line.to_string(),
                lines: Vec::new(),
            });
        }
        // Anything else between files (`diff --git`, `index`, mode lines) is metadata.
    }
    if remaining != (0, 0) {
        return Err((
            text.lines().count(),
            "the diff ends before its last hunk does".into(),
        ));
    }
    if files.is_empty() || files.iter().any(|file| file.hunks.is_empty()) {
        return Err((1, "a diff needs at least one file with a hunk".into()));
    }
    Ok(files)
}

fn strip_side(path: &str, side: &str) -> String {
    let path = path.split('\t').next().unwrap_or(path).trim_end();
    path.strip_prefix(side).unwrap_or(path).to_string()
}

/// `-a,b +c,d @@ …` → ((a, c), (b, d)); a missing count is 1.
fn hunk_header(rest: &str) -> Option<((u32, u32), (u32, u32))> {
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(' ')?;
    let range = |text: &str| -> Option<(u32, u32)> {
        match text.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((text.parse().ok()?, 1)),
        }
    };
    let (old_start, old_count) = range(old.strip_prefix('-')?)?;
    let (new_start, new_count) = range(new.strip_prefix('+')?)?;
    Some(((old_start, new_start), (old_count, new_count)))
}

/// Colours each line of `file` by its extension (Rust and TOML), line by
/// line so every line's HTML stands alone; other files stay escaped.
fn highlight_file(file: &mut DiffFile) {
    let language = match Path::new(&file.path).extension().and_then(|e| e.to_str()) {
        Some("rs") => "rust",
        Some("toml") => "toml",
        _ => return,
    };
    for line in file.hunks.iter_mut().flat_map(|hunk| &mut hunk.lines) {
        line.html = super::highlight::highlight(language, &line.text);
    }
}

/// A planted defect: the answer key of one problem in the pull request.
#[derive(Debug, Clone)]
pub struct Defect {
    /// The file, as the diff names it.
    pub file: String,
    /// New-side lines where a mark finds it.
    pub lines: Vec<u32>,
    /// What kind of defect it is.
    pub category: DefectCategory,
    /// What goes wrong and the fix, rendered; shown only after submitting.
    pub explanation_html: String,
}

/// A `review` exercise's work: the pull request and its key.
#[derive(Debug)]
pub struct Review {
    /// The diff as written (hashed, shown).
    pub diff: String,
    /// The diff, parsed.
    pub files: Vec<DiffFile>,
    /// The planted defects (at least 2).
    pub defects: Vec<Defect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefectsFile {
    defect: Vec<DefectFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefectFile {
    file: String,
    lines: Vec<u32>,
    category: DefectCategory,
    explanation: String,
}

/// Defects a review plants, at least.
const MIN_DEFECTS: usize = 2;

/// Reads `pr.diff` and `defects.toml` of the review exercise in `dir`.
pub fn load(dir: &Path, diff: String, defects_text: &str) -> Result<Review, ContentError> {
    let diff_path = dir.join("pr.diff");
    let files =
        parse_diff(&diff).map_err(|(line, message)| error(&diff_path, Some(line), message))?;
    let mut files = files;
    for file in &mut files {
        highlight_file(file);
    }
    let defects_path = dir.join("defects.toml");
    let raw: DefectsFile = parse_toml(&defects_path, defects_text, 0)?;
    if raw.defect.len() < MIN_DEFECTS {
        return Err(error(
            &defects_path,
            None,
            format!(
                "a review plants at least {MIN_DEFECTS} [[defect]]s, found {}",
                raw.defect.len()
            ),
        ));
    }
    let mut defects = Vec::with_capacity(raw.defect.len());
    for (index, defect) in raw.defect.into_iter().enumerate() {
        let at = |message: String| {
            error(
                &defects_path,
                None,
                format!("defect {} ({}): {message}", index + 1, defect.file),
            )
        };
        let file = files
            .iter()
            .find(|f| f.path == defect.file)
            .ok_or_else(|| at("the diff has no such file (`+++ b/<path>`)".into()))?;
        if defect.lines.is_empty() {
            return Err(at("`lines` names no line".into()));
        }
        for &number in &defect.lines {
            match file.new_line(number) {
                None => {
                    return Err(at(format!(
                        "line {number} is not a new-side line of the diff"
                    )));
                }
                Some(line) if line.text.trim().is_empty() => {
                    return Err(at(format!("line {number} is blank")));
                }
                Some(_) => {}
            }
        }
        if defect.explanation.trim().is_empty() {
            return Err(at("needs an explanation".into()));
        }
        defects.push(Defect {
            explanation_html: markdown::render(&defect.explanation).html,
            file: defect.file,
            lines: defect.lines,
            category: defect.category,
        });
    }
    Ok(Review {
        diff,
        files,
        defects,
    })
}

/// One mark of the learner: a new-side line of a file, what they say is
/// wrong there, and their comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    /// The file, as the diff names it.
    pub file: String,
    /// The new-side line number.
    pub line: u32,
    /// The category picked.
    pub category: DefectCategory,
    /// The learner's short comment.
    pub comment: String,
}

/// How one planted defect came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finding {
    /// A mark on one of its lines with its category: 1 point.
    Found,
    /// A mark on one of its lines, another category: half a point.
    Half,
    /// No mark on its lines.
    Missed,
}

impl Finding {
    /// As stored and sent: `found`, `half` or `missed`.
    pub fn id(self) -> &'static str {
        match self {
            Finding::Found => "found",
            Finding::Half => "half",
            Finding::Missed => "missed",
        }
    }

    /// The stored id back; anything else reads as missed.
    pub fn from_id(id: &str) -> Self {
        match id {
            "found" => Finding::Found,
            "half" => Finding::Half,
            _ => Finding::Missed,
        }
    }
}

/// A graded review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewScore {
    /// Per defect, in `defects.toml` order.
    pub findings: Vec<Finding>,
    /// Indices of the marks that match no defect (−0.25 each).
    pub false_alarms: Vec<usize>,
    /// points / defects, clamped to 0–1.
    pub score: f64,
}

/// The share of defects a review must score to pass.
pub const PASS_SCORE: f64 = 0.8;
/// What a mark matching no defect costs.
const FALSE_ALARM_POINTS: f64 = 0.25;

impl ReviewScore {
    /// Whether the review passes (score ≥ 0.8).
    pub fn passed(&self) -> bool {
        self.score >= PASS_SCORE
    }
}

impl Review {
    /// Scores `marks` exactly as the format says: a mark on one of a
    /// defect's lines with its category finds it (1 point), with another
    /// category half-finds it (½); each defect counts once, at its best; a
    /// mark on no defect's line is a false alarm (−¼). Score = points /
    /// defects, clamped to 0–1.
    pub fn score(&self, marks: &[Mark]) -> ReviewScore {
        let on = |mark: &Mark, defect: &Defect| {
            mark.file == defect.file && defect.lines.contains(&mark.line)
        };
        let findings: Vec<Finding> = self
            .defects
            .iter()
            .map(|defect| {
                let mut best = Finding::Missed;
                for mark in marks.iter().filter(|mark| on(mark, defect)) {
                    if mark.category == defect.category {
                        best = Finding::Found;
                    } else if best == Finding::Missed {
                        best = Finding::Half;
                    }
                }
                best
            })
            .collect();
        let false_alarms: Vec<usize> = marks
            .iter()
            .enumerate()
            .filter(|(_, mark)| !self.defects.iter().any(|defect| on(mark, defect)))
            .map(|(index, _)| index)
            .collect();
        let points: f64 = findings
            .iter()
            .map(|finding| match finding {
                Finding::Found => 1.0,
                Finding::Half => 0.5,
                Finding::Missed => 0.0,
            })
            .sum::<f64>()
            - FALSE_ALARM_POINTS * false_alarms.len() as f64;
        let score = (points / self.defects.len() as f64).clamp(0.0, 1.0);
        ReviewScore {
            findings,
            false_alarms,
            score,
        }
    }

    /// Whether `mark` names a line the learner could have marked: a
    /// non-blank new-side line of a file of the diff. Marks elsewhere are
    /// refused rather than counted as false alarms.
    pub fn markable(&self, file: &str, line: u32) -> bool {
        self.files
            .iter()
            .find(|f| f.path == file)
            .and_then(|f| f.new_line(line))
            .is_some_and(|l| !l.text.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/src/cache.rs b/src/cache.rs
index 1111111..2222222 100644
--- a/src/cache.rs
+++ b/src/cache.rs
@@ -10,4 +10,7 @@ impl Cache {
     pub async fn get(&self, key: &str) -> Option<String> {
-        self.map.lock().unwrap().get(key).cloned()
+        let guard = self.map.lock().unwrap();
+        let value = fetch(key).await;
+
+        guard.get(key).cloned().or(value)
     }
 }
--- /dev/null
+++ b/src/new.rs
@@ -0,0 +1,2 @@
+pub fn f() {}
+pub fn g() {}
";

    fn defects(lines_a: &str, category_a: &str) -> String {
        format!(
            "[[defect]]\nfile = \"src/cache.rs\"\nlines = {lines_a}\ncategory = \"{category_a}\"\nexplanation = \"E\"\n\
             [[defect]]\nfile = \"src/new.rs\"\nlines = [2]\ncategory = \"other\"\nexplanation = \"F\"\n"
        )
    }

    fn review(defects_text: &str) -> Result<Review, ContentError> {
        load(Path::new("ex"), DIFF.to_string(), defects_text)
    }

    #[test]
    fn a_diff_parses_into_files_hunks_and_numbered_lines() {
        let files = parse_diff(DIFF).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "src/cache.rs");
        assert_eq!(files[1].path, "src/new.rs");
        let lines = &files[0].hunks[0].lines;
        assert_eq!(lines.len(), 8);
        assert_eq!((lines[0].old, lines[0].new), (Some(10), Some(10)));
        assert_eq!(
            (lines[1].kind, lines[1].old, lines[1].new),
            (LineKind::Removed, Some(11), None)
        );
        assert_eq!((lines[2].kind, lines[2].new), (LineKind::Added, Some(11)));
        assert_eq!(lines[3].text, "        let value = fetch(key).await;");
        assert_eq!((lines[7].old, lines[7].new), (Some(13), Some(16)));
        assert_eq!(files[1].hunks[0].lines[1].new, Some(2));
    }

    #[test]
    fn a_broken_diff_is_an_error_at_its_line() {
        let long = DIFF.replace("@@ -10,4 +10,7 @@", "@@ -10,4 +10,9 @@");
        let (line, message) = parse_diff(&long).unwrap_err();
        assert_eq!(line, 14, "{message}");
        let (line, _) = parse_diff("@@ -1 +1 @@\n+x\n").unwrap_err();
        assert_eq!(line, 1);
    }

    #[test]
    fn defects_must_point_at_non_blank_new_side_lines_of_a_real_file() {
        assert!(review(&defects("[11, 12]", "lock-across-await")).is_ok());
        let cases = [
            (defects("[11]", "deadlock"), "unknown variant `deadlock`"),
            (defects("[13]", "other"), "line 13 is blank"),
            (defects("[30]", "other"), "line 30 is not a new-side line"),
            (defects("[]", "other"), "names no line"),
            (
                defects("[11]", "other").replace("src/new.rs", "src/old.rs"),
                "defect 2 (src/old.rs): the diff has no such file",
            ),
            (
                "[[defect]]\nfile = \"src/new.rs\"\nlines = [1]\ncategory = \"other\"\nexplanation = \"E\"\n".to_string(),
                "at least 2 [[defect]]s, found 1",
            ),
        ];
        for (text, expected) in cases {
            let err = review(&text).expect_err(expected);
            assert!(err.path.ends_with("ex/defects.toml"), "{err}");
            assert!(err.message.contains(expected), "{expected}: {err}");
        }
    }

    fn mark(file: &str, line: u32, category: DefectCategory) -> Mark {
        Mark {
            file: file.into(),
            line,
            category,
            comment: String::new(),
        }
    }

    #[test]
    fn scoring_is_found_half_and_false_alarms_clamped() {
        let review = review(&defects("[11, 12]", "lock-across-await")).unwrap();
        use DefectCategory::*;
        // Both found: 2/2.
        let s = review.score(&[
            mark("src/cache.rs", 12, LockAcrossAwait),
            mark("src/new.rs", 2, Other),
        ]);
        assert_eq!(s.findings, [Finding::Found, Finding::Found]);
        assert_eq!(s.score, 1.0);
        assert!(s.passed());
        // One found, one on the right line with the wrong category: 1.5/2.
        let s = review.score(&[
            mark("src/cache.rs", 11, LockAcrossAwait),
            mark("src/new.rs", 2, RaceCondition),
        ]);
        assert_eq!(s.findings, [Finding::Found, Finding::Half]);
        assert_eq!(s.score, 0.75);
        assert!(!s.passed());
        // Two marks on one defect count it once; a false alarm costs 0.25: (1 - 0.25)/2.
        let s = review.score(&[
            mark("src/cache.rs", 11, BlockingInAsync),
            mark("src/cache.rs", 12, LockAcrossAwait),
            mark("src/new.rs", 1, Other),
        ]);
        assert_eq!(s.findings, [Finding::Found, Finding::Missed]);
        assert_eq!(s.false_alarms, [2]);
        assert_eq!(s.score, 0.375);
        // Only false alarms: clamped at 0.
        let s = review.score(&[mark("src/new.rs", 1, Other)]);
        assert_eq!(s.score, 0.0);
        assert!(review.markable("src/cache.rs", 11));
        assert!(!review.markable("src/cache.rs", 13), "blank");
        assert!(!review.markable("src/cache.rs", 40));
    }

    #[test]
    fn the_taxonomy_ids_round_trip() {
        for category in DefectCategory::ALL {
            let json = serde_json::to_string(category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.id()));
            assert_eq!(
                serde_json::from_str::<DefectCategory>(&json).unwrap(),
                *category
            );
        }
    }

    /// The sample review: its key must point at real lines, and marking
    /// each defect's first line with its category must score 1.
    #[test]
    fn the_staged_sample_review_loads_and_its_key_scores_one() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("curriculum/async-fundamentals/exercises/review-supplier-quotes");
        let diff = std::fs::read_to_string(dir.join("pr.diff")).unwrap();
        let defects = std::fs::read_to_string(dir.join("defects.toml")).unwrap();
        let review = load(&dir, diff, &defects).unwrap();
        let changed: usize = review
            .files
            .iter()
            .flat_map(|f| &f.hunks)
            .flat_map(|h| &h.lines)
            .filter(|l| l.kind != LineKind::Context)
            .count();
        assert!((60..=150).contains(&changed), "{changed} changed lines");
        assert!((2..=3).contains(&review.defects.len()));
        let key: Vec<Mark> = review
            .defects
            .iter()
            .map(|d| mark(&d.file, d.lines[0], d.category))
            .collect();
        assert_eq!(review.score(&key).score, 1.0);
        // The bounded `try_send` is a decoy, not a defect: marking it is a false alarm.
        let mut with_decoy = key.clone();
        with_decoy.push(mark("src/quotes.rs", 73, DefectCategory::UnboundedQueue));
        let score = review.score(&with_decoy);
        assert_eq!(score.false_alarms, [3]);
        assert!(score.passed(), "{score:?}");
    }
}
