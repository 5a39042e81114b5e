//! `/graphql` over HTTP, per the GraphQL-over-HTTP spec: content
//! negotiation between `application/graphql-response+json` and
//! `application/json`, 4xx for request errors under the former, 405 for a
//! mutation over GET, 415/413/406 where the HTTP request itself is wrong.
//! A request may name a persisted document instead of sending it
//! (`http::persisted`); a GET that does is answered with HTTP caching
//! headers (`caching`). This handler only turns the HTTP request into
//! schema data (tenant context, loaders); the schema knows nothing of HTTP.

mod body;
mod caching;
mod document;
mod negotiate;
mod response;
pub mod ws;

use std::collections::HashMap;

use async_graphql::parser::types::OperationType;
use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};

use negotiate::{MediaType, declares_utf8, negotiate, wants_html};
pub use negotiate::{has_content_type, is_json_content};
use response::{error_response, graphql_response, labelled};

use super::{AppState, graphiql, persisted::Resolved};
use crate::{
    auth::Caller,
    config::{Introspection, Limits},
    error::AppError,
    graphql::{RequestData, SchemaDescriptions, is_introspection_only},
    permissions,
    telemetry::OperationLabel,
};
use body::{RawRequest, from_body, from_params};
use document::{is_mutation, operation_name, operation_type, parse_document};

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let names_document = ["query", "documentId", "extensions"]
        .iter()
        .any(|p| params.contains_key(*p));
    if wants_html(&headers) && !names_document {
        return graphiql::page(&state, &headers);
    }
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(resp) => return *resp,
    };
    let caller = match caller_from_headers(&state, &headers, media).await {
        Ok(caller) => caller,
        Err(resp) => return *resp,
    };
    let raw = match from_params(params) {
        Ok(raw) => raw,
        Err(err) => return error_response(media, &err, err.status()),
    };
    if !raw.names_hash() {
        return get_resolved(state, media, raw, caller, false).await;
    }
    let max_age = state.config.clients.cache_max_age;
    let validator = caching::Validator::new(caller.as_ref(), media, max_age);
    let resp = get_resolved(state, media, raw, caller, true).await;
    validator.finish(resp, &headers)
}

async fn get_resolved(
    state: AppState,
    media: MediaType,
    raw: RawRequest,
    caller: Option<Caller>,
    cacheable: bool,
) -> Response {
    let mut resolved = match resolve(&state, media, &raw, caller.is_some()) {
        Ok(resolved) => resolved,
        Err(resp) => return *resp,
    };
    if resolved.parsed.is_none() {
        resolved.parsed = parse_document(&resolved.query, &state.config.limits);
    }
    if resolved
        .parsed
        .as_ref()
        .is_some_and(|d| is_mutation(d, raw.operation_name.as_deref()))
    {
        let err = AppError::bad_input("mutations must be sent with POST");
        let mut resp = error_response(media, &err, StatusCode::METHOD_NOT_ALLOWED);
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return resp;
    }
    execute(state, media, raw, resolved, caller, cacheable).await
}

