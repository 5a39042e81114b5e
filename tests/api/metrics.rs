//! Day-based metrics: `Organization.metrics`, `TeamSpace.metrics` and
//! `Project.metrics` against counts computed from what the test sent, date
//! range checks, `Developer.activity` (and its statement count), and
//! `Project.eventNames` / `eventMeta`.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::{Gid, TestApp, backend_name, create_key, events::*, shop::*, site::Site};
use chrono::{DateTime, Duration, NaiveDate};
use entity::enums::DeveloperRole;
use serde_json::{Value, json};

const GROUPINGS: &[&[&str]] = &[
    &[],
    &["DAY"],
    &["WEEK"],
    &["EVENT_NAME"],
    &["DEVELOPER"],
    &["TEAM_SPACE"],
    &["PROJECT"],
    &["DAY", "EVENT_NAME"],
    &["WEEK", "PROJECT"],
    &["DAY", "WEEK"],
    &["DEVELOPER", "EVENT_NAME"],
    &["TEAM_SPACE", "DAY"],
    &["PROJECT", "DEVELOPER", "EVENT_NAME"],
    &["TEAM_SPACE", "PROJECT", "WEEK"],
];

/// Filters worth crossing with groupings: (label, how to apply it).
type Narrow = fn(Ask) -> Ask;

fn filters() -> Vec<(&'static str, Narrow)> {
    vec![
        ("none", |a| a),
        ("eventNames [commit]", |a| Ask {
            names: Some(vec!["commit"]),
            ..a
        }),
        ("eventNames [commit, deploy]", |a| Ask {
            names: Some(vec!["commit", "deploy"]),
            ..a
        }),
        ("eventNames [nothing]", |a| Ask {
            names: Some(vec!["nothing"]),
            ..a
        }),
        ("projectIds [0]", |a| Ask {
            projects: Some(vec![0]),
            ..a
        }),
        ("projectIds [0, 2]", |a| Ask {
            projects: Some(vec![0, 2]),
            ..a
        }),
        ("developerIds [alice, bob]", |a| Ask {
            devs: Some(vec![0, 1]),
            ..a
        }),
        ("developerIds [dave]", |a| Ask {
            devs: Some(vec![3]),
            ..a
        }),
        ("teamSpaceIds [0]", |a| Ask {
            spaces: Some(vec![0]),
            ..a
        }),
        ("teamSpaceIds [0, 1]", |a| Ask {
            spaces: Some(vec![0, 1]),
            ..a
        }),
        ("names + spaces + projects", |a| Ask {
            names: Some(vec!["review"]),
            spaces: Some(vec![1]),
            projects: Some(vec![1, 2]),
            ..a
        }),
        ("a week's range", |a| Ask {
            from: days_ago(10),
            to: days_ago(4),
            ..a
        }),
    ]
}

