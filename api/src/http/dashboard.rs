//! The dashboard at `/dashboard`: a read-only page that draws the
//! organization's activity by team space, its top event names and its DORA
//! keys in the browser, from the same `/graphql` every client uses (and live
//! through `/graphql/ws`). Its page, script and styles, with the pinned
//! uPlot and graphql-ws builds it uses, are compiled into the binary from
//! `api/assets/dashboard/` (see the README there), and the page's
//! Content-Security-Policy lets nothing else run or load next to a token.

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};
use serde_json::json;

use super::{
    AppState,
    graphiql::{CSS, JS, TEXT, dev_token, html_page, static_file},
};

/// Only our own files, with no inline script or style and no `eval`;
/// requests to this origin only. `'self'` also covers the WebSocket of the
/// same host and port (`ws:` from an `http:` page, `wss:` from `https:`)
/// under CSP Level 3, which Chromium (since 71), Firefox and Safari (since
/// 16) follow; where a browser does not, only the live indicator stays off.
/// Naming the socket's URL instead would mean echoing the request's `Host`
/// into the policy.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The page, whose settings block the handler fills in.
const INDEX: &str = include_str!("../../assets/dashboard/index.html");
const CONFIG_SLOT: &str = "{{devgraph-config}}";

/// `GET /dashboard`: the page, with the dev token only where GraphiQL
/// would get it (dev mode, loopback `Host`); anyone else pastes a token.
pub async fn page(State(state): State<AppState>, request: HeaderMap) -> Response {
    let config = json!({
        "endpoint": "/graphql",
        "subscriptions": "/graphql/ws",
        "devToken": dev_token(&state, &request, "the dashboard"),
    });
    // `<` escaped so no value can close the script element early.
    let config = config.to_string().replace('<', "\\u003c");
    html_page(
        INDEX.replacen(CONFIG_SLOT, &config, 1),
        CONTENT_SECURITY_POLICY,
    )
}

/// `GET /dashboard/{file}`: one of the compiled-in files, or 404.
pub async fn asset(Path(file): Path<String>) -> Response {
    static_file(lookup(&file), "no such dashboard asset")
}

fn lookup(file: &str) -> Option<(&'static [u8], &'static str)> {
    macro_rules! asset {
        ($name:literal) => {
            include_bytes!(concat!("../../assets/dashboard/", $name)).as_slice()
        };
    }
    Some(match file {
        "dashboard.js" => (asset!("dashboard.js"), JS),
        "dashboard.css" => (asset!("dashboard.css"), CSS),
        "uPlot.iife.min.js" => (asset!("uPlot.iife.min.js"), JS),
        "uPlot.min.css" => (asset!("uPlot.min.css"), CSS),
        "graphql-ws.min.js" => (asset!("graphql-ws.min.js"), JS),
        "LICENSE-uplot" => (asset!("LICENSE-uplot"), TEXT),
        "LICENSE-graphql-ws" => (asset!("LICENSE-graphql-ws"), TEXT),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_one_settings_slot() {
        assert_eq!(INDEX.matches(CONFIG_SLOT).count(), 1);
    }

    #[test]
    fn every_file_the_page_names_is_served() {
        for name in INDEX
            .split("\"/dashboard/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
        {
            assert!(
                lookup(name).is_some(),
                "{name} is named by the page but not served"
            );
        }
    }
}
