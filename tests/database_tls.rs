//! TLS to PostgreSQL against a real server: a private cluster listening on
//! TCP with `ssl = on` and a certificate made here with the openssl CLI,
//! reached through the app's own connection code (`Database::open`, with
//! `--database-url` and `--database-ca` as the binary parses them).

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use lockstep::config::Settings;
use lockstep::db::Database;
use lockstep::db::embedded::{Durability, PrivateCluster};

/// A throwaway directory with certificates and a cluster, stopped and
/// removed when dropped (a failed assertion included).
struct Server {
    dir: PathBuf,
    port: u16,
    cluster: Option<PrivateCluster>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            let _ = cluster.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    fn new() -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("db-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("tls")).unwrap();
        // Any free port: bound, read, released.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            dir,
            port,
            cluster: None,
        }
    }

    fn tls(&self, file: &str) -> PathBuf {
        self.dir.join("tls").join(file)
    }

    /// A certificate authority `name` (`name.crt`, `name.key`).
    fn make_ca(&self, name: &str) -> PathBuf {
        self.openssl(&[
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        self.tls(&format!("{name}.crt"))
    }

    /// The server's key and certificate for `localhost`, signed by `ca`.
    fn make_server_certificate(&self, ca: &str) {
        std::fs::write(
            self.tls("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        self.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
    }

    fn openssl(&self, args: &[&str]) {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.join("tls"))
            .output()
            .expect("the openssl CLI runs");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts PostgreSQL on `localhost:port`, with TLS when `tls`.
    fn start(&mut self, tls: bool) {
        let port = self.port.to_string();
        let cert = self.tls("server.crt").to_string_lossy().into_owned();
        let key = self.tls("server.key").to_string_lossy().into_owned();
        let mut settings = vec![("listen_addresses", "localhost"), ("port", port.as_str())];
        if tls {
            // The server reads its key only when it is private to its owner.
            give_to_postgres(&self.dir.join("tls"));
            settings.extend([
                ("ssl", "on"),
                ("ssl_cert_file", cert.as_str()),
                ("ssl_key_file", key.as_str()),
            ]);
        }
        let cluster = PrivateCluster::start_with_settings(
            &self.dir.join("data"),
            Durability::Relaxed,
            &settings,
        )
        .expect("the cluster starts");
        self.cluster = Some(cluster);
    }

    fn url(&self, query: &str) -> String {
        format!(
            "postgres://lockstep@localhost:{}/lockstep?{query}",
            self.port
        )
    }
}

/// The files under `dir` owned by (and private to) the user the server runs as.
fn give_to_postgres(dir: &Path) {
    let owner = nix::unistd::Uid::effective().is_root().then(|| {
        nix::unistd::User::from_name("postgres")
            .unwrap()
            .expect("a postgres user")
    });
    for entry in std::iter::once(dir.to_path_buf()).chain(
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path()),
    ) {
        let mode = if entry.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).unwrap();
        if let Some(owner) = &owner {
            nix::unistd::chown(&entry, Some(owner.uid), Some(owner.gid)).unwrap();
        }
    }
}

/// Settings as `lockstep ARGS…` would parse them.
fn settings(args: &[&str]) -> Settings {
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        settings: Settings,
    }
    Args::parse_from(std::iter::once("lockstep").chain(args.iter().copied())).settings
}

async fn open(args: &[&str]) -> anyhow::Result<Database> {
    Database::open(&settings(args), 2).await
}

#[tokio::test]
async fn verify_full_with_the_servers_ca_connects_over_tls_and_another_ca_is_refused() {
    let mut server = Server::new();
    let ca = server.make_ca("ca");
    let other_ca = server.make_ca("other");
    server.make_server_certificate("ca");
    server.start(true);
    let ca = ca.to_string_lossy().into_owned();
    let other_ca = other_ca.to_string_lossy().into_owned();

    // The CA in the URL: the database is created, migrated and used over TLS.
    let url = server.url(&format!("sslmode=verify-full&sslrootcert={ca}"));
    let database = open(&["--database-url", &url])
        .await
        .expect("verify-full connects");
    let version = lockstep::db::tls_version(&database.pool).await.unwrap();
    assert!(
        version.as_deref().is_some_and(|v| v.starts_with("TLSv1.")),
        "{version:?}"
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&database.pool)
        .await
        .expect("the migrated schema is there");
    assert_eq!(users, 0);
    database.close().await;

    // The CA given with --database-ca instead.
    let url = server.url("sslmode=verify-full");
    let database = open(&["--database-url", &url, "--database-ca", &ca])
        .await
        .expect("verify-full with --database-ca connects");
    assert!(
        lockstep::db::tls_version(&database.pool)
            .await
            .unwrap()
            .is_some()
    );
    database.close().await;

    // Without the CA the system's roots do not know the certificate.
    let refused = open(&["--database-url", &url])
        .await
        .err()
        .expect("refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("the server's certificate was refused"),
        "{message}"
    );

    // A different CA: refused, saying why.
    for refused_url in [
        server.url(&format!("sslmode=verify-full&sslrootcert={other_ca}")),
        server.url(&format!("sslmode=verify-ca&sslrootcert={other_ca}")),
    ] {
        let refused = open(&["--database-url", &refused_url])
            .await
            .err()
            .expect("a certificate from another CA is refused");
        let message = format!("{refused:#}");
        assert!(
            message.contains("the server's certificate was refused")
                && message.contains("sslrootcert=")
                && message.contains("UnknownIssuer"),
            "{message}"
        );
    }
    let refused = open(&["--database-url", &url, "--database-ca", &other_ca])
        .await
        .err()
        .expect("--database-ca of another CA is refused");
    assert!(format!("{refused:#}").contains("certificate was refused"));

    // A root certificate file that is missing is named.
    let missing = open(&[
        "--database-url",
        &url,
        "--database-ca",
        "/nonexistent/ca.pem",
    ])
    .await
    .err()
    .expect("a missing CA file is an error");
    assert!(format!("{missing:#}").contains("--database-ca /nonexistent/ca.pem"));
}

#[tokio::test]
async fn sslmode_require_refuses_a_server_without_tls_and_prefer_falls_back() {
    let mut server = Server::new();
    server.start(false);

    let refused = open(&["--database-url", &server.url("sslmode=require")])
        .await
        .err()
        .expect("sslmode=require refuses a server without TLS");
    let message = format!("{refused:#}");
    assert!(
        message.contains("requires TLS and the server does not offer it"),
        "{message}"
    );

    // `prefer` (the default) connects in plaintext, which the app can tell.
    let database = open(&["--database-url", &server.url("sslmode=prefer")])
        .await
        .expect("prefer connects without TLS");
    assert_eq!(
        lockstep::db::tls_version(&database.pool).await.unwrap(),
        None
    );
    database.close().await;
}
