//! Helpers of the events and metrics tests: API keys made through the API,
//! batches sent to `POST /v1/events`, the `recordEvents` mutation, reads of
//! the raw, rollup and meta tables, dates, and a seeded random generator.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use devgraph::ids::{DeveloperId, OrgId, ProjectId, TeamSpaceId};
use entity::{UNKNOWN_DEVELOPER, aggregated_event, enums::DeveloperRole, event, event_meta};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::support::{Dev, Reply, TestApp};

/// A global id string.
pub fn gid_p(id: ProjectId) -> String {
    id.to_global().0
}
pub fn gid_d(id: DeveloperId) -> String {
    id.to_global().0
}
pub fn gid_t(id: TeamSpaceId) -> String {
    id.to_global().0
}

/// An API key as `createApiKey` returned it.
#[derive(Debug, Clone)]
pub struct Key {
    /// Global id.
    pub id: String,
    /// The whole `dg_<prefix>_<secret>`.
    pub secret: String,
}

/// Creates a key as `token` (an owner): `scopes` is a GraphQL list body,
/// e.g. `EVENTS_WRITE` or `READ`.
pub async fn create_key(
    app: &TestApp,
    token: &str,
    scopes: &str,
    project: Option<ProjectId>,
) -> Key {
    let q = format!(
        r#"mutation($p: ID) {{ createApiKey(input: {{name: "k", scopes: [{scopes}], projectId: $p}}) {{ secret apiKey {{ id }} }} }}"#
    );
    let reply = app.gql(token, &q, json!({ "p": project.map(gid_p) })).await;
    let data = &reply.ok()["createApiKey"];
    Key {
        id: data["apiKey"]["id"].as_str().expect("key id").to_owned(),
        secret: data["secret"].as_str().expect("secret").to_owned(),
    }
}

pub async fn revoke_key(app: &TestApp, token: &str, key: &Key) {
    let reply = app
        .gql(
            token,
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id revokedAt } } }",
            json!({ "id": key.id }),
        )
        .await;
    assert!(
        !reply.ok()["revokeApiKey"]["apiKey"]["revokedAt"].is_null(),
        "revoked"
    );
}

/// `POST /v1/events` with a JSON body.
pub async fn post(app: &TestApp, bearer: &str, body: &Value) -> Reply {
    post_raw(app, bearer, body.to_string()).await
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
        json!({ "input": { "projectId": gid_p(project), "events": events } }),
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
    event::Entity::find_in(org.uuid())
        .order_by_asc(event::Column::Id)
        .all(app.db())
        .await
        .expect("events")
}

pub async fn rollup(app: &TestApp, org: OrgId) -> Vec<aggregated_event::Model> {
    aggregated_event::Entity::find_in(org.uuid())
        .all(app.db())
        .await
        .expect("aggregated events")
}

pub async fn meta(app: &TestApp, org: OrgId) -> Vec<event_meta::Model> {
    event_meta::Entity::find_in(org.uuid())
        .all(app.db())
        .await
        .expect("event meta")
}

/// (events, aggregated_events, event_meta) row counts of `org`.
pub async fn table_counts(app: &TestApp, org: OrgId) -> (u64, u64, u64) {
    let db = app.db();
    let o = org.uuid();
    (
        event::Entity::find_in(o).count(db).await.expect("count"),
        aggregated_event::Entity::find_in(o)
            .count(db)
            .await
            .expect("count"),
        event_meta::Entity::find_in(o)
            .count(db)
            .await
            .expect("count"),
    )
}

/// An organization (UTC) with an owner, a project and an EVENTS_WRITE key
/// bound to it.
pub struct Site {
    pub org: OrgId,
    pub owner: Dev,
    pub token: String,
    pub project: ProjectId,
    pub key: Key,
}

impl Site {
    pub async fn new(app: &TestApp, slug: &str) -> Site {
        let (org, owner, token) = app.with_org_and_developer(slug, DeveloperRole::Owner).await;
        let project = app.project(org, None, &format!("{slug} app")).await;
        let key = create_key(app, &token, "EVENTS_WRITE", Some(project)).await;
        Site {
            org,
            owner,
            token,
            project,
            key,
        }
    }
}

