//! Dev mode (embedded SQLite, no JWT setting) hands out an owner token: it
//! listens on loopback only, puts the token in the GraphiQL page only for
//! loopback `Host` names, keeps its secret in a private directory, and
//! mints the token only for the demo organization it seeded itself.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::support::{JWT_SECRET, TestDb};
use devgraph::{
    App, Config, build_app,
    config::{ConfigArgs, JwtKey},
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A directory of the test's own, removed with it.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new() -> Scratch {
        let name = format!("devgraph-dev-{}", uuid::Uuid::now_v7().simple());
        Scratch(std::env::temp_dir().join(name))
    }

    /// Dev mode's directory in it (not created).
    fn dev_dir(&self) -> PathBuf {
        self.0.join("state")
    }

    fn secret(&self) -> PathBuf {
        self.dev_dir().join("dev-jwt-secret")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `serve` builds on `db` in dev mode, its state in `scratch`.
fn dev_config(db: &TestDb, scratch: &Scratch) -> Config {
    let mut config = Config::for_tests(&db.url, JWT_SECRET);
    config.jwt_key = JwtKey::DevSecretFile(scratch.secret());
    config
}

pub(crate) async fn dev_app(db: &TestDb, scratch: &Scratch) -> App {
    build_app(dev_config(db, scratch)).await.expect("dev app")
}

async fn start_error(config: Config) -> String {
    match build_app(config).await {
        Ok(_) => panic!("dev mode started"),
        Err(err) => err.to_string(),
    }
}

/// An organization made the production way, not by dev mode's seeding.
async fn create_org_by_cli(db: &TestDb) {
    let argv = [
        "devgraph",
        "--database-url",
        &db.url,
        "--jwt-secret",
        JWT_SECRET,
        "org",
        "create",
        "--slug",
        "real-co",
        "--name",
        "Real Co",
        "--owner-email",
        "boss@real.test",
    ];
    assert_eq!(devgraph::cli::run_from(argv).await, ExitCode::SUCCESS);
}

/// The organization `token` reaches on the server at `addr`.
async fn organization_of(addr: std::net::SocketAddr, token: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ organization { slug } }" }))
        .send()
        .await
        .expect("send");
    let body: Value = resp.json().await.expect("json");
    body["data"]["organization"]["slug"].clone()
}

// Listening ----------------------------------------------------------------------

#[tokio::test]
async fn dev_mode_refuses_to_listen_beyond_loopback() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.10:8000"] {
        let scratch = Scratch::new();
        let url = format!("sqlite://{}/devgraph.db?mode=rwc", scratch.0.display());
        let args = ConfigArgs::from_flags(&["--database-url", &url, "--addr", addr]);
        let config = Config::from_args(args.expect("flags")).expect("config");
        assert!(config.is_dev_mode(), "no JWT setting on SQLite");
        let err = start_error(config).await;
        assert!(err.contains(addr.trim_end_matches(":0")), "{err}");
        assert!(
            err.contains("JWT_SECRET") && err.contains("JWT_PUBLIC_KEY"),
            "{err}"
        );
        assert!(
            !scratch.0.exists(),
            "{addr}: nothing created, no secret, no database"
        );
    }
    // With a real key the same address is fine.
    let db = TestDb::fresh().await;
    let mut config = Config::for_tests(&db.url, JWT_SECRET);
    config.addr = "0.0.0.0:0".parse().expect("addr");
    build_app(config).await.expect("not dev mode: any address");
}

// The GraphiQL page ----------------------------------------------------------------

/// The GraphiQL page as a browser asks for it, with this `Host` (HTTP/1.0
/// without one, where HTTP/1.1 would require it).
async fn graphiql_page(addr: std::net::SocketAddr, host: Option<&str>) -> String {
    let request = match host {
        Some(host) => format!(
            "GET /graphql HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
        ),
        None => "GET /graphql HTTP/1.0\r\nAccept: text/html\r\n\r\n".to_owned(),
    };
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut page = String::new();
    stream.read_to_string(&mut page).await.expect("read");
    let status = page.split(' ').nth(1);
    assert_eq!(status, Some("200"), "{host:?}: {page}");
    assert!(page.contains("graphiql.min.js"), "{host:?}: still GraphiQL");
    page
}

