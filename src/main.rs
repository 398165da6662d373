//! The `lockstep` command: parse the command line, then hand over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use lockstep::config::{LogFormat, ServeSettings, Settings};
use tracing_subscriber::EnvFilter;

/// Lockstep: a web learning platform for async Rust.
#[derive(Parser)]
// The shared settings are `global`: accepted before or after the subcommand.
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    /// `serve`'s options, accepted without the word `serve`.
    #[command(flatten)]
    serve: ServeSettings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web app (the default): with no DATABASE_URL it starts a private PostgreSQL under the data dir.
    Serve(Box<ServeSettings>),
    /// Run a grading pool only, against the shared DATABASE_URL (to add grading capacity).
    Worker {
        /// Jobs graded at once (default: one per core).
        #[arg(long, env = "LOCKSTEP_WORKERS")]
        workers: Option<usize>,
        /// Seconds a claimed job stays ours without renewal (a dead worker's jobs return after this).
        #[arg(long, env = "LOCKSTEP_LEASE_SECONDS", default_value_t = 30)]
        lease_seconds: u64,
    },
    /// Compile FILE as a program (`fn main`, sync or `#[tokio::main]`) and run it in the sandbox.
    Run {
        /// The program's source.
        file: PathBuf,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Grade FILE as a solution of EXERCISE: compile it in the sandbox and run the visible and hidden tests.
    Grade {
        /// The exercise id (see `lockstep curriculum list`).
        exercise: String,
        /// The solution's source.
        file: PathBuf,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Inspect and check the programme's content.
    #[command(subcommand)]
    Curriculum(CurriculumCommand),
    /// Grader maintenance.
    #[command(subcommand)]
    Grader(GraderCommand),
    /// Manage accounts: add, set-role, reset-password.
    #[command(subcommand)]
    User(lockstep::auth::commands::UserCommand),
    /// Write the whole database (private cluster or DATABASE_URL) to FILE, a pg_dump archive.
    Backup {
        /// The archive to write (custom format, for `lockstep restore` or pg_restore).
        file: PathBuf,
    },
    /// Load FILE, written by `lockstep backup`, into an empty database.
    Restore {
        /// The archive to read.
        file: PathBuf,
        /// Restore into a database that is not empty, replacing what the archive holds.
        #[arg(long)]
        force: bool,
    },
    /// Private PostgreSQL clusters on this machine: list them, remove those whose data dir is gone.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// For learners: download an exercise as a Cargo project, test it locally, submit it from the terminal.
    #[command(subcommand)]
    Learn(lockstep::learn::LearnCommand),
    /// Demo data for trying and measuring the instructor's dashboard.
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Create an instructor (its credentials are printed) and a cohort with simulated activity.
    Seed {
        /// Learners in the cohort.
        #[arg(long, default_value_t = 40)]
        learners: usize,
        /// Days of history, ending now.
        #[arg(long, default_value_t = 21)]
        days: u32,
        /// The cohort's name.
        #[arg(long, default_value = "Demo cohort")]
        cohort: String,
        /// Seed of the simulation (same seed, same shape of history).
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Every active learner works through the whole programme (for benchmarks).
        #[arg(long)]
        whole_programme: bool,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// List the private clusters under /var/tmp and the data dir each belongs to.
    List,
    /// Stop and delete the private clusters under /var/tmp whose data dir is gone.
    RemoveOrphans,
    /// Stop the data dir's private cluster once nothing has marked it in use
    /// for IDLE_SECONDS (the test suite's shared cluster).
    #[command(hide = true)]
    StopWhenIdle {
        /// Seconds without users before it stops.
        #[arg(long, default_value_t = 5)]
        idle_seconds: u64,
    },
}

#[derive(Subcommand)]
enum GraderCommand {
    /// Build the dependency cache that learner code compiles against (done on first use otherwise).
    Prepare,
}

#[derive(Subcommand)]
enum CurriculumCommand {
    /// Print the programme: modules, lessons and exercises with their files.
    List {
        /// Print JSON instead of an outline.
        #[arg(long)]
        json: bool,
    },
    /// Check every exercise and example through the sandbox: starters fail, solutions pass, mutants are caught, examples print their recorded output.
    Verify,
}

/// Parses the command line; `serve`'s options before another subcommand
/// (`lockstep --listen … user add`) are an error rather than silently ignored.
fn parse_command_line() -> Result<Cli, clap::Error> {
    let mut command = Cli::command();
    let matches = command.get_matches_mut();
    if let Some((name, _)) = matches.subcommand() {
        let serve_only = ServeSettings::augment_args(clap::Command::new("serve"));
        for arg in serve_only.get_arguments() {
            let id = arg.get_id().as_str();
            if matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
                let flag = arg.get_long().unwrap_or(id);
                return Err(command.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "--{flag} is an option of `serve`, not of `{name}`: write `lockstep serve --{flag} …`"
                    ),
                ));
            }
        }
    }
    Cli::from_arg_matches(&matches).map_err(|error| error.format(&mut command))
}

