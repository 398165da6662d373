//! Reading `curriculum/` from disk into a validated [`Programme`].

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::rubric::Rubric;
use super::{
    Difficulty, Exercise, ExerciseKind, GivenTests, Item, LearnerTests, Lesson, LimitOverrides,
    Module, Mutant, Programme, Work, checks, markdown, review, test_fns,
};

/// A problem in the content, located as precisely as possible.
#[derive(Debug)]
pub struct ContentError {
    /// The offending file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ContentError {}

pub(super) fn error(path: &Path, line: Option<usize>, message: impl Into<String>) -> ContentError {
    ContentError {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgrammeFile {
    title: String,
    summary: String,
    modules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleFile {
    id: String,
    title: String,
    summary: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFrontMatter {
    id: String,
    title: String,
    summary: String,
    order: i64,
    minutes: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExerciseFile {
    id: String,
    title: String,
    summary: String,
    order: i64,
    kind: ExerciseKind,
    difficulty: Difficulty,
    minutes: u32,
    hints: Vec<String>,
    #[serde(rename = "crate")]
    crate_name: Option<String>,
    #[serde(default)]
    cfg: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    allow_unsafe: bool,
    #[serde(default)]
    limits: LimitOverrides,
}

/// Loads, validates and renders the programme in `root`.
pub fn load(root: &Path) -> Result<Programme, ContentError> {
    let programme_path = root.join("programme.toml");
    let programme: ProgrammeFile = parse_toml(&programme_path, &read(&programme_path)?, 0)?;
    let mut modules = Vec::new();
    let mut exercise_ids = HashSet::new();
    for (index, module_id) in programme.modules.iter().enumerate() {
        let module = load_module(&root.join(module_id), index + 1)?;
        if &module.id != module_id {
            return Err(error(
                &root.join(module_id).join("module.toml"),
                None,
                format!(
                    "id {:?} does not match its folder name {module_id:?}",
                    module.id
                ),
            ));
        }
        for exercise in module.exercises() {
            if !exercise_ids.insert(exercise.id.clone()) {
                return Err(error(
                    &exercise.dir,
                    None,
                    format!("exercise id {:?} is used twice", exercise.id),
                ));
            }
        }
        modules.push(module);
    }
    if modules.is_empty() {
        return Err(error(
            &programme_path,
            None,
            "the programme lists no modules",
        ));
    }
    Ok(Programme {
        title: programme.title,
        summary: programme.summary,
        modules,
    })
}

/// Loads and validates only the exercise `id` of the programme in `root`,
/// to grade it: no lesson is read, and no prose rendered (its statement and
/// discussion HTML are left empty: highlighting code starts a parser whose
/// set-up alone cost `lockstep grade` a tenth of a second). `None` when no
/// module has it.
pub fn load_exercise_by_id(root: &Path, id: &str) -> Result<Option<Exercise>, ContentError> {
    let programme_path = root.join("programme.toml");
    let programme: ProgrammeFile = parse_toml(&programme_path, &read(&programme_path)?, 0)?;
    for module_id in &programme.modules {
        let dir = root.join(module_id).join("exercises").join(id);
        // An id is a plain name: never a path out of the exercises folder.
        if check_id(&dir, id).is_ok() && dir.is_dir() {
            return load_exercise(&dir, module_id, Prose::Skip).map(|(_, exercise)| Some(exercise));
        }
    }
    Ok(None)
}

fn load_module(dir: &Path, number: usize) -> Result<Module, ContentError> {
    let meta_path = dir.join("module.toml");
    let meta: ModuleFile = parse_toml(&meta_path, &read(&meta_path)?, 0)?;
    check_id(&meta_path, &meta.id)?;
    let mut ordered: Vec<(i64, Item)> = Vec::new();

    let mut lesson_ids = HashSet::new();
    for path in sorted_entries(&dir.join("lessons"), |p| {
        p.extension().is_some_and(|e| e == "md")
    })? {
        let (order, lesson) = load_lesson(&path, &meta.id)?;
        if !lesson_ids.insert(lesson.id.clone()) {
            return Err(error(
                &path,
                None,
                format!("lesson id {:?} is used twice in this module", lesson.id),
            ));
        }
        ordered.push((order, Item::Lesson(lesson)));
    }
    // A concept check is read with its lesson; one beside no lesson is a typo.
    for path in sorted_entries(&dir.join("lessons"), |p| {
        p.to_str().is_some_and(|p| p.ends_with(".checks.toml"))
    })? {
        let lesson = path.with_extension("").with_extension("md");
        if !lesson.exists() {
            return Err(error(
                &path,
                None,
                format!(
                    "there is no lesson {} for these concept checks",
                    lesson.display()
                ),
            ));
        }
    }
    let exercises_dir = dir.join("exercises");
    if exercises_dir.exists() {
        for path in sorted_entries(&exercises_dir, |p| p.is_dir())? {
            let (order, exercise) = load_exercise(&path, &meta.id, Prose::Render)?;
            ordered.push((order, Item::Exercise(Box::new(exercise))));
        }
    }
    if ordered.is_empty() {
        return Err(error(dir, None, "the module has no lessons or exercises"));
    }
    ordered.sort_by_key(|(order, _)| *order);
    Ok(Module {
        id: meta.id,
        title: meta.title,
        summary: meta.summary,
        number,
        items: ordered.into_iter().map(|(_, item)| item).collect(),
    })
}

fn load_lesson(path: &Path, module_id: &str) -> Result<(i64, Lesson), ContentError> {
    let text = read(path)?;
    let (front, body, body_line) = split_front_matter(path, &text)?;
    let meta: LessonFrontMatter = parse_toml(path, front, 1)?;
    check_id(path, &meta.id)?;
    let rendered = markdown::render(body);
    if let Some(index) = rendered
        .examples
        .iter()
        .position(|e| e.expected_output.is_none())
    {
        let line = body_line + line_of_example(body, index);
        return Err(error(
            path,
            Some(line),
            "a rust,runnable block must be followed by an ```output block",
        ));
    }
    // `10-x.md`'s concept check is `10-x.checks.toml` beside it.
    let checks_path = path.with_extension("checks.toml");
    let checks = if checks_path.exists() {
        checks::load(&checks_path, &read(&checks_path)?)?
    } else {
        Vec::new()
    };
    Ok((
        meta.order,
        Lesson {
            id: meta.id,
            module_id: module_id.to_string(),
            title: meta.title,
            summary: meta.summary,
            minutes: meta.minutes,
            html: rendered.html,
            examples: rendered.examples,
            checks,
            path: path.to_path_buf(),
        },
    ))
}

/// Whether an exercise's statement and discussion are rendered to HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prose {
    Render,
    Skip,
}

fn load_exercise(
    dir: &Path,
    module_id: &str,
    prose: Prose,
) -> Result<(i64, Exercise), ContentError> {
    let meta_path = dir.join("exercise.toml");
    let meta: ExerciseFile = parse_toml(&meta_path, &read(&meta_path)?, 0)?;
    check_id(&meta_path, &meta.id)?;
    if dir.file_name().and_then(|n| n.to_str()) != Some(meta.id.as_str()) {
        return Err(error(
            &meta_path,
            None,
            format!("id {:?} does not match its folder name", meta.id),
        ));
    }
    if meta.hints.is_empty() {
        return Err(error(
            &meta_path,
            None,
            "an exercise needs at least one hint",
        ));
    }
    let crate_name = meta.crate_name.unwrap_or_else(|| meta.id.replace('-', "_"));
    if !crate_name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(error(
            &meta_path,
            None,
            format!("crate name {crate_name:?} is not a valid identifier"),
        ));
    }
    let read_opt = |name: &str| -> Result<String, ContentError> {
        let path = dir.join(name);
        if path.exists() {
            read(&path)
        } else {
            Ok(String::new())
        }
    };
    let render = |markdown: &str| match prose {
        Prose::Render => markdown::render(markdown).html,
        Prose::Skip => String::new(),
    };
    let statement_markdown = read(&dir.join("statement.md"))?;
    let statement_html = render(&statement_markdown);
    let discussion = read_opt("discussion.md")?;
    // Written work starts from a markdown template and has no reference
    // solution; a review starts from no marks, and its key is `defects.toml`.
    let (starter, solution) = match meta.kind {
        ExerciseKind::Written => (read(&dir.join("template.md"))?, String::new()),
        ExerciseKind::Review => (String::new(), String::new()),
        _ => (
            read(&dir.join("starter.rs"))?,
            read(&dir.join("solution.rs"))?,
        ),
    };
    let work = match meta.kind {
        ExerciseKind::Implement | ExerciseKind::Fix => {
            let visible_path = dir.join("tests/visible.rs");
            let hidden_path = dir.join("tests/hidden.rs");
            let visible = read(&visible_path)?;
            let hidden = read(&hidden_path)?;
            check_test_count(&visible_path, &visible, MIN_VISIBLE_TESTS, "visible")?;
            check_test_count(&hidden_path, &hidden, MIN_HIDDEN_TESTS, "hidden")?;
            Work::GivenTests(GivenTests { visible, hidden })
        }
        ExerciseKind::Tests => {
            let mut mutants = Vec::new();
            for path in sorted_entries(&dir.join("mutants"), |p| {
                p.extension().is_some_and(|e| e == "rs")
            })? {
                let code = read(&path)?;
                let description = code
                    .lines()
                    .next()
                    .and_then(|line| line.strip_prefix("//!"))
                    .map(|line| line.trim().to_string())
                    .ok_or_else(|| {
                        error(
                            &path,
                            Some(1),
                            "a mutant starts with a `//! what is wrong` line",
                        )
                    })?;
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                mutants.push(Mutant {
                    name,
                    description,
                    code,
                });
            }
            if mutants.len() < MIN_MUTANTS {
                return Err(error(
                    &dir.join("mutants"),
                    None,
                    format!(
                        "a `tests` exercise needs at least {MIN_MUTANTS} mutants/*.rs, found {}",
                        mutants.len()
                    ),
                ));
            }
            Work::LearnerTests(LearnerTests {
                implementation: read(&dir.join("implementation.rs"))?,
                mutants,
            })
        }
        ExerciseKind::Written => {
            let path = dir.join("rubric.toml");
            Work::Written(Rubric::load(&path, &read(&path)?)?)
        }
        ExerciseKind::Review => {
            let diff = read(&dir.join("pr.diff"))?;
            let defects = read(&dir.join("defects.toml"))?;
            Work::Review(review::load(dir, diff, &defects)?)
        }
    };
    let content_hash = hash_dir(dir)?;
    Ok((
        meta.order,
        Exercise {
            id: meta.id,
            module_id: module_id.to_string(),
            title: meta.title,
            summary: meta.summary,
            kind: meta.kind,
            difficulty: meta.difficulty,
            minutes: meta.minutes,
            hints: meta.hints,
            crate_name,
            cfg: meta.cfg,
            env: meta.env,
            allow_unsafe: meta.allow_unsafe,
            limits: meta.limits,
            statement: statement_markdown,
            statement_html,
            discussion_html: (!discussion.is_empty()).then(|| render(&discussion)),
            starter,
            solution,
            work,
            content_hash,
            dir: dir.to_path_buf(),
        },
    ))
}

/// What `curriculum/README.md` promises of every `implement` and `fix`
/// exercise, and of every `tests` exercise.
const MIN_VISIBLE_TESTS: usize = 3;
const MIN_HIDDEN_TESTS: usize = 2;
const MIN_MUTANTS: usize = 2;

/// Fails unless the test file at `path` holds at least `minimum` test
/// functions; the error points at the last one found (or the first line)
/// and names every one, so the author sees what was counted.
fn check_test_count(
    path: &Path,
    source: &str,
    minimum: usize,
    which: &str,
) -> Result<(), ContentError> {
    let tests = test_fns::test_functions(source);
    if tests.len() >= minimum {
        return Ok(());
    }
    let found = if tests.is_empty() {
        "none".to_string()
    } else {
        tests
            .iter()
            .map(|test| format!("`{}` (line {})", test.name, test.line))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(error(
        path,
        Some(tests.last().map_or(1, |test| test.line)),
        format!(
            "an exercise needs at least {minimum} {which} tests (`#[test]` or `#[tokio::test]` \
             functions, not `#[ignore]`d); found {}: {found}",
            tests.len()
        ),
    ))
}

/// Splits `+++`-delimited TOML front matter from the body; returns the body's first line number.
fn split_front_matter<'a>(
    path: &Path,
    text: &'a str,
) -> Result<(&'a str, &'a str, usize), ContentError> {
    let rest = text
        .strip_prefix("+++\n")
        .ok_or_else(|| error(path, Some(1), "a lesson starts with +++ front matter"))?;
    let end = rest
        .find("\n+++\n")
        .map(|i| i + 1)
        .or_else(|| rest.strip_suffix("\n+++").map(|r| r.len() + 1))
        .ok_or_else(|| {
            error(
                path,
                Some(1),
                "the front matter is not closed with a +++ line",
            )
        })?;
    let front = &rest[..end];
    let body = rest.get(end + 4..).unwrap_or("");
    let body_line = 2 + front.lines().count() + 1;
    Ok((front, body, body_line))
}

fn line_of_example(body: &str, index: usize) -> usize {
    body.lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with("```rust,runnable"))
        .nth(index)
        .map_or(0, |(n, _)| n)
}

pub(super) fn parse_toml<T: for<'de> Deserialize<'de>>(
    path: &Path,
    text: &str,
    first_line: usize,
) -> Result<T, ContentError> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| first_line + 1 + text[..span.start.min(text.len())].matches('\n').count());
        error(path, line, e.message().to_string())
    })
}

