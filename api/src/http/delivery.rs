//! `POST /v1/delivery`: delivery data from any CI or forge (GitLab, Jenkins, a script),
//! authenticated by an API key with the `delivery:write` scope bound to a project. The body's
//! shape is in `service::delivery::batch`; it is validated whole (one bad item rejects the
//! batch, nothing stored) and answered 202 with the counts only after it is committed.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::AppState;
use crate::{
    budget,
    error::AppError,
    permissions,
    service::delivery::{self, Ingested},
};

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match handle(state, headers, body).await {
        Ok(ingested) => (StatusCode::ACCEPTED, Json(ingested)).into_response(),
        Err((status, err)) => {
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
    }
}

type Failure = (StatusCode, AppError);

fn fail(err: AppError) -> Failure {
    (err.status(), err)
}

async fn handle(state: AppState, headers: HeaderMap, body: Body) -> Result<Ingested, Failure> {
    let caller = state
        .auth
        .authenticate(&state.db, &headers)
        .await
        .map_err(fail)?;
    super::observe::record_org(caller.ctx.org_id().uuid());
    let org = caller.ctx.org_id().uuid();
    let _admitted = state
        .budgets
        .admit(org, budget::QUEUE)
        .await
        .map_err(fail)?;
    let project = permissions::delivery_endpoint_project(&caller.ctx).map_err(fail)?;
    if !super::graphql::is_json_content(&headers) {
        let err = AppError::bad_input("Content-Type must be application/json");
        return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, err));
    }
    let limit = state.config.limits.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        let err = AppError::LimitExceeded(format!("the request body is larger than {limit} bytes"));
        (StatusCode::PAYLOAD_TOO_LARGE, err)
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        fail(AppError::bad_input(format!(
            "the body is not valid JSON: {e}"
        )))
    })?;
    let max_items = state.config.limits.ingest.max_events;
    let now = chrono::Utc::now();
    let facts = delivery::batch::parse(&caller.ctx, &state.db, project, &value, max_items, now)
        .await
        .map_err(fail)?;
    delivery::ingest(&caller.ctx, &state.db, facts, None)
        .await
        .map_err(fail)
}
