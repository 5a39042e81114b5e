//! CORS (`DEVGRAPH_CORS_ORIGINS`): preflights of `/graphql` answered for the
//! listed origins, before the in-flight limit and the endpoint's own 405;
//! nothing for other origins, for the ingestion routes, or when no origin
//! is configured; never credentials.

use crate::support::TestApp;
use devgraph::config::{Config, ConfigArgs, CorsOrigins};
use entity::enums::DeveloperRole;
use reqwest::{Method, Response, StatusCode, header};
use serde_json::json;

const ALLOWED: &str = "https://app.example.com";

async fn spawn(origins: CorsOrigins) -> TestApp {
    TestApp::spawn_with(|c| c.clients.cors_origins = origins).await
}

fn allowed() -> CorsOrigins {
    CorsOrigins::List(vec![ALLOWED.into(), "http://localhost:5173".into()])
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, x-organization",
        )
        .send()
        .await
        .expect("send")
}

fn value(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
}

/// Every `Access-Control-*` header of an answer.
fn cors_headers(resp: &Response) -> Vec<String> {
    resp.headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn a_preflight_from_a_listed_origin_is_answered_with_what_it_may_send() {
    let app = spawn(allowed()).await;
    for path in ["/graphql", "/"] {
        let resp = preflight(&app, path, ALLOWED).await;
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        assert_eq!(
            value(&resp, "access-control-allow-origin").as_deref(),
            Some(ALLOWED)
        );
        let methods = value(&resp, "access-control-allow-methods").expect("methods");
        for method in ["get", "post", "options"] {
            assert!(methods.contains(method), "{methods}");
        }
        let headers = value(&resp, "access-control-allow-headers").expect("headers");
        for name in [
            "authorization",
            "content-type",
            "accept",
            "x-organization",
            "if-none-match",
        ] {
            assert!(headers.contains(name), "{headers}");
        }
        assert!(value(&resp, "access-control-max-age").is_some());
        // Bearer tokens, not cookies: credentials are never allowed.
        assert_eq!(value(&resp, "access-control-allow-credentials"), None);
    }
}

#[tokio::test]
async fn a_preflight_takes_no_in_flight_slot() {
    // With every slot taken, a request waits for one and then gets 503; a
    // preflight is answered at once, before the limit.
    let app = TestApp::spawn_with(|c| {
        c.clients.cors_origins = allowed();
        c.max_in_flight = 1;
        c.db_acquire_timeout = std::time::Duration::from_millis(200);
    })
    .await;
    let _held = app
        .app
        .state
        .in_flight
        .clone()
        .acquire_owned()
        .await
        .expect("slot");
    let resp = preflight(&app, "/graphql", ALLOWED).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        value(&resp, "access-control-allow-origin").as_deref(),
        Some(ALLOWED)
    );
    let refused = app
        .client
        .post(app.url("/graphql"))
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn another_origin_gets_no_cors_header_at_all() {
    let app = spawn(allowed()).await;
    for origin in [
        "https://evil.example",
        "https://app.example.com.evil.example",
        "null",
    ] {
        let resp = preflight(&app, "/graphql", origin).await;
        assert!(
            cors_headers(&resp).is_empty(),
            "{origin}: {:?}",
            resp.headers()
        );
        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("origin", origin)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("send");
        assert!(
            cors_headers(&resp).is_empty(),
            "{origin}: {:?}",
            resp.headers()
        );
    }
}

#[tokio::test]
async fn an_actual_request_from_a_listed_origin_may_read_the_answer_and_its_etag() {
    let app = spawn(allowed()).await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("origin", ALLOWED)
        .json(&json!({ "query": "{ viewer { name } }" }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        value(&resp, "access-control-allow-origin").as_deref(),
        Some(ALLOWED)
    );
    let exposed = value(&resp, "access-control-expose-headers").expect("exposed");
    assert!(
        exposed.contains("etag") && exposed.contains("retry-after"),
        "{exposed}"
    );
    // Answers differ by origin, so caches must key on it.
    let vary = value(&resp, header::VARY.as_str()).expect("vary");
    assert!(vary.contains("origin"), "{vary}");
}

#[tokio::test]
async fn without_configured_origins_there_is_no_cors_and_options_is_not_allowed() {
    let app = spawn(CorsOrigins::None).await;
    let resp = preflight(&app, "/graphql", ALLOWED).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(cors_headers(&resp).is_empty(), "{:?}", resp.headers());
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("origin", ALLOWED)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("send");
    assert!(cors_headers(&resp).is_empty(), "{:?}", resp.headers());
}

#[tokio::test]
async fn ingestion_routes_are_for_servers_and_get_no_cors() {
    let app = spawn(allowed()).await;
    for path in ["/v1/events", "/v1/delivery"] {
        let resp = preflight(&app, path, ALLOWED).await;
        assert!(!resp.status().is_success(), "{path}: {}", resp.status());
        assert!(
            cors_headers(&resp).is_empty(),
            "{path}: {:?}",
            resp.headers()
        );
    }
}

#[tokio::test]
async fn any_origin_is_allowed_with_a_star_and_still_no_credentials() {
    let app = spawn(CorsOrigins::Any).await;
    let resp = preflight(&app, "/graphql", "https://anywhere.example").await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        value(&resp, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(value(&resp, "access-control-allow-credentials"), None);
}

#[test]
fn a_malformed_origin_is_a_configuration_error_naming_the_setting() {
    let config = |origins: &str| {
        let flags = [
            "--database-url",
            "postgres://u:p@127.0.0.1/db",
            "--jwt-secret",
            "0123456789abcdef0123456789abcdef",
            "--cors-origins",
            origins,
        ];
        Config::from_args(ConfigArgs::from_flags(&flags).expect("flags"))
    };
    let ok = config("https://app.example.com,http://localhost:5173").expect("valid");
    assert_eq!(ok.clients.cors_origins, allowed());
    for bad in [
        "https://app.example.com/",
        "app.example.com",
        "https://a.example,*",
    ] {
        let err = config(bad).expect_err("refused").to_string();
        assert!(err.contains("DEVGRAPH_CORS_ORIGINS"), "{bad}: {err}");
    }
}
