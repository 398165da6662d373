//! `lockstep user …`: account tasks for operators.
//!
//! The password is never an argument (it would land in shell history and in
//! `ps`): it is prompted for twice on a terminal, or read as one line from
//! standard input otherwise (`echo "$PW" | lockstep user add …`).

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use sqlx::PgPool;

use crate::auth::password::{self, NewPassword};
use crate::auth::users::{self, DisplayName, Email, Role};
use crate::config::Settings;
use crate::db::{self, Database, embedded};

/// The `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (the password is prompted for, or read from stdin).
    Add {
        /// Its email address.
        #[arg(long)]
        email: String,
        /// learner, instructor or admin.
        #[arg(long, default_value = "learner")]
        role: Role,
        /// The name others see (default: the email's local part).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Change an account's role (its API tokens are revoked).
    SetRole {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// learner, instructor or admin.
        #[arg(long)]
        role: Role,
    },
    /// Set a new password (prompted for, or read from stdin), sign the account out everywhere and revoke its API tokens.
    ResetPassword {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
}

/// Runs one `user` subcommand against the configured database.
///
/// When the private cluster is already running (a `serve` is up), the
/// command connects to it and leaves it running; otherwise it starts the
/// cluster for the duration of the command, as `serve` would.
pub async fn run(settings: &Settings, command: UserCommand) -> Result<()> {
    if settings.database_url.is_none() && embedded::is_running(&settings.data_dir) {
        // The database `serve` uses inside the private cluster.
        let url = embedded::url_for_data_dir(&settings.data_dir, "lockstep")?;
        let pool = db::connect(&url, 2).await?;
        let result = execute(&pool, command).await;
        pool.close().await;
        return result;
    }
    let database = Database::open(settings, 2).await?;
    let result = execute(&database.pool, command).await;
    database.close().await;
    result
}

async fn execute(db: &PgPool, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add {
            email,
            role,
            display_name,
        } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let name = display_name.unwrap_or_else(|| {
                email
                    .as_str()
                    .rsplit_once('@')
                    .map_or("", |(local, _)| local)
                    .to_string()
            });
            let name =
                DisplayName::parse(&name).map_err(|e| anyhow::anyhow!("--display-name: {e}"))?;
            let password = read_new_password()?;
            let hash = password::hash(&password).await?;
            let user = users::create(db, &email, &name, &hash, role)
                .await
                .with_context(|| format!("cannot create {}", email.as_str()))?;
            println!("created {} ({}) as {}", user.email, user.id, user.role);
        }
        UserCommand::SetRole { email, role } => {
            let Some(user) = users::set_role(db, &email, role).await? else {
                bail!("no account has the email {email}");
            };
            println!(
                "{} is now {}; its API tokens were revoked",
                user.email, user.role
            );
        }
        UserCommand::ResetPassword { email } => {
            if users::find_by_email(db, &email).await?.is_none() {
                bail!("no account has the email {email}");
            }
            let password = read_new_password()?;
            let hash = password::hash(&password).await?;
            let Some(user) = users::set_password(db, &email, &hash).await? else {
                bail!("no account has the email {email}");
            };
            println!(
                "password changed for {}; all its sessions ended and API tokens revoked",
                user.email
            );
        }
    }
    Ok(())
}

fn read_new_password() -> Result<NewPassword> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let second = rpassword::prompt_password("Repeat it: ")?;
        if first != second {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    NewPassword::parse(&password).map_err(|e| anyhow::anyhow!("password: {e}"))
}
