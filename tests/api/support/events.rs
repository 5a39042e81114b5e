//! Helpers of the events and metrics tests: batches sent to
//! `POST /v1/events`, the `recordEvents` mutation, reads of the raw, rollup
//! and meta tables and what they must hold, and dates.

use entity::scoped::InOrg as _;
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use devgraph::ids::{OrgId, ProjectId};
use entity::{UNKNOWN_DEVELOPER, aggregated_event, event, event_meta};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::support::{Gid, Reply, TestApp};

/// `POST /v1/events` with a JSON body.
pub async fn post(app: &TestApp, bearer: &str, body: &Value) -> Reply {
    post_raw(app, bearer, body.to_string()).await
}

/// `POST /v1/events` until it is accepted (202), resending the same body
/// (the same client ids, which count once) after a 503, as a client must
/// when SQLite's writer is busy; any other answer fails the test.
pub async fn post_until_accepted(app: &TestApp, bearer: &str, body: &Value) -> Reply {
    loop {
        let reply = post(app, bearer, body).await;
        if reply.status == 202 {
            return reply;
        }
        assert_eq!(reply.status, 503, "{:?}", reply.body);
    }
}

/// `POST /v1/events` with any body text, sent as application/json.
pub async fn post_raw(app: &TestApp, bearer: &str, body: String) -> Reply {
    let resp = app
        .client
        .post(app.url("/v1/events"))
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    TestApp::reply(resp).await
}

/// Sends a batch that must be accepted; returns (accepted, duplicated, unmatched).
pub async fn send(app: &TestApp, key: &str, events: Vec<Value>) -> (i64, i64, i64) {
    let reply = post(app, key, &json!({ "events": events })).await;
    assert_eq!(reply.status, 202, "accepted: {:?}", reply.body);
    counts_of(&reply.body)
}

pub fn counts_of(body: &Value) -> (i64, i64, i64) {
    (
        body["accepted"].as_i64().expect("accepted"),
        body["duplicated"].as_i64().expect("duplicated"),
        body["unmatched"].as_i64().expect("unmatched"),
    )
}

/// One event as clients send it.
pub fn ev(id: &str, name: &str, developer: Option<&str>, at: DateTime<Utc>) -> Value {
    let mut e = json!({ "id": id, "name": name, "occurredAt": ts(at), "properties": {} });
    if let Some(dev) = developer {
        e["developer"] = json!(dev);
    }
    e
}

/// RFC 3339, UTC, microseconds.
pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn days_ago(n: i64) -> NaiveDate {
    today() - Duration::days(n)
}

/// `day` at `h:m:s` UTC.
pub fn at(day: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(h, m, s).expect("time"))
}

/// `recordEvents` as `token`.
pub async fn record(app: &TestApp, token: &str, project: ProjectId, events: Vec<Value>) -> Reply {
    app.gql(
        token,
        "mutation($input: RecordEventsInput!) { recordEvents(input: $input) { accepted duplicated unmatched } }",
        json!({ "input": { "projectId": project.gid(), "events": events } }),
    )
    .await
}

/// `updateOrganization(input: {timeZone})` as `token`.
pub async fn set_time_zone(app: &TestApp, token: &str, zone: &str) -> Reply {
    app.gql(
        token,
        "mutation($tz: String) { updateOrganization(input: {timeZone: $tz}) { organization { timeZone } } }",
        json!({ "tz": zone }),
    )
    .await
}

/// Rows of the three event tables of `org`.
pub async fn raw(app: &TestApp, org: OrgId) -> Vec<event::Model> {
    event::Entity::find_in(org)
        .order_by_asc(event::Column::Id)
        .all(app.db())
        .await
        .expect("events")
}

pub async fn rollup(app: &TestApp, org: OrgId) -> Vec<aggregated_event::Model> {
    aggregated_event::Entity::find_in(org)
        .all(app.db())
        .await
        .expect("aggregated events")
}

pub async fn meta(app: &TestApp, org: OrgId) -> Vec<event_meta::Model> {
    event_meta::Entity::find_in(org)
        .all(app.db())
        .await
        .expect("event meta")
}

/// (events, aggregated_events, event_meta) row counts of `org`.
pub async fn table_counts(app: &TestApp, org: OrgId) -> (u64, u64, u64) {
    let db = app.db();
    (
        event::Entity::find_in(org).count(db).await.expect("count"),
        aggregated_event::Entity::find_in(org)
            .count(db)
            .await
            .expect("count"),
        event_meta::Entity::find_in(org)
            .count(db)
            .await
            .expect("count"),
    )
}

/// Noon UTC `days` ago.
pub fn noon(days: i64) -> DateTime<Utc> {
    at(days_ago(days), 12, 0, 0)
}

pub fn utc_day(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

/// The calendar day in Asia/Kolkata (+05:30, no daylight saving).
pub fn ist_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::minutes(330)).date_naive()
}

/// (project, developer or the unknown value, name, day).
pub type RollupKey = (Uuid, Uuid, String, NaiveDate);

/// The rollup of `org` as a map, zero rows left out.
pub async fn rollup_map(app: &TestApp, org: OrgId) -> BTreeMap<RollupKey, i64> {
    rollup(app, org)
        .await
        .into_iter()
        .filter(|r| r.count != 0)
        .map(|r| ((r.project_id, r.developer_id, r.name, r.day), r.count))
        .collect()
}

