//! Content negotiation for `/graphql`: which of the spec's two media types
//! an answer is written in (`Accept`), whether a body is JSON in UTF-8
//! (`Content-Type`), and whether a browser asks for GraphiQL.

use axum::{
    http::{HeaderMap, StatusCode, header},
    response::Response,
};

use super::response::error_response;
use crate::error::AppError;

pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MediaType {
    GraphqlResponse,
    Json,
}

impl MediaType {
    /// The status of a request error (a validation failure, say): 400 under
    /// graphql-response+json, 200 under application/json.
    pub fn request_error_status(self) -> StatusCode {
        match self {
            MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        }
    }
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
pub fn negotiate(headers: &HeaderMap) -> Result<MediaType, Box<Response>> {
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
pub fn declares_utf8(headers: &HeaderMap) -> bool {
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

pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

pub fn is_json_content(headers: &HeaderMap) -> bool {
    has_content_type(headers, JSON)
}

/// Whether `Content-Type` names `mime`, whatever its parameters.
pub fn has_content_type(headers: &HeaderMap, mime: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|sent| sent.trim().eq_ignore_ascii_case(mime))
}
