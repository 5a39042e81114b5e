//! The delivery rollup equals a recount over the raw delivery rows, written here from the
//! definitions (README, `service::delivery::metrics`), after a random history is ingested
//! fact by fact in shuffled order, interleaved with membership changes, identity links and
//! unlinks, a time-zone change and its rebuild, a repository disconnected and a project
//! deleted. Team spaces' figures through the API equal the recount of their current members.
//! `DELIVERY_SEED=<n>` replays a run.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use devgraph::{
    auth::TenantCtx,
    ids::{OrgId, ProjectId, RepositoryId, TeamSpaceId},
    service::delivery::{metrics::SHARE, sketch::bucket_of},
};
use entity::{
    UNKNOWN_DEVELOPER,
    enums::{DeploymentStatus, IdentityKind, TeamSpaceRole},
    scoped::InOrg as _,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    Dev, Gid, TestApp, create_key,
    events::set_time_zone,
    forge::{Delivery, post_delivery, raw_repository},
    random::Lcg,
};

type Key = (Uuid, Uuid, NaiveDate, String, String, i32);
type Counts = BTreeMap<Key, i64>;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 6, 0, 0)
        .single()
        .expect("time")
}

fn at(minutes: i64) -> String {
    (base() + Duration::minutes(minutes)).to_rfc3339()
}

// The recount ---------------------------------------------------------------------------------

struct Raw {
    tz: Tz,
    projects_of_repos: HashMap<Uuid, Uuid>,
    prs: Vec<entity::pull_request::Model>,
    reviews: Vec<entity::pull_request_review::Model>,
    deployments: Vec<entity::deployment::Model>,
    shipped: Vec<entity::deployment_pull_request::Model>,
    incidents: Vec<entity::incident::Model>,
}

/// Every row of `E` of the organization.
async fn all<E: entity::scoped::InOrg>(app: &TestApp, org: OrgId) -> Vec<E::Model> {
    E::find_in(org).all(app.db()).await.expect("rows")
}

async fn raw(app: &TestApp, org: OrgId) -> Raw {
    use sea_orm::EntityTrait as _;
    let found = entity::organization::Entity::find_by_id(org.uuid())
        .one(app.db())
        .await
        .expect("org")
        .expect("org");
    Raw {
        tz: found.time_zone.parse().expect("zone"),
        projects_of_repos: all::<entity::repository::Entity>(app, org)
            .await
            .into_iter()
            .map(|r| (r.id, r.project_id))
            .collect(),
        prs: all::<entity::pull_request::Entity>(app, org).await,
        reviews: all::<entity::pull_request_review::Entity>(app, org).await,
        deployments: all::<entity::deployment::Entity>(app, org).await,
        shipped: all::<entity::deployment_pull_request::Entity>(app, org).await,
        incidents: all::<entity::incident::Entity>(app, org).await,
    }
}

