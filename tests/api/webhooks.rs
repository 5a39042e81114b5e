//! GitHub webhooks end to end: signed deliveries stored once, everything else refused without
//! storing anything or saying which repositories exist.

use devgraph::{
    auth::TenantCtx,
    ids::{GlobalId as _, OrgId, RepositoryId},
    service::repository,
};
use entity::{pull_request, scoped::InOrg as _, webhook_delivery};
use hmac::{KeyInit, Mac};
use serde_json::Value;

use crate::support::{Reply, TestApp};

const PR_OPENED: &str =
    include_str!("../../api/src/http/webhooks/fixtures/pull_request.opened.json");
const PR_MERGED: &str =
    include_str!("../../api/src/http/webhooks/fixtures/pull_request.closed-merged.json");
const PING: &str = include_str!("../../api/src/http/webhooks/fixtures/ping.json");

/// The fixtures' repository: acme-labs/ledger, GitHub id 718293046.
struct Hooked {
    org: OrgId,
    repository: RepositoryId,
    secret: String,
}

async fn hooked(app: &TestApp, slug: &str) -> Hooked {
    let org = app.org(slug).await;
    let project = app.project(org, None, "Ledger").await;
    let (repository, secret) =
        crate::support::forge::connect(app, org, project, "acme-labs/ledger", "718293046").await;
    Hooked {
        org,
        repository,
        secret,
    }
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

async fn deliver(
    app: &TestApp,
    repository: &str,
    event: &str,
    delivery: &str,
    body: &str,
    signature: Option<String>,
) -> Reply {
    let sent = (event, delivery, body);
    deliver_as(app, repository, "application/json", sent, signature).await
}

/// `deliver` with the content type given: (event, delivery id, body).
async fn deliver_as(
    app: &TestApp,
    repository: &str,
    content_type: &str,
    (event, delivery, body): (&str, &str, &str),
    signature: Option<String>,
) -> Reply {
    let mut request = app
        .client
        .post(app.url(&format!("/v1/webhooks/github/{repository}")))
        .header("content-type", content_type)
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    TestApp::reply(request.send().await.expect("send")).await
}

async fn prs(app: &TestApp, org: OrgId) -> Vec<pull_request::Model> {
    pull_request::Entity::find_in(org)
        .all(app.db())
        .await
        .expect("prs")
}

#[tokio::test]
async fn a_signed_delivery_is_stored_once() {
    let app = TestApp::spawn().await;
    let h = hooked(&app, "hooked").await;
    let id = h.repository.to_global().to_string();
    let sig = sign(&h.secret, PR_OPENED.as_bytes());
    let reply = deliver(
        &app,
        &id,
        "pull_request",
        "d-1",
        PR_OPENED,
        Some(sig.clone()),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["pullRequests"], 1);
    assert_eq!(reply.body["duplicate"], false);
    let stored = prs(&app, h.org).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].repository_id, h.repository.uuid());

    // GitHub redelivers with the same id: acknowledged, not applied again.
    let again = deliver(&app, &id, "pull_request", "d-1", PR_OPENED, Some(sig)).await;
    assert_eq!(
        (again.status, again.body["duplicate"].clone()),
        (202, Value::Bool(true))
    );
    let recorded = webhook_delivery::Entity::find_in(h.org)
        .all(app.db())
        .await
        .expect("deliveries");
    assert_eq!(recorded.len(), 1);

    // The raw uuid addresses the repository too; a newer state of the same pull request
    // updates the same row.
    let merged = deliver(
        &app,
        &h.repository.uuid().to_string(),
        "pull_request",
        "d-2",
        PR_MERGED,
        Some(sign(&h.secret, PR_MERGED.as_bytes())),
    )
    .await;
    assert_eq!(merged.status, 202, "{}", merged.body);
    let numbers: Vec<i32> = prs(&app, h.org).await.iter().map(|p| p.number).collect();
    assert!(!numbers.is_empty());
}

