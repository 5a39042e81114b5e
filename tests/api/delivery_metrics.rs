//! `delivery(from, to, interval, environmentTier)`: the DORA keys and pull-request flow of a
//! small history worked out by hand, per organization, project, team space (its current
//! members) and developer; percentiles against exact ones at two sizes; tenancy; and the
//! statement count of a delivery dashboard at two sizes.

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::enums::{DeveloperRole, TeamSpaceRole};
use serde_json::{Value, json};

use crate::support::{
    Dev, Gid, TestApp,
    forge::{Delivery, post_delivery},
    random::Lcg,
};

fn t0() -> DateTime<Utc> {
    // A Monday.
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("time")
}

fn at(hours: f64) -> String {
    (t0() + Duration::seconds((hours * 3600.0) as i64)).to_rfc3339()
}

const HOUR: f64 = 3600.0;

const PERIOD: &str = "from to
    dora { deployments deploymentsPerDay deploymentFrequencyLevel
           leadTime { count p50 p75 p90 } leadTimeLevel
           failedDeployments changeFailureRate changeFailureRateLevel
           timeToRestore { count p50 p90 } timeToRestoreLevel percentileRelativeError }
    flow { opened merged closed reviews
           cycleTime { count p50 p90 } codingTime { count p50 } pickupTime { count p50 p90 }
           reviewTime { count p50 p90 } deployTime { count p50 p90 }
           reviewLoad { developer { id } reviews } sizes { xs s m l xl } }";

/// The history, all in the week of 2 November 2026 (UTC):
/// - Ada's #1: first commit at 0h, opened 2h, Bob's approval 3h, merged 6h, 35 lines;
/// - Bob's #2: opened 1h (no commit known), Ada's review 25h, merged 49h, 300 lines;
/// - Cy's #3: opened 4h, closed unmerged 5h;
/// - production deployments d1 (ships #1, finished 8h), d2 (ships #1 and #2, finished 50h),
///   d4 (ships nothing, failed at 51h); staging d3 (ships #1, finished 9h);
/// - incident i1, caused by d2, opened 52h and resolved 54h.
fn history(ada: &Dev, bob: &Dev, cy: &Dev) -> Vec<Value> {
    let repo = "acme/api";
    let who = |d: &Dev| json!({"email": d.email});
    vec![
        json!({"commits": [{"repository": repo, "sha": "a1", "branch": "feat/one", "authoredAt": at(0.0), "author": who(ada)}]}),
        json!({"pullRequests": [
            {"repository": repo, "number": 1, "title": "One", "state": "merged", "author": who(ada), "openedAt": at(2.0), "mergedAt": at(6.0), "headRef": "feat/one", "additions": 30, "deletions": 5},
            {"repository": repo, "number": 2, "title": "Two", "state": "merged", "author": who(bob), "openedAt": at(1.0), "mergedAt": at(49.0), "additions": 200, "deletions": 100},
            {"repository": repo, "number": 3, "title": "Three", "state": "closed", "author": who(cy), "openedAt": at(4.0), "closedAt": at(5.0)}]}),
        json!({"reviews": [
            {"repository": repo, "pullRequest": 1, "id": "r1", "reviewer": who(bob), "state": "approved", "submittedAt": at(3.0)},
            {"repository": repo, "pullRequest": 2, "id": "r2", "reviewer": who(ada), "state": "commented", "submittedAt": at(25.0)}]}),
        json!({"deployments": [
            {"id": "d1", "environment": "production", "status": "success", "startedAt": at(7.0), "finishedAt": at(8.0), "repository": repo, "pullRequests": [1]},
            {"id": "d2", "environment": "production", "status": "success", "startedAt": at(49.5), "finishedAt": at(50.0), "repository": repo, "pullRequests": [1, 2]},
            {"id": "d3", "environment": "staging", "status": "success", "startedAt": at(8.5), "finishedAt": at(9.0), "repository": repo, "pullRequests": [1]},
            {"id": "d4", "environment": "production", "status": "failure", "startedAt": at(50.5), "finishedAt": at(51.0)}]}),
        json!({"incidents": [{"id": "i1", "title": "Errors", "openedAt": at(52.0), "resolvedAt": at(54.0), "causedBy": "d2"}]}),
    ]
}

