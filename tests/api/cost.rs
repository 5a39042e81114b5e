//! What one query may cost bounds what it may return: fields that return
//! many values weigh them in the complexity (`nodes`, `activity`,
//! `metrics`, lists without `first`), metrics stop at a row cap, filter
//! lists at a length, and a response at a size.

use crate::support::{Gid, TestApp, events::*, site::Site};
use entity::enums::DeveloperRole;
use serde_json::{Value, json};

fn limit_exceeded(reply: &crate::support::Reply) -> bool {
    reply.codes().iter().any(|c| c == "LIMIT_EXCEEDED")
}

#[tokio::test]
async fn nodes_weighs_every_id_it_is_asked_for() {
    let app = TestApp::spawn().await;
    let (_, dev, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let ids: Vec<String> = vec![dev.gid(); 100];
    // 100 ids × 100 team spaces × 100 developers: weighed once per id.
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Developer {
        teamSpaces(first: 100) { nodes { developers(first: 100) { nodes { id } } } } } } }";
    let reply = app.gql(&token, q, json!({ "ids": ids })).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
    // Duplicates are answered in place, each the same object.
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let reply = app
        .gql(&token, q, json!({ "ids": [dev.gid(), dev.gid()] }))
        .await;
    let nodes = reply.ok()["nodes"].clone();
    assert_eq!(nodes, json!([{ "id": dev.gid() }, { "id": dev.gid() }]));
}

