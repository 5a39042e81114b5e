//! Query limits checked before execution (document size, aliases, root
//! fields), and the health endpoints.

use crate::support::TestApp;
use entity::enums::DeveloperRole;
use serde_json::json;

async fn post(app: &TestApp, token: &str, accept: &str, query: &str) -> crate::support::Reply {
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("accept", accept)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    TestApp::reply(resp).await
}

#[tokio::test]
async fn too_many_aliases_root_fields_or_bytes_are_limit_exceeded() {
    let app = TestApp::spawn_with(|c| {
        c.limits.max_aliases = 3;
        c.limits.max_root_fields = 4;
        c.limits.max_query_bytes = 2000;
    })
    .await;
    let (_, _, token) = app
        .with_org_and_developer("lim", DeveloperRole::Owner)
        .await;
    let gql = "application/graphql-response+json";

    let ok = post(
        &app,
        &token,
        gql,
        "{ a: viewer { id } b: viewer { id } c: viewer { id } }",
    )
    .await;
    ok.ok();

    let aliases = "{ a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } }";
    let refused = post(&app, &token, gql, aliases).await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, Some("LIMIT_EXCEEDED"))
    );
    assert!(refused.body.get("data").is_none());
    // Under application/json a request error is still HTTP 200.
    let as_json = post(&app, &token, "application/json", aliases).await;
    assert_eq!(
        (as_json.status, as_json.code()),
        (200, Some("LIMIT_EXCEEDED"))
    );

    let roots = "{ viewer { id } organization { id } teamSpaces { totalCount } projects { totalCount } developers { totalCount } }";
    let refused = post(&app, &token, gql, roots).await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, Some("LIMIT_EXCEEDED"))
    );

    let padded = format!("{{ viewer {{ id }} }} # {}", "x".repeat(2000));
    let refused = post(&app, &token, gql, &padded).await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, Some("LIMIT_EXCEEDED"))
    );

    // The server keeps serving.
    post(&app, &token, gql, "{ viewer { id } }").await.ok();
}

#[tokio::test]
async fn complexity_over_the_limit_is_limit_exceeded() {
    let app = TestApp::spawn_with(|c| c.limits.max_complexity = 500).await;
    let (_, _, token) = app.with_org_and_developer("cx", DeveloperRole::Owner).await;
    let deep = "{ teamSpaces(first: 100) { edges { node { developers(first: 100) { edges { node { id } } } } } } }";
    let refused = post(&app, &token, "application/graphql-response+json", deep).await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, Some("LIMIT_EXCEEDED"))
    );
}

#[tokio::test]
async fn health_and_readiness_answer_without_a_token() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let ready = TestApp::reply(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(
        (ready.status, ready.body["status"].as_str()),
        (200, Some("ready"))
    );
}