struct World {
    app: TestApp,
    d: Delivery,
    ada: Dev,
    bob: Dev,
    cy: Dev,
    red: devgraph::ids::TeamSpaceId,
    blue: devgraph::ids::TeamSpaceId,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "flow").await;
    let ada = d.developer(&app, "Ada Byron").await;
    let bob = d.developer(&app, "Bob Kahn").await;
    let cy = d.developer(&app, "Cy Young").await;
    let red = app.team_space(d.org, "Red").await;
    let blue = app.team_space(d.org, "Blue").await;
    app.member(d.org, red, ada.id, TeamSpaceRole::Member).await;
    app.member(d.org, blue, bob.id, TeamSpaceRole::Member).await;
    for batch in history(&ada, &bob, &cy) {
        let reply = post_delivery(&app, &d.key, &batch).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
    }
    World {
        app,
        d,
        ada,
        bob,
        cy,
        red,
        blue,
    }
}

/// The one period of the week, for every scope, in one request.
async fn week(w: &World, tier: &str, interval: &str) -> Value {
    let q = format!(
        r#"query($ada: ID!, $cy: ID!, $red: ID!, $blue: ID!, $p: ID!) {{
        organization {{ delivery(from: "2026-11-02", to: "2026-11-08", interval: {interval}, environmentTier: {tier}) {{ {PERIOD} }} }}
        project: node(id: $p) {{ ... on Project {{ delivery(from: "2026-11-02", to: "2026-11-08", interval: {interval}, environmentTier: {tier}) {{ {PERIOD} }} }} }}
        red: node(id: $red) {{ ... on TeamSpace {{ delivery(from: "2026-11-02", to: "2026-11-08", interval: {interval}, environmentTier: {tier}) {{ {PERIOD} }} }} }}
        blue: node(id: $blue) {{ ... on TeamSpace {{ delivery(from: "2026-11-02", to: "2026-11-08", interval: {interval}, environmentTier: {tier}) {{ {PERIOD} }} }} }}
        ada: node(id: $ada) {{ ... on Developer {{ delivery(from: "2026-11-02", to: "2026-11-08", interval: {interval}, environmentTier: {tier}) {{ {PERIOD} }} }} }}
        cy: node(id: $cy) {{ ... on Developer {{ delivery(from: "2026-11-02", to: "2026-11-08", interval: {interval}, environmentTier: {tier}) {{ {PERIOD} }} }} }}
    }}"#
    );
    let vars = json!({
        "ada": w.ada.gid(), "cy": w.cy.gid(), "red": w.red.gid(), "blue": w.blue.gid(),
        "p": w.d.project.gid(),
    });
    w.app.gql(&w.d.token, &q, vars).await.ok().clone()
}

/// Within the sketches' 2% (and the rounding to whole seconds) of `exact` seconds.
#[track_caller]
fn near(got: &Value, exact: f64) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("a duration, got {got}"));
    assert!(
        (got - exact).abs() <= exact * 0.02 + 0.5,
        "{got} is not within 2% of {exact}"
    );
}

