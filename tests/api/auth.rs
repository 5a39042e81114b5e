//! Authentication and tenant selection, end to end: every way a token can be
//! wrong is a 401 UNAUTHENTICATED (never a 500, never data), the developer
//! and role come from the database on every request, and `X-Organization`
//! picks among the caller's organizations without revealing which exist.

use crate::support::{Dev, JWT_SECRET, Reply, TestApp, mint, mint_claims};
use chrono::Utc;
use devgraph::ids::GlobalId as _;
use devgraph::ids::OrgId;
use entity::{developer, enums::DeveloperRole};
use jsonwebtoken::Algorithm;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

const VIEWER: &str = "{ viewer { id name role email } }";
const ORG_SLUG: &str = "{ organization { slug } }";
const GQL: &str = "application/graphql-response+json";

/// A reply plus the one header these tests look at.
struct Answer {
    reply: Reply,
    www_authenticate: Option<String>,
}

/// POSTs `query` with a raw `Authorization` value (or none) and extra headers.
async fn send(app: &TestApp, auth: Option<&str>, headers: &[(&str, &str)], query: &str) -> Answer {
    let body = json!({ "query": query });
    let req = app.client.post(app.url("/graphql")).json(&body);
    let mut req = req.header("accept", GQL);
    if let Some(value) = auth {
        req = req.header("authorization", value);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("send request");
    let challenge = resp.headers().get("www-authenticate");
    let www_authenticate = challenge.map(|v| v.to_str().expect("ascii header").to_owned());
    let reply = TestApp::reply(resp).await;
    Answer {
        reply,
        www_authenticate,
    }
}

async fn with_token(app: &TestApp, token: &str, headers: &[(&str, &str)], query: &str) -> Answer {
    send(app, Some(&format!("Bearer {token}")), headers, query).await
}

async fn ask(app: &TestApp, token: &str, query: &str) -> Answer {
    with_token(app, token, &[], query).await
}

/// A fresh server with organization `acme` and one developer of `role`.
async fn acme(role: DeveloperRole) -> (TestApp, OrgId, Dev, String) {
    let app = TestApp::spawn().await;
    let (org, dev, token) = app.with_org_and_developer("acme", role).await;
    (app, org, dev, token)
}

fn pretty(body: &Value) -> String {
    serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
}

/// Status and the one error code, with no `data` entry at all.
fn assert_refused(answer: &Answer, status: u16, code: &str) {
    let body = pretty(&answer.reply.body);
    assert_eq!(answer.reply.status, status, "status; body: {body}");
    assert_eq!(answer.reply.codes(), [code], "codes; body: {body}");
    assert!(!message(answer).is_empty(), "a message; body: {body}");
    assert!(answer.reply.body.get("data").is_none(), "no data: {body}");
    let ctype = &answer.reply.content_type;
    assert!(ctype.starts_with(GQL), "content type {ctype:?}");
}

/// The one shape of every authentication failure.
fn assert_unauthenticated(answer: &Answer) {
    assert_refused(answer, 401, "UNAUTHENTICATED");
    let challenge = answer.www_authenticate.as_deref();
    assert_eq!(challenge, Some("Bearer"), "WWW-Authenticate");
}

fn message(answer: &Answer) -> &str {
    let message = &answer.reply.body["errors"][0]["message"];
    message.as_str().unwrap_or_default()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (chunk.iter().enumerate()).fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Valid claims for `sub` in `org`, an hour from expiry.
fn claims(sub: &str, org: OrgId) -> Value {
    let exp = Utc::now().timestamp() + 3600;
    json!({ "sub": sub, "org": org.uuid().to_string(), "exp": exp })
}

/// An unsigned `alg: none` token, ending with the empty signature's dot.
fn alg_none_token(claims: &Value) -> String {
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = base64url(claims.to_string().as_bytes());
    format!("{header}.{claims}.")
}

fn signed(alg: Algorithm, secret: &str, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let header = jsonwebtoken::Header::new(alg);
    jsonwebtoken::encode(&header, claims, &key).expect("encode")
}

/// Changes a developer row under the services: the tests below demote and
/// deactivate the only owner, which the services refuse, and authentication
/// must follow the row whatever wrote it.
async fn raw_set_developer(app: &TestApp, id: Uuid, update: developer::ActiveModel) {
    let update = developer::Entity::update_many().set(update);
    let update = update.filter(developer::Column::Id.eq(id));
    let result = update.exec(app.db()).await;
    let rows = result.expect("update developer").rows_affected;
    assert_eq!(rows, 1, "one developer row updated");
}

// Malformed or missing credentials ------------------------------------------

#[tokio::test]
async fn missing_authorization_header_is_401() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&send(&app, None, &[], VIEWER).await);
}

