//! Delivery reads: repositories, pull requests, reviews, deployments,
//! incidents and identities as connections of projects, repositories, pull
//! requests, developers and the organization; every field, filters and
//! orders, pages both ways, `node`/`nodes`, who lists unmatched
//! identities, statement counts that depend on the query's depth only,
//! and another organization's rows and ids.

use std::collections::BTreeSet;

use devgraph::{
    auth::TenantCtx,
    config::Limits,
    ids::{
        DeploymentId, DeveloperId, IdentityId, IncidentId, OrgId, ProjectId, PullRequestId,
        RepositoryId, ReviewId, TeamSpaceId,
    },
    pagination::{ChildRow, PageArgs, PageRequest},
};
use entity::enums::{DeploymentStatus, DeveloperRole, EnvironmentTier, IdentityKind, ReviewState};
use serde_json::{Value, json};

use crate::support::{
    Dev, Gid, Reply, TestApp, backend_name, create_key,
    delivery::{NewDeployment, NewIncident, NewPullRequest, NewReview, SEALED_SECRET, t},
    recorder::Recorder,
};

/// One organization's delivery history (times are minutes after `t(0)`):
///
/// - projects `shop` (repositories acme/web, connected at 5, and acme/api,
///   at 10) and `ops` (acme/ops);
/// - identities ann (GitHub, and an email), bob (GitHub), and two nobody
///   is linked to: ghost (GitHub) and a stranger's email;
/// - acme/api #1 "Add login" (ann, open, 10), #2 "Fix checkout" (bob,
///   merged at 50, 20), #3 "Refactor cart" (ghost, closed, 30), #4 "Bump
///   deps" (ann, merged at 100, 40); acme/web #1 (bob, 15); acme/ops #1
///   (ann by email, merged, 5);
/// - reviews of #2 by ghost (25) and ann (approved, 45), of #4 by bob (60,
///   90), and ann's of #9, which has not arrived (70);
/// - deployments of shop: dep-1 (production, 55, shipped #4, #2 and #9, which
///   has not arrived) and
///   dep-2 (staging, pending, 110); incidents inc-1 (60, caused by dep-1),
///   inc-2 (120, caused by dep-404, which has not arrived), and in ops
///   inc-q (caused by "dep-1", which ops does not have).
struct Team {
    org: OrgId,
    token: String,
    owner: Dev,
    ann: Dev,
    bob: Dev,
    shop: ProjectId,
    ops: ProjectId,
    api: RepositoryId,
    web: RepositoryId,
    ops_repo: RepositoryId,
    ann_gh: IdentityId,
    ann_mail: IdentityId,
    bob_gh: IdentityId,
    ghost: IdentityId,
    stranger: IdentityId,
    /// acme/api #1 to #4.
    api_prs: Vec<PullRequestId>,
    web1: PullRequestId,
    ops1: PullRequestId,
    ghost_on_2: ReviewId,
    ann_on_2: ReviewId,
    bob_on_4: [ReviewId; 2],
    orphan: ReviewId,
    dep1: DeploymentId,
    dep2: DeploymentId,
    inc1: IncidentId,
    inc2: IncidentId,
    inc_q: IncidentId,
}

impl Team {
    async fn build(app: &TestApp, slug: &str) -> Team {
        let (org, owner, token) = app.with_org_and_developer(slug, DeveloperRole::Owner).await;
        let ann = app.developer(org, "Ann", DeveloperRole::Member).await;
        let bob = app.developer(org, "Bob", DeveloperRole::Member).await;
        let shop = app.project(org, None, "Shop").await;
        let ops = app.project(org, None, "Ops").await;
        let d = app.delivery(org);
        let web = d.repository(shop, "acme/web", 5).await;
        let api = d.repository(shop, "acme/api", 10).await;
        let ops_repo = d.repository(ops, "acme/ops", 1).await;
        use IdentityKind::*;
        let ann_gh = d.identity(Github, "ann", Some(ann.id), 0).await;
        let ann_mail = d.identity(Email, "ann@acme.test", Some(ann.id), 1).await;
        let bob_gh = d.identity(Github, "bob", Some(bob.id), 2).await;
        let ghost = d.identity(Github, "ghost", None, 3).await;
        let stranger = d.identity(Email, "stranger@else.test", None, 4).await;
        let (by_ann, by_bob) = ((ann_gh, Some(ann.id)), (bob_gh, Some(bob.id)));

        let pr = |n, title, opened| NewPullRequest::new(api, n, title, opened);
        let two = NewPullRequest {
            first_commit_at: Some(t(18)),
            first_review_at: Some(t(25)),
            approved_at: Some(t(45)),
            ..pr(2, "Fix checkout", 20).by(bob_gh, by_bob.1).merged(50)
        };
        let api_prs = vec![
            d.pull_request(pr(1, "Add login", 10).by(ann_gh, by_ann.1))
                .await,
            d.pull_request(two).await,
            d.pull_request(pr(3, "Refactor cart", 30).by(ghost, None).closed(40))
                .await,
            d.pull_request(pr(4, "Bump deps", 40).by(ann_gh, by_ann.1).merged(100))
                .await,
        ];
        let web1 = NewPullRequest::new(web, 1, "Web landing", 15).by(bob_gh, by_bob.1);
        let web1 = d.pull_request(web1).await;
        let ops1 = NewPullRequest::new(ops_repo, 1, "Ops script", 5);
        let ops1 = d.pull_request(ops1.by(ann_mail, by_ann.1).merged(6)).await;

        let review = |number: i32, who: (IdentityId, Option<DeveloperId>), state, at| NewReview {
            repository: api,
            number,
            pull_request: api_prs.get(number as usize - 1).copied(),
            reviewer_identity: Some(who.0),
            reviewer: who.1,
            state,
            submitted_at: t(at),
        };
        use ReviewState::*;
        let ghost_on_2 = d.review(review(2, (ghost, None), Commented, 25)).await;
        let ann_on_2 = d.review(review(2, by_ann, Approved, 45)).await;
        let bob_on_4 = [
            d.review(review(4, by_bob, ChangesRequested, 60)).await,
            d.review(review(4, by_bob, Approved, 90)).await,
        ];
        let orphan = d.review(review(9, by_ann, Commented, 70)).await;

        let dep1 = d
            .deployment(NewDeployment {
                project: shop,
                repository: Some(api),
                external_id: "dep-1".into(),
                environment: "production".into(),
                tier: EnvironmentTier::Production,
                status: DeploymentStatus::Success,
                sha: Some("abc123".into()),
                started_at: t(55),
                finished_at: Some(t(58)),
                shipped: vec![4, 9, 2],
            })
            .await;
        let dep2 = d
            .deployment(NewDeployment {
                project: shop,
                repository: None,
                external_id: "dep-2".into(),
                environment: "staging".into(),
                tier: EnvironmentTier::Staging,
                status: DeploymentStatus::Pending,
                sha: None,
                started_at: t(110),
                finished_at: None,
                shipped: vec![],
            })
            .await;
        let incident = |project, external_id: &str, title: &str, opened, cause: &str| NewIncident {
            project,
            repository: None,
            external_id: external_id.into(),
            title: title.into(),
            opened_at: t(opened),
            resolved_at: None,
            caused_by: Some(cause.into()),
        };
        let inc1 = NewIncident {
            repository: Some(api),
            resolved_at: Some(t(80)),
            ..incident(shop, "inc-1", "Checkout down", 60, "dep-1")
        };
        let inc1 = d.incident(inc1).await;
        let inc2 = d
            .incident(incident(shop, "inc-2", "Slow search", 120, "dep-404"))
            .await;
        let inc_q = d
            .incident(incident(ops, "inc-q", "Ops alert", 7, "dep-1"))
            .await;
        Team {
            org,
            token,
            owner,
            ann,
            bob,
            shop,
            ops,
            api,
            web,
            ops_repo,
            ann_gh,
            ann_mail,
            bob_gh,
            ghost,
            stranger,
            api_prs,
            web1,
            ops1,
            ghost_on_2,
            ann_on_2,
            bob_on_4,
            orphan,
            dep1,
            dep2,
            inc1,
            inc2,
            inc_q,
        }
    }

