//! Helpers of the mutation tests: run a mutation that must write one audit
//! row, check that row, count rows, seed events, run tables of refusals, and
//! fire one request many times at once.

use std::sync::Arc;

use chrono::Utc;
use devgraph::{
    ids::{self, OrgId, ProjectId},
    service::events::EventInput,
};
use entity::audit_log;
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::support::{
    Dev, Reply, TestApp, gql,
    snapshot::{audit_rows, check_unchanged, snapshot},
};

/// The uuid inside a global id.
pub fn uuid_of(gid: &str) -> Uuid {
    ids::decode(gid).expect("a global id").1
}

/// The data of a query that must succeed.
pub async fn query(app: &TestApp, token: &str, q: &str, vars: Value) -> Value {
    app.gql(token, q, vars).await.ok().clone()
}

/// Runs a mutation that must succeed and write exactly one audit row;
/// returns the payload and that row.
pub async fn run(
    app: &TestApp,
    org: OrgId,
    token: &str,
    mutation: &str,
    input: Value,
) -> (Value, audit_log::Model) {
    let before = audit_rows(app, org).await.len();
    let payload = gql::ok(&gql::mutate(app, token, mutation, input).await, mutation);
    let rows = audit_rows(app, org).await;
    assert_eq!(
        rows.len(),
        before + 1,
        "{mutation} writes exactly one audit row"
    );
    (payload, rows.last().cloned().unwrap())
}

/// The audit target type of an action: its object, membership changes
/// being changes of the team space.
fn target_type(action: &str) -> &'static str {
    match action.split('.').next().unwrap_or_default() {
        "organization" => "Organization",
        "team_space" | "team_space_member" => "TeamSpace",
        "developer" => "Developer",
        "project" => "Project",
        "api_key" => "ApiKey",
        other => panic!("unknown action kind {other}"),
    }
}

/// An audit row: action, target (type from the action) and the developer who acted.
pub fn assert_audit(row: &audit_log::Model, action: &str, target: Uuid, actor: &Dev) {
    let got = (row.action.as_str(), row.target_type.as_str(), row.target_id);
    let want = (action, target_type(action), Some(target));
    assert_eq!(got, want, "audit action, target type and id");
    let who = (row.actor_type.as_str(), row.actor_id);
    let want = ("developer", Some(actor.id.uuid()));
    assert_eq!(who, want, "audit actor of {action}");
}

/// One `commit` event by nobody in `project`, ingested now: rows in
/// events, event_meta and aggregated_events that mention the project.
pub async fn add_events(app: &TestApp, org: OrgId, project: ProjectId) {
    let event = EventInput {
        client_id: Uuid::now_v7().to_string(),
        name: "commit".into(),
        developer: None,
        occurred_at: Utc::now().to_rfc3339(),
        properties: None,
    };
    let ingested = app.ingest(org, project, vec![event]).await;
    assert_eq!(ingested.accepted, 1, "the event is stored");
}

/// A refusal the tests expect: who asks, what, and the code (and
/// `extensions.field`, when given) of the one error.
pub struct Refusal {
    pub token: String,
    pub mutation: &'static str,
    pub input: Value,
    pub code: &'static str,
    pub field: Option<&'static str>,
}

impl Refusal {
    pub fn new(token: &str, mutation: &'static str, input: Value, code: &'static str) -> Self {
        let token = token.to_owned();
        Refusal {
            token,
            mutation,
            input,
            code,
            field: None,
        }
    }
}

/// Runs every refusal, checking that none changes a row of `org`; returns
/// one line per deviation (empty when all hold).
pub async fn refusals(app: &TestApp, org: OrgId, cases: Vec<Refusal>) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let Refusal {
            token,
            mutation,
            input,
            code,
            field,
        } = case;
        let request = gql::document(mutation, &input);
        let before = snapshot(app, org).await;
        let reply = gql::mutate(app, &token, mutation, input).await;
        let verdict = match field {
            Some(field) => gql::check_refused_on(&reply, mutation, code, field),
            None => gql::check_refused(&reply, mutation, code),
        };
        let unchanged = check_unchanged(app, org, &before).await;
        for e in [verdict, unchanged].into_iter().filter_map(Result::err) {
            failures.push(format!("{request}\n  {e}"));
        }
    }
    failures
}

/// Sends the same mutation `n` times at once (released together by a barrier).
pub async fn race(
    app: &TestApp,
    token: &str,
    mutation: &str,
    input: &Value,
    n: usize,
) -> Vec<Reply> {
    let body = json!({ "query": gql::document(mutation, input) });
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (client, url, token) = (app.client.clone(), app.url("/graphql"), token.to_owned());
        let (body, barrier) = (body.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let req = client.post(url).bearer_auth(token).json(&body);
            let req = req.header("accept", "application/graphql-response+json");
            TestApp::reply(req.send().await.expect("send")).await
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("request task"));
    }
    replies
}

/// Of racing replies: exactly one success, every other one `code` (with
/// `field`, when given); `Err` describes what happened instead.
pub fn one_winner(
    replies: &[Reply],
    mutation: &str,
    code: &str,
    field: Option<&str>,
) -> Result<(), String> {
    let wins = replies
        .iter()
        .filter(|r| gql::check_ok(r, mutation).is_ok());
    let wins = wins.count();
    let losers = replies
        .iter()
        .filter(|r| gql::check_ok(r, mutation).is_err());
    let bad: Vec<String> = losers
        .filter_map(|r| match field {
            Some(f) => gql::check_refused_on(r, mutation, code, f).err(),
            None => gql::check_refused(r, mutation, code).err(),
        })
        .collect();
    if wins == 1 && bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{wins} successes; others:\n    {}",
            bad.join("\n    ")
        ))
    }
}