#[tokio::test]
async fn a_small_history_gives_the_figures_worked_out_by_hand() {
    let w = world().await;
    let all = week(&w, "PRODUCTION", "ALL").await;
    let org = &all["organization"]["delivery"][0];
    assert_eq!(org["from"], "2026-11-02");
    assert_eq!(org["to"], "2026-11-08");
    let dora = &org["dora"];
    // d1, d2 and d4; d2 caused an incident and d4 failed.
    assert_eq!(dora["deployments"], 3.0, "{org}");
    assert_eq!(dora["failedDeployments"], 2.0);
    let rate = dora["changeFailureRate"].as_f64().expect("rate");
    assert!((rate - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(dora["changeFailureRateLevel"], "LOW");
    near(&dora["deploymentsPerDay"], 3.0 / 7.0);
    assert_eq!(dora["deploymentFrequencyLevel"], "HIGH");
    // #1: first commit 0h → d1 at 8h; #2: opened 1h → d2 at 50h.
    assert_eq!(dora["leadTime"]["count"], 2.0);
    near(&dora["leadTime"]["p50"], 8.0 * HOUR);
    near(&dora["leadTime"]["p90"], 49.0 * HOUR);
    assert_eq!(dora["leadTimeLevel"], "ELITE");
    assert_eq!(dora["timeToRestore"]["count"], 1.0);
    near(&dora["timeToRestore"]["p50"], 2.0 * HOUR);
    assert_eq!(dora["timeToRestoreLevel"], "HIGH");
    assert_eq!(dora["percentileRelativeError"], 0.02);

    let flow = &org["flow"];
    assert_eq!(
        [&flow["opened"], &flow["merged"], &flow["closed"]],
        [3, 2, 1]
    );
    assert_eq!(flow["cycleTime"]["count"], 2.0);
    near(&flow["cycleTime"]["p50"], 6.0 * HOUR);
    near(&flow["cycleTime"]["p90"], 48.0 * HOUR);
    assert_eq!(flow["codingTime"]["count"], 1.0);
    near(&flow["codingTime"]["p50"], 2.0 * HOUR);
    near(&flow["pickupTime"]["p50"], HOUR);
    near(&flow["pickupTime"]["p90"], 24.0 * HOUR);
    near(&flow["reviewTime"]["p50"], 3.0 * HOUR);
    near(&flow["reviewTime"]["p90"], 24.0 * HOUR);
    near(&flow["deployTime"]["p50"], HOUR);
    near(&flow["deployTime"]["p90"], 2.0 * HOUR);
    assert_eq!(flow["reviews"], 2);
    assert_eq!(
        flow["sizes"],
        json!({"xs": 0, "s": 1, "m": 0, "l": 1, "xl": 0})
    );
    let load = flow["reviewLoad"].as_array().expect("load");
    let reviewers: Vec<&Value> = load.iter().map(|l| &l["developer"]["id"]).collect();
    assert_eq!(load.len(), 2, "{load:?}");
    assert!(reviewers.contains(&&json!(w.ada.gid())) && reviewers.contains(&&json!(w.bob.gid())));

    // The project is the whole organization here.
    assert_eq!(all["project"]["delivery"], all["organization"]["delivery"]);

    // Red is Ada: #1, her review, d1 and half of d2 (and of its incident).
    let red = &all["red"]["delivery"][0];
    assert_eq!(red["dora"]["deployments"], 1.5, "{red}");
    assert_eq!(red["dora"]["failedDeployments"], 0.5);
    assert_eq!(red["dora"]["leadTime"]["count"], 1.0);
    near(&red["dora"]["leadTime"]["p50"], 8.0 * HOUR);
    assert_eq!(red["dora"]["timeToRestore"]["count"], 0.5);
    assert_eq!(
        [
            &red["flow"]["opened"],
            &red["flow"]["merged"],
            &red["flow"]["reviews"]
        ],
        [1, 1, 1]
    );
    // Blue is Bob.
    let blue = &all["blue"]["delivery"][0];
    assert_eq!(blue["dora"]["deployments"], 0.5);
    near(&blue["dora"]["leadTime"]["p50"], 49.0 * HOUR);
    assert_eq!(all["ada"]["delivery"], all["red"]["delivery"]);
    // Cy opened and closed one; no deployment shipped his work.
    let cy = &all["cy"]["delivery"][0];
    assert_eq!(
        [
            &cy["flow"]["opened"],
            &cy["flow"]["merged"],
            &cy["flow"]["closed"]
        ],
        [1, 0, 1]
    );
    assert_eq!(cy["dora"]["deployments"], 0.0);
    assert_eq!(cy["dora"]["changeFailureRate"], Value::Null);
    assert_eq!(cy["dora"]["leadTimeLevel"], Value::Null);

    // Staging: d3 shipped #1 at 9h; incidents count whatever the tier.
    let staging = week(&w, "STAGING", "ALL").await;
    let dora = &staging["organization"]["delivery"][0]["dora"];
    assert_eq!(dora["deployments"], 1.0);
    assert_eq!(dora["failedDeployments"], 0.0);
    assert_eq!(dora["changeFailureRate"], 0.0);
    assert_eq!(dora["leadTime"]["count"], 1.0);
    near(&dora["leadTime"]["p50"], 9.0 * HOUR);
    assert_eq!(dora["timeToRestore"]["count"], 1.0);

    // By day: seven periods; #1 merged on Monday, #2 on Wednesday.
    let days = week(&w, "PRODUCTION", "DAY").await;
    let days = days["organization"]["delivery"]
        .as_array()
        .expect("days")
        .clone();
    assert_eq!(days.len(), 7);
    let merged: Vec<&Value> = days.iter().map(|d| &d["flow"]["merged"]).collect();
    assert_eq!(merged, [1, 0, 1, 0, 0, 0, 0]);
    assert_eq!(days[2]["from"], "2026-11-04");
    assert_eq!(days[2]["to"], "2026-11-04");
}

#[tokio::test]
async fn a_team_space_counts_its_current_members() {
    let w = world().await;
    // Cy joins Red and Ada leaves it: Red's week is Cy's now.
    w.app
        .member(w.d.org, w.red, w.cy.id, TeamSpaceRole::Member)
        .await;
    let remove = r#"mutation($s: ID!, $d: ID!) { removeTeamSpaceMember(input: { teamSpaceId: $s, developerId: $d }) { removedDeveloperId } }"#;
    let vars = json!({ "s": w.red.gid(), "d": w.ada.gid() });
    w.app.gql(&w.d.token, remove, vars).await.ok();
    let all = week(&w, "PRODUCTION", "ALL").await;
    assert_eq!(all["red"]["delivery"], all["cy"]["delivery"]);
    assert_eq!(all["red"]["delivery"][0]["flow"]["closed"], 1);
    // The organization's figures do not move.
    assert_eq!(
        all["organization"]["delivery"][0]["dora"]["deployments"],
        3.0
    );
}

#[tokio::test]
async fn weeks_and_months_are_cut_at_the_ends_of_the_range() {
    let w = world().await;
    let q = r#"{ organization {
        weeks: delivery(from: "2026-10-28", to: "2026-11-10", interval: WEEK) { from to flow { merged } }
        months: delivery(from: "2026-10-28", to: "2026-11-10", interval: MONTH) { from to flow { merged } } } }"#;
    let r = w.app.gql(&w.d.token, q, json!({})).await.ok().clone();
    let spans = |v: &Value| -> Vec<(String, String, i64)> {
        v.as_array()
            .expect("periods")
            .iter()
            .map(|p| {
                (
                    p["from"].as_str().expect("from").to_owned(),
                    p["to"].as_str().expect("to").to_owned(),
                    p["flow"]["merged"].as_i64().expect("merged"),
                )
            })
            .collect()
    };
    let s = |a: &str, b: &str, n: i64| (a.to_owned(), b.to_owned(), n);
    assert_eq!(
        spans(&r["organization"]["weeks"]),
        [
            s("2026-10-28", "2026-11-01", 0),
            s("2026-11-02", "2026-11-08", 2),
            s("2026-11-09", "2026-11-10", 0)
        ]
    );
    assert_eq!(
        spans(&r["organization"]["months"]),
        [
            s("2026-10-28", "2026-10-31", 0),
            s("2026-11-01", "2026-11-10", 2)
        ]
    );
}