async fn check_all(shop: &Shop, scope: Scope, groupings: &[&[&'static str]]) -> Vec<String> {
    let mut failures = Vec::new();
    for (label, apply) in filters() {
        for g in groupings {
            let ask = apply(Ask::new(scope).by(g));
            // Whether a team space's metrics narrowed to another team space
            // means "its developers also in that one" is not specified.
            let space_in_space = matches!(scope, Scope::Space(_)) && ask.spaces.is_some();
            // The ungrouped total of nothing has its own test.
            let empty_total = g.is_empty() && shop.expected(&ask)["{}"] == 0;
            if !space_in_space && !empty_total {
                failures.extend(shop.check(ask).await.map(|f| format!("[{label}] {f}")));
            }
        }
    }
    failures
}

#[tokio::test]
async fn organization_metrics_match_what_was_ingested() {
    let shop = Shop::open().await;
    assert!(shop.facts.len() == 240 && shop.expected(&Ask::new(Scope::Org))["{}"] == 240);
    let failures = check_all(&shop, Scope::Org, GROUPINGS).await;
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
}

#[tokio::test]
async fn team_space_metrics_count_a_developer_in_each_of_their_spaces() {
    let shop = Shop::open().await;
    let mut failures = Vec::new();
    for s in 0..2 {
        failures.extend(check_all(&shop, Scope::Space(s), &GROUPINGS[..8]).await);
    }
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
    // alice (both spaces) counts in each: the two spaces together exceed the
    // events of their distinct developers by exactly alice's events.
    let total = |ask: Ask| shop.expected(&ask)["{}"];
    let alice = total(Ask {
        devs: Some(vec![0]),
        ..Ask::new(Scope::Org)
    });
    let distinct = total(Ask {
        spaces: Some(vec![0, 1]),
        ..Ask::new(Scope::Org)
    });
    let (s0, s1) = (
        total(Ask::new(Scope::Space(0))),
        total(Ask::new(Scope::Space(1))),
    );
    assert!(alice > 0);
    assert_eq!(s0 + s1, distinct + alice);
}

#[tokio::test]
async fn project_metrics_count_that_project_only() {
    let shop = Shop::open().await;
    let mut failures = Vec::new();
    for p in 0..3 {
        failures.extend(check_all(&shop, Scope::Project(p), &GROUPINGS[..8]).await);
    }
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
}

#[tokio::test]
async fn metric_rows_resolve_their_developer_team_space_and_project() {
    let shop = Shop::open().await;
    let q = r#"query($f: Date!, $t: Date!) { organization { metrics(from: $f, to: $t,
        groupBy: [DEVELOPER, TEAM_SPACE, PROJECT]) { developerId developer { id name }
        teamSpaceId teamSpace { id } projectId project { id } count } } }"#;
    let r = shop
        .app
        .gql(&shop.token, q, json!({ "f": days_ago(30), "t": today() }))
        .await;
    let rows = r.ok()["organization"]["metrics"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["developer"]["id"], row["developerId"], "{row}");
        assert_eq!(row["teamSpace"]["id"], row["teamSpaceId"], "{row}");
        assert_eq!(row["project"]["id"], row["projectId"], "{row}");
        assert!(
            !row["developerId"].is_null() && !row["teamSpaceId"].is_null(),
            "{row}"
        );
    }
    // Grouped by DEVELOPER alone, strangers and nobody share the null row.
    let q = r#"query($f: Date!, $t: Date!) { organization { metrics(from: $f, to: $t,
        groupBy: [DEVELOPER]) { developerId developer { id } count } } }"#;
    let r = shop
        .app
        .gql(&shop.token, q, json!({ "f": days_ago(30), "t": today() }))
        .await;
    let rows = r.ok()["organization"]["metrics"]
        .as_array()
        .unwrap()
        .clone();
    let nulls: Vec<&Value> = rows.iter().filter(|r| r["developerId"].is_null()).collect();
    let unknown = shop
        .facts
        .iter()
        .filter(|f| !matches!(f.who, Who::Dev(_)))
        .count();
    assert_eq!(
        nulls,
        vec![&json!({ "developerId": null, "developer": null, "count": unknown })]
    );
    // Those rows are keyed by the nil uuid, but as an id it names nobody:
    // a filter holding it matches nothing, alone or beside a real developer.
    let nobody = devgraph::ids::DeveloperId::from_db(uuid::Uuid::nil()).gid();
    let q = r#"query($f: Date!, $t: Date!, $d: [ID!]) { organization { metrics(from: $f,
        to: $t, filter: { developerIds: $d }) { count } } }"#;
    let total = |ids: Vec<String>| {
        let vars = json!({ "f": days_ago(30), "t": today(), "d": ids });
        let (app, token) = (&shop.app, &shop.token);
        async move { app.gql(token, q, vars).await.ok()["organization"]["metrics"][0]["count"].clone() }
    };
    assert!(unknown > 0);
    assert_eq!(total(vec![nobody.clone()]).await, json!(0));
    let (somebody, theirs) = shop
        .facts
        .iter()
        .find_map(|f| match f.who {
            Who::Dev(d) => Some(d),
            _ => None,
        })
        .map(|d| {
            let n = shop
                .facts
                .iter()
                .filter(|f| matches!(f.who, Who::Dev(x) if x == d))
                .count();
            (d, n)
        })
        .unwrap();
    let somebody = shop.devs[somebody].gid();
    assert_eq!(total(vec![somebody.clone(), nobody]).await, json!(theirs));
}

