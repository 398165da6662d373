//! Concept checks: the 3–5 questions at the end of a lesson, read from the
//! optional `<lesson>.checks.toml` beside it (format in
//! `curriculum/README.md`, "Concept checks").
//!
//! Parsing validates everything an author can get wrong — kinds, option
//! counts, answer indices, line numbers, unique ids — so a [`Question`]
//! that exists is one the server can grade. What is shown to the learner
//! ([`Question::prompt_html`], [`Question::options_html`], the program or
//! the numbered lines) is kept apart from the key ([`Question::answer`],
//! [`Question::explanation_html`]), which only [`Question::grade`]'s caller
//! sends, after an attempt.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::highlight::highlight;
use super::load::{ContentError, check_id, error, parse_toml};
use super::markdown;

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// Single choice: exactly one option is right.
    Choice,
    /// Multiple choice: one or more options are right, all must be picked.
    Multi,
    /// Predict the output: the option the program prints is right.
    Predict,
    /// Pick the line: any one of the right lines counts.
    Line,
}

impl QuestionKind {
    /// The kind as written in the file (and in the page's `data-kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Choice => "choice",
            QuestionKind::Multi => "multi",
            QuestionKind::Predict => "predict",
            QuestionKind::Line => "line",
        }
    }
}

/// One question of a lesson's concept check, validated.
#[derive(Debug)]
pub struct Question {
    /// Unique within the lesson; attempts are recorded under it.
    pub id: String,
    /// How it is answered.
    pub kind: QuestionKind,
    /// The question, rendered.
    pub prompt_html: String,
    /// Choices as written (for `predict`: the candidate outputs, verbatim).
    pub options: Vec<String>,
    /// Choices rendered for the page (markdown; `predict` outputs as preformatted text).
    pub options_html: Vec<String>,
    /// `predict`: the whole runnable program.
    pub program: Option<String>,
    /// `predict`: the program, highlighted.
    pub program_html: Option<String>,
    /// `line`: the code's lines, each highlighted (line `n` is `code_lines_html[n - 1]`).
    pub code_lines_html: Vec<String>,
    /// The key: 0-based option indices, or 1-based line numbers for `line`.
    pub answer: Vec<usize>,
    /// Why the answer is right, rendered; sent only after an attempt.
    pub explanation_html: String,
}

/// A learner's answer that does not fit the question (not a wrong answer:
/// one that cannot be graded at all).
#[derive(Debug, PartialEq, Eq)]
pub struct UnfitAnswer(pub String);

impl Question {
    /// Whether `picked` (option indices, or one line number for `line`) is
    /// right. A multiple choice is right when exactly the right options are
    /// picked; a line question when the line is one of the right ones.
    pub fn grade(&self, picked: &[usize]) -> Result<bool, UnfitAnswer> {
        let distinct: HashSet<usize> = picked.iter().copied().collect();
        if distinct.len() != picked.len() {
            return Err(UnfitAnswer("an answer lists the same choice twice".into()));
        }
        match self.kind {
            QuestionKind::Line => {
                let [line] = picked else {
                    return Err(UnfitAnswer("pick exactly one line".into()));
                };
                if *line == 0 || *line > self.code_lines_html.len() {
                    return Err(UnfitAnswer(format!(
                        "line {line} is not a line of the code (1–{})",
                        self.code_lines_html.len()
                    )));
                }
                Ok(self.answer.contains(line))
            }
            QuestionKind::Choice | QuestionKind::Predict | QuestionKind::Multi => {
                if let Some(bad) = picked.iter().find(|&&i| i >= self.options.len()) {
                    return Err(UnfitAnswer(format!(
                        "there is no option {bad} (options are 0–{})",
                        self.options.len() - 1
                    )));
                }
                if self.kind != QuestionKind::Multi && picked.len() != 1 {
                    return Err(UnfitAnswer("pick exactly one option".into()));
                }
                if picked.is_empty() {
                    return Err(UnfitAnswer("pick at least one option".into()));
                }
                let right: HashSet<usize> = self.answer.iter().copied().collect();
                Ok(distinct == right)
            }
        }
    }

