//! Stable plans: a batched load binds its set (ids, emails, event names)
//! as ONE parameter, so its statement has one text, hence one prepared
//! statement and one plan, whatever the batch size (DESIGN.md,
//! "Statements"). Each load runs with 3 and with 300 values on a connection
//! that records what it sends; the rows it returns are checked too, since
//! on SQLite the set travels as JSON and uuids are compared as blobs.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use devgraph::{
    auth::TenantCtx,
    config::{IngestLimits, Limits},
    ids::{DeveloperId, ProjectId, TeamSpaceId},
    pagination::{PageArgs, PageRequest},
    service::{
        analytics::{self, Dim, MetricFilter, MetricQuery, MetricScope},
        developer, events,
        events::EventInput,
        project, table, team_space,
    },
};
use entity::enums::{DeveloperRole, TeamSpaceRole};
use uuid::Uuid;

use crate::support::{
    Dev, TestApp, backend_name,
    recorder::{Recorder, Sent},
};

/// An organization of 6 developers in 2 team spaces with a project each,
/// every developer with a "commit" and a "review" yesterday; and a second
/// organization whose ids must never come back.
struct World {
    ctx: TenantCtx,
    devs: Vec<Dev>,
    spaces: Vec<TeamSpaceId>,
    projects: Vec<ProjectId>,
    foreign_dev: DeveloperId,
    foreign_space: TeamSpaceId,
    foreign_project: ProjectId,
}

async fn world(app: &TestApp) -> World {
    let (org, _, _) = app
        .with_org_and_developer("plans", DeveloperRole::Owner)
        .await;
    let mut spaces = Vec::new();
    let mut projects = Vec::new();
    for s in 0..2 {
        let space = app.team_space(org, &format!("Space {s}")).await;
        projects.push(app.project(org, Some(space), &format!("proj {s}")).await);
        spaces.push(space);
    }
    let mut devs = Vec::new();
    for d in 0..6 {
        let dev = app
            .developer(org, &format!("Dev {d}"), DeveloperRole::Member)
            .await;
        app.member(org, spaces[d % 2], dev.id, TeamSpaceRole::Member)
            .await;
        devs.push(dev);
    }
    let at = (Utc::now() - Duration::days(1)).to_rfc3339();
    let events = devs
        .iter()
        .flat_map(|dev| {
            ["commit", "review"].map(|name| EventInput {
                client_id: Uuid::now_v7().to_string(),
                name: name.into(),
                developer: Some(dev.email.clone()),
                occurred_at: at.clone(),
                properties: None,
            })
        })
        .collect();
    app.ingest(org, projects[0], events).await;

    let other = app.org("plans-other").await;
    let foreign_dev = app
        .developer(other, "Foreign", DeveloperRole::Member)
        .await
        .id;
    let foreign_space = app.team_space(other, "Foreign space").await;
    let foreign_project = app
        .project(other, Some(foreign_space), "Foreign project")
        .await;
    World {
        ctx: TenantCtx::unsafe_system(org),
        devs,
        spaces,
        projects,
        foreign_dev,
        foreign_space,
        foreign_project,
    }
}

/// `n` ids: `real` first (as many as fit), then another organization's,
/// then ids that exist nowhere.
fn padded(real: &[Uuid], foreign: Uuid, n: usize) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = real.iter().copied().take(n).collect();
    if out.len() < n {
        out.push(foreign);
    }
    while out.len() < n {
        out.push(Uuid::now_v7());
    }
    out
}

fn page() -> PageRequest {
    let args = PageArgs {
        first: Some(10),
        ..Default::default()
    };
    PageRequest::new(args, None, &Limits::default()).expect("page")
}

/// What one batched load sent, and what came back, at one batch size.
struct Run {
    name: &'static str,
    sent: Vec<Sent>,
    /// What the load returned, as text, for the semantics checks.
    found: BTreeSet<String>,
}

/// The sets one batch of `n` passes to the loads: developers, team spaces
/// and projects (the real ones first, then a foreign id, then ids that
/// exist nowhere) and event names ("commit", then names never sent).
struct Sets {
    devs: Vec<Uuid>,
    spaces: Vec<Uuid>,
    projects: Vec<Uuid>,
    names: Vec<String>,
}

fn sets(w: &World, n: usize) -> Sets {
    let devs: Vec<Uuid> = w.devs.iter().map(|d| d.id.uuid()).collect();
    let spaces: Vec<Uuid> = w.spaces.iter().map(|s| s.uuid()).collect();
    let projects: Vec<Uuid> = w.projects.iter().map(|p| p.uuid()).collect();
    let mut names = vec!["commit".to_owned()];
    names.extend((1..n).map(|i| format!("never-{i}")));
    Sets {
        devs: padded(&devs, w.foreign_dev.uuid(), n),
        spaces: padded(&spaces, w.foreign_space.uuid(), n),
        projects: padded(&projects, w.foreign_project.uuid(), n),
        names,
    }
}