/// A deterministic linear congruential generator (Knuth's MMIX constants).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// Uniform-ish in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
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
    let r = app.gql(token, q, json!({ "id": gid_p(project) })).await;
    r.ok()["project"]["slug"].as_str().expect("slug").to_owned()
}

/// Writes `n` raw events of `name` at `when` (and after, a minute apart)
/// directly, with no developer, plus their rollup row: history the API
/// would no longer accept.
pub async fn insert_old(
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

/// One new random event: a developer of `devs` named by email (any case) or
/// global id, an unknown email, or none; one of `names`; 1 to 9 days ago at
/// a random microsecond; one random property.
pub fn random_event(rng: &mut Lcg, id: &str, devs: &[Dev], names: &[&str]) -> Value {
    let dev = &devs[rng.below(devs.len() as u64) as usize];
    let who = match rng.below(6) {
        0 | 1 => Some(dev.email.clone()),
        2 => Some(dev.email.to_uppercase()),
        3 => Some(gid_d(dev.id)),
        4 => Some(format!("ghost{}@nowhere.test", rng.below(3))),
        _ => None,
    };
    let micros = rng.below(86_400_000_000) as i64;
    let when = at(days_ago(1 + rng.below(9) as i64), 0, 0, 0) + Duration::microseconds(micros);
    let name = names[rng.below(names.len() as u64) as usize];
    let mut e = ev(id, name, who.as_deref(), when);
    e["properties"] = json!({ format!("k{}", rng.below(5)): rng.below(100) });
    e
}

/// Picks one item of a non-empty slice.
pub fn pick<T: Clone>(rng: &mut Lcg, items: &[T]) -> T {
    items[rng.below(items.len() as u64) as usize].clone()
}

/// Randomized batches for two projects, and the model of what the server
/// must do with them: each batch mixes new events (see [`random_event`]),
/// earlier events of the project (retries), ids repeated inside the batch,
/// and events of the other project under the same client id (another
/// event there); a quarter of the batches resend an earlier batch whole.
pub struct RandomIngest {
    rng: Lcg,
    devs: Vec<Dev>,
    names: Vec<&'static str>,
    known: [Vec<Value>; 2],
    sent: Vec<(usize, Vec<Value>)>,
    /// (project index, client id) → the developer the event must carry.
    pub stored: BTreeMap<(usize, String), Option<Uuid>>,
    /// Batches resent whole.
    pub retries: usize,
}

impl RandomIngest {
    pub fn new(seed: u64, devs: Vec<Dev>, names: Vec<&'static str>) -> Self {
        RandomIngest {
            rng: Lcg(seed),
            devs,
            names,
            known: [vec![], vec![]],
            sent: vec![],
            stored: BTreeMap::new(),
            retries: 0,
        }
    }

    /// The next batch: (project index, events).
    pub fn next_batch(&mut self) -> (usize, Vec<Value>) {
        let rng = &mut self.rng;
        if !self.sent.is_empty() && rng.chance(25) {
            self.retries += 1;
            let batch = pick(rng, &self.sent);
            self.sent.push(batch.clone());
            return batch;
        }
        let p = rng.below(2) as usize;
        let mut events: Vec<Value> = vec![];
        for _ in 0..1 + rng.below(40) {
            let e = match rng.below(100) {
                0..12 if !self.known[p].is_empty() => pick(rng, &self.known[p]),
                12..20 if !events.is_empty() => pick(rng, &events),
                20..26 if !self.known[1 - p].is_empty() => pick(rng, &self.known[1 - p]),
                _ => {
                    let id = format!("c{}-{}", self.sent.len(), events.len());
                    random_event(rng, &id, &self.devs, &self.names)
                }
            };
            events.push(e);
        }
        self.sent.push((p, events.clone()));
        (p, events)
    }

    /// What the server must answer to `events` sent to project `p`
    /// (accepted, duplicated, unmatched); records the accepted ones.
    pub fn expect(&mut self, p: usize, events: &[Value]) -> (i64, i64, i64) {
        let (mut accepted, mut unmatched, mut in_batch) = (0, 0, BTreeSet::new());
        for e in events {
            let id = e["id"].as_str().expect("id").to_owned();
            if !in_batch.insert(id.clone()) || self.stored.contains_key(&(p, id.clone())) {
                continue;
            }
            let who = e["developer"].as_str().unwrap_or("");
            let dev = self
                .devs
                .iter()
                .find(|d| d.email.eq_ignore_ascii_case(who) || gid_d(d.id) == who);
            accepted += 1;
            unmatched += i64::from(dev.is_none() && !who.is_empty());
            self.stored.insert((p, id), dev.map(|d| d.id.uuid()));
            self.known[p].push(e.clone());
        }
        (accepted, events.len() as i64 - accepted, unmatched)
    }
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

// The metrics fixture --------------------------------------------------------

/// Who an event of the [`Shop`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// `Shop::devs[i]`.
    Dev(usize),
    /// An email the organization does not know.
    Stranger,
    /// No developer at all.
    Nobody,
}

/// One event the [`Shop`] sent.
#[derive(Debug, Clone)]
pub struct Fact {
    pub project: usize,
    pub who: Who,
    pub name: &'static str,
    pub day: NaiveDate,
}

/// An organization (UTC) whose metrics are checked against what it sent:
/// developers alice (in both team spaces), bob (space 0), carol (space 1),
/// dave (none); projects 0 (owned by space 0), 1 (space 1), 2 (none);
/// 240 events over the last 20 days (none today), by each of them, by
/// strangers and by nobody, of `commit`, `review` and `deploy`.
pub struct Shop {
    pub app: TestApp,
    pub token: String,
    pub devs: Vec<Dev>,
    /// The team spaces of each of `devs`.
    pub member_of: Vec<Vec<usize>>,
    pub spaces: Vec<TeamSpaceId>,
    pub projects: Vec<ProjectId>,
    pub facts: Vec<Fact>,
}

pub const NAMES: [&str; 3] = ["commit", "review", "deploy"];

impl Shop {
    pub async fn open() -> Shop {
        let app = TestApp::spawn().await;
        let (org, _owner, token) = app
            .with_org_and_developer("shop", DeveloperRole::Owner)
            .await;
        let spaces = vec![
            app.team_space(org, "Space Zero").await,
            app.team_space(org, "Space One").await,
        ];
        let member_of = vec![vec![0, 1], vec![0], vec![1], vec![]];
        let mut devs = Vec::new();
        for (name, of) in ["Alice A", "Bob B", "Carol C", "Dave D"]
            .iter()
            .zip(&member_of)
        {
            let dev = app.developer(org, name, DeveloperRole::Member).await;
            for s in of {
                let role = entity::enums::TeamSpaceRole::Member;
                app.member(org, spaces[*s], dev.id, role).await;
            }
            devs.push(dev);
        }
        let projects = vec![
            app.project(org, Some(spaces[0]), "zero app").await,
            app.project(org, Some(spaces[1]), "one app").await,
            app.project(org, None, "loose app").await,
        ];
        let mut rng = Lcg(0xD15C0);
        let facts: Vec<Fact> = (0..240)
            .map(|_| Fact {
                project: rng.below(3) as usize,
                who: match rng.below(6) {
                    0..4 => Who::Dev(rng.below(4) as usize),
                    4 => Who::Stranger,
                    _ => Who::Nobody,
                },
                name: NAMES[rng.below(3) as usize],
                day: days_ago(1 + rng.below(20) as i64),
            })
            .collect();
        for (p, project) in projects.iter().enumerate() {
            let key = create_key(&app, &token, "EVENTS_WRITE", Some(*project)).await;
            let events: Vec<Value> = facts
                .iter()
                .enumerate()
                .filter(|(_, f)| f.project == p)
                .map(|(i, f)| {
                    let who = match f.who {
                        Who::Dev(d) if i % 2 == 0 => Some(devs[d].email.clone()),
                        Who::Dev(d) => Some(gid_d(devs[d].id)),
                        Who::Stranger => Some(format!("stranger{i}@nowhere.test")),
                        Who::Nobody => None,
                    };
                    ev(
                        &format!("f{i}"),
                        f.name,
                        who.as_deref(),
                        at(f.day, 12, 0, 0),
                    )
                })
                .collect();
            send(&app, &key.secret, events).await;
        }
        Shop {
            app,
            token,
            devs,
            member_of,
            spaces,
            projects,
            facts,
        }
    }

    /// The team spaces of whoever `who` is.
    pub fn spaces_of(&self, who: Who) -> &[usize] {
        match who {
            Who::Dev(d) => &self.member_of[d],
            _ => &[],
        }
    }

    /// What `ask` must return, computed from the facts.
    pub fn expected(&self, ask: &Ask) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        if ask.group_by.is_empty() {
            out.insert(row_key(&json!({})), 0);
        }
        let has = |d: &str| ask.group_by.contains(&d);
        for f in &self.facts {
            let spaces = self.spaces_of(f.who);
            let dev = match f.who {
                Who::Dev(d) => Some(d),
                _ => None,
            };
            let keep = f.day >= ask.from
                && f.day <= ask.to
                && ask.names.as_ref().is_none_or(|n| n.contains(&f.name))
                && ask.projects.as_ref().is_none_or(|p| p.contains(&f.project))
                && ask
                    .devs
                    .as_ref()
                    .is_none_or(|ds| dev.is_some_and(|d| ds.contains(&d)))
                && ask
                    .spaces
                    .as_ref()
                    .is_none_or(|ss| spaces.iter().any(|s| ss.contains(s)))
                && match ask.scope {
                    Scope::Org => true,
                    Scope::Space(s) => spaces.contains(&s),
                    Scope::Project(p) => f.project == p,
                };
            if !keep {
                continue;
            }
            // TEAM_SPACE fans an event out to each team space of its developer
            // that the scope and filter leave.
            let fan: Vec<Option<usize>> = if has("TEAM_SPACE") {
                spaces
                    .iter()
                    .filter(|s| ask.spaces.as_ref().is_none_or(|ss| ss.contains(s)))
                    .filter(|s| !matches!(ask.scope, Scope::Space(x) if x != **s))
                    .map(|s| Some(*s))
                    .collect()
            } else {
                vec![None]
            };
            for space in fan {
                let mut row = json!({});
                if has("DAY") {
                    row["day"] = json!(f.day);
                }
                if has("WEEK") {
                    let monday =
                        f.day - Duration::days(f.day.weekday().num_days_from_monday().into());
                    row["week"] = json!(monday);
                }
                if has("EVENT_NAME") {
                    row["eventName"] = json!(f.name);
                }
                if has("DEVELOPER") {
                    row["developerId"] = json!(dev.map(|d| gid_d(self.devs[d].id)));
                }
                if let Some(s) = space {
                    row["teamSpaceId"] = json!(gid_t(self.spaces[s]));
                }
                if has("PROJECT") {
                    row["projectId"] = json!(gid_p(self.projects[f.project]));
                }
                *out.entry(row_key(&row)).or_default() += 1;
            }
        }
        out
    }

    /// What the server returns for `ask`, keyed like [`Shop::expected`]
    /// (a repeated key is kept apart, marked `#dup`).
    pub async fn actual(&self, ask: &Ask) -> Result<BTreeMap<String, i64>, String> {
        const ROW: &str = "{ day week eventName developerId teamSpaceId projectId count }";
        const ARGS: &str = "(from: $f, to: $t, filter: $filter, groupBy: $g)";
        let (decl, field, id) = match ask.scope {
            Scope::Org => ("", "organization", None),
            Scope::Space(s) => (
                ", $id: ID!",
                "teamSpace(id: $id)",
                Some(gid_t(self.spaces[s])),
            ),
            Scope::Project(p) => (
                ", $id: ID!",
                "project(id: $id)",
                Some(gid_p(self.projects[p])),
            ),
        };
        let q = format!(
            "query($f: Date!, $t: Date!, $filter: MetricFilter, $g: [MetricDimension!]!{decl}) \
             {{ scope: {field} {{ metrics{ARGS} {ROW} }} }}"
        );
        let mut filter = json!({});
        if let Some(n) = &ask.names {
            filter["eventNames"] = json!(n);
        }
        if let Some(s) = &ask.spaces {
            filter["teamSpaceIds"] =
                json!(s.iter().map(|s| gid_t(self.spaces[*s])).collect::<Vec<_>>());
        }
        if let Some(p) = &ask.projects {
            filter["projectIds"] = json!(
                p.iter()
                    .map(|p| gid_p(self.projects[*p]))
                    .collect::<Vec<_>>()
            );
        }
        if let Some(d) = &ask.devs {
            filter["developerIds"] = json!(
                d.iter()
                    .map(|d| gid_d(self.devs[*d].id))
                    .collect::<Vec<_>>()
            );
        }
        let mut vars = json!({ "f": ask.from, "t": ask.to, "filter": filter, "g": ask.group_by });
        if let Some(id) = id {
            vars["id"] = json!(id);
        }
        let r = self.app.gql(&self.token, &q, vars).await;
        let rows = r.body["data"]["scope"]["metrics"].as_array();
        let (Some(rows), None) = (rows, r.body.get("errors")) else {
            return Err(format!("{:?}", r.body));
        };
        let mut out = BTreeMap::new();
        for row in rows {
            // A grouped field is part of the key even when null; another
            // field only when (wrongly) filled.
            let mut keyed = json!({});
            for (k, v) in row.as_object().expect("row") {
                let grouped = ask.group_by.iter().any(|g| field_of(g) == k);
                if k != "count" && (grouped || !v.is_null()) {
                    keyed[k] = v.clone();
                }
            }
            let mut key = row_key(&keyed);
            if out.contains_key(&key) {
                key.push_str("#dup");
            }
            out.insert(key, row["count"].as_i64().expect("count"));
        }
        Ok(out)
    }

    /// `None` when the server answers `ask` as expected; else the difference.
    pub async fn check(&self, ask: Ask) -> Option<String> {
        let want = self.expected(&ask);
        match self.actual(&ask).await {
            Err(e) => Some(format!("{ask:?}: error {e}")),
            Ok(got) if got == want => None,
            Ok(got) => {
                let mut diff: Vec<String> = Vec::new();
                for k in want.keys().chain(got.keys()).collect::<BTreeSet<_>>() {
                    if want.get(k) != got.get(k) {
                        diff.push(format!("{k}: want {:?} got {:?}", want.get(k), got.get(k)));
                    }
                }
                diff.truncate(6);
                Some(format!("{ask:?}:\n    {}", diff.join("\n    ")))
            }
        }
    }
}

