//! CORS for the routes a browser on another origin calls (`/graphql`, `/`,
//! and the WebSocket endpoint beside them), when `DEVGRAPH_CORS_ORIGINS`
//! lists origins; without it no CORS header is sent at all. Credentials are
//! never allowed: callers send bearer tokens, not cookies, so nothing
//! ambient rides along with a cross-origin request. The ingestion routes
//! (`/v1/events`, `/v1/delivery`, webhooks) get none either: they take API
//! keys and webhook signatures, which belong on servers, not in pages.

use std::time::Duration;

use axum::{
    Router,
    extract::Request,
    http::{HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::AppState;
use crate::config::CorsOrigins;

/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// `router` answering preflights (before any other layer of it, so they
/// take no in-flight slot and never reach a handler's 405) and marking
/// answers for the allowed origins; unchanged when no origin is.
pub fn allow(router: Router<AppState>, origins: &CorsOrigins) -> Router<AppState> {
    let allow_origin = match origins {
        CorsOrigins::None => return router,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            // Checked when the configuration was read (`CorsOrigins::parse`).
            list.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
        ),
    };
    let layer = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-organization"),
            header::IF_NONE_MATCH,
        ])
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(PREFLIGHT_MAX_AGE);
    router
        .layer(layer)
        .layer(axum::middleware::from_fn(only_for_allowed))
}

/// tower-http answers every preflight and sends the allowed methods and
/// headers whatever the origin; only `Access-Control-Allow-Origin` is
/// withheld from the others. Without it the rest is noise, so an origin not
/// on the list sees no CORS header at all.
async fn only_for_allowed(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        let cors: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in cors {
            headers.remove(name);
        }
    }
    resp
}
