//! The events API (`POST /v1/events`, `recordEvents`): counts, idempotent
//! retries, whole-batch validation, who may send, the rollup equal to the
//! raw events under randomized and concurrent load, time zones, retention,
//! rollup rebuild and tenant isolation.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::{Gid, TestApp, create_key, events::*, random::*, revoke_key, site::Site};
use chrono::{Duration, FixedOffset, Utc};
use devgraph::{auth::TenantCtx, service};
use entity::{UNKNOWN_DEVELOPER as UNKNOWN, enums::DeveloperRole};
use serde_json::{Value, json};

fn counts(accepted: i64, duplicated: i64, unmatched: i64) -> Value {
    json!({ "accepted": accepted, "duplicated": duplicated, "unmatched": unmatched })
}

#[tokio::test]
async fn batches_answer_202_with_counts_and_retries_count_once() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let me = Some(s.owner.email.as_str());
    let mut events = vec![
        ev("a1", "commit", me, noon(1)),
        ev("a2", "review", me, noon(2)),
    ];
    events.extend(plain("a3-", 1));
    let batch = json!({ "events": events });
    let first = post(&app, &s.key.secret, &batch).await;
    assert_eq!((first.status, first.body), (202, counts(3, 0, 0)));
    let retry = post(&app, &s.key.secret, &batch).await;
    assert_eq!((retry.status, retry.body), (202, counts(0, 3, 0)));
    // An id repeated inside one batch counts once.
    let twice = [plain("b", 2), plain("b", 1)].concat();
    assert_eq!(send(&app, &s.key.secret, twice).await, (2, 1, 0));
    // "project" naming the key's own project, by slug or id, is fine.
    for named in [slug_of(&app, &s.token, s.project).await, s.project.gid()] {
        let body = json!({ "project": named, "events": plain(&named, 1) });
        let r = post(&app, &s.key.secret, &body).await;
        assert_eq!((r.status, r.body), (202, counts(1, 0, 0)));
    }
    assert_eq!(raw(&app, s.org).await.len(), 7);
    let rolled = rollup_map(&app, s.org).await;
    assert_eq!(rolled, raw_counts(&app, s.org, utc_day).await);
    let key = |dev| (s.project.uuid(), dev, "commit".to_owned(), days_ago(1));
    assert_eq!(rolled[&key(s.owner.id.uuid())], 1);
    assert_eq!(rolled[&key(UNKNOWN)], 5);
}

#[tokio::test]
async fn developers_match_by_email_in_any_case_or_id_and_unknown_ones_are_unmatched() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let dana = app.developer(s.org, "Dana Dev", DeveloperRole::Member);
    let dana = dana.await;
    let (upper, dana_gid) = (dana.email.to_uppercase(), dana.id.gid());
    let mixed = format!("Dana.Dev@{}", dana.email.split('@').nth(1).unwrap());
    let events = vec![
        ev("e1", "commit", Some(&upper), noon(1)),
        ev("e2", "commit", Some(&mixed), noon(1)),
        ev("e3", "commit", Some(&dana_gid), noon(1)),
        ev("e4", "commit", Some("ghost@nowhere.test"), noon(1)),
    ];
    assert_eq!(send(&app, &s.key.secret, events).await, (4, 0, 1));
    for e in raw(&app, s.org).await {
        let want = (e.client_event_id != "e4").then(|| dana.id.uuid());
        assert_eq!(e.developer_id, want, "developer of {}", e.client_event_id);
    }
    let key = |dev| (s.project.uuid(), dev, "commit".to_owned(), days_ago(1));
    let want = BTreeMap::from([(key(dana.id.uuid()), 3), (key(UNKNOWN), 1)]);
    assert_eq!(rollup_map(&app, s.org).await, want);
    let q = "query($f: Date!, $t: Date!) { organization { metrics(from: $f, to: $t, \
             groupBy: [DEVELOPER]) { developerId developer { id } count } } }";
    let r = app.gql(&s.token, q, json!({ "f": days_ago(2), "t": today() }));
    let r = r.await;
    let mut rows = r.ok()["organization"]["metrics"]
        .as_array()
        .unwrap()
        .clone();
    rows.sort_by_key(|row| row["count"].as_i64());
    let want = json!([
        { "developerId": null, "developer": null, "count": 1 },
        { "developerId": dana_gid, "developer": { "id": dana_gid }, "count": 3 },
    ]);
    assert_eq!(json!(rows), want);
}

