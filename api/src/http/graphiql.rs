//! The GraphiQL page served to browsers at `/` and `/graphql`, and the
//! scripts and styles it loads, compiled into the binary from
//! `api/assets/graphiql/` (pinned versions; see the README there). The page
//! loads nothing from another origin, and its Content-Security-Policy says
//! so to the browser: no third-party script runs next to the dev token.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
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

pub fn page(state: &AppState) -> Response {
    // In dev mode the demo owner's token is pre-filled, so the first page
    // load already shows data; outside dev mode users paste their own.
    let headers = match &state.dev_token {
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
    let mut resp = (StatusCode::OK, html).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // The page may carry a token: never cache it anywhere.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// `GET /graphiql/{file}`: one of the compiled-in files, or 404.
pub async fn asset(Path(file): Path<String>) -> Response {
    let Some((body, content_type)) = lookup(&file) else {
        let err = AppError::NotFound("no such GraphiQL asset".into());
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

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

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
