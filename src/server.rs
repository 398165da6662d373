//! The long-running commands: `lockstep serve` and `lockstep worker`. Both
//! build an [`Application`], open the database, run until SIGINT or SIGTERM
//! and close the database (stopping the private cluster, if any).

use anyhow::Result;

use crate::application::{Application, Grading};
use crate::config::{ServeSettings, Settings};
use crate::db::Database;

/// `lockstep serve`: everything a single-machine deployment needs.
pub async fn serve(settings: Settings, serve: ServeSettings) -> Result<()> {
    // Everything that can fail without the database is done first, so a bad
    // flag never leaves a private cluster running behind it.
    let grading = Grading::with_workers(serve.workers);
    let app = Application::build(settings.clone(), Some(&serve), grading).await?;
    run_until_signalled(app, &settings, 20).await
}

/// `lockstep worker`: a grading pool alone, for extra machines.
pub async fn worker(settings: Settings, workers: Option<usize>, lease_seconds: u64) -> Result<()> {
    if settings.database_url.is_none() {
        anyhow::bail!(
            "`lockstep worker` grades for a shared database: set DATABASE_URL to the PostgreSQL the web nodes use"
        );
    }
    let grading = Grading::with_workers(workers).map(|mut grading| {
        grading.config.lease = std::time::Duration::from_secs(lease_seconds.max(1));
        grading
    });
    let app = Application::build(settings.clone(), None, grading).await?;
    run_until_signalled(app, &settings, 5).await
}

/// Opens the database (a pool of `pool_size` connections), runs `app` until
/// SIGINT or SIGTERM, then closes the database whatever the outcome.
async fn run_until_signalled(app: Application, settings: &Settings, pool_size: u32) -> Result<()> {
    // Listening before the database opens: a signal while the private
    // cluster starts (or is created) must stop it again, not leave it running.
    let _signals = app.shutdown().on_signals();
    let database = Database::open(settings, pool_size).await?;
    if app.shutdown().is_cancelled() {
        database.close().await;
        return Ok(());
    }
    let result = app.run(database.pool.clone()).await;
    database.close().await;
    result
}
