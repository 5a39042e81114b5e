//! The parts of a GraphQL request as they arrive, from a POST body or GET
//! parameters, each checked for its JSON type before anything runs. The
//! document may be missing when the request names a persisted one instead
//! (`http::persisted` decides).

use std::collections::HashMap;

use async_graphql::{Variables, parser::types::ExecutableDocument};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{error::AppError, http::persisted::Incoming};

/// A GraphQL request as it arrives, before validation of its parts.
pub struct RawRequest {
    pub query: Option<String>,
    /// A persisted document's id (GraphQL over HTTP, Appendix A).
    pub document_id: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Map<String, Value>>,
    pub extensions: Option<Map<String, Value>>,
}

impl RawRequest {
    /// What persisted-document resolution reads.
    pub fn incoming(&self, may_register: bool) -> Incoming<'_> {
        Incoming {
            query: self.query.as_deref(),
            document_id: self.document_id.as_deref(),
            operation_name: self.operation_name.as_deref(),
            extensions: self.extensions.as_ref(),
            may_register,
        }
    }

    /// Whether the request names a persisted document (GET answers to
    /// those may be cached); `documentId` counts only in place of a
    /// document, as `http::persisted` reads it.
    pub fn names_hash(&self) -> bool {
        (self.document_id.is_some() && self.query.is_none())
            || self
                .extensions
                .as_ref()
                .is_some_and(|e| e.contains_key("persistedQuery"))
    }

    /// The request async-graphql runs, `query` being the resolved document,
    /// parsed once.
    pub fn into_request(
        self,
        query: &str,
        doc: Option<ExecutableDocument>,
    ) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query);
        if let Some(doc) = doc {
            request.set_parsed_query(doc);
        }
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(vars) = self.variables {
            request = request.variables(Variables::from_json(Value::Object(vars)));
        }
        for (k, v) in self.extensions.into_iter().flatten() {
            if let Ok(v) = async_graphql::Value::from_json(v) {
                request.extensions.insert(k, v);
            }
        }
        request
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    query: Option<Value>,
    operation_name: Option<Value>,
    document_id: Option<Value>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

pub fn from_body(bytes: &[u8]) -> Result<RawRequest, AppError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_input(format!("the body is not valid JSON: {e}")))?;
    if value.is_array() {
        return Err(AppError::bad_input("batched requests are not supported"));
    }
    from_value(value)
}

/// A request already read as JSON (a POST body, a WebSocket `subscribe` payload).
pub fn from_value(value: Value) -> Result<RawRequest, AppError> {
    let body: PostBody = serde_json::from_value(value)
        .map_err(|_| AppError::bad_input("the body must be a JSON object"))?;
    Ok(RawRequest {
        query: optional_string(body.query, "query")?,
        document_id: optional_string(body.document_id, "documentId")?,
        operation_name: optional_string(body.operation_name, "operationName")?,
        variables: optional_object(body.variables, "variables")?,
        extensions: optional_object(body.extensions, "extensions")?,
    })
}

pub fn from_params(mut params: HashMap<String, String>) -> Result<RawRequest, AppError> {
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
        // A hash-only GET (Apollo's `useGETForHashedQueries`) has no `query`.
        query: params.remove("query"),
        document_id: params.remove("documentId").filter(|n| !n.is_empty()),
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