    fn pr(&self, number: usize) -> String {
        self.api_prs[number - 1].gid()
    }

    /// The global id of every row the team holds.
    fn all_ids(&self) -> BTreeSet<String> {
        let mut ids: BTreeSet<String> = [&self.owner, &self.ann, &self.bob]
            .iter()
            .map(|d| d.gid())
            .collect();
        ids.extend([self.org.gid(), self.shop.gid(), self.ops.gid()]);
        ids.extend([self.api.gid(), self.web.gid(), self.ops_repo.gid()]);
        let people = [self.ann_gh, self.ann_mail, self.bob_gh];
        ids.extend(
            people
                .iter()
                .chain([&self.ghost, &self.stranger])
                .map(Gid::gid),
        );
        ids.extend(
            self.api_prs
                .iter()
                .chain([&self.web1, &self.ops1])
                .map(Gid::gid),
        );
        let reviews = [self.ghost_on_2, self.ann_on_2, self.orphan];
        ids.extend(reviews.iter().chain(&self.bob_on_4).map(Gid::gid));
        ids.extend([self.dep1.gid(), self.dep2.gid()]);
        ids.extend([self.inc1.gid(), self.inc2.gid(), self.inc_q.gid()]);
        ids
    }
}

/// A server with one team, "acme".
async fn team() -> (TestApp, Team) {
    let app = TestApp::spawn().await;
    let team = Team::build(&app, "acme").await;
    (app, team)
}

/// Runs a query as `token` and returns its data, which must hold no errors.
async fn read(app: &TestApp, token: &str, q: &str, vars: Value) -> Value {
    app.gql(token, q, vars).await.ok().clone()
}

/// The ids of a connection's `nodes`.
fn ids(conn: &Value) -> Vec<String> {
    let nodes = conn["nodes"].as_array().unwrap_or_else(|| panic!("{conn}"));
    nodes
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

fn gids<I: Gid>(rows: &[I]) -> Vec<String> {
    rows.iter().map(Gid::gid).collect()
}

#[tokio::test]
async fn repositories_pull_requests_and_reviews_return_every_field() {
    let (app, a) = team().await;
    let q = "query($id: ID!) { node(id: $id) { ... on Project {
        repositories { totalCount nodes { id provider externalId fullName defaultBranch createdAt
            project { id } } } } } }";
    let data = read(&app, &a.token, q, json!({ "id": a.shop.gid() })).await;
    let repo = |id: &RepositoryId, name: &str, at: i64| {
        json!({ "id": id.gid(), "provider": "GITHUB", "externalId": format!("gh:{name}"),
            "fullName": name, "defaultBranch": "main", "createdAt": t(at).to_rfc3339(),
            "project": { "id": a.shop.gid() } })
    };
    let expected = json!({ "totalCount": 2,
        "nodes": [repo(&a.api, "acme/api", 10), repo(&a.web, "acme/web", 5)] });
    assert_eq!(data["node"]["repositories"], expected);

    let q = "query($id: ID!) { node(id: $id) { ... on PullRequest {
        id number title state author { id } authorIdentity { id kind value developer { id } }
        openedAt firstCommitAt firstReviewAt approvedAt mergedAt closedAt
        additions deletions changedFiles repository { id fullName }
        reviews { totalCount nodes { id state submittedAt reviewer { id }
            reviewerIdentity { value } pullRequest { id } } } } } }";
    let data = read(&app, &a.token, q, json!({ "id": a.pr(2) })).await;
    let time = |m: i64| json!(t(m).to_rfc3339());
    let expected = json!({
        "id": a.pr(2), "number": 2, "title": "Fix checkout", "state": "MERGED",
        "author": { "id": a.bob.gid() },
        "authorIdentity": { "id": a.bob_gh.gid(), "kind": "GITHUB", "value": "bob",
            "developer": { "id": a.bob.gid() } },
        "openedAt": time(20), "firstCommitAt": time(18), "firstReviewAt": time(25),
        "approvedAt": time(45), "mergedAt": time(50), "closedAt": time(50),
        "additions": 20, "deletions": 2, "changedFiles": 3,
        "repository": { "id": a.api.gid(), "fullName": "acme/api" },
        "reviews": { "totalCount": 2, "nodes": [
            { "id": a.ann_on_2.gid(), "state": "APPROVED", "submittedAt": time(45),
              "reviewer": { "id": a.ann.gid() }, "reviewerIdentity": { "value": "ann" },
              "pullRequest": { "id": a.pr(2) } },
            { "id": a.ghost_on_2.gid(), "state": "COMMENTED", "submittedAt": time(25),
              "reviewer": null, "reviewerIdentity": { "value": "ghost" },
              "pullRequest": { "id": a.pr(2) } },
        ] },
    });
    assert_eq!(data["node"], expected);

    // Ghost's pull request has an identity and no author; an open one has
    // no merge, close or review times.
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on PullRequest {
        state author { id } authorIdentity { value developer { id } } mergedAt closedAt
        approvedAt reviews { totalCount } } } }";
    let data = read(&app, &a.token, q, json!({ "ids": [a.pr(3), a.pr(1)] })).await;
    assert_eq!(
        data["nodes"],
        json!([
            { "state": "CLOSED", "author": null,
              "authorIdentity": { "value": "ghost", "developer": null },
              "mergedAt": null, "closedAt": t(40).to_rfc3339(), "approvedAt": null,
              "reviews": { "totalCount": 0 } },
            { "state": "OPEN", "author": { "id": a.ann.gid() },
              "authorIdentity": { "value": "ann", "developer": { "id": a.ann.gid() } },
              "mergedAt": null, "closedAt": null, "approvedAt": null,
              "reviews": { "totalCount": 0 } },
        ])
    );
}

