//! Delivery data through `POST /v1/delivery`: validation, idempotence, tenancy, and the
//! promise that any arrival order of one history ends in the same rows.

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::{
    commit, deployment, deployment_pull_request, identity, incident, pull_request,
    pull_request_review, scoped::InOrg as _,
};
use sea_orm::QueryOrder;
use serde_json::{Value, json};

use crate::support::{
    TestApp,
    forge::{Delivery, post_delivery},
    random::Lcg,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("time")
}

fn at(hours: f64) -> String {
    let t = t0() + Duration::seconds((hours * 3600.0) as i64);
    t.to_rfc3339()
}

/// One history of two pull requests, as separate batches: commits, the pull request opening
/// and merging, reviews (one by the author, which is no review of it), a deployment's pending
/// and finished statuses, an incident opening and resolving, a second pull request opened and
/// closed, a failed deployment.
fn history(author_email: &str) -> Vec<Value> {
    let repo = "acme/api";
    vec![
        json!({"commits": [{"repository": repo, "sha": "c1", "branch": "feat/a", "authoredAt": at(0.0), "author": {"email": author_email}, "message": "first\nbody"}]}),
        json!({"commits": [{"repository": repo, "sha": "c2", "branch": "feat/a", "authoredAt": at(1.0), "author": {"email": author_email}}]}),
        json!({"pullRequests": [{"repository": repo, "number": 1, "title": "Add A", "state": "open", "author": {"github": "Ada-GH"}, "openedAt": at(2.0), "headRef": "feat/a", "additions": 10, "deletions": 2, "changedFiles": 3}]}),
        json!({"reviews": [{"repository": repo, "pullRequest": 1, "id": "r1", "reviewer": {"github": "grace"}, "state": "commented", "submittedAt": at(3.0)}]}),
        json!({"reviews": [{"repository": repo, "pullRequest": 1, "id": "r2", "reviewer": {"github": "grace"}, "state": "approved", "submittedAt": at(5.0)}]}),
        json!({"reviews": [{"repository": repo, "pullRequest": 1, "id": "r3", "reviewer": {"github": "ada-gh"}, "state": "commented", "submittedAt": at(2.5)}]}),
        json!({"pullRequests": [{"repository": repo, "number": 1, "title": "Add A (final)", "state": "merged", "author": {"github": "ada-gh"}, "openedAt": at(2.0), "mergedAt": at(6.0), "headRef": "feat/a", "mergeCommitSha": "m1", "additions": 12, "deletions": 2, "changedFiles": 4}]}),
        // A later delivery of the pull request that leaves its size out (as GitHub's review
        // deliveries do) keeps the size it had.
        json!({"pullRequests": [{"repository": repo, "number": 1, "title": "Add A (final)", "state": "merged", "author": {"github": "ada-gh"}, "openedAt": at(2.0), "mergedAt": at(6.0), "updatedAt": at(6.5), "headRef": "feat/a", "mergeCommitSha": "m1"}]}),
        json!({"deployments": [{"id": "d1", "environment": "prod-eu", "status": "pending", "startedAt": at(7.0), "repository": repo, "sha": "m1"}]}),
        json!({"deployments": [{"id": "d1", "environment": "prod-eu", "status": "success", "startedAt": at(7.0), "finishedAt": at(7.5), "repository": repo, "sha": "m1", "pullRequests": [1]}]}),
        json!({"incidents": [{"id": "i1", "title": "Errors up", "openedAt": at(8.0), "causedBy": "d1"}]}),
        json!({"incidents": [{"id": "i1", "title": "Errors up", "openedAt": at(8.0), "resolvedAt": at(9.0), "causedBy": "d1"}]}),
        json!({"pullRequests": [{"repository": repo, "number": 2, "title": "Try B", "state": "open", "author": {"email": "someone@else.test"}, "openedAt": at(3.0)}]}),
        json!({"pullRequests": [{"repository": repo, "number": 2, "title": "Try B", "state": "closed", "author": {"email": "someone@else.test"}, "openedAt": at(3.0), "closedAt": at(4.0)}]}),
        json!({"deployments": [{"id": "d2", "environment": "staging", "status": "failure", "startedAt": at(10.0), "finishedAt": at(10.2)}]}),
    ]
}