/// The `MetricRow` field of a dimension.
fn field_of(dimension: &str) -> &'static str {
    match dimension {
        "DAY" => "day",
        "WEEK" => "week",
        "EVENT_NAME" => "eventName",
        "DEVELOPER" => "developerId",
        "TEAM_SPACE" => "teamSpaceId",
        "PROJECT" => "projectId",
        other => panic!("no dimension {other}"),
    }
}

/// A JSON object as a map key, its fields in sorted order.
fn row_key(row: &Value) -> String {
    let sorted: BTreeMap<_, _> = row.as_object().expect("object").iter().collect();
    serde_json::to_string(&sorted).expect("key")
}

#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Org,
    Space(usize),
    Project(usize),
}

/// One metrics call: scope, range, filter (indices into the `Shop`'s
/// names, team spaces, projects and developers) and grouping.
#[derive(Debug, Clone)]
pub struct Ask {
    pub scope: Scope,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: Vec<&'static str>,
    pub names: Option<Vec<&'static str>>,
    pub spaces: Option<Vec<usize>>,
    pub projects: Option<Vec<usize>>,
    pub devs: Option<Vec<usize>>,
}

impl Ask {
    /// The last 30 days, ungrouped, unfiltered.
    pub fn new(scope: Scope) -> Ask {
        Ask {
            scope,
            from: days_ago(30),
            to: today(),
            group_by: vec![],
            names: None,
            spaces: None,
            projects: None,
            devs: None,
        }
    }

    pub fn by(mut self, group_by: &[&'static str]) -> Ask {
        self.group_by = group_by.to_vec();
        self
    }
}
