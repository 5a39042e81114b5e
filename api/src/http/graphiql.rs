//! The GraphiQL page served to browsers at `/` and `/graphql`, and the
//! scripts and styles it loads, compiled into the binary from
//! `api/assets/graphiql/` (pinned versions; see the README there). The page
//! loads nothing from another origin, and its Content-Security-Policy says
//! so to the browser: no third-party script runs next to the dev token.

use std::net::IpAddr;

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::AppState;
use crate::error::AppError;

/// Where the assets are served; the page names them under it.
const ASSETS: &str = "/graphiql";

/// Only our own files: scripts from this origin (no inline script, no
/// `eval`), inline styles (GraphiQL's editors set style attributes) and
/// `data:` images (its icons), requests to this origin only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const DEFAULT_QUERY: &str = "# Welcome to devgraph. Press ▶ to run;
# the book icon opens the schema.
{
  viewer { name role }
  organization {
    name
    teamSpaces(first: 5) {
      totalCount
      edges { node { name } }
    }
  }
}
";

pub fn page(state: &AppState, request: &HeaderMap) -> Response {
    let headers = match dev_token(state, request, "GraphiQL") {
        Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
        None => json!({}),
    };
    let config = json!({
        "endpoint": "/graphql",
        "headers": headers,
        "defaultQuery": DEFAULT_QUERY,
    });
    // `<` escaped so no value can close the script element early.
    let config = config.to_string().replace('<', "\\u003c");
    let html = format!(
        r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>devgraph · GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{ASSETS}/graphiql.min.css">
    <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script id="devgraph-config" type="application/json">{config}</script>
    <script src="{ASSETS}/react.production.min.js"></script>
    <script src="{ASSETS}/react-dom.production.min.js"></script>
    <script src="{ASSETS}/graphiql.min.js"></script>
    <script src="{ASSETS}/init.js"></script>
  </body>
</html>
"#
    );
    html_page(html, CONTENT_SECURITY_POLICY)
}

/// The token a page of ours (`page` names it in the log) may carry.
pub(super) fn dev_token<'a>(
    state: &'a AppState,
    request: &HeaderMap,
    page: &str,
) -> Option<&'a str> {
    // In dev mode the demo owner's token is pre-filled, so the first page
    // load already shows data; outside dev mode users paste their own. Dev
    // mode listens on loopback only, but a web page elsewhere can still
    // reach it through a name it re-points at 127.0.0.1 (DNS rebinding),
    // and such a request names that host: only loopback names get the token.
    let token = state
        .dev_token
        .as_deref()
        .filter(|_| is_loopback_host(request));
    if state.dev_token.is_some() && token.is_none() {
        tracing::info!("{page} served without the dev token: the Host is not a loopback name");
    }
    token
}

/// A page of ours: HTML under its Content-Security-Policy, never cached.
pub(super) fn html_page(html: String, csp: &'static str) -> Response {
    let mut resp = (StatusCode::OK, html).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    // The page may carry a token: never cache it anywhere.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// Whether the request's `Host` names this machine: `localhost`, a name
/// under `.localhost` (browsers resolve those to loopback themselves, and no
/// DNS name can be registered under it), or a loopback IP literal
/// (`127.0.0.1`, `[::1]`), with or without a port. No `Host` is not loopback.
fn is_loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = host.trim().to_ascii_lowercase();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // `[v6]` or `[v6]:port`
        match rest.split_once(']') {
            Some((ip, "")) => ip,
            Some((ip, port)) if port.strip_prefix(':').is_some_and(is_port) => ip,
            _ => return false,
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => &host,
        }
    };
    if let Ok(ip) = name.parse::<IpAddr>() {
        return ip.to_canonical().is_loopback();
    }
    name == "localhost"
        || name
            .strip_suffix(".localhost")
            .is_some_and(is_dns_label_list)
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_dns_label_list(name: &str) -> bool {
    name.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// `GET /graphiql/{file}`: one of the compiled-in files, or 404.
pub async fn asset(Path(file): Path<String>) -> Response {
    static_file(lookup(&file), "no such GraphiQL asset")
}

/// A compiled-in file, or a 404 saying `missing`.
pub(super) fn static_file(found: Option<(&'static [u8], &'static str)>, missing: &str) -> Response {
    let Some((body, content_type)) = found else {
        let err = AppError::NotFound(missing.into());
        return (StatusCode::NOT_FOUND, axum::Json(err.to_response_body())).into_response();
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change only with the binary; an hour keeps reloads cheap
    // without pinning a browser to an old version after an upgrade.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

pub(super) const JS: &str = "text/javascript; charset=utf-8";
pub(super) const CSS: &str = "text/css; charset=utf-8";
pub(super) const TEXT: &str = "text/plain; charset=utf-8";

fn lookup(file: &str) -> Option<(&'static [u8], &'static str)> {
    macro_rules! asset {
        ($name:literal) => {
            include_bytes!(concat!("../../assets/graphiql/", $name)).as_slice()
        };
    }
    Some(match file {
        "graphiql.min.js" => (asset!("graphiql.min.js"), JS),
        "graphiql.min.css" => (asset!("graphiql.min.css"), CSS),
        "react.production.min.js" => (asset!("react.production.min.js"), JS),
        "react-dom.production.min.js" => (asset!("react-dom.production.min.js"), JS),
        "init.js" => (asset!("init.js"), JS),
        "LICENSE-graphiql" => (asset!("LICENSE-graphiql"), TEXT),
        "LICENSE-react" => (asset!("LICENSE-react"), TEXT),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback(host: Option<&str>) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        }
        is_loopback_host(&headers)
    }

    #[test]
    fn loopback_hosts_are_localhost_names_and_loopback_ips() {
        for host in [
            "localhost",
            "LOCALHOST:8000",
            "app.localhost:3000",
            "127.0.0.1",
            "127.0.0.1:8000",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:8000",
            "[::ffff:127.0.0.1]:8000",
        ] {
            assert!(loopback(Some(host)), "{host} is loopback");
        }
    }

    #[test]
    fn other_hosts_and_no_host_are_not_loopback() {
        for host in [
            "evil.example",
            "evil.example:8000",
            "localhost.evil.example",
            "localhost.",
            "127.0.0.1.nip.io",
            "0.0.0.0:8000",
            "10.0.0.5:8000",
            "[::]:8000",
            "[::1]x",
            "localhost:80:80",
            "localhost:",
            ".localhost",
            "a..localhost",
            "",
        ] {
            assert!(!loopback(Some(host)), "{host:?} is not loopback");
        }
        assert!(!loopback(None), "no Host is not loopback");
    }
}
