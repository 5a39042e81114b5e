//! `/graphql` over HTTP, per the GraphQL-over-HTTP spec: content
//! negotiation between `application/graphql-response+json` and
//! `application/json`, 4xx for request errors under the former, 405 for a
//! mutation over GET, 415/413/406 where the HTTP request itself is wrong.
//! This handler only turns the HTTP request into schema data (tenant
//! context, loaders); the schema knows nothing of HTTP.

use std::collections::HashMap;

use async_graphql::{
    ServerError, Variables,
    parser::{
        parse_query,
        types::{ExecutableDocument, OperationDefinition, OperationType},
    },
};
use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AppState, graphiql};
use crate::{
    config::Introspection,
    error::AppError,
    graphql::{RequestData, SchemaDescriptions, check_shape, is_introspection_only},
};

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
        return graphiql::page(&state);
    }
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(resp) => return *resp,
    };
    let raw = match from_params(params) {
        Ok(raw) => raw,
        Err(err) => return error_response(media, &err, err.status()),
    };
    let doc = parse_document(&raw.query, &state.config.limits);
    if doc
        .as_ref()
        .is_some_and(|d| is_mutation(d, raw.operation_name.as_deref()))
    {
        let err = AppError::bad_input("mutations must be sent with POST");
        let mut resp = error_response(media, &err, StatusCode::METHOD_NOT_ALLOWED);
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return resp;
    }
    execute(state, headers, media, raw, doc).await
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
    execute(state, headers, media, raw, None).await
}

async fn execute(
    state: AppState,
    headers: HeaderMap,
    media: MediaType,
    raw: RawRequest,
    parsed: Option<ExecutableDocument>,
) -> Response {
    // Parsed once (here, or by GET to refuse mutations) for the limits, the
    // variables check and the metrics label, then handed to async-graphql
    // so it does not parse again.
    let doc = parsed.or_else(|| parse_document(&raw.query, &state.config.limits));
    // With introspection open, a query of only `__schema`/`__type`/
    // `__typename` and no credentials is answered without a caller, as
    // GraphiQL and codegen expect: it reads no tenant data (the schema runs
    // it without any tenant context). Credentials, when sent, are checked.
    let anonymous = state.config.introspection == Introspection::On
        && !headers.contains_key(header::AUTHORIZATION)
        && doc
            .as_ref()
            .is_some_and(|d| is_introspection_only(d, raw.operation_name.as_deref()));
    let caller = if anonymous {
        None
    } else {
        match authenticate(&state, &headers, media).await {
            Ok(caller) => Some(caller),
            Err(resp) => return *resp,
        }
    };
    // Request errors, like a validation failure: 400 under
    // graphql-response+json, 200 under application/json.
    let request_error_status = match media {
        MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
        MediaType::Json => StatusCode::OK,
    };
    let operation = OperationLabel(
        state
            .metrics
            .operation_label(operation_name(doc.as_ref(), raw.operation_name.as_deref())),
    );
    if let Err(err) = super::limits::check(&raw.query, doc.as_ref(), &state.config.limits) {
        return labelled(error_response(media, &err, request_error_status), operation);
    }
    if let Some(doc) = &doc
        && let Err(err) = check_shape(
            doc,
            state.config.limits.max_depth,
            state.config.introspection,
        )
        .and_then(|()| check_required_variables(&raw, doc))
    {
        return labelled(error_response(media, &err, request_error_status), operation);
    }
    let descriptions = doc.as_ref().map(SchemaDescriptions::of).unwrap_or_default();
    let mut request = async_graphql::Request::new(raw.query);
    if let Some(doc) = doc {
        request.set_parsed_query(doc);
    }
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
    if let Some(caller) = caller {
        let data = RequestData::new(caller, state.db.clone(), state.config.limits);
        // `recordEvents` counts what it ingests in the same metrics as /v1/events.
        request = request.data(data).data(state.metrics.clone());
    }
    let mut response = state.schema.execute(request).await;
    descriptions.apply(&mut response.data);
    labelled(graphql_response(media, response), operation)
}

/// The caller of a request that reads data: a valid token or an API key
/// with the `read` scope; otherwise the error response to send.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    media: MediaType,
) -> Result<crate::auth::Caller, Box<Response>> {
    let caller = match state.auth.authenticate(&state.db, headers).await {
        Ok(caller) => caller,
        Err(err) => {
            let mut resp = error_response(media, &err, err.status());
            if err.status() == StatusCode::UNAUTHORIZED {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            return Err(Box::new(resp));
        }
    };
    super::observe::record_org(caller.ctx.org_id().uuid());
    if let crate::auth::Actor::ApiKey(key) = caller.ctx.actor()
        && !key.allows(crate::service::api_key::Scope::Read)
    {
        let err = AppError::Forbidden("this API key lacks the `read` scope".into());
        return Err(Box::new(error_response(media, &err, err.status())));
    }
    Ok(caller)
}

/// The operation a request ran, for the `operation` label of the request
/// metrics (see `Metrics::operation_label`).
#[derive(Debug, Clone)]
pub struct OperationLabel(pub String);

/// The name of the operation that runs: the one asked for, or the only one.
fn operation_name<'a>(
    doc: Option<&'a ExecutableDocument>,
    wanted: Option<&'a str>,
) -> Option<&'a str> {
    match (wanted, doc) {
        (Some(name), _) => Some(name),
        (None, Some(doc)) => selected_operation(doc, None)
            .and_then(|(name, _)| name)
            .map(|n| n.as_str()),
        (None, None) => None,
    }
}