#[tokio::test]
async fn no_field_shows_a_repositorys_webhook_secret() {
    let (app, a) = team().await;
    let q = r#"{ __type(name: "Repository") { fields { name } } }"#;
    let data = read(&app, &a.token, q, json!({})).await;
    let fields = data["__type"]["fields"].as_array().unwrap();
    for field in fields {
        let name = field["name"].as_str().unwrap().to_lowercase();
        assert!(!name.contains("secret"), "Repository.{name}");
    }
    let q = "query($id: ID!) { node(id: $id) { ... on Repository {
        id provider externalId fullName defaultBranch createdAt } } }";
    let reply = app.gql(&a.token, q, json!({ "id": a.api.gid() })).await;
    let body = reply.body.to_string();
    assert!(
        !body.contains(SEALED_SECRET) && !body.contains("v1."),
        "{body}"
    );
}

#[tokio::test]
async fn pull_requests_filter_by_state_author_and_merge_time_in_every_order() {
    let (app, a) = team().await;
    let q = "query($id: ID!, $filter: PullRequestFilter, $order: ListOrder) {
        node(id: $id) { ... on Repository {
            pullRequests(filter: $filter, orderBy: $order) { totalCount nodes { id } } } } }";
    let (ann, bob) = (a.ann.gid(), a.bob.gid());
    let missing = DeveloperId::new().gid();
    #[rustfmt::skip]
    let cases: Vec<(Value, Value, Vec<usize>)> = vec![
        // Without orderBy: the most recently opened first.
        (json!(null), json!(null), vec![4, 3, 2, 1]),
        (json!(null), json!({ "field": "NAME" }), vec![1, 4, 2, 3]),
        (json!(null), json!({ "field": "NAME", "direction": "DESC" }), vec![3, 2, 4, 1]),
        (json!(null), json!({ "field": "CREATED_AT" }), vec![1, 2, 3, 4]),
        (json!(null), json!({ "field": "CREATED_AT", "direction": "DESC" }), vec![4, 3, 2, 1]),
        (json!({ "state": ["MERGED"] }), json!(null), vec![4, 2]),
        (json!({ "state": ["OPEN", "CLOSED"] }), json!(null), vec![3, 1]),
        (json!({ "state": [] }), json!(null), vec![]),
        (json!({ "authorId": ann }), json!(null), vec![4, 1]),
        (json!({ "authorId": bob }), json!(null), vec![2]),
        (json!({ "authorId": missing }), json!(null), vec![]),
        (json!({ "mergedFrom": t(50) }), json!(null), vec![4, 2]),
        (json!({ "mergedFrom": t(51) }), json!(null), vec![4]),
        (json!({ "mergedTo": t(100) }), json!(null), vec![2]),
        (json!({ "mergedFrom": t(50), "mergedTo": t(101) }), json!(null), vec![4, 2]),
        (json!({ "state": ["MERGED"], "authorId": ann, "mergedTo": t(200) }),
            json!({ "field": "NAME" }), vec![4]),
    ];
    for (filter, order, expected) in cases {
        let vars = json!({ "id": a.api.gid(), "filter": filter, "order": order });
        let data = read(&app, &a.token, q, vars).await;
        let conn = &data["node"]["pullRequests"];
        let expected: Vec<String> = expected.iter().map(|n| a.pr(*n)).collect();
        assert_eq!(ids(conn), expected, "{filter} {order}");
        assert_eq!(conn["totalCount"], json!(expected.len()), "{filter}");
    }
    // A malformed id, or one of another type, is refused.
    for bad in ["zzz".to_owned(), TeamSpaceId::new().gid()] {
        let vars = json!({ "id": a.api.gid(), "filter": { "authorId": bad } });
        let reply = app.gql(&a.token, q, vars).await;
        assert_eq!(reply.code(), Some("BAD_USER_INPUT"), "{:?}", reply.body);
    }
}

#[tokio::test]
async fn developers_list_their_pull_requests_reviews_and_identities() {
    let (app, a) = team().await;
    let q = "query($id: ID!, $filter: DeveloperPullRequestFilter) { node(id: $id) {
        ... on Developer {
            pullRequests { totalCount nodes { id } }
            merged: pullRequests(filter: $filter) { totalCount nodes { id } }
            reviews { totalCount nodes { id pullRequest { id } } }
            identities { totalCount nodes { id kind value developer { id } } } } } }";
    let filter = json!({ "state": ["MERGED"] });
    let data = read(
        &app,
        &a.token,
        q,
        json!({ "id": a.ann.gid(), "filter": filter }),
    )
    .await;
    let ann = &data["node"];
    assert_eq!(ids(&ann["pullRequests"]), [a.pr(4), a.pr(1), a.ops1.gid()]);
    assert_eq!(ann["pullRequests"]["totalCount"], 3);
    assert_eq!(ids(&ann["merged"]), [a.pr(4), a.ops1.gid()]);
    assert_eq!(ann["merged"]["totalCount"], 2);
    // The review of #9 is ann's, though #9 has not arrived.
    assert_eq!(
        ann["reviews"],
        json!({ "totalCount": 2, "nodes": [
            { "id": a.orphan.gid(), "pullRequest": null },
            { "id": a.ann_on_2.gid(), "pullRequest": { "id": a.pr(2) } },
        ] })
    );
    let me = json!({ "id": a.ann.gid() });
    assert_eq!(
        ann["identities"],
        json!({ "totalCount": 2, "nodes": [
            { "id": a.ann_gh.gid(), "kind": "GITHUB", "value": "ann", "developer": me },
            { "id": a.ann_mail.gid(), "kind": "EMAIL", "value": "ann@acme.test", "developer": me },
        ] })
    );

    let data = read(&app, &a.token, q, json!({ "id": a.bob.gid() })).await;
    let bob = &data["node"];
    assert_eq!(ids(&bob["pullRequests"]), [a.pr(2), a.web1.gid()]);
    assert_eq!(ids(&bob["reviews"]), gids(&[a.bob_on_4[1], a.bob_on_4[0]]));
    assert_eq!(ids(&bob["identities"]), [a.bob_gh.gid()]);
    let q = "query($id: ID!) { node(id: $id) { ... on Developer {
        identities(orderBy: { field: CREATED_AT, direction: DESC }) { nodes { id } } } } }";
    let data = read(&app, &a.token, q, json!({ "id": a.ann.gid() })).await;
    let newest_first = gids(&[a.ann_mail, a.ann_gh]);
    assert_eq!(ids(&data["node"]["identities"]), newest_first);
}

