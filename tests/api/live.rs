//! Subscriptions over `/graphql/ws`, driven by a real graphql-transport-ws
//! client (tokio-tungstenite): changes reach subscribers after commit, on
//! another replica too (PostgreSQL LISTEN/NOTIFY), never another
//! organization's; the protocol's close codes; limits, folding, idle
//! connections, credentials checked again, and the gauges.

use std::time::Duration;

use chrono::Utc;
use devgraph::{Config, build_app};
use entity::enums::DeveloperRole;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::support::{Gid, JWT_SECRET, TestApp, backend_name, create_key, events::*, site::Site};

/// Long enough for any commit to reach a subscriber on a loaded CI machine.
const WAIT: Duration = Duration::from_secs(20);

const METRICS: &str = "subscription($scope: ID!) {
    metricsChanged(scope: $scope) { scope rows { day eventName count } } }";

/// What the server sent: a protocol message, or the close frame.
#[derive(Debug)]
enum Frame {
    Json(Value),
    Closed(u16, String),
}

struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    async fn connect(addr: std::net::SocketAddr) -> Ws {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = connect_async(request).await.expect("connect");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Ws { socket }
    }

    /// Connected and acknowledged with `token`.
    async fn open(addr: std::net::SocketAddr, token: &str) -> Ws {
        let mut ws = Ws::connect(addr).await;
        ws.init(token).await;
        match ws.frame().await {
            Frame::Json(m) if m["type"] == "connection_ack" => ws,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    async fn init(&mut self, token: &str) {
        let auth = format!("Bearer {token}");
        self.send(json!({ "type": "connection_init", "payload": { "Authorization": auth } }))
            .await;
    }

    async fn send(&mut self, msg: Value) {
        let text = msg.to_string();
        self.socket.send(Message::text(text)).await.expect("send");
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let payload = json!({ "query": query, "variables": variables });
        self.send(json!({ "type": "subscribe", "id": id, "payload": payload }))
            .await;
    }

    /// The next frame, within `WAIT`.
    async fn frame(&mut self) -> Frame {
        self.frame_within(WAIT)
            .await
            .expect("nothing arrived in time")
    }

    async fn frame_within(&mut self, wait: Duration) -> Option<Frame> {
        loop {
            let msg = tokio::time::timeout(wait, self.socket.next()).await.ok()?;
            match msg {
                Some(Ok(Message::Text(text))) => {
                    return Some(Frame::Json(serde_json::from_str(&text).unwrap()));
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Some(Frame::Closed(code, reason));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(Frame::Closed(1006, String::new())),
            }
        }
    }

    /// The payload of the next `next` message of `id`.
    async fn next(&mut self, id: &str) -> Value {
        match self.frame().await {
            Frame::Json(m) if m["type"] == "next" && m["id"] == id => m["payload"].clone(),
            other => panic!("expected next for {id}, got {other:?}"),
        }
    }

    /// The code of the `error` message the server answers subscription `id` with.
    async fn error_code(&mut self, id: &str) -> Option<String> {
        match self.frame().await {
            Frame::Json(m) if m["type"] == "error" && m["id"] == id => {
                let code = &m["payload"][0]["extensions"]["code"];
                code.as_str().map(str::to_owned)
            }
            other => panic!("expected an error for {id}, got {other:?}"),
        }
    }

    /// The close code the server ends with.
    async fn closed(&mut self) -> u16 {
        match self.frame().await {
            Frame::Closed(code, reason) => {
                assert!(code < 4000 || !reason.is_empty(), "a refusal says why");
                code
            }
            other => panic!("expected the socket to close, got {other:?}"),
        }
    }
}

/// (day, event name, count) of a `metricsChanged` message.
fn rows(payload: &Value) -> Vec<(String, String, i64)> {
    let rows = payload["data"]["metricsChanged"]["rows"]
        .as_array()
        .unwrap();
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("day"), s("eventName"), r["count"].as_i64().unwrap())
        })
        .collect()
}