#[tokio::test]
async fn unsigned_and_missigned_deliveries_store_nothing() {
    let app = TestApp::spawn().await;
    let h = hooked(&app, "unsigned").await;
    let id = h.repository.to_global().to_string();
    let body = PR_OPENED;
    let cases = [
        ("no signature", None),
        (
            "another secret",
            Some(sign("not-the-secret", body.as_bytes())),
        ),
        ("another body", Some(sign(&h.secret, b"{}"))),
        ("malformed", Some("sha256=zz".to_owned())),
        (
            "sha1",
            Some(sign(&h.secret, body.as_bytes()).replace("sha256=", "sha1=")),
        ),
    ];
    for (what, signature) in cases {
        let reply = deliver(&app, &id, "pull_request", what, body, signature).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.body);
        assert_eq!(reply.code(), Some("UNAUTHENTICATED"), "{what}");
    }
    assert!(prs(&app, h.org).await.is_empty());
    let recorded = webhook_delivery::Entity::find_in(h.org)
        .all(app.db())
        .await
        .expect("deliveries");
    assert!(recorded.is_empty(), "a refused delivery is not recorded");
}

#[tokio::test]
async fn another_organizations_repository_reveals_nothing() {
    let app = TestApp::spawn().await;
    let a = hooked(&app, "hook-a").await;
    let b = hooked(&app, "hook-b").await;
    // A's secret on B's repository (A knows only its own secret), against an id that does
    // not exist and an id that is no id at all: one answer for all.
    let sig = sign(&a.secret, PR_OPENED.as_bytes());
    let mut answers = Vec::new();
    for target in [
        b.repository.to_global().to_string(),
        RepositoryId::new().to_global().to_string(),
        "not-an-id".to_owned(),
    ] {
        let reply = deliver(
            &app,
            &target,
            "pull_request",
            "x",
            PR_OPENED,
            Some(sig.clone()),
        )
        .await;
        answers.push((reply.status, reply.body));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 401);
    assert!(prs(&app, a.org).await.is_empty() && prs(&app, b.org).await.is_empty());
}

#[tokio::test]
async fn unknown_events_are_acknowledged_and_bad_payloads_refused() {
    let app = TestApp::spawn().await;
    let h = hooked(&app, "events").await;
    let id = h.repository.to_global().to_string();
    let ping = deliver(
        &app,
        &id,
        "ping",
        "p",
        PING,
        Some(sign(&h.secret, PING.as_bytes())),
    )
    .await;
    assert_eq!(ping.status, 202, "{}", ping.body);
    assert!(ping.body["ignored"].is_string());
    let star = r#"{"action":"created"}"#;
    let reply = deliver(
        &app,
        &id,
        "star",
        "s",
        star,
        Some(sign(&h.secret, star.as_bytes())),
    )
    .await;
    assert_eq!(reply.status, 202);
    assert!(reply.body["ignored"].is_string());
    for (body, what) in [
        ("{not json", "malformed JSON"),
        (
            r#"{"action":"opened","pull_request":{"title":"x"}}"#,
            "missing fields",
        ),
    ] {
        let reply = deliver(
            &app,
            &id,
            "pull_request",
            what,
            body,
            Some(sign(&h.secret, body.as_bytes())),
        )
        .await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, Some("BAD_USER_INPUT")),
            "{what}: {}",
            reply.body
        );
    }
    // A delivery for another GitHub repository (a webhook URL copied there) is refused.
    let other = PR_OPENED.replace("718293046", "999");
    let reply = deliver(
        &app,
        &id,
        "pull_request",
        "o",
        &other,
        Some(sign(&h.secret, other.as_bytes())),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(prs(&app, h.org).await.is_empty());
}