#[tokio::test]
async fn bad_ranges_are_refused_with_a_code() {
    let w = world().await;
    let q = r#"{ organization { delivery(from: "2026-11-09", to: "2026-11-02") { from } } }"#;
    let r = w.app.gql(&w.d.token, q, json!({})).await;
    assert_eq!(r.code(), Some("BAD_USER_INPUT"), "{:?}", r.body);
    let q = r#"{ organization { delivery(from: "2016-11-09", to: "2026-11-02", interval: DAY) { from } } }"#;
    let r = w.app.gql(&w.d.token, q, json!({})).await;
    assert!(r.code().is_some(), "{:?}", r.body);
}

#[tokio::test]
async fn another_organization_sees_none_of_it() {
    let w = world().await;
    let other = Delivery::new(&w.app, "other-flow").await;
    let mine = week(&w, "PRODUCTION", "ALL").await;
    assert_eq!(mine["organization"]["delivery"][0]["flow"]["opened"], 3);
    // The other organization's own delivery is empty, and our team space, developer and
    // project ids are ids of nothing there.
    let q = format!(
        r#"query($red: ID!, $ada: ID!, $p: ID!) {{
        organization {{ delivery(from: "2026-11-02", to: "2026-11-08", interval: ALL) {{ {PERIOD} }} }}
        red: node(id: $red) {{ ... on TeamSpace {{ delivery(from: "2026-11-02", to: "2026-11-08") {{ from }} }} }}
        ada: node(id: $ada) {{ ... on Developer {{ delivery(from: "2026-11-02", to: "2026-11-08") {{ from }} }} }}
        p: node(id: $p) {{ ... on Project {{ delivery(from: "2026-11-02", to: "2026-11-08") {{ from }} }} }} }}"#
    );
    let vars = json!({ "red": w.red.gid(), "ada": w.ada.gid(), "p": w.d.project.gid() });
    let theirs = w.app.gql(&other.token, &q, vars).await.ok().clone();
    assert_eq!(theirs["red"], Value::Null);
    assert_eq!(theirs["ada"], Value::Null);
    assert_eq!(theirs["p"], Value::Null);
    let period = &theirs["organization"]["delivery"][0];
    assert_eq!(period["dora"]["deployments"], 0.0);
    assert_eq!(period["flow"]["opened"], 0);
    assert_eq!(period["flow"]["reviewLoad"], json!([]));
    // A READ key of ours reads it as a viewer would.
    let key = crate::support::create_key(&w.app, &w.d.token, "READ", None).await;
    let q = r#"{ organization { delivery(from: "2026-11-02", to: "2026-11-08", interval: ALL) { flow { opened } } } }"#;
    let by_key = w.app.gql(&key.secret, q, json!({})).await.ok().clone();
    assert_eq!(by_key["organization"]["delivery"][0]["flow"]["opened"], 3);
    // And a delivery of theirs naming our deployment's id counts for them alone.
    let batch = json!({"deployments": [{"id": "d1", "environment": "production", "status": "failure", "startedAt": at(7.0), "finishedAt": at(8.0)}]});
    assert_eq!(post_delivery(&w.app, &other.key, &batch).await.status, 202);
    let again = week(&w, "PRODUCTION", "ALL").await;
    assert_eq!(again["organization"], mine["organization"]);
}

