//! Dev mode (embedded SQLite, no JWT setting) hands out an owner token: it
//! listens on loopback only, puts the token in the GraphiQL page only for
//! loopback `Host` names, keeps its secret in a private directory, and
//! mints the token only for the demo organization it seeded itself.

use std::path::PathBuf;

use crate::support::{JWT_SECRET, TestDb};
use devgraph::{
    App, Config, build_app,
    config::{ConfigArgs, JwtKey},
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A directory of the test's own, removed with it.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
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

async fn dev_app(db: &TestDb, scratch: &Scratch) -> App {
    build_app(dev_config(db, scratch)).await.expect("dev app")
}

async fn start_error(config: Config) -> String {
    match build_app(config).await {
        Ok(_) => panic!("dev mode started"),
        Err(err) => err.to_string(),
    }
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
