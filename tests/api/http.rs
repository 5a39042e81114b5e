//! GraphQL over HTTP, end to end: statuses and media types for request
//! errors, GET rules, content negotiation, GraphiQL, and the codes of input
//! and limit errors (never INTERNAL, never a leak of internals).

use crate::support::{Dev, Reply, TestApp};
use devgraph::ids::GlobalId as _;
use devgraph::ids::OrgId;
use entity::enums::DeveloperRole;
use reqwest::{Url, header::HeaderMap};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// No error message shows SQL, driver names, source paths or panics.
fn assert_no_internals(reply: &Reply) {
    let errors = reply.body["errors"].as_array().cloned().unwrap_or_default();
    for message in errors.iter().filter_map(|e| e["message"].as_str()) {
        // SQL in capitals: a parse error may well say "expected selection".
        let sql = message.contains("SELECT");
        assert!(!sql, "message leaks SQL: {message:?}");
        let lower = message.to_lowercase();
        let needles = ["sqlx", "sqlite", "postgres", ".rs:", "panicked"];
        let leak = needles.iter().find(|n| lower.contains(*n));
        assert_eq!(leak, None, "message leaks internals: {message:?}");
    }
}

fn assert_media(reply: &Reply, media: &str) {
    let ctype = &reply.content_type;
    assert!(
        ctype.starts_with(media),
        "content type {ctype:?}, want {media}"
    );
}

/// Status, first error code and media type.
fn assert_error(reply: &Reply, status: u16, code: &str, media: &str) {
    assert_no_internals(reply);
    let body = &reply.body;
    assert_eq!(reply.status, status, "status; body: {body}");
    assert_eq!(reply.code(), Some(code), "code; body: {body}");
    assert_media(reply, media);
}

/// A request error: nothing executed, so no `data` entry at all.
fn assert_request_error(reply: &Reply, status: u16, code: &str, media: &str) {
    assert_error(reply, status, code, media);
    let body = &reply.body;
    assert!(body.get("data").is_none(), "no data key: {body}");
}

/// A field error: execution ran, so HTTP 200, and `field` is null.
fn assert_field_error(reply: &Reply, field: &str, code: &str) {
    assert_error(reply, 200, code, GQL);
    let body = &reply.body;
    assert!(
        body["data"][field].is_null(),
        "{field} must be null: {body}"
    );
    let path = &body["errors"][0]["path"];
    assert_eq!(path, &json!([field]), "error path; body: {body}");
}

fn assert_ok_as(reply: &Reply, media: &str) -> Value {
    assert_no_internals(reply);
    assert_media(reply, media);
    reply.ok().clone()
}

/// A fresh server with organization `acme`, its owner and the owner's token.
async fn acme() -> (TestApp, OrgId, Dev, String) {
    let app = TestApp::spawn().await;
    let owner = DeveloperRole::Owner;
    let (org, dev, token) = app.with_org_and_developer("acme", owner).await;
    (app, org, dev, token)
}

async fn app_and_token() -> (TestApp, String) {
    let (app, _, _, token) = acme().await;
    (app, token)
}

async fn gql(app: &TestApp, token: &str, query: &str) -> Reply {
    app.gql(token, query, json!({})).await
}

/// POSTs raw bytes with the given Accept and Content-Type.
async fn post_raw(app: &TestApp, token: &str, accept: &str, ctype: &str, body: Vec<u8>) -> Reply {
    let req = app.client.post(app.url("/graphql")).bearer_auth(token);
    let req = req.header("accept", accept).header("content-type", ctype);
    let resp = req.body(body).send().await.expect("send POST");
    TestApp::reply(resp).await
}

async fn post_json(app: &TestApp, token: &str, accept: &str, body: &Value) -> Reply {
    post_raw(app, token, accept, JSON, body.to_string().into_bytes()).await
}

async fn post_query(app: &TestApp, token: &str, accept: &str, query: &str) -> Reply {
    post_json(app, token, accept, &json!({ "query": query })).await
}

/// GETs `path?params` (with the token, if any); the reply and its headers.
async fn get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    accept: &str,
    params: &[(&str, &str)],
) -> (Reply, HeaderMap) {
    let mut url = Url::parse(&app.url(path)).expect("url");
    if !params.is_empty() {
        url.query_pairs_mut().extend_pairs(params);
    }
    let mut req = app.client.get(url).header("accept", accept);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("send GET");
    let headers = resp.headers().clone();
    (TestApp::reply(resp).await, headers)
}

