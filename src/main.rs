//! The `lockstep` command: parse the command line, then hand over to the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lockstep::config::{ServeSettings, Settings};
use tracing_subscriber::EnvFilter;

/// Lockstep: a web learning platform for async Rust.
#[derive(Parser)]
#[command(version, about, long_about = None, args_conflicts_with_subcommands = true)]
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
    Serve(ServeSettings),
    /// Inspect and check the programme's content.
    #[command(subcommand)]
    Curriculum(CurriculumCommand),
    /// Manage accounts: add, set-role, reset-password.
    #[command(subcommand)]
    User(lockstep::auth::commands::UserCommand),
}

#[derive(Subcommand)]
enum CurriculumCommand {
    /// Print the programme: modules, lessons and exercises with their files.
    List {
        /// Print JSON instead of an outline.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve(cli.serve)) {
            Command::Serve(serve) => lockstep::server::serve(cli.settings, serve)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::User(command) => lockstep::auth::commands::run(&cli.settings, command)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Curriculum(CurriculumCommand::List { json }) => {
                lockstep::cli::curriculum_list(&cli.settings, json).map(|()| ExitCode::SUCCESS)
            }
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