#[tokio::test]
async fn projects_list_deployments_and_incidents_with_their_causes() {
    let (app, a) = team().await;
    let q = "query($ids: [ID!]!, $late: DateTime!) { nodes(ids: $ids) { ... on Project {
        deployments { totalCount nodes { id externalId environment tier status sha
            startedAt finishedAt repository { id } pullRequestNumbers
            pullRequests { totalCount nodes { id } }
            mergedLate: pullRequests(filter: { mergedFrom: $late }) { nodes { id } }
            byTitle: pullRequests(orderBy: { field: NAME, direction: ASC }) { nodes { id } } } }
        byEnvironment: deployments(orderBy: { field: NAME, direction: DESC }) { nodes { id } }
        incidents { totalCount nodes { id externalId title openedAt resolvedAt causedBy
            causedByDeployment { id externalId } repository { id } } } } } }";
    let late = t(60).to_rfc3339();
    let vars = json!({ "ids": [a.shop.gid(), a.ops.gid()], "late": late });
    let data = read(&app, &a.token, q, vars).await;
    let (shop, ops) = (&data["nodes"][0], &data["nodes"][1]);
    let time = |m: i64| json!(t(m).to_rfc3339());
    let none = json!({ "nodes": [] });
    assert_eq!(
        shop["deployments"],
        json!({ "totalCount": 2, "nodes": [
            { "id": a.dep2.gid(), "externalId": "dep-2", "environment": "staging",
              "tier": "STAGING", "status": "PENDING", "sha": null, "startedAt": time(110),
              "finishedAt": null, "repository": null, "pullRequestNumbers": [],
              "pullRequests": { "totalCount": 0, "nodes": [] }, "mergedLate": none,
              "byTitle": none },
            { "id": a.dep1.gid(), "externalId": "dep-1", "environment": "production",
              "tier": "PRODUCTION", "status": "SUCCESS", "sha": "abc123",
              "startedAt": time(55), "finishedAt": time(58),
              "repository": { "id": a.api.gid() }, "pullRequestNumbers": [2, 4, 9],
              // #9 has not arrived; the newest opened first, by title, merged from 60.
              "pullRequests": { "totalCount": 2, "nodes": [{ "id": a.pr(4) }, { "id": a.pr(2) }] },
              "mergedLate": { "nodes": [{ "id": a.pr(4) }] },
              "byTitle": { "nodes": [{ "id": a.pr(4) }, { "id": a.pr(2) }] } },
        ] })
    );
    assert_eq!(ids(&shop["byEnvironment"]), gids(&[a.dep2, a.dep1]));
    let dep1 = json!({ "id": a.dep1.gid(), "externalId": "dep-1" });
    assert_eq!(
        shop["incidents"],
        json!({ "totalCount": 2, "nodes": [
            { "id": a.inc2.gid(), "externalId": "inc-2", "title": "Slow search",
              "openedAt": time(120), "resolvedAt": null, "causedBy": "dep-404",
              "causedByDeployment": null, "repository": null },
            { "id": a.inc1.gid(), "externalId": "inc-1", "title": "Checkout down",
              "openedAt": time(60), "resolvedAt": time(80), "causedBy": "dep-1",
              "causedByDeployment": dep1, "repository": { "id": a.api.gid() } },
        ] })
    );
    // "dep-1" of ops is not shop's dep-1: a cause resolves within its project.
    assert_eq!(ops["deployments"]["totalCount"], 0);
    let inc_q = &ops["incidents"]["nodes"][0];
    assert_eq!(inc_q["id"], json!(a.inc_q.gid()));
    assert_eq!(inc_q["causedBy"], "dep-1");
    assert_eq!(inc_q["causedByDeployment"], Value::Null);
}