/// reqwest always sends `Accept: */*`, so this request is written by hand
/// (HTTP/1.1, `Connection: close`; the server answers with Content-Length).
async fn post_without_accept(app: &TestApp, token: &str, query: &str) -> Reply {
    let body = json!({ "query": query }).to_string();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("read");
    let (head, text) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    let is_ctype = |(name, _): &(&str, &str)| name.eq_ignore_ascii_case("content-type");
    let mut headers = head.lines().filter_map(|l| l.split_once(':'));
    let content_type = headers.find(is_ctype).map(|(_, v)| v.trim().to_owned());
    Reply {
        status: status.expect("a status line"),
        content_type: content_type.unwrap_or_default(),
        body: serde_json::from_str(text).unwrap_or(Value::String(text.to_owned())),
    }
}

// Request errors ---------------------------------------------------------------

const BROKEN: &str = "{ viewer { id }";
const BAD: &str = "BAD_USER_INPUT";

#[tokio::test]
async fn syntax_error_is_400_under_graphql_response_json() {
    let (app, token) = app_and_token().await;
    let reply = post_query(&app, &token, GQL, BROKEN).await;
    assert_request_error(&reply, 400, BAD, GQL);
}

#[tokio::test]
async fn syntax_error_is_200_under_application_json() {
    let (app, token) = app_and_token().await;
    let reply = post_query(&app, &token, JSON, BROKEN).await;
    assert_request_error(&reply, 200, BAD, JSON);
}

#[tokio::test]
async fn unknown_field_is_a_400_validation_error() {
    let (app, token) = app_and_token().await;
    let reply = gql(&app, &token, "{ viewer { nope } }").await;
    assert_request_error(&reply, 400, BAD, GQL);
}

#[tokio::test]
async fn variable_of_the_wrong_type_is_400() {
    let (app, token) = app_and_token().await;
    let query = "query($n: Int) { teamSpaces(first: $n) { totalCount } }";
    let reply = app.gql(&token, query, json!({ "n": "ten" })).await;
    assert_request_error(&reply, 400, BAD, GQL);
}

#[tokio::test]
async fn malformed_json_body_is_400() {
    let (app, token) = app_and_token().await;
    let reply = post_raw(&app, &token, GQL, JSON, b"{\"query\": ".to_vec()).await;
    assert_request_error(&reply, 400, BAD, GQL);
}

#[tokio::test]
async fn json_body_of_the_wrong_shape_is_400() {
    let (app, token) = app_and_token().await;
    let not_an_object = [json!("{ viewer { id } }"), json!(42)];
    let no_query = [
        json!({}),
        json!({ "query": null }),
        json!({ "variables": {} }),
    ];
    let query_not_a_string = [
        json!({ "query": 5 }),
        json!({ "query": ["{ viewer { id } }"] }),
    ];
    for body in not_an_object
        .iter()
        .chain(&no_query)
        .chain(&query_not_a_string)
    {
        let reply = post_json(&app, &token, GQL, body).await;
        assert_request_error(&reply, 400, BAD, GQL);
    }
}

#[tokio::test]
async fn batched_request_is_400() {
    let (app, token) = app_and_token().await;
    let body = json!([{ "query": "{ viewer { id } }" }, { "query": "{ viewer { name } }" }]);
    let reply = post_json(&app, &token, GQL, &body).await;
    assert_request_error(&reply, 400, BAD, GQL);
}

#[tokio::test]
async fn text_plain_content_type_is_415() {
    let (app, token) = app_and_token().await;
    let body = json!({ "query": "{ viewer { id } }" }).to_string();
    let reply = post_raw(&app, &token, GQL, "text/plain", body.into_bytes()).await;
    assert_request_error(&reply, 415, BAD, GQL);
}

#[tokio::test]
async fn oversized_body_is_413_and_the_server_keeps_answering() {
    let (app, token) = app_and_token().await;
    let huge = format!("{{ viewer {{ id }} }} #{}", "x".repeat(2 * 1024 * 1024));
    let reply = post_query(&app, &token, GQL, &huge).await;
    assert_request_error(&reply, 413, "LIMIT_EXCEEDED", GQL);
    let next = gql(&app, &token, "{ viewer { name } }").await;
    assert_eq!(next.ok()["viewer"]["name"], "Owner Person");
}

