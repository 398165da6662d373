//! The operator's commands on the real binary: the private cluster's
//! PostgreSQL version, backup and restore, and clusters left behind.

mod common;

use std::process::Command;

use common::process::{BIN, temp_dir};

#[test]
fn a_cluster_of_a_postgresql_version_not_installed_is_a_clear_error_with_the_upgrade_path() {
    let data_dir = temp_dir("data");
    // A cluster as an older PostgreSQL left it (only its version file matters).
    let home = lockstep::db::embedded::cluster_home_of(&data_dir).unwrap();
    std::fs::create_dir_all(home.join("postgres")).unwrap();
    std::fs::write(home.join("postgres/PG_VERSION"), "11\n").unwrap();
    let installed: Vec<String> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !installed.contains(&"11".to_string()),
        "the test needs PostgreSQL 11 absent"
    );

    let output = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
        .env("LOCKSTEP_DATA_DIR", &data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("was created by PostgreSQL 11"), "{stderr}");
    for version in &installed {
        assert!(
            stderr.contains(&format!("PostgreSQL {version}")),
            "{version}: {stderr}"
        );
    }
    for remedy in [
        "apt-get install postgresql-11",
        "lockstep backup FILE",
        "lockstep restore FILE",
        "pg_upgrade",
    ] {
        assert!(stderr.contains(remedy), "{remedy}: {stderr}");
    }
    assert!(!lockstep::db::embedded::is_running(&data_dir));
}