/// Everything stored for the organization, without row ids and bookkeeping times, in a stable
/// order: what two arrival orders must agree on.
async fn state(app: &TestApp, d: &Delivery) -> Value {
    let org = d.org;
    let db = app.db();
    let identities = identity::Entity::find_in(org)
        .order_by_asc(identity::Column::Value)
        .all(db)
        .await
        .expect("identities");
    let who = |id: Option<uuid::Uuid>| {
        id.and_then(|id| identities.iter().find(|i| i.id == id))
            .map(|i| i.value.clone())
    };
    let prs = pull_request::Entity::find_in(org)
        .order_by_asc(pull_request::Column::Number)
        .all(db)
        .await
        .expect("prs");
    let reviews = pull_request_review::Entity::find_in(org)
        .order_by_asc(pull_request_review::Column::ExternalId)
        .all(db)
        .await
        .expect("reviews");
    let commits = commit::Entity::find_in(org)
        .order_by_asc(commit::Column::Sha)
        .all(db)
        .await
        .expect("commits");
    let deployments = deployment::Entity::find_in(org)
        .order_by_asc(deployment::Column::ExternalId)
        .all(db)
        .await
        .expect("deployments");
    let shipped = deployment_pull_request::Entity::find_in(org)
        .all(db)
        .await
        .expect("shipped");
    let incidents = incident::Entity::find_in(org)
        .order_by_asc(incident::Column::ExternalId)
        .all(db)
        .await
        .expect("incidents");
    // The delivery metrics' rollup: one developer (Ada) or nobody, one project.
    let mut rollup: Vec<Value> = entity::delivery_rollup::Entity::find_in(org)
        .all(db)
        .await
        .expect("rollup")
        .into_iter()
        .map(|r| {
            let who = r.developer_id != entity::UNKNOWN_DEVELOPER;
            json!([who, r.day, r.tier, r.metric, r.bucket, r.count])
        })
        .collect();
    rollup.sort_by_key(|v| v.to_string());
    json!({
        "rollup": rollup,
        "identities": identities.iter().map(|i| json!([i.kind, i.value, i.developer_id.is_some()])).collect::<Vec<_>>(),
        "pullRequests": prs.iter().map(|p| json!({
            "number": p.number, "title": p.title, "state": p.state, "author": who(p.author_identity_id),
            "authorIsDeveloper": p.author_id.is_some(),
            "opened": p.opened_at, "firstCommit": p.first_commit_at, "firstReview": p.first_review_at,
            "approved": p.approved_at, "merged": p.merged_at, "closed": p.closed_at,
            "size": [p.additions, p.deletions, p.changed_files], "head": p.head_ref, "sha": p.merge_commit_sha,
        })).collect::<Vec<_>>(),
        "reviews": reviews.iter().map(|r| json!({
            "id": r.external_id, "pr": r.pull_request_number, "linked": r.pull_request_id.is_some(),
            "reviewer": who(r.reviewer_identity_id), "state": r.state, "at": r.submitted_at,
        })).collect::<Vec<_>>(),
        "commits": commits.iter().map(|c| json!([c.sha, c.branch, c.authored_at, who(c.author_identity_id), c.author_id.is_some(), c.message])).collect::<Vec<_>>(),
        "deployments": deployments.iter().map(|d| json!({
            "id": d.external_id, "env": d.environment, "tier": d.tier, "status": d.status, "sha": d.sha,
            "started": d.started_at, "finished": d.finished_at,
            "shipped": shipped.iter().filter(|s| s.deployment_id == d.id).map(|s| s.pull_request_number).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "incidents": incidents.iter().map(|i| json!([i.external_id, i.title, i.opened_at, i.resolved_at, i.caused_by])).collect::<Vec<_>>(),
    })
}

async fn replay(app: &TestApp, d: &Delivery, batches: &[Value]) {
    for batch in batches {
        let reply = post_delivery(app, &d.key, batch).await;
        assert_eq!(reply.status, 202, "{batch} → {}", reply.body);
    }
}

#[tokio::test]
async fn any_arrival_order_ends_in_the_same_rows() {
    let app = TestApp::spawn().await;
    let first = Delivery::new(&app, "order-0").await;
    let ada = first.developer(&app, "Ada").await;
    let batches = history(&ada.email);
    replay(&app, &first, &batches).await;
    let expected = state(&app, &first).await;

    // What the history means, checked once in the order it happened.
    let pr = &expected["pullRequests"][0];
    assert_eq!(pr["state"], "merged");
    assert_eq!(pr["title"], "Add A (final)");
    assert_eq!(pr["author"], "ada-gh", "logins are case-insensitive");
    assert_eq!(pr["size"], json!([12, 2, 4]));
    let same_time = |v: &Value, hours: f64| {
        let got: DateTime<Utc> = serde_json::from_value(v.clone()).expect("time");
        assert_eq!(got.to_rfc3339(), at(hours), "{v}");
    };
    same_time(&pr["firstCommit"], 0.0);
    same_time(&pr["firstReview"], 3.0);
    same_time(&pr["approved"], 5.0);
    same_time(&pr["merged"], 6.0);
    assert_eq!(expected["pullRequests"][1]["state"], "closed");
    assert!(
        expected["reviews"]
            .as_array()
            .expect("reviews")
            .iter()
            .all(|r| r["linked"] == true)
    );
    let d1 = &expected["deployments"][0];
    assert_eq!(
        (d1["status"].clone(), d1["tier"].clone()),
        (json!("success"), json!("production"))
    );
    same_time(&d1["finished"], 7.5);
    assert_eq!(d1["shipped"], json!([1]));
    assert_eq!(expected["deployments"][1]["status"], "failure");
    same_time(&expected["incidents"][0][3], 9.0);
    let commits = expected["commits"].as_array().expect("commits");
    assert!(
        commits.iter().all(|c| c[4] == true),
        "ada's email matched her: {commits:?}"
    );
    assert_eq!(commits[0][5], "first", "the first line of the message");
    // The metrics of the history are in it: the merged pull request's lead time to d1, the
    // failed deployments (d1 caused i1; d2 failed), its restore time.
    let metrics: Vec<&str> = (expected["rollup"].as_array().expect("rollup").iter())
        .filter_map(|r| r[3].as_str())
        .collect();
    for metric in [
        "opened", "merged", "closed", "lead", "deploy", "failed", "restore", "reviews",
    ] {
        assert!(metrics.contains(&metric), "{metric} in {metrics:?}");
    }

    let mut rng = Lcg(13);
    let mut orders: Vec<Vec<Value>> = vec![batches.iter().rev().cloned().collect()];
    for _ in 0..6 {
        let mut shuffled = batches.clone();
        for i in (1..shuffled.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        orders.push(shuffled);
    }
    for (n, order) in orders.iter().enumerate() {
        let other = Delivery::new(&app, &format!("order-{}", n + 1)).await;
        let ada = other.developer(&app, "Ada").await;
        let history = history(&ada.email);
        let by_text: Vec<Value> = order
            .iter()
            .map(|b| {
                let i = batches.iter().position(|x| x == b).expect("same batch");
                history[i].clone()
            })
            .collect();
        replay(&app, &other, &by_text).await;
        // The developer's email differs per organization; compare it under one name.
        let got = state(&app, &other)
            .await
            .to_string()
            .replace(&ada.email, &first_email(&expected));
        assert_eq!(got, expected.to_string(), "order {n}");
        // Replaying everything again changes nothing.
        replay(&app, &other, &by_text).await;
        let again = state(&app, &other)
            .await
            .to_string()
            .replace(&ada.email, &first_email(&expected));
        assert_eq!(again, expected.to_string(), "replayed order {n}");
    }
}

fn first_email(state: &Value) -> String {
    state["commits"][0][3]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn one_bad_item_rejects_the_batch_by_its_path_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "bad-item").await;
    let batch = json!({
        "pullRequests": [{"repository": "acme/api", "number": 1, "title": "A", "state": "open", "openedAt": at(0.0)}],
        "reviews": [{"repository": "acme/api", "pullRequest": 1, "id": "r1", "state": "lgtm", "submittedAt": at(1.0)}],
    });
    let reply = post_delivery(&app, &d.key, &batch).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
    let message = reply.body.to_string();
    assert!(message.contains("reviews[0].state"), "{message}");
    let stored = pull_request::Entity::find_in(d.org)
        .all(app.db())
        .await
        .expect("prs");
    assert!(stored.is_empty(), "nothing stored: {stored:?}");

    for (body, path) in [
        (
            json!({"pullRequests": [{"repository": "acme/api", "number": 0, "title": "A", "state": "open", "openedAt": at(0.0)}]}),
            "pullRequests[0].number",
        ),
        (
            json!({"pullRequests": [{"repository": "acme/api", "number": 2, "title": "A", "state": "merged", "openedAt": at(0.0)}]}),
            "pullRequests[0].mergedAt",
        ),
        (
            json!({"deployments": [{"id": "d", "environment": "prod", "status": "success", "startedAt": at(1.0), "finishedAt": at(0.0)}]}),
            "deployments[0].finishedAt",
        ),
        (
            json!({"incidents": [{"id": "i", "title": "x", "openedAt": "yesterday"}]}),
            "incidents[0].openedAt",
        ),
        (
            json!({"commits": [{"repository": "nope/none", "sha": "a", "branch": "b", "authoredAt": at(0.0)}]}),
            "commits[0].repository",
        ),
        (
            json!({"reviews": [{"repository": "acme/api", "pullRequest": 1, "id": "r", "state": "approved", "submittedAt": at(0.0), "reviewer": {"email": "not-an-email"}}]}),
            "reviews[0].reviewer",
        ),
        (json!({"releases": []}), "releases"),
    ] {
        let reply = post_delivery(&app, &d.key, &body).await;
        assert_eq!(reply.status, 400, "{body} → {}", reply.body);
        assert!(
            reply.body.to_string().contains(path),
            "{path}: {}",
            reply.body
        );
    }
    let reply = post_delivery(&app, &d.key, &json!({})).await;
    assert_eq!((reply.status, reply.code()), (400, Some("BAD_USER_INPUT")));
}

#[tokio::test]
async fn a_retried_batch_changes_nothing() {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "retry").await;
    let owner_email = d.developer(&app, "Committer").await.email;
    let batch = json!({
        "pullRequests": [{"repository": "acme/api", "number": 7, "title": "A", "state": "merged", "openedAt": at(0.0), "mergedAt": at(2.0)}],
        "reviews": [{"repository": "acme/api", "pullRequest": 7, "id": "r7", "reviewer": {"login": "bob"}, "state": "approved", "submittedAt": at(1.0)}],
        "deployments": [{"id": "dep", "environment": "production", "status": "success", "startedAt": at(3.0), "finishedAt": at(3.1), "repository": "acme/api", "pullRequests": [7]}],
        "incidents": [{"id": "inc", "title": "Down", "openedAt": at(4.0), "causedBy": "dep"}],
        // Commits of every kind of author (none, an unlinked login, a developer's email), one
        // of them twice.
        "commits": [
            {"repository": "acme/api", "sha": "a1", "branch": "b", "authoredAt": at(0.0)},
            {"repository": "acme/api", "sha": "a2", "branch": "b", "authoredAt": at(0.1), "author": {"github": "nobody-yet"}},
            {"repository": "acme/api", "sha": "a3", "branch": "b", "authoredAt": at(0.2), "author": {"email": owner_email}},
            {"repository": "acme/api", "sha": "a2", "branch": "b", "authoredAt": at(0.1), "author": {"github": "nobody-yet"}},
        ],
    });
    let first = post_delivery(&app, &d.key, &batch).await;
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(
        first.body,
        json!({"pullRequests": 1, "reviews": 1, "commits": 4, "deployments": 1, "incidents": 1, "duplicate": false})
    );
    let commits = commit::Entity::find_in(d.org)
        .order_by_asc(commit::Column::Sha)
        .all(app.db())
        .await
        .expect("commits");
    let authors: Vec<(bool, bool)> = commits
        .iter()
        .map(|c| (c.author_identity_id.is_some(), c.author_id.is_some()))
        .collect();
    assert_eq!(authors, [(false, false), (true, false), (true, true)]);
    let before = state(&app, &d).await;
    let again = post_delivery(&app, &d.key, &batch).await;
    assert_eq!(again.status, 202);
    assert_eq!(state(&app, &d).await, before);
    let prs = pull_request::Entity::find_in(d.org)
        .all(app.db())
        .await
        .expect("prs");
    assert_eq!(prs.len(), 1);
}

#[tokio::test]
async fn only_a_project_key_with_delivery_write_sends_delivery_data() {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "scopes").await;
    let batch = json!({"incidents": [{"id": "i", "title": "x", "openedAt": at(0.0)}]});
    let events_key =
        crate::support::create_key(&app, &d.token, "EVENTS_WRITE", Some(d.project)).await;
    let read_key = crate::support::create_key(&app, &d.token, "READ", None).await;
    let unbound =
        crate::support::try_create_key(&app, &d.token, "k", &["DELIVERY_WRITE"], None).await;
    let unbound = unbound.expect("an organization-wide key");
    for (bearer, status) in [
        (events_key.secret.as_str(), 403),
        (read_key.secret.as_str(), 403),
        (unbound.secret.as_str(), 403),
        (d.token.as_str(), 403),
        ("dg_0123_4567", 401),
    ] {
        let reply = post_delivery(&app, bearer, &batch).await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    let stored = incident::Entity::find_in(d.org)
        .all(app.db())
        .await
        .expect("incidents");
    assert!(stored.is_empty());
}

#[tokio::test]
async fn another_organizations_repository_is_like_one_that_does_not_exist() {
    let app = TestApp::spawn().await;
    let a = Delivery::new(&app, "tenant-a").await;
    let b = Delivery::new(&app, "tenant-b").await;
    let foreign =
        crate::support::forge::raw_repository(&app, a.org, a.project, "a-only/secret").await;
    let missing = devgraph::ids::RepositoryId::new();
    use devgraph::ids::GlobalId as _;
    let mut answers = Vec::new();
    for name in [
        foreign.to_global().to_string(),
        missing.to_global().to_string(),
        "a-only/secret".to_owned(),
        "never/was".to_owned(),
    ] {
        let batch = json!({"pullRequests": [{"repository": name, "number": 1, "title": "x", "state": "open", "openedAt": at(0.0)}]});
        let reply = post_delivery(&app, &b.key, &batch).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        answers.push(reply.body.to_string().replace(&name, "<name>"));
    }
    assert_eq!(
        answers[0], answers[1],
        "a foreign id answers like a missing one"
    );
    assert_eq!(
        answers[2], answers[3],
        "a foreign name answers like a missing one"
    );
    let in_a = pull_request::Entity::find_in(a.org)
        .all(app.db())
        .await
        .expect("a");
    let in_b = pull_request::Entity::find_in(b.org)
        .all(app.db())
        .await
        .expect("b");
    assert!(in_a.is_empty() && in_b.is_empty());
    // B's own acme/api takes B's data, never A's repository of the same name.
    let batch = json!({"pullRequests": [{"repository": "acme/api", "number": 1, "title": "x", "state": "open", "openedAt": at(0.0)}]});
    assert_eq!(post_delivery(&app, &b.key, &batch).await.status, 202);
    let in_b = pull_request::Entity::find_in(b.org)
        .all(app.db())
        .await
        .expect("b");
    assert_eq!(in_b.len(), 1);
    assert_eq!(in_b[0].repository_id, b.repository.uuid());
    let in_a = pull_request::Entity::find_in(a.org)
        .all(app.db())
        .await
        .expect("a");
    assert!(in_a.is_empty());
}

#[tokio::test]
async fn linking_an_identity_re_attributes_its_history() {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "linking").await;
    let ada = d.developer(&app, "Ada").await;
    let batch = json!({
        "pullRequests": [{"repository": "acme/api", "number": 3, "title": "Ghost work", "state": "open", "author": {"github": "Ghost-GH"}, "openedAt": at(0.0)}],
        "reviews": [{"repository": "acme/api", "pullRequest": 3, "id": "g1", "reviewer": {"github": "ghost-gh"}, "state": "commented", "submittedAt": at(1.0)}],
    });
    assert_eq!(post_delivery(&app, &d.key, &batch).await.status, 202);
    let read = r#"query($dev: ID!) {
        organization { unmatchedIdentities(first: 10) { edges { node { id kind value } } } }
        node(id: $dev) { ... on Developer { pullRequests(first: 5) { totalCount edges { node { number author { id } } } }
                                             reviews(first: 5) { totalCount }
                                             identities(first: 5) { edges { node { kind value } } } } }
    }"#;
    use crate::support::Gid;
    let vars = json!({ "dev": ada.gid() });
    let before = app.gql(&d.token, read, vars.clone()).await.ok().clone();
    let unmatched = before["organization"]["unmatchedIdentities"]["edges"].clone();
    assert_eq!(unmatched[0]["node"]["value"], "ghost-gh", "{before}");
    assert_eq!(before["node"]["pullRequests"]["totalCount"], 0);

    let link = r#"mutation($dev: ID!) { linkIdentity(input: {kind: GITHUB, value: "GHOST-gh", developerId: $dev}) { identity { id developer { id } } } }"#;
    let linked = app.gql(&d.token, link, vars.clone()).await.ok().clone();
    assert_eq!(
        linked["linkIdentity"]["identity"]["developer"]["id"],
        ada.gid()
    );
    let after = app.gql(&d.token, read, vars.clone()).await.ok().clone();
    assert_eq!(
        after["organization"]["unmatchedIdentities"]["edges"],
        json!([])
    );
    assert_eq!(after["node"]["pullRequests"]["totalCount"], 1, "{after}");
    assert_eq!(
        after["node"]["pullRequests"]["edges"][0]["node"]["author"]["id"],
        ada.gid()
    );
    assert_eq!(after["node"]["reviews"]["totalCount"], 1);
    assert_eq!(
        after["node"]["identities"]["edges"],
        json!([{"node": {"kind": "GITHUB", "value": "ghost-gh"}}])
    );
    // Later activity of the identity counts for her straight away.
    let later = json!({"pullRequests": [{"repository": "acme/api", "number": 4, "title": "More", "state": "open", "author": {"github": "ghost-gh"}, "openedAt": at(2.0)}]});
    assert_eq!(post_delivery(&app, &d.key, &later).await.status, 202);
    let more = app.gql(&d.token, read, vars.clone()).await.ok().clone();
    assert_eq!(more["node"]["pullRequests"]["totalCount"], 2);

    let id = linked["linkIdentity"]["identity"]["id"].clone();
    let unlink = r#"mutation($id: ID!) { unlinkIdentity(input: {identityId: $id}) { identity { developer { id } } } }"#;
    let undone = app
        .gql(&d.token, unlink, json!({ "id": id }))
        .await
        .ok()
        .clone();
    assert_eq!(
        undone["unlinkIdentity"]["identity"]["developer"],
        Value::Null
    );
    let back = app.gql(&d.token, read, vars).await.ok().clone();
    assert_eq!(back["node"]["pullRequests"]["totalCount"], 0);
    assert_eq!(
        back["organization"]["unmatchedIdentities"]["edges"][0]["node"]["value"],
        "ghost-gh"
    );
}

