//! What the routes machines post JSON to (`/v1/events`, `/v1/delivery`) share: the API key
//! authenticated, the organization's budget taken, the body read within its limit and parsed,
//! and failures answered with their status, `Retry-After` when over budget, and
//! `WWW-Authenticate` on 401.

use axum::{
    Json,
    body::Body,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::AppState;
use crate::{
    auth::Caller,
    budget::{self, Admitted},
    error::AppError,
};

pub type Failure = (StatusCode, AppError);

pub fn fail(err: AppError) -> Failure {
    (err.status(), err)
}

/// A request that passed the shared checks: who sent it, what the route's check granted it
/// (say, its project), its budget slot (held until the answer), and its JSON body.
pub struct Posted<T> {
    pub caller: Caller,
    pub granted: T,
    pub _admitted: Admitted,
    pub body: Value,
}

/// Authenticates, admits and reads a JSON body. `check` runs after admission and before the
/// body is read (the route's own rule for who may post, so a refused caller's body is never
/// read).
pub async fn accept<T>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    check: impl FnOnce(&Caller) -> Result<T, AppError>,
) -> Result<Posted<T>, Failure> {
    let caller = state
        .auth
        .authenticate(&state.db, headers)
        .await
        .map_err(fail)?;
    super::observe::record_org(caller.ctx.org_id().uuid());
    let org = caller.ctx.org_id().uuid();
    let admitted = state
        .budgets
        .admit(org, budget::QUEUE)
        .await
        .map_err(fail)?;
    let granted = check(&caller).map_err(fail)?;
    if !super::graphql::is_json_content(headers) {
        let err = AppError::bad_input("Content-Type must be application/json");
        return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, err));
    }
    let bytes = read_body(state, body).await?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        fail(AppError::bad_input(format!(
            "the body is not valid JSON: {e}"
        )))
    })?;
    Ok(Posted {
        caller,
        granted,
        _admitted: admitted,
        body,
    })
}

/// The raw body, up to the configured size (413 above it).
pub async fn read_body(state: &AppState, body: Body) -> Result<axum::body::Bytes, Failure> {
    let limit = state.config.limits.max_body_bytes;
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        let err = AppError::LimitExceeded(format!("the request body is larger than {limit} bytes"));
        (StatusCode::PAYLOAD_TOO_LARGE, err)
    })
}

/// A failure as the answer: its status and coded body, with the headers it calls for.
pub fn answer((status, err): Failure) -> Response {
    let resp = (status, Json(err.to_response_body())).into_response();
    let mut resp = super::health::with_retry_after(resp, &err);
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    resp
}
