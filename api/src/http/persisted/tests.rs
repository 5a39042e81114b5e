use std::path::PathBuf;

use serde_json::json;

use super::*;

const VIEWER: &str = "query Viewer { viewer { id } }";

fn hex(hash: [u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn config(tweak: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config::for_tests("sqlite::memory:", "unused-secret-that-is-long-enough");
    tweak(&mut config);
    config
}

fn apq(capacity: usize) -> Documents {
    Documents::from_config(&config(|c| c.clients.apq_capacity = capacity)).unwrap()
}

fn extensions(hash: &str) -> Map<String, Value> {
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    ext.as_object().cloned().unwrap()
}

fn ask<'a>(query: Option<&'a str>, ext: &'a Map<String, Value>) -> Incoming<'a> {
    Incoming {
        query,
        extensions: Some(ext),
        may_register: true,
        ..Incoming::default()
    }
}

fn code(result: Result<Resolved, AppError>) -> &'static str {
    match result {
        Ok(_) => "OK",
        Err(err) => err.code(),
    }
}

/// A manifest file of its own for one test.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: &str) -> TempFile {
        let name = format!("devgraph-manifest-{}.json", uuid::Uuid::now_v7().simple());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

fn trusted(manifest: &Value) -> (TempFile, Result<Documents, ManifestError>) {
    let file = TempFile::new(&manifest.to_string());
    let path = file.0.clone();
    let docs = Documents::from_config(&config(|c| c.clients.trusted_documents = Some(path)));
    (file, docs)
}

#[test]
fn a_hash_is_unknown_until_sent_with_its_document_then_enough_alone() {
    let docs = apq(10);
    let hash = hex(sha256(VIEWER));
    let ext = extensions(&hash);
    assert_eq!(
        code(docs.resolve(ask(None, &ext))),
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let registered = docs.resolve(ask(Some(VIEWER), &ext)).unwrap();
    assert_eq!(&*registered.query, VIEWER);
    let alone = docs.resolve(ask(None, &ext)).unwrap();
    assert_eq!(&*alone.query, VIEWER);
    // The same document under the GraphQL-over-HTTP spelling of its id.
    let id = format!("sha256:{}", hash.to_uppercase());
    let by_id = Incoming {
        document_id: Some(&id),
        ..Incoming::default()
    };
    assert_eq!(&*docs.resolve(by_id).unwrap().query, VIEWER);
}

#[test]
fn a_document_that_does_not_match_its_hash_is_refused_and_not_kept() {
    let docs = apq(10);
    let ext = extensions(&hex(sha256("{ other }")));
    let err = docs.resolve(ask(Some(VIEWER), &ext)).unwrap_err();
    assert_eq!(err.code(), "BAD_USER_INPUT");
    assert_eq!(err.message(), "provided sha does not match query");
    assert_eq!(
        code(docs.resolve(ask(None, &ext))),
        "PERSISTED_QUERY_NOT_FOUND"
    );
}

#[test]
fn malformed_persisted_query_extensions_are_bad_input() {
    let docs = apq(10);
    let hash = hex(sha256(VIEWER));
    for ext in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }),
        json!({ "persistedQuery": { "sha256Hash": hash } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": 5 } }),
        json!({ "persistedQuery": "abc" }),
    ] {
        let ext = ext.as_object().cloned().unwrap();
        assert_eq!(
            code(docs.resolve(ask(Some(VIEWER), &ext))),
            "BAD_USER_INPUT",
            "{ext:?}"
        );
    }
    // urql marks its retry with `miss`; it is not an error.
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash, "miss": true } });
    let ext = ext.as_object().cloned().unwrap();
    assert_eq!(code(docs.resolve(ask(Some(VIEWER), &ext))), "OK");
    // Two names for two documents.
    let other = format!("sha256:{}", hex(sha256("{ other }")));
    let both = Incoming {
        document_id: Some(&other),
        ..ask(None, &ext)
    };
    assert_eq!(code(docs.resolve(both)), "BAD_USER_INPUT");
    // Beside a document, `documentId` is not read.
    let beside = Incoming {
        query: Some(VIEWER),
        document_id: Some("abc123"),
        ..Incoming::default()
    };
    assert_eq!(&*docs.resolve(beside).unwrap().query, VIEWER);
}

#[test]
fn anonymous_registrations_and_a_capacity_of_zero_keep_nothing() {
    let docs = apq(10);
    let ext = extensions(&hex(sha256(VIEWER)));
    let anonymous = Incoming {
        may_register: false,
        ..ask(Some(VIEWER), &ext)
    };
    assert_eq!(code(docs.resolve(anonymous)), "OK");
    assert_eq!(
        code(docs.resolve(ask(None, &ext))),
        "PERSISTED_QUERY_NOT_FOUND"
    );

    let none = apq(0);
    assert_eq!(code(none.resolve(ask(Some(VIEWER), &ext))), "OK");
    assert_eq!(
        code(none.resolve(ask(None, &ext))),
        "PERSISTED_QUERY_NOT_FOUND"
    );
}

