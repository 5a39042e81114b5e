//! `/graphql` over HTTP, per the GraphQL-over-HTTP spec: content
//! negotiation between `application/graphql-response+json` and
//! `application/json`, 4xx for request errors under the former, 405 for a
//! mutation over GET, 415/413/406 where the HTTP request itself is wrong.
//! This handler only turns the HTTP request into schema data (tenant
//! context, loaders); the schema knows nothing of HTTP.

use std::collections::HashMap;

use async_graphql::{
    ServerError, Variables,
    parser::{parse_query, types::OperationType},
};
use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AppState, graphiql};
use crate::{error::AppError, graphql::RequestData};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MediaType {
    GraphqlResponse,
    Json,
}

/// A GraphQL request as it arrives, before validation of its parts.
struct RawRequest {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if wants_html(&headers) && !params.contains_key("query") {
        return Html(graphiql::page(&state)).into_response();
    }
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(resp) => return *resp,
    };
    let raw = match from_params(params) {
        Ok(raw) => raw,
        Err(err) => return error_response(media, &err, err.status()),
    };
    if is_mutation(&raw) {
        let err = AppError::bad_input("mutations must be sent with POST");
        let mut resp = error_response(media, &err, StatusCode::METHOD_NOT_ALLOWED);
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return resp;
    }
    execute(state, headers, media, raw).await
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(resp) => return *resp,
    };
    if !is_json_content(&headers) {
        let err = AppError::bad_input("Content-Type must be application/json");
        return error_response(media, &err, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let bytes = match axum::body::to_bytes(body, state.config.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let err = AppError::LimitExceeded(format!(
                "the request body is larger than {} bytes",
                state.config.limits.max_body_bytes
            ));
            return error_response(media, &err, StatusCode::PAYLOAD_TOO_LARGE);
        }
    };
    let raw = match from_body(&bytes) {
        Ok(raw) => raw,
        Err(err) => return error_response(media, &err, StatusCode::BAD_REQUEST),
    };
    execute(state, headers, media, raw).await
}

async fn execute(
    state: AppState,
    headers: HeaderMap,
    media: MediaType,
    raw: RawRequest,
) -> Response {
    let caller = match state.auth.authenticate(&state.db, &headers).await {
        Ok(caller) => caller,
        Err(err) => {
            let mut resp = error_response(media, &err, err.status());
            if err.status() == StatusCode::UNAUTHORIZED {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            return resp;
        }
    };
    super::observe::record_org(caller.ctx.org_id().uuid());
    if let crate::auth::Actor::ApiKey(key) = caller.ctx.actor()
        && !key.allows(crate::service::api_key::Scope::Read)
    {
        let err = AppError::Forbidden("this API key lacks the `read` scope".into());
        return error_response(media, &err, err.status());
    }
    if let Err(err) = super::limits::check(&raw.query, &state.config.limits) {
        // A request error, like a validation failure: 400 under
        // graphql-response+json, 200 under application/json.
        let status = match media {
            MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        };
        return error_response(media, &err, status);
    }
    let mut request = async_graphql::Request::new(raw.query);
    if let Some(name) = raw.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = raw.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    if let Some(ext) = raw.extensions {
        for (k, v) in ext {
            if let Ok(v) = async_graphql::Value::from_json(v) {
                request.extensions.insert(k, v);
            }
        }
    }
    let data = RequestData::new(caller, state.db.clone(), state.config.limits);
    let response = state.schema.execute(request.data(data)).await;
    graphql_response(media, response)
}

/// Serializes an executed response. A response with no data is a request
/// error (parse, validation, variables): 400 under graphql-response+json,
/// and without a `data` entry, as the spec requires.
fn graphql_response(media: MediaType, response: async_graphql::Response) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let errors: Vec<Value> = response
        .errors
        .into_iter()
        .map(|e| error_json(e, request_error))
        .collect();
    let body = ResponseBody {
        data: (!request_error).then_some(&response.data),
        errors,
        extensions: &response.extensions,
    };
    let status = if request_error && media == MediaType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    bytes_response(media, status, bytes)
}

/// Serialized straight from async-graphql's values, which keep the field
/// order of the query (a `serde_json::Value` would sort keys).
#[derive(serde::Serialize)]
struct ResponseBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Value>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