#[tokio::test]
async fn metric_date_ranges_are_checked() {
    let app = TestApp::spawn().await;
    let (org, dev, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let space = app.team_space(org, "Space").await.gid();
    let project = app.project(org, None, "app").await.gid();
    let q = r#"query($f: Date!, $t: Date!, $s: ID!, $p: ID!, $d: ID!) {
        organization { metrics(from: $f, to: $t, groupBy: [DAY]) { count } }
        teamSpace(id: $s) { metrics(from: $f, to: $t, groupBy: [DAY]) { count } }
        project(id: $p) { metrics(from: $f, to: $t, groupBy: [DAY]) { count } }
        developer(id: $d) { activity(from: $f, to: $t) { day } } }"#;
    let to = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let ids = json!({ "s": space, "p": project, "d": dev.id.gid() });
    let run = |from: NaiveDate| {
        let mut vars = ids.clone();
        vars["f"] = json!(from);
        vars["t"] = json!(to);
        app.gql(&token, q, vars)
    };
    let backwards = run(to + Duration::days(1)).await;
    assert_eq!(
        backwards.codes(),
        vec!["BAD_USER_INPUT"; 4],
        "{:?}",
        backwards.body
    );
    let too_long = run(to - Duration::days(400)).await; // 401 days, inclusive
    assert_eq!(
        too_long.codes(),
        vec!["LIMIT_EXCEEDED"; 4],
        "{:?}",
        too_long.body
    );
    let longest = run(to - Duration::days(399)).await; // 400 days
    let data = longest.ok();
    assert_eq!(data["developer"]["activity"].as_array().unwrap().len(), 400);
    // The maximum is configurable.
    let app = TestApp::spawn_with(|c| c.limits.max_metrics_days = 31).await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let q = "query($f: Date!, $t: Date!) { organization { metrics(from: $f, to: $t, groupBy: [DAY]) { count } } }";
    let r = app
        .gql(&token, q, json!({ "f": to - Duration::days(31), "t": to }))
        .await;
    assert_eq!(r.code(), Some("LIMIT_EXCEEDED"), "{:?}", r.body);
    let r = app
        .gql(&token, q, json!({ "f": to - Duration::days(30), "t": to }))
        .await;
    r.ok();
}

#[tokio::test]
async fn developer_activity_has_one_row_per_day_including_empty_days() {
    let shop = Shop::open().await;
    let (from, to) = (days_ago(20), today());
    let q = r#"query($id: ID!, $f: Date!, $t: Date!) { developer(id: $id) {
        all: activity(from: $f, to: $t) { day count }
        commits: activity(from: $f, to: $t, eventNames: ["commit"]) { day count }
        narrow: activity(from: $t, to: $t) { day count } } }"#;
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    for (d, dev) in shop.devs.iter().enumerate() {
        let vars = json!({ "id": dev.id.gid(), "f": from, "t": to });
        let r = shop.app.gql(&shop.token, q, vars).await;
        let data = &r.ok()["developer"];
        let series = |names: &[&str]| -> Value {
            let count = |day: &NaiveDate| {
                let of = |f: &&Fact| f.who == Who::Dev(d) && f.day == *day;
                shop.facts
                    .iter()
                    .filter(of)
                    .filter(|f| names.contains(&f.name))
                    .count()
            };
            json!(
                days.iter()
                    .map(|day| json!({ "day": day, "count": count(day) }))
                    .collect::<Vec<_>>()
            )
        };
        assert_eq!(data["all"], series(&NAMES), "developer {d}");
        assert_eq!(data["commits"], series(&["commit"]), "developer {d}");
        assert_eq!(data["narrow"], json!([{ "day": to, "count": 0 }]));
        let zero_days = data["all"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["count"] == 0);
        assert!(zero_days.count() > 0, "the range has days without events");
    }
}