/// Pull requests with log-normal cycle times, merged over a fortnight; the percentiles the
/// API answers against nearest-rank percentiles of the raw rows.
async fn percentiles_against_exact(n: usize) {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "sketch").await;
    let mut rng = Lcg(n as u64 * 7919);
    let mut cycles: Vec<f64> = Vec::new();
    let mut prs = Vec::new();
    for i in 0..n {
        let opened = rng.below(14 * 24 * 60) as f64 / 60.0;
        // exp(N(10, 1.3)) seconds: minutes to weeks, median about 6 hours.
        let normal = (0..12)
            .map(|_| rng.below(1_000_000) as f64 / 1e6)
            .sum::<f64>()
            - 6.0;
        let cycle = (10.0 + 1.3 * normal).exp().round().max(1.0);
        cycles.push(cycle);
        prs.push(
            json!({"repository": "acme/api", "number": i + 1, "title": "x", "state": "merged",
            "openedAt": at(opened), "mergedAt": at(opened + cycle / HOUR)}),
        );
    }
    for chunk in prs.chunks(200) {
        let reply = post_delivery(&app, &d.key, &json!({ "pullRequests": chunk })).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
    }
    // The exact durations, as stored.
    use entity::scoped::InOrg as _;
    let stored = entity::pull_request::Entity::find_in(d.org)
        .all(app.db())
        .await
        .expect("rows");
    let mut exact: Vec<f64> = stored
        .iter()
        .filter_map(|p| Some((p.merged_at? - p.opened_at).num_seconds() as f64))
        .collect();
    exact.sort_by(f64::total_cmp);
    assert_eq!(exact.len(), n);
    let q = r#"{ organization { delivery(from: "2026-10-01", to: "2026-12-01", interval: ALL) { flow { cycleTime { count p50 p75 p90 } } } } }"#;
    let r = app.gql(&d.token, q, json!({})).await.ok().clone();
    let got = &r["organization"]["delivery"][0]["flow"]["cycleTime"];
    assert_eq!(got["count"], n as f64);
    for (field, q) in [("p50", 0.5), ("p75", 0.75), ("p90", 0.9)] {
        let rank = ((q * n as f64).ceil() as usize).max(1);
        let want = exact[rank - 1];
        let answered = got[field].as_f64().expect("percentile");
        let error = (answered - want).abs() / want;
        println!("{n} pull requests: {field} {answered} against {want} ({error:.4})");
        assert!(
            (answered - want).abs() <= want * 0.02 + 0.5,
            "{n} pull requests: {field} is {answered}, exact {want}"
        );
    }
}