#[tokio::test]
async fn activity_weighs_its_days() {
    let app = TestApp::spawn().await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let from = days_ago(399).to_string();
    let to = today().to_string();
    let q = |first: u32| {
        let activity = format!("activity(from: \"{from}\", to: \"{to}\") {{ day count }}");
        let four: String = ["a", "b", "c", "d"]
            .map(|k| format!("{k}: {activity} "))
            .concat();
        format!("{{ developers(first: {first}) {{ nodes {{ {four} }} }} }}")
    };
    // 100 developers × 4 × 400 days × 2 fields: over 250,000.
    let reply = app.gql(&token, &q(100), json!({})).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
    let reply = app.gql(&token, &q(10), json!({})).await;
    let days = reply.ok()["developers"]["nodes"][0]["a"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(days, 400);
}

#[tokio::test]
async fn metrics_weigh_their_rows_and_stop_at_the_row_cap() {
    let app = TestApp::spawn_with(|c| c.limits.max_metric_rows = 5).await;
    let s = Site::new(&app, "acme").await;
    let mut events = Vec::new();
    for day in 1..=3 {
        for name in ["commit", "review", "deploy"] {
            let id = format!("{name}-{day}");
            events.push(ev(&id, name, None, at(days_ago(day), 12, 0, 0)));
        }
    }
    send(&app, &s.key.secret, events).await;
    let q = |group: &str| {
        format!(
            "{{ organization {{ metrics(from: \"{}\", to: \"{}\", groupBy: [{group}]) {{ count }} }} }}",
            days_ago(5),
            today()
        )
    };
    // 9 rows (3 days × 3 names) over a cap of 5: refused, not cut.
    let reply = app.gql(&s.token, &q("DAY, EVENT_NAME"), json!({})).await;
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
    assert_eq!(
        reply.body["data"]["organization"],
        Value::Null,
        "{:?}",
        reply.body
    );
    let reply = app.gql(&s.token, &q("EVENT_NAME"), json!({})).await;
    assert_eq!(
        reply.ok()["organization"]["metrics"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The cap holds for a request's metrics fields together: two aliases
    // of 3 rows each pass 5.
    let one = format!(
        "metrics(from: \"{}\", to: \"{}\", groupBy: [EVENT_NAME]) {{ count }}",
        days_ago(5),
        today()
    );
    let reply = app
        .gql(
            &s.token,
            &format!("{{ organization {{ a: {one} b: {one} }} }}"),
            json!({}),
        )
        .await;
    assert!(limit_exceeded(&reply), "{:?}", reply.body);

    // The estimate of rows is weighed before anything runs: 20 aliases of
    // a year by day, developer and name (each 20,000 rows × 4 fields at
    // most) are refused by complexity.
    let app = TestApp::spawn().await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let one = format!(
        "metrics(from: \"{}\", to: \"{}\", groupBy: [DAY, DEVELOPER, EVENT_NAME]) {{ day developerId eventName count }}",
        days_ago(364),
        today()
    );
    let many: String = (0..20).map(|i| format!("m{i}: {one} ")).collect();
    let reply = app
        .gql(
            &token,
            &format!("{{ organization {{ {many} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
}

#[tokio::test]
async fn group_by_names_each_dimension_once_and_filter_lists_are_capped() {
    let app = TestApp::spawn().await;
    let (_, dev, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let range = format!("from: \"{}\", to: \"{}\"", days_ago(3), today());
    let q = format!(
        "{{ organization {{ metrics({range}, groupBy: [DAY, EVENT_NAME, DAY]) {{ count }} }} }}"
    );
    let reply = app.gql(&token, &q, json!({})).await;
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"), "{:?}", reply.body);

    let names = |n: usize| (0..n).map(|i| format!("e{i}")).collect::<Vec<_>>();
    let q = format!(
        "query($names: [String!]) {{ organization {{ metrics({range}, filter: {{ eventNames: $names }}) {{ count }} }} }}"
    );
    let reply = app.gql(&token, &q, json!({ "names": names(101) })).await;
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
    let reply = app.gql(&token, &q, json!({ "names": names(100) })).await;
    reply.ok();
    let ids = vec![dev.gid(); 101];
    let q = format!(
        "query($ids: [ID!]) {{ organization {{ metrics({range}, filter: {{ developerIds: $ids }}) {{ count }} }} }}"
    );
    let reply = app.gql(&token, &q, json!({ "ids": ids })).await;
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
    let q = format!(
        "query($id: ID!, $names: [String!]) {{ node(id: $id) {{ ... on Developer {{ activity({range}, eventNames: $names) {{ count }} }} }} }}"
    );
    let reply = app
        .gql(&token, &q, json!({ "id": dev.gid(), "names": names(101) }))
        .await;
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
}

/// Lists without `first` weigh the configured default page size, not the
/// built-in one: three nested lists of a server configured for pages of
/// 100 weigh a million rows.
#[tokio::test]
async fn the_configured_default_page_size_weighs_lists() {
    let q = "{ teamSpaces { nodes { developers { nodes { teamSpaces { nodes { id } } } } } } }";
    let app = TestApp::spawn().await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    app.gql(&token, q, json!({})).await.ok();
    let app = TestApp::spawn_with(|c| c.limits.default_page_size = 100).await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let reply = app.gql(&token, q, json!({})).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
}

/// A response over the size limit is answered LIMIT_EXCEEDED with no data,
/// and the server goes on serving.
#[tokio::test]
async fn a_response_over_the_size_limit_is_limit_exceeded() {
    let app = TestApp::spawn_with(|c| c.limits.max_response_bytes = 4096).await;
    let (org, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    for i in 0..40 {
        app.developer(org, &format!("Developer Number {i}"), DeveloperRole::Member)
            .await;
    }
    let q = "{ developers(first: 100) { nodes { id name email role } } }";
    let reply = app.gql(&token, q, json!({})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["data"], Value::Null);
    assert!(limit_exceeded(&reply), "{:?}", reply.body);
    let small = app
        .gql(
            &token,
            "{ developers(first: 2) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        small.ok()["developers"]["nodes"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn delivery_weighs_its_periods_and_every_field_in_them() {
    let app = TestApp::spawn().await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Owner)
        .await;
    let from = days_ago(399).to_string();
    let to = today().to_string();
    let period = "from to dora { deployments deploymentsPerDay leadTime { count p50 p75 p90 } changeFailureRate timeToRestore { p50 p90 } }
        flow { opened merged closed reviews cycleTime { p50 p75 p90 } pickupTime { p50 } sizes { xs s m l xl } }";
    let q = |interval: &str, first: u32| {
        format!(
            "{{ developers(first: {first}) {{ nodes {{ delivery(from: \"{from}\", to: \"{to}\", interval: {interval}) {{ {period} }} }} }} }}"
        )
    };
    // 30 developers × 400 days × about 30 fields: over the limit; by week (58 periods), not.
    let reply = app.gql(&token, &q("DAY", 30), json!({})).await;
    assert_eq!(reply.status, 400, "{:?}", reply.codes());
    assert!(limit_exceeded(&reply), "{:?}", reply.codes());
    let reply = app.gql(&token, &q("WEEK", 30), json!({})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.codes());
    let periods = reply.ok()["developers"]["nodes"][0]["delivery"]
        .as_array()
        .expect("periods")
        .len();
    assert_eq!(periods, 58);
    // Fewer fields weigh less: by day with one field each, 30 developers fit.
    let one = format!(
        "{{ developers(first: 30) {{ nodes {{ delivery(from: \"{from}\", to: \"{to}\", interval: DAY) {{ from }} }} }} }}"
    );
    let reply = app.gql(&token, &one, json!({})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.codes());
}