/// Walks the connection that `q` (taking `$first $after $last $before`
/// besides `vars`) answers at `pointer` in pages of 1 and of 2, forward and
/// backward, checking each page's pageInfo and totalCount; every walk must
/// give `expected`.
async fn walk(
    app: &TestApp,
    token: &str,
    q: &str,
    vars: &Value,
    pointer: &str,
    expected: &[String],
) {
    let total = expected.len();
    let page = |page: Value| async move {
        let mut all = vars.clone();
        all.as_object_mut()
            .unwrap()
            .extend(page.as_object().unwrap().clone());
        let data = read(app, token, q, all).await;
        data.pointer(pointer).cloned().expect(pointer)
    };
    for size in [1, 2] {
        let (mut seen, mut after) = (Vec::new(), Value::Null);
        loop {
            let conn = page(json!({ "first": size, "after": after })).await;
            assert_eq!(conn["totalCount"], json!(total), "{pointer}");
            assert_eq!(conn["pageInfo"]["hasPreviousPage"], !seen.is_empty());
            seen.extend(ids(&conn));
            let more = seen.len() < total;
            assert_eq!(
                conn["pageInfo"]["hasNextPage"],
                json!(more),
                "{pointer} {seen:?}"
            );
            if !more {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, expected, "{pointer} forward by {size}");
        let (mut seen, mut before) = (Vec::new(), Value::Null);
        loop {
            let conn = page(json!({ "last": size, "before": before })).await;
            assert_eq!(conn["pageInfo"]["hasNextPage"], !seen.is_empty());
            seen.splice(0..0, ids(&conn));
            let more = seen.len() < total;
            assert_eq!(
                conn["pageInfo"]["hasPreviousPage"],
                json!(more),
                "{pointer}"
            );
            if !more {
                break;
            }
            before = conn["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(seen, expected, "{pointer} backward by {size}");
    }
}

#[tokio::test]
async fn every_new_list_pages_forward_and_backward() {
    let (app, a) = team().await;
    let page = "first: $first, after: $after, last: $last, before: $before";
    let conn = "{ totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }";
    let on = |typename: &str, field: &str| {
        format!(
            "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
                node(id: $id) {{ ... on {typename} {{ list: {field}({page}) {conn} }} }} }}"
        )
    };
    let lists = [
        (
            on("Project", "repositories"),
            a.shop.gid(),
            gids(&[a.api, a.web]),
        ),
        (
            on("Repository", "pullRequests"),
            a.api.gid(),
            (1..=4).rev().map(|n| a.pr(n)).collect(),
        ),
        (
            on("PullRequest", "reviews"),
            a.pr(4),
            gids(&[a.bob_on_4[1], a.bob_on_4[0]]),
        ),
        (
            on("Developer", "pullRequests"),
            a.ann.gid(),
            vec![a.pr(4), a.pr(1), a.ops1.gid()],
        ),
        (
            on("Developer", "reviews"),
            a.ann.gid(),
            gids(&[a.orphan, a.ann_on_2]),
        ),
        (
            on("Developer", "identities"),
            a.ann.gid(),
            gids(&[a.ann_gh, a.ann_mail]),
        ),
        (
            on("Project", "deployments"),
            a.shop.gid(),
            gids(&[a.dep2, a.dep1]),
        ),
        (
            on("Project", "incidents"),
            a.shop.gid(),
            gids(&[a.inc2, a.inc1]),
        ),
        (
            on("Deployment", "pullRequests"),
            a.dep1.gid(),
            vec![a.pr(4), a.pr(2)],
        ),
    ];
    for (q, id, expected) in lists {
        let vars = json!({ "id": id });
        walk(&app, &a.token, &q, &vars, "/node/list", &expected).await;
    }
    let q = format!(
        "query($first: Int, $after: String, $last: Int, $before: String) {{
            organization {{ list: unmatchedIdentities({page}) {conn} }} }}"
    );
    let unmatched = gids(&[a.ghost, a.stranger]);
    let vars = json!({});
    walk(&app, &a.token, &q, &vars, "/organization/list", &unmatched).await;
}

#[tokio::test]
async fn unmatched_identities_are_for_admins_and_owners() {
    let (app, a) = team().await;
    let q = "{ organization { unmatchedIdentities(orderBy: { field: NAME, direction: DESC }) {
        totalCount nodes { id kind value developer { id } firstSeenAt lastSeenAt } } } }";
    let data = read(&app, &a.token, q, json!({})).await;
    assert_eq!(
        data["organization"]["unmatchedIdentities"],
        json!({ "totalCount": 2, "nodes": [
            { "id": a.stranger.gid(), "kind": "EMAIL", "value": "stranger@else.test",
              "developer": null, "firstSeenAt": t(4).to_rfc3339(),
              "lastSeenAt": t(64).to_rfc3339() },
            { "id": a.ghost.gid(), "kind": "GITHUB", "value": "ghost", "developer": null,
              "firstSeenAt": t(3).to_rfc3339(), "lastSeenAt": t(63).to_rfc3339() },
        ] })
    );
    let admin = app.developer(a.org, "Ada", DeveloperRole::Admin).await;
    let data = read(&app, &app.token_for(&admin), q, json!({})).await;
    assert_eq!(data["organization"]["unmatchedIdentities"]["totalCount"], 2);
    let key = create_key(&app, &a.token, "READ", None).await;
    let viewer = app.developer(a.org, "Vic", DeveloperRole::Viewer).await;
    let refused = [
        app.token_for(&a.ann),
        app.token_for(&viewer),
        key.secret.clone(),
    ];
    for token in refused {
        let reply = app.gql(&token, q, json!({})).await;
        assert_eq!(reply.codes(), ["FORBIDDEN"], "{:?}", reply.body);
    }
    // Members still read identities through developers and pull requests.
    let q = "query($id: ID!) { node(id: $id) { ... on PullRequest {
        authorIdentity { value } } } }";
    let member = app.token_for(&a.bob);
    let data = read(&app, &member, q, json!({ "id": a.pr(3) })).await;
    assert_eq!(data["node"]["authorIdentity"]["value"], "ghost");
}

#[tokio::test]
async fn node_and_nodes_resolve_the_delivery_types_but_not_reviews() {
    let (app, a) = team().await;
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let own = [
        ("Repository", a.api.gid()),
        ("PullRequest", a.pr(1)),
        ("Deployment", a.dep1.gid()),
        ("Incident", a.inc1.gid()),
        ("Identity", a.ghost.gid()),
    ];
    let mut all: Vec<String> = own.iter().map(|(_, id)| id.clone()).collect();
    all.push(a.ann_on_2.gid());
    let data = read(&app, &a.token, q, json!({ "ids": all })).await;
    let mut expected: Vec<Value> = own
        .iter()
        .map(|(typename, id)| json!({ "__typename": typename, "id": id }))
        .collect();
    expected.push(Value::Null);
    assert_eq!(data["nodes"], Value::Array(expected));
    for (typename, id) in own {
        let q = "query($id: ID!) { node(id: $id) { __typename id } }";
        let data = read(&app, &a.token, q, json!({ "id": id })).await;
        assert_eq!(data["node"], json!({ "__typename": typename, "id": id }));
    }
}

/// A fresh id of `typename`, which names nothing.
fn missing(typename: &str) -> String {
    match typename {
        "Repository" => RepositoryId::new().gid(),
        "PullRequest" => PullRequestId::new().gid(),
        "Deployment" => DeploymentId::new().gid(),
        "Incident" => IncidentId::new().gid(),
        "Identity" => IdentityId::new().gid(),
        _ => DeveloperId::new().gid(),
    }
}

fn assert_same_as_missing(foreign: &Reply, twin: &Reply, what: &str) {
    assert_eq!(foreign.status, twin.status, "{what}: status");
    assert_eq!(foreign.body, twin.body, "{what}: body");
}