/// Statements for one page of `n` developers with their activity (after a
/// warm-up), and the events that page reports.
async fn activity_statements(n: usize) -> (u64, i64) {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let mut events = Vec::new();
    for i in 0..n {
        let dev = app
            .developer(s.org, &format!("Dev {i:02}"), DeveloperRole::Member)
            .await;
        for k in 0..3 {
            let id = format!("d{i}-{k}");
            events.push(ev(
                &id,
                "commit",
                Some(&dev.email),
                noon(1 + (i + k) as i64 % 7),
            ));
        }
    }
    send(&app, &s.key.secret, events).await;
    let q = r#"query($f: Date!, $t: Date!) { developers(first: 60) { edges { node { id
        activity(from: $f, to: $t) { day count } } } } }"#;
    let vars = json!({ "f": days_ago(10), "t": today() });
    app.gql(&s.token, q, vars.clone()).await.ok();
    let before = app.statements();
    let r = app.gql(&s.token, q, vars).await;
    let statements = app.statements() - before;
    let edges = r.ok()["developers"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), n + 1, "the owner and {n} developers");
    let total = edges
        .iter()
        .flat_map(|e| e["node"]["activity"].as_array().unwrap().clone());
    (
        statements,
        total.map(|r| r["count"].as_i64().unwrap()).sum(),
    )
}

#[tokio::test]
async fn developer_activity_statement_count_does_not_grow_with_developers() {
    let (small, small_events) = activity_statements(5).await;
    let (large, large_events) = activity_statements(50).await;
    assert_eq!((small_events, large_events), (15, 150));
    println!(
        "[{}] activity statements: {small} for 5, {large} for 50",
        backend_name()
    );
    assert_eq!(small, large, "statements must not depend on the page size");
}

#[tokio::test]
async fn project_event_names_and_meta_come_from_what_was_sent() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let other = app.project(s.org, None, "other").await;
    let other_key = create_key(&app, &s.token, "EVENTS_WRITE", Some(other)).await;
    let with = |id: &str, name: &str, days: i64, props: Value| {
        let mut e = ev(id, name, None, noon(days));
        e["properties"] = props;
        e
    };
    let first = vec![
        with("c1", "commit", 5, json!({ "sha": "a", "branch": "main" })),
        with("c2", "commit", 3, json!({ "sha": "b" })),
        with("d1", "deploy", 4, json!({ "env": "prod" })),
    ];
    assert_eq!(send(&app, &s.key.secret, first.clone()).await, (3, 0, 0));
    let mut second = vec![
        with("c3", "commit", 7, json!({ "files": { "added": 2 } })),
        with("c4", "commit", 1, json!({})),
        with("r1", "review", 2, json!({})),
    ];
    second.push(first[0].clone()); // a retry changes nothing
    assert_eq!(send(&app, &s.key.secret, second).await, (3, 1, 0));
    let elsewhere = vec![with("b1", "build", 1, json!({ "secret": 1 }))];
    send(&app, &other_key.secret, elsewhere).await;
    let q = r#"query($p: ID!) { project(id: $p) { eventNames
        eventMeta { name totalCount firstSeen lastSeen propertyKeys } } }"#;
    let r = app.gql(&s.token, q, json!({ "p": s.project.gid() })).await;
    let project = &r.ok()["project"];
    let names: BTreeSet<&str> = project["eventNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["commit", "deploy", "review"]));
    let micros = |v: &Value| {
        DateTime::parse_from_rfc3339(v.as_str().expect("a DateTime"))
            .unwrap()
            .timestamp_micros()
    };
    let got: BTreeMap<String, (i64, i64, i64, Vec<String>)> = project["eventMeta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut keys: Vec<String> = serde_json::from_value(m["propertyKeys"].clone()).unwrap();
            keys.sort();
            let seen = (micros(&m["firstSeen"]), micros(&m["lastSeen"]));
            (
                m["name"].as_str().unwrap().to_owned(),
                (m["totalCount"].as_i64().unwrap(), seen.0, seen.1, keys),
            )
        })
        .collect();
    let t = |days| noon(days).timestamp_micros();
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let want = BTreeMap::from([
        (
            "commit".to_owned(),
            (4, t(7), t(1), keys(&["branch", "files", "sha"])),
        ),
        ("deploy".to_owned(), (1, t(4), t(4), keys(&["env"]))),
        ("review".to_owned(), (1, t(2), t(2), keys(&[]))),
    ]);
    assert_eq!(got, want);
}

