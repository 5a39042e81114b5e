//! HTTP caching of GET answers to queries named by hash (persisted
//! queries): the only requests whose URL is short and stable enough for a
//! browser cache to be worth it. A successful answer gets an `ETag` and
//! `Cache-Control: private, max-age=N`, and a matching `If-None-Match`
//! gets `304 Not Modified` without a body; an answer with errors gets
//! `no-store`, since retrying it must reach the server. POST answers (so
//! mutations, which GET refuses) are never given any of these.
//!
//! The ETag is weak (`W/"..."`), a digest of the data with object keys in
//! sorted order: async-graphql writes the fields of an object in the order
//! their resolvers finish, so the same data can come out in another key
//! order from one request to the next. Equal data, equal tag; byte-equal
//! bodies are not promised, which is what a weak validator says.
//!
//! The query still runs on a revalidation (the data may have changed, and
//! only running it tells): a 304 saves the transfer, not the work.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{negotiate::MediaType, response::CleanBody};
use crate::auth::Caller;

/// What a cached answer depends on besides its body. `private` keeps shared
/// caches out; these keep a browser's cache from serving one caller's
/// answer to another.
const VARY: &str = "Authorization, X-Organization, Accept";

/// How one GET answer is validated: per caller and media type, so an ETag
/// from one organization (or person, or representation) never matches
/// another's answer, even when their bodies are byte for byte the same.
pub struct Validator {
    seed: [u8; 32],
    max_age: u32,
}

impl Validator {
    pub fn new(caller: Option<&Caller>, media: MediaType, max_age: u32) -> Validator {
        let who = match caller {
            Some(caller) => {
                let (kind, id) = caller.ctx.audit_actor();
                let id = id.map(|id| id.to_string()).unwrap_or_default();
                format!("{}/{kind}/{id}", caller.ctx.org_id().uuid())
            }
            None => "anonymous".into(),
        };
        let seed = Sha256::new()
            .chain_update(who.as_bytes())
            .chain_update([0, media as u8])
            .finalize()
            .into();
        Validator { seed, max_age }
    }

    /// The answer with its caching headers, or a 304 in its place.
    pub fn finish(&self, mut resp: Response, request: &HeaderMap) -> Response {
        let headers = resp.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static(VARY));
        let clean = resp.extensions().get::<CleanBody>().copied();
        let (Some(CleanBody(body)), StatusCode::OK) = (clean, resp.status()) else {
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return resp;
        };
        let tag = self.opaque_tag(&body);
        let etag = format!("W/{tag}");
        let cache_control = format!("private, max-age={}", self.max_age);
        let headers = resp.headers_mut();
        for (name, value) in [
            (header::ETAG, &etag),
            (header::CACHE_CONTROL, &cache_control),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        if !none_match(request, &tag) {
            return resp;
        }
        // RFC 9110 §15.4.5: the headers a 200 would have had for caching
        // (ETag, Cache-Control, Vary), no content. The extensions stay: the
        // metrics label the request by its operation as usual.
        let (mut parts, _) = resp.into_parts();
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(parts, Body::empty())
    }

    /// The quoted part of the ETag, which If-None-Match compares.
    fn opaque_tag(&self, body: &[u8; 32]) -> String {
        let hash = Sha256::new()
            .chain_update(self.seed)
            .chain_update(body)
            .finalize();
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash);
        format!("\"{tag}\"")
    }
}

/// Whether `If-None-Match` matches `tag` (RFC 9110 §13.1.2): `*`, or any
/// listed entity tag by weak comparison (a `W/` prefix is ignored).
fn none_match(request: &HeaderMap, tag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|list| list.trim() == "*" || entity_tags(list).any(|t| t == tag))
}

