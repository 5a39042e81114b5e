//! `devgraph seed`'s delivery data, what the demo promises GraphiQL's first delivery queries:
//! repositories for every project, reviewed pull requests whose times come in order, production
//! deployments shipping them with a few failures, incidents with resolution times, identities
//! no developer is linked to; the same data for the same seed; none without a key to seal the
//! repositories' webhook secrets.

use std::process::ExitCode;

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use entity::{
    deployment, deployment_pull_request,
    enums::{DeploymentStatus, EnvironmentTier, IdentityKind, PullRequestState},
    identity, incident, project, pull_request, pull_request_review, repository,
};
use sea_orm::{Database, EntityTrait};

use crate::{cli::run, support::TestDb};

/// A configured key, so the command seals webhook secrets as a server with it would.
const KEY: &str = "abababababababababababababababababababababababababababababababab";
const UNTIL: &str = "2026-06-15T12:00:00Z";
const SPEC: &[&str] = &[
    "seed",
    "--orgs",
    "2",
    "--team-spaces",
    "2",
    "--developers",
    "8",
    "--projects",
    "3",
    "--days",
    "28",
    "--events-per-day",
    "0",
    "--pull-requests",
    "6",
    "--until",
    UNTIL,
];

/// Every row the delivery part stores, as the database has it.
struct Stored {
    projects: Vec<project::Model>,
    repositories: Vec<repository::Model>,
    pull_requests: Vec<pull_request::Model>,
    reviews: Vec<pull_request_review::Model>,
    deployments: Vec<deployment::Model>,
    shipped: Vec<deployment_pull_request::Model>,
    incidents: Vec<incident::Model>,
    identities: Vec<identity::Model>,
}

async fn stored(db: &TestDb) -> Stored {
    let db = Database::connect(&db.url).await.expect("connect");
    let stored = Stored {
        projects: project::Entity::find().all(&db).await.expect("projects"),
        repositories: repository::Entity::find().all(&db).await.expect("repos"),
        pull_requests: pull_request::Entity::find().all(&db).await.expect("prs"),
        reviews: pull_request_review::Entity::find()
            .all(&db)
            .await
            .expect("reviews"),
        deployments: deployment::Entity::find().all(&db).await.expect("deploys"),
        shipped: deployment_pull_request::Entity::find()
            .all(&db)
            .await
            .expect("shipped"),
        incidents: incident::Entity::find().all(&db).await.expect("incidents"),
        identities: identity::Entity::find().all(&db).await.expect("identities"),
    };
    db.close().await.ok();
    stored
}