#[tokio::test]
async fn percentiles_are_within_the_stated_error_of_exact_ones_at_two_sizes() {
    percentiles_against_exact(60).await;
    percentiles_against_exact(1_200).await;
}

// Statement counts ----------------------------------------------------------------------

const DASHBOARD: &str = r#"query($from: Date!, $to: Date!) { organization {
    delivery(from: $from, to: $to, interval: WEEK) { from dora { deployments leadTime { p50 } changeFailureRate timeToRestore { p50 } } flow { opened merged cycleTime { p50 p90 } } }
    teamSpaces(first: 10) { nodes { id
        delivery(from: $from, to: $to, interval: WEEK) { from dora { deployments deploymentFrequencyLevel leadTime { p50 p90 } changeFailureRate } flow { opened merged reviews cycleTime { p50 } pickupTime { p50 } } }
        developers(first: 20) { nodes { id delivery(from: $from, to: $to, interval: ALL) { flow { opened merged reviews } } } } } } } }"#;

/// An organization with `spaces` team spaces of `per_space` developers, each with merged,
/// reviewed and deployed pull requests; the dashboard's statements and the figures' size.
async fn dashboard(spaces: usize, per_space: usize) -> (u64, usize) {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "dash").await;
    let mut batch = json!({"pullRequests": [], "reviews": [], "deployments": []});
    let mut number = 0;
    for s in 0..spaces {
        let space = app.team_space(d.org, &format!("Space {s}")).await;
        for p in 0..per_space {
            let dev = app
                .developer(d.org, &format!("Dev {s} {p}"), DeveloperRole::Member)
                .await;
            app.member(d.org, space, dev.id, TeamSpaceRole::Member)
                .await;
            for k in 0..2 {
                number += 1;
                let opened = (number % 20) as f64 * 12.0 + k as f64;
                batch["pullRequests"].as_array_mut().expect("prs").push(json!({"repository": "acme/api", "number": number, "title": "x", "state": "merged",
                    "author": {"email": dev.email}, "openedAt": at(opened), "mergedAt": at(opened + 5.0)}));
                batch["reviews"].as_array_mut().expect("reviews").push(json!({"repository": "acme/api", "pullRequest": number, "id": format!("r{number}"),
                    "reviewer": {"email": dev.email}, "state": "approved", "submittedAt": at(opened + 1.0)}));
                batch["deployments"].as_array_mut().expect("deployments").push(json!({"id": format!("d{number}"), "environment": "production", "status": "success",
                    "startedAt": at(opened + 6.0), "finishedAt": at(opened + 6.5), "repository": "acme/api", "pullRequests": [number]}));
            }
        }
    }
    let reply = post_delivery(&app, &d.key, &batch).await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);
    let vars = json!({"from": "2026-11-01", "to": "2026-11-30"});
    app.gql(&d.token, DASHBOARD, vars.clone()).await.ok();
    let before = app.statements();
    let r = app.gql(&d.token, DASHBOARD, vars).await.ok().clone();
    let statements = app.statements() - before;
    let spaces_found = r["organization"]["teamSpaces"]["nodes"]
        .as_array()
        .expect("spaces");
    let opened: i64 = spaces_found
        .iter()
        .flat_map(|s| s["developers"]["nodes"].as_array().expect("devs").iter())
        .map(|dev| {
            dev["delivery"][0]["flow"]["opened"]
                .as_i64()
                .expect("opened")
        })
        .sum();
    assert_eq!(opened as usize, number, "every pull request counted once");
    (statements, number)
}

#[tokio::test]
async fn a_delivery_dashboard_costs_the_same_statements_at_two_sizes() {
    let (small, small_prs) = dashboard(2, 2).await;
    let (large, large_prs) = dashboard(5, 6).await;
    assert!(large_prs > small_prs * 5);
    assert_eq!(small, large, "statements");
    // Authentication, the organization's delivery, the team spaces, their delivery, their
    // developers, the developers' delivery.
    assert_eq!(large, 6, "statements of the dashboard");
}
