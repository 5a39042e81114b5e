//! Answers of `/graphql`: an executed response or a refusal, serialized in
//! the negotiated media type with the status the spec asks for, every error
//! with an `extensions.code`.

use async_graphql::ServerError;
use axum::{
    body::Bytes,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::negotiate::MediaType;
use crate::{error::AppError, telemetry::OperationLabel};

pub fn labelled(mut resp: Response, label: OperationLabel) -> Response {
    resp.extensions_mut().insert(label);
    resp
}

/// What a successful answer (data, no error) carries for HTTP caching: the
/// digest of its data (`caching::data_digest`), from which `caching` derives
/// its `ETag`.
#[derive(Clone, Copy)]
pub struct CleanBody(pub [u8; 32]);

/// Serializes an executed response. A response with no data is a request
/// error (parse, validation, variables): 400 under graphql-response+json,
/// and without a `data` entry, as the spec requires. A body that would pass
/// `max_bytes` is abandoned as soon as it does (never held whole) and
/// answered with `data: null` and a LIMIT_EXCEEDED error instead. With
/// `digest`, an answer without errors carries its `CleanBody`.
pub fn graphql_response(
    media: MediaType,
    response: async_graphql::Response,
    max_bytes: usize,
    digest: bool,
) -> Response {
    let body_digest = (digest && response.errors.is_empty())
        .then(|| CleanBody(super::caching::data_digest(&response.data)));
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
    let mut out = Capped {
        bytes: Vec::new(),
        max: max_bytes,
    };
    if serde_json::to_writer(&mut out, &body).is_err() {
        drop(out);
        let message = format!(
            "the response would be larger than {max_bytes} bytes; ask for fewer rows or fields"
        );
        tracing::warn!(%message, "response refused by a limit");
        let body = json!({
            "data": null,
            "errors": [{ "message": message, "extensions": { "code": "LIMIT_EXCEEDED" } }],
        });
        return json_response(media, StatusCode::OK, &body);
    }
    let mut resp = bytes_response(media, status, out.bytes);
    if let Some(body_digest) = body_digest {
        resp.extensions_mut().insert(body_digest);
    }
    resp
}

/// A body buffer that refuses to grow past `max` bytes.
struct Capped {
    bytes: Vec<u8>,
    max: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + data.len() > self.max {
            return Err(std::io::Error::other("response over the size limit"));
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
pub(super) fn error_json(mut err: ServerError, request_error: bool) -> Value {
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
