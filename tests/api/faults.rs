//! Faults: PostgreSQL going away under load. Requests fail fast with
//! SERVICE_UNAVAILABLE, `/readyz` says not ready while `/healthz` answers,
//! the same server resumes once the database is back, and a client that
//! retries every batch until it is acknowledged loses no event and counts
//! none twice.
//!
//! The outage is a [`Proxy`] between the server and PostgreSQL: cutting it
//! refuses new connections and resets the open ones, as a stopped server
//! does, without stopping the database the other tests share.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::support::{Gid, TestApp, events::*, proxy::Proxy, site::Site};
use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};
use serde_json::{Value, json};

/// The server's pool-acquire timeout in this test: how long a request may
/// wait for a connection while the database is down.
const ACQUIRE: Duration = Duration::from_millis(1500);
/// Generous on purpose: a behaviour bound on a loaded 2-core machine, not
/// a benchmark.
const MARGIN: Duration = Duration::from_secs(5);
const EVENTS_PER_BATCH: usize = 25;
const WORKERS: usize = 3;

/// What the retrying clients saw.
#[derive(Debug, Default)]
struct Tally {
    /// Batches answered 202, and the events in them.
    batches: usize,
    acknowledged: usize,
    accepted: i64,
    duplicated: i64,
    /// Answers 503 SERVICE_UNAVAILABLE, and failures to get any answer.
    unavailable: usize,
    transport: usize,
    /// Batches acknowledged only after at least one failed attempt.
    retried: usize,
    /// Anything else: each one is a failure of the test.
    unexpected: Vec<String>,
}

type Shared = Arc<Mutex<Tally>>;

/// A status, the `extensions.code` of the first error, and the body.
struct Answer {
    status: u16,
    code: Option<String>,
    body: Value,
}

/// One POST; `Err` when no whole answer came back.
async fn try_post(
    client: &reqwest::Client,
    url: &str,
    bearer: &str,
    body: &Value,
) -> Result<Answer, String> {
    let resp = client
        .post(url)
        .bearer_auth(bearer)
        .json(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned);
    Ok(Answer { status, code, body })
}