#[tokio::test]
async fn invalid_json_is_400_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let bodies = [
        r#"{"events": [{"id": "x""#,
        "not json",
        r#"{"events": "x"}"#,
        "[]",
    ];
    for body in bodies {
        let r = post_raw(&app, &s.key.secret, body.to_owned()).await;
        let wrong = mismatch(&r, Some(400), "BAD_USER_INPUT", None);
        assert!(wrong.is_none(), "{body}: {wrong:?}");
    }
    assert_eq!(table_counts(&app, s.org).await, (0, 0, 0));
}

#[tokio::test]
async fn too_many_events_is_limit_exceeded_and_stores_nothing() {
    let app = TestApp::spawn_with(|c| c.limits.ingest.max_events = 5).await;
    let s = Site::new(&app, "acme").await;
    let r = post(&app, &s.key.secret, &json!({ "events": plain("six", 6) })).await;
    let wrong = mismatch(&r, Some(400), "LIMIT_EXCEEDED", None);
    assert!(wrong.is_none(), "{wrong:?}");
    let r = record(&app, &s.token, s.project, plain("gql", 6)).await;
    assert_eq!(r.code(), Some("LIMIT_EXCEEDED"), "{:?}", r.body);
    assert_eq!(table_counts(&app, s.org).await, (0, 0, 0));
    assert_eq!(send(&app, &s.key.secret, plain("five", 5)).await, (5, 0, 0));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_stores_nothing() {
    let app = TestApp::spawn_with(|c| c.limits.max_body_bytes = 4096).await;
    let s = Site::new(&app, "acme").await;
    let body = json!({ "events": plain("big", 60) }).to_string();
    assert!(body.len() > 4096);
    let r = post_raw(&app, &s.key.secret, body).await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert_eq!(table_counts(&app, s.org).await, (0, 0, 0));
}

#[tokio::test]
async fn wrong_keys_and_callers_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let mut wrong = s.key.secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    let key = |scopes, project| create_key(&app, &s.token, scopes, project);
    let revoked = key("EVENTS_WRITE", Some(s.project)).await;
    revoke_key(&app, &s.token, &revoked).await;
    let read = key("READ", Some(s.project)).await;
    let unbound = key("EVENTS_WRITE", None).await;
    let other = app.project(s.org, None, "other").await;
    let (unauth, forbidden) = ((401, "UNAUTHENTICATED"), (403, "FORBIDDEN"));
    let batch = json!({ "events": plain("x", 1) });
    let mut cases = vec![
        ("wrong secret", wrong, batch.clone(), unauth),
        (
            "unknown key",
            "dg_nope_nothing".into(),
            batch.clone(),
            unauth,
        ),
        ("revoked key", revoked.secret, batch.clone(), unauth),
        ("READ key", read.secret, batch.clone(), forbidden),
        (
            "key of no project",
            unbound.secret,
            batch.clone(),
            forbidden,
        ),
        ("a person's JWT", s.token.clone(), batch.clone(), forbidden),
    ];
    for named in [slug_of(&app, &s.token, other).await, other.gid()] {
        let body = json!({ "project": named, "events": plain("x", 1) });
        cases.push(("another project", s.key.secret.clone(), body, forbidden));
    }
    let mut failures = Vec::new();
    for (case, bearer, body, (status, code)) in cases {
        let r = post(&app, &bearer, &body).await;
        failures.extend(mismatch(&r, Some(status), code, None).map(|m| format!("{case}: {m}")));
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(table_counts(&app, s.org).await, (0, 0, 0));
}

#[tokio::test]
async fn one_bad_event_rejects_the_batch_naming_index_and_field() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let now = Utc::now();
    let no_offset = noon(1).format("%Y-%m-%dT%H:%M:%S").to_string();
    let cases: Vec<(&str, Value)> = vec![
        ("name", json!("bad name!")),
        ("name", json!("")),
        ("name", json!("a".repeat(101))),
        ("occurredAt", json!("yesterday at noon")),
        ("occurredAt", json!(no_offset)),
        ("occurredAt", json!(ts(now + Duration::minutes(10)))),
        ("occurredAt", json!(ts(now - Duration::days(91)))),
        ("properties", json!([1, 2])),
        ("properties", json!("x")),
        (
            "properties",
            json!({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}),
        ),
        ("properties", json!({ "blob": "x".repeat(9000) })),
    ];
    let mut failures = Vec::new();
    for (i, (field, value)) in cases.into_iter().enumerate() {
        let mut events = plain(&format!("bad{i}-"), 3);
        events[2][field] = value.clone();
        let mut case = format!("{field} = {value}");
        case.truncate(60);
        let want = format!("events[2].{field}");
        let r = post(&app, &s.key.secret, &json!({ "events": events.clone() })).await;
        let m = mismatch(&r, Some(400), "BAD_USER_INPUT", Some(&want));
        failures.extend(m.map(|m| format!("HTTP {case}: {m}")));
        // The mutation validates the same way.
        let r = record(&app, &s.token, s.project, events).await;
        let m = mismatch(&r, None, "BAD_USER_INPUT", Some(&want));
        failures.extend(m.map(|m| format!("recordEvents {case}: {m}")));
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(table_counts(&app, s.org).await, (0, 0, 0), "nothing stored");
    // The boundaries themselves are accepted.
    let ist = FixedOffset::east_opt(19_800).unwrap();
    let name100 = format!("{}{}", "a.b:c-d_E9".repeat(9), "x".repeat(10));
    let mut edge = plain("edge", 4);
    edge[0]["name"] = json!(name100);
    edge[1]["occurredAt"] = json!(ts(now + Duration::minutes(2)));
    edge[2]["occurredAt"] = json!(noon(1).with_timezone(&ist).to_rfc3339());
    edge[3]["properties"] = json!({"a": {"b": {"c": {"d": {"e": 1}}}}});
    assert_eq!(send(&app, &s.key.secret, edge).await, (4, 0, 0));
}

#[tokio::test]
async fn record_events_is_for_members_and_dedupes_per_source() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let member = app.developer(s.org, "Mia Member", DeveloperRole::Member);
    let member = member.await;
    let viewer = app.developer(s.org, "Vic Viewer", DeveloperRole::Viewer);
    let viewer = viewer.await;
    let mut mine = plain("m", 2);
    mine[0]["developer"] = json!(member.email);
    let r = record(&app, &app.token_for(&member), s.project, mine).await;
    assert_eq!(r.ok()["recordEvents"], counts(2, 0, 0));
    let before = table_counts(&app, s.org).await;
    let r = record(&app, &app.token_for(&viewer), s.project, plain("v", 1)).await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "viewer: {:?}", r.body);
    let read = create_key(&app, &s.token, "READ", Some(s.project)).await;
    let r = record(&app, &read.secret, s.project, plain("k", 1)).await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "READ key: {:?}", r.body);
    assert_eq!(
        table_counts(&app, s.org).await,
        before,
        "refusals store nothing"
    );
    // One idempotency space per source, whichever path it uses: the key's
    // ids do not shadow the owner's, and each one's retries count once.
    assert_eq!(send(&app, &s.key.secret, plain("h", 2)).await, (2, 0, 0));
    let r = record(&app, &s.token, s.project, plain("h", 3)).await;
    assert_eq!(r.ok()["recordEvents"], counts(3, 0, 0));
    let r = record(&app, &s.token, s.project, plain("h", 3)).await;
    assert_eq!(r.ok()["recordEvents"], counts(0, 3, 0));
    let again = [plain("h", 3), plain("m", 1)].concat();
    assert_eq!(send(&app, &s.key.secret, again).await, (2, 2, 0));
    assert_eq!(raw(&app, s.org).await.len(), 9);
    let rolled = rollup_map(&app, s.org).await;
    assert_eq!(rolled, raw_counts(&app, s.org, utc_day).await);
}

