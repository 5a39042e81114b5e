//! Tokens verified with an identity provider's key set (`JWT_JWKS_URL`),
//! against a JWKS endpoint each test starts and steers: which keys it
//! publishes, whether it fails, hangs or answers garbage, and how often it
//! was asked. The signing keys are fixtures (tests/fixtures/jwks); their
//! public JWKs are derived from them here.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Utc;
use devgraph::{Config, config::JwtKey};
use entity::enums::DeveloperRole;
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};

use crate::support::{Dev, Reply, TestApp};

const AUDIENCE: &str = "devgraph-api";
const VIEWER: &str = "{ viewer { email } }";
const HOUR: Duration = Duration::from_secs(3600);

/// A private key of the provider's and the kid it publishes it under.
#[derive(Clone, Copy)]
struct Signer {
    kid: &'static str,
    alg: Algorithm,
    pem: &'static str,
}

const RSA_A: &str = include_str!("../fixtures/jwks/rsa-a.pem");
const RSA_B: &str = include_str!("../fixtures/jwks/rsa-b.pem");
const EC_A: &str = include_str!("../fixtures/jwks/ec-a.pem");
const EC_B: &str = include_str!("../fixtures/jwks/ec-b.pem");

const fn rs256(kid: &'static str, pem: &'static str) -> Signer {
    Signer {
        kid,
        alg: Algorithm::RS256,
        pem,
    }
}

const fn es256(kid: &'static str, pem: &'static str) -> Signer {
    Signer {
        kid,
        alg: Algorithm::ES256,
        pem,
    }
}

impl Signer {
    fn encoding(&self) -> EncodingKey {
        match self.alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(self.pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(self.pem.as_bytes()),
        }
        .expect("fixture key")
    }

    /// The public half, as the provider publishes it.
    fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding(), self.alg).expect("jwk");
        jwk.common.key_id = Some(self.kid.to_owned());
        serde_json::to_value(jwk).expect("jwk json")
    }

    fn token(&self, dev: &Dev) -> String {
        self.sign(Some(self.kid), self.alg, claims(dev))
    }

    fn sign(&self, kid: Option<&str>, alg: Algorithm, claims: Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, &claims, &self.encoding()).expect("sign")
    }
}

fn claims(dev: &Dev) -> Value {
    json!({
        "sub": dev.subject,
        "org": dev.org.uuid().to_string(),
        "aud": AUDIENCE,
        "exp": Utc::now().timestamp() + 600,
    })
}

// The provider's endpoint -----------------------------------------------------------

#[derive(Clone)]
enum Answer {
    Keys(Value),
    Status(StatusCode),
    Garbage,
    Hang,
}

struct Endpoint {
    answer: Mutex<Answer>,
    fetches: AtomicUsize,
}

struct Provider {
    addr: SocketAddr,
    endpoint: Arc<Endpoint>,
}

impl Provider {
    async fn start(keys: &[Signer]) -> Provider {
        let endpoint = Arc::new(Endpoint {
            answer: Mutex::new(Answer::Keys(key_set(keys))),
            fetches: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/.well-known/jwks.json", get(serve))
            .with_state(endpoint.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router).await });
        Provider { addr, endpoint }
    }

    fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json?tenant=t-1", self.addr)
    }

    fn answer(&self, answer: Answer) {
        *self.endpoint.answer.lock().expect("answer") = answer;
    }

    fn publish(&self, keys: &[Signer]) {
        self.answer(Answer::Keys(key_set(keys)));
    }

    fn fetches(&self) -> usize {
        self.endpoint.fetches.load(Ordering::SeqCst)
    }
}

fn key_set(keys: &[Signer]) -> Value {
    json!({ "keys": keys.iter().map(Signer::jwk).collect::<Vec<_>>() })
}

