//! The dashboard's page and files as HTTP serves them: HTML under a strict
//! Content-Security-Policy, every file it names served from the binary, and
//! dev mode's token in the page only for loopback `Host` names. What the
//! page draws is checked in a real browser (`tests/clients/dashboard.test.mjs`).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::dev_mode::{Scratch, dev_app};
use crate::support::{TestApp, TestDb};

/// A response read off the wire: status, lower-cased headers, body.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// `GET path` with this `Host`, written by hand so the `Host` is exactly it.
async fn get(addr: SocketAddr, path: &str, host: &str) -> Raw {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.expect("read");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// The files the page loads or links, as it names them.
fn named_files(page: &str) -> Vec<String> {
    page.split("\"/dashboard/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| format!("/dashboard/{name}"))
        .collect()
}

#[tokio::test]
async fn the_page_and_its_files_come_from_the_binary_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    let host = app.addr.to_string();
    let page = get(app.addr, "/dashboard", &host).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.header("cache-control"), "no-store");
    let csp = page.header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            csp.split("; ").any(|d| d == directive),
            "{directive} in {csp}"
        );
    }
    assert!(!csp.contains("unsafe"), "nothing unsafe: {csp}");
    // Not dev mode: no token, whatever the host.
    assert!(page.body.contains(r#""devToken":null"#), "{}", page.body);

    let files = named_files(&page.body);
    for needed in [
        "dashboard.js",
        "uPlot.iife.min.js",
        "graphql-ws.min.js",
        "LICENSE-uplot",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(needed)),
            "{needed} in {files:?}"
        );
    }
    for file in &files {
        let reply = get(app.addr, file, &host).await;
        assert_eq!(reply.status, 200, "{file}");
        assert!(!reply.body.is_empty(), "{file}");
        assert_eq!(reply.header("x-content-type-options"), "nosniff", "{file}");
        let expected = match file.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            _ => "text/plain",
        };
        assert!(reply.header("content-type").starts_with(expected), "{file}");
    }
    for missing in [
        "/dashboard/nope.js",
        "/dashboard/..%2FCargo.toml",
        "/dashboard/index.html",
    ] {
        let reply = get(app.addr, missing, &host).await;
        assert_eq!(reply.status, 404, "{missing}");
        assert!(
            reply.body.contains("NOT_FOUND"),
            "{missing}: {}",
            reply.body
        );
    }
}

/// The same rule as GraphiQL's: a page reached through a name that is not
/// loopback (a DNS-rebinding attacker's) gets no token.
#[tokio::test]
async fn dev_mode_puts_its_token_in_the_page_only_for_loopback_host_names() {
    let (db, scratch) = (TestDb::fresh().await, Scratch::new());
    let app = dev_app(&db, &scratch).await;
    let addr = app.spawn().await.expect("spawn");
    let token = app.state.dev_token.clone().expect("a dev token");
    let port = addr.port();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let page = get(addr, "/dashboard", &host).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains(&format!(r#""devToken":"{token}""#)),
            "{host}: the token is in the page"
        );
    }
    for host in [
        format!("evil.example:{port}"),
        format!("192.168.1.20:{port}"),
    ] {
        let page = get(addr, "/dashboard", &host).await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains(&token), "{host}: no token in the page");
        assert!(page.body.contains(r#""devToken":null"#), "{host}");
    }
}
