//! `POST /v1/events`: ingestion for machines, authenticated by an API key
//! with the `events:write` scope bound to a project. The body is
//! `{"events": [{"id", "name", "developer", "occurredAt", "properties"}]}`
//! (and optionally `"project"`: the bound project's id or slug, checked).
//! Answers 202 with the counts only after the batch is committed.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    AppState,
    machine::{self, Failure, fail},
};
use crate::{
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
        Err(failure) => machine::answer(failure),
    }
}

async fn handle(
    state: AppState,
    headers: HeaderMap,
    body: Body,
) -> Result<service::events::Ingested, Failure> {
    let posted = machine::accept(&state, &headers, body, |caller| {
        permissions::events_endpoint_project(&caller.ctx)
    })
    .await?;
    let (ctx, project) = (&posted.caller.ctx, posted.granted);
    let value = &posted.body;
    if let Some(named) = value.get("project").and_then(Value::as_str) {
        let named_id = service::project::by_id_or_slug(ctx, &state.db, named)
            .await
            .map_err(fail)?;
        if named_id != Some(project) {
            return Err(fail(AppError::Forbidden(
                "this API key belongs to another project".into(),
            )));
        }
    }
    let events = parse_events(value).map_err(fail)?;
    ingest(
        ctx,
        &state.db,
        &state.live,
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