async fn serve(State(endpoint): State<Arc<Endpoint>>) -> Response {
    endpoint.fetches.fetch_add(1, Ordering::SeqCst);
    let answer = endpoint.answer.lock().expect("answer").clone();
    match answer {
        Answer::Keys(set) => Json(set).into_response(),
        Answer::Status(status) => status.into_response(),
        Answer::Garbage => "<html>please sign in</html>".into_response(),
        Answer::Hang => std::future::pending().await,
    }
}

// devgraph --------------------------------------------------------------------------

/// devgraph verifying with `url`'s key set, and a developer of a fresh
/// organization.
async fn devgraph(url: String, tweak: impl FnOnce(&mut Config)) -> (TestApp, Dev) {
    let app = TestApp::spawn_with(|config| {
        config.jwt_key = JwtKey::Jwks { url };
        config.jwt_audience = Some(AUDIENCE.into());
        config.jwks_ttl = HOUR;
        config.jwks_refresh_interval = HOUR;
        tweak(config);
    })
    .await;
    let (_, dev, _) = app
        .with_org_and_developer("idp", DeveloperRole::Member)
        .await;
    (app, dev)
}

async fn viewer(app: &TestApp, token: &str) -> Reply {
    app.gql(token, VIEWER, json!({})).await
}

fn assert_accepted(reply: &Reply, dev: &Dev) {
    assert_eq!(reply.ok()["viewer"]["email"], json!(dev.email), "{reply:?}");
}

fn assert_refused(reply: &Reply, message: &str) {
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"), "{reply:?}");
    let said = reply.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(said.contains(message), "expected {message:?}: {reply:?}");
    assert!(reply.data().is_null(), "{reply:?}");
}

const UNKNOWN_KID: &str = "the token's signing key (kid) is not known";

/// The same token sent `n` times at once.
async fn burst(app: &TestApp, token: &str, n: usize) -> Vec<Reply> {
    let mut sent = tokio::task::JoinSet::new();
    for _ in 0..n {
        let request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": VIEWER }));
        sent.spawn(async move { TestApp::reply(request.send().await.expect("send")).await });
    }
    sent.join_all().await
}

// The tests -------------------------------------------------------------------------

#[tokio::test]
async fn tokens_signed_with_a_published_rs256_or_es256_key_are_accepted() {
    let (rsa, ec) = (rs256("rsa-1", RSA_A), es256("ec-1", EC_A));
    let provider = Provider::start(&[rsa, ec]).await;
    let (app, dev) = devgraph(provider.url(), |_| {}).await;
    assert_eq!(
        provider.fetches(),
        0,
        "nothing is fetched before a token needs it"
    );

    assert_accepted(&viewer(&app, &rsa.token(&dev)).await, &dev);
    assert_accepted(&viewer(&app, &ec.token(&dev)).await, &dev);
    assert_accepted(&viewer(&app, &rsa.token(&dev)).await, &dev);
    assert_eq!(
        provider.fetches(),
        1,
        "one fetch serves every key of the set"
    );
}

#[tokio::test]
async fn a_rotated_key_is_taken_and_a_removed_one_refused_once_the_set_is_refreshed() {
    let (old, new) = (rs256("2024", RSA_A), es256("2025", EC_B));
    let provider = Provider::start(&[old]).await;
    let ttl = Duration::from_millis(300);
    let (app, dev) = devgraph(provider.url(), |c| c.jwks_ttl = ttl).await;
    assert_accepted(&viewer(&app, &old.token(&dev)).await, &dev);

    // The provider publishes its next key beside the current one: a token
    // naming it makes devgraph fetch the set again.
    provider.publish(&[old, new]);
    assert_accepted(&viewer(&app, &new.token(&dev)).await, &dev);
    assert_accepted(&viewer(&app, &old.token(&dev)).await, &dev);

    // Then it withdraws the old key; the next token after the set's TTL
    // refreshes it.
    provider.publish(&[new]);
    let before = provider.fetches();
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert_refused(&viewer(&app, &old.token(&dev)).await, UNKNOWN_KID);
    assert_eq!(
        provider.fetches(),
        before + 1,
        "the expired set was fetched"
    );
    assert_accepted(&viewer(&app, &new.token(&dev)).await, &dev);
}

