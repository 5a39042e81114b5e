//! Persisted documents: which document a request runs when it names one by
//! hash instead of (or besides) sending it. Two modes, one per process:
//!
//! - automatic persisted queries (APQ, the protocol of Apollo Client's
//!   persisted-queries link and urql's persisted exchange): a hash the
//!   server does not know answers PERSISTED_QUERY_NOT_FOUND, the client
//!   sends it again with the document, and the document is kept (in a
//!   bounded LRU store, per process) so that later requests send the hash
//!   alone;
//! - trusted documents (`DEVGRAPH_TRUSTED_DOCUMENTS`): only the documents of
//!   a manifest written at build time run, named by hash or sent verbatim;
//!   nothing is registered at run time.
//!
//! Resolution happens before the document is parsed, and is the same for
//! every transport (`/graphql` over HTTP and WebSocket subscriptions), so
//! it lives here and not in one handler.

mod manifest;

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use manifest::Manifest;
pub use manifest::ManifestError;

use crate::{config::Config, error::AppError, graphql::is_introspection_only};

/// The only version of the `persistedQuery` extension there is.
const APQ_VERSION: u64 = 1;

/// What a request says about its document, from whichever transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct Incoming<'a> {
    /// The document's text, when sent.
    pub query: Option<&'a str>,
    /// `documentId` (the GraphQL-over-HTTP persisted-documents appendix:
    /// `sha256:<hex>`), when sent.
    pub document_id: Option<&'a str>,
    pub operation_name: Option<&'a str>,
    /// The request's `extensions`, where `persistedQuery` travels.
    pub extensions: Option<&'a Map<String, Value>>,
    /// Whether a document sent with its hash may be kept for later requests.
    /// Only for authenticated callers: an anonymous one could run nothing
    /// but introspection, and could only flush the store for everyone else.
    pub may_register: bool,
}

/// The document a request runs.
#[derive(Debug)]
pub struct Resolved {
    pub query: Arc<str>,
    /// Parsed already when resolution had to look inside it (a free-form
    /// introspection query in trusted mode), so the caller need not again.
    pub parsed: Option<ExecutableDocument>,
}

/// The documents this process runs by hash: one per `AppState`.
pub struct Documents {
    mode: Mode,
    max_query_bytes: usize,
}

enum Mode {
    /// `None`: a capacity of 0, nothing kept.
    Automatic(Option<Mutex<LruCache<[u8; 32], Arc<str>>>>),
    Trusted(Manifest),
}

impl Documents {
    /// The store for `config`: an empty APQ store, or the trusted-documents
    /// manifest read and checked (a bad one stops the start-up).
    pub fn from_config(config: &Config) -> Result<Documents, ManifestError> {
        let settings = &config.clients;
        let max_query_bytes = config.limits.max_query_bytes;
        let mode = match &settings.trusted_documents {
            Some(path) => Mode::Trusted(Manifest::load(path, max_query_bytes)?),
            None => Mode::Automatic(
                NonZeroUsize::new(settings.apq_capacity).map(|n| Mutex::new(LruCache::new(n))),
            ),
        };
        Ok(Documents {
            mode,
            max_query_bytes,
        })
    }

    /// How many documents the manifest lists, in trusted mode.
    pub fn trusted_count(&self) -> Option<usize> {
        match &self.mode {
            Mode::Trusted(manifest) => Some(manifest.len()),
            Mode::Automatic(_) => None,
        }
    }

    /// The document `incoming` runs, or why it runs none:
    /// PERSISTED_QUERY_NOT_FOUND for a hash alone that is unknown (or not
    /// listed), BAD_USER_INPUT for a malformed `persistedQuery` or a
    /// document that does not match its hash, FORBIDDEN in trusted mode for
    /// a document the manifest does not list (introspection-only queries
    /// excepted: `DEVGRAPH_INTROSPECTION` governs those).
    pub fn resolve(&self, incoming: Incoming<'_>) -> Result<Resolved, AppError> {
        let Some(id) = DocumentId::of(&incoming)? else {
            let query = incoming
                .query
                .ok_or_else(|| AppError::bad_field("query", "`query` is missing"))?;
            return match &self.mode {
                Mode::Automatic(_) => Ok(Resolved::sent(query)),
                Mode::Trusted(manifest) => self.free_form(manifest, query, &incoming),
            };
        };
        match &self.mode {
            Mode::Automatic(store) => self.automatic(store.as_ref(), &id, &incoming),
            Mode::Trusted(manifest) => match (manifest.get(&id.key), incoming.query) {
                (Some(listed), Some(query)) if **listed != *query => Err(mismatch()),
                (Some(listed), _) => Ok(Resolved::known(listed.clone())),
                // Not a registration, which trusted mode refuses: the document
                // runs only if it would run sent alone.
                (None, Some(query)) => self.free_form(manifest, query, &incoming),
                (None, None) => Err(AppError::PersistedQueryNotFound),
            },
        }
    }

