//! `TEST_LOG=1` shows the server's tracing output in the tests' output
//! (filtered by `RUST_LOG`, default `info`); without it tests stay quiet.

use std::sync::Once;

/// Installs the subscriber once per test binary; every way of getting a
/// database or a server calls it first.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let on = std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0");
        if !on {
            return;
        }
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // The test writer goes through the harness's capture: a passing
        // test's log is shown only with `--nocapture`.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}