#[tokio::test]
async fn basic_authorization_scheme_is_401() {
    let (app, ..) = acme(DeveloperRole::Owner).await;
    let basic = "Basic dXNlcjpwYXNzd29yZA==";
    assert_unauthenticated(&send(&app, Some(basic), &[], VIEWER).await);
}

#[tokio::test]
async fn bearer_with_empty_token_is_401() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&send(&app, Some("Bearer "), &[], VIEWER).await);
    assert_unauthenticated(&send(&app, Some("Bearer"), &[], VIEWER).await);
}

#[tokio::test]
async fn garbage_token_is_401() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&ask(&app, "abc.def", VIEWER).await);
}

#[tokio::test]
async fn token_signed_with_another_secret_is_401() {
    let (app, org, dev, _) = acme(DeveloperRole::Owner).await;
    let other_secret = "another-secret-that-is-long-enough-987654";
    let token = signed(Algorithm::HS256, other_secret, &claims(&dev.subject, org));
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
}

#[tokio::test]
async fn token_expired_beyond_the_leeway_is_401() {
    let (app, org, dev, _) = acme(DeveloperRole::Owner).await;
    let token = mint(&dev.subject, Some(org.uuid().to_string()), -120);
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
}

#[tokio::test]
async fn token_without_exp_is_401() {
    let (app, org, dev, _) = acme(DeveloperRole::Owner).await;
    let mut claims = claims(&dev.subject, org);
    claims.as_object_mut().expect("claims object").remove("exp");
    let token = mint_claims(claims);
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
}

#[tokio::test]
async fn token_without_sub_is_401() {
    let (app, org, dev, _) = acme(DeveloperRole::Owner).await;
    let mut claims = claims(&dev.subject, org);
    claims.as_object_mut().expect("claims object").remove("sub");
    let token = mint_claims(claims);
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
}

#[tokio::test]
async fn unsigned_alg_none_token_is_401() {
    let (app, org, dev, _) = acme(DeveloperRole::Owner).await;
    let token = alg_none_token(&claims(&dev.subject, org));
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
    let without_dot = token.trim_end_matches('.');
    assert_unauthenticated(&ask(&app, without_dot, VIEWER).await);
}

#[tokio::test]
async fn hs512_token_with_the_right_secret_is_401() {
    let (app, org, dev, _) = acme(DeveloperRole::Owner).await;
    let token = signed(Algorithm::HS512, JWT_SECRET, &claims(&dev.subject, org));
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
}

#[tokio::test]
async fn unknown_subject_in_a_real_org_is_401() {
    let (app, org, _, _) = acme(DeveloperRole::Owner).await;
    let token = mint("sub|nobody-at-all", Some(org.uuid().to_string()), 3600);
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
}

#[tokio::test]
async fn org_claim_of_a_missing_organization_is_401() {
    let (app, _, dev, _) = acme(DeveloperRole::Owner).await;
    let token = mint(&dev.subject, Some(Uuid::now_v7().to_string()), 3600);
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
}

#[tokio::test]
async fn deactivated_developer_is_refused() {
    let (app, _, dev, token) = acme(DeveloperRole::Owner).await;
    ask(&app, &token, VIEWER).await.reply.ok();
    let deactivated_at = Set(Some(Utc::now()));
    let update = developer::ActiveModel {
        deactivated_at,
        ..Default::default()
    };
    raw_set_developer(&app, dev.id.uuid(), update).await;
    assert_unauthenticated(&ask(&app, &token, VIEWER).await);
    // Nor does a token without `org` find the organization through that row.
    let no_org = mint(&dev.subject, None, 3600);
    assert_unauthenticated(&ask(&app, &no_org, VIEWER).await);
}

#[tokio::test]
async fn role_is_read_from_the_database_on_every_request() {
    let (app, _, dev, token) = acme(DeveloperRole::Owner).await;
    let before = ask(&app, &token, VIEWER).await;
    assert_eq!(before.reply.ok()["viewer"]["role"], "OWNER");
    let role = Set(DeveloperRole::Viewer);
    let update = developer::ActiveModel {
        role,
        ..Default::default()
    };
    raw_set_developer(&app, dev.id.uuid(), update).await;
    let after = ask(&app, &token, VIEWER).await;
    let role = &after.reply.ok()["viewer"]["role"];
    assert_eq!(role, "VIEWER", "same token, new role");
}