#[tokio::test]
async fn another_organizations_ids_answer_exactly_like_missing_ones() {
    let app = TestApp::spawn().await;
    let a = Team::build(&app, "org-a").await;
    let b = Team::build(&app, "org-b").await;
    let foreign = [
        ("Repository", b.api.gid(), a.api.gid()),
        ("PullRequest", b.pr(2), a.pr(2)),
        ("Deployment", b.dep1.gid(), a.dep1.gid()),
        ("Incident", b.inc1.gid(), a.inc1.gid()),
        ("Identity", b.ghost.gid(), a.ghost.gid()),
        ("Developer", b.ann.gid(), a.ann.gid()),
    ];
    let q = "query($id: ID!) { node(id: $id) { __typename id } }";
    for (typename, theirs, _) in &foreign {
        let reply = app.gql(&a.token, q, json!({ "id": theirs })).await;
        assert_eq!(reply.ok(), &json!({ "node": null }), "{typename}");
        let twin = app
            .gql(&a.token, q, json!({ "id": missing(typename) }))
            .await;
        assert_same_as_missing(&reply, &twin, typename);
    }
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let (mut asked, mut expected) = (vec![], vec![]);
    for (typename, theirs, ours) in &foreign {
        asked.extend([ours.clone(), theirs.clone()]);
        expected.extend([json!({ "__typename": typename, "id": ours }), Value::Null]);
    }
    let data = read(&app, &a.token, q, json!({ "ids": asked })).await;
    assert_eq!(data["nodes"], Value::Array(expected));

    // B's ann as an author filter matches nothing, as an unknown id does;
    // so does A's ann in B's repository.
    let q = "query($repo: ID!, $author: ID!) { node(id: $repo) { ... on Repository {
        pullRequests(filter: { authorId: $author }) { totalCount nodes { id } } } } }";
    let vars = |author: String| json!({ "repo": a.api.gid(), "author": author });
    let reply = app.gql(&a.token, q, vars(b.ann.gid())).await;
    let conn = &reply.ok()["node"]["pullRequests"];
    assert_eq!(conn, &json!({ "totalCount": 0, "nodes": [] }));
    let twin = app.gql(&a.token, q, vars(missing("Developer"))).await;
    assert_same_as_missing(&reply, &twin, "authorId");
    let reply = app.gql(&a.token, q, vars(a.ann.gid())).await;
    assert_eq!(ids(&reply.ok()["node"]["pullRequests"]), [a.pr(4), a.pr(1)]);
    let vars = json!({ "repo": b.api.gid(), "author": a.ann.gid() });
    let reply = app.gql(&a.token, q, vars).await;
    assert_eq!(reply.ok(), &json!({ "node": null }));

    // The same through what a deployment shipped.
    let q = "query($dep: ID!, $author: ID!) { node(id: $dep) { ... on Deployment {
        pullRequests(filter: { authorId: $author }) { totalCount nodes { id } } } } }";
    let vars = |author: String| json!({ "dep": a.dep1.gid(), "author": author });
    let reply = app.gql(&a.token, q, vars(b.ann.gid())).await;
    let conn = &reply.ok()["node"]["pullRequests"];
    assert_eq!(conn, &json!({ "totalCount": 0, "nodes": [] }));
    let twin = app.gql(&a.token, q, vars(missing("Developer"))).await;
    assert_same_as_missing(&reply, &twin, "a deployment's authorId");
    let reply = app.gql(&a.token, q, vars(a.ann.gid())).await;
    assert_eq!(ids(&reply.ok()["node"]["pullRequests"]), [a.pr(4)]);
}

/// Every global id in an answer.
fn every_id(v: &Value, found: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("id", Value::String(id)) => {
                        found.insert(id.clone());
                    }
                    _ => every_id(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| every_id(i, found)),
        _ => {}
    }
}

const EVERYTHING: &str = "{ organization { id
    unmatchedIdentities { totalCount nodes { id } }
    projects(first: 5) { nodes { id
        repositories(first: 5) { totalCount nodes { id project { id }
            pullRequests(first: 10) { totalCount nodes { id author { id } authorIdentity { id }
                repository { id } reviews(first: 5) { totalCount nodes { id reviewer { id }
                    reviewerIdentity { id } pullRequest { id } } } } } } }
        deployments(first: 5) { totalCount nodes { id repository { id }
            pullRequests(first: 5) { totalCount nodes { id author { id } } } } }
        incidents(first: 5) { totalCount nodes { id repository { id } causedByDeployment { id } } } } }
    developers(first: 10) { nodes { id
        pullRequests(first: 10) { totalCount nodes { id } }
        reviews(first: 10) { totalCount nodes { id } }
        identities(first: 10) { totalCount nodes { id developer { id } } } } } } }";

#[tokio::test]
async fn lists_hold_only_the_organizations_own_rows() {
    let app = TestApp::spawn().await;
    let a = Team::build(&app, "org-a").await;
    let b = Team::build(&app, "org-b").await;
    for (me, them) in [(&a, &b), (&b, &a)] {
        let data = read(&app, &me.token, EVERYTHING, json!({})).await;
        let mut found = BTreeSet::new();
        every_id(&data, &mut found);
        assert_eq!(found, me.all_ids(), "every row of its own, and only those");
        assert!(found.is_disjoint(&them.all_ids()));
        let org = &data["organization"];
        assert_eq!(org["unmatchedIdentities"]["totalCount"], 2);
        let projects = org["projects"]["nodes"].as_array().unwrap();
        let count = |field: &str| -> i64 {
            let totals = projects
                .iter()
                .map(|p| p[field]["totalCount"].as_i64().unwrap());
            totals.sum()
        };
        assert_eq!(
            (
                count("repositories"),
                count("deployments"),
                count("incidents")
            ),
            (3, 2, 3)
        );
    }
}

#[tokio::test]
async fn nested_lists_weigh_their_page_sizes() {
    let (app, a) = team().await;
    let q = |n: u32| {
        format!(
            "{{ projects(first: {n}) {{ nodes {{ repositories(first: {n}) {{ nodes {{
                pullRequests(first: {n}) {{ nodes {{ reviews(first: {n}) {{ nodes {{ id }} }} }} }}
            }} }} }} }} }}"
        )
    };
    // 100⁴ reviews at most: refused before anything runs.
    let reply = app.gql(&a.token, &q(100), json!({})).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(
        reply.codes().iter().any(|c| c == "LIMIT_EXCEEDED"),
        "{:?}",
        reply.body
    );
    read(&app, &a.token, &q(10), json!({})).await;
}