    fn automatic(
        &self,
        store: Option<&Mutex<LruCache<[u8; 32], Arc<str>>>>,
        id: &DocumentId,
        incoming: &Incoming<'_>,
    ) -> Result<Resolved, AppError> {
        let Some(query) = incoming.query else {
            let found = match (store, id.sha256) {
                (Some(store), Some(hash)) => lock(store).get(&hash).cloned(),
                _ => None,
            };
            return found
                .map(Resolved::known)
                .ok_or(AppError::PersistedQueryNotFound);
        };
        let hash = sha256(query);
        if id.sha256 != Some(hash) {
            return Err(mismatch());
        }
        let resolved = Resolved::sent(query);
        // A document over the size limit is refused before it runs; keeping
        // it would only push out one that runs.
        if let Some(store) = store
            && incoming.may_register
            && query.len() <= self.max_query_bytes
        {
            lock(store).put(hash, resolved.query.clone());
        }
        Ok(resolved)
    }

    /// A document sent whole in trusted mode: it runs if the manifest lists
    /// it byte for byte (a client without persisted-documents support
    /// sending a listed operation), or if it is introspection only (GraphiQL
    /// and codegen), and is FORBIDDEN otherwise.
    fn free_form(
        &self,
        manifest: &Manifest,
        query: &str,
        incoming: &Incoming<'_>,
    ) -> Result<Resolved, AppError> {
        if let Some(listed) = manifest.by_content(&sha256(query)) {
            return Ok(Resolved::known(listed.clone()));
        }
        let parsed = (query.len() <= self.max_query_bytes)
            .then(|| async_graphql::parser::parse_query(query).ok())
            .flatten()
            .filter(|doc| is_introspection_only(doc, incoming.operation_name));
        match parsed {
            Some(doc) => Ok(Resolved {
                parsed: Some(doc),
                ..Resolved::sent(query)
            }),
            None => Err(AppError::Forbidden(
                "this server runs only its trusted documents: send the hash of a listed \
                 document (extensions.persistedQuery.sha256Hash or documentId)"
                    .into(),
            )),
        }
    }
}

impl Resolved {
    fn sent(query: &str) -> Resolved {
        Resolved::known(Arc::from(query))
    }

    fn known(query: Arc<str>) -> Resolved {
        Resolved {
            query,
            parsed: None,
        }
    }
}

/// How a request names its document: a manifest key, and the sha256 it
/// stands for when it is one.
struct DocumentId {
    key: String,
    sha256: Option<[u8; 32]>,
}

impl DocumentId {
    /// From `extensions.persistedQuery` or `documentId`; both may be sent if
    /// they agree. `documentId` stands instead of a document (GraphQL over
    /// HTTP, Appendix A): beside `query` it is ignored, as unknown request
    /// properties are. Sending a document with its hash is APQ's
    /// `persistedQuery`.
    fn of(incoming: &Incoming<'_>) -> Result<Option<DocumentId>, AppError> {
        let from_extension = incoming
            .extensions
            .and_then(|ext| ext.get("persistedQuery"))
            .map(apq_hash)
            .transpose()?;
        let from_param = incoming
            .document_id
            .filter(|_| incoming.query.is_none())
            .map(DocumentId::parse);
        match (from_extension, from_param) {
            (Some(a), Some(b)) if a.key != b.key => Err(AppError::bad_field(
                "documentId",
                "`documentId` and `extensions.persistedQuery.sha256Hash` name different documents",
            )),
            (a, b) => Ok(a.or(b)),
        }
    }

    /// `sha256:<hex>` (GraphQL over HTTP; what graphql-codegen's client
    /// preset writes by default) and bare hex (APQ) name the same document;
    /// any other identifier is a manifest key as it is.
    fn parse(text: &str) -> DocumentId {
        let bare = text
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("sha256:"))
            .map_or(text, |_| &text[7..]);
        match decode_sha256(bare) {
            Some(hash) => DocumentId {
                key: bare.to_ascii_lowercase(),
                sha256: Some(hash),
            },
            None => DocumentId {
                key: text.to_owned(),
                sha256: None,
            },
        }
    }
}

/// `{"version": 1, "sha256Hash": "<hex>"}`; other members (urql's `miss`)
/// are ignored.
fn apq_hash(value: &Value) -> Result<DocumentId, AppError> {
    const FIELD: &str = "extensions.persistedQuery";
    let Value::Object(apq) = value else {
        return Err(AppError::bad_field(
            FIELD,
            "`persistedQuery` must be an object",
        ));
    };
    if apq.get("version").and_then(Value::as_u64) != Some(APQ_VERSION) {
        return Err(AppError::bad_field(
            FIELD,
            "unsupported persisted query version: only version 1 is",
        ));
    }
    match apq.get("sha256Hash") {
        Some(Value::String(hash)) => Ok(DocumentId::parse(hash)),
        _ => Err(AppError::bad_field(
            FIELD,
            "`persistedQuery.sha256Hash` must be a string",
        )),
    }
}

fn mismatch() -> AppError {
    AppError::bad_field(
        "extensions.persistedQuery.sha256Hash",
        "provided sha does not match query",
    )
}

pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

fn decode_sha256(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// The store stays consistent whatever a panicking holder did (each call
/// is one `get` or `put`), so a poisoned lock is taken over, not fatal.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
