//! Observability at the HTTP edge: a request id on every request (taken
//! from `x-request-id` or made up, echoed back), a tracing span per request
//! that the auth step fills with the organization id, the request counters
//! of `Telemetry`, and its Prometheus text at `/metrics`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::AppState;
use crate::telemetry::OperationLabel;

/// Times and counts every request, and gives it a request id and a span.
pub async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_safe_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert("x-request-id", value);
    }
    let span = tracing::info_span!("request", %request_id, %method, %route, org_id = tracing::field::Empty);
    let mut resp = {
        use tracing::Instrument;
        next.run(req).instrument(span).await
    };
    let status = resp.status().as_u16().to_string();
    let operation = resp
        .extensions()
        .get::<OperationLabel>()
        .map(|op| op.0.clone())
        .unwrap_or_default();
    state
        .telemetry
        .request_done(route, method, status, operation, started.elapsed());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", value);
    }
    resp
}

/// A client's request id is logged as a field: spaces, quotes or `=`
/// would let it forge other fields of the log line, so only 1 to 128 of
/// `[A-Za-z0-9._-]` are taken; anything else is replaced by a fresh id.
fn is_safe_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Answers 503 when a request outlives `request_timeout`. Dropping the
/// handler rolls back its open transaction, so nothing unanswered commits.
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!("request timed out");
            let err = crate::error::AppError::ServiceUnavailable;
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(err.to_response_body()),
            )
                .into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.telemetry.encode(&state.db);
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// Names the organization on the current request's span, once known.
pub fn record_org(org_id: uuid::Uuid) {
    tracing::Span::current().record("org_id", tracing::field::display(org_id));
}
