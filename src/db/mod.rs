//! The database: connecting (to a configured server or the private cluster),
//! creating the database if missing, and applying migrations.
//!
//! An external server is reached as its URL says, TLS included (rustls with
//! the system's roots plus `sslrootcert=` / `--database-ca`; `sslmode=require`,
//! `verify-ca`, `verify-full`). A TLS failure is reported as one, and a
//! connection over TCP without TLS is logged as a warning: libpq's default
//! `sslmode=prefer` falls back to plaintext without a word.

pub mod backup;
pub mod embedded;

use std::path::Path;
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
            Some(url) => (
                with_root_certificate(url, settings.database_ca.as_deref())?,
                None,
            ),
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
    use_ring_for_tls();
    let options: PgConnectOptions = url
        .parse()
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    create_database_if_missing(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(pool_size)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await
        .map_err(connection_error)?;
    migrate(&pool).await?;
    report_transport(&pool, &options).await;
    Ok(pool)
}

/// `url` with `sslrootcert=` set to `ca` (`--database-ca`), unless the URL
/// names a root certificate itself. Folded into the URL so that every
/// connection made from it (the pool, LISTEN connections, workers) trusts it.
pub fn with_root_certificate(url: &str, ca: Option<&Path>) -> Result<String> {
    let Some(ca) = ca else {
        return Ok(url.to_string());
    };
    std::fs::File::open(ca)
        .with_context(|| format!("--database-ca {}: cannot read it", ca.display()))?;
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let named = form_urlencoded::parse(query.as_bytes())
        .any(|(key, _)| matches!(&*key, "sslrootcert" | "ssl-root-cert" | "ssl-ca"));
    if named {
        return Ok(url.to_string());
    }
    let pair = form_urlencoded::Serializer::new(String::new())
        .append_pair("sslrootcert", &ca.to_string_lossy())
        .finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}{pair}"))
}

/// The TLS version of this pool's connections to PostgreSQL; `None` when
/// they are not encrypted.
pub async fn tls_version(pool: &PgPool) -> Result<Option<String>, sqlx::Error> {
    let version =
        sqlx::query_scalar!("SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")
            .fetch_optional(pool)
            .await?;
    Ok(version.flatten())
}

/// Logs how the connection travels: over TLS, over a Unix socket, or — a
/// warning — in plaintext over the network.
async fn report_transport(pool: &PgPool, options: &PgConnectOptions) {
    let local_socket = options.get_socket().is_some() || options.get_host().starts_with('/');
    match tls_version(pool).await {
        Ok(Some(version)) => tracing::info!(tls = %version, "connected to PostgreSQL over TLS"),
        Ok(None) if !local_socket => tracing::warn!(
            host = options.get_host(),
            "the connection to PostgreSQL is not encrypted; add sslmode=verify-full (and the \
             server's CA with sslrootcert= or --database-ca) to the URL"
        ),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "cannot tell whether PostgreSQL is reached over TLS"),
    }
}

/// A failed connection, saying what to fix when TLS was the cause.
fn connection_error(error: sqlx::Error) -> anyhow::Error {
    let advice = match &error {
        sqlx::Error::Tls(cause) if cause.to_string().contains("does not support TLS") => {
            "cannot connect to PostgreSQL: the URL's sslmode requires TLS and the server does \
             not offer it (ssl = on in its postgresql.conf)"
        }
        sqlx::Error::Tls(_) => "cannot connect to PostgreSQL: TLS could not be set up",
        sqlx::Error::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
        {
            "cannot connect to PostgreSQL over TLS: the server's certificate was refused; give \
             the CA that signed it (sslrootcert= in the URL or --database-ca), and with \
             sslmode=verify-full the certificate must name the URL's host"
        }
        _ => "cannot connect to PostgreSQL",
    };
    anyhow::Error::new(error).context(advice)
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
        .map_err(connection_error)?;
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

/// Makes ring rustls' provider for the process. Two are built in (ring for
/// PostgreSQL and mail, aws-lc under reqwest for `lockstep learn`), and with
/// two, rustls will not guess: a TLS connection made without naming one
/// (as sqlx and lettre make theirs) would panic. Idempotent.
pub fn use_ring_for_tls() {
    // Err only when a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_ca_is_folded_into_the_url_unless_it_names_one() {
        let ca = std::env::temp_dir().join(format!("lockstep-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&ca, "not read here").unwrap();
        let path = ca.to_string_lossy().into_owned();
        let url = "postgres://u@db.internal/lockstep";
        assert_eq!(with_root_certificate(url, None).unwrap(), url);
        let with = with_root_certificate(url, Some(&ca)).unwrap();
        assert_eq!(
            with,
            format!("{url}?sslrootcert={}", path.replace('/', "%2F"))
        );
        let options: PgConnectOptions = with.parse().unwrap();
        assert!(format!("{options:?}").contains(&path), "{options:?}");
        let query = format!("{url}?sslmode=verify-full");
        assert!(
            with_root_certificate(&query, Some(&ca))
                .unwrap()
                .starts_with(&format!("{query}&sslrootcert="))
        );
        let named = format!("{url}?sslrootcert=/etc/ca.pem");
        assert_eq!(with_root_certificate(&named, Some(&ca)).unwrap(), named);
        std::fs::remove_file(&ca).unwrap();
        let missing = with_root_certificate(url, Some(&ca)).unwrap_err();
        assert!(
            format!("{missing:#}").contains("--database-ca"),
            "{missing:#}"
        );
    }
}
