//! Persisted documents and GET caching on `/graphql`: automatic persisted
//! queries as Apollo Client and urql speak them (an unknown hash, the
//! document sent with it, then the hash alone) over POST and GET; the
//! bounded store; trusted-documents mode with a manifest; and the `ETag`,
//! `Cache-Control` and `304` of GET answers, per caller.

use crate::support::{Reply, TestApp};
use devgraph::{Config, ids::OrgId};
use entity::enums::DeveloperRole;
use reqwest::{Method, Response, StatusCode, Url, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
const ORG_NAME: &str = "query OrgName { organization { name } }";
const ROLE: &str = "query Role { viewer { role } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

struct Api {
    app: TestApp,
    org: OrgId,
    token: String,
}

impl Api {
    async fn new(tweak: impl FnOnce(&mut Config)) -> Api {
        let app = TestApp::spawn_with(tweak).await;
        let owner = DeveloperRole::Owner;
        let (org, _, token) = app.with_org_and_developer("acme", owner).await;
        Api { app, org, token }
    }

    async fn post(&self, token: &str, accept: &str, body: Value) -> Reply {
        let req = self
            .app
            .client
            .post(self.app.url("/graphql"))
            .bearer_auth(token)
            .header("accept", accept)
            .json(&body);
        TestApp::reply(req.send().await.expect("send")).await
    }

    /// A hash alone, or with its document, as Apollo Client and urql send it.
    async fn post_apq(&self, query: Option<&str>, hash: &str) -> Reply {
        let mut body = json!({ "extensions": apq(hash) });
        if let Some(query) = query {
            body["query"] = query.into();
        }
        self.post(&self.token, GQL, body).await
    }

    async fn get(
        &self,
        token: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let mut url = Url::parse(&self.app.url("/graphql")).expect("url");
        url.query_pairs_mut().extend_pairs(params);
        let mut req = self.app.client.request(Method::GET, url).bearer_auth(token);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("send")
    }

    /// A GET naming `query` by its hash alone (Apollo's `useGETForHashedQueries`).
    async fn get_hash(&self, token: &str, query: &str, headers: &[(&str, &str)]) -> Response {
        let ext = apq(&sha256(query)).to_string();
        self.get(token, &[("extensions", &ext)], headers).await
    }
}

fn header_of(resp: &Response, name: header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn not_found(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(
        reply.code(),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{:?}",
        reply.body
    );
    // urql recognises the miss by this message alone.
    assert_eq!(reply.body["errors"][0]["message"], "PersistedQueryNotFound");
}

#[tokio::test]
async fn an_unknown_hash_is_not_found_until_sent_with_its_document_then_runs_alone() {
    let api = Api::new(|_| {}).await;
    let hash = sha256(ORG_NAME);
    not_found(&api.post_apq(None, &hash).await, 400);
    // Under application/json a request error is 200, the miss included.
    let body = json!({ "extensions": apq(&hash) });
    not_found(&api.post(&api.token, JSON, body).await, 200);

    let registered = api.post_apq(Some(ORG_NAME), &hash).await;
    assert_eq!(registered.ok()["organization"]["name"], "Org acme");
    let alone = api.post_apq(None, &hash).await;
    assert_eq!(alone.ok()["organization"]["name"], "Org acme");
    // The GraphQL-over-HTTP spelling names the same document.
    let by_id = json!({ "documentId": format!("sha256:{hash}") });
    let by_id = api.post(&api.token, GQL, by_id).await;
    assert_eq!(by_id.ok()["organization"]["name"], "Org acme");
    // And so does a GET with the hash alone.
    let resp = api.get_hash(&api.token, ORG_NAME, &[("accept", GQL)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["data"]["organization"]["name"], "Org acme");
}

#[tokio::test]
async fn a_get_with_the_document_registers_it_and_an_unknown_hash_by_get_is_not_found() {
    let api = Api::new(|_| {}).await;
    let resp = api.get_hash(&api.token, ROLE, &[("accept", GQL)]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A miss is never cached: the retry must reach the server.
    assert_eq!(
        header_of(&resp, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    assert_eq!(header_of(&resp, header::ETAG), None);
    not_found(&TestApp::reply(resp).await, 400);

    let ext = apq(&sha256(ROLE)).to_string();
    let resp = api
        .get(&api.token, &[("query", ROLE), ("extensions", &ext)], &[])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = api.get_hash(&api.token, ROLE, &[]).await;
    let reply = TestApp::reply(resp).await;
    assert_eq!(reply.ok()["viewer"]["role"], "OWNER");
}

#[tokio::test]
async fn a_document_that_does_not_match_its_hash_is_refused_and_not_kept() {
    let api = Api::new(|_| {}).await;
    let wrong = sha256("{ viewer { id } }");
    let reply = api.post_apq(Some(ORG_NAME), &wrong).await;
    assert_eq!(
        (reply.status, reply.code()),
        (400, Some("BAD_USER_INPUT")),
        "{:?}",
        reply.body
    );
    not_found(&api.post_apq(None, &wrong).await, 400);
    // Nor is any version but 1 understood.
    let v2 = json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256(ORG_NAME) } });
    let body = json!({ "query": ORG_NAME, "extensions": v2 });
    let reply = api.post(&api.token, GQL, body).await;
    assert_eq!(
        (reply.status, reply.code()),
        (400, Some("BAD_USER_INPUT")),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn the_store_is_bounded_and_forgets_the_least_recently_used() {
    let api = Api::new(|c| c.clients.apq_capacity = 2).await;
    let docs = [ORG_NAME, ROLE, "query Id { viewer { id } }"];
    for doc in &docs[..2] {
        api.post_apq(Some(doc), &sha256(doc)).await.ok();
    }
    // Used again, so ROLE is now the least recently used.
    api.post_apq(None, &sha256(ORG_NAME)).await.ok();
    api.post_apq(Some(docs[2]), &sha256(docs[2])).await.ok();
    api.post_apq(None, &sha256(ORG_NAME)).await.ok();
    not_found(&api.post_apq(None, &sha256(ROLE)).await, 400);
    api.post_apq(None, &sha256(docs[2])).await.ok();
}

#[tokio::test]
async fn a_get_by_hash_gets_an_etag_and_revalidates_to_304() {
    let api = Api::new(|c| c.clients.cache_max_age = 60).await;
    api.post_apq(Some(ORG_NAME), &sha256(ORG_NAME)).await.ok();
    let first = api.get_hash(&api.token, ORG_NAME, &[]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = header_of(&first, header::ETAG).expect("an ETag");
    // Weak: equal data, whatever order async-graphql wrote its keys in.
    assert!(etag.starts_with("W/\"") && etag.ends_with('"'), "{etag}");
    let cache_control = header_of(&first, header::CACHE_CONTROL);
    assert_eq!(cache_control.as_deref(), Some("private, max-age=60"));
    let vary = header_of(&first, header::VARY)
        .expect("Vary")
        .to_ascii_lowercase();
    for name in ["authorization", "x-organization", "accept"] {
        assert!(vary.contains(name), "{vary}");
    }
    let body = first.text().await.expect("body");

    // If-None-Match compares weakly: with or without `W/`, alone or listed.
    let strong = etag.trim_start_matches("W/");
    let listed = format!("\"other\", {strong}");
    for validator in [etag.as_str(), strong, &listed, "*"] {
        let again = api
            .get_hash(&api.token, ORG_NAME, &[("if-none-match", validator)])
            .await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{validator}");
        assert_eq!(
            header_of(&again, header::ETAG).as_deref(),
            Some(etag.as_str())
        );
        assert!(header_of(&again, header::CACHE_CONTROL).is_some());
        assert_eq!(again.text().await.expect("body"), "", "no body");
    }
    let other = api
        .get_hash(&api.token, ORG_NAME, &[("if-none-match", "\"stale\"")])
        .await;
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.text().await.expect("body"), body);

    // Changed data: a new body, a new ETag, no 304 for the old one.
    let rename =
        "mutation { updateOrganization(input: { name: \"Renamed\" }) { organization { name } } }";
    api.app.gql(&api.token, rename, json!({})).await.ok();
    let changed = api
        .get_hash(&api.token, ORG_NAME, &[("if-none-match", &etag)])
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(
        header_of(&changed, header::ETAG).as_deref(),
        Some(etag.as_str())
    );
}

/// async-graphql writes an object's fields in the order their resolvers
/// finish, so the same data may come out in another key order (here
/// `totalCount` and the metrics, which wait on the database, against the
/// rest): it must still revalidate.
#[tokio::test]
async fn the_same_data_revalidates_whatever_order_its_keys_come_in() {
    let api = Api::new(|_| {}).await;
    for name in ["Data", "Growth", "Mobile"] {
        api.app.team_space(api.org, name).await;
    }
    let query = "query Spaces($from: Date!, $to: Date!) { organization { teamSpaces(first: 10) { \
        edges { node { id metrics(from: $from, to: $to, groupBy: [DAY]) { day count } name } } \
        totalCount } } }";
    let variables = json!({ "from": "2026-01-01", "to": "2026-01-31" });
    let body = json!({ "query": query, "variables": variables, "extensions": apq(&sha256(query)) });
    api.post(&api.token, GQL, body).await.ok();
    let (variables, ext) = (variables.to_string(), apq(&sha256(query)).to_string());
    let params = [("variables", variables.as_str()), ("extensions", &ext)];
    let first = api.get(&api.token, &params, &[]).await;
    let etag = header_of(&first, header::ETAG).expect("ETag");
    // Each try may or may not come out in another order; with this many,
    // a digest of the bytes failed here in most runs (the unit test of
    // `data_digest` checks the property itself).
    for _ in 0..40 {
        let again = api
            .get(&api.token, &params, &[("if-none-match", &etag)])
            .await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
}

#[tokio::test]
async fn post_answers_and_gets_without_a_hash_are_never_cached() {
    let api = Api::new(|_| {}).await;
    let reply = api.post_apq(Some(ORG_NAME), &sha256(ORG_NAME)).await;
    reply.ok();
    let resp = api
        .app
        .client
        .post(api.app.url("/graphql"))
        .bearer_auth(&api.token)
        .json(&json!({ "extensions": apq(&sha256(ORG_NAME)) }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header_of(&resp, header::ETAG), None);
    assert_eq!(header_of(&resp, header::CACHE_CONTROL), None);
    let resp = api.get(&api.token, &[("query", ORG_NAME)], &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header_of(&resp, header::ETAG), None);
}

#[tokio::test]
async fn a_mutation_by_hash_over_get_is_refused_and_answers_with_errors_are_not_stored() {
    let api = Api::new(|_| {}).await;
    let mutation = "mutation Rename { updateOrganization(input: { name: \"By GET\" }) { organization { name } } }";
    let ext = apq(&sha256(mutation)).to_string();
    let resp = api
        .get(
            &api.token,
            &[("query", mutation), ("extensions", &ext)],
            &[],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header_of(&resp, header::ETAG), None);
    assert_eq!(
        header_of(&resp, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    let resp = api.get_hash(&api.token, mutation, &[]).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let name = api.app.gql(&api.token, ORG_NAME, json!({})).await;
    assert_eq!(
        name.ok()["organization"]["name"],
        "Org acme",
        "the mutation never ran"
    );

    // A field error: data, but not an answer to keep.
    let failing = "query Missing { node(id: \"not-an-id\") { id } }";
    let ext = apq(&sha256(failing)).to_string();
    let resp = api
        .get(&api.token, &[("query", failing), ("extensions", &ext)], &[])
        .await;
    assert_eq!(header_of(&resp, header::ETAG), None);
    assert_eq!(
        header_of(&resp, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    let reply = TestApp::reply(resp).await;
    assert!(reply.code().is_some(), "{:?}", reply.body);
}

#[tokio::test]
async fn one_hash_answers_each_organization_with_its_own_data_and_etag() {
    let api = Api::new(|_| {}).await;
    let owner = DeveloperRole::Owner;
    let (_, _, other) = api.app.with_org_and_developer("globex", owner).await;
    // Registered by one organization's caller, used by the other's.
    api.post_apq(Some(ORG_NAME), &sha256(ORG_NAME)).await.ok();
    let mine = api.get_hash(&api.token, ORG_NAME, &[]).await;
    let theirs = api.get_hash(&other, ORG_NAME, &[]).await;
    let (mine_tag, theirs_tag) = (
        header_of(&mine, header::ETAG),
        header_of(&theirs, header::ETAG),
    );
    let mine: Value = mine.json().await.expect("json");
    let theirs: Value = theirs.json().await.expect("json");
    assert_eq!(mine["data"]["organization"]["name"], "Org acme");
    assert_eq!(theirs["data"]["organization"]["name"], "Org globex");
    assert_ne!(mine_tag, theirs_tag);

    // Byte-identical answers still get different validators, so one
    // organization's ETag never earns the other a 304.
    api.post_apq(Some(ROLE), &sha256(ROLE)).await.ok();
    let mine = api.get_hash(&api.token, ROLE, &[]).await;
    let tag = header_of(&mine, header::ETAG).expect("ETag");
    let theirs = api.get_hash(&other, ROLE, &[("if-none-match", &tag)]).await;
    assert_eq!(theirs.status(), StatusCode::OK);
    assert_ne!(header_of(&theirs, header::ETAG), Some(tag.clone()));
    assert_eq!(
        mine.text().await.expect("body"),
        theirs.text().await.expect("body")
    );
    // Nor does one media type's ETag validate the other's.
    let as_json = api
        .get_hash(
            &api.token,
            ROLE,
            &[("if-none-match", &tag), ("accept", GQL)],
        )
        .await;
    assert_eq!(as_json.status(), StatusCode::OK);
}

/// A manifest file for one test, removed when dropped.
struct Manifest(std::path::PathBuf);

impl Manifest {
    fn write(manifest: &Value) -> Manifest {
        let name = format!("devgraph-trusted-{}.json", uuid::Uuid::now_v7().simple());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, manifest.to_string()).expect("write manifest");
        Manifest(path)
    }
}

impl Drop for Manifest {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

#[tokio::test]
async fn trusted_mode_runs_only_the_manifests_documents() {
    // Keys as graphql-codegen's client preset writes them.
    let key = format!("sha256:{}", sha256(ORG_NAME));
    let manifest = Manifest::write(&json!({ key.clone(): ORG_NAME }));
    let path = manifest.0.clone();
    let api = Api::new(|c| c.clients.trusted_documents = Some(path)).await;

    // Listed: by hash (either spelling, POST or GET), or sent verbatim.
    let listed = api.post_apq(None, &key).await;
    assert_eq!(listed.ok()["organization"]["name"], "Org acme");
    let by_id = api
        .post(&api.token, GQL, json!({ "documentId": key }))
        .await;
    assert_eq!(by_id.ok()["organization"]["name"], "Org acme");
    let resp = api.get_hash(&api.token, ORG_NAME, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header_of(&resp, header::ETAG).is_some());
    let verbatim = api
        .post(&api.token, GQL, json!({ "query": ORG_NAME }))
        .await;
    assert_eq!(verbatim.ok()["organization"]["name"], "Org acme");

    // Unlisted hash alone: not found; with its document: no registration.
    not_found(&api.post_apq(None, &sha256(ROLE)).await, 400);
    let register = api.post_apq(Some(ROLE), &sha256(ROLE)).await;
    assert_eq!(
        (register.status, register.code()),
        (403, Some("FORBIDDEN")),
        "{:?}",
        register.body
    );
    not_found(&api.post_apq(None, &sha256(ROLE)).await, 400);
    // Free-form documents are refused, even a reformatting of a listed one.
    for query in [ROLE, "query OrgName { organization { name }}"] {
        let reply = api.post(&api.token, GQL, json!({ "query": query })).await;
        assert_eq!(
            (reply.status, reply.code()),
            (403, Some("FORBIDDEN")),
            "{query}"
        );
    }
    // Introspection still runs for GraphiQL and codegen, without credentials
    // as DEVGRAPH_INTROSPECTION (here `on`) allows.
    let introspection = json!({ "query": "{ __schema { queryType { name } } }" });
    let resp = api
        .app
        .client
        .post(api.app.url("/graphql"))
        .json(&introspection)
        .send()
        .await
        .expect("send");
    let reply = TestApp::reply(resp).await;
    assert_eq!(reply.ok()["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn a_missing_or_malformed_manifest_stops_the_start_up() {
    let db = crate::support::TestDb::fresh().await;
    let missing = std::env::temp_dir().join("devgraph-no-such-manifest.json");
    let mut config = Config::for_tests(&db.url, crate::support::JWT_SECRET);
    config.clients.trusted_documents = Some(missing);
    let err = devgraph::build_app(config.clone())
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("DEVGRAPH_TRUSTED_DOCUMENTS") && text.contains("cannot read"),
        "{text}"
    );

    let manifest = Manifest::write(&json!({ "a": "query {" }));
    config.clients.trusted_documents = Some(manifest.0.clone());
    let text = devgraph::build_app(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(text.contains("does not parse"), "{text}");
}
