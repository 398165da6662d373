//! The database: connecting (to a configured server or the private cluster),
//! creating the database if missing, and applying migrations.

pub mod backup;
pub mod embedded;

use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::Settings;
use embedded::{Durability, PrivateCluster};

/// The name of the database inside the private cluster.
pub(crate) const DATABASE_NAME: &str = "lockstep";

/// An open database, and the private cluster behind it when there is one.
pub struct Database {
    /// The connection pool every part of Lockstep shares.
    pub pool: PgPool,
    /// The connection URL (used by LISTEN connections and the worker).
    pub url: String,
    cluster: Option<PrivateCluster>,
}

impl Database {
    /// Connects as configured: `DATABASE_URL` if set, the private cluster otherwise.
    pub async fn open(settings: &Settings, pool_size: u32) -> Result<Self> {
        let (url, cluster) = match &settings.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let data_dir = settings.data_dir.clone();
                let cluster = tokio::task::spawn_blocking(move || {
                    PrivateCluster::start(&data_dir, Durability::Full)
                })
                .await??;
                (cluster.url(DATABASE_NAME), Some(cluster))
            }
        };
        let pool = connect(&url, pool_size).await?;
        Ok(Self { pool, url, cluster })
    }

    /// Closes the pool and stops the private cluster, if any.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.cluster {
            match tokio::task::spawn_blocking(move || cluster.stop()).await {
                Ok(Ok(())) => tracing::info!("private PostgreSQL cluster stopped"),
                Ok(Err(error)) => {
                    tracing::warn!(%error, "could not stop the private PostgreSQL cluster")
                }
                Err(error) => {
                    tracing::warn!(%error, "could not stop the private PostgreSQL cluster")
                }
            }
        }
    }
}

/// Creates the database named in `url` if it does not exist, connects a pool
/// and applies pending migrations.
pub async fn connect(url: &str, pool_size: u32) -> Result<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    create_database_if_missing(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(pool_size)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .context("cannot connect to PostgreSQL")?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Applies the migrations in `migrations/` (embedded at build time).
pub async fn migrate(pool: &PgPool) -> Result<()> {
    sqlx::migrate!("./migrations")
        .run(pool)
        .await
        .context("cannot apply database migrations")
}

/// Creates the database `options` name if it does not exist yet.
pub(crate) async fn create_database_if_missing(options: &PgConnectOptions) -> Result<()> {
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Ok(());
    };
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("cannot connect to PostgreSQL")?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
        name
    )
    .fetch_one(&mut admin)
    .await?;
    if !exists {
        // Not a checked macro: identifiers cannot be bound as parameters, so
        // the statement is built, with the name quoted.
        let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
        {
            // Another process may have created it in the meantime.
            let duplicate = error
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "42P04");
            if !duplicate {
                return Err(error).context("cannot create the database");
            }
        }
        tracing::info!(database = %name, "created database");
    }
    admin.close().await?;
    Ok(())
}