#[test]
fn the_store_forgets_the_least_recently_used_document_first() {
    let docs = apq(2);
    let texts = ["{ a }", "{ b }", "{ c }"];
    let exts: Vec<_> = texts.iter().map(|t| extensions(&hex(sha256(t)))).collect();
    docs.resolve(ask(Some(texts[0]), &exts[0])).unwrap();
    docs.resolve(ask(Some(texts[1]), &exts[1])).unwrap();
    // `a` used again: `b` is now the least recently used.
    docs.resolve(ask(None, &exts[0])).unwrap();
    docs.resolve(ask(Some(texts[2]), &exts[2])).unwrap();
    assert_eq!(code(docs.resolve(ask(None, &exts[0]))), "OK");
    assert_eq!(
        code(docs.resolve(ask(None, &exts[1]))),
        "PERSISTED_QUERY_NOT_FOUND"
    );
    assert_eq!(code(docs.resolve(ask(None, &exts[2]))), "OK");
}

#[test]
fn trusted_mode_runs_listed_documents_only() {
    let introspection = "{ __schema { queryType { name } } }";
    let key = format!("sha256:{}", hex(sha256(VIEWER)));
    let (_file, docs) =
        trusted(&json!({ key.clone(): VIEWER, "custom-id": "{ organization { id } }" }));
    let docs = docs.unwrap();
    assert_eq!(docs.trusted_count(), Some(2));
    // Listed, by either spelling of the hash, or by an opaque key.
    for id in [key.as_str(), &key[7..], "custom-id"] {
        let ext = extensions(id);
        assert_eq!(code(docs.resolve(ask(None, &ext))), "OK", "{id}");
    }
    // Unlisted hash alone; registration refused.
    let unlisted = extensions(&hex(sha256("{ viewer { name } }")));
    assert_eq!(
        code(docs.resolve(ask(None, &unlisted))),
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let register = ask(Some("{ viewer { name } }"), &unlisted);
    assert_eq!(code(docs.resolve(register)), "FORBIDDEN");
    // Free-form: refused unless listed byte for byte, or introspection only.
    let free = |query| Incoming {
        query: Some(query),
        ..Incoming::default()
    };
    assert_eq!(code(docs.resolve(free("{ viewer { name } }"))), "FORBIDDEN");
    assert_eq!(code(docs.resolve(free(VIEWER))), "OK");
    let resolved = docs.resolve(free(introspection)).unwrap();
    assert!(resolved.parsed.is_some(), "parsed once, here");
    assert_eq!(
        code(docs.resolve(free("{ __typename viewer { id } }"))),
        "FORBIDDEN"
    );
    // A listed hash sent with another document.
    let listed = extensions(&key);
    assert_eq!(
        code(docs.resolve(ask(Some("{ viewer { name } }"), &listed))),
        "BAD_USER_INPUT"
    );
}

#[test]
fn an_apollo_manifest_is_read_too() {
    let id = hex(sha256(VIEWER));
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": id, "name": "Viewer", "type": "query", "body": VIEWER }],
    });
    let (_file, docs) = trusted(&manifest);
    let ext = extensions(&id);
    assert_eq!(code(docs.unwrap().resolve(ask(None, &ext))), "OK");
}

#[test]
fn a_bad_manifest_stops_the_start_up_with_a_reason() {
    let wrong_hash = format!("sha256:{}", hex(sha256("{ other }")));
    let key = format!("sha256:{}", hex(sha256(VIEWER)));
    let cases = [
        (json!([VIEWER]), "not a JSON object"),
        (json!({}), "lists no document"),
        (json!({ "a": 5 }), "not a string"),
        (json!({ "a": "query {" }), "does not parse"),
        (json!({ wrong_hash: VIEWER }), "not the sha256"),
        (
            json!({ key.clone(): VIEWER, &key[7..]: "{ other }" }),
            "listed twice",
        ),
        (json!({ key.clone(): VIEWER, &key[7..]: VIEWER }), "OK"),
    ];
    for (manifest, reason) in cases {
        let (_file, docs) = trusted(&manifest);
        match docs {
            Ok(_) => assert_eq!(reason, "OK", "{manifest}"),
            Err(err) => {
                let text = err.to_string();
                assert!(text.contains(reason), "{manifest}: {text}");
                assert!(text.contains("DEVGRAPH_TRUSTED_DOCUMENTS"), "{text}");
            }
        }
    }
    let missing =
        config(|c| c.clients.trusted_documents = Some("/nonexistent/manifest.json".into()));
    let err = Documents::from_config(&missing).err().unwrap().to_string();
    assert!(
        err.contains("cannot read /nonexistent/manifest.json"),
        "{err}"
    );
    let (file, _) = trusted(&json!({ "a": VIEWER }));
    let small = config(|c| {
        c.limits.max_query_bytes = 8;
        c.clients.trusted_documents = Some(file.0.clone());
    });
    let err = Documents::from_config(&small).err().unwrap().to_string();
    assert!(err.contains("over DEVGRAPH_MAX_QUERY_BYTES"), "{err}");
}
