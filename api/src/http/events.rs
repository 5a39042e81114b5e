//! `POST /v1/events`: ingestion for machines, authenticated by an API key
//! with the `events:write` scope bound to a project. The body is
//! `{"events": [{"id", "name", "developer", "occurredAt", "properties"}]}`
//! (and optionally `"project"`: the bound project's id or slug, checked).
//! Answers 202 with the counts only after the batch is committed.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::AppState;
use crate::{
    budget,
    error::AppError,
    permissions,
    service::{
        self,
        events::{EventInput, ingest},
    },
};

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let telemetry = state.telemetry.clone();
    match handle(state, headers, body).await {
        Ok(ingested) => {
            telemetry.events_ingested(ingested.accepted);
            let counts = json!({
                "accepted": ingested.accepted,
                "duplicated": ingested.duplicated,
                "unmatched": ingested.unmatched,
            });
            (StatusCode::ACCEPTED, Json(counts)).into_response()
        }
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

async fn handle(
    state: AppState,
    headers: HeaderMap,
    body: Body,
) -> Result<service::events::Ingested, Failure> {
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
    let project = permissions::events_endpoint_project(&caller.ctx).map_err(fail)?;
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
    if let Some(named) = value.get("project").and_then(Value::as_str) {
        let named_id = service::project::by_id_or_slug(&caller.ctx, &state.db, named)
            .await
            .map_err(fail)?;
        if named_id != Some(project) {
            return Err(fail(AppError::Forbidden(
                "this API key belongs to another project".into(),
            )));
        }
    }
    let events = parse_events(&value).map_err(fail)?;
    ingest(
        &caller.ctx,
        &state.db,
        project,
        events,
        &state.config.limits.ingest,
    )
    .await
    .map_err(fail)
}

/// Reads the batch shape; values are validated by the service.
pub fn parse_events(body: &Value) -> Result<Vec<EventInput>, AppError> {
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| AppError::bad_field("events", "the body must be {\"events\": [...]}"))?;
    events
        .iter()
        .enumerate()
        .map(|(index, event)| {
            let field = |name: &str| event.get(name).filter(|v| !v.is_null());
            let text = |name: &str, required: bool| -> Result<Option<String>, AppError> {
                match field(name) {
                    None if required => Err(bad(index, name, "is required")),
                    None => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(bad(index, name, "must be a string")),
                }
            };
            if !event.is_object() {
                return Err(AppError::bad_field(
                    &format!("events[{index}]"),
                    format!("events[{index}]: must be an object"),
                ));
            }
            Ok(EventInput {
                client_id: text("id", true)?.unwrap_or_default(),
                name: text("name", true)?.unwrap_or_default(),
                developer: text("developer", false)?,
                occurred_at: text("occurredAt", true)?.unwrap_or_default(),
                properties: field("properties").cloned(),
            })
        })
        .collect()
}

fn bad(index: usize, field: &str, reason: &str) -> AppError {
    let path = format!("events[{index}].{field}");
    AppError::bad_field(&path, format!("{path}: {reason}"))
}