/// An email identity links itself to the developer with that email, but not
/// once an admin has unlinked it: not when it is seen again, not when a
/// developer's email changes back to it. Only `linkIdentity` links it again.
#[tokio::test]
async fn an_email_identity_an_admin_unlinked_stays_unlinked() {
    use crate::support::Gid;
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "unlink-sticks").await;
    let ada = d.developer(&app, "Ada").await;
    let pr = |n: i32| json!({"pullRequests": [{"repository": "acme/api", "number": n, "title": "Work", "state": "open", "author": {"email": ada.email.to_uppercase()}, "openedAt": at(n as f64)}]});
    assert_eq!(post_delivery(&app, &d.key, &pr(1)).await.status, 202);
    let read = r#"query($dev: ID!) {
        organization { unmatchedIdentities(first: 5) { nodes { value } } }
        node(id: $dev) { ... on Developer { pullRequests(first: 5) { totalCount }
                                             identities(first: 5) { nodes { id unlinkedAt } } } } }"#;
    let vars = json!({ "dev": ada.gid() });
    let linked = app.gql(&d.token, read, vars.clone()).await.ok().clone();
    assert_eq!(linked["node"]["pullRequests"]["totalCount"], 1, "{linked}");
    let mine = &linked["node"]["identities"]["nodes"][0];
    assert_eq!(mine["unlinkedAt"], Value::Null);
    let identity = mine["id"].clone();

    let unlink = r#"mutation($id: ID!) { unlinkIdentity(input: {identityId: $id}) { identity { developer { id } unlinkedAt } } }"#;
    let undone = app.gql(&d.token, unlink, json!({ "id": identity })).await;
    let undone = undone.ok()["unlinkIdentity"]["identity"].clone();
    assert_eq!(undone["developer"], Value::Null);
    assert!(undone["unlinkedAt"].is_string(), "{undone}");

    // Seen again, and her email changed away and back: still nobody's.
    assert_eq!(post_delivery(&app, &d.key, &pr(2)).await.status, 202);
    let update = r#"mutation($dev: ID!, $email: String!) { updateDeveloper(input: {id: $dev, email: $email}) { developer { id } } }"#;
    for email in ["ada.elsewhere@acme.test", ada.email.as_str()] {
        let vars = json!({ "dev": ada.gid(), "email": email });
        app.gql(&d.token, update, vars).await.ok();
    }
    let after = app.gql(&d.token, read, vars.clone()).await.ok().clone();
    assert_eq!(after["node"]["pullRequests"]["totalCount"], 0, "{after}");
    assert_eq!(after["node"]["identities"]["nodes"], json!([]));
    let unmatched = &after["organization"]["unmatchedIdentities"]["nodes"];
    assert_eq!(unmatched, &json!([{ "value": ada.email.to_lowercase() }]));

    // An admin links it again: both pull requests are hers, and the unlink is forgotten.
    let link = r#"mutation($id: ID!, $dev: ID!) { linkIdentity(input: {identityId: $id, developerId: $dev}) { identity { unlinkedAt } } }"#;
    let vars_link = json!({ "id": identity, "dev": ada.gid() });
    let relinked = app.gql(&d.token, link, vars_link).await.ok().clone();
    assert_eq!(
        relinked["linkIdentity"]["identity"]["unlinkedAt"],
        Value::Null
    );
    let back = app.gql(&d.token, read, vars).await.ok().clone();
    assert_eq!(back["node"]["pullRequests"]["totalCount"], 2, "{back}");
    assert_eq!(
        back["node"]["identities"]["nodes"][0]["unlinkedAt"],
        Value::Null
    );
}

