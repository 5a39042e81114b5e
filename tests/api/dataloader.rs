//! No N+1: the Dashboard query of DESIGN.md runs the same number of SQL
//! statements whether the organization has 2 team spaces of 5 developers or
//! 20 of 50.

use crate::support::{TestApp, backend_name};
use entity::enums::{DeveloperRole, TeamSpaceRole};
use serde_json::json;

const DASHBOARD: &str = r#"
query Dashboard($from: Date!, $to: Date!) {
  viewer { id name role }
  organization {
    id name slug
    teamSpaces(first: 20) {
      totalCount
      edges { node {
        id name
        developers(first: 50) { edges { node { id name email
          activity(from: $from, to: $to) { day count } } } }
        projects(first: 10) { edges { node { id name slug } } }
        metrics(from: $from, to: $to, groupBy: [DAY, EVENT_NAME]) { day eventName count }
      } }
    }
  }
}"#;

fn range() -> serde_json::Value {
    let to = chrono::Utc::now().date_naive();
    let from = to - chrono::Duration::days(29);
    json!({ "from": from.to_string(), "to": to.to_string() })
}

/// Builds an organization of `spaces` team spaces with `per_space`
/// developers each (every developer also in a second space) and 3 projects
/// per space; returns the owner's token.
async fn organization_of(app: &TestApp, spaces: usize, per_space: usize) -> String {
    let (org, owner, token) = app
        .with_org_and_developer("dash", DeveloperRole::Owner)
        .await;
    let mut space_ids = Vec::new();
    for s in 0..spaces {
        space_ids.push(app.team_space(org, &format!("Space {s:02}")).await);
    }
    for (s, space) in space_ids.iter().enumerate() {
        for d in 0..per_space {
            let dev = app
                .developer(org, &format!("Dev {s:02}-{d:02}"), DeveloperRole::Member)
                .await;
            app.member(org, *space, dev.id, TeamSpaceRole::Member).await;
            let other = space_ids[(s + 1) % space_ids.len()];
            if other != *space {
                app.member(org, other, dev.id, TeamSpaceRole::Member).await;
            }
        }
        for p in 0..3 {
            app.project(org, Some(*space), &format!("proj {s}-{p}"))
                .await;
        }
    }
    app.member(org, space_ids[0], owner.id, TeamSpaceRole::Lead)
        .await;
    token
}

async fn dashboard_statements(spaces: usize, per_space: usize) -> (u64, usize) {
    let app = TestApp::spawn().await;
    let token = organization_of(&app, spaces, per_space).await;
    // Warm up once (pool connections, prepared statements), then measure.
    app.gql(&token, DASHBOARD, range()).await.ok();
    let before = app.statements();
    let reply = app.gql(&token, DASHBOARD, range()).await;
    let statements = app.statements() - before;
    let data = reply.ok();
    let edges = data["organization"]["teamSpaces"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), spaces);
    let devs: usize = edges
        .iter()
        .map(|e| e["node"]["developers"]["edges"].as_array().unwrap().len())
        .sum();
    (statements, devs)
}

#[tokio::test]
async fn dashboard_statement_count_does_not_grow_with_data() {
    let (small, small_devs) = dashboard_statements(2, 5).await;
    let (large, large_devs) = dashboard_statements(20, 50).await;
    assert!(
        large_devs > small_devs * 10,
        "the large org really returned more rows"
    );
    println!(
        "[{}] dashboard statements: {small} with 2x5 ({small_devs} developer rows), {large} with 20x50 ({large_devs} developer rows)",
        backend_name()
    );
    assert_eq!(
        small, large,
        "statement count must depend on query depth only"
    );
    // auth (with the organization) + team spaces page + count + developers
    // batch + projects batch + activity batch + metrics batch.
    assert!(large <= 7, "unexpectedly many statements: {large}");
}

/// Authentication is one statement for a person: their developer row with
/// their organization's (so asking for the organization costs nothing
/// more); two for an API key: its prefix, then the key in its organization
/// (one shard on Citus, where a join would visit them all).
#[tokio::test]
async fn a_person_authenticates_in_one_statement_and_a_key_in_two() {
    let app = TestApp::spawn().await;
    let (org, _, token) = app
        .with_org_and_developer("acme", entity::enums::DeveloperRole::Member)
        .await;
    let q = "{ organization { id name slug timeZone } viewer { id } }";
    app.gql(&token, q, json!({})).await.ok();
    let before = app.statements();
    let reply = app.gql(&token, q, json!({})).await;
    let statements = app.statements() - before;
    assert_eq!(reply.ok()["organization"]["slug"], "acme");
    assert_eq!(statements, 1, "authentication, and nothing else");

    // An API key is its prefix, then its key; the organization is then
    // read when asked for.
    let owner = app
        .developer(org, "Olive Owner", entity::enums::DeveloperRole::Owner)
        .await;
    let key = crate::support::create_key(&app, &app.token_for(&owner), "READ", None).await;
    let q = "{ organization { slug } }";
    app.gql(&key.secret, q, json!({})).await.ok();
    let before = app.statements();
    let reply = app.gql(&key.secret, q, json!({})).await;
    let statements = app.statements() - before;
    assert_eq!(reply.ok()["organization"]["slug"], "acme");
    assert_eq!(statements, 3, "the prefix, the key, then the organization");
}

#[tokio::test]
async fn nested_team_spaces_of_developers_batch_too() {
    const QUERY: &str = r#"{ developers(first: 100) { edges { node { id
        teamSpaces(first: 5) { totalCount edges { node { id projects(first: 3) { totalCount } } } } } } } }"#;
    let mut counts = Vec::new();
    for (spaces, per_space) in [(2, 3), (6, 15)] {
        let app = TestApp::spawn().await;
        let token = organization_of(&app, spaces, per_space).await;
        app.gql(&token, QUERY, json!({})).await.ok();
        let before = app.statements();
        app.gql(&token, QUERY, json!({})).await.ok();
        counts.push(app.statements() - before);
    }
    assert_eq!(counts[0], counts[1], "statements: {counts:?}");
}