// Statements ----------------------------------------------------------------

/// An organization of 2 projects and `repos` repositories (alternating
/// between them), `prs` pull requests in each, every one by one of `repos`
/// developers and reviewed twice by the next two; a deployment of each
/// repository that shipped its first two pull requests, and an incident it
/// caused. Returns the owner's token.
async fn pipeline(app: &TestApp, repos: usize, prs: usize) -> String {
    let (org, _, token) = app
        .with_org_and_developer("pipe", DeveloperRole::Owner)
        .await;
    let d = app.delivery(org);
    let projects = [
        app.project(org, None, "One").await,
        app.project(org, None, "Two").await,
    ];
    let mut people = Vec::new();
    for i in 0..repos.max(3) {
        let dev = app
            .developer(org, &format!("Dev {i}"), DeveloperRole::Member)
            .await;
        let login = format!("dev-{i}");
        let identity = d
            .identity(IdentityKind::Github, &login, Some(dev.id), 0)
            .await;
        people.push((identity, Some(dev.id)));
    }
    for r in 0..repos {
        let project = projects[r % 2];
        let repo = d
            .repository(project, &format!("acme/repo-{r}"), r as i64)
            .await;
        for n in 1..=prs {
            let author = people[(r + n) % people.len()];
            let new = NewPullRequest::new(repo, n as i32, &format!("PR {n}"), n as i64);
            let pr = d.pull_request(new.by(author.0, author.1)).await;
            for k in 1..=2 {
                let reviewer = people[(r + n + k) % people.len()];
                let review = NewReview {
                    repository: repo,
                    number: n as i32,
                    pull_request: Some(pr),
                    reviewer_identity: Some(reviewer.0),
                    reviewer: reviewer.1,
                    state: ReviewState::Approved,
                    submitted_at: t((n + k) as i64),
                };
                d.review(review).await;
            }
        }
        let external_id = format!("deploy-{r}");
        let deployment = NewDeployment {
            project,
            repository: Some(repo),
            external_id: external_id.clone(),
            environment: "production".into(),
            tier: EnvironmentTier::Production,
            status: DeploymentStatus::Success,
            sha: None,
            started_at: t(r as i64),
            finished_at: None,
            shipped: vec![1, 2],
        };
        d.deployment(deployment).await;
        let incident = NewIncident {
            project,
            repository: Some(repo),
            external_id: format!("incident-{r}"),
            title: format!("Incident {r}"),
            opened_at: t(r as i64 + 1),
            resolved_at: None,
            caused_by: Some(external_id),
        };
        d.incident(incident).await;
    }
    token
}

/// Three queries, each of whose references goes through a table's loader
/// once (so no two levels can share a batch by timing): the code review
/// path, the developers' lists, and deployments with their incidents.
const COUNTED: [(&str, &str); 3] = [
    (
        "organization → projects → repositories → pullRequests → reviews",
        "{ organization { projects(first: 10) { nodes { id
            repositories(first: 10) { totalCount nodes { id fullName project { id }
                pullRequests(first: 20) { totalCount nodes { id title author { id name }
                    repository { id } reviews(first: 5) { totalCount nodes { id state
                        reviewerIdentity { value } pullRequest { id } } } } } } } } } } }",
    ),
    (
        "developers → pullRequests, reviews, identities",
        "{ developers(first: 20) { nodes { id
            pullRequests(first: 20) { totalCount nodes { id authorIdentity { value } } }
            reviews(first: 20) { totalCount nodes { id pullRequest { id } } }
            identities(first: 5) { totalCount nodes { id developer { id } } } } } }",
    ),
    (
        "projects → deployments, incidents",
        "{ projects(first: 10) { nodes { id
            deployments(first: 20) { totalCount nodes { id repository { id } pullRequestNumbers
                pullRequests(first: 5) { totalCount nodes { id number } } } }
            incidents(first: 20) { totalCount nodes { id causedByDeployment { id externalId } } } } } }",
    ),
];

async fn statements(repos: usize, prs: usize) -> Vec<(u64, usize)> {
    let app = TestApp::spawn().await;
    let token = pipeline(&app, repos, prs).await;
    let mut counts = Vec::new();
    for (what, q) in COUNTED {
        // Warm up once (pool connections, prepared statements), then measure.
        read(&app, &token, q, json!({})).await;
        let before = app.statements();
        let data = read(&app, &token, q, json!({})).await;
        let statements = app.statements() - before;
        let mut found = BTreeSet::new();
        every_id(&data, &mut found);
        println!(
            "[{}] {what}: {statements} statements for {repos} repositories × {prs} pull requests ({} ids)",
            backend_name(),
            found.len()
        );
        counts.push((statements, found.len()));
    }
    counts
}

#[tokio::test]
async fn statement_counts_depend_on_the_depth_of_the_query_only() {
    let small = statements(2, 3).await;
    let large = statements(6, 9).await;
    for ((what, _), (small, large)) in COUNTED.iter().zip(small.iter().zip(&large)) {
        assert!(
            large.1 > small.1 * 2,
            "{what}: the large one returned more rows"
        );
        assert_eq!(small.0, large.0, "{what}: statements");
    }
    // Authentication, then one statement per list and per reference.
    let expected = [10, 8, 8];
    let measured: Vec<u64> = large.iter().map(|(n, _)| *n).collect();
    assert_eq!(measured, expected, "statements per query");
}

// Plans --------------------------------------------------------------------

/// `n` ids of `T`: `own` first (as many as fit), then `foreign`, then ids
/// that exist nowhere.
fn padded<T: Copy>(own: &[T], foreign: T, n: usize, fresh: fn() -> T) -> Vec<T> {
    let mut out: Vec<T> = own.iter().copied().take(n).collect();
    if out.len() < n {
        out.push(foreign);
    }
    out.resize_with(n, fresh);
    out
}

/// What one batched read sent, and the global ids of what it found.
struct Run {
    name: &'static str,
    sent: Vec<crate::support::recorder::Sent>,
    found: BTreeSet<String>,
}