#[tokio::test]
async fn rollup_and_meta_equal_the_raw_events_after_randomized_batches() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let second = app.project(s.org, None, "second").await;
    let key2 = create_key(&app, &s.token, "EVENTS_WRITE", Some(second)).await;
    let (keys, projects) = (
        [&s.key.secret, &key2.secret],
        [s.project.uuid(), second.uuid()],
    );
    let mut devs = vec![s.owner.clone()];
    for name in ["Ann One", "Ben Two"] {
        devs.push(app.developer(s.org, name, DeveloperRole::Member).await);
    }
    let names = vec!["commit", "review", "deploy", "build"];
    let mut model = RandomIngest::new(0x5EED_2024, devs, names);
    let mut totals = (0, 0, 0);
    for round in 0..14 {
        let (p, events) = model.next_batch();
        let want = model.expect(p, &events);
        let got = send(&app, keys[p], events).await;
        assert_eq!(
            got, want,
            "round {round}: (accepted, duplicated, unmatched)"
        );
        totals = (totals.0 + got.0, totals.1 + got.1, totals.2 + got.2);
    }
    // The seed exercised every case.
    let retries = model.retries;
    assert!(
        retries > 0 && totals.0 > 100 && totals.1 > 10 && totals.2 > 5,
        "{retries} {totals:?}"
    );
    let rows = raw(&app, s.org).await;
    assert_eq!(
        rows.len(),
        model.stored.len(),
        "one raw row per (project, client id)"
    );
    for e in &rows {
        let p = projects.iter().position(|id| *id == e.project_id).unwrap();
        assert_eq!(
            e.developer_id,
            model.stored[&(p, e.client_event_id.clone())],
            "{}",
            e.client_event_id
        );
    }
    let rolled = rollup_map(&app, s.org).await;
    assert_eq!(rolled, raw_counts(&app, s.org, utc_day).await);
    let days: BTreeSet<_> = rolled.keys().map(|k| k.3).collect();
    assert!(
        days.len() > 5 && rolled.keys().any(|k| k.1 == UNKNOWN),
        "{rolled:?}"
    );
    assert_eq!(
        meta_summary(&app, s.org).await,
        raw_meta_summary(&app, s.org).await
    );
}