// GET ----------------------------------------------------------------------------

#[tokio::test]
async fn get_runs_a_query() {
    let (app, _, dev, token) = acme().await;
    let params = [("query", "{viewer{id}}")];
    let (reply, _) = get(&app, "/graphql", Some(&token), GQL, &params).await;
    let data = assert_ok_as(&reply, GQL);
    assert_eq!(data["viewer"]["id"], dev.id.to_global().0);
}

#[tokio::test]
async fn get_with_a_mutation_is_405_with_allow() {
    let (app, token) = app_and_token().await;
    let params = [("query", "mutation { x }")];
    let (reply, headers) = get(&app, "/graphql", Some(&token), GQL, &params).await;
    assert_request_error(&reply, 405, BAD, GQL);
    let allow = headers.get("allow").map(|v| v.to_str().unwrap_or_default());
    let allow = allow.expect("an Allow header");
    assert!(
        allow.contains("POST"),
        "Allow header {allow:?} must offer POST"
    );
}

#[tokio::test]
async fn get_takes_variables_as_a_json_string() {
    let (app, org, _, token) = acme().await;
    for name in ["Alpha", "Beta", "Gamma"] {
        app.team_space(org, name).await;
    }
    let query = "query($n: Int) { teamSpaces(first: $n) { totalCount nodes { name } } }";
    let params = [("query", query), ("variables", r#"{"n": 2}"#)];
    let (reply, _) = get(&app, "/graphql", Some(&token), GQL, &params).await;
    let data = assert_ok_as(&reply, GQL);
    let names = json!([{ "name": "Alpha" }, { "name": "Beta" }]);
    assert_eq!(
        data["teamSpaces"],
        json!({ "totalCount": 3, "nodes": names })
    );
}

// Content negotiation ------------------------------------------------------------

#[tokio::test]
async fn accept_text_plain_is_406() {
    let (app, token) = app_and_token().await;
    let reply = post_query(&app, &token, "text/plain", "{ viewer { id } }").await;
    assert_request_error(&reply, 406, BAD, JSON);
}

#[tokio::test]
async fn no_accept_header_answers_application_json() {
    let (app, token) = app_and_token().await;
    let reply = post_without_accept(&app, &token, "{ viewer { name } }").await;
    assert_eq!(assert_ok_as(&reply, JSON)["viewer"]["name"], "Owner Person");
}

#[tokio::test]
async fn wildcards_answer_application_json_unless_graphql_response_is_named() {
    let (app, token) = app_and_token().await;
    for (accept, want) in [
        ("*/*", JSON),
        ("application/*", JSON),
        ("*/*;q=0.8, application/*;q=0.8", JSON),
        ("application/graphql-response+json, */*", GQL),
        ("*/*, application/graphql-response+json", GQL),
        ("application/json, */*", JSON),
    ] {
        let reply = post_query(&app, &token, accept, "{ viewer { name } }").await;
        assert_eq!(
            assert_ok_as(&reply, want)["viewer"]["name"],
            "Owner Person",
            "Accept: {accept}"
        );
    }
}

// Browser and unknown paths ------------------------------------------------------

#[tokio::test]
async fn browser_gets_graphiql_at_root_and_graphql() {
    let app = TestApp::spawn().await;
    let accept = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";
    for path in ["/", "/graphql"] {
        let (reply, _) = get(&app, path, None, accept, &[]).await;
        assert_no_internals(&reply);
        assert_eq!(reply.status, 200, "GET {path}");
        assert_media(&reply, "text/html");
        let html = reply.body.as_str().expect("an HTML body, not JSON");
        let graphiql = html.to_lowercase().contains("graphiql");
        assert!(graphiql, "GET {path} is GraphiQL");
    }
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let app = TestApp::spawn().await;
    let (reply, _) = get(&app, "/no/such/path", None, JSON, &[]).await;
    assert_request_error(&reply, 404, "NOT_FOUND", JSON);
}

// Global ids -------------------------------------------------------------------

#[tokio::test]
async fn malformed_global_id_is_bad_user_input() {
    let (app, token) = app_and_token().await;
    let reply = gql(
        &app,
        &token,
        r#"{ teamSpace(id: "not-an-id") { id name } }"#,
    )
    .await;
    assert_field_error(&reply, "teamSpace", BAD);
}

/// GraphQL spec, "Handling Field Errors": a nullable field that errors is
/// null in `data` (present, not absent), and its siblings are answered.
#[tokio::test]
async fn failing_nullable_field_is_null_beside_its_siblings() {
    let (app, token) = app_and_token().await;
    let query = r#"{ viewer { name } teamSpace(id: "not-an-id") { id } }"#;
    let reply = gql(&app, &token, query).await;
    assert_field_error(&reply, "teamSpace", BAD);
    let want = json!({ "viewer": { "name": "Owner Person" }, "teamSpace": null });
    assert_eq!(reply.body["data"], want, "body: {}", reply.body);
}

#[tokio::test]
async fn global_id_of_another_type_is_bad_user_input() {
    let (app, org, dev, token) = acme().await;
    app.team_space(org, "Alpha").await;
    let query = "query($id: ID!) { teamSpace(id: $id) { id name } }";
    let developer_id = dev.id.to_global().0;
    let reply = app.gql(&token, query, json!({ "id": developer_id })).await;
    assert_field_error(&reply, "teamSpace", BAD);
}

#[tokio::test]
async fn node_with_a_garbage_id_is_bad_user_input() {
    let (app, token) = app_and_token().await;
    let reply = gql(&app, &token, r#"{ node(id: "garbage") { id } }"#).await;
    assert_field_error(&reply, "node", BAD);
}

// Pagination arguments and limits ----------------------------------------------

/// `teamSpaces(args)` in an organization that has one team space.
async fn team_spaces_with(args: &str) -> Reply {
    let (app, org, _, token) = acme().await;
    app.team_space(org, "Alpha").await;
    let query = format!("{{ teamSpaces({args}) {{ totalCount nodes {{ name }} }} }}");
    gql(&app, &token, &query).await
}

#[tokio::test]
async fn first_above_the_maximum_is_limit_exceeded() {
    let reply = team_spaces_with("first: 101").await;
    assert_field_error(&reply, "teamSpaces", "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn negative_first_is_bad_user_input() {
    let reply = team_spaces_with("first: -1").await;
    assert_field_error(&reply, "teamSpaces", BAD);
}

#[tokio::test]
async fn first_and_last_together_are_bad_user_input() {
    let reply = team_spaces_with("first: 1, last: 1").await;
    assert_field_error(&reply, "teamSpaces", BAD);
}

#[tokio::test]
async fn garbage_after_cursor_is_bad_user_input() {
    let reply = team_spaces_with(r#"first: 1, after: "garbage!!""#).await;
    assert_field_error(&reply, "teamSpaces", BAD);
}

#[tokio::test]
async fn query_deeper_than_the_limit_is_limit_exceeded() {
    let (app, token) = app_and_token().await;
    // organization (depth 1) down to id (depth 14): deeper than the limit of 12.
    let query = "{ organization { teamSpaces { edges { node { developers { edges { node {
        teamSpaces { edges { node { developers { edges { node { id } } } } } } } } } } } } } }";
    let reply = gql(&app, &token, query).await;
    assert_request_error(&reply, 400, "LIMIT_EXCEEDED", GQL);
}