/// Every error leaves with a code. Request errors come from the GraphQL
/// engine without one; a field error without one took a path that skipped
/// `AppError`, so its message is not trusted to be safe to show.
fn error_json(mut err: ServerError, request_error: bool) -> Value {
    let has_code = err
        .extensions
        .as_ref()
        .and_then(|ext| ext.get("code"))
        .is_some();
    if !has_code {
        let code = if request_error {
            if err.message.contains("nested too deep") || err.message.contains("too complex") {
                tracing::warn!(message = %err.message, "query refused by a limit");
                "LIMIT_EXCEEDED"
            } else {
                "BAD_USER_INPUT"
            }
        } else {
            tracing::error!(message = %err.message, "field error without a code");
            err.message = "internal error".into();
            "INTERNAL"
        };
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    serde_json::to_value(&err).unwrap_or_else(|_| json!({ "message": "internal error" }))
}

pub fn error_response(media: MediaType, err: &AppError, status: StatusCode) -> Response {
    json_response(media, status, &err.to_response_body())
}

fn json_response(media: MediaType, status: StatusCode, body: &Value) -> Response {
    bytes_response(media, status, serde_json::to_vec(body).unwrap_or_default())
}

fn bytes_response(media: MediaType, status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut resp = (status, Bytes::from(bytes)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(match media {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }),
    );
    resp
}

/// Picks the response media type from `Accept`. No header means
/// `application/json` (what clients that predate the spec expect).
fn negotiate(headers: &HeaderMap) -> Result<MediaType, Box<Response>> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(MediaType::Json);
    };
    let mut wildcard = false;
    let mut json = false;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let mime = parts.next().unwrap_or("").to_ascii_lowercase();
        let refused = parts.any(|p| p.replace(' ', "") == "q=0");
        if refused {
            continue;
        }
        match mime.as_str() {
            GRAPHQL_RESPONSE => return Ok(MediaType::GraphqlResponse),
            JSON => json = true,
            "*/*" | "application/*" => wildcard = true,
            _ => {}
        }
    }
    if json {
        Ok(MediaType::Json)
    } else if wildcard {
        Ok(MediaType::GraphqlResponse)
    } else {
        let err = AppError::bad_input(format!(
            "cannot answer in any type of `Accept`; accepted: {GRAPHQL_RESPONSE}, {JSON}"
        ));
        Err(Box::new(error_response(
            MediaType::Json,
            &err,
            StatusCode::NOT_ACCEPTABLE,
        )))
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

pub(super) fn is_json_content(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(JSON))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    query: Option<Value>,
    operation_name: Option<Value>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

fn from_body(bytes: &[u8]) -> Result<RawRequest, AppError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_input(format!("the body is not valid JSON: {e}")))?;
    if value.is_array() {
        return Err(AppError::bad_input("batched requests are not supported"));
    }
    let body: PostBody = serde_json::from_value(value)
        .map_err(|_| AppError::bad_input("the body must be a JSON object"))?;
    Ok(RawRequest {
        query: match body.query {
            Some(Value::String(q)) => q,
            Some(_) => return Err(AppError::bad_field("query", "`query` must be a string")),
            None => return Err(AppError::bad_field("query", "`query` is missing")),
        },
        operation_name: optional_string(body.operation_name, "operationName")?,
        variables: optional_object(body.variables, "variables")?,
        extensions: optional_object(body.extensions, "extensions")?,
    })
}

fn from_params(mut params: HashMap<String, String>) -> Result<RawRequest, AppError> {
    let query = params
        .remove("query")
        .ok_or_else(|| AppError::bad_field("query", "`query` is missing"))?;
    let parse_object = |name: &str, text: Option<String>| -> Result<_, AppError> {
        let value = text
            .map(|t| serde_json::from_str::<Value>(&t))
            .transpose()
            .map_err(|_| AppError::bad_field(name, format!("`{name}` is not valid JSON")))?;
        optional_object(value, name)
    };
    Ok(RawRequest {
        query,
        operation_name: params.remove("operationName").filter(|n| !n.is_empty()),
        variables: parse_object("variables", params.remove("variables"))?,
        extensions: parse_object("extensions", params.remove("extensions"))?,
    })
}

fn optional_string(value: Option<Value>, name: &str) -> Result<Option<String>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AppError::bad_field(
            name,
            format!("`{name}` must be a string"),
        )),
    }
}

fn optional_object(
    value: Option<Value>,
    name: &str,
) -> Result<Option<Map<String, Value>>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(AppError::bad_field(
            name,
            format!("`{name}` must be an object"),
        )),
    }
}

/// Whether the operation a GET would run is a mutation. Documents that do
/// not parse are left to execution, which reports them properly.
fn is_mutation(raw: &RawRequest) -> bool {
    let Ok(doc) = parse_query(&raw.query) else {
        return false;
    };
    let wanted = raw.operation_name.as_deref();
    doc.operations.iter().any(|(name, op)| {
        let selected = match (wanted, name) {
            (Some(w), Some(n)) => w == n.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && op.node.ty != OperationType::Query
    })
}