#[tokio::test]
async fn unknown_kids_cause_one_fetch_per_interval_however_many_arrive() {
    let (a, b, c) = (rs256("a", RSA_A), es256("b", EC_A), rs256("c", RSA_B));
    let provider = Provider::start(&[a]).await;
    let (app, dev) = devgraph(provider.url(), |_| {}).await;
    assert_accepted(&viewer(&app, &a.token(&dev)).await, &dev);
    assert_eq!(provider.fetches(), 1);

    // Many requests with a new kid at once: one fetch, not one each.
    provider.publish(&[a, b]);
    for reply in burst(&app, &b.token(&dev), 12).await {
        assert_accepted(&reply, &dev);
    }
    assert_eq!(provider.fetches(), 2);

    // Within the interval, made-up kids cost the provider nothing...
    let forged = c.sign(Some("made-up"), Algorithm::RS256, claims(&dev));
    for reply in burst(&app, &forged, 12).await {
        assert_refused(&reply, UNKNOWN_KID);
    }
    // ...and neither does a real new key: it waits for the next interval.
    provider.publish(&[a, b, c]);
    assert_refused(&viewer(&app, &c.token(&dev)).await, UNKNOWN_KID);
    assert_eq!(provider.fetches(), 2);
    assert_accepted(&viewer(&app, &a.token(&dev)).await, &dev);
}

#[tokio::test]
async fn an_unknown_kid_fetches_again_once_the_interval_has_passed() {
    let (a, b, c) = (rs256("a", RSA_A), es256("b", EC_A), rs256("c", RSA_B));
    let provider = Provider::start(&[a, b]).await;
    let interval = Duration::from_millis(300);
    let (app, dev) = devgraph(provider.url(), |c| c.jwks_refresh_interval = interval).await;
    assert_accepted(&viewer(&app, &a.token(&dev)).await, &dev);
    let forged = c.sign(Some("c"), Algorithm::RS256, claims(&dev));
    assert_refused(&viewer(&app, &forged).await, UNKNOWN_KID);
    assert_eq!(provider.fetches(), 2);

    provider.publish(&[a, b, c]);
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    assert_accepted(&viewer(&app, &c.token(&dev)).await, &dev);
    assert_eq!(provider.fetches(), 3);
}

#[tokio::test]
async fn while_the_endpoint_fails_the_last_good_set_is_kept() {
    let (a, b) = (rs256("a", RSA_A), es256("b", EC_A));
    let provider = Provider::start(&[a]).await;
    let ttl = Duration::from_millis(300);
    let (app, dev) = devgraph(provider.url(), |c| c.jwks_ttl = ttl).await;
    assert_accepted(&viewer(&app, &a.token(&dev)).await, &dev);

    provider.answer(Answer::Status(StatusCode::SERVICE_UNAVAILABLE));
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    // Past the TTL: one request tries to refresh, fails, and the set is
    // kept, with the retry an interval away rather than at every request.
    for _ in 0..4 {
        assert_accepted(&viewer(&app, &a.token(&dev)).await, &dev);
    }
    assert_eq!(provider.fetches(), 2);

    // An answer that is not a key set does not replace the set either.
    provider.answer(Answer::Garbage);
    assert_refused(&viewer(&app, &b.token(&dev)).await, UNKNOWN_KID);
    assert_eq!(provider.fetches(), 3, "the unknown kid fetched");
    assert_accepted(&viewer(&app, &a.token(&dev)).await, &dev);
}

fn assert_unavailable(reply: &Reply) {
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.code(), Some("SERVICE_UNAVAILABLE"), "{reply:?}");
}