/// Batches of one event name racing each other: each reads the stored
/// property keys and writes back their union with its own, so a batch that
/// read before another committed would drop that batch's key.
#[tokio::test]
async fn racing_batches_keep_every_property_key() {
    let app = TestApp::spawn().await;
    let s = Site::new(&app, "acme").await;
    let batches = 8;
    let sends = (0..batches).map(|i| {
        let mut e = ev(&format!("c{i}"), "commit", None, noon(1));
        e["properties"] = json!({ format!("key{i}"): i });
        let body = json!({ "events": [e] });
        let (app, secret) = (&app, &s.key.secret);
        async move { post_until_accepted(app, secret, &body).await }
    });
    futures_util::future::join_all(sends).await;
    let q = r#"query($p: ID!) { project(id: $p) { eventMeta { name totalCount propertyKeys } } }"#;
    let r = app.gql(&s.token, q, json!({ "p": s.project.gid() })).await;
    let meta = &r.ok()["project"]["eventMeta"][0];
    assert_eq!(meta["totalCount"], json!(batches));
    let mut keys: Vec<String> = serde_json::from_value(meta["propertyKeys"].clone()).unwrap();
    keys.sort();
    let mut want: Vec<String> = (0..batches).map(|i| format!("key{i}")).collect();
    want.sort();
    assert_eq!(keys, want);
}

#[tokio::test]
async fn ungrouped_metrics_of_nothing_are_one_zero_row() {
    let shop = Shop::open().await;
    let nothing = |scope| Ask {
        names: Some(vec!["nothing"]),
        ..Ask::new(scope)
    };
    let asks = [
        nothing(Scope::Org),
        nothing(Scope::Space(0)),
        nothing(Scope::Project(0)),
        Ask {
            devs: Some(vec![3]),
            ..Ask::new(Scope::Space(0))
        }, // dave is in no space
        Ask {
            from: days_ago(90),
            to: days_ago(60),
            ..Ask::new(Scope::Org)
        },
    ];
    let mut failures = Vec::new();
    for ask in asks {
        assert_eq!(shop.expected(&ask), BTreeMap::from([("{}".to_owned(), 0)]));
        failures.extend(shop.check(ask).await);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

const Q_SPACE: &str = r#"query($id: ID!, $f: Date!, $t: Date!) { teamSpace(id: $id) {
    metrics(from: $f, to: $t, groupBy: [DAY, EVENT_NAME]) { day eventName count } } }"#;
const Q_MEMBERS_OF_ORG: &str = r#"query($devs: [ID!]!, $f: Date!, $t: Date!) { organization {
    metrics(from: $f, to: $t, groupBy: [DAY, EVENT_NAME], filter: { developerIds: $devs })
    { day eventName count } } }"#;

/// Team-space metrics (read from the team-space rollup) equal the
/// organization's metrics filtered to each space's current members (read
/// from the per-developer rollup).
async fn assert_team_rollups_match(shop: &Shop, members: &[BTreeSet<usize>], step: &str) {
    let (app, token) = (&shop.app, shop.token.as_str());
    for (s, devs) in members.iter().enumerate() {
        let range = json!({ "f": days_ago(30), "t": today() });
        let mut vars = range.clone();
        vars["id"] = json!(shop.spaces[s].gid());
        let space = app.gql(token, Q_SPACE, vars).await;
        let got = space.ok()["teamSpace"]["metrics"].clone();
        let mut vars = range;
        vars["devs"] = json!(
            devs.iter()
                .map(|d| shop.devs[*d].id.gid())
                .collect::<Vec<_>>()
        );
        let org = app.gql(token, Q_MEMBERS_OF_ORG, vars).await;
        let want = org.ok()["organization"]["metrics"].clone();
        let expected = if devs.is_empty() { json!([]) } else { want };
        assert_eq!(got, expected, "space {s} after {step}");
        let total: i64 = got
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_i64().unwrap())
            .sum();
        assert!(
            devs.is_empty() || total > 0,
            "space {s} after {step} counts something"
        );
    }
}

const ADD_MEMBER: &str = r#"mutation($s: ID!, $d: ID!) { addTeamSpaceMember(input: { teamSpaceId: $s, developerId: $d }) { teamSpace { id } } }"#;
const REMOVE_MEMBER: &str = r#"mutation($s: ID!, $d: ID!) { removeTeamSpaceMember(input: { teamSpaceId: $s, developerId: $d }) { removedDeveloperId } }"#;