// The happy path -----------------------------------------------------------

#[tokio::test]
async fn valid_token_shows_the_viewer() {
    let (app, _, dev, token) = acme(DeveloperRole::Admin).await;
    let answer = ask(&app, &token, VIEWER).await;
    let id = dev.id.to_global().0;
    let want = json!({ "id": id, "name": "Owner Person", "role": "ADMIN", "email": dev.email });
    assert_eq!(answer.reply.ok()["viewer"], want);
    assert!(answer.www_authenticate.is_none(), "no challenge on success");
}

#[tokio::test]
async fn viewer_organizations_lists_every_membership_with_its_role() {
    let (app, acme, dev, token) = acme(DeveloperRole::Owner).await;
    let globex = app.org("globex").await;
    app.add_membership(globex, &dev.subject, DeveloperRole::Viewer)
        .await;
    let elsewhere = app.org("initech").await; // someone else's organization
    app.developer(elsewhere, "Stranger", DeveloperRole::Owner)
        .await;

    let query = "{ viewer { organizations { id name slug role } } }";
    let answer = ask(&app, &token, query).await;
    let orgs = &answer.reply.ok()["viewer"]["organizations"];
    let mut orgs = orgs.as_array().cloned().expect("organizations is a list");
    orgs.sort_by_key(|o| o["slug"].as_str().unwrap_or_default().to_owned());
    let (acme_id, globex_id) = (acme.to_global().0, globex.to_global().0);
    let want = [
        json!({ "id": acme_id, "name": "Org acme", "slug": "acme", "role": "OWNER" }),
        json!({ "id": globex_id, "name": "Org globex", "slug": "globex", "role": "VIEWER" }),
    ];
    assert_eq!(orgs, want);
}

// X-Organization -------------------------------------------------------------

/// One person in `acme` (owner) and `globex` (member); a token without `org`.
async fn two_org_person() -> (TestApp, OrgId, OrgId, String) {
    let (app, acme, dev, _) = acme(DeveloperRole::Owner).await;
    let globex = app.org("globex").await;
    let member = DeveloperRole::Member;
    app.add_membership(globex, &dev.subject, member).await;
    (app, acme, globex, mint(&dev.subject, None, 3600))
}

async fn slug_with_header(app: &TestApp, token: &str, x_organization: &str) -> Answer {
    with_token(app, token, &[("x-organization", x_organization)], ORG_SLUG).await
}

#[tokio::test]
async fn x_organization_slug_selects_the_organization() {
    let (app, _, _, token) = two_org_person().await;
    let answer = slug_with_header(&app, &token, "globex").await;
    assert_eq!(answer.reply.ok()["organization"]["slug"], "globex");
}

#[tokio::test]
async fn x_organization_uuid_selects_the_organization() {
    let (app, acme, _, token) = two_org_person().await;
    let answer = slug_with_header(&app, &token, &acme.uuid().to_string()).await;
    assert_eq!(answer.reply.ok()["organization"]["slug"], "acme");
}

/// The schema: `OrganizationMembership.id` — "pass it (or the slug) as
/// `X-Organization`".
#[tokio::test]
async fn x_organization_accepts_the_membership_global_id() {
    let (app, _, globex, token) = two_org_person().await;
    let answer = slug_with_header(&app, &token, &globex.to_global().0).await;
    assert_eq!(answer.reply.ok()["organization"]["slug"], "globex");
}

#[tokio::test]
async fn x_organization_of_a_foreign_or_missing_org_is_the_same_403() {
    let (app, _, _, token) = two_org_person().await;
    let other = app.org("initech").await;
    app.developer(other, "Stranger", DeveloperRole::Owner).await;

    let foreign = slug_with_header(&app, &token, "initech").await;
    assert_refused(&foreign, 403, "FORBIDDEN");
    let missing = slug_with_header(&app, &token, "no-such-org").await;
    assert_refused(&missing, 403, "FORBIDDEN");
    assert_eq!(message(&foreign), message(&missing), "no existence leak");
    let by_uuid = slug_with_header(&app, &token, &Uuid::now_v7().to_string()).await;
    assert_refused(&by_uuid, 403, "FORBIDDEN");
    let (foreign, by_uuid) = (message(&foreign), message(&by_uuid));
    assert_eq!(foreign, by_uuid, "no existence leak by uuid");
}