fn texts<T: ToString>(items: impl IntoIterator<Item = T>) -> BTreeSet<String> {
    items.into_iter().map(|i| i.to_string()).collect()
}

fn metrics(names: &[String]) -> MetricQuery {
    let today = Utc::now().date_naive();
    MetricQuery {
        from: today - Duration::days(7),
        to: today,
        filter: MetricFilter {
            event_names: Some(names.to_vec()),
            ..Default::default()
        },
        group_by: vec![Dim::EventName],
        max_rows: None,
    }
}

fn metric_texts(rows: Vec<analytics::MetricRow>) -> BTreeSet<String> {
    texts(rows.iter().map(|r| {
        let scope = r.scope.map(|s| s.to_string()).unwrap_or_default();
        format!("{scope} {:?}: {}", r.event_name, r.count)
    }))
}

/// Every batched read of the Dashboard, each with sets of `n`.
async fn batched_reads(rec: &Recorder, w: &World, n: usize) -> Vec<Run> {
    let (db, ctx) = (&rec.db, &w.ctx);
    let s = sets(w, n);
    let dev_ids: Vec<DeveloperId> = s.devs.iter().copied().map(DeveloperId::from_db).collect();
    let space_ids: Vec<TeamSpaceId> = s.spaces.iter().copied().map(TeamSpaceId::from_db).collect();
    let q = metrics(&s.names);
    let mut runs = Vec::new();
    let mut record = |name, found| {
        runs.push(Run {
            name,
            sent: rec.take(),
            found,
        })
    };
    rec.take();

    let rows = table::by_ids::<entity::developer::Entity>(ctx, db, &dev_ids)
        .await
        .expect("by_ids");
    record("table::by_ids", texts(rows.iter().map(|r| r.id)));

    let rows = team_space::of_developers(ctx, db, &dev_ids, &Default::default(), &page())
        .await
        .expect("team spaces of developers");
    record(
        "team_space::of_developers",
        texts(rows.iter().map(|r| r.parent)),
    );

    let rows = developer::of_team_spaces(ctx, db, &space_ids, &Default::default(), &page())
        .await
        .expect("developers of team spaces");
    record(
        "developer::of_team_spaces",
        texts(rows.iter().map(|r| r.item.id)),
    );

    let rows = project::of_team_spaces(ctx, db, &space_ids, &Default::default(), &page())
        .await
        .expect("projects of team spaces");
    record(
        "project::of_team_spaces",
        texts(rows.iter().map(|r| r.item.id)),
    );

    let (from, to) = (q.from, q.to);
    let activity = analytics::activity(ctx, db, &s.devs, from, to, Some(&s.names))
        .await
        .expect("activity");
    let found = activity
        .iter()
        .map(|(dev, days)| format!("{dev}: {}", days.values().sum::<i64>()));
    record("analytics::activity", texts(found));

    let scope = MetricScope::TeamSpaces(s.spaces.clone());
    let rows = analytics::query(ctx, db, &scope, &q)
        .await
        .expect("team space metrics");
    record("analytics::query (team spaces)", metric_texts(rows));

    let scope = MetricScope::Projects(s.projects.clone());
    let rows = analytics::query(ctx, db, &scope, &q)
        .await
        .expect("project metrics");
    record("analytics::query (projects)", metric_texts(rows));

    runs
}

/// A variable-length list would show as `IN ($1, …` or `IN (?, …`.
fn assert_no_in_list(sent: &Sent) {
    let sql = sent.sql.replace(' ', "");
    assert!(
        !sql.contains("IN($") && !sql.contains("IN(?"),
        "an IN list of parameters: {}",
        sent.sql
    );
}