/// Aliases and root fields are counted with every fragment spread expanded:
/// a fragment of aliases spread many times, or root fields behind many
/// levels of inline fragments, are refused like the same fields written out.
#[tokio::test]
async fn aliases_and_root_fields_count_through_every_spread() {
    let (app, token) = app_and_token().await;
    // 10 aliases, spread 6 times: 60 aliases, over the limit of 50.
    let aliases: String = (0..10).map(|i| format!("a{i}: __typename ")).collect();
    let spreads = "...F ".repeat(6);
    let query = format!("{{ {spreads} }} fragment F on Query {{ {aliases} }}");
    let reply = gql(&app, &token, &query).await;
    assert_request_error(&reply, 400, "LIMIT_EXCEEDED", GQL);
    // 21 root fields, each behind 10 inline fragments (over the limit of 20).
    let hidden = format!(
        "{}__typename{}",
        "... on Query { ".repeat(10),
        " }".repeat(10)
    );
    let query = format!("{{ {} }}", vec![hidden; 21].join(" "));
    let reply = gql(&app, &token, &query).await;
    assert_request_error(&reply, 400, "LIMIT_EXCEEDED", GQL);
    // The same written once stays within the limits.
    let query = format!("{{ ...F }} fragment F on Query {{ {aliases} }}");
    let reply = gql(&app, &token, &query).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}