fn split(devs: &BTreeSet<Uuid>) -> Vec<(Uuid, i64)> {
    if devs.is_empty() {
        return vec![(UNKNOWN_DEVELOPER, SHARE)];
    }
    let each = SHARE / devs.len() as i64;
    let first = SHARE - each * (devs.len() as i64 - 1);
    devs.iter()
        .enumerate()
        .map(|(i, d)| (*d, if i == 0 { first } else { each }))
        .collect()
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

impl Raw {
    fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    fn recount(&self) -> Counts {
        let mut out = Counts::new();
        let mut put = |p: Uuid, d: Uuid, day: NaiveDate, tier: &str, m: &str, b: i32, n: i64| {
            *out.entry((p, d, day, tier.into(), m.into(), b))
                .or_default() += n;
        };
        let tier_name = |d: &entity::deployment::Model| {
            serde_json::to_value(d.tier)
                .expect("tier")
                .as_str()
                .expect("tier")
                .to_owned()
        };
        let by_key: HashMap<(Uuid, i32), &entity::pull_request::Model> = self
            .prs
            .iter()
            .map(|p| ((p.repository_id, p.number), p))
            .collect();
        let deployment = |id: Uuid| self.deployments.iter().find(|d| d.id == id);
        for pr in &self.prs {
            let project = self.projects_of_repos[&pr.repository_id];
            let dev = pr.author_id.unwrap_or(UNKNOWN_DEVELOPER);
            let start = pr.first_commit_at.unwrap_or(pr.opened_at);
            put(project, dev, self.day(pr.opened_at), "", "opened", 0, 1);
            if let Some(c) = pr.first_commit_at {
                let b = bucket_of(secs(c, pr.opened_at));
                put(project, dev, self.day(pr.opened_at), "", "coding", b, 1);
            }
            if let Some(r) = pr.first_review_at {
                put(
                    project,
                    dev,
                    self.day(r),
                    "",
                    "pickup",
                    bucket_of(secs(pr.opened_at, r)),
                    1,
                );
            }
            match pr.merged_at {
                Some(m) => {
                    let day = self.day(m);
                    put(project, dev, day, "", "merged", 0, 1);
                    if let Some(r) = pr.first_review_at {
                        put(project, dev, day, "", "review", bucket_of(secs(r, m)), 1);
                    }
                    put(project, dev, day, "", "cycle", bucket_of(secs(start, m)), 1);
                    let lines = i64::from(pr.additions + pr.deletions);
                    let class = [10, 50, 250, 1000].iter().filter(|l| lines >= **l).count();
                    put(project, dev, day, "", "size", class as i32, 1);
                    let mut first: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
                    for link in self.shipped.iter().filter(|l| {
                        (l.repository_id, l.pull_request_number) == (pr.repository_id, pr.number)
                    }) {
                        let Some(d) = deployment(link.deployment_id) else {
                            continue;
                        };
                        if d.status != DeploymentStatus::Success {
                            continue;
                        }
                        let done = d.finished_at.unwrap_or(d.status_at);
                        let e = first.entry(tier_name(d)).or_insert(done);
                        *e = (*e).min(done);
                    }
                    for (tier, done) in first {
                        let done = done.max(m);
                        put(
                            project,
                            dev,
                            self.day(done),
                            &tier,
                            "deploy",
                            bucket_of(secs(m, done)),
                            1,
                        );
                        put(
                            project,
                            dev,
                            self.day(done),
                            &tier,
                            "lead",
                            bucket_of(secs(start, done)),
                            1,
                        );
                    }
                }
                None => {
                    if let Some(c) = pr.closed_at {
                        put(project, dev, self.day(c), "", "closed", 0, 1);
                    }
                }
            }
        }
        for r in &self.reviews {
            let project = self.projects_of_repos[&r.repository_id];
            let dev = r.reviewer_id.unwrap_or(UNKNOWN_DEVELOPER);
            put(project, dev, self.day(r.submitted_at), "", "reviews", 0, 1);
        }
        let authors = |d: &entity::deployment::Model| -> BTreeSet<Uuid> {
            self.shipped
                .iter()
                .filter(|l| l.deployment_id == d.id)
                .filter_map(|l| by_key.get(&(l.repository_id, l.pull_request_number)))
                .filter_map(|p| p.author_id)
                .collect()
        };
        for d in &self.deployments {
            if d.status == DeploymentStatus::Pending {
                continue;
            }
            let day = self.day(d.finished_at.unwrap_or(d.status_at));
            let caused = self.incidents.iter().any(|i| {
                i.project_id == d.project_id && i.caused_by.as_deref() == Some(&d.external_id)
            });
            let failed = d.status == DeploymentStatus::Failure || caused;
            for (dev, share) in split(&authors(d)) {
                put(
                    d.project_id,
                    dev,
                    day,
                    &tier_name(d),
                    "deployments",
                    0,
                    share,
                );
                if failed {
                    put(d.project_id, dev, day, &tier_name(d), "failed", 0, share);
                }
            }
        }
        for i in &self.incidents {
            let Some(resolved) = i.resolved_at else {
                continue;
            };
            let cause = self.deployments.iter().find(|d| {
                d.project_id == i.project_id && i.caused_by.as_deref() == Some(&d.external_id)
            });
            let devs = cause.map(authors).unwrap_or_default();
            let resolved = resolved.max(i.opened_at);
            let b = bucket_of(secs(i.opened_at, resolved));
            for (dev, share) in split(&devs) {
                put(
                    i.project_id,
                    dev,
                    self.day(resolved),
                    "",
                    "restore",
                    b,
                    share,
                );
            }
        }
        out.retain(|_, n| *n != 0);
        out
    }
}

async fn stored(app: &TestApp, org: OrgId) -> (Counts, Counts) {
    let rollup = all::<entity::delivery_rollup::Entity>(app, org)
        .await
        .into_iter()
        .map(|r| {
            let key = (
                r.project_id,
                r.developer_id,
                r.day,
                r.tier,
                r.metric,
                r.bucket,
            );
            (key, r.count)
        })
        .collect();
    let mut ledger = Counts::new();
    for r in all::<entity::delivery_contribution::Entity>(app, org).await {
        let key = (
            r.project_id,
            r.developer_id,
            r.day,
            r.tier,
            r.metric,
            r.bucket,
        );
        *ledger.entry(key).or_default() += r.count;
    }
    ledger.retain(|_, n| *n != 0);
    (rollup, ledger)
}

// The history ---------------------------------------------------------------------------------

/// One project's source: its key and repository.
struct Source {
    project: ProjectId,
    repository: RepositoryId,
    full_name: String,
    key: String,
    gone: bool,
}

/// A delivery to send: the source it goes through and its body.
struct Batch {
    source: usize,
    body: Value,
}

fn person(rng: &mut Lcg, devs: &[Dev]) -> Value {
    match rng.below(6) {
        0 => json!({"github": format!("ghost{}", rng.below(3))}),
        1 => Value::Null,
        _ => json!({"email": devs[rng.below(devs.len() as u64) as usize].email}),
    }
}

/// A history of one source: pull requests in one or two snapshots, commits, reviews,
/// deployments in one or two statuses, incidents opened and resolved; as single-fact batches.
fn history(rng: &mut Lcg, s: usize, repo: &str, devs: &[Dev]) -> Vec<Batch> {
    let mut out = Vec::new();
    let mut push = |body: Value| out.push(Batch { source: s, body });
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for number in 1..=8 + rng.below(6) as i64 {
        let author = person(rng, devs);
        let opened = rng.below(14 * 24 * 60) as i64;
        let branch = format!("b{number}");
        if rng.below(3) > 0 {
            for c in 0..1 + rng.below(2) as i64 {
                let when = opened - 30 - rng.below(3000) as i64;
                push(
                    json!({"commits": [{"repository": repo, "sha": format!("{s}-{number}-{c}"), "branch": branch, "authoredAt": at(when), "author": author}]}),
                );
            }
        }
        let size = json!(rng.below(1500));
        let open = json!({"repository": repo, "number": number, "title": "t", "state": "open", "author": author,
            "openedAt": at(opened), "updatedAt": at(opened), "headRef": branch, "additions": size, "deletions": rng.below(40)});
        push(json!({ "pullRequests": [open] }));
        let end = opened + 20 + rng.below(5 * 24 * 60) as i64;
        match rng.below(4) {
            0 => {}
            1 => push(
                json!({"pullRequests": [{"repository": repo, "number": number, "title": "t", "state": "closed", "author": author,
                "openedAt": at(opened), "closedAt": at(end), "updatedAt": at(end), "headRef": branch}]}),
            ),
            _ => {
                push(
                    json!({"pullRequests": [{"repository": repo, "number": number, "title": "t2", "state": "merged", "author": author,
                    "openedAt": at(opened), "mergedAt": at(end), "updatedAt": at(end), "headRef": branch}]}),
                );
                merged.push((number, end));
            }
        }
        for r in 0..rng.below(3) as i64 {
            let when = opened + 5 + rng.below(3000) as i64;
            let state = ["approved", "commented", "changes_requested"][rng.below(3) as usize];
            push(
                json!({"reviews": [{"repository": repo, "pullRequest": number, "id": format!("r{number}-{r}"),
                "reviewer": person(rng, devs), "state": state, "submittedAt": at(when)}]}),
            );
        }
    }
    let mut deployed = Vec::new();
    for n in 0..3 + rng.below(5) as i64 {
        let id = format!("d{n}");
        let ships: Vec<i64> = merged
            .iter()
            .filter(|_| rng.below(3) == 0)
            .map(|m| m.0)
            .collect();
        let latest = merged
            .iter()
            .filter(|m| ships.contains(&m.0))
            .map(|m| m.1)
            .max();
        let start = latest.unwrap_or(rng.below(14 * 24 * 60) as i64) + rng.below(600) as i64;
        let env = ["production", "production", "staging"][rng.below(3) as usize];
        let status = ["success", "success", "failure", "pending"][rng.below(4) as usize];
        let with_repo = !ships.is_empty() || rng.below(2) == 0;
        let mut d =
            json!({"id": id, "environment": env, "status": "pending", "startedAt": at(start)});
        if with_repo {
            d["repository"] = json!(repo);
            d["pullRequests"] = json!(ships);
        }
        push(json!({ "deployments": [d.clone()] }));
        if status != "pending" {
            d["status"] = json!(status);
            d["finishedAt"] = json!(at(start + 5 + rng.below(60) as i64));
            push(json!({ "deployments": [d] }));
        }
        deployed.push((id, start));
    }
    for n in 0..2 + rng.below(4) {
        let (cause, after) = deployed[rng.below(deployed.len() as u64) as usize].clone();
        let opened = after + rng.below(600) as i64;
        let mut i = json!({"id": format!("i{n}"), "title": "down", "openedAt": at(opened), "updatedAt": at(opened)});
        if rng.below(8) > 0 {
            i["causedBy"] = json!(cause);
        }
        push(json!({ "incidents": [i.clone()] }));
        if rng.below(4) > 0 {
            let resolved = opened + 1 + rng.below(3000) as i64;
            i["resolvedAt"] = json!(at(resolved));
            i["updatedAt"] = json!(at(resolved));
            push(json!({ "incidents": [i] }));
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Send,
    AddMember,
    RemoveMember,
    Link,
    Unlink,
    Rebuild,
    Disconnect,
    DeleteProject,
}

struct Mix {
    app: TestApp,
    org: OrgId,
    token: String,
    rng: Lcg,
    devs: Vec<Dev>,
    spaces: Vec<TeamSpaceId>,
    members: BTreeSet<(usize, usize)>,
    sources: Vec<Source>,
    batches: Vec<Batch>,
    sent: usize,
}

impl Mix {
    async fn open(seed: u64) -> Mix {
        let app = TestApp::spawn().await;
        let d = Delivery::new(&app, "recount").await;
        set_time_zone(&app, &d.token, "Pacific/Auckland").await.ok();
        let mut devs = Vec::new();
        for name in ["Ann One", "Ben Two", "Cid Three", "Dee Four"] {
            devs.push(d.developer(&app, name).await);
        }
        let mut spaces = Vec::new();
        for name in ["Red", "Blue"] {
            spaces.push(app.team_space(d.org, name).await);
        }
        let mut sources = vec![Source {
            project: d.project,
            repository: d.repository,
            full_name: "acme/api".into(),
            key: d.key.clone(),
            gone: false,
        }];
        for (name, repo) in [("Web", "acme/web"), ("Ops", "acme/ops")] {
            let project = app.project(d.org, None, name).await;
            let repository = raw_repository(&app, d.org, project, repo).await;
            let key = create_key(&app, &d.token, "DELIVERY_WRITE", Some(project)).await;
            sources.push(Source {
                project,
                repository,
                full_name: repo.into(),
                key: key.secret,
                gone: false,
            });
        }
        let mut rng = Lcg(seed);
        let mut batches = Vec::new();
        for (s, source) in sources.iter().enumerate() {
            batches.extend(history(&mut rng, s, &source.full_name, &devs));
        }
        for i in (1..batches.len()).rev() {
            batches.swap(i, rng.below(i as u64 + 1) as usize);
        }
        Mix {
            app,
            org: d.org,
            token: d.token,
            rng,
            devs,
            spaces,
            members: BTreeSet::new(),
            sources,
            batches,
            sent: 0,
        }
    }

    async fn run(&mut self, op: Op) -> String {
        match op {
            Op::Send => self.send().await,
            Op::AddMember => {
                let m = (self.rng.below(2) as usize, self.rng.below(4) as usize);
                if self.members.insert(m) {
                    let dev = self.devs[m.1].id;
                    (self.app)
                        .member(self.org, self.spaces[m.0], dev, TeamSpaceRole::Member)
                        .await;
                }
                format!("member {m:?}")
            }
            Op::RemoveMember => {
                let Some(m) = self.members.iter().next().copied() else {
                    return "no member".into();
                };
                self.members.remove(&m);
                let remove = r#"mutation($s: ID!, $d: ID!) { removeTeamSpaceMember(input: { teamSpaceId: $s, developerId: $d }) { removedDeveloperId } }"#;
                let vars = json!({ "s": self.spaces[m.0].gid(), "d": self.devs[m.1].id.gid() });
                self.app.gql(&self.token, remove, vars).await.ok();
                format!("removed {m:?}")
            }
            Op::Link | Op::Unlink => {
                use devgraph::service::delivery::{facts::IdentityRef, identity};
                let ghost = format!("ghost{}", self.rng.below(3));
                let ctx = TenantCtx::unsafe_system(self.org);
                let key = IdentityRef::new(IdentityKind::Github, &ghost).expect("ref");
                if let Op::Link = op {
                    let d = self.rng.below(4) as usize;
                    let key = identity::IdentityKey::Named(key);
                    identity::link(
                        &ctx,
                        self.app.db(),
                        &devgraph::service::live::Live::off(),
                        key,
                        self.devs[d].id,
                    )
                    .await
                    .expect("link");
                    return format!("linked {ghost} to {d}");
                }
                use sea_orm::{ColumnTrait, QueryFilter};
                let found = entity::identity::Entity::find_in(self.org)
                    .filter(entity::identity::Column::Value.eq(ghost.clone()))
                    .one(self.app.db())
                    .await
                    .expect("identity");
                let Some(row) = found else {
                    return format!("{ghost} unseen");
                };
                let id = devgraph::ids::IdentityId::from_db(row.id);
                identity::unlink(
                    &ctx,
                    self.app.db(),
                    &devgraph::service::live::Live::off(),
                    id,
                )
                .await
                .expect("unlink");
                format!("unlinked {ghost}")
            }
            Op::Rebuild => {
                let zone =
                    ["Asia/Kolkata", "America/Los_Angeles", "UTC"][self.rng.below(3) as usize];
                set_time_zone(&self.app, &self.token, zone).await.ok();
                let ctx = TenantCtx::unsafe_system(self.org);
                let n = devgraph::service::delivery::metrics::refresh::rebuild(&ctx, self.app.db())
                    .await
                    .expect("rebuild");
                format!("rebuilt {n} sources in {zone}")
            }
            Op::Disconnect => {
                let s = 1;
                let ctx = TenantCtx::unsafe_system(self.org);
                devgraph::service::repository::disconnect(
                    &ctx,
                    self.app.db(),
                    &devgraph::service::live::Live::off(),
                    self.sources[s].repository,
                )
                .await
                .expect("disconnect");
                self.sources[s].gone = true;
                format!("disconnected source {s}")
            }
            Op::DeleteProject => {
                let s = 2;
                let delete = r#"mutation($id: ID!) { deleteProject(input: { id: $id }) { deletedProjectId } }"#;
                let vars = json!({ "id": self.sources[s].project.gid() });
                self.app.gql(&self.token, delete, vars).await.ok();
                self.sources[s].gone = true;
                format!("deleted project of source {s}")
            }
        }
    }

    async fn send(&mut self) -> String {
        // A few facts at a time, in the shuffled order.
        let n = 1 + self.rng.below(4) as usize;
        let mut said = Vec::new();
        for _ in 0..n {
            let Some(batch) = self.batches.get(self.sent) else {
                break;
            };
            self.sent += 1;
            let source = &self.sources[batch.source];
            if source.gone {
                continue;
            }
            let reply = post_delivery(&self.app, &source.key, &batch.body).await;
            assert_eq!(reply.status, 202, "{} → {:?}", batch.body, reply.body);
            said.push(batch.body.to_string());
        }
        format!("sent {}", said.join(" "))
    }

    async fn check(&self, seed: u64, steps: &[String]) -> usize {
        let raw = raw(&self.app, self.org).await;
        let want = raw.recount();
        let (rollup, ledger) = stored(&self.app, self.org).await;
        let context = || format!("seed {seed} after {} steps: {steps:#?}", steps.len());
        if rollup != want {
            let missing: Vec<_> = want
                .iter()
                .filter(|(k, v)| rollup.get(*k) != Some(v))
                .collect();
            let extra: Vec<_> = rollup
                .iter()
                .filter(|(k, v)| want.get(*k) != Some(v))
                .collect();
            panic!(
                "rollup differs: want {missing:#?}\n got {extra:#?}\n{}",
                context()
            );
        }
        assert_eq!(ledger, want, "the ledger sums to the rollup: {}", context());
        // Team spaces through the API: their current members' rows.
        let q = r#"query($s: ID!) { node(id: $s) { ... on TeamSpace {
            delivery(from: "2026-09-20", to: "2026-11-10", interval: ALL) { dora { deployments } flow { opened merged reviews } } } } }"#;
        for (i, space) in self.spaces.iter().enumerate() {
            let members: BTreeSet<Uuid> = (self.members.iter())
                .filter(|(s, _)| *s == i)
                .map(|(_, d)| self.devs[*d].id.uuid())
                .collect();
            let sum = |metric: &str, tier: &str| -> i64 {
                (want.iter())
                    .filter(|(k, _)| members.contains(&k.1) && k.4 == metric && k.3 == tier)
                    .map(|(_, n)| *n)
                    .sum()
            };
            let r = self
                .app
                .gql(&self.token, q, json!({ "s": space.gid() }))
                .await;
            let period = &r.ok()["node"]["delivery"][0];
            assert_eq!(period["flow"]["opened"], sum("opened", ""), "{}", context());
            assert_eq!(period["flow"]["merged"], sum("merged", ""), "{}", context());
            assert_eq!(
                period["flow"]["reviews"],
                sum("reviews", ""),
                "{}",
                context()
            );
            let deployments = sum("deployments", "production") as f64 / SHARE as f64;
            let got = period["dora"]["deployments"].as_f64().expect("deployments");
            assert!(
                (got - deployments).abs() < 1e-9,
                "{got} ≠ {deployments}: {}",
                context()
            );
        }
        want.len()
    }
}

