//! `POST /v1/delivery`: delivery data from any CI or forge (GitLab, Jenkins, a script),
//! authenticated by an API key with the `delivery:write` scope bound to a project. The body's
//! shape is in `service::delivery::batch`; it is validated whole (one bad item rejects the
//! batch, nothing stored) and answered 202 with the counts only after it is committed.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::{
    AppState,
    machine::{self, Failure, fail},
};
use crate::{
    permissions,
    service::delivery::{self, Ingested},
};

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match handle(state, headers, body).await {
        Ok(ingested) => (StatusCode::ACCEPTED, Json(ingested)).into_response(),
        Err(failure) => machine::answer(failure),
    }
}

async fn handle(state: AppState, headers: HeaderMap, body: Body) -> Result<Ingested, Failure> {
    let posted = machine::accept(&state, &headers, body, |caller| {
        permissions::delivery_endpoint_project(&caller.ctx)
    })
    .await?;
    let (ctx, project) = (&posted.caller.ctx, posted.granted);
    let max_items = state.config.limits.ingest.max_events;
    let now = chrono::Utc::now();
    let facts = delivery::batch::parse(ctx, &state.db, project, &posted.body, max_items, now)
        .await
        .map_err(fail)?;
    delivery::ingest(ctx, &state.db, &state.live, facts, None)
        .await
        .map_err(fail)
}