fn labelled(mut resp: Response, label: OperationLabel) -> Response {
    resp.extensions_mut().insert(label);
    resp
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
            if err.message.contains("too complex") {
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

/// Picks the response media type from `Accept`, as RFC 9110 §12.5.1 ranks
/// it (the spec: "the highest priority media type listed"): each of our two
/// types takes the q-value of the most specific range that matches it, and
/// the higher q wins whatever the order. A tie goes to graphql-response+json
/// (the spec's own type) only when the client named it; a tie between
/// wildcards (`*/*`, `application/*`) and a missing header mean
/// `application/json`, as the spec says a server SHOULD answer clients that
/// may predate it. A range naming a charset other than UTF-8 matches
/// nothing, since we only write UTF-8.
fn negotiate(headers: &HeaderMap) -> Result<MediaType, Box<Response>> {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if accept.is_empty() {
        return Ok(MediaType::Json);
    }
    // (specificity, q) of the range that decides each type.
    let mut graphql: Option<(u8, f32)> = None;
    let mut json: Option<(u8, f32)> = None;
    for range in accept.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';').map(str::trim);
        let mime = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0_f32;
        let mut utf8 = true;
        for (name, value) in parts.filter_map(|p| p.split_once('=')) {
            let value = value.trim().trim_matches('"');
            if name.trim().eq_ignore_ascii_case("q") {
                // An unreadable weight counts as the default, 1.
                q = value
                    .parse::<f32>()
                    .ok()
                    .filter(|q| q.is_finite())
                    .map_or(1.0, |q| q.clamp(0.0, 1.0));
            } else if name.trim().eq_ignore_ascii_case("charset") {
                utf8 = is_utf8_label(value);
            }
        }
        if !utf8 {
            continue;
        }
        let (specificity, graphql_matches, json_matches) = match mime.as_str() {
            GRAPHQL_RESPONSE => (3, true, false),
            JSON => (3, false, true),
            "application/*" => (2, true, true),
            "*/*" => (1, true, true),
            _ => continue,
        };
        for (matches, best) in [(graphql_matches, &mut graphql), (json_matches, &mut json)] {
            let overrides =
                best.is_none_or(|(s, old)| specificity > s || (specificity == s && q > old));
            if matches && overrides {
                *best = Some((specificity, q));
            }
        }
    }
    let named = graphql.is_some_and(|(specificity, _)| specificity == 3);
    let graphql = graphql.map_or(0.0, |(_, q)| q);
    let json = json.map_or(0.0, |(_, q)| q);
    if graphql > 0.0 && (graphql > json || (graphql == json && named)) {
        Ok(MediaType::GraphqlResponse)
    } else if json > 0.0 {
        Ok(MediaType::Json)
    } else {
        let err = AppError::bad_input(format!(
            "cannot answer in any type of `Accept`; accepted: {GRAPHQL_RESPONSE}, {JSON} (UTF-8)"
        ));
        Err(Box::new(error_response(
            MediaType::Json,
            &err,
            StatusCode::NOT_ACCEPTABLE,
        )))
    }
}

fn is_utf8_label(charset: &str) -> bool {
    charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
}

/// Whether the body's charset, if `Content-Type` names one, is UTF-8.
fn declares_utf8(headers: &HeaderMap) -> bool {
    let Some(ctype) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    ctype
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .all(|(_, value)| is_utf8_label(value.trim().trim_matches('"')))
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
        // The spec: an empty optional parameter is as if it were absent.
        let value = text
            .filter(|t| !t.is_empty())
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

/// The parsed document, unless it is over the size limit (the limits check
/// refuses it without the parsing) or does not parse (execution reports the
/// syntax error precisely).
fn parse_document(query: &str, limits: &crate::config::Limits) -> Option<ExecutableDocument> {
    if query.len() > limits.max_query_bytes {
        return None;
    }
    parse_query(query).ok()
}

/// Whether the operation a GET would run is a mutation.
fn is_mutation(doc: &ExecutableDocument, wanted: Option<&str>) -> bool {
    doc.operations.iter().any(|(name, op)| {
        let selected = match (wanted, name) {
            (Some(w), Some(n)) => w == n.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && op.node.ty != OperationType::Query
    })
}

/// CoerceVariableValues() of the GraphQL spec, for what async-graphql leaves
/// to execution: a non-null variable with no value (and no default) or a
/// null one. async-graphql would run the operation and fail the field with
/// an uncoded error; the spec makes it a request error, before execution.
/// Documents that do not parse, or whose operation cannot be chosen, are
/// left to execution, which reports them properly.
fn check_required_variables(raw: &RawRequest, doc: &ExecutableDocument) -> Result<(), AppError> {
    let Some((_, op)) = selected_operation(doc, raw.operation_name.as_deref()) else {
        return Ok(());
    };
    for def in &op.variable_definitions {
        let def = &def.node;
        let value = raw
            .variables
            .as_ref()
            .and_then(|v| v.get(def.name.node.as_str()));
        let missing = match value {
            None => def.default_value.is_none(),
            Some(value) => value.is_null(),
        };
        if !def.var_type.node.nullable && missing {
            return Err(AppError::bad_field(
                "variables",
                format!(
                    "variable `${}` of required type `{}` was not provided",
                    def.name.node, def.var_type.node
                ),
            ));
        }
    }
    Ok(())
}

/// The operation GetOperation() would pick: the one named, or the only one.
fn selected_operation<'a>(
    doc: &'a ExecutableDocument,
    wanted: Option<&str>,
) -> Option<(Option<&'a async_graphql::Name>, &'a OperationDefinition)> {
    let mut candidates = doc.operations.iter().filter(|(name, _)| match wanted {
        Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
        None => true,
    });
    let (name, op) = candidates.next()?;
    candidates.next().is_none().then_some((name, &op.node))
}