/// Sends `events` until they are acknowledged (202), retrying the same
/// batch (same client ids) after a 503 or a transport error, as a client
/// must. Anything else is noted as unexpected and retried too, so a wrong
/// answer fails the test at the end instead of hanging it.
async fn send_until_acknowledged(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    events: Vec<Value>,
    tally: &Shared,
) {
    let n = events.len();
    let body = json!({ "events": events });
    let started = Instant::now();
    let mut failed_attempts = 0;
    loop {
        let answer = try_post(client, url, key, &body).await;
        // A block, not `drop`: the guard must end before the next await.
        {
            let mut t = tally.lock().expect("tally");
            match answer {
                Ok(a) if a.status == 202 => {
                    let (accepted, duplicated, _) = counts_of(&a.body);
                    t.batches += 1;
                    t.acknowledged += n;
                    t.accepted += accepted;
                    t.duplicated += duplicated;
                    t.retried += usize::from(failed_attempts > 0);
                    if accepted + duplicated != n as i64 {
                        t.unexpected
                            .push(format!("{n} events acknowledged as {}", a.body));
                    }
                    if failed_attempts == 0 && duplicated != 0 {
                        t.unexpected
                            .push(format!("a first attempt had duplicates: {}", a.body));
                    }
                    return;
                }
                Ok(a) if a.status == 503 && a.code.as_deref() == Some("SERVICE_UNAVAILABLE") => {
                    t.unavailable += 1;
                }
                Ok(a) => t.unexpected.push(format!("{}: {}", a.status, a.body)),
                Err(_) => t.transport += 1,
            }
        }
        failed_attempts += 1;
        if started.elapsed() > Duration::from_secs(120) {
            let mut t = tally.lock().expect("tally");
            t.unexpected
                .push(format!("a batch unacknowledged after 120 s: {body}"));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn batch(tag: &str) -> Vec<Value> {
    (0..EVENTS_PER_BATCH)
        .map(|i| ev(&format!("{tag}-{i}"), "commit", None, noon(1)))
        .collect()
}

/// Waits for `cond` (checked every 20 ms) up to `limit`.
async fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn get_status(app: &TestApp, path: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let resp = app
        .client
        .get(app.url(path))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("the server answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_is_503_until_it_ends_and_loses_no_acknowledged_event() {
    let Ok(pg_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs PostgreSQL (set TEST_DATABASE_URL)");
        return;
    };
    if crate::support::backend_name() != "postgres" {
        eprintln!("skipped: needs PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let proxy = Proxy::for_url(&pg_url).await;
    let app = TestApp::spawn_routed(
        |url| proxy.url_through(url),
        |c| c.db_acquire_timeout = ACQUIRE,
    )
    .await;
    let s = Site::new(&app, "faults").await;
    let events_url = app.url("/v1/events");
    let tally: Shared = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));

    // Load: retrying clients that send batch after batch until told to stop.
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (client, url, key) = (app.client.clone(), events_url.clone(), s.key.secret.clone());
        let (tally, stop) = (tally.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut b = 0;
            while !stop.load(Ordering::Relaxed) {
                let events = batch(&format!("w{w}-b{b}"));
                send_until_acknowledged(&client, &url, &key, events, &tally).await;
                b += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    let acked = || tally.lock().expect("tally").batches;
    wait_for("load before the outage", Duration::from_secs(30), || {
        acked() >= 2 * WORKERS
    })
    .await;

    // Requests mid-statement when the database goes: another session locks
    // the events table, so inserts (the workers' and this one) wait inside
    // their transactions on a live connection until the cut resets it.
    let direct = Database::connect(app.direct_database_url())
        .await
        .expect("direct connection");
    let lock = direct.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock events");
    let in_flight = {
        let (client, url, key) = (app.client.clone(), events_url.clone(), s.key.secret.clone());
        let body = json!({ "events": batch("in-flight") });
        tokio::spawn(async move { try_post(&client, &url, &key, &body).await })
    };
    wait_for_lock_waiters(&direct, WORKERS as i64 + 1).await;

    let before_cut = acked();
    let cut_at = Instant::now();
    proxy.cut().await;
    let answer = in_flight
        .await
        .expect("in-flight request")
        .expect("an answer");
    let in_flight_503 = cut_at.elapsed();
    assert_eq!(
        (answer.status, answer.code.as_deref()),
        (503, Some("SERVICE_UNAVAILABLE")),
        "a request whose connection broke: {}",
        answer.body
    );
    assert!(in_flight_503 < ACQUIRE + MARGIN, "{in_flight_503:?}");
    // The orphaned inserts hold no commit: releasing the lock lets their
    // backends notice the lost client and roll back.
    lock.rollback().await.expect("unlock");

    // During the outage: every way in answers 503 within the acquire
    // timeout, concurrently, and liveness still answers.
    let probe_events = || async {
        let started = Instant::now();
        let body = json!({ "events": batch("outage-probe") });
        let a = try_post(&app.client, &events_url, &s.key.secret, &body).await;
        (a.expect("an answer"), started.elapsed())
    };
    let probe_graphql = || async {
        let started = Instant::now();
        let resp = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&s.token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": "{ viewer { id } }" }))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("an answer");
        (TestApp::reply(resp).await, started.elapsed())
    };
    let ((ev_answer, ev_took), (gql_answer, gql_took), (ready, ready_body, ready_took)) =
        tokio::join!(probe_events(), probe_graphql(), get_status(&app, "/readyz"));
    let (health, _, health_took) = get_status(&app, "/healthz").await;
    assert_eq!(
        (ev_answer.status, ev_answer.code.as_deref()),
        (503, Some("SERVICE_UNAVAILABLE")),
        "POST /v1/events during the outage: {}",
        ev_answer.body
    );
    assert!(ev_took < ACQUIRE + MARGIN, "/v1/events took {ev_took:?}");
    assert_eq!(
        (gql_answer.status, gql_answer.code()),
        (503, Some("SERVICE_UNAVAILABLE")),
        "a GraphQL query during the outage: {:?}",
        gql_answer.body
    );
    assert!(gql_took < ACQUIRE + MARGIN, "/graphql took {gql_took:?}");
    assert_eq!(ready, 503, "/readyz during the outage: {ready_body}");
    assert!(ready_took < ACQUIRE + MARGIN, "/readyz took {ready_took:?}");
    assert_eq!(health, 200, "/healthz during the outage");
    assert!(health_took < MARGIN, "/healthz took {health_took:?}");

    // The workers keep retrying against the outage for a while.
    tokio::time::sleep(ACQUIRE).await;
    let down_for = cut_at.elapsed();
    let unavailable_during = tally.lock().expect("tally").unavailable;

    // Back: the same server becomes ready and serves, with no restart.
    let restored_at = Instant::now();
    proxy.restore().await;
    loop {
        let (status, _, _) = get_status(&app, "/readyz").await;
        if status == 200 {
            break;
        }
        assert!(
            restored_at.elapsed() < ACQUIRE + 2 * MARGIN,
            "/readyz still {status} after {:?}",
            restored_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = restored_at.elapsed();
    app.gql(&s.token, "{ viewer { id } }", json!({})).await.ok();
    let after_restore = acked();
    wait_for("load after the outage", Duration::from_secs(60), || {
        acked() >= after_restore + 2 * WORKERS
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    // The two probe batches were refused, never acknowledged: a client
    // sends them again.
    for tag in ["in-flight", "outage-probe"] {
        let (client, key) = (&app.client, &s.key.secret);
        send_until_acknowledged(client, &events_url, key, batch(tag), &tally).await;
    }

    // Every acknowledged event is stored once and counted once.
    let (stored, _, _) = table_counts(&app, s.org).await;
    let rollup_total: i64 = rollup(&app, s.org).await.iter().map(|r| r.count).sum();
    let meta_total: i64 = meta(&app, s.org).await.iter().map(|m| m.total_count).sum();
    let q = "query($p: ID!, $f: Date!, $t: Date!) { project(id: $p) { metrics(from: $f, to: $t) { count } } }";
    let vars = json!({ "p": s.project.gid(), "f": days_ago(3), "t": today() });
    let reply = app.gql(&s.token, q, vars).await;
    let graphql_total: i64 = reply.ok()["project"]["metrics"]
        .as_array()
        .expect("metric rows")
        .iter()
        .map(|r| r["count"].as_i64().expect("count"))
        .sum();
    let t = std::mem::take(&mut *tally.lock().expect("tally"));
    eprintln!(
        "faults: acquire timeout {ACQUIRE:?}; in-flight request 503 after {in_flight_503:?}; \
         during the outage /v1/events 503 in {ev_took:?}, /graphql 503 in {gql_took:?}, \
         /readyz 503 in {ready_took:?}, /healthz 200 in {health_took:?}; \
         down {down_for:?}; ready again {recovered:?} after the restore"
    );
    eprintln!(
        "faults: {} batches acknowledged ({} after a retry; {} before the cut), {} events \
         ({} accepted, {} duplicated on retry), {} answers 503 and {} transport errors \
         seen by clients; stored {stored}, rollup {rollup_total}, meta {meta_total}, \
         GraphQL metrics {graphql_total}",
        t.batches,
        t.retried,
        before_cut,
        t.acknowledged,
        t.accepted,
        t.duplicated,
        t.unavailable,
        t.transport,
    );
    assert!(
        t.unexpected.is_empty(),
        "unexpected answers: {:#?}",
        t.unexpected
    );
    assert!(
        unavailable_during > 0,
        "the workers saw no 503 during the outage"
    );
    assert!(t.retried > 0, "no batch needed a retry");
    let acknowledged = t.acknowledged as i64;
    assert_eq!(t.accepted + t.duplicated, acknowledged);
    assert_eq!(stored as i64, acknowledged, "stored vs acknowledged");
    assert_eq!(rollup_total, acknowledged, "rollup vs acknowledged");
    assert_eq!(meta_total, acknowledged, "event_meta vs acknowledged");
    assert_eq!(
        graphql_total, acknowledged,
        "GraphQL metrics vs acknowledged"
    );
    direct.close().await.ok();
}

/// The mapping on real PostgreSQL errors rather than made-up ones: a
/// statement over `statement_timeout` is LIMIT_EXCEEDED, a connection whose
/// backend was terminated (what a stopping server does) is
/// SERVICE_UNAVAILABLE, and neither is INTERNAL.
#[tokio::test]
async fn real_postgres_errors_map_to_their_codes() {
    if crate::support::backend_name() != "postgres" {
        eprintln!("skipped: needs PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    use devgraph::error::AppError;
    let app = TestApp::spawn().await;
    let url = app.direct_database_url();
    let timeout = Some(Duration::from_millis(100));
    let (db, _) = devgraph::db::connect(url, 1, timeout, ACQUIRE)
        .await
        .expect("connect");
    let backend = db.get_database_backend();
    let sql = |s: &str| Statement::from_string(backend, s);
    let slow = db.execute_raw(sql("SELECT pg_sleep(1)")).await;
    let err = AppError::from(slow.expect_err("over the statement timeout"));
    assert_eq!(err.code(), "LIMIT_EXCEEDED", "{}", err.describe());

    // A connection held in a transaction, so the pool cannot swap in a
    // fresh one: its backend is terminated from another session, then used.
    let txn = db.begin().await.expect("begin");
    let pid: i32 = txn
        .query_one_raw(sql("SELECT pg_backend_pid() AS pid"))
        .await
        .expect("pid")
        .expect("a row")
        .try_get("", "pid")
        .expect("pid");
    let killed = app
        .db()
        .query_one_raw(sql(&format!("SELECT pg_terminate_backend({pid}) AS ok")))
        .await
        .expect("terminate")
        .expect("a row")
        .try_get::<bool>("", "ok")
        .expect("ok");
    assert!(killed);
    let gone = txn.execute_unprepared("SELECT 1").await;
    // Returns the connection: `close` waits for every one to come back.
    drop(txn);
    let gone = gone.expect_err("the backend was terminated");
    eprintln!("faults: a terminated backend reads as: {gone}");
    let err = AppError::from(gone);
    assert_eq!(err.code(), "SERVICE_UNAVAILABLE", "{}", err.describe());
    db.close().await.ok();
}

/// What SIGTERM does to `devgraph serve`: the server stops taking new
/// connections at once, answers the request in flight (held here behind a
/// table lock), and only then stops; the answered batch is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_answers_requests_in_flight_before_stopping() {
    if crate::support::backend_name() != "postgres" {
        eprintln!("skipped: needs PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let (app, stop, server) = TestApp::spawn_stoppable().await;
    let s = Site::new(&app, "drain").await;
    let direct = Database::connect(app.direct_database_url())
        .await
        .expect("direct connection");
    let lock = direct.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock events");
    let events: Vec<Value> = (0..5)
        .map(|i| ev(&format!("drain{i}"), "deploy", None, chrono::Utc::now()))
        .collect();
    let in_flight = {
        let (client, url, key) = (
            app.client.clone(),
            app.url("/v1/events"),
            s.key.secret.clone(),
        );
        let body = json!({ "events": events });
        tokio::spawn(async move { try_post(&client, &url, &key, &body).await })
    };
    wait_for_lock_waiters(&direct, 1).await;

    stop.send(()).expect("server running");
    // New connections are refused while the request in flight is pending.
    let refused = async {
        loop {
            let fresh = reqwest::Client::new();
            if fresh.get(app.url("/healthz")).send().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), refused)
        .await
        .expect("new connections refused after the shutdown signal");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.is_finished(),
        "the server waits for the request in flight"
    );
    assert!(!in_flight.is_finished());

    lock.rollback().await.expect("release the lock");
    let answer = in_flight
        .await
        .expect("task")
        .expect("answered, not dropped");
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once the request is answered")
        .expect("server task");
    let stored = direct
        .query_one_raw(Statement::from_string(
            direct.get_database_backend(),
            "SELECT count(*) AS n FROM events",
        ))
        .await
        .expect("count")
        .expect("a row");
    assert_eq!(stored.try_get::<i64>("", "n").expect("n"), 5);
}

/// Waits until at least `n` sessions of this database wait on a lock.
async fn wait_for_lock_waiters(direct: &sea_orm::DatabaseConnection, n: i64) {
    let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let started = Instant::now();
    loop {
        let row = direct
            .query_one_raw(Statement::from_string(
                direct.get_database_backend(),
                waiting,
            ))
            .await
            .expect("pg_stat_activity")
            .expect("a row");
        if row.try_get::<i64>("", "n").expect("n") >= n {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no statement waits on the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A transaction PostgreSQL picks as a deadlock victim was undone whole:
/// that is SERVICE_UNAVAILABLE (503, retry), not INTERNAL. Two transactions
/// take the same two developer rows in opposite orders; one of them is the
/// victim (on Citus too, where the rows live on the workers).
#[tokio::test]
async fn a_deadlock_victim_is_service_unavailable() {
    if crate::support::backend_name() != "postgres" {
        return;
    }
    let app = TestApp::spawn().await;
    let (a, b) = (
        Site::new(&app, "acme").await,
        Site::new(&app, "globex").await,
    );
    let db = Database::connect(app.direct_database_url()).await.unwrap();
    let touch = |site: &Site| {
        Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE developers SET name = name WHERE organization_id = $1 AND id = $2",
            [site.org.uuid().into(), site.owner.id.uuid().into()],
        )
    };
    let (first, second) = (db.begin().await.unwrap(), db.begin().await.unwrap());
    first.execute_raw(touch(&a)).await.unwrap();
    second.execute_raw(touch(&b)).await.unwrap();
    let (one, two) = tokio::join!(first.execute_raw(touch(&b)), second.execute_raw(touch(&a)));
    let victim = match (one, two) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("one victim expected: {other:?}"),
    };
    let err = devgraph::error::AppError::from(victim);
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("SERVICE_UNAVAILABLE", 503),
        "{}",
        err.describe()
    );
    assert!(!err.message().contains("UPDATE"), "{}", err.message());
    let _ = (first.rollback().await, second.rollback().await);
}
