//! `/readyz` and the process-wide in-flight limit: what keeps the server
//! answering its operators and its pool from being oversubscribed, whatever
//! one tenant sends.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, Semaphore};

use super::AppState;
use crate::error::AppError;

/// How long a readiness answer is reused.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Longest a ping may take before the database counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness, checked at most once a second over a connection of its own:
/// probes never take a pooled connection from tenant work nor wait behind
/// it, and a flood of probes costs one ping a second.
pub struct Readiness {
    probe: DatabaseConnection,
    last: Mutex<Option<(Instant, bool)>>,
}

impl Readiness {
    pub fn new(probe: DatabaseConnection) -> Arc<Readiness> {
        Arc::new(Readiness {
            probe,
            last: Mutex::new(None),
        })
    }

    /// Concurrent callers wait for the one check in progress (at most
    /// `PING_TIMEOUT`) and share its answer.
    pub async fn is_ready(&self) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, ready)) = *last
            && at.elapsed() < FRESH_FOR
        {
            return ready;
        }
        let ping = tokio::time::timeout(PING_TIMEOUT, self.probe.ping()).await;
        let ready = matches!(ping, Ok(Ok(())));
        *last = Some((Instant::now(), ready));
        ready
    }
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.readiness.is_ready().await {
        let body = serde_json::json!({ "status": "ready" });
        (StatusCode::OK, axum::Json(body)).into_response()
    } else {
        let body = serde_json::json!({ "status": "database unreachable" });
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    }
}

/// The process-wide cap on requests in flight (`DEVGRAPH_MAX_IN_FLIGHT`).
pub fn in_flight_limit(max: usize) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(max.max(1)))
}

/// Admits a request when a slot frees up within the acquire timeout, else
/// answers 503 with `Retry-After`: the queue in front of the pool stays
/// short, and a saturated server says so instead of timing out.
pub async fn limit_in_flight(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let wait = state.config.db_acquire_timeout;
    let slot = tokio::time::timeout(wait, state.in_flight.clone().acquire_owned()).await;
    match slot {
        Ok(Ok(_permit)) => next.run(req).await,
        _ => {
            tracing::warn!("request refused: the server is at its in-flight limit");
            let err = AppError::ServiceUnavailable;
            let mut resp = (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(err.to_response_body()),
            )
                .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp
        }
    }
}

/// Adds `Retry-After` to a 429 answer.
pub fn with_retry_after(mut resp: Response, err: &AppError) -> Response {
    if let AppError::RateLimited { retry_after } = err
        && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, value);
    }
    resp
}