/// Dev mode listens on loopback, but a page on another site can still reach
/// it through a name it points at 127.0.0.1 (DNS rebinding); that request
/// carries the other name as `Host`, and gets the page without the token.
#[tokio::test]
async fn graphiql_carries_the_dev_token_only_for_loopback_host_names() {
    let (db, scratch) = (TestDb::fresh().await, Scratch::new());
    let app = dev_app(&db, &scratch).await;
    let addr = app.spawn().await.expect("spawn");
    let token = app.state.dev_token.clone().expect("a dev token");
    let bearer = format!("Bearer {token}");
    let port = addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "localhost".to_owned(),
        format!("devgraph.localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let page = graphiql_page(addr, Some(&host)).await;
        assert!(page.contains(&bearer), "{host}: the token is in the page");
    }
    for host in [
        Some(format!("evil.example:{port}")),
        Some("localhost.evil.example".to_owned()),
        Some(format!("192.168.1.20:{port}")),
        None,
    ] {
        let page = graphiql_page(addr, host.as_deref()).await;
        assert!(!page.contains(&token), "{host:?}: no token in the page");
        assert!(page.contains(r#""headers":{}"#), "{host:?}: {page}");
    }
    assert_eq!(organization_of(addr, &token).await, "acme");
}

// Which organization ------------------------------------------------------------------

/// The token is an owner's: minted only for the demo organization dev mode
/// seeded (recorded beside the secret), never for one made otherwise, and
/// not because an organization happens to be the oldest.
#[tokio::test]
async fn the_dev_token_is_only_for_the_demo_organization_dev_mode_seeded() {
    let (real, scratch) = (TestDb::fresh().await, Scratch::new());
    create_org_by_cli(&real).await;
    let app = dev_app(&real, &scratch).await;
    assert!(app.state.dev_token.is_none(), "no token for real-co");
    drop(app);

    let (demo, scratch) = (TestDb::fresh().await, Scratch::new());
    let first = dev_app(&demo, &scratch).await;
    let addr = first.spawn().await.expect("spawn");
    let token = first.state.dev_token.clone().expect("a token for the demo");
    assert_eq!(organization_of(addr, &token).await, "acme");
    drop(first);
    // A restart finds the demo organization it recorded.
    let again = dev_app(&demo, &scratch).await;
    let addr = again.spawn().await.expect("spawn");
    let token = again
        .state
        .dev_token
        .clone()
        .expect("a token after a restart");
    assert_eq!(organization_of(addr, &token).await, "acme");
    drop(again);
    // Without the record, the same demo data is no longer known as dev
    // mode's own: no token.
    let record = scratch.dev_dir().join("dev-demo-org");
    std::fs::remove_file(&record).expect("the demo organization is recorded");
    let unrecorded = dev_app(&demo, &scratch).await;
    assert!(unrecorded.state.dev_token.is_none());
}

// Files ---------------------------------------------------------------------------------

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path).expect("metadata");
    meta.permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A private directory with a dev secret file of `mode` in it.
#[cfg(unix)]
fn planted_secret(scratch: &Scratch, secret: &str, mode: u32) {
    std::fs::create_dir_all(scratch.dev_dir()).expect("mkdir");
    set_mode(&scratch.dev_dir(), 0o700);
    std::fs::write(scratch.secret(), secret).expect("write");
    set_mode(&scratch.secret(), mode);
}

#[cfg(unix)]
#[tokio::test]
async fn the_dev_secret_is_created_0600_in_a_0700_directory() {
    let (db, scratch) = (TestDb::fresh().await, Scratch::new());
    let _app = dev_app(&db, &scratch).await;
    assert_eq!(mode(&scratch.dev_dir()), 0o700, "directory");
    assert_eq!(mode(&scratch.secret()), 0o600, "secret");
    assert_eq!(mode(&scratch.dev_dir().join("dev-demo-org")), 0o600);
}

#[cfg(unix)]
#[tokio::test]
async fn a_dev_secret_others_may_read_is_refused() {
    let secret = "a".repeat(64);
    for wide in [0o644, 0o640, 0o606] {
        let (db, scratch) = (TestDb::fresh().await, Scratch::new());
        planted_secret(&scratch, &secret, wide);
        let err = start_error(dev_config(&db, &scratch)).await;
        assert!(err.contains("dev-jwt-secret"), "{wide:o}: {err}");
        assert!(err.contains("chmod 600"), "{wide:o}: {err}");
    }
    // 0600 is used as it is: the token is signed with it.
    let (db, scratch) = (TestDb::fresh().await, Scratch::new());
    planted_secret(&scratch, &secret, 0o600);
    let app = dev_app(&db, &scratch).await;
    let token = app.state.dev_token.clone().expect("a token");
    let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
    let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .expect("signed with the file's secret");
}

/// A symlink in place of the secret is neither followed to read a secret
/// someone else controls nor written through to create a file elsewhere.
#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_dev_secret_is_refused() {
    let (db, scratch) = (TestDb::fresh().await, Scratch::new());
    std::fs::create_dir_all(scratch.dev_dir()).expect("mkdir");
    set_mode(&scratch.dev_dir(), 0o700);
    let elsewhere = scratch.0.join("elsewhere");
    std::os::unix::fs::symlink(&elsewhere, scratch.secret()).expect("symlink");
    let err = start_error(dev_config(&db, &scratch)).await;
    assert!(err.contains("dev-jwt-secret"), "{err}");
    assert!(!elsewhere.exists(), "nothing written through the link");

    std::fs::write(&elsewhere, "b".repeat(64)).expect("write");
    set_mode(&elsewhere, 0o600);
    let err = start_error(dev_config(&db, &scratch)).await;
    assert!(err.contains("symbolic link"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_dev_directory_others_may_use_is_refused() {
    for wide in [0o755, 0o770, 0o777] {
        let (db, scratch) = (TestDb::fresh().await, Scratch::new());
        std::fs::create_dir_all(scratch.dev_dir()).expect("mkdir");
        set_mode(&scratch.dev_dir(), wide);
        let err = start_error(dev_config(&db, &scratch)).await;
        assert!(err.contains("chmod 700"), "{wide:o}: {err}");
        assert!(
            !scratch.secret().exists(),
            "{wide:o}: no secret written there"
        );
    }
}
