//! `POST /v1/webhooks/github/{repository id}`: a repository's GitHub webhook. The delivery is
//! authenticated by its signature (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body with the
//! repository's secret), applied once per `X-GitHub-Delivery`, and translated into facts
//! (`webhooks::github`) that the delivery service stores. An unknown repository, another
//! provider's, and a bad or missing signature all answer the same 401, so the route says
//! nothing about which repository ids exist. Event types devgraph does not read are
//! acknowledged (202) and ignored, as GitHub expects of a receiver.

use std::borrow::Cow;

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use entity::enums::Provider;
use serde_json::json;

use super::{
    AppState,
    machine::{self, Failure, fail},
    webhooks::{
        github::{self, Parsed},
        signature,
    },
};
use crate::{
    auth, budget,
    error::AppError,
    ids::{GlobalId as _, RepositoryId},
    service::{
        delivery::{self, Delivery},
        repository,
    },
};

pub async fn github(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match handle(state, &id, headers, body).await {
        Ok(answer) => (StatusCode::ACCEPTED, Json(answer)).into_response(),
        Err((status, err)) => {
            let resp = (status, Json(err.to_response_body())).into_response();
            super::health::with_retry_after(resp, &err)
        }
    }
}

fn unsigned() -> Failure {
    let err = AppError::Unauthenticated(
        "the delivery's signature does not match: check the webhook secret (X-Hub-Signature-256)"
            .into(),
    );
    (StatusCode::UNAUTHORIZED, err)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The JSON GitHub sent: the body, or with `application/x-www-form-urlencoded`
/// (the content type GitHub's settings page offers first) the body's
/// `payload` field. The signature covers the body as sent, so this runs after
/// the check.
fn payload<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<Cow<'a, [u8]>, Failure> {
    if super::graphql::is_json_content(headers) {
        return Ok(Cow::Borrowed(body));
    }
    if !super::graphql::has_content_type(headers, "application/x-www-form-urlencoded") {
        let err = AppError::bad_input(
            "a webhook's content type must be application/json or \
             application/x-www-form-urlencoded",
        );
        return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, err));
    }
    form_urlencoded::parse(body)
        .find(|(name, _)| name == "payload")
        .map(|(_, json)| Cow::Owned(json.into_owned().into_bytes()))
        .ok_or_else(|| {
            fail(AppError::bad_input(
                "a form-encoded delivery carries its JSON in a `payload` field",
            ))
        })
}

async fn handle(
    state: AppState,
    id: &str,
    headers: HeaderMap,
    body: Body,
) -> Result<serde_json::Value, Failure> {
    let bytes = machine::read_body(&state, body).await?;
    let id = uuid::Uuid::parse_str(id)
        .ok()
        .or_else(|| RepositoryId::from_global(id).ok().map(RepositoryId::uuid))
        .map(RepositoryId::from_db)
        .ok_or_else(unsigned)?;
    let (org, repo) = auth::webhook_repository(&state.db, id)
        .await
        .map_err(fail)?
        .filter(|(_, repo)| repo.provider == Provider::Github)
        .ok_or_else(unsigned)?;
    let secret = repository::webhook_secret(state.secrets.as_deref(), &repo).map_err(fail)?;
    signature::verify(&secret, &bytes, header(&headers, "x-hub-signature-256"))
        .map_err(|_| unsigned())?;
    let ctx = auth::webhook_ctx(org, &repo);
    super::observe::record_org(org.uuid());
    let _admitted = state
        .budgets
        .admit(org.uuid(), budget::QUEUE)
        .await
        .map_err(fail)?;
    let event = header(&headers, "x-github-event")
        .ok_or_else(|| fail(AppError::bad_input("the X-GitHub-Event header is missing")))?
        .to_owned();
    let delivery_id = header(&headers, "x-github-delivery")
        .filter(|d| !d.is_empty() && d.len() <= 200)
        .ok_or_else(|| {
            fail(AppError::bad_input(
                "the X-GitHub-Delivery header is missing",
            ))
        })?
        .to_owned();
    let payload = payload(&headers, &bytes)?;
    let facts = match github::parse(&event, &payload, &repo) {
        Ok(Parsed::Facts(facts)) => facts,
        Ok(Parsed::Ignored(why)) => return Ok(json!({ "ignored": why })),
        Err(e) => return Err(fail(AppError::from(e))),
    };
    let delivery = Delivery {
        repository: id,
        id: delivery_id,
        event,
    };
    let stored = delivery::ingest(&ctx, &state.db, &state.live, facts, Some(delivery))
        .await
        .map_err(fail)?;
    Ok(json!(stored))
}