#[tokio::test]
async fn concurrent_ingesters_lose_no_increment() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let day = days_ago(1);
    let shape = (8, 10, 20); // ingesters, batches each, events per batch
    let answers = ingest_concurrently(&app, &s.key.secret, &s.owner.email, day, shape).await;
    for r in &answers {
        assert_eq!((r.status, &r.body), (202, &counts(20, 0, 0)));
    }
    let total = 8 * 10 * 20;
    let key = (
        s.project.uuid(),
        s.owner.id.uuid(),
        "commit".to_owned(),
        day,
    );
    assert_eq!(
        rollup_map(&app, s.org).await,
        BTreeMap::from([(key, total)])
    );
    assert_eq!(raw(&app, s.org).await.len() as i64, total);
    assert_eq!(meta(&app, s.org).await[0].total_count, total);
}

#[tokio::test]
async fn days_are_counted_in_the_organization_time_zone() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let r = set_time_zone(&app, &s.token, "Asia/Kolkata").await;
    assert_eq!(
        r.ok()["updateOrganization"]["organization"]["timeZone"],
        "Asia/Kolkata"
    );
    let (d, me) = (days_ago(1), Some(s.owner.email.as_str()));
    let events = vec![
        ev("before-midnight", "commit", me, at(d, 18, 29, 59)), // 23:59:59 IST
        ev("at-midnight", "commit", me, at(d, 18, 30, 0)),      // 00:00:00 IST the next day
    ];
    assert_eq!(send(&app, &s.key.secret, events).await, (2, 0, 0));
    let next = d + Duration::days(1);
    let rows: Vec<_> = rollup_map(&app, s.org)
        .await
        .into_iter()
        .map(|(k, n)| (k.3, n))
        .collect();
    assert_eq!(rows, vec![(d, 1), (next, 1)]);
    let q = "query($f: Date!, $t: Date!) { organization { metrics(from: $f, to: $t, groupBy: [DAY]) { day count } } }";
    let r = app
        .gql(
            &s.token,
            q,
            json!({ "f": d - Duration::days(1), "t": next }),
        )
        .await;
    let want = json!([{ "day": d, "count": 1 }, { "day": next, "count": 1 }]);
    assert_eq!(r.ok()["organization"]["metrics"], want);
    let bad = set_time_zone(&app, &s.token, "Mars/Base").await;
    assert_eq!(bad.code(), Some("BAD_USER_INPUT"), "{:?}", bad.body);
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "timeZone");
    let r = app
        .gql(&s.token, "{ organization { timeZone } }", json!({}))
        .await;
    assert_eq!(r.ok()["organization"]["timeZone"], "Asia/Kolkata");
}