fn today_text() -> String {
    Utc::now().date_naive().to_string()
}

/// `n` events named `name` happening now, with fresh client ids.
fn now_events(name: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| ev(&uuid::Uuid::now_v7().to_string(), name, None, Utc::now()))
        .collect()
}

#[tokio::test]
async fn a_subscriber_gets_the_counts_at_the_start_then_each_committed_change() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "live").await;
    send(&app, &s.key.secret, now_events("deploy", 2)).await;
    let mut ws = Ws::open(app.addr, &s.token).await;
    ws.subscribe("1", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    let first = ws.next("1").await;
    assert_eq!(first["data"]["metricsChanged"]["scope"], s.org.gid());
    assert_eq!(rows(&first), vec![(today_text(), "deploy".into(), 2)]);
    send(&app, &s.key.secret, now_events("commit", 3)).await;
    let change = ws.next("1").await;
    assert_eq!(
        rows(&change),
        vec![(today_text(), "commit".into(), 3)],
        "only what changed"
    );
    // A retried batch changes nothing: no message.
    let retried: Vec<Value> = vec![ev("same", "commit", None, Utc::now())];
    send(&app, &s.key.secret, retried.clone()).await;
    assert_eq!(
        rows(&ws.next("1").await),
        vec![(today_text(), "commit".into(), 4)]
    );
    send(&app, &s.key.secret, retried).await;
    assert!(ws.frame_within(Duration::from_secs(2)).await.is_none());
    // `complete` from the client ends it; the connection stays.
    ws.send(json!({ "type": "complete", "id": "1" })).await;
    ws.send(json!({ "type": "ping" })).await;
    match ws.frame().await {
        Frame::Json(m) => assert_eq!(m["type"], "pong"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_subscriber_on_another_replica_hears_of_a_change_through_the_database() {
    if backend_name() != "postgres" {
        // One process owns a SQLite file: there is no other replica.
        return;
    }
    let a = TestApp::spawn().await;
    let config = Config::for_tests(a.direct_database_url(), JWT_SECRET);
    let b = build_app(config).await.expect("build the second replica");
    let b_addr = b.spawn().await.expect("spawn the second replica");
    let s = Site::new(&a, "replicas").await;
    let mut ws = Ws::open(b_addr, &s.token).await;
    ws.subscribe("p", METRICS, json!({ "scope": s.project.gid() }))
        .await;
    assert_eq!(rows(&ws.next("p").await), vec![]);
    send(&a, &s.key.secret, now_events("merge", 2)).await;
    let change = ws.next("p").await;
    assert_eq!(rows(&change), vec![(today_text(), "merge".into(), 2)]);
    // A write through the GraphQL API of the first replica, too.
    let reply = record(&a, &s.token, s.project, now_events("merge", 1)).await;
    assert_eq!(reply.codes(), Vec::<String>::new());
    assert_eq!(
        rows(&ws.next("p").await),
        vec![(today_text(), "merge".into(), 3)]
    );
}

#[tokio::test]
async fn a_subscriber_never_hears_of_another_organization_nor_watches_its_scopes() {
    let app = TestApp::spawn().await;
    let a = Site::new(&app, "live-a").await;
    let b = Site::new(&app, "live-b").await;
    let other_project = app.project(a.org, None, "other").await;
    let mut ws = Ws::open(app.addr, &a.token).await;
    ws.subscribe("org", METRICS, json!({ "scope": a.org.gid() }))
        .await;
    ws.next("org").await;
    ws.subscribe("proj", METRICS, json!({ "scope": a.project.gid() }))
        .await;
    ws.next("proj").await;
    // B's ids behave like ids that do not exist.
    for (id, scope) in [("b-org", b.org.gid()), ("b-proj", b.project.gid())] {
        ws.subscribe(id, METRICS, json!({ "scope": scope })).await;
        assert_eq!(ws.error_code(id).await.as_deref(), Some("NOT_FOUND"));
    }
    // B's events, then events of A's other project, then A's own: the
    // first message is A's organization's, and the project subscription
    // hears only of its own project.
    send(&app, &b.key.secret, now_events("b-only", 5)).await;
    let key = create_key(&app, &a.token, "EVENTS_WRITE", Some(other_project)).await;
    send(&app, &key.secret, now_events("elsewhere", 1)).await;
    let org = ws.next("org").await;
    assert_eq!(rows(&org), vec![(today_text(), "elsewhere".into(), 1)]);
    send(&app, &a.key.secret, now_events("mine", 2)).await;
    let mut heard = Vec::new();
    while heard.len() < 2 {
        match ws.frame().await {
            Frame::Json(m) if m["type"] == "next" => {
                heard.push((m["id"].as_str().unwrap().to_owned(), rows(&m["payload"])));
            }
            other => panic!("{other:?}"),
        }
    }
    heard.sort();
    let mine = vec![(today_text(), "mine".to_owned(), 2)];
    assert_eq!(
        heard,
        vec![("org".to_owned(), mine.clone()), ("proj".to_owned(), mine)]
    );
}

#[tokio::test]
async fn bad_connection_init_and_early_or_repeated_messages_close_with_the_protocol_codes() {
    let app = TestApp::spawn_with(|c| c.live.init_timeout = Duration::from_millis(300)).await;
    let s = Site::new(&app, "codes").await;
    // No or a wrong token: 4401, after which clients stop retrying.
    let mut ws = Ws::connect(app.addr).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.closed().await, 4401);
    let mut ws = Ws::connect(app.addr).await;
    ws.init("not-a-token").await;
    assert_eq!(ws.closed().await, 4401);
    // Valid credentials that may not read: 4403.
    let mut ws = Ws::connect(app.addr).await;
    ws.init(&s.key.secret).await;
    assert_eq!(ws.closed().await, 4403, "an EVENTS_WRITE key may not read");
    // A subscription before the acknowledgement: 4401.
    let mut ws = Ws::connect(app.addr).await;
    ws.subscribe("1", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    assert_eq!(ws.closed().await, 4401);
    // A second connection_init: 4429; a repeated id: 4409; garbage: 4400.
    let mut ws = Ws::open(app.addr, &s.token).await;
    ws.init(&s.token).await;
    assert_eq!(ws.closed().await, 4429);
    let mut ws = Ws::open(app.addr, &s.token).await;
    ws.subscribe("1", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    ws.subscribe("1", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    let code = loop {
        match ws.frame().await {
            Frame::Closed(code, _) => break code,
            Frame::Json(_) => {}
        }
    };
    assert_eq!(code, 4409);
    let mut ws = Ws::open(app.addr, &s.token).await;
    ws.send(json!({ "no": "type" })).await;
    assert_eq!(ws.closed().await, 4400);
    // Silence after connecting: 4408.
    let mut ws = Ws::connect(app.addr).await;
    assert_eq!(ws.closed().await, 4408);
    // A plain GET is told where subscriptions are, with a code.
    let plain = app.client.get(app.url("/graphql/ws")).send().await.unwrap();
    let reply = TestApp::reply(plain).await;
    assert!(reply.status >= 400, "{}", reply.status);
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn queries_bad_documents_and_limits_are_errors_of_their_subscription_only() {
    let app = TestApp::spawn_with(|c| {
        c.live.per_connection = 2;
        c.live.per_organization = 3;
    })
    .await;
    let s = Site::new(&app, "limits").await;
    let mut ws = Ws::open(app.addr, &s.token).await;
    ws.subscribe("q", "{ viewer { name } }", json!({})).await;
    assert_eq!(ws.error_code("q").await.as_deref(), Some("BAD_USER_INPUT"));
    ws.subscribe("bad", "subscription { nope }", json!({}))
        .await;
    assert!(ws.error_code("bad").await.is_some());
    for id in ["1", "2"] {
        ws.subscribe(id, METRICS, json!({ "scope": s.org.gid() }))
            .await;
        ws.next(id).await;
    }
    ws.subscribe("3", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    assert_eq!(ws.error_code("3").await.as_deref(), Some("LIMIT_EXCEEDED"));
    // The organization's limit counts its connections together.
    let mut other = Ws::open(app.addr, &s.token).await;
    other
        .subscribe("a", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    other.next("a").await;
    other
        .subscribe("b", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    assert_eq!(
        other.error_code("b").await.as_deref(),
        Some("LIMIT_EXCEEDED")
    );
    // Another organization has its own.
    let t = Site::new(&app, "limits-other").await;
    let mut third = Ws::open(app.addr, &t.token).await;
    third
        .subscribe("x", METRICS, json!({ "scope": t.org.gid() }))
        .await;
    third.next("x").await;
    // Ending one frees its slot.
    ws.send(json!({ "type": "complete", "id": "1" })).await;
    other
        .subscribe("c", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    other.next("c").await;
}

#[tokio::test]
async fn changes_that_come_quickly_are_folded_into_one_message() {
    let app = TestApp::spawn_with(|c| c.live.interval = Duration::from_secs(4)).await;
    let s = Site::new(&app, "fold").await;
    let mut ws = Ws::open(app.addr, &s.token).await;
    ws.subscribe("1", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    ws.next("1").await;
    for _ in 0..6 {
        send(&app, &s.key.secret, now_events("push", 1)).await;
    }
    // At most: one for the first batch, one for the five folded after it.
    let mut messages = 0;
    let mut last = 0;
    while last < 6 {
        let change = ws.next("1").await;
        messages += 1;
        last = rows(&change)[0].2;
    }
    assert!(messages <= 2, "{messages} messages for 6 batches");
}

#[tokio::test]
async fn a_deactivated_developers_subscriptions_end() {
    let app = TestApp::spawn_with(|c| c.live.recheck = Duration::from_millis(200)).await;
    let s = Site::new(&app, "leaver").await;
    let member = app.developer(s.org, "Mo", DeveloperRole::Member).await;
    let mut ws = Ws::open(app.addr, &app.token_for(&member)).await;
    ws.subscribe("1", METRICS, json!({ "scope": member.gid() }))
        .await;
    ws.next("1").await;
    app.deactivate(&member).await;
    assert_eq!(ws.closed().await, 4401);
}

#[tokio::test]
async fn a_connection_without_subscriptions_is_closed_after_the_idle_timeout() {
    let app = TestApp::spawn_with(|c| c.live.idle_timeout = Duration::from_millis(500)).await;
    let s = Site::new(&app, "idle").await;
    let mut busy = Ws::open(app.addr, &s.token).await;
    busy.subscribe("1", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    busy.next("1").await;
    let mut idle = Ws::open(app.addr, &s.token).await;
    assert_eq!(idle.closed().await, 1000);
    // The one with a subscription stays, past the timeout.
    assert!(busy.frame_within(Duration::from_secs(1)).await.is_none());
    busy.send(json!({ "type": "complete", "id": "1" })).await;
    assert_eq!(busy.closed().await, 1000, "idle once it has none");
}

#[tokio::test]
async fn open_connections_and_subscriptions_are_gauges() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "gauges").await;
    let gauge = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics"))
    };
    let scrape = || async {
        let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
        resp.text().await.unwrap()
    };
    let mut ws = Ws::open(app.addr, &s.token).await;
    ws.subscribe("1", METRICS, json!({ "scope": s.org.gid() }))
        .await;
    ws.next("1").await;
    let text = scrape().await;
    assert_eq!(gauge(&text, "devgraph_websocket_connections"), 1.0);
    assert_eq!(gauge(&text, "devgraph_subscriptions"), 1.0);
    drop(ws);
    // The server notices the socket went away on its next read.
    let mut left = (1.0, 1.0);
    for _ in 0..100 {
        let text = scrape().await;
        left = (
            gauge(&text, "devgraph_websocket_connections"),
            gauge(&text, "devgraph_subscriptions"),
        );
        if left == (0.0, 0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, (0.0, 0.0));
}

#[tokio::test]
async fn delivery_subscribers_get_the_new_dora_figures_after_a_recorded_deployment() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "dora").await;
    let today = Utc::now().date_naive();
    let from = (today - chrono::Duration::days(6)).to_string();
    let mut ws = Ws::open(app.addr, &s.token).await;
    let query = "subscription($scope: ID!, $from: Date!, $to: Date!) {
        deliveryChanged(scope: $scope, from: $from, to: $to, interval: ALL) {
            scope periods { from to dora { deployments } } } }";
    let vars = json!({ "scope": s.project.gid(), "from": from, "to": today.to_string() });
    ws.subscribe("d", query, vars).await;
    let deployments =
        |p: &Value| p["data"]["deliveryChanged"]["periods"][0]["dora"]["deployments"].as_f64();
    assert_eq!(deployments(&ws.next("d").await), Some(0.0));
    let now = Utc::now();
    let record = r#"mutation($p: ID!, $start: DateTime!, $end: DateTime!) {
        recordDeployment(input: {projectId: $p, externalId: "rel-1", environment: "production",
            status: SUCCESS, startedAt: $start, finishedAt: $end}) { deployment { id } } }"#;
    let vars = json!({
        "p": s.project.gid(),
        "start": (now - chrono::Duration::minutes(5)).to_rfc3339(),
        "end": now.to_rfc3339(),
    });
    app.gql(&s.token, record, vars).await.ok();
    assert_eq!(deployments(&ws.next("d").await), Some(1.0));
}

#[tokio::test]
async fn in_trusted_documents_mode_only_listed_subscriptions_start() {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(METRICS.as_bytes());
    let hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let manifest = json!({ format!("sha256:{hash}"): METRICS });
    let path = std::env::temp_dir().join(format!("live-trusted-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&path, manifest.to_string()).unwrap();
    // Set up through a server that runs any document; subscribed to and
    // ingested through one that runs only the manifest's, on the same data.
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "trusted").await;
    let mut config = Config::for_tests(app.direct_database_url(), JWT_SECRET);
    config.clients.trusted_documents = Some(path.clone());
    let trusted = build_app(config).await.expect("a trusted-mode server");
    let addr = trusted.spawn().await.expect("spawn");
    std::fs::remove_file(&path).ok();
    let events = json!({ "events": now_events("trusted", 1) });
    let post = app
        .client
        .post(format!("http://{addr}/v1/events"))
        .bearer_auth(&s.key.secret)
        .json(&events);
    let mut ws = Ws::open(addr, &s.token).await;
    // By hash alone, as the client preset's generated code sends it.
    let by_hash = json!({
        "variables": { "scope": s.org.gid() },
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } },
    });
    ws.send(json!({ "type": "subscribe", "id": "listed", "payload": by_hash }))
        .await;
    assert_eq!(rows(&ws.next("listed").await), vec![]);
    let other = "subscription($scope: ID!) { metricsChanged(scope: $scope) { scope } }";
    ws.subscribe("free", other, json!({ "scope": s.org.gid() }))
        .await;
    assert_eq!(ws.error_code("free").await.as_deref(), Some("FORBIDDEN"));
    assert_eq!(post.send().await.unwrap().status(), 202);
    assert_eq!(
        rows(&ws.next("listed").await),
        vec![(today_text(), "trusted".into(), 1)]
    );
}

#[tokio::test]
async fn a_subscription_sent_over_http_is_told_where_subscriptions_are() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "over-http").await;
    let reply = app
        .gql(&s.token, METRICS, json!({ "scope": s.org.gid() }))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("/graphql/ws"), "{message}");
}
