//! Dev mode (embedded SQLite, no JWT setting) hands out an owner token: it
//! listens on loopback only, puts the token in the GraphiQL page only for
//! loopback `Host` names, keeps its secret in a private directory, and
//! mints the token only for the demo organization it seeded itself.

use std::path::PathBuf;

use crate::support::{JWT_SECRET, TestDb};
use devgraph::{Config, build_app, config::ConfigArgs};

/// A directory of the test's own, removed with it.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let name = format!("devgraph-dev-{}", uuid::Uuid::now_v7().simple());
        Scratch(std::env::temp_dir().join(name))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_error(config: Config) -> String {
    match build_app(config).await {
        Ok(_) => panic!("dev mode started"),
        Err(err) => err.to_string(),
    }
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