#[tokio::test]
async fn no_org_claim_and_no_header_with_one_membership_works() {
    let (app, _, dev, _) = acme(DeveloperRole::Owner).await;
    let token = mint(&dev.subject, None, 3600);
    let answer = ask(&app, &token, ORG_SLUG).await;
    assert_eq!(answer.reply.ok()["organization"]["slug"], "acme");
}

#[tokio::test]
async fn no_org_claim_and_no_header_with_two_memberships_is_400() {
    let (app, _, _, token) = two_org_person().await;
    let answer = ask(&app, &token, ORG_SLUG).await;
    assert_refused(&answer, 400, "BAD_USER_INPUT");
}

#[tokio::test]
async fn org_claim_with_a_header_naming_another_org_is_403() {
    let (app, home, dev, _) = acme(DeveloperRole::Owner).await;
    let globex = app.org("globex").await;
    let member = DeveloperRole::Member;
    app.add_membership(globex, &dev.subject, member).await;
    let token = mint(&dev.subject, Some(home.uuid().to_string()), 3600);
    let answer = slug_with_header(&app, &token, "globex").await;
    assert_refused(&answer, 403, "FORBIDDEN");
    // The header naming the token's own organization is fine.
    let same = slug_with_header(&app, &token, "acme").await;
    assert_eq!(same.reply.ok()["organization"]["slug"], "acme");
}

// Issuer, audience, not-before and age ----------------------------------------

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "devgraph-api";

/// A server that requires `iss` and `aud`, and an owner of `acme` on it.
async fn with_issuer_and_audience() -> (TestApp, OrgId, Dev) {
    let app = TestApp::spawn_with(|c| {
        c.jwt_issuer = Some(ISSUER.into());
        c.jwt_audience = Some(AUDIENCE.into());
    })
    .await;
    let (org, dev, _) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    (app, org, dev)
}

/// jsonwebtoken compares `iss`/`aud` only when the token has them: a
/// configured one must be required, or leaving it out gets through.
#[tokio::test]
async fn configured_issuer_and_audience_are_required_claims() {
    let (app, org, dev) = with_issuer_and_audience().await;
    let mut full = claims(&dev.subject, org);
    full["iss"] = json!(ISSUER);
    full["aud"] = json!(AUDIENCE);
    ask(&app, &mint_claims(full.clone()), VIEWER)
        .await
        .reply
        .ok();
    for missing in ["iss", "aud"] {
        let mut partial = full.clone();
        partial.as_object_mut().expect("claims").remove(missing);
        let answer = ask(&app, &mint_claims(partial), VIEWER).await;
        assert_unauthenticated(&answer);
    }
    let mut wrong = full.clone();
    wrong["aud"] = json!("another-application");
    assert_unauthenticated(&ask(&app, &mint_claims(wrong), VIEWER).await);
}

#[tokio::test]
async fn token_not_valid_yet_is_401() {
    let (app, org, dev, _) = acme(DeveloperRole::Owner).await;
    let mut later = claims(&dev.subject, org);
    later["nbf"] = json!(Utc::now().timestamp() + 600);
    assert_unauthenticated(&ask(&app, &mint_claims(later), VIEWER).await);
    // Within the clock leeway it is fine.
    let mut now = claims(&dev.subject, org);
    now["nbf"] = json!(Utc::now().timestamp() + 5);
    ask(&app, &mint_claims(now), VIEWER).await.reply.ok();
}

/// `DEVGRAPH_JWT_MAX_AGE` (here its flag): `iat` becomes required and may be
/// no older than that.
#[tokio::test]
async fn tokens_older_than_the_maximum_age_are_401() {
    let app = TestApp::spawn_with(|c| {
        let flags = [
            "--database-url",
            &c.database_url,
            "--jwt-secret",
            JWT_SECRET,
            "--jwt-max-age",
            "1h",
        ];
        let args = devgraph::config::ConfigArgs::from_flags(&flags).expect("flags");
        let mut from_flags = devgraph::Config::from_args(args).expect("config");
        from_flags.addr = c.addr;
        from_flags.retention_every = None;
        *c = from_flags;
    })
    .await;
    let (org, dev, _) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let issued = |ago: i64| {
        let mut claims = claims(&dev.subject, org);
        claims["iat"] = json!(Utc::now().timestamp() - ago);
        mint_claims(claims)
    };
    ask(&app, &issued(60), VIEWER).await.reply.ok();
    assert_unauthenticated(&ask(&app, &issued(2 * 3600), VIEWER).await);
    assert_unauthenticated(&ask(&app, &issued(-600), VIEWER).await);
    let without_iat = mint_claims(claims(&dev.subject, org));
    assert_unauthenticated(&ask(&app, &without_iat, VIEWER).await);
}