fn main() -> ExitCode {
    // The sandbox helper must stay single-threaded: dispatch it before anything starts threads.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == lockstep::grading::sandbox::HELPER_COMMAND)
    {
        return lockstep::grading::sandbox::init::main();
    }
    let cli = match parse_command_line() {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        // A log line that cannot be written (stderr's reader is gone) is
        // dropped; by default tracing reports it with `eprintln!`, which
        // panics on the same closed pipe.
        .log_internal_errors(false);
    match cli.settings.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve(Box::new(cli.serve))) {
            Command::Serve(serve) => lockstep::server::serve(cli.settings, *serve)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::User(command) => lockstep::auth::commands::run(&cli.settings, command)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Curriculum(CurriculumCommand::List { json }) => {
                lockstep::cli::curriculum_list(&cli.settings, json).map(|()| ExitCode::SUCCESS)
            }
            Command::Worker {
                workers,
                lease_seconds,
            } => lockstep::server::worker(cli.settings, workers, lease_seconds)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Curriculum(CurriculumCommand::Verify) => {
                lockstep::cli::curriculum_verify(&cli.settings).await
            }
            Command::Run { file, json } => {
                lockstep::cli::run_file(&cli.settings, &file, json).await
            }
            Command::Grade {
                exercise,
                file,
                json,
            } => lockstep::cli::grade_file(&cli.settings, &exercise, &file, json).await,
            Command::Demo(DemoCommand::Seed {
                learners,
                days,
                cohort,
                seed,
                whole_programme,
            }) => {
                let options = lockstep::demo::SeedOptions {
                    learners,
                    days,
                    cohort,
                    seed,
                    whole_programme,
                };
                lockstep::demo::run_seed(&cli.settings, &options)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }
            Command::Backup { file } => lockstep::db::backup::backup(&cli.settings, &file)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Restore { file, force } => {
                lockstep::db::backup::restore(&cli.settings, &file, force)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }
            Command::Cluster(ClusterCommand::List) => {
                lockstep::cli::cluster_list().map(|()| ExitCode::SUCCESS)
            }
            Command::Cluster(ClusterCommand::RemoveOrphans) => {
                lockstep::cli::cluster_remove_orphans().map(|()| ExitCode::SUCCESS)
            }
            Command::Cluster(ClusterCommand::StopWhenIdle { idle_seconds }) => {
                lockstep::db::embedded::stop_when_idle(
                    &cli.settings.data_dir,
                    std::time::Duration::from_secs(idle_seconds),
                )
                .map(|()| ExitCode::SUCCESS)
            }
            Command::Learn(command) => lockstep::learn::run(command).await,
            Command::Grader(GraderCommand::Prepare) => lockstep::cli::prepare_grader(&cli.settings)
                .await
                .map(|()| ExitCode::SUCCESS),
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