#[tokio::test]
async fn retention_deletes_old_raw_events_in_batches_and_keeps_rollups() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let short = Site::new(&app, "short").await;
    let recent = vec![
        ev("r1", "commit", None, noon(1)),
        ev("r2", "commit", None, noon(45)),
        ev("r3", "review", None, noon(80)),
    ];
    send(&app, &s.key.secret, recent.clone()).await;
    send(&app, &short.key.secret, recent).await;
    let q = "mutation { updateOrganization(input: {eventRetentionDays: 30}) { organization { eventRetentionDays } } }";
    let r = app.gql(&short.token, q, json!({})).await;
    assert_eq!(
        r.ok()["updateOrganization"]["organization"]["eventRetentionDays"],
        30
    );
    raw_insert_old(&app, s.org, s.project, 5, Utc::now() - Duration::days(200)).await;
    let rollups = (
        rollup_map(&app, s.org).await,
        rollup_map(&app, short.org).await,
    );
    let deleted = service::retention::run(app.db(), 2)
        .await
        .expect("retention");
    assert_eq!(
        deleted,
        5 + 2,
        "acme: 5 of 200 days ago; short: 2 past its 30 days"
    );
    let ids = |rows: Vec<entity::event::Model>| -> BTreeSet<String> {
        rows.into_iter().map(|e| e.client_event_id).collect()
    };
    let want: BTreeSet<String> = ["r1", "r2", "r3"].map(String::from).into();
    assert_eq!(ids(raw(&app, s.org).await), want);
    assert_eq!(
        ids(raw(&app, short.org).await),
        BTreeSet::from(["r1".to_owned()])
    );
    let after = (
        rollup_map(&app, s.org).await,
        rollup_map(&app, short.org).await,
    );
    assert_eq!(after, rollups, "rollups untouched");
    assert_eq!(
        service::retention::run(app.db(), 2).await.expect("again"),
        0
    );
}

#[tokio::test]
async fn rollup_rebuild_rebuckets_recent_days_in_the_new_zone() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let (d1, d2, me) = (days_ago(1), days_ago(2), Some(s.owner.email.as_str()));
    let events = vec![
        ev("x1", "commit", me, at(d1, 20, 0, 0)),
        ev("x2", "commit", me, at(d1, 10, 0, 0)),
        ev("x3", "commit", me, at(d2, 19, 0, 0)),
        ev("x4", "review", me, at(d2, 18, 29, 59)),
        ev("x5", "commit", Some("ghost@nowhere.test"), at(d2, 23, 0, 0)),
    ];
    send(&app, &s.key.secret, events).await;
    let utc = rollup_map(&app, s.org).await;
    assert_eq!(utc, raw_counts(&app, s.org, utc_day).await);
    set_time_zone(&app, &s.token, "Asia/Kolkata").await.ok();
    assert_eq!(
        rollup_map(&app, s.org).await,
        utc,
        "a zone change alone re-buckets nothing"
    );
    let ctx = TenantCtx::unsafe_system(s.org);
    service::rollups::rebuild::rebuild(&ctx, app.db())
        .await
        .expect("rebuild");
    let ist = rollup_map(&app, s.org).await;
    assert_eq!(ist, raw_counts(&app, s.org, ist_day).await);
    assert_ne!(ist, utc);
    assert_eq!(ist.values().sum::<i64>(), 5);
}