pub(super) fn check_id(path: &Path, id: &str) -> Result<(), ContentError> {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(error(
            path,
            None,
            format!("id {id:?} must be lower-case letters, digits and dashes"),
        ))
    }
}

fn read(path: &Path) -> Result<String, ContentError> {
    fs::read_to_string(path).map_err(|e| error(path, None, format!("cannot read: {e}")))
}

fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, ContentError> {
    let entries =
        fs::read_dir(dir).map_err(|e| error(dir, None, format!("cannot read the folder: {e}")))?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| keep(p))
        .collect();
    paths.sort();
    Ok(paths)
}

/// A stable hash of every file under `dir` (relative paths and contents).
fn hash_dir(dir: &Path) -> Result<String, ContentError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        hasher.update(relative.as_os_str().as_encoded_bytes());
        hasher.update([0]);
        hasher
            .update(fs::read(&file).map_err(|e| error(&file, None, format!("cannot read: {e}")))?);
        hasher.update([0]);
    }
    Ok(hasher.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ContentError> {
    for entry in fs::read_dir(dir)
        .map_err(|e| error(dir, None, format!("cannot read the folder: {e}")))?
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_errors_name_the_line() {
        let text =
            "+++\nid = \"a\"\ntitle = \"A\"\nsummary = 3\norder = 1\nminutes = 5\n+++\nbody\n";
        let (front, _, _) = split_front_matter(Path::new("x.md"), text).unwrap();
        let err = parse_toml::<LessonFrontMatter>(Path::new("x.md"), front, 1)
            .err()
            .unwrap();
        assert_eq!(err.line, Some(4), "{err}");
    }

    /// A programme of one module holding one exercise of `kind` with `files`
    /// (path, text) besides its `exercise.toml` and statement, in a fresh folder.
    fn programme_with_exercise(kind: &str, files: &[(&str, &str)]) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("lockstep-load-{}", uuid::Uuid::new_v4().simple()));
        let exercise = root.join("m/exercises/ex");
        let mut all = vec![
            (
                "programme.toml".to_string(),
                "title = \"P\"\nsummary = \"S\"\nmodules = [\"m\"]\n".to_string(),
            ),
            (
                "m/module.toml".to_string(),
                "id = \"m\"\ntitle = \"M\"\nsummary = \"S\"\n".to_string(),
            ),
            (
                "m/exercises/ex/exercise.toml".to_string(),
                format!(
                    "id = \"ex\"\ntitle = \"E\"\nsummary = \"S\"\norder = 1\nkind = \"{kind}\"\n\
                     difficulty = \"easy\"\nminutes = 5\nhints = [\"h\"]\n"
                ),
            ),
            (
                "m/exercises/ex/statement.md".to_string(),
                "Do it.\n".to_string(),
            ),
            ("m/exercises/ex/starter.rs".to_string(), "\n".to_string()),
            ("m/exercises/ex/solution.rs".to_string(), "\n".to_string()),
        ];
        all.extend(
            files
                .iter()
                .map(|(path, text)| (format!("m/exercises/ex/{path}"), text.to_string())),
        );
        for (path, text) in all {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        fs::create_dir_all(root.join("m/lessons")).unwrap();
        assert!(exercise.is_dir());
        root
    }

    fn tests_file(names: &[&str]) -> String {
        let mut source = String::from("use ex::*;\n");
        for name in names {
            source.push_str(&format!("\n#[test]\nfn {name}() {{}}\n"));
        }
        source
    }

    #[test]
    fn an_exercise_with_enough_tests_loads() {
        let root = programme_with_exercise(
            "implement",
            &[
                ("tests/visible.rs", &tests_file(&["a", "b", "c"])),
                ("tests/hidden.rs", &tests_file(&["d", "e"])),
            ],
        );
        let programme = load(&root);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(programme.unwrap().exercises().count(), 1);
    }

    #[test]
    fn one_visible_test_is_an_error_at_that_test() {
        let root = programme_with_exercise(
            "fix",
            &[
                ("tests/visible.rs", &tests_file(&["only"])),
                ("tests/hidden.rs", &tests_file(&["d", "e"])),
            ],
        );
        let err = load(&root).expect_err("too few visible tests");
        fs::remove_dir_all(&root).unwrap();
        assert!(
            err.path.ends_with("m/exercises/ex/tests/visible.rs"),
            "{err}"
        );
        assert_eq!(err.line, Some(3), "{err}");
        assert!(
            err.message
                .contains("at least 3 visible tests (`#[test]` or `#[tokio::test]`"),
            "{err}"
        );
        assert!(err.message.contains("found 1: `only` (line 3)"), "{err}");
    }

    #[test]
    fn an_empty_hidden_file_is_an_error() {
        let root = programme_with_exercise(
            "implement",
            &[
                ("tests/visible.rs", &tests_file(&["a", "b", "c"])),
                (
                    "tests/hidden.rs",
                    "use ex::*;\n// #[test] fn not_yet() {}\n",
                ),
            ],
        );
        let err = load(&root).expect_err("no hidden tests");
        fs::remove_dir_all(&root).unwrap();
        assert!(err.path.ends_with("tests/hidden.rs"), "{err}");
        assert_eq!(err.line, Some(1));
        assert!(
            err.to_string()
                .ends_with("tests/hidden.rs:1: an exercise needs at least 2 hidden tests (`#[test]` or `#[tokio::test]` functions, not `#[ignore]`d); found 0: none"),
            "{err}"
        );
    }

    #[test]
    fn a_tests_exercise_needs_two_mutants() {
        let root = programme_with_exercise(
            "tests",
            &[
                ("implementation.rs", "pub fn f() {}\n"),
                (
                    "mutants/wrong.rs",
                    "//! does the wrong thing\npub fn f() {}\n",
                ),
            ],
        );
        let err = load(&root).expect_err("one mutant is too few");
        fs::remove_dir_all(&root).unwrap();
        assert!(err.path.ends_with("m/exercises/ex/mutants"), "{err}");
        assert!(err.message.contains("at least 2 mutants"), "{err}");
        assert!(err.message.contains("found 1"), "{err}");
    }

    const RUBRIC: &str = "pass_points = 3\n\
        [[criterion]]\nid = \"context\"\ntitle = \"Context\"\n\
        [[criterion.level]]\npoints = 0\ndescription = \"none\"\n\
        [[criterion.level]]\npoints = 2\ndescription = \"named\"\n\
        [[criterion]]\nid = \"options\"\ntitle = \"Options\"\n\
        [[criterion.level]]\npoints = 0\ndescription = \"none\"\n\
        [[criterion.level]]\npoints = 2\ndescription = \"weighed\"\n";

    #[test]
    fn a_written_exercise_starts_from_its_template_and_carries_its_rubric() {
        let root = programme_with_exercise(
            "written",
            &[
                ("template.md", "# Note\n\n## Context\n"),
                ("rubric.toml", RUBRIC),
            ],
        );
        let programme = load(&root);
        fs::remove_dir_all(&root).unwrap();
        let programme = programme.unwrap();
        let exercise = programme.exercises().next().unwrap();
        assert_eq!(exercise.kind, ExerciseKind::Written);
        assert_eq!(exercise.starter, "# Note\n\n## Context\n");
        assert!(!exercise.runs_code());
        assert_eq!(exercise.rubric().unwrap().max_points(), 4);
        assert_eq!(exercise.visible_tests(), None);
    }

    #[test]
    fn a_written_exercise_with_a_bad_rubric_names_the_rubric() {
        let unreachable = RUBRIC.replace("pass_points = 3", "pass_points = 5");
        let one_level = RUBRIC.replace(
            "[[criterion.level]]\npoints = 2\ndescription = \"weighed\"\n",
            "",
        );
        let duplicate = RUBRIC.replace("id = \"options\"", "id = \"context\"");
        let descending = RUBRIC.replace(
            "points = 2\ndescription = \"named\"",
            "points = 0\ndescription = \"named\"",
        );
        for (rubric, expected) in [
            (unreachable.as_str(), "pass_points = 5 cannot be reached"),
            (
                one_level.as_str(),
                "criterion \"options\" needs 2 to 4 levels, found 1",
            ),
            (duplicate.as_str(), "criterion id \"context\" is used twice"),
            (descending.as_str(), "ascending points, but 0 follows 0"),
            ("pass_points = 1\n", "missing field `criterion`"),
        ] {
            let root = programme_with_exercise(
                "written",
                &[("template.md", "# Note\n"), ("rubric.toml", rubric)],
            );
            let err = load(&root).expect_err(expected);
            fs::remove_dir_all(&root).unwrap();
            assert!(err.path.ends_with("m/exercises/ex/rubric.toml"), "{err}");
            assert!(err.message.contains(expected), "{err}");
        }
    }

    #[test]
    fn a_written_exercise_needs_a_template() {
        let root = programme_with_exercise("written", &[("rubric.toml", RUBRIC)]);
        let err = load(&root).expect_err("no template.md");
        fs::remove_dir_all(&root).unwrap();
        assert!(err.path.ends_with("m/exercises/ex/template.md"), "{err}");
    }

    /// A programme of one module with one lesson and, when given, its
    /// concept check `checks` (written as `<lesson>.checks.toml`, or under
    /// `checks_name`).
    fn programme_with_lesson(checks_name: &str, checks: &str) -> PathBuf {
        let root = programme_with_exercise(
            "implement",
            &[
                ("tests/visible.rs", &tests_file(&["a", "b", "c"])),
                ("tests/hidden.rs", &tests_file(&["d", "e"])),
            ],
        );
        fs::write(
            root.join("m/lessons/10-l.md"),
            "+++\nid = \"l\"\ntitle = \"L\"\nsummary = \"S\"\norder = 1\nminutes = 5\n+++\nText.\n",
        )
        .unwrap();
        fs::write(root.join("m/lessons").join(checks_name), checks).unwrap();
        root
    }

    const CHOICE: &str = "[[question]]\nid = \"q\"\nkind = \"choice\"\nprompt = \"P\"\n\
                          explanation = \"E\"\noptions = [\"x\", \"y\"]\nanswer = [1]\n";

    #[test]
    fn a_lesson_loads_its_concept_check() {
        let checks = [
            CHOICE,
            &CHOICE.replace("\"q\"", "\"r\""),
            &CHOICE.replace("\"q\"", "\"s\""),
        ]
        .concat();
        let root = programme_with_lesson("10-l.checks.toml", &checks);
        let programme = load(&root);
        fs::remove_dir_all(&root).unwrap();
        let programme = programme.unwrap();
        let lesson = programme.lesson("m", "l").unwrap();
        let ids: Vec<&str> = lesson.checks.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["q", "r", "s"]);
    }

    #[test]
    fn a_bad_concept_check_is_an_error_naming_its_file() {
        let checks = [CHOICE, CHOICE, CHOICE].concat();
        let root = programme_with_lesson("10-l.checks.toml", &checks);
        let err = load(&root).expect_err("a duplicate id");
        fs::remove_dir_all(&root).unwrap();
        assert!(err.path.ends_with("m/lessons/10-l.checks.toml"), "{err}");
        assert!(
            err.message
                .contains("question 2 (\"q\"): the id is used twice"),
            "{err}"
        );

        let root = programme_with_lesson("10-l.checks.toml", "[[question]]\nid = \"q\"\n");
        let err = load(&root).expect_err("missing fields");
        fs::remove_dir_all(&root).unwrap();
        assert!(err.path.ends_with("m/lessons/10-l.checks.toml"), "{err}");
        assert!(err.message.contains("missing field"), "{err}");
    }

    #[test]
    fn a_concept_check_without_its_lesson_is_an_error() {
        let root = programme_with_lesson("20-typo.checks.toml", CHOICE);
        let err = load(&root).expect_err("no lesson 20-typo.md");
        fs::remove_dir_all(&root).unwrap();
        assert!(err.path.ends_with("m/lessons/20-typo.checks.toml"), "{err}");
        assert!(err.message.contains("there is no lesson"), "{err}");
    }

    #[test]
    fn missing_front_matter_is_an_error_not_a_panic() {
        let err = split_front_matter(Path::new("x.md"), "# no front matter")
            .err()
            .unwrap();
        assert!(err.to_string().contains("x.md:1"));
    }
}
