//! `lockstep backup FILE` and `lockstep restore FILE`: the whole database
//! (the private cluster's, or `DATABASE_URL`'s) as a `pg_dump` archive in
//! custom format, and back.
//!
//! The private cluster's own `pg_dump`/`pg_restore` run as its owner (the
//! `postgres` user when we are root); Lockstep opens the archive itself, so
//! the file may live where that user cannot write. A restore goes into an
//! empty database only (one transaction: it happens entirely or not at
//! all), unless `--force` lets it replace what the archive holds.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::embedded::{self, Durability, PrivateCluster};
use super::{DATABASE_NAME, create_database_if_missing};
use crate::config::Settings;

/// `lockstep backup FILE`: writes the database to `file` (replaced only
/// once the dump succeeded).
pub async fn backup(settings: &Settings, file: &Path) -> Result<()> {
    let partial = partial_path(file);
    let output =
        File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let (url, cluster) = open(settings).await?;
    let dumped = match tool(cluster.as_ref(), "pg_dump") {
        Ok(mut command) => {
            command
                .args(["--format=custom", "--no-password"])
                .arg(format!("--dbname={url}"))
                .stdout(output);
            tokio::task::spawn_blocking(move || run(command, "pg_dump"))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|result| result)
        }
        Err(error) => Err(error),
    };
    close(cluster).await;
    match dumped {
        Ok(()) => {
            std::fs::rename(&partial, file)
                .with_context(|| format!("cannot write {}", file.display()))?;
            eprintln!("Backed up to {}.", file.display());
            Ok(())
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// `lockstep restore FILE [--force]`: loads an archive of `lockstep backup`
/// into the database, which must be empty unless `force`.
pub async fn restore(settings: &Settings, file: &Path, force: bool) -> Result<()> {
    let input = File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (url, cluster) = open(settings).await?;
    let restored = async {
        let options: PgConnectOptions = url.parse().context("not a valid PostgreSQL URL")?;
        create_database_if_missing(&options).await?;
        let mut connection = options
            .connect()
            .await
            .context("cannot connect to PostgreSQL")?;
        let relations = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname NOT LIKE 'pg_toast%'"#
        )
        .fetch_one(&mut connection)
        .await?;
        connection.close().await?;
        if relations > 0 && !force {
            bail!(
                "the database is not empty ({relations} tables, views and sequences): a restore \
                 goes into an empty one. Restore into a fresh data dir (or a new, empty \
                 DATABASE_URL database), or pass --force to replace what the backup holds"
            );
        }
        let mut command = tool(cluster.as_ref(), "pg_restore")?;
        command
            .args([
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
            ])
            .arg(format!("--dbname={url}"))
            .stdin(input);
        if force {
            command.args(["--clean", "--if-exists"]);
        }
        tokio::task::spawn_blocking(move || run(command, "pg_restore")).await?
    }
    .await;
    close(cluster).await;
    restored?;
    eprintln!("Restored from {}.", file.display());
    Ok(())
}

/// `program` of the private cluster's PostgreSQL (as its owner), or of the
/// newest installed one for `DATABASE_URL`.
fn tool(cluster: Option<&PrivateCluster>, program: &str) -> Result<Command> {
    match cluster {
        Some(cluster) => Ok(cluster.tool(program)),
        None => Ok(Command::new(embedded::client_tool(program)?)),
    }
}

/// The database's URL, and the private cluster when it is the one in use.
async fn open(settings: &Settings) -> Result<(String, Option<PrivateCluster>)> {
    match &settings.database_url {
        Some(url) => Ok((url.clone(), None)),
        None => {
            let data_dir = settings.data_dir.clone();
            let cluster = tokio::task::spawn_blocking(move || {
                PrivateCluster::start(&data_dir, Durability::Full)
            })
            .await??;
            Ok((cluster.url(DATABASE_NAME), Some(cluster)))
        }
    }
}

/// Stops the private cluster unless it was running before we came.
async fn close(cluster: Option<PrivateCluster>) {
    if let Some(cluster) = cluster.filter(|cluster| !cluster.was_running()) {
        let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await;
        if !matches!(stopped, Ok(Ok(()))) {
            tracing::warn!("could not stop the private PostgreSQL cluster");
        }
    }
}

/// Runs a PostgreSQL tool to its end; its messages go to our stderr.
fn run(mut command: Command, name: &str) -> Result<()> {
    let status = command
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("cannot run {name}"))?;
    if !status.success() {
        bail!("{name} failed ({status}); see its messages above");
    }
    Ok(())
}

/// `FILE.partial`, where a backup is written until it is complete.
fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}