/// The rollup follows every change that moves events in or out of a team
/// space: a member added after their events were ingested, a member
/// removed, a project deleted, and more events ingested.
#[tokio::test]
async fn team_space_rollups_follow_membership_changes_and_project_deletion() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.token.as_str());
    let mut members: Vec<BTreeSet<usize>> = vec![BTreeSet::from([0, 1]), BTreeSet::from([0, 2])];
    assert_team_rollups_match(&shop, &members, "ingestion").await;

    // dave (3) joins space 0 with all his past events; alice (0) leaves space 1.
    let vars = json!({ "s": shop.spaces[0].gid(), "d": shop.devs[3].id.gid() });
    app.gql(token, ADD_MEMBER, vars).await.ok();
    members[0].insert(3);
    assert_team_rollups_match(&shop, &members, "adding a member").await;
    let vars = json!({ "s": shop.spaces[1].gid(), "d": shop.devs[0].id.gid() });
    app.gql(token, REMOVE_MEMBER, vars).await.ok();
    members[1].remove(&0);
    assert_team_rollups_match(&shop, &members, "removing a member").await;

    // The loose project's events leave every team space with it.
    let delete = r#"mutation($id: ID!) { deleteProject(input: { id: $id }) { deletedProjectId } }"#;
    app.gql(token, delete, json!({ "id": shop.projects[2].gid() }))
        .await
        .ok();
    assert_team_rollups_match(&shop, &members, "deleting a project").await;

    // New events after the changes land in the new memberships.
    let key = create_key(app, token, "EVENTS_WRITE", Some(shop.projects[0])).await;
    let late: Vec<Value> = (0..4)
        .map(|d| {
            let email = Some(shop.devs[d].email.as_str());
            ev(
                &format!("late{d}"),
                "deploy",
                email,
                at(days_ago(2), 9, 0, 0),
            )
        })
        .collect();
    send(app, &key.secret, late).await;
    assert_team_rollups_match(&shop, &members, "more ingestion").await;
}

/// Ingestion racing membership changes of the same developer: whichever
/// order the database runs them in, each batch is counted in exactly the
/// team spaces its developer belonged to when it committed.
#[tokio::test]
async fn team_space_rollups_stay_exact_when_ingestion_races_membership_changes() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.token.as_str());
    let key = create_key(app, token, "EVENTS_WRITE", Some(shop.projects[0])).await;
    let ingest = async {
        for batch in 0..12 {
            let events: Vec<Value> = (0..20)
                .map(|i| {
                    let email = Some(shop.devs[3].email.as_str());
                    let id = format!("race{batch}-{i}");
                    ev(
                        &id,
                        NAMES[i % 3],
                        email,
                        at(days_ago(1 + (i % 5) as i64), 10, 0, 0),
                    )
                })
                .collect();
            post_until_accepted(app, &key.secret, &json!({ "events": events })).await;
        }
    };
    let toggle = async {
        for round in 0..12 {
            let query = if round % 2 == 0 {
                ADD_MEMBER
            } else {
                REMOVE_MEMBER
            };
            let vars = json!({ "s": shop.spaces[1].gid(), "d": shop.devs[3].id.gid() });
            loop {
                let reply = app.gql(token, query, vars.clone()).await;
                if reply.code() != Some("SERVICE_UNAVAILABLE") {
                    reply.ok();
                    break;
                }
            }
        }
    };
    tokio::join!(ingest, toggle);
    // Twelve toggles (add, remove, ...) end where they began: dave in no space.
    let members = vec![BTreeSet::from([0, 1]), BTreeSet::from([0, 2])];
    assert_team_rollups_match(&shop, &members, "racing changes").await;
    // And once more with dave a member, so his raced events must all be there.
    let vars = json!({ "s": shop.spaces[1].gid(), "d": shop.devs[3].id.gid() });
    app.gql(token, ADD_MEMBER, vars).await.ok();
    let members = vec![BTreeSet::from([0, 1]), BTreeSet::from([0, 2, 3])];
    assert_team_rollups_match(&shop, &members, "adding him back").await;
}