#[tokio::test]
async fn requests_carry_an_id_and_are_counted_in_prometheus_metrics() {
    let app = TestApp::spawn().await;
    let (_, _, token) = app
        .with_org_and_developer("obs", DeveloperRole::Owner)
        .await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-42")
        .json(&json!({ "query": "query WhoAmI { viewer { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["x-request-id"],
        "trace-me-42",
        "a given id is echoed"
    );
    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(
        !resp.headers()["x-request-id"].is_empty(),
        "an id is made up otherwise"
    );
    // An id that could forge log fields is replaced, not echoed.
    for forged in ["a b", "x\" level=error", "k=v", &"a".repeat(129)] {
        let resp = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", forged)
            .send()
            .await
            .unwrap();
        let echoed = resp.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(echoed, forged);
        assert!(uuid::Uuid::parse_str(echoed).is_ok(), "{echoed}");
    }

    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let graphql_line = text
        .lines()
        .find(|l| {
            l.starts_with("devgraph_http_requests_total{") && l.contains("route=\"/graphql\"")
        })
        .unwrap_or_else(|| panic!("no /graphql request counter in:\n{text}"));
    assert!(
        graphql_line.contains("status=\"200\"")
            && graphql_line.contains("operation=\"WhoAmI\"")
            && graphql_line.ends_with(" 1"),
        "{graphql_line}"
    );
    assert!(text.contains("devgraph_http_request_duration_seconds_bucket"));
    assert!(text.contains("devgraph_events_ingested_total 0"));
    assert!(text.contains("devgraph_db_pool_connections"));
}

#[tokio::test]
async fn a_request_over_the_request_timeout_is_503_and_health_still_answers() {
    if crate::support::backend_name() != "postgres" {
        return; // needs a lock another session can hold: PostgreSQL's LOCK TABLE
    }
    let app = TestApp::spawn_with(|c| c.request_timeout = std::time::Duration::from_secs(2)).await;
    let (_, _, token) = app
        .with_org_and_developer("slow", DeveloperRole::Owner)
        .await;
    // Another session locks the table authentication reads, so the request
    // cannot finish until the lock goes, whatever the machine's speed.
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let other = sea_orm::Database::connect(&app.app.state.config.database_url)
        .await
        .unwrap();
    let txn = other.begin().await.unwrap();
    txn.execute_unprepared("LOCK TABLE developers IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let reply = post(
        &app,
        &token,
        "application/graphql-response+json",
        "{ viewer { id } }",
    )
    .await;
    assert_eq!(
        (reply.status, reply.code()),
        (503, Some("SERVICE_UNAVAILABLE"))
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    txn.rollback().await.unwrap();
    other.close().await.ok();
    // Served again once the lock is gone.
    post(
        &app,
        &token,
        "application/graphql-response+json",
        "{ viewer { id } }",
    )
    .await
    .ok();
}

/// Work spawned for a request stops when the request ends: a `nodes`
/// lookup whose batch task waits on a locked table is answered 503 at the
/// request timeout, and its task is gone at once, while the lock that
/// keeps it from finishing is still held.
#[tokio::test]
async fn a_timed_out_request_stops_its_batch_tasks() {
    use crate::support::Gid;
    if crate::support::backend_name() != "postgres" {
        return; // needs a lock another session can hold: PostgreSQL's LOCK TABLE
    }
    let app = TestApp::spawn_with(|c| c.request_timeout = std::time::Duration::from_secs(2)).await;
    let (org, _, token) = app
        .with_org_and_developer("slow", DeveloperRole::Owner)
        .await;
    let project = app.project(org, None, "app").await;
    let tasks = || async {
        let text = app.client.get(app.url("/metrics")).send().await.unwrap();
        let text = text.text().await.unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("devgraph_request_tasks "))
            .map(str::to_owned);
        line.and_then(|l| l.rsplit(' ').next().and_then(|n| n.parse::<i64>().ok()))
    };
    assert_eq!(tasks().await, Some(0));
    // Authentication reads developers and organizations; the batch task of
    // `nodes` reads projects, which another session locks.
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let other = sea_orm::Database::connect(&app.app.state.config.database_url)
        .await
        .unwrap();
    let txn = other.begin().await.unwrap();
    txn.execute_unprepared("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let query = format!(r#"{{ nodes(ids: ["{}"]) {{ id }} }}"#, project.gid());
    let request = post(&app, &token, "application/graphql-response+json", &query);
    let watch = async {
        // The task runs, waiting on the lock, while the request waits.
        let mut seen = None;
        for _ in 0..150 {
            seen = tasks().await;
            if seen == Some(1) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        seen
    };
    let (reply, seen) = tokio::join!(request, watch);
    assert_eq!(seen, Some(1), "the batch task ran");
    assert_eq!(
        (reply.status, reply.code()),
        (503, Some("SERVICE_UNAVAILABLE"))
    );
    assert_eq!(tasks().await, Some(0), "stopped with its request");
    txn.rollback().await.unwrap();
    other.close().await.ok();
}

#[tokio::test]
async fn postgres_connections_carry_the_statement_timeout() {
    if crate::support::backend_name() != "postgres" {
        return; // a PostgreSQL setting; SQLite has none
    }
    let app = TestApp::spawn().await;
    let db = app.db();
    let row = sea_orm::ConnectionTrait::query_one_raw(
        db,
        sea_orm::Statement::from_string(db.get_database_backend(), "SHOW statement_timeout"),
    )
    .await
    .unwrap()
    .unwrap();
    let value: String = row.try_get("", "statement_timeout").unwrap();
    assert_eq!(value, "10s");
}

/// With `DEVGRAPH_ADMIN_ADDR`, /metrics and /readyz move to their own
/// listener: the main address no longer serves them (it keeps /healthz),
/// and the admin address serves nothing else.
#[tokio::test]
async fn metrics_and_readiness_can_move_to_an_admin_listener() {
    let app = TestApp::spawn_with(|c| c.admin_addr = Some(([127, 0, 0, 1], 0).into())).await;
    let admin = app
        .app
        .spawn_admin(std::future::pending())
        .await
        .unwrap()
        .expect("an admin address");
    let status = |url: String| {
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(app.url("/metrics")).await, 404);
    assert_eq!(status(app.url("/readyz")).await, 404);
    assert_eq!(status(app.url("/healthz")).await, 200);
    assert_eq!(status(format!("http://{admin}/metrics")).await, 200);
    assert_eq!(status(format!("http://{admin}/readyz")).await, 200);
    assert_eq!(status(format!("http://{admin}/healthz")).await, 200);
    assert_eq!(status(format!("http://{admin}/graphql")).await, 404);
}

/// Readiness probes use a connection of their own and reuse one answer for
/// a second: a flood of them runs no statement on the requests' pool.
#[tokio::test]
async fn readiness_probes_do_not_use_the_request_pool() {
    let app = TestApp::spawn().await;
    let before = app.statements();
    let probes: Vec<_> = (0..50)
        .map(|_| tokio::spawn(app.client.get(app.url("/readyz")).send()))
        .collect();
    for probe in probes {
        assert_eq!(probe.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!(app.statements(), before);
}

/// Past `DEVGRAPH_MAX_IN_FLIGHT` a request waits for a slot up to the
/// acquire timeout, then is answered 503 with `Retry-After`; once the slot
/// frees, requests pass again.
#[tokio::test]
async fn requests_past_the_in_flight_limit_wait_then_get_503() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn_with(|c| {
        c.max_in_flight = 1;
        c.db_acquire_timeout = std::time::Duration::from_millis(1000);
    })
    .await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    // Holds the only slot: a request whose body never arrives.
    let mut stuck = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    stuck.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ viewer { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "SERVICE_UNAVAILABLE"
    );
    drop(stuck);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.gql(&token, "{ viewer { id } }", json!({})).await.ok();
}

/// Every tenant has its own budget: one organization holding all its
/// in-flight slots, or spending its requests per minute, gets 429
/// RATE_LIMITED with `Retry-After`, while another organization's requests
/// keep succeeding at their usual latency. The operator's override (never
/// the tenant's) changes one organization's budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_tenant_over_its_budget_does_not_slow_another() {
    use crate::support::site::Site;
    use devgraph::{auth::TenantCtx, service::organization};
    use std::time::{Duration, Instant};
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn_with(|c| {
        c.tenant_in_flight = 2;
        c.tenant_requests_per_minute = 30;
    })
    .await;
    let a = Site::new(&app, "noisy").await;
    let b = Site::new(&app, "quiet").await;
    // A holds its two slots with event batches whose bodies never arrive.
    let mut stuck = Vec::new();
    for _ in 0..2 {
        let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
            a.key.secret
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        stuck.push(conn);
    }
    // Both are admitted once authenticated (slower on PostgreSQL).
    let waiting = Instant::now();
    while app.app.state.budgets.usage(a.org.uuid()).in_flight < 2 {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the batches were not admitted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let over = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&a.token)
        .json(&json!({ "query": "{ viewer { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 429);
    assert_eq!(over.headers()["retry-after"], "1");
    let body: serde_json::Value = over.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // B is untouched: every request answers, within normal latency.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        app.gql(&b.token, "{ viewer { id } }", json!({})).await.ok();
        slowest = slowest.max(started.elapsed());
    }
    eprintln!("quiet tenant, 20 requests while the noisy one is at its limit: slowest {slowest:?}");
    drop(stuck);
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A spends its 30 requests a minute; B still has its own.
    let mut limited = None;
    for _ in 0..40 {
        let r = app.gql(&a.token, "{ viewer { id } }", json!({})).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the noisy tenant runs out of requests");
    assert_eq!(limited.code(), Some("RATE_LIMITED"), "{:?}", limited.body);
    let events =
        json!({ "events": [crate::support::events::ev("e1", "commit", None, chrono::Utc::now())] });
    let r = crate::support::events::post(&app, &a.key.secret, &events).await;
    assert_eq!(
        (r.status, r.code()),
        (429, Some("RATE_LIMITED")),
        "{:?}",
        r.body
    );
    app.gql(&b.token, "{ viewer { id } }", json!({})).await.ok();

    // The operator raises A's budget; the server picks it up.
    let ctx = TenantCtx::unsafe_system(a.org);
    let budget = organization::BudgetOverride {
        in_flight: Some(4),
        requests_per_minute: Some(6000),
        points_per_minute: None,
    };
    organization::set_budget(&ctx, app.db(), budget)
        .await
        .unwrap();
    app.app.state.budgets.refresh(app.db()).await.unwrap();
    assert_eq!(
        app.app.state.budgets.budget_of(a.org.uuid()).per_minute,
        6000
    );
    // Owners and admins see it, and what they use; members do not. (The
    // bucket refills at the new rate, 100 requests a second.)
    tokio::time::sleep(Duration::from_millis(100)).await;
    let q =
        "{ organization { budget { inFlight requestsPerMinute inFlightNow requestsAvailable } } }";
    let reply = app.gql(&a.token, q, json!({})).await;
    let budget = reply.ok()["organization"]["budget"].clone();
    assert_eq!(budget["inFlight"], 4);
    assert_eq!(budget["requestsPerMinute"], 6000);
    assert_eq!(budget["inFlightNow"], 1, "this request");
    assert!(
        budget["requestsAvailable"].as_i64().unwrap() > 0,
        "{budget}"
    );
    let member = app
        .developer(a.org, "Mo Member", DeveloperRole::Member)
        .await;
    let reply = app.gql(&app.token_for(&member), q, json!({})).await;
    assert_eq!(reply.code(), Some("FORBIDDEN"), "{:?}", reply.body);
}

/// Each organization also spends query complexity points per minute: a
/// request is weighed before it runs, refused with RATE_LIMITED and a
/// `Retry-After` when it weighs more than its organization has left (and
/// then charged nothing), LIMIT_EXCEEDED when it weighs more than a whole
/// minute's worth; another organization's points are its own, and the
/// operator's override raises one organization's.
#[tokio::test]
async fn a_tenant_out_of_query_points_waits_while_another_runs() {
    use crate::support::site::Site;
    use devgraph::{auth::TenantCtx, service::organization};
    let app = TestApp::spawn_with(|c| c.tenant_points_per_minute = 1000).await;
    let a = Site::new(&app, "heavy").await;
    let b = Site::new(&app, "light").await;
    // 100 developers × (nodes + id + name): 300 points.
    let q = "{ developers(first: 100) { nodes { id name } } }";
    let points =
        |org: devgraph::ids::OrgId| app.app.state.budgets.usage(org.uuid()).points_available;
    let before = points(a.org);
    app.gql(&a.token, q, json!({})).await.ok();
    let spent = before - points(a.org);
    // What refilled in between is not spent.
    assert!((250..=300).contains(&spent), "{spent}");
    while points(a.org) >= 300 {
        app.gql(&a.token, q, json!({})).await.ok();
    }
    let left = points(a.org);
    let over = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&a.token)
        .json(&json!({ "query": q }))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 429);
    // At most 300 points missing, refilling at 1000 a minute: 18 seconds.
    let retry: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=18).contains(&retry), "{retry}");
    let body: serde_json::Value = over.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(body.get("data").is_none_or(|d| d.is_null()), "{body}");
    let after = app.app.state.budgets.usage(a.org.uuid()).points_available;
    assert!(after >= left, "the refused request is charged nothing");

    // B's points are its own, and it sees what it spends.
    app.gql(&b.token, q, json!({})).await.ok();
    let reply = app
        .gql(
            &b.token,
            "{ organization { budget { pointsPerMinute pointsAvailable } } }",
            json!({}),
        )
        .await;
    let budget = reply.ok()["organization"]["budget"].clone();
    assert_eq!(budget["pointsPerMinute"], 1000);
    let available = budget["pointsAvailable"].as_i64().unwrap();
    assert!((600..800).contains(&available), "{budget}");
    // More than a minute's worth can never run.
    let four = format!("{{ a: {0} b: {0} c: {0} d: {0} }}", &q[1..q.len() - 1]);
    let reply = app.gql(&b.token, &four, json!({})).await;
    assert_eq!(reply.code(), Some("LIMIT_EXCEEDED"), "{:?}", reply.body);

    // The operator raises A's points; the server picks them up.
    let ctx = TenantCtx::unsafe_system(a.org);
    let budget = organization::BudgetOverride {
        points_per_minute: Some(100_000),
        ..Default::default()
    };
    organization::set_budget(&ctx, app.db(), budget)
        .await
        .unwrap();
    app.app.state.budgets.refresh(app.db()).await.unwrap();
    let budget = app.app.state.budgets.budget_of(a.org.uuid());
    assert_eq!(budget.points_per_minute, 100_000);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.gql(&a.token, q, json!({})).await.ok();
}