#[tokio::test]
async fn a_key_cannot_write_into_another_tenant_and_metrics_stay_apart() {
    let app = TestApp::spawn().await;
    let a = Site::new(&app, "alpha").await;
    let b = Site::new(&app, "beta").await;
    for named in [slug_of(&app, &b.token, b.project).await, b.project.gid()] {
        let body = json!({ "project": named, "events": [ev("sneak", "commit", None, noon(1))] });
        let r = post(&app, &a.key.secret, &body).await;
        assert_eq!(
            (r.status, r.code()),
            (403, Some("FORBIDDEN")),
            "{named}: {:?}",
            r.body
        );
    }
    assert_eq!(table_counts(&app, b.org).await, (0, 0, 0));
    assert_eq!(table_counts(&app, a.org).await, (0, 0, 0));
    // B's developers are strangers to A: unmatched.
    let (b_email, b_gid) = (Some(b.owner.email.as_str()), b.owner.id.gid());
    let strangers = vec![
        ev("s1", "commit", b_email, noon(1)),
        ev("s2", "commit", Some(&b_gid), noon(1)),
    ];
    assert_eq!(send(&app, &a.key.secret, strangers).await, (2, 0, 2));
    assert!(
        raw(&app, a.org)
            .await
            .iter()
            .all(|e| e.developer_id.is_none())
    );
    let mine: Vec<Value> = (0..3)
        .map(|i| ev(&format!("s{i}"), "commit", b_email, noon(1)))
        .collect();
    assert_eq!(send(&app, &b.key.secret, mine).await, (3, 0, 0));
    let q = r#"query($f: Date!, $t: Date!, $bp: ID!, $bd: ID!) { organization {
        all: metrics(from: $f, to: $t, groupBy: [PROJECT]) { projectId count }
        ofB: metrics(from: $f, to: $t, filter: {projectIds: [$bp]}, groupBy: [PROJECT]) { count }
        byB: metrics(from: $f, to: $t, filter: {developerIds: [$bd]}, groupBy: [DEVELOPER]) { count } } }"#;
    let vars = json!({ "f": days_ago(10), "t": today(), "bp": b.project.gid(), "bd": b_gid });
    let r = app.gql(&a.token, q, vars).await;
    let org = &r.ok()["organization"];
    assert_eq!(
        org["all"],
        json!([{ "projectId": a.project.gid(), "count": 2 }])
    );
    assert_eq!((&org["ofB"], &org["byB"]), (&json!([]), &json!([])));
    // B's project is as absent to A as a project that does not exist.
    let q = r#"query($p: ID!) { project(id: $p) { metrics(from: "2020-01-01", to: "2020-01-02") { count } } }"#;
    let r = app.gql(&a.token, q, json!({ "p": b.project.gid() })).await;
    assert_eq!(r.data()["project"], Value::Null, "{:?}", r.body);
    assert!(r.codes().iter().all(|c| c == "NOT_FOUND"), "{:?}", r.body);
}

#[tokio::test]
async fn events_ingested_metric_counts_both_the_http_api_and_record_events() {
    let app = TestApp::spawn().await;
    let site = Site::new(&app, "counted").await;
    let at = Utc::now() - Duration::hours(1);
    send(&app, &site.key.secret, vec![ev("h1", "commit", None, at)]).await;
    let two = vec![ev("m1", "commit", None, at), ev("m2", "review", None, at)];
    record(&app, &site.token, site.project, two.clone())
        .await
        .ok();
    // A retried batch is not ingested again.
    record(&app, &site.token, site.project, two).await.ok();
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l == "devgraph_events_ingested_total 3"),
        "{text}"
    );
}