/// The document the request runs (`http::persisted`), or the answer to a
/// request that runs none. A persisted query the server does not know is a
/// request error, 200 under application/json (Apollo Client 3 stops using
/// persisted queries on a 400 or 500 there; version 4 and urql read the
/// code from any status); the other refusals keep their status.
fn resolve(
    state: &AppState,
    media: MediaType,
    raw: &RawRequest,
    authenticated: bool,
) -> Result<Resolved, Box<Response>> {
    state
        .documents
        .resolve(raw.incoming(authenticated))
        .map_err(|err| {
            let status = match err {
                AppError::PersistedQueryNotFound => media.request_error_status(),
                _ => err.status(),
            };
            Box::new(error_response(media, &err, status))
        })
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(resp) => return *resp,
    };
    // Only UTF-8 is read (the spec's MUST; no charset means UTF-8): a body
    // declared in another charset is refused rather than misread.
    if !is_json_content(&headers) || !declares_utf8(&headers) {
        let err = AppError::bad_input("Content-Type must be application/json, in UTF-8");
        return error_response(media, &err, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    // Credentials are checked before a byte of the body is read, so a
    // caller with wrong ones cannot make the server buffer and parse up to
    // the body limit.
    let caller = match caller_from_headers(&state, &headers, media).await {
        Ok(caller) => caller,
        Err(resp) => return *resp,
    };
    let limit = match caller {
        Some(_) => state.config.limits.max_body_bytes,
        None => anonymous_body_limit(&state.config.limits),
    };
    let bytes = match read_body(&headers, body, limit).await {
        Some(b) => b,
        // Without credentials only introspection runs, and no introspection
        // query needs a body this large: the answer is the missing
        // credentials, not the size.
        None if caller.is_none() => return unauthenticated(media),
        None => {
            let err =
                AppError::LimitExceeded(format!("the request body is larger than {limit} bytes"));
            return error_response(media, &err, StatusCode::PAYLOAD_TOO_LARGE);
        }
    };
    let raw = match from_body(&bytes) {
        Ok(raw) => raw,
        Err(err) => return error_response(media, &err, StatusCode::BAD_REQUEST),
    };
    match resolve(&state, media, &raw, caller.is_some()) {
        Ok(resolved) => execute(state, media, raw, resolved, caller, false).await,
        Err(resp) => *resp,
    }
}

/// The most an anonymous POST body may be: twice the largest document (its
/// JSON string escapes at most double ordinary text) and room for the
/// other members. Larger ones cannot be an introspection query that runs.
fn anonymous_body_limit(limits: &Limits) -> usize {
    limits
        .max_query_bytes
        .saturating_mul(2)
        .saturating_add(16 * 1024)
        .min(limits.max_body_bytes)
}

/// The body, or `None` when it is over `limit`: refused from its declared
/// length before any of it is read, or as soon as more arrives.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Option<Bytes> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return None;
    }
    axum::body::to_bytes(body, limit).await.ok()
}

/// Runs the resolved document; with `cacheable`, a clean answer carries
/// the digest of its data for `caching`.
async fn execute(
    state: AppState,
    media: MediaType,
    raw: RawRequest,
    resolved: Resolved,
    caller: Option<Caller>,
    cacheable: bool,
) -> Response {
    // Parsed once (here, by GET to refuse mutations, or by trusted-documents
    // resolution) for the checks and the metrics label, then handed to
    // async-graphql so it does not parse again.
    let Resolved { query, parsed } = resolved;
    let doc = parsed.or_else(|| parse_document(&query, &state.config.limits));
    // No credentials: only an introspection-only query runs, without any
    // tenant context, so it reads no tenant data (see `caller_from_headers`).
    let anonymous_introspection = doc
        .as_ref()
        .is_some_and(|d| is_introspection_only(d, raw.operation_name.as_deref()));
    if caller.is_none() && !anonymous_introspection {
        return unauthenticated(media);
    }
    // Held until the answer is built: the organization's in-flight slot.
    let admitted = match &caller {
        Some(caller) => match state
            .budgets
            .admit(caller.ctx.org_id().uuid(), crate::budget::QUEUE)
            .await
        {
            Ok(admitted) => Some(admitted),
            Err(err) => {
                let resp = error_response(media, &err, err.status());
                return super::health::with_retry_after(resp, &err);
            }
        },
        None => None,
    };
    let org = caller.as_ref().map(|c| c.ctx.org_id().uuid());
    let operation = OperationLabel(state.telemetry.operation_label(
        org,
        operation_name(doc.as_ref(), raw.operation_name.as_deref()),
    ));
    let checked = document::check(&query, &raw, doc.as_ref(), &state.config).and_then(|()| {
        let name = raw.operation_name.as_deref();
        match doc.as_ref().and_then(|d| operation_type(d, name)) {
            Some(OperationType::Subscription) => Err(AppError::bad_input(
                "subscriptions are served over WebSocket at /graphql/ws (graphql-transport-ws)",
            )),
            _ => Ok(()),
        }
    });
    if let Err(err) = checked {
        let resp = error_response(media, &err, media.request_error_status());
        return labelled(resp, operation);
    }
    let descriptions = doc.as_ref().map(SchemaDescriptions::of).unwrap_or_default();
    let mut request = raw.into_request(&query, doc);
    if let Some(caller) = caller {
        request = request.data(request_data(&state, caller));
    }
    let execution = state.schema.execute(request);
    let allowance = admitted.as_ref().map(|a| a.points_left());
    let limits = &state.config.limits;
    let (mut response, weighed) = crate::graphql::weighed(limits, allowance, execution).await;
    if let Some(admitted) = &admitted {
        if weighed.over_allowance {
            // Refused in validation; the budget says why and for how long.
            let err = admitted
                .may_spend(weighed.points)
                .err()
                .unwrap_or(AppError::RateLimited { retry_after: 1 });
            let resp = error_response(media, &err, err.status());
            return labelled(super::health::with_retry_after(resp, &err), operation);
        }
        admitted.spend(weighed.points);
    }
    descriptions.apply(&mut response.data);
    let max_bytes = state.config.limits.max_response_bytes;
    let resp = graphql_response(media, response, max_bytes, cacheable);
    labelled(resp, operation)
}