#[tokio::test]
async fn a_rotated_secret_replaces_the_old_one_and_a_disconnected_repository_takes_nothing() {
    let app = TestApp::spawn().await;
    let h = hooked(&app, "rotate").await;
    let id = h.repository.to_global().to_string();
    let ctx = TenantCtx::unsafe_system(h.org);
    let rotated = repository::rotate_secret(
        &ctx,
        app.db(),
        Some(&crate::support::forge::sealer()),
        h.repository,
    )
    .await
    .expect("rotate");
    assert_ne!(rotated.webhook_secret, h.secret);
    let old = deliver(
        &app,
        &id,
        "pull_request",
        "1",
        PR_OPENED,
        Some(sign(&h.secret, PR_OPENED.as_bytes())),
    )
    .await;
    assert_eq!(old.status, 401);
    let new = deliver(
        &app,
        &id,
        "pull_request",
        "2",
        PR_OPENED,
        Some(sign(&rotated.webhook_secret, PR_OPENED.as_bytes())),
    )
    .await;
    assert_eq!(new.status, 202, "{}", new.body);
    repository::disconnect(
        &ctx,
        app.db(),
        &devgraph::service::live::Live::off(),
        h.repository,
    )
    .await
    .expect("disconnect");
    assert!(
        prs(&app, h.org).await.is_empty(),
        "its pull requests went with it"
    );
    let after = deliver(
        &app,
        &id,
        "pull_request",
        "3",
        PR_OPENED,
        Some(sign(&rotated.webhook_secret, PR_OPENED.as_bytes())),
    )
    .await;
    assert_eq!(after.status, 401);
}

#[tokio::test]
async fn delivery_ids_are_forgotten_with_the_retention_window() {
    use chrono::{Duration, Utc};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = TestApp::spawn().await;
    let h = hooked(&app, "forget").await;
    let id = h.repository.to_global().to_string();
    let sig = sign(&h.secret, PR_OPENED.as_bytes());
    let reply = deliver(&app, &id, "pull_request", "recent", PR_OPENED, Some(sig)).await;
    assert_eq!(reply.status, 202);
    // A delivery id recorded long before the organization's 90-day window.
    webhook_delivery::ActiveModel {
        organization_id: Set(h.org.uuid()),
        id: Set(uuid::Uuid::now_v7()),
        repository_id: Set(h.repository.uuid()),
        delivery_id: Set("ancient".into()),
        event: Set("pull_request".into()),
        received_at: Set(Utc::now() - Duration::days(200)),
    }
    .insert(app.db())
    .await
    .expect("old delivery");
    devgraph::service::retention::run(app.db(), 1)
        .await
        .expect("retention");
    let left: Vec<String> = webhook_delivery::Entity::find_in(h.org)
        .all(app.db())
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| d.delivery_id)
        .collect();
    assert_eq!(left, ["recent"]);
}

/// GitHub's settings page offers `application/x-www-form-urlencoded` first: the
/// JSON then travels in the `payload` field, and the signature covers the form
/// body as sent. Any other content type is refused, storing nothing.
#[tokio::test]
async fn form_encoded_deliveries_are_read_from_their_payload_field() {
    let app = TestApp::spawn().await;
    let h = hooked(&app, "form-encoded").await;
    let id = h.repository.to_global().to_string();
    let form = "application/x-www-form-urlencoded";
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", PR_OPENED)
        .finish();
    let sent = ("pull_request", "f-1", body.as_str());
    let reply = deliver_as(
        &app,
        &id,
        form,
        sent,
        Some(sign(&h.secret, body.as_bytes())),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["pullRequests"], 1);
    assert_eq!(prs(&app, h.org).await.len(), 1);

    // Signed over the JSON inside rather than the body sent: not GitHub's.
    let sent = ("pull_request", "f-2", body.as_str());
    let inner = Some(sign(&h.secret, PR_OPENED.as_bytes()));
    let reply = deliver_as(&app, &id, form, sent, inner).await;
    assert_eq!(reply.status, 401, "{}", reply.body);

    let refusals = [
        (form, "title=no+payload", 400),
        ("text/plain", PR_OPENED, 415),
    ];
    for (content_type, body, status) in refusals {
        let sent = ("pull_request", content_type, body);
        let signature = Some(sign(&h.secret, body.as_bytes()));
        let reply = deliver_as(&app, &id, content_type, sent, signature).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, Some("BAD_USER_INPUT")),
            "{content_type}: {}",
            reply.body
        );
    }
    let recorded = webhook_delivery::Entity::find_in(h.org)
        .all(app.db())
        .await
        .expect("deliveries");
    assert_eq!(recorded.len(), 1, "only the well-formed delivery counts");
}