/// `event_meta` cannot grow without bound: a project keeps at most 256
/// property keys per event name and 1,000 event names. A batch that would
/// pass either is refused whole with LIMIT_EXCEEDED naming the event; what
/// was stored before keeps being accepted.
#[tokio::test]
async fn event_names_and_property_keys_are_capped_per_project() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let when = Utc::now() - Duration::hours(1);
    let with_keys = |id: &str, keys: std::ops::Range<usize>| {
        let mut e = ev(id, "deploy", None, when);
        e["properties"] = keys.map(|k| (format!("k{k}"), json!(1))).collect();
        e
    };
    // 200 keys, then 56 more: exactly at the cap.
    send(&app, &s.key.secret, vec![with_keys("d1", 0..200)]).await;
    send(&app, &s.key.secret, vec![with_keys("d2", 150..256)]).await;
    let over = post(
        &app,
        &s.key.secret,
        &json!({ "events": [with_keys("d3", 250..260)] }),
    )
    .await;
    assert_eq!(over.status, 400, "{:?}", over.body);
    assert_eq!(over.code(), Some("LIMIT_EXCEEDED"));
    let message = over.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("`deploy`"), "{message}");
    // Known keys are still welcome; the refused batch left nothing behind.
    let (accepted, _, _) = send(&app, &s.key.secret, vec![with_keys("d4", 0..10)]).await;
    assert_eq!(accepted, 1);
    let (accepted, duplicated, _) = send(&app, &s.key.secret, vec![with_keys("d3", 0..1)]).await;
    assert_eq!((accepted, duplicated), (1, 0), "d3 was not stored");

    // 999 more names make 1,000; one more is refused, naming it.
    let names: Vec<Value> = (0..999)
        .map(|i| ev(&format!("n{i}"), &format!("name.{i}"), None, when))
        .collect();
    send(&app, &s.key.secret, names).await;
    let batch = json!({ "events": [ev("x", "one.too.many", None, when)] });
    let over = post(&app, &s.key.secret, &batch).await;
    assert_eq!(
        (over.status, over.code()),
        (400, Some("LIMIT_EXCEEDED")),
        "{:?}",
        over.body
    );
    let message = over.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("`one.too.many`"), "{message}");
    let (accepted, _, _) = send(&app, &s.key.secret, vec![ev("y", "name.7", None, when)]).await;
    assert_eq!(accepted, 1, "a known name is still accepted");
}

/// Who records what: a member records only for themselves (an event that
/// names nobody is theirs; one that names someone else refuses the batch),
/// an admin or owner for anyone; every recordEvents batch writes one audit
/// row; and client ids are unique per source, so an id a member sends first
/// does not shadow the same id from the project's key.
#[tokio::test]
async fn members_record_only_their_own_events_per_source_and_audited() {
    use crate::support::snapshot::audit_rows;
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let member = app
        .developer(s.org, "Mia Member", DeveloperRole::Member)
        .await;
    let other = app
        .developer(s.org, "Otto Other", DeveloperRole::Member)
        .await;
    let token = app.token_for(&member);
    let when = Utc::now() - Duration::hours(1);

    let r = record(
        &app,
        &token,
        s.project,
        vec![ev("x-1", "commit", Some(&other.email), when)],
    )
    .await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "{:?}", r.body);
    let r = record(
        &app,
        &token,
        s.project,
        vec![ev("x-1", "commit", Some("nobody@else.test"), when)],
    )
    .await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "{:?}", r.body);
    let audited_before = audit_rows(&app, s.org).await.len();
    let r = record(
        &app,
        &token,
        s.project,
        vec![ev("x-1", "commit", None, when)],
    )
    .await;
    assert_eq!(r.ok()["recordEvents"], counts(1, 0, 0));
    let r = record(
        &app,
        &token,
        s.project,
        vec![ev("x-2", "commit", Some(&member.email), when)],
    )
    .await;
    assert_eq!(r.ok()["recordEvents"], counts(1, 0, 0));
    // An admin records for anyone.
    let r = record(
        &app,
        &s.token,
        s.project,
        vec![ev("x-3", "commit", Some(&other.email), when)],
    )
    .await;
    assert_eq!(r.ok()["recordEvents"], counts(1, 0, 0));
    let audit = audit_rows(&app, s.org).await;
    let batches: Vec<_> = audit[audited_before..]
        .iter()
        .filter(|row| row.action == "events.record")
        .collect();
    assert_eq!(batches.len(), 3, "one audit row per accepted batch");
    assert_eq!(batches[0].details["accepted"], 1);

    // The event without a developer counts as the member's.
    let q = "query($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on Developer {
        activity(from: $from, to: $to) { count } } } }";
    let vars =
        json!({ "id": member.gid(), "from": days_ago(1).to_string(), "to": today().to_string() });
    let days = app.gql(&s.token, q, vars).await;
    let total: i64 = days.ok()["node"]["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2);

    // The key's "x-1" is its own: the member's earlier "x-1" does not
    // make it a duplicate; a retry from the same key does.
    let key_event = vec![ev("x-1", "commit", None, when)];
    assert_eq!(
        send(&app, &s.key.secret, key_event.clone()).await,
        (1, 0, 0)
    );
    assert_eq!(send(&app, &s.key.secret, key_event).await, (0, 1, 0));
}
