//! `lockstep learn`: the learner's command line. Work on an exercise in
//! your own editor — download it as a Cargo project, run its visible tests
//! with `cargo test`, submit from the terminal — against any Lockstep
//! server, with an API token made on its `/account` page.
//!
//! ```text
//! lockstep learn login --server https://lockstep.example.com
//! lockstep learn download countdown-future && cd countdown-future
//! cargo test                      # the visible tests, locally
//! lockstep learn submit           # graded on the server, printed like cargo test
//! lockstep learn status
//! ```
//!
//! The pieces: [`credentials`] (where the server and token are kept),
//! [`api`] (the JSON API, documented at `/api/openapi.json`), [`project`]
//! (the Cargo project a download writes and a submit reads back) and
//! [`report`] (a verdict printed the way `cargo test` prints).

pub mod api;
pub mod credentials;
pub mod project;
pub mod report;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use api::{Api, SavedDraft};
use credentials::Credentials;
use project::Project;

/// `lockstep learn …`
#[derive(Debug, Subcommand)]
pub enum LearnCommand {
    /// Keep a server's address and your API token (made on the server's /account page) for the other commands.
    Login {
        /// The server, e.g. https://lockstep.example.com (plain http only for this machine).
        #[arg(long)]
        server: String,
    },
    /// Write EXERCISE as a Cargo project: your latest draft (or the starter), the visible tests, the statement and the hints you revealed.
    Download {
        /// The exercise's id (see `lockstep learn status`).
        exercise: String,
        /// Where to write it (default: a new directory named after the exercise).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Overwrite an existing download there.
        #[arg(long)]
        force: bool,
    },
    /// Hand in the project's solution, follow the grading and print the verdict (exit 0 on a pass).
    Submit {
        /// The project (default: the one around the current directory).
        path: Option<PathBuf>,
        /// Run only the visible tests (nothing is recorded as a pass).
        #[arg(long)]
        visible: bool,
        /// Replace a newer draft on the server (saved from a browser since your download) without asking.
        #[arg(long)]
        force: bool,
    },
    /// The programme with your progress.
    Status,
    /// Reveal the next hint of EXERCISE (recorded, as on the web).
    Hint {
        /// The exercise's id.
        exercise: String,
    },
    /// Print the web address of EXERCISE.
    Open {
        /// The exercise's id.
        exercise: String,
    },
}

/// Exit code of a submission that did not pass (and of a refusal to go on).
const NOT_PASSED: u8 = 1;
/// How often a submission's state is read while it is graded, without events.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How long to wait for an event before re-reading the submission anyway.
const EVENT_PATIENCE: Duration = Duration::from_secs(2);
/// How long a submission may take before the command gives up waiting.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// Runs one `lockstep learn` command.
pub async fn run(command: LearnCommand) -> Result<ExitCode> {
    match command {
        LearnCommand::Login { server } => login(&server).await,
        LearnCommand::Download {
            exercise,
            dir,
            force,
        } => download(&exercise, dir, force).await,
        LearnCommand::Submit {
            path,
            visible,
            force,
        } => submit(path.as_deref(), visible, force).await,
        LearnCommand::Status => status().await,
        LearnCommand::Hint { exercise } => hint(&exercise).await,
        LearnCommand::Open { exercise } => {
            let credentials = Credentials::load()?;
            println!("{}", credentials.web_url(&format!("/exercises/{exercise}")));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `login --server URL`: reads the token (from `LOCKSTEP_TOKEN`, a prompt
/// on a terminal, or one line of stdin), checks it with the server and
/// keeps both in the config file, readable by the user only.
async fn login(server: &str) -> Result<ExitCode> {
    let server = credentials::parse_server(server)?;
    let token = match std::env::var(credentials::TOKEN_VARIABLE) {
        Ok(token) if !token.trim().is_empty() => token,
        _ if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("API token (make one on {server}/account): "))
                .context("cannot read the token")?
        }
        _ => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the token from stdin")?;
            line
        }
    };
    let credentials = Credentials {
        server,
        token: token.trim().to_string(),
    };
    credentials::check_token_shape(&credentials.token)?;
    let progress = Api::new(&credentials)?.progress().await?;
    let path = credentials.save()?;
    println!(
        "Signed in to {} as {}. Kept in {} (readable by you only).",
        credentials.server,
        progress.learner,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `download EXERCISE`: the exercise as a Cargo project.
async fn download(exercise: &str, dir: Option<PathBuf>, force: bool) -> Result<ExitCode> {
    let credentials = Credentials::load()?;
    let api = Api::new(&credentials)?;
    let workspace = api.workspace(exercise).await?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&workspace.id));
    let project = Project::write(&dir, &credentials.server, &workspace, force)?;
    println!(
        "Downloaded {} ({}) to {}",
        workspace.title,
        workspace.id,
        dir.display()
    );
    println!(
        "Edit {}, run `cargo test` there, then `lockstep learn submit`.",
        project.solution_file
    );
    Ok(ExitCode::SUCCESS)
}

/// `submit [PATH]`: syncs the draft (never silently over a newer one),
/// submits, follows the job and prints the verdict.
async fn submit(path: Option<&Path>, visible: bool, force: bool) -> Result<ExitCode> {
    let start = match path {
        Some(path) => path.to_path_buf(),
        None => std::env::current_dir()?,
    };
    let mut project = Project::find(&start)?;
    let credentials = Credentials::load()?;
    if credentials.server != project.server {
        bail!(
            "this project was downloaded from {}, but you are signed in to {} (LOCKSTEP_SERVER or `lockstep learn login`)",
            project.server,
            credentials.server
        );
    }
    let api = Api::new(&credentials)?;
    let code = project.read_solution()?;
    if !sync_draft(&api, &mut project, &code, force).await? {
        return Ok(ExitCode::from(NOT_PASSED));
    }
    let mode = if visible { "visible" } else { "submit" };
    // Live phases over server-sent events, opened before submitting so no
    // event is missed; without them (a proxy that buffers, say), polling.
    let mut events = api.events(WAIT_LIMIT).await.ok();
    let id = api.submit(&project.exercise, &code, mode).await?;
    eprintln!("Submitted {} (submission {id}).", project.exercise);
    let started = std::time::Instant::now();
    let mut last_state = String::new();
    let verdict = loop {
        let submission = api.submission(id).await?;
        let state = match (&submission.status[..], &submission.phase) {
            ("done", _) => String::new(),
            (_, Some(phase)) => phase.clone(),
            (status, None) => status.to_string(),
        };
        if let Some(verdict) = submission.verdict {
            break verdict;
        }
        if state != last_state {
            eprintln!("  {state}…");
            last_state = state;
        }
        if started.elapsed() > WAIT_LIMIT {
            bail!(
                "submission {id} is still {last_state} after {} s; see it at {}",
                WAIT_LIMIT.as_secs(),
                credentials.web_url(&format!("/exercises/{}", project.exercise))
            );
        }
        match events.as_mut() {
            // Re-read the submission at the next event about it (or
            // after a while: an event can be lost to a lagging stream).
            Some(stream) => {
                let ours = async {
                    loop {
                        match stream.next().await {
                            Ok(Some((kind, data))) if kind == "lagged" || data["id"] == id => {
                                return true;
                            }
                            Ok(Some(_)) => {}
                            Ok(None) | Err(_) => return false,
                        }
                    }
                };
                match tokio::time::timeout(EVENT_PATIENCE, ours).await {
                    Ok(true) | Err(_) => {}
                    Ok(false) => events = None,
                }
            }
            None => tokio::time::sleep(POLL_INTERVAL).await,
        }
    };
    let passed = report::print(&verdict, &project, &mut std::io::stdout().lock())?;
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(NOT_PASSED)
    })
}