/// What the rollup must hold: the raw events of `org` counted per day of
/// `day_of`, computed here.
pub async fn raw_counts(
    app: &TestApp,
    org: OrgId,
    day_of: impl Fn(DateTime<Utc>) -> NaiveDate,
) -> BTreeMap<RollupKey, i64> {
    let mut out = BTreeMap::new();
    for e in raw(app, org).await {
        let dev = e.developer_id.unwrap_or(UNKNOWN_DEVELOPER);
        *out.entry((e.project_id, dev, e.name, day_of(e.occurred_at)))
            .or_default() += 1;
    }
    out
}

/// Per (project, name): total count, first and last seen (microseconds),
/// property keys.
pub type MetaSummary = BTreeMap<(Uuid, String), (i64, i64, i64, BTreeSet<String>)>;

/// event_meta as it is stored.
pub async fn meta_summary(app: &TestApp, org: OrgId) -> MetaSummary {
    meta(app, org)
        .await
        .into_iter()
        .map(|m| {
            let keys = serde_json::from_value(m.property_keys).expect("keys");
            let (first, last) = (
                m.first_seen.timestamp_micros(),
                m.last_seen.timestamp_micros(),
            );
            ((m.project_id, m.name), (m.total_count, first, last, keys))
        })
        .collect()
}

/// event_meta as the raw events say it must be.
pub async fn raw_meta_summary(app: &TestApp, org: OrgId) -> MetaSummary {
    let mut out = MetaSummary::new();
    for e in raw(app, org).await {
        let t = e.occurred_at.timestamp_micros();
        let m = out
            .entry((e.project_id, e.name.clone()))
            .or_insert((0, t, t, BTreeSet::new()));
        m.0 += 1;
        m.1 = m.1.min(t);
        m.2 = m.2.max(t);
        if let Some(props) = e.properties.as_object() {
            m.3.extend(props.keys().cloned());
        }
    }
    out
}

/// A project's slug, read through the API.
pub async fn slug_of(app: &TestApp, token: &str, project: ProjectId) -> String {
    let q = "query($id: ID!) { project(id: $id) { slug } }";
    let r = app.gql(token, q, json!({ "id": project.gid() })).await;
    r.ok()["project"]["slug"].as_str().expect("slug").to_owned()
}

/// Writes `n` raw events of `name` at `when` (and after, a minute apart)
/// directly, with no developer, plus their rollup row: history the API
/// would no longer accept.
pub async fn raw_insert_old(
    app: &TestApp,
    org: OrgId,
    project: ProjectId,
    n: i64,
    when: DateTime<Utc>,
) {
    for i in 0..n {
        event::Entity::insert(event::ActiveModel {
            organization_id: Set(org.uuid()),
            id: Set(Uuid::now_v7()),
            project_id: Set(project.uuid()),
            developer_id: Set(None),
            name: Set("commit".into()),
            properties: Set(json!({})),
            occurred_at: Set(when + Duration::minutes(i)),
            received_at: Set(when),
            client_event_id: Set(format!("old{i}")),
            source_id: Set(Some(Uuid::nil())),
            identity_id: Set(None),
        })
        .exec(app.db())
        .await
        .expect("old event");
    }
    aggregated_event::Entity::insert(aggregated_event::ActiveModel {
        organization_id: Set(org.uuid()),
        project_id: Set(project.uuid()),
        developer_id: Set(UNKNOWN_DEVELOPER),
        name: Set("commit".into()),
        day: Set(when.date_naive()),
        count: Set(n),
    })
    .exec(app.db())
    .await
    .expect("old rollup");
}

/// `workers` tasks start together and each sends `batches` batches of
/// `per_batch` distinct events of `name` by `developer` on `day`; returns
/// every answer.
pub async fn ingest_concurrently(
    app: &TestApp,
    key: &str,
    developer: &str,
    day: NaiveDate,
    (workers, batches, per_batch): (u32, u32, u32),
) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(workers as usize));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, url) = (app.client.clone(), app.url("/v1/events"));
        let (key, dev, barrier) = (key.to_owned(), developer.to_owned(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut answers = Vec::new();
            for b in 0..batches {
                let events: Vec<Value> = (0..per_batch)
                    .map(|i| {
                        let when = at(day, 10, 0, 0)
                            + Duration::milliseconds(i64::from((w * batches + b) * per_batch + i));
                        ev(&format!("w{w}-b{b}-{i}"), "commit", Some(&dev), when)
                    })
                    .collect();
                let body = json!({ "events": events });
                let resp = client.post(&url).bearer_auth(&key).json(&body).send().await;
                answers.push(TestApp::reply(resp.expect("send")).await);
            }
            answers
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.extend(task.await.expect("ingester"));
    }
    out
}

/// `n` valid events `<tag>0`, `<tag>1`, ... of `commit` by nobody, noon yesterday.
pub fn plain(tag: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| ev(&format!("{tag}{i}"), "commit", None, noon(1)))
        .collect()
}

/// How `r` differs from a refusal with `status` (if given), `code` and
/// `extensions.field` (if given); `None` when it is one.
pub fn mismatch(r: &Reply, status: Option<u16>, code: &str, field: Option<&str>) -> Option<String> {
    let got_field = r.body["errors"][0]["extensions"]["field"].as_str();
    let ok = status.is_none_or(|s| s == r.status)
        && r.code() == Some(code)
        && (field.is_none() || got_field == field);
    let mut body = r.body.to_string();
    body.truncate(300);
    (!ok).then(|| format!("want {status:?} {code} {field:?}, got {} {body}", r.status))
}