#[tokio::test]
async fn without_any_key_yet_tokens_are_service_unavailable() {
    let a = rs256("a", RSA_A);
    let provider = Provider::start(&[a]).await;
    provider.answer(Answer::Status(StatusCode::BAD_GATEWAY));
    let (app, dev) = devgraph(provider.url(), |_| {}).await;
    for _ in 0..3 {
        assert_unavailable(&viewer(&app, &a.token(&dev)).await);
    }
    assert_eq!(
        provider.fetches(),
        1,
        "retried an interval later, not per request"
    );

    // Nothing listening at all.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let (app, dev) = devgraph(format!("http://{closed}/jwks"), |_| {}).await;
    assert_unavailable(&viewer(&app, &a.token(&dev)).await);

    // A fetch that never ends is given up (after 5 s), not waited for.
    provider.answer(Answer::Hang);
    let (app, dev) = devgraph(provider.url(), |_| {}).await;
    let token = a.token(&dev);
    let wait = tokio::time::timeout(Duration::from_secs(60), viewer(&app, &token));
    assert_unavailable(&wait.await.expect("the fetch timed out"));
}

#[tokio::test]
async fn a_provider_down_when_devgraph_starts_is_used_once_it_answers() {
    let a = rs256("a", RSA_A);
    let provider = Provider::start(&[a]).await;
    provider.answer(Answer::Status(StatusCode::SERVICE_UNAVAILABLE));
    let interval = Duration::from_millis(300);
    let (app, dev) = devgraph(provider.url(), |c| c.jwks_refresh_interval = interval).await;
    assert_unavailable(&viewer(&app, &a.token(&dev)).await);

    provider.publish(&[a]);
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    assert_accepted(&viewer(&app, &a.token(&dev)).await, &dev);
}

#[tokio::test]
async fn wrong_signatures_algorithms_and_claims_are_refused() {
    let (rsa, ec) = (rs256("rsa", RSA_A), es256("ec", EC_A));
    let provider = Provider::start(&[rsa, ec]).await;
    let (app, dev) = devgraph(provider.url(), |_| {}).await;
    assert_accepted(&viewer(&app, &rsa.token(&dev)).await, &dev);

    let refused = |token: String, why: &'static str| {
        let app = &app;
        async move { assert_refused(&viewer(app, &token).await, why) }
    };
    // Another key's signature under a published kid.
    let other_rsa = rs256("rsa", RSA_B);
    refused(other_rsa.token(&dev), "signature is invalid").await;
    let other_ec = es256("ec", EC_B);
    refused(other_ec.token(&dev), "signature is invalid").await;
    // A published key used with another algorithm than its own, including
    // HS256 keyed with the public key (the classic confusion).
    refused(
        ec.sign(Some("rsa"), Algorithm::ES256, claims(&dev)),
        "algorithm",
    )
    .await;
    refused(
        rsa.sign(Some("ec"), Algorithm::RS256, claims(&dev)),
        "algorithm",
    )
    .await;
    let public = serde_json::to_vec(&rsa.jwk()).expect("json");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa".into());
    let key = EncodingKey::from_secret(&public);
    let hs256 = jsonwebtoken::encode(&header, &claims(&dev), &key).expect("sign");
    refused(hs256, "algorithm").await;
    // No kid at all.
    refused(rsa.sign(None, Algorithm::RS256, claims(&dev)), "kid").await;
    // The provider's key, but not a token for us, or no longer valid.
    let mut elsewhere = claims(&dev);
    elsewhere["aud"] = json!("another-app");
    refused(
        rsa.sign(Some("rsa"), Algorithm::RS256, elsewhere),
        "audience",
    )
    .await;
    let mut expired = claims(&dev);
    expired["exp"] = json!(Utc::now().timestamp() - 3600);
    refused(rsa.sign(Some("rsa"), Algorithm::RS256, expired), "expired").await;
    assert_eq!(provider.fetches(), 1, "published kids never refetch");
}