/// Every batched read of the delivery lists, with sets of `n` ids of A
/// (then B's, then of nothing).
async fn delivery_reads(rec: &Recorder, a: &Team, b: &Team, n: usize) -> Vec<Run> {
    use devgraph::service::delivery::read;
    let (ctx, db) = (&TenantCtx::unsafe_system(a.org), &rec.db);
    let page = PageRequest::new(
        PageArgs {
            first: Some(10),
            ..Default::default()
        },
        None,
        &Limits::default(),
    )
    .expect("page");
    let projects = padded(&[a.shop, a.ops], b.shop, n, ProjectId::new);
    let repos = padded(&[a.api, a.web, a.ops_repo], b.api, n, RepositoryId::new);
    let devs = padded(&[a.ann.id, a.bob.id], b.ann.id, n, DeveloperId::new);
    let prs = padded(&a.api_prs, b.api_prs[1], n, PullRequestId::new);
    let deployments = padded(&[a.dep1, a.dep2], b.dep1, n, DeploymentId::new);
    let mut names = vec!["dep-1".to_owned()];
    names.resize_with(n, || format!("never-{}", uuid::Uuid::now_v7()));
    let filter = Default::default();

    let mut runs = Vec::new();
    let mut record = |name, found: Vec<String>| {
        let sent = rec.take();
        let found = found.into_iter().collect();
        runs.push(Run { name, sent, found });
    };
    rec.take();
    let rows = read::repositories_of_projects(ctx, db, &projects, &page).await;
    record(
        "repositories_of_projects",
        children(rows, |r| RepositoryId::from_db(r.id).gid()),
    );
    let rows = read::pull_requests_of_repositories(ctx, db, &repos, &filter, &page).await;
    record("pull_requests_of_repositories", children(rows, pr_gid));
    let rows = read::pull_requests_of_developers(ctx, db, &devs, &filter, &page).await;
    record("pull_requests_of_developers", children(rows, pr_gid));
    let rows = read::reviews_of_pull_requests(ctx, db, &prs, &page).await;
    record("reviews_of_pull_requests", children(rows, review_gid));
    let rows = read::reviews_of_developers(ctx, db, &devs, &page).await;
    record("reviews_of_developers", children(rows, review_gid));
    let rows = read::deployments_of_projects(ctx, db, &projects, &page).await;
    record("deployments_of_projects", children(rows, deployment_gid));
    let rows = read::incidents_of_projects(ctx, db, &projects, &page).await;
    record(
        "incidents_of_projects",
        children(rows, |i| IncidentId::from_db(i.id).gid()),
    );
    let rows = read::identities_of_developers(ctx, db, &devs, &page).await;
    record(
        "identities_of_developers",
        children(rows, |i| IdentityId::from_db(i.id).gid()),
    );
    let rows = read::pull_requests_of_deployments(ctx, db, &deployments, &filter, &page).await;
    record("pull_requests_of_deployments", children(rows, pr_gid));
    let rows = read::deployments_by_external_ids(ctx, db, &projects, &names).await;
    let found = rows.expect("deployments by external id");
    record(
        "deployments_by_external_ids",
        found.iter().map(deployment_gid).collect(),
    );
    let rows = read::shipped_by_deployments(ctx, db, &deployments).await;
    let shipped = |s: &entity::deployment_pull_request::Model| {
        let deployment = DeploymentId::from_db(s.deployment_id).gid();
        format!("{deployment} #{}", s.pull_request_number)
    };
    let found = rows.expect("shipped pull requests");
    record(
        "shipped_by_deployments",
        found.iter().map(shipped).collect(),
    );
    runs
}

/// The global ids of a nested list's rows.
fn children<M, E: std::fmt::Debug>(
    rows: Result<Vec<ChildRow<M>>, E>,
    gid: impl Fn(&M) -> String,
) -> Vec<String> {
    let rows = rows.expect("batched read");
    rows.iter().map(|r| gid(&r.item)).collect()
}

fn pr_gid(pr: &entity::pull_request::Model) -> String {
    PullRequestId::from_db(pr.id).gid()
}

fn review_gid(review: &entity::pull_request_review::Model) -> String {
    ReviewId::from_db(review.id).gid()
}

fn deployment_gid(deployment: &entity::deployment::Model) -> String {
    DeploymentId::from_db(deployment.id).gid()
}

#[tokio::test]
async fn batched_delivery_reads_have_one_text_and_one_parameter_per_set() {
    let app = TestApp::spawn().await;
    let a = Team::build(&app, "org-a").await;
    let b = Team::build(&app, "org-b").await;
    let rec = Recorder::on(&app).await;
    let small = delivery_reads(&rec, &a, &b, 3).await;
    let large = delivery_reads(&rec, &a, &b, 300).await;
    for (s, l) in small.iter().zip(&large) {
        let name = s.name;
        assert_eq!(
            (s.sent.len(), l.sent.len()),
            (1, 1),
            "{name}: one statement each"
        );
        let (s_sent, l_sent) = (&s.sent[0], &l.sent[0]);
        assert_eq!(
            s_sent.sql, l_sent.sql,
            "{name}: one text for 3 ids and for 300"
        );
        assert_eq!(
            s_sent.values.len(),
            l_sent.values.len(),
            "{name}: parameters"
        );
        let (s_sets, l_sets) = (s_sent.set_sizes(), l_sent.set_sizes());
        assert!(
            !s_sets.is_empty() && s_sets.iter().all(|k| *k == 3),
            "{name}: {s_sets:?}"
        );
        assert!(l_sets.iter().all(|k| *k == 300), "{name}: {l_sets:?}");
        let sql = s_sent.sql.replace(' ', "");
        assert!(
            !sql.contains("IN($") && !sql.contains("IN(?"),
            "{name}: {sql}"
        );
        // Only A's rows, whatever the set names.
        for run in [s, l] {
            assert!(
                run.found.is_disjoint(&b.all_ids()),
                "{name}: {:?}",
                run.found
            );
        }
    }
    // With every id of A in the set, every row of A it names.
    let found: Vec<usize> = large.iter().map(|r| r.found.len()).collect();
    // 3 repositories, 6 pull requests, ann's 3 and bob's 2, the 4 reviews
    // of #2 and #4, ann's 2 and bob's 2, 2 deployments, 3 incidents, the 3
    // linked identities, the 2 pull requests of dep-1 that have arrived,
    // shop's dep-1, and the 3 numbers dep-1 shipped.
    assert_eq!(found, [3, 6, 5, 4, 4, 2, 3, 3, 2, 1, 3]);
}