/// Makes the server's draft the local file, with the draft API's
/// optimistic locking: a draft saved elsewhere (a browser) since the
/// download is replaced only when the learner says so. `false` when they
/// did not (nothing was changed).
async fn sync_draft(api: &Api, project: &mut Project, code: &str, force: bool) -> Result<bool> {
    let mut based_on = project.draft_version;
    loop {
        match api.save_draft(&project.exercise, code, based_on).await? {
            SavedDraft::Saved(version) => {
                project.remember_draft_version(version)?;
                return Ok(true);
            }
            SavedDraft::Stale(newer) if newer.code == code => {
                // The same code was saved elsewhere: nothing to overwrite.
                project.remember_draft_version(newer.version)?;
                return Ok(true);
            }
            SavedDraft::Stale(newer) => {
                let when = newer.updated_at.as_deref().unwrap_or("recently");
                eprintln!(
                    "The draft of {} on the server is newer than your download: version {} (saved {when}, e.g. in a browser), yours was based on version {}.",
                    project.exercise, newer.version, based_on
                );
                let replace = if force {
                    true
                } else if std::io::stdin().is_terminal() {
                    ask("Replace it with your local file and submit? [y/N] ")?
                } else {
                    eprintln!(
                        "Nothing was submitted. Run `lockstep learn submit --force` to replace it, or `lockstep learn download {} --force` to start from it.",
                        project.exercise
                    );
                    return Ok(false);
                };
                if !replace {
                    eprintln!("Nothing was submitted; the server's draft is unchanged.");
                    return Ok(false);
                }
                based_on = newer.version;
            }
        }
    }
}

/// Asks a yes/no question on the terminal; only `y`/`yes` is yes.
fn ask(question: &str) -> Result<bool> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// `status`: every module with the learner's marks.
async fn status() -> Result<ExitCode> {
    let credentials = Credentials::load()?;
    let progress = Api::new(&credentials)?.progress().await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} — {} of {} done on {}",
        progress.learner, progress.done, progress.total, credentials.server
    )?;
    for module in &progress.modules {
        writeln!(out, "\n{} ({}/{})", module.title, module.done, module.total)?;
        for item in &module.items {
            let symbol = match item.mark.as_str() {
                "done" => "✓",
                "started" => "◐",
                "out-of-date" => "↻",
                _ => "○",
            };
            let id = if item.kind == "exercise" {
                format!("  [{}]", item.id)
            } else {
                String::new()
            };
            writeln!(out, "  {symbol} {}{id}", item.title)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `hint EXERCISE`: reveals (and records) the next hint.
async fn hint(exercise: &str) -> Result<ExitCode> {
    let credentials = Credentials::load()?;
    let api = Api::new(&credentials)?;
    let hints = api.hints(exercise).await?;
    if hints.revealed.len() >= hints.total {
        println!("All {} hints of {exercise} are revealed:", hints.total);
        for (number, hint) in hints.revealed.iter().enumerate() {
            println!("\nHint {}: {hint}", number + 1);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let index = hints.revealed.len();
    let hint = api.reveal_hint(exercise, index).await?;
    println!("Hint {} of {}: {hint}", index + 1, hints.total);
    // Inside this exercise's project, HINTS.md keeps it too.
    if let Ok(project) = std::env::current_dir()
        .and_then(|dir| Project::find(&dir).map_err(|e| std::io::Error::other(e.to_string())))
        && project.exercise == exercise
    {
        let path = project.dir.join("HINTS.md");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)?;
        writeln!(file, "{}. {hint}\n", index + 1)?;
    }
    Ok(ExitCode::SUCCESS)
}