/// The entity tags of a list (`"a", W/"b"`), each with its quotes, weak
/// ones without their `W/`. Parsed rather than split on commas, which an
/// entity tag may contain.
fn entity_tags(mut list: &str) -> impl Iterator<Item = &str> {
    std::iter::from_fn(move || {
        loop {
            list = list.trim_start_matches([' ', '\t', ',']);
            let rest = list.strip_prefix("W/").unwrap_or(list);
            if !rest.starts_with('"') {
                // Not an entity tag: skip to the next comma, or give up.
                let next = list.find(',')?;
                list = &list[next..];
                if list.len() <= 1 {
                    return None;
                }
                continue;
            }
            let end = rest[1..].find('"')? + 2;
            let (tag, tail) = rest.split_at(end);
            list = tail;
            return Some(tag);
        }
    })
}

/// The sha256 of `data` with every object's keys in sorted order: the same
/// for the same data whatever order async-graphql wrote its fields in.
pub fn data_digest(data: &async_graphql::Value) -> [u8; 32] {
    let mut hasher = Sha256::new();
    feed(&mut Feed(&mut hasher), data);
    hasher.finalize().into()
}

/// Writes `value` as JSON with sorted keys into the hasher, without
/// building the text.
fn feed(out: &mut Feed<'_>, value: &async_graphql::Value) {
    use async_graphql::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            out.put(b"{");
            for (key, value) in entries {
                out.json(key.as_str());
                out.put(b":");
                feed(out, value);
                out.put(b",");
            }
            out.put(b"}");
        }
        Value::List(items) => {
            out.put(b"[");
            for item in items {
                feed(out, item);
                out.put(b",");
            }
            out.put(b"]");
        }
        scalar => out.json(scalar),
    }
}

struct Feed<'a>(&'a mut Sha256);

impl Feed<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn json(&mut self, value: &(impl serde::Serialize + ?Sized)) {
        // Writing to a hasher cannot fail, and every scalar serializes.
        let _ = serde_json::to_writer(&mut *self, value);
    }
}

impl std::io::Write for Feed<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_are_read_by_weak_comparison() {
        let tags = |list| entity_tags(list).collect::<Vec<_>>();
        assert_eq!(tags(r#""a""#), [r#""a""#]);
        assert_eq!(
            tags(r#" "a" , W/"b","c,d""#),
            [r#""a""#, r#""b""#, r#""c,d""#]
        );
        assert_eq!(tags(r#"junk, "a""#), [r#""a""#]);
        assert!(tags("").is_empty());
        assert!(tags(r#""unterminated"#).is_empty());
        assert!(tags("junk").is_empty());

        let request = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            }
            headers
        };
        let tag = r#""abc""#;
        assert!(none_match(&request(&[r#""abc""#]), tag));
        assert!(none_match(&request(&[r#"W/"abc""#]), tag));
        assert!(none_match(&request(&[r#""x", "abc""#]), tag));
        assert!(none_match(&request(&[r#""x""#, r#""abc""#]), tag));
        assert!(none_match(&request(&["*"]), tag));
        assert!(!none_match(&request(&[r#""abcd""#]), tag));
        assert!(!none_match(&request(&["abc"]), tag));
        assert!(!none_match(&request(&[]), tag));
    }

    #[test]
    fn the_data_digest_ignores_key_order_and_nothing_else() {
        let value = |json: serde_json::Value| async_graphql::Value::from_json(json).unwrap();
        let a = value(serde_json::json!({ "b": [1, { "y": "x", "z": null }], "a": true }));
        let b = value(serde_json::json!({ "a": true, "b": [1, { "z": null, "y": "x" }] }));
        assert_eq!(data_digest(&a), data_digest(&b));
        for other in [
            serde_json::json!({ "a": true, "b": [{ "z": null, "y": "x" }, 1] }),
            serde_json::json!({ "a": true, "b": [1, { "z": null, "y": "x" }], "c": null }),
            serde_json::json!({ "a": "true", "b": [1, { "z": null, "y": "x" }] }),
            serde_json::json!({ "a": true, "b": [1, { "z": null, "y": "x,\"" }] }),
            serde_json::json!({ "a": true, "b": [1, { "z": null }, "y", "x"] }),
        ] {
            assert_ne!(
                data_digest(&a),
                data_digest(&value(other.clone())),
                "{other}"
            );
        }
    }
}