async fn run_mix(seed: u64) {
    println!("delivery mix seed: {seed} (DELIVERY_SEED={seed} replays it)");
    let mut mix = Mix::open(seed).await;
    let mut ops: Vec<Op> = vec![Op::Rebuild, Op::Rebuild];
    for _ in 0..8 {
        ops.extend([Op::AddMember, Op::Link]);
    }
    for _ in 0..4 {
        ops.extend([Op::RemoveMember, Op::Unlink]);
    }
    let sends = mix.batches.len() / 2 + 1;
    ops.extend(std::iter::repeat_n(Op::Send, sends));
    for i in (1..ops.len()).rev() {
        ops.swap(i, mix.rng.below(i as u64 + 1) as usize);
    }
    // The repository goes and the project is deleted in the second half, once they have
    // something to take with them.
    for op in [Op::Disconnect, Op::DeleteProject] {
        let at = ops.len() / 2 + mix.rng.below(ops.len() as u64 / 2) as usize;
        ops.insert(at, op);
    }
    let mut steps = Vec::new();
    let mut most = 0;
    for op in &ops {
        steps.push(format!("{op:?}: {}", mix.run(*op).await));
        most = most.max(mix.check(seed, &steps).await);
    }
    // The rest of the history, then the last check.
    while mix.sent < mix.batches.len() {
        steps.push(mix.send().await);
    }
    most = most.max(mix.check(seed, &steps).await);
    assert!(most > 50, "seed {seed}: the rollup had {most} rows at most");
}

#[tokio::test]
async fn the_delivery_rollup_equals_a_recount_after_a_random_mix_of_changes() {
    let seed = std::env::var("DELIVERY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_micros() as u64);
    run_mix(seed).await;
    // A second history: a path one history reaches only by chance (an incident naming a
    // deployment that nothing else recomputes before the next check) is then rarely missed.
    if std::env::var("DELIVERY_SEED").is_err() {
        run_mix(seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1)).await;
    }
}