/// What the schema's resolvers read for `caller`'s request (or subscription).
fn request_data(state: &AppState, caller: Caller) -> RequestData {
    RequestData::new(
        caller,
        state.db.clone(),
        state.config.limits,
        state.telemetry.clone(),
        state.budgets.clone(),
        state.secrets.clone(),
        state.live.clone(),
    )
}

/// Who calls, from the headers alone: the authenticated caller allowed to
/// read, or the error response to send. `None` only when the request
/// carries no credentials and introspection is open to anyone (as
/// GraphiQL and codegen expect): whether it may run is known from the
/// document, and anything but an introspection-only query is then refused
/// as unauthenticated. Credentials, when sent, are always checked.
async fn caller_from_headers(
    state: &AppState,
    headers: &HeaderMap,
    media: MediaType,
) -> Result<Option<Caller>, Box<Response>> {
    if state.config.introspection == Introspection::On
        && !headers.contains_key(header::AUTHORIZATION)
    {
        return Ok(None);
    }
    let caller = match state.auth.authenticate(&state.db, headers).await {
        Ok(caller) => caller,
        Err(err) => return Err(Box::new(auth_error(media, &err))),
    };
    super::observe::record_org(caller.ctx.org_id().uuid());
    permissions::may_read(&caller.ctx)
        .map_err(|err| Box::new(error_response(media, &err, err.status())))?;
    Ok(Some(caller))
}

/// The answer to a request without credentials that needs them (only
/// reached without an `Authorization` header; see `caller_from_headers`).
fn unauthenticated(media: MediaType) -> Response {
    let err = AppError::Unauthenticated("missing Authorization header".into());
    auth_error(media, &err)
}

fn auth_error(media: MediaType, err: &AppError) -> Response {
    let mut resp = error_response(media, err, err.status());
    if err.status() == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

/// Any method but GET (and HEAD) and POST. axum's own 405 has `Allow` but an
/// empty body; this one is a GraphQL error with a code, like every other
/// refusal of the endpoint.
pub async fn method_not_allowed(headers: HeaderMap) -> Response {
    // The method is the fault here, whatever `Accept` says.
    let media = negotiate(&headers).unwrap_or(MediaType::Json);
    let err = AppError::bad_input("the GraphQL endpoint accepts GET and POST");
    let mut resp = error_response(media, &err, StatusCode::METHOD_NOT_ALLOWED);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
    resp
}