/// A developer created with, or changed to, an email that activity has named
/// before takes that activity: the email identity links itself to them, as
/// if it had been seen after they existed, events and their rollups
/// included. Another organization's identity of the same email stays
/// theirs, unmatched.
#[tokio::test]
async fn a_developer_given_an_email_takes_what_it_did_before() {
    use crate::support::{
        create_key,
        events::{at as at_time, days_ago, ev, send},
    };
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "adopting").await;
    let other = Delivery::new(&app, "adopting-other").await;
    let pr = |n: i32, email: &str| json!({"pullRequests": [{"repository": "acme/api", "number": n, "title": "Before", "state": "open", "author": {"email": email}, "openedAt": at(0.0)}]});
    for org in [&d, &other] {
        let first = pr(1, "New.Hire@Acme.test");
        assert_eq!(post_delivery(&app, &org.key, &first).await.status, 202);
    }
    let second = pr(2, "old.alias@acme.test");
    assert_eq!(post_delivery(&app, &d.key, &second).await.status, 202);
    let events_key = create_key(&app, &d.token, "EVENTS_WRITE", Some(d.project)).await;
    let day = days_ago(1);
    let events = vec![
        ev(
            "e1",
            "commit",
            Some("new.hire@acme.test"),
            at_time(day, 10, 0, 0),
        ),
        ev(
            "e2",
            "commit",
            Some("NEW.HIRE@acme.test"),
            at_time(day, 11, 0, 0),
        ),
    ];
    assert_eq!(send(&app, &events_key.secret, events).await, (2, 0, 2));

    let create = r#"mutation { createDeveloper(input: {email: "new.hire@ACME.test", name: "New Hire", role: MEMBER}) { developer { id } } }"#;
    let made = app.gql(&d.token, create, json!({})).await.ok().clone();
    let dev = made["createDeveloper"]["developer"]["id"].clone();
    let read = r#"query($dev: ID!, $day: Date!) {
        organization { unmatchedIdentities(first: 10) { nodes { value } } auditLog(first: 3) { nodes { action } } }
        node(id: $dev) { ... on Developer { pullRequests(first: 5) { nodes { number } }
                                             identities(first: 5) { nodes { kind value } }
                                             activity(from: $day, to: $day) { count } } } }"#;
    let vars = json!({ "dev": dev, "day": day.to_string() });
    let after = app.gql(&d.token, read, vars.clone()).await.ok().clone();
    let values = |data: &Value| data["organization"]["unmatchedIdentities"]["nodes"].clone();
    assert_eq!(values(&after), json!([{ "value": "old.alias@acme.test" }]));
    let me = &after["node"];
    assert_eq!(
        me["pullRequests"]["nodes"],
        json!([{ "number": 1 }]),
        "{after}"
    );
    assert_eq!(
        me["activity"],
        json!([{ "count": 2 }]),
        "the rollup moved too"
    );
    let email = |v: &str| json!({ "kind": "EMAIL", "value": v });
    assert_eq!(
        me["identities"]["nodes"],
        json!([email("new.hire@acme.test")])
    );
    let actions = &after["organization"]["auditLog"]["nodes"];
    assert_eq!(actions[0]["action"], "identity.link", "{actions}");
    assert_eq!(actions[1]["action"], "developer.create", "{actions}");

    // The other organization's identity of the same email is not ours.
    let theirs = r#"{ organization { unmatchedIdentities(first: 10) { nodes { value } } } }"#;
    let data = app.gql(&other.token, theirs, json!({})).await.ok().clone();
    assert_eq!(values(&data), json!([{ "value": "new.hire@acme.test" }]));

    // Changing the email to another address seen before takes its activity
    // too; what the first address did stays theirs.
    let update = r#"mutation($dev: ID!) { updateDeveloper(input: {id: $dev, email: "Old.Alias@acme.test"}) { developer { email } } }"#;
    let updated = app.gql(&d.token, update, json!({ "dev": dev })).await;
    assert_eq!(
        updated.ok()["updateDeveloper"]["developer"]["email"],
        "old.alias@acme.test"
    );
    let later = app.gql(&d.token, read, vars).await.ok().clone();
    assert_eq!(values(&later), json!([]));
    let me = &later["node"];
    let mut numbers: Vec<i64> = me["pullRequests"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["number"].as_i64())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2], "{later}");
    assert_eq!(me["activity"], json!([{ "count": 2 }]));
    assert_eq!(me["identities"]["nodes"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn people_record_deployments_and_incidents_by_hand() {
    let app = TestApp::spawn().await;
    let d = Delivery::new(&app, "by-hand").await;
    let member = d.developer(&app, "Mo").await;
    let token = app.token_for(&member);
    use crate::support::Gid;
    let record = r#"mutation($p: ID!, $status: DeploymentStatus!, $end: DateTime) {
        recordDeployment(input: {projectId: $p, externalId: "rel-1", environment: "prod-us", status: $status,
                                 startedAt: "2026-11-02T10:00:00Z", finishedAt: $end}) {
            deployment { externalId tier status finishedAt } } }"#;
    let pending = app
        .gql(
            &token,
            record,
            json!({ "p": d.project.gid(), "status": "PENDING" }),
        )
        .await
        .ok()
        .clone();
    assert_eq!(
        pending["recordDeployment"]["deployment"]["tier"],
        "PRODUCTION"
    );
    let done = json!({ "p": d.project.gid(), "status": "FAILURE", "end": "2026-11-02T10:07:00Z" });
    let failed = app.gql(&token, record, done).await.ok().clone();
    assert_eq!(
        failed["recordDeployment"]["deployment"]["status"],
        "FAILURE"
    );
    // Recording the pending state again (a late retry) does not undo the finish.
    let again = app
        .gql(
            &token,
            record,
            json!({ "p": d.project.gid(), "status": "PENDING" }),
        )
        .await
        .ok()
        .clone();
    assert_eq!(again["recordDeployment"]["deployment"]["status"], "FAILURE");
    let bad = json!({ "p": d.project.gid(), "status": "SUCCESS" });
    let reply = app.gql(&token, record, bad).await;
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"), "{}", reply.body);

    let incident = r#"mutation($p: ID!) { recordIncident(input: {projectId: $p, title: "Errors", openedAt: "2026-11-02T11:00:00Z", causedBy: "rel-1"}) { incident { title causedBy causedByDeployment { externalId } } } }"#;
    let made = app
        .gql(&token, incident, json!({ "p": d.project.gid() }))
        .await
        .ok()
        .clone();
    assert_eq!(
        made["recordIncident"]["incident"]["causedByDeployment"]["externalId"],
        "rel-1"
    );
    let rows = entity::deployment::Entity::find_in(d.org)
        .all(app.db())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "one deployment, recorded three times");
}