    /// `predict`: what is wrong with the key, given what the program
    /// really printed (`None` when options[answer] is exactly the output,
    /// trailing whitespace trimmed, and no other option is).
    pub fn predict_problem(&self, stdout: &str) -> Option<String> {
        let printed = stdout.trim_end();
        let matching: Vec<usize> = (0..self.options.len())
            .filter(|&i| self.options[i].trim_end() == printed)
            .collect();
        let answer = self.answer.first().copied().unwrap_or_default();
        match matching.as_slice() {
            [only] if *only == answer => None,
            [] => Some(format!(
                "the program printed:\n{printed}\nwhich is none of the options (the key says option {answer}:\n{})",
                self.options[answer].trim_end()
            )),
            _ if !matching.contains(&answer) => Some(format!(
                "the program printed option {}, not option {answer} as the key says:\n{printed}",
                matching
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
            _ => Some(format!(
                "options {matching:?} are all what the program prints:\n{printed}"
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    question: Vec<QuestionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    id: String,
    kind: QuestionKind,
    prompt: String,
    explanation: String,
    #[serde(default)]
    options: Vec<String>,
    answer: Vec<i64>,
    program: Option<String>,
    code: Option<String>,
}

/// Questions per lesson, as the format promises.
const MIN_QUESTIONS: usize = 3;
const MAX_QUESTIONS: usize = 5;

/// Reads the concept check at `path` (a `<lesson>.checks.toml`); every
/// problem is a [`ContentError`] naming the file and, where it can, the
/// question.
pub fn load(path: &Path, text: &str) -> Result<Vec<Question>, ContentError> {
    let file: ChecksFile = parse_toml(path, text, 0)?;
    let count = file.question.len();
    if !(MIN_QUESTIONS..=MAX_QUESTIONS).contains(&count) {
        return Err(error(
            path,
            None,
            format!(
                "a concept check has {MIN_QUESTIONS}–{MAX_QUESTIONS} [[question]]s, found {count}"
            ),
        ));
    }
    let mut ids = HashSet::new();
    let mut questions = Vec::with_capacity(count);
    for (index, raw) in file.question.into_iter().enumerate() {
        let id = raw.id.clone();
        let at = |message: String| {
            error(
                path,
                None,
                format!("question {} ({id:?}): {message}", index + 1),
            )
        };
        check_id(path, &raw.id)?;
        if !ids.insert(raw.id.clone()) {
            return Err(at("the id is used twice in this lesson".into()));
        }
        if raw.prompt.trim().is_empty() || raw.explanation.trim().is_empty() {
            return Err(at("needs a prompt and an explanation".into()));
        }
        questions.push(question(raw).map_err(at)?);
    }
    Ok(questions)
}

/// Validates one question's kind-specific fields and renders it.
fn question(raw: QuestionFile) -> Result<Question, String> {
    let answer: Vec<usize> = raw
        .answer
        .iter()
        .map(|&a| usize::try_from(a).map_err(|_| format!("answer {a} is negative")))
        .collect::<Result<_, _>>()?;
    if answer.is_empty() {
        return Err("`answer` names no right option or line".into());
    }
    if answer.iter().collect::<HashSet<_>>().len() != answer.len() {
        return Err("`answer` lists the same entry twice".into());
    }
    let mut program = None;
    let mut program_html = None;
    let mut code_lines_html = Vec::new();
    let options_html;
    match raw.kind {
        QuestionKind::Choice | QuestionKind::Multi | QuestionKind::Predict => {
            if raw.code.is_some() {
                return Err(format!(
                    "`code` belongs to kind \"line\", not {:?}",
                    raw.kind.as_str()
                ));
            }
            let (low, high) = if raw.kind == QuestionKind::Predict {
                (2, 5)
            } else {
                (2, 6)
            };
            if !(low..=high).contains(&raw.options.len()) {
                return Err(format!(
                    "kind {:?} has {low}–{high} options, found {}",
                    raw.kind.as_str(),
                    raw.options.len()
                ));
            }
            if let Some(bad) = answer.iter().find(|&&a| a >= raw.options.len()) {
                return Err(format!(
                    "answer {bad} is not an option index (0–{})",
                    raw.options.len() - 1
                ));
            }
            if raw.kind != QuestionKind::Multi && answer.len() != 1 {
                return Err(format!(
                    "kind {:?} has exactly one right option, `answer` names {}",
                    raw.kind.as_str(),
                    answer.len()
                ));
            }
            if raw.kind == QuestionKind::Predict {
                let source = raw
                    .program
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .ok_or("kind \"predict\" needs a `program`")?;
                if !source.contains("fn main") {
                    return Err("a `program` is a whole program with `fn main`".into());
                }
                program_html = Some(highlight("rust", source));
                program = Some(source.to_string());
                options_html = raw.options.iter().map(|o| markdown::escape(o)).collect();
            } else {
                if raw.program.is_some() {
                    return Err(format!(
                        "`program` belongs to kind \"predict\", not {:?}",
                        raw.kind.as_str()
                    ));
                }
                options_html = raw.options.iter().map(|o| inline_markdown(o)).collect();
            }
        }
        QuestionKind::Line => {
            if raw.program.is_some() || !raw.options.is_empty() {
                return Err("kind \"line\" has `code`, not `program` or `options`".into());
            }
            let code = raw
                .code
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .ok_or("kind \"line\" needs `code`")?;
            let lines: Vec<&str> = code.lines().collect();
            for &line in &answer {
                if line == 0 || line > lines.len() {
                    return Err(format!(
                        "answer line {line} is not a line of `code` (1–{})",
                        lines.len()
                    ));
                }
                if lines[line - 1].trim().is_empty() {
                    return Err(format!("answer line {line} is blank"));
                }
            }
            code_lines_html = highlighted_lines(code);
            options_html = Vec::new();
        }
    }
    Ok(Question {
        id: raw.id,
        kind: raw.kind,
        prompt_html: markdown::render(&raw.prompt).html,
        options: raw.options,
        options_html,
        program,
        program_html,
        code_lines_html,
        answer,
        explanation_html: markdown::render(&raw.explanation).html,
    })
}

/// Markdown for a short option: one paragraph is shown without its `<p>`.
fn inline_markdown(text: &str) -> String {
    let html = markdown::render(text).html;
    let trimmed = html.trim_end();
    match trimmed
        .strip_prefix("<p>")
        .and_then(|rest| rest.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

/// The code highlighted as a whole (so a construct spanning lines is
/// coloured right), then cut into lines: a span open at a line's end is
/// closed there and reopened on the next line, so every line is whole HTML.
pub fn highlighted_lines(code: &str) -> Vec<String> {
    let html = highlight("rust", code.trim_end_matches('\n'));
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html.as_str();
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("<span") {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            open.push(&rest[..end]);
            current.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with("</span>") {
            open.pop();
            current.push_str("</span>");
            rest = &rest["</span>".len()..];
        } else if c == '\n' {
            current.push_str(&"</span>".repeat(open.len()));
            lines.push(std::mem::take(&mut current));
            current.push_str(&open.concat());
            rest = &rest[1..];
        } else {
            current.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    lines.push(current);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Vec<Question>, ContentError> {
        load(Path::new("l.checks.toml"), text)
    }

    const CHOICE: &str = "[[question]]\nid = \"a\"\nkind = \"choice\"\nprompt = \"P\"\n\
                          explanation = \"E\"\noptions = [\"x\", \"y\"]\nanswer = [1]\n";

    fn with(extra: &str) -> String {
        let b = CHOICE.replace("\"a\"", "\"b\"");
        format!("{CHOICE}{b}{extra}")
    }

    #[test]
    fn a_valid_check_loads_and_grades() {
        let line = "[[question]]\nid = \"l\"\nkind = \"line\"\nprompt = \"P\"\nexplanation = \"E\"\n\
                    code = '''\nlet g = m.lock();\n\nf().await;\n'''\nanswer = [3]\n";
        let questions = one(&with(line)).unwrap();
        assert_eq!(questions.len(), 3);
        assert_eq!(questions[0].grade(&[1]), Ok(true));
        assert_eq!(questions[0].grade(&[0]), Ok(false));
        assert!(questions[0].grade(&[0, 1]).is_err());
        assert!(questions[0].grade(&[2]).is_err());
        assert_eq!(questions[2].code_lines_html.len(), 3);
        assert_eq!(questions[2].grade(&[3]), Ok(true));
        assert_eq!(questions[2].grade(&[1]), Ok(false));
        assert!(questions[2].grade(&[4]).is_err());
    }

    #[test]
    fn multi_needs_exactly_the_right_set() {
        let multi = "[[question]]\nid = \"m\"\nkind = \"multi\"\nprompt = \"P\"\nexplanation = \"E\"\n\
                     options = [\"x\", \"y\", \"z\"]\nanswer = [0, 2]\n";
        let questions = one(&with(multi)).unwrap();
        assert_eq!(questions[2].grade(&[2, 0]), Ok(true));
        assert_eq!(questions[2].grade(&[0]), Ok(false));
        assert_eq!(questions[2].grade(&[0, 1, 2]), Ok(false));
        assert!(questions[2].grade(&[0, 0]).is_err());
    }

    fn error_of(extra: &str) -> String {
        one(&with(extra)).expect_err("invalid").to_string()
    }

    #[test]
    fn bad_checks_are_errors_naming_the_file_and_question() {
        let cases = [
            ("kind = \"essay\"", "unknown variant `essay`"),
            (
                "kind = \"choice\"\noptions = [\"x\"]\nanswer = [0]",
                "2–6 options, found 1",
            ),
            (
                "kind = \"choice\"\noptions = [\"x\", \"y\"]\nanswer = [2]",
                "answer 2 is not an option index (0–1)",
            ),
            (
                "kind = \"choice\"\noptions = [\"x\", \"y\"]\nanswer = [0, 1]",
                "exactly one right option",
            ),
            (
                "kind = \"predict\"\noptions = [\"x\", \"y\"]\nanswer = [0]",
                "needs a `program`",
            ),
            (
                "kind = \"predict\"\nprogram = \"fn main() {}\"\noptions = [\"x\", \"y\"]\nanswer = [0, 1]",
                "exactly one right option",
            ),
            (
                "kind = \"line\"\ncode = \"a\\nb\"\nanswer = [3]",
                "answer line 3 is not a line of `code` (1–2)",
            ),
            (
                "kind = \"line\"\ncode = \"a\\n\\nb\"\nanswer = [2]",
                "answer line 2 is blank",
            ),
            (
                "kind = \"multi\"\noptions = [\"x\", \"y\"]\nanswer = []",
                "names no right option",
            ),
        ];
        for (fields, expected) in cases {
            let extra = format!(
                "[[question]]\nid = \"c\"\nprompt = \"P\"\nexplanation = \"E\"\n{fields}\n"
            );
            let message = error_of(&extra);
            assert!(message.starts_with("l.checks.toml"), "{message}");
            assert!(message.contains(expected), "{fields}: {message}");
        }
    }

    #[test]
    fn ids_are_unique_and_counts_bounded() {
        let message = error_of(CHOICE);
        assert!(
            message.contains("question 3 (\"a\"): the id is used twice"),
            "{message}"
        );
        let message = one(CHOICE).expect_err("one question").to_string();
        assert!(message.contains("3–5 [[question]]s, found 1"), "{message}");
    }

    #[test]
    fn predict_key_must_be_exactly_one_option() {
        let predict = "[[question]]\nid = \"p\"\nkind = \"predict\"\nprompt = \"P\"\nexplanation = \"E\"\n\
                       program = \"fn main() {}\"\noptions = [\"a\\nb\", \"b\\na\", \"b\\na \"]\nanswer = [0]\n";
        let questions = one(&with(predict)).unwrap();
        let p = &questions[2];
        assert_eq!(p.predict_problem("a\nb\n"), None);
        assert!(
            p.predict_problem("c\n")
                .unwrap()
                .contains("none of the options")
        );
        // Options 1 and 2 are the same output once trailing whitespace goes.
        assert!(
            p.predict_problem("b\na\n")
                .unwrap()
                .contains("not option 0")
        );
    }

    #[test]
    fn lines_split_keeps_spans_whole() {
        let lines = highlighted_lines("/* a\nb */ let x = 1;\n");
        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert_eq!(
                line.matches("<span").count(),
                line.matches("</span>").count(),
                "{line}"
            );
        }
    }
}