// Key configuration -------------------------------------------------------------

fn config_from(flags: &[&str]) -> Result<devgraph::Config, String> {
    let args = devgraph::config::ConfigArgs::from_flags(flags).map_err(|e| e.to_string())?;
    devgraph::Config::from_args(args).map_err(|e| e.to_string())
}

const PEM: &str =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----";

/// Before, the secret silently won and the public key was ignored.
#[tokio::test]
async fn both_jwt_secret_and_public_key_are_refused() {
    let pem = format!("--jwt-public-key={PEM}");
    let both = config_from(&[
        "--database-url",
        "sqlite::memory:",
        "--jwt-secret",
        JWT_SECRET,
        &pem,
        "--jwt-audience",
        AUDIENCE,
    ]);
    let err = both.expect_err("refused");
    assert!(
        err.contains("JWT_SECRET") && err.contains("JWT_PUBLIC_KEY"),
        "{err}"
    );
}

/// An identity provider signs every application's tokens with one key:
/// only the audience tells ours apart.
#[tokio::test]
async fn public_key_without_audience_is_refused() {
    let pem = format!("--jwt-public-key={PEM}");
    let flags = ["--database-url", "sqlite::memory:", &pem];
    let err = config_from(&flags).expect_err("refused");
    assert!(err.contains("JWT_AUDIENCE"), "{err}");
    let with_audience = [&flags[..], &["--jwt-audience", AUDIENCE]].concat();
    config_from(&with_audience).expect("accepted with an audience");
}

// Authentication before the body ---------------------------------------------------

/// Writes a request head by hand that promises a body it never sends, and
/// returns the status line's code, if the server answers within 5 s: a
/// server that reads the body before authenticating waits for it instead.
async fn status_without_sending_the_body(app: &TestApp, head: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let request = format!("{head}Host: {}\r\n\r\n", app.addr);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 1024];
    let wait = std::time::Duration::from_secs(5);
    let read = tokio::time::timeout(wait, stream.read(&mut answer)).await;
    let n = read.ok()?.expect("read");
    let text = String::from_utf8_lossy(&answer[..n]);
    text.split(' ').nth(1).and_then(|code| code.parse().ok())
}

#[tokio::test]
async fn wrong_credentials_are_refused_before_the_body_is_read() {
    let app = TestApp::spawn().await;
    let head = "POST /graphql HTTP/1.1\r\nAuthorization: Bearer not-a-token\r\n\
                Content-Type: application/json\r\nContent-Length: 100\r\n";
    assert_eq!(status_without_sending_the_body(&app, head).await, Some(401));
}

/// Without credentials only an introspection query runs, and none is this
/// large: refused from the declared length, unread.
#[tokio::test]
async fn an_anonymous_body_too_large_for_introspection_is_refused_unread() {
    let app = TestApp::spawn().await;
    let head = "POST /graphql HTTP/1.1\r\nContent-Type: application/json\r\n\
                Content-Length: 500000\r\n";
    assert_eq!(status_without_sending_the_body(&app, head).await, Some(401));
}

#[tokio::test]
async fn wrong_credentials_win_over_body_errors() {
    let app = TestApp::spawn().await;
    let post = |body: Vec<u8>| {
        let req = app.client.post(app.url("/graphql")).body(body);
        let req = req.header("content-type", "application/json");
        req.header("accept", GQL).bearer_auth("not-a-token").send()
    };
    let oversized = vec![b' '; 2 * 1024 * 1024];
    for body in [oversized, b"{not json".to_vec()] {
        let reply = TestApp::reply(post(body).await.expect("send")).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    }
    // GET too: wrong credentials are 401 before the query is looked at.
    let get = app
        .client
        .get(app.url("/graphql?query=mutation%20%7B%20x%20%7D"));
    let get = get.header("accept", GQL).bearer_auth("not-a-token").send();
    let reply = TestApp::reply(get.await.expect("send")).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
}

/// The anonymous path still reads the body when it may be introspection.
#[tokio::test]
async fn anonymous_introspection_still_runs() {
    let app = TestApp::spawn().await;
    let answer = send(&app, None, &[], "{ __schema { queryType { name } } }").await;
    let data = answer.reply.ok();
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    assert_unauthenticated(&send(&app, None, &[], VIEWER).await);
}