#[tokio::test]
async fn batched_reads_have_one_text_and_one_parameter_per_set() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let rec = Recorder::on(&app).await;
    let small = batched_reads(&rec, &w, 3).await;
    let large = batched_reads(&rec, &w, 300).await;

    for (s, l) in small.iter().zip(&large) {
        let name = s.name;
        assert_eq!(s.sent.len(), 1, "{name}: one statement: {:?}", s.sent);
        assert_eq!(l.sent.len(), 1, "{name}: one statement: {:?}", l.sent);
        let (s, l) = (&s.sent[0], &l.sent[0]);
        assert_eq!(s.sql, l.sql, "{name}: one text for 3 values and for 300");
        assert_eq!(
            s.values.len(),
            l.values.len(),
            "{name}: as many parameters for 3 values as for 300"
        );
        let (s_sets, l_sets) = (s.set_sizes(), l.set_sizes());
        assert!(!s_sets.is_empty(), "{name}: a set parameter: {s:?}");
        assert!(s_sets.iter().all(|k| *k == 3), "{name}: {s_sets:?}");
        assert!(l_sets.iter().all(|k| *k == 300), "{name}: {l_sets:?}");
        assert_eq!(s_sets.len(), l_sets.len(), "{name}");
        assert_no_in_list(s);
        println!(
            "[{}] {name}: {} parameter(s), {} set(s)",
            backend_name(),
            s.values.len(),
            s_sets.len()
        );
    }
    let activity = &small.iter().find(|r| r.name == "analytics::activity");
    println!(
        "[{}] activity: {}",
        backend_name(),
        activity.map(|r| r.sent[0].sql.as_str()).unwrap_or_default()
    );

    // What came back: the caller's rows named in the set, nothing of the
    // other organization, nothing for ids that exist nowhere.
    // Each team space has 3 of the developers, each developer one commit
    // (and one review, which the name filter leaves out), all in the first
    // project.
    let devs = |d: &[Dev]| texts(d.iter().map(|d| d.id.uuid()));
    let counted = |d: &[Dev]| texts(d.iter().map(|d| format!("{}: 1", d.id.uuid())));
    let projects = texts(w.projects.iter().map(|p| p.uuid()));
    let commits = |id: Uuid, count: i64| format!("{id} Some(\"commit\"): {count}");
    let per_space = texts(w.spaces.iter().map(|s| commits(s.uuid(), 3)));
    let per_project = texts([commits(w.projects[0].uuid(), 6)]);
    let expect = |n: usize| -> Vec<BTreeSet<String>> {
        let named = &w.devs[..n.min(w.devs.len())];
        vec![
            devs(named),
            devs(named),
            devs(&w.devs),
            projects.clone(),
            counted(named),
            per_space.clone(),
            per_project.clone(),
        ]
    };
    for (runs, n) in [(&small, 3), (&large, 300)] {
        for (run, want) in runs.iter().zip(expect(n)) {
            assert_eq!(run.found, want, "{} with {n} values", run.name);
        }
    }
}

/// An empty set matches nothing, as an empty `IN ()` did.
#[tokio::test]
async fn empty_sets_match_nothing() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let rec = Recorder::on(&app).await;
    let (db, ctx) = (&rec.db, &w.ctx);
    let rows = table::by_ids::<entity::developer::Entity>(ctx, db, &[])
        .await
        .expect("by_ids");
    assert!(rows.is_empty());
    let q = metrics(&[]);
    let activity = analytics::activity(ctx, db, &[], q.from, q.to, None)
        .await
        .expect("activity");
    assert!(activity.is_empty());
    let rows = analytics::query(ctx, db, &MetricScope::Organization, &q)
        .await
        .expect("metrics");
    assert!(rows.is_empty(), "no event names: {rows:?}");
    let all = metrics(&["commit".to_owned()]);
    let rows = analytics::query(ctx, db, &MetricScope::Organization, &all)
        .await
        .expect("metrics");
    assert_eq!(rows.len(), 1, "and one name finds its rows: {rows:?}");
}

/// Ingestion's lookups (developers by email and by id, event metadata by
/// name, memberships by developer) bind one parameter per set too, and
/// still match: 3 known developers among `n` named ones.
async fn ingest_batch(rec: &Recorder, w: &World, n: usize) -> Vec<Sent> {
    let at = (Utc::now() - Duration::days(1)).to_rfc3339();
    let events = (0..n)
        .map(|i| EventInput {
            client_id: Uuid::now_v7().to_string(),
            name: format!("ingest-{n}-{i}"),
            developer: Some(match i {
                0 => w.devs[0].email.clone(),
                1 => w.devs[1].id.uuid().to_string(),
                2 => w.devs[2].email.clone(),
                _ => format!("ghost{i}@nowhere.test"),
            }),
            occurred_at: at.clone(),
            properties: None,
        })
        .collect();
    rec.take();
    let ingested = events::ingest(
        &w.ctx,
        &rec.db,
        &devgraph::service::live::Live::off(),
        w.projects[1],
        events,
        &IngestLimits::default(),
    )
    .await
    .expect("ingest");
    assert_eq!(ingested.accepted, n as u64);
    assert_eq!(ingested.unmatched, n as u64 - 3, "3 developers found");
    rec.take()
        .into_iter()
        .filter(|s| !s.set_sizes().is_empty())
        .collect()
}

#[tokio::test]
async fn ingestion_lookups_have_one_text_and_one_parameter_per_set() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let rec = Recorder::on(&app).await;
    // Both sizes name unknown emails, whose identities are looked up and stored as sets too.
    let small = ingest_batch(&rec, &w, 4).await;
    let large = ingest_batch(&rec, &w, 300).await;
    let sql = |sent: &[Sent]| sent.iter().map(|s| s.sql.clone()).collect::<Vec<_>>();
    assert!(small.len() >= 3, "the lookups bind sets: {:?}", sql(&small));
    assert_eq!(
        sql(&small),
        sql(&large),
        "one text for 4 events and for 300"
    );
    for (s, l) in small.iter().zip(&large) {
        assert_eq!(s.values.len(), l.values.len(), "{}", s.sql);
        assert_no_in_list(s);
    }
}