/// Runs `lockstep ARGS` against the private cluster of `data_dir`; returns
/// (success, stderr).
fn lockstep(data_dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("LOCKSTEP_DATA_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("lockstep {args:?}: {stderr}");
    (output.status.success(), stderr)
}

/// Every user (email, role) and submission (owner's email, exercise, code,
/// verdict) of the private database of `data_dir`, in a stable order.
async fn users_and_submissions(data_dir: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let cluster = lockstep::db::embedded::PrivateCluster::start(
        data_dir,
        lockstep::db::embedded::Durability::Relaxed,
    )
    .unwrap();
    let db = lockstep::db::connect(&cluster.url("lockstep"), 2)
        .await
        .unwrap();
    let users = sqlx::query_scalar!(
        r#"SELECT email || ' ' || role || ' ' || password_hash AS "row!" FROM users ORDER BY id"#
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let submissions = sqlx::query_scalar!(
        r#"SELECT s.id || ' ' || u.email || ' ' || coalesce(s.exercise_id, '-') || ' '
                  || md5(s.code) || ' ' || coalesce(s.verdict_status, '-') AS "row!"
           FROM submissions s JOIN users u ON u.id = s.user_id ORDER BY s.id"#
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    cluster.stop().unwrap();
    (users, submissions)
}

#[tokio::test]
async fn backup_then_restore_into_a_fresh_data_dir_gives_back_the_same_users_and_submissions() {
    let original = temp_dir("data");
    let (ok, stderr) = lockstep(
        &original,
        &["demo", "seed", "--learners", "4", "--days", "3"],
    );
    assert!(ok, "{stderr}");
    let before = users_and_submissions(&original).await;
    assert!(
        before.0.len() >= 5,
        "an instructor and 4 learners: {:?}",
        before.0
    );
    assert!(!before.1.is_empty(), "the seed made submissions");

    let archive = temp_dir("backup").join("lockstep.dump");
    let (ok, stderr) = lockstep(&original, &["backup", archive.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(std::fs::metadata(&archive).unwrap().len() > 0);
    assert!(
        !lockstep::db::embedded::is_running(&original),
        "backup stops the cluster it started"
    );

    let restored = temp_dir("data");
    let (ok, stderr) = lockstep(&restored, &["restore", archive.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(!lockstep::db::embedded::is_running(&restored));
    assert_eq!(users_and_submissions(&restored).await, before);

    // A database with data in it is not overwritten by accident…
    let (ok, stderr) = lockstep(&restored, &["restore", archive.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("the database is not empty"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    // …only on purpose.
    let (ok, stderr) = lockstep(
        &restored,
        &["restore", "--force", archive.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    assert_eq!(users_and_submissions(&restored).await, before);

    let (ok, stderr) = lockstep(&restored, &["restore", "/nonexistent/lockstep.dump"]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot read /nonexistent/lockstep.dump"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_web_node_purges_expired_sessions_and_old_drafts_and_keeps_the_rest() {
    let (db, _) = common::fresh_database().await;
    let user = sqlx::query_scalar!(
        "INSERT INTO users (email, display_name, password_hash) VALUES ('purge@example.com', 'P', 'x') RETURNING id"
    )
    .fetch_one(&db)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO sessions (id, user_id, csrf_token, expires_at) VALUES
           ('expired', $1, 't', now() - interval '1 minute'),
           ('live', $1, 't', now() + interval '1 hour')",
        user
    )
    .execute(&db)
    .await
    .unwrap();
    // Drafts: old on a passed exercise (goes), recent on a passed one (stays),
    // very old on an unpassed one (stays: retention of unpassed work is off).
    sqlx::query!(
        "INSERT INTO drafts (user_id, exercise_id, code, version, updated_at) VALUES
           ($1, 'passed-old', 'a', 1, now() - interval '31 days'),
           ($1, 'passed-recent', 'b', 1, now() - interval '2 days'),
           ($1, 'unpassed-old', 'c', 1, now() - interval '900 days')",
        user
    )
    .execute(&db)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO exercise_progress (user_id, exercise_id, passed_at) VALUES
           ($1, 'passed-old', now() - interval '40 days'), ($1, 'passed-recent', now())",
        user
    )
    .execute(&db)
    .await
    .unwrap();

    let serve = lockstep::config::ServeSettings {
        static_dir: None,
        housekeeping: lockstep::config::Housekeeping {
            purge_interval_seconds: 1,
            ..Default::default()
        },
        ..common::serve_settings()
    };
    let _app = common::spawn_app_with_serve(db.clone(), serve).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let sessions = sqlx::query_scalar!(r#"SELECT id AS "id!" FROM sessions ORDER BY id"#)
            .fetch_all(&db)
            .await
            .unwrap();
        if sessions == ["live"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not purged: {sessions:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let drafts =
        sqlx::query_scalar!(r#"SELECT exercise_id AS "id!" FROM drafts ORDER BY exercise_id"#)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(drafts, ["passed-recent", "unpassed-old"]);

    // With a retention for unpassed work, the very old draft goes too.
    let purged = lockstep::housekeeping::purge(
        &db,
        &lockstep::config::Housekeeping {
            unpassed_draft_retention_days: 365,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(purged.drafts, 1);
    let drafts = sqlx::query_scalar!(r#"SELECT exercise_id AS "id!" FROM drafts"#)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(drafts, ["passed-recent"]);
}

/// Waits up to `seconds` for `child` to exit.
fn exits_within(child: &mut std::process::Child, seconds: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

#[test]
fn the_shared_test_cluster_stops_once_no_process_has_used_it_for_a_while() {
    use lockstep::db::embedded::{Durability, PrivateCluster, hold_in_use, is_running};
    let dir = temp_dir("shared");
    let in_use = hold_in_use(&dir).unwrap();
    let _cluster = PrivateCluster::start(&dir, Durability::Relaxed).unwrap();
    let mut watcher = common::watch_cluster(&dir, 1);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut second = common::watch_cluster(&dir, 1);
    assert!(exits_within(&mut second, 5), "one watcher per cluster");

    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(is_running(&dir), "in use: kept running");
    assert!(watcher.try_wait().unwrap().is_none());

    drop(in_use); // as when the last test process ends
    assert!(
        exits_within(&mut watcher, 15),
        "the watcher stops it and ends"
    );
    assert!(!is_running(&dir), "stopped once idle");
}

#[test]
fn clusters_whose_data_dir_is_gone_are_listed_and_removed_and_the_others_kept() {
    use lockstep::db::embedded::{
        Durability, FALLBACK_ROOT, PrivateCluster, cluster_home_of, remove_cluster,
    };
    // Data dirs too deep for a socket path: their clusters live in /var/tmp.
    let gone = temp_dir("data").join("d".repeat(100));
    let kept = temp_dir("data").join("k".repeat(100));
    let orphan = PrivateCluster::start(&gone, Durability::Relaxed).unwrap();
    let other = PrivateCluster::start(&kept, Durability::Relaxed).unwrap();
    other.stop().unwrap();
    let (orphan_home, kept_home) = (
        cluster_home_of(&gone).unwrap(),
        cluster_home_of(&kept).unwrap(),
    );
    assert!(
        orphan_home.starts_with(FALLBACK_ROOT),
        "{}",
        orphan_home.display()
    );
    let gone_canonical = gone.canonicalize().unwrap();
    std::fs::remove_dir_all(&gone).unwrap();
    drop(orphan); // still running, as a killed test would leave it

    let list = Command::new(BIN)
        .args(["cluster", "list"])
        .output()
        .unwrap();
    assert!(list.status.success());
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains(&format!(
            "{}  running  orphan: {} is gone",
            orphan_home.display(),
            gone_canonical.display()
        )),
        "{list}"
    );
    assert!(
        list.contains(&format!(
            "{}  stopped  data dir {}",
            kept_home.display(),
            kept.canonicalize().unwrap().display()
        )),
        "{list}"
    );

    let removed = Command::new(BIN)
        .args(["cluster", "remove-orphans"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&removed.stdout);
    assert!(
        removed.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    assert!(
        stdout.contains(&format!("removed {}", orphan_home.display())),
        "{stdout}"
    );
    assert!(!orphan_home.exists());
    assert!(kept_home.exists(), "a cluster whose data dir exists stays");
    // Its server was stopped first: no postgres serves that directory.
    let pgdata = orphan_home.join("postgres").to_string_lossy().into_owned();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains(&pgdata),
            "still running: {}",
            String::from_utf8_lossy(&cmdline)
        );
    }
    remove_cluster(&kept_home).unwrap();
}
