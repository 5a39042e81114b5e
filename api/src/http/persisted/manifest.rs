//! The trusted-documents manifest, read once at start-up: the JSON object of
//! hash → document that graphql-codegen's client preset writes with
//! `persistedDocuments: true` (`persisted-documents.json`; keys
//! `sha256:<hex>` by default since preset 5, bare hex or another algorithm
//! when configured), or Apollo's persisted query manifest
//! (`{"format": "apollo-persisted-query-manifest", "operations": [...]}`).
//! Every entry is checked here, so a bad file stops the start-up instead of
//! failing requests one by one.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use serde_json::Value;

use super::{DocumentId, sha256};

const APOLLO_FORMAT: &str = "apollo-persisted-query-manifest";

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("DEVGRAPH_TRUSTED_DOCUMENTS: cannot read {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "DEVGRAPH_TRUSTED_DOCUMENTS: {path} is not a persisted-documents manifest ({reason}); \
         expected a JSON object of hash to document, as graphql-codegen's client preset writes \
         with `persistedDocuments: true`, or an Apollo persisted query manifest"
    )]
    Format { path: PathBuf, reason: String },
    #[error("DEVGRAPH_TRUSTED_DOCUMENTS: {path}, document {key:?}: {reason}")]
    Entry {
        path: PathBuf,
        key: String,
        reason: String,
    },
}

/// The listed documents, by their (normalized) key and by the sha256 of
/// their text.
pub struct Manifest {
    by_key: HashMap<String, Arc<str>>,
    by_sha256: HashMap<[u8; 32], Arc<str>>,
}

impl Manifest {
    pub fn load(path: &Path, max_query_bytes: usize) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ManifestError::Read {
            path: path.to_owned(),
            cause,
        })?;
        let format = |reason: &str| ManifestError::Format {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let json: Value = serde_json::from_str(&text).map_err(|e| format(&e.to_string()))?;
        let entries = entries(&json).map_err(format)?;
        if entries.is_empty() {
            return Err(format("it lists no document"));
        }
        let mut manifest = Manifest {
            by_key: HashMap::new(),
            by_sha256: HashMap::new(),
        };
        for (key, document) in entries {
            let entry = |reason: String| ManifestError::Entry {
                path: path.to_owned(),
                key: key.to_owned(),
                reason,
            };
            check(key, document, max_query_bytes).map_err(entry)?;
            let id = DocumentId::parse(key);
            let document: Arc<str> = Arc::from(document);
            if let Some(other) = manifest.by_key.insert(id.key, document.clone())
                && other != document
            {
                return Err(entry("listed twice, with different documents".into()));
            }
            manifest.by_sha256.insert(sha256(&document), document);
        }
        Ok(manifest)
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn get(&self, key: &str) -> Option<&Arc<str>> {
        self.by_key.get(key)
    }

    /// The listed document whose text has this sha256.
    pub fn by_content(&self, hash: &[u8; 32]) -> Option<&Arc<str>> {
        self.by_sha256.get(hash)
    }
}

/// (key, document) pairs of either format.
fn entries(json: &Value) -> Result<Vec<(&str, &str)>, &'static str> {
    let Value::Object(map) = json else {
        return Err("not a JSON object");
    };
    if map.get("format").and_then(Value::as_str) == Some(APOLLO_FORMAT) {
        let operations = map
            .get("operations")
            .and_then(Value::as_array)
            .ok_or("`operations` is not a list")?;
        return operations
            .iter()
            .map(|op| match (op["id"].as_str(), op["body"].as_str()) {
                (Some(id), Some(body)) => Ok((id, body)),
                _ => Err("an operation has no string `id` and `body`"),
            })
            .collect();
    }
    map.iter()
        .map(|(key, value)| match value {
            Value::String(document) => Ok((key.as_str(), document.as_str())),
            _ => Err("a value is not a string"),
        })
        .collect()
}

/// A listed document must be one that could run: within the size limit,
/// parsing, and matching its hash when its key says it is a sha256.
fn check(key: &str, document: &str, max_query_bytes: usize) -> Result<(), String> {
    if document.len() > max_query_bytes {
        return Err(format!(
            "{} bytes, over DEVGRAPH_MAX_QUERY_BYTES ({max_query_bytes})",
            document.len()
        ));
    }
    if let Err(err) = async_graphql::parser::parse_query(document) {
        return Err(format!("does not parse: {err}"));
    }
    let says_sha256 = key
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("sha256:"));
    if says_sha256 && DocumentId::parse(key).sha256 != Some(sha256(document)) {
        return Err("the key is not the sha256 of the document".into());
    }
    Ok(())
}