/// What two seeds with the same options must agree on: everything but row ids and the
/// bookkeeping times of the moment they ran.
fn snapshot(s: &Stored) -> Vec<String> {
    let name = |id| {
        s.repositories
            .iter()
            .find(|r| r.id == id)
            .map(|r| format!("{} {}", r.full_name, r.external_id))
            .unwrap_or_default()
    };
    let mut out: Vec<String> = s
        .pull_requests
        .iter()
        .map(|p| {
            format!(
                "{} #{} {} {:?} {} {:?} {:?} {:?} {:?} {}+{}",
                name(p.repository_id),
                p.number,
                p.title,
                p.state,
                p.opened_at,
                p.first_commit_at,
                p.first_review_at,
                p.approved_at,
                p.merged_at,
                p.additions,
                p.deletions
            )
        })
        .chain(s.deployments.iter().map(|d| {
            let repo = d.repository_id.map(name).unwrap_or_default();
            format!(
                "{repo} {} {} {:?} {} {}",
                d.external_id, d.environment, d.status, d.started_at, d.status_at
            )
        }))
        .chain(s.incidents.iter().map(|i| {
            format!(
                "{} {} {} {:?} {:?}",
                i.external_id, i.title, i.opened_at, i.resolved_at, i.caused_by
            )
        }))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn seed_makes_believable_delivery_data_the_same_for_the_same_seed() {
    let (first, second) = (TestDb::empty().await, TestDb::empty().await);
    let args: Vec<&str> = ["--secret-key", KEY].iter().chain(SPEC).copied().collect();
    assert_eq!(run(&first, &args).await, ExitCode::SUCCESS);
    assert_eq!(run(&second, &args).await, ExitCode::SUCCESS);
    let s = stored(&first).await;
    let until: DateTime<Utc> = UNTIL.parse().expect("time");
    let from = until - Duration::days(28);

    assert_eq!(s.projects.len(), 6);
    for p in &s.projects {
        let n = s
            .repositories
            .iter()
            .filter(|r| r.project_id == p.id)
            .count();
        assert!(
            (1..=2).contains(&n),
            "project {} has {n} repositories",
            p.slug
        );
    }

    let prs = &s.pull_requests;
    let count = |state| prs.iter().filter(|p| p.state == state).count();
    let (merged, closed, open) = (
        count(PullRequestState::Merged),
        count(PullRequestState::Closed),
        count(PullRequestState::Open),
    );
    assert!(prs.len() >= 40, "{} pull requests", prs.len());
    assert!(
        merged * 10 >= prs.len() * 7,
        "{merged} of {} merged",
        prs.len()
    );
    assert!(
        closed > 0 && closed * 4 < prs.len(),
        "{closed} closed unmerged"
    );
    assert!(open > 0, "some still open at the end");
    let weekend = prs
        .iter()
        .filter(|p| matches!(p.opened_at.weekday(), Weekday::Sat | Weekday::Sun))
        .count();
    assert!(
        weekend * 10 < prs.len(),
        "{weekend} opened on weekends: no weekday rhythm"
    );
    for p in prs.iter().filter(|p| p.state == PullRequestState::Merged) {
        let times = [
            p.first_commit_at,
            Some(p.opened_at),
            p.first_review_at,
            p.approved_at,
            p.merged_at,
        ];
        assert!(
            times.iter().all(Option::is_some),
            "#{} lacks a time: {times:?}",
            p.number
        );
        assert!(
            times.is_sorted(),
            "#{} times out of order: {times:?}",
            p.number
        );
        assert!(
            times[0] >= Some(from) && times[4] <= Some(until),
            "#{}: {times:?}",
            p.number
        );
    }
    assert!(
        s.reviews.iter().all(|r| r.pull_request_id.is_some()),
        "every review is linked to its pull request"
    );

    let production = |status| {
        s.deployments
            .iter()
            .filter(|d| d.tier == EnvironmentTier::Production && d.status == status)
            .count()
    };
    let (shipped, failed) = (
        production(DeploymentStatus::Success),
        production(DeploymentStatus::Failure),
    );
    assert!(
        failed > 0 && failed * 4 < shipped,
        "{failed} failed, {shipped} succeeded"
    );
    assert!(
        s.deployments
            .iter()
            .any(|d| d.tier == EnvironmentTier::Staging),
        "staging deployments too"
    );
    assert!(
        s.shipped.len() >= merged,
        "deployments name the pull requests they ship"
    );

    let resolved: Vec<&incident::Model> = s
        .incidents
        .iter()
        .filter(|i| i.resolved_at.is_some())
        .collect();
    assert!(!resolved.is_empty(), "incidents with a time to restore");
    assert!(resolved.iter().all(|i| i.resolved_at > Some(i.opened_at)));
    let failed_ids: Vec<&str> = s
        .deployments
        .iter()
        .filter(|d| d.status == DeploymentStatus::Failure)
        .map(|d| d.external_id.as_str())
        .collect();
    assert!(
        s.incidents
            .iter()
            .filter_map(|i| i.caused_by.as_deref())
            .any(|cause| failed_ids.contains(&cause)),
        "some incidents are caused by a failed deployment"
    );

    let emails = s
        .identities
        .iter()
        .filter(|i| i.kind == IdentityKind::Email);
    assert!(emails.clone().count() > 0);
    assert!(
        emails.clone().all(|i| i.developer_id.is_some()),
        "developers match by email"
    );
    assert!(
        s.identities.iter().any(|i| i.developer_id.is_none()),
        "some GitHub logins stay unmatched"
    );

    assert_eq!(
        snapshot(&s),
        snapshot(&stored(&second).await),
        "same seed, same data"
    );
}

#[tokio::test]
async fn without_a_key_the_seed_leaves_delivery_data_out() {
    let db = TestDb::empty().await;
    assert_eq!(run(&db, SPEC).await, ExitCode::SUCCESS);
    let s = stored(&db).await;
    assert_eq!(s.projects.len(), 6, "the rest is seeded as usual");
    assert!(s.repositories.is_empty() && s.pull_requests.is_empty());
}
