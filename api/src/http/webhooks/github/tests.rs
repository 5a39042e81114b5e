//! `github::parse` over fixtures in GitHub's documented shapes (our own trimmed examples), and
//! variations of them made in place.

use chrono::{DateTime, Utc};
use entity::{
    enums::{
        DeploymentStatus, EnvironmentTier, IdentityKind, Provider, PullRequestState, ReviewState,
    },
    repository,
};
use serde_json::Value;
use uuid::Uuid;

use super::*;

const PING: &str = include_str!("../fixtures/ping.json");
const PR_OPENED: &str = include_str!("../fixtures/pull_request.opened.json");
const PR_MERGED: &str = include_str!("../fixtures/pull_request.closed-merged.json");
const PR_CLOSED: &str = include_str!("../fixtures/pull_request.closed-unmerged.json");
const REVIEW_SUBMITTED: &str = include_str!("../fixtures/pull_request_review.submitted.json");
const REVIEW_DISMISSED: &str = include_str!("../fixtures/pull_request_review.dismissed.json");
const PUSH_BRANCH: &str = include_str!("../fixtures/push.branch.json");
const PUSH_TAG: &str = include_str!("../fixtures/push.tag.json");
const PUSH_DELETED: &str = include_str!("../fixtures/push.deleted.json");
const DEPLOYMENT: &str = include_str!("../fixtures/deployment.created.json");
const DEPLOYMENT_STATUS: &str = include_str!("../fixtures/deployment_status.success.json");
const INCIDENT_OPENED: &str = include_str!("../fixtures/issues.opened-incident.json");
const INCIDENT_CLOSED: &str = include_str!("../fixtures/issues.closed-incident.json");
const BUG_OPENED: &str = include_str!("../fixtures/issues.opened-bug.json");

fn repo() -> repository::Model {
    let at = time("2025-01-01T00:00:00Z");
    repository::Model {
        organization_id: Uuid::from_u128(1),
        id: Uuid::from_u128(2),
        project_id: Uuid::from_u128(3),
        provider: Provider::Github,
        external_id: "718293046".into(),
        full_name: "acme-labs/ledger".into(),
        default_branch: "main".into(),
        webhook_secret: "v1.sealed.elsewhere".into(),
        created_at: at,
        updated_at: at,
    }
}

fn repository_id() -> RepositoryId {
    RepositoryId::from_db(Uuid::from_u128(2))
}

fn project_id() -> ProjectId {
    ProjectId::from_db(Uuid::from_u128(3))
}

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn github(login: &str) -> Option<IdentityRef> {
    IdentityRef::new(IdentityKind::Github, login)
}

fn facts(event: &str, body: &[u8]) -> Facts {
    match parse(event, body, &repo()) {
        Ok(Parsed::Facts(facts)) => facts,
        other => panic!("{event}: expected facts, got {other:?}"),
    }
}

fn ignored(event: &str, body: &[u8]) -> &'static str {
    match parse(event, body, &repo()) {
        Ok(Parsed::Ignored(why)) => why,
        other => panic!("{event}: expected it ignored, got {other:?}"),
    }
}

fn error(event: &str, body: &[u8]) -> PayloadError {
    match parse(event, body, &repo()) {
        Err(err) => err,
        other => panic!("{event}: expected an error, got {other:?}"),
    }
}

/// A fixture with `change` applied.
fn tweak(fixture: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_str(fixture).unwrap();
    change(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn an_opened_pull_request() {
    let facts = facts("pull_request", PR_OPENED.as_bytes());
    let expected = PullRequestFact {
        repository: repository_id(),
        number: 57,
        title: "Add ledger export to CSV".into(),
        state: PullRequestState::Open,
        author: github("mira-okafor"),
        opened_at: time("2025-03-04T09:12:44Z"),
        first_commit_at: None,
        merged_at: None,
        closed_at: None,
        size: Some(Size {
            additions: 120,
            deletions: 8,
            changed_files: 5,
        }),
        head_ref: Some("export-csv".into()),
        // The trial merge's sha of an open pull request is left out.
        merge_commit_sha: None,
        updated_at: time("2025-03-04T09:12:44Z"),
    };
    assert_eq!(
        facts,
        Facts {
            pull_requests: vec![expected],
            ..Facts::default()
        }
    );
}

#[test]
fn a_merged_pull_request() {
    let pr = &facts("pull_request", PR_MERGED.as_bytes()).pull_requests[0];
    assert_eq!(pr.state, PullRequestState::Merged);
    assert_eq!(pr.merged_at, Some(time("2025-03-05T16:40:01Z")));
    assert_eq!(pr.closed_at, Some(time("2025-03-05T16:40:01Z")));
    assert_eq!(
        pr.merge_commit_sha.as_deref(),
        Some("b7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4")
    );
    assert_eq!(
        pr.size,
        Some(Size {
            additions: 131,
            deletions: 9,
            changed_files: 6
        })
    );
    assert_eq!(pr.updated_at, time("2025-03-05T16:40:02Z"));

    // `merged` alone also says so (some payloads leave `merged_at` null a moment longer).
    let body = tweak(PR_MERGED, |v| v["pull_request"]["merged_at"] = Value::Null);
    let pr = &facts("pull_request", &body).pull_requests[0];
    assert_eq!(pr.state, PullRequestState::Merged);
    assert_eq!(pr.merged_at, None);
}

#[test]
fn a_pull_request_closed_without_merging() {
    let pr = &facts("pull_request", PR_CLOSED.as_bytes()).pull_requests[0];
    assert_eq!(pr.number, 61);
    assert_eq!(pr.state, PullRequestState::Closed);
    assert_eq!(pr.closed_at, Some(time("2025-03-07T08:30:14Z")));
    assert_eq!((pr.merged_at, pr.merge_commit_sha.as_deref()), (None, None));
    assert_eq!(pr.author, github("tjansen"));
    // A size this payload leaves out is unknown, so the stored one stays.
    assert_eq!(pr.size, None);
    assert_eq!(pr.head_ref.as_deref(), Some("faster-csv"));
}

#[test]
fn every_pull_request_action_reports_the_pull_request() {
    for action in [
        "edited",
        "reopened",
        "synchronize",
        "ready_for_review",
        "labeled",
    ] {
        let body = tweak(PR_OPENED, |v| v["action"] = action.into());
        assert_eq!(
            facts("pull_request", &body).pull_requests.len(),
            1,
            "{action}"
        );
    }
}

#[test]
fn a_submitted_review_and_its_pull_request() {
    let facts = facts("pull_request_review", REVIEW_SUBMITTED.as_bytes());
    assert_eq!(
        facts.reviews,
        vec![ReviewFact {
            repository: repository_id(),
            pull_request_number: 57,
            external_id: "1923847561".into(),
            reviewer: github("tjansen"),
            state: ReviewState::Approved,
            submitted_at: time("2025-03-05T10:02:17Z"),
            updated_at: time("2025-03-05T10:02:17Z"),
        }]
    );
    let pr = &facts.pull_requests[..];
    assert_eq!(pr.len(), 1);
    assert_eq!((pr[0].number, pr[0].state), (57, PullRequestState::Open));
    assert_eq!(pr[0].author, github("mira-okafor"));
    assert_eq!(pr[0].updated_at, time("2025-03-05T10:02:17Z"));
    assert_eq!(pr[0].merge_commit_sha, None);
    assert!(facts.commits.is_empty() && facts.deployments.is_empty());
}

#[test]
fn review_states_in_either_case() {
    for (state, expected) in [
        ("approved", ReviewState::Approved),
        ("APPROVED", ReviewState::Approved),
        ("changes_requested", ReviewState::ChangesRequested),
        ("CHANGES_REQUESTED", ReviewState::ChangesRequested),
        ("commented", ReviewState::Commented),
    ] {
        let body = tweak(REVIEW_SUBMITTED, |v| v["review"]["state"] = state.into());
        let facts = facts("pull_request_review", &body);
        assert_eq!(facts.reviews[0].state, expected, "{state}");
    }
    let edited = tweak(REVIEW_SUBMITTED, |v| v["action"] = "edited".into());
    assert_eq!(facts("pull_request_review", &edited).reviews.len(), 1);
}

#[test]
fn dismissed_and_pending_reviews_are_ignored() {
    ignored("pull_request_review", REVIEW_DISMISSED.as_bytes());
    for state in ["pending", "dismissed"] {
        let body = tweak(REVIEW_SUBMITTED, |v| v["review"]["state"] = state.into());
        ignored("pull_request_review", &body);
    }
}

#[test]
fn a_branch_push_reports_each_commit() {
    let facts = facts("push", PUSH_BRANCH.as_bytes());
    let [first, second] = &facts.commits[..] else {
        panic!("{:?}", facts.commits);
    };
    assert_eq!(
        first,
        &CommitFact {
            repository: repository_id(),
            sha: "3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b".into(),
            branch: "export-csv".into(),
            // Sent as 10:15:30+01:00.
            authored_at: time("2025-03-04T09:15:30Z"),
            author: IdentityRef::new(IdentityKind::Email, "mira.okafor@acme-labs.example"),
            message: "Add CSV export of a ledger range".into(),
        }
    );
    // No email: the GitHub login instead.
    assert_eq!(second.author, github("tjansen"));
    assert_eq!(second.authored_at, time("2025-03-04T09:40:00Z"));
    // The first line, cut at 200 characters (multi-byte ones included).
    let expected = format!("Normalize ledger amounts: {}", "€".repeat(174));
    assert_eq!(second.message.chars().count(), 200);
    assert_eq!(second.message, expected);
    assert!(facts.pull_requests.is_empty());
}

#[test]
fn a_commit_without_any_author_has_none() {
    let body = tweak(PUSH_BRANCH, |v| {
        v["commits"][0]["author"] = serde_json::json!({"name": "Someone", "email": ""});
        v["commits"][1].as_object_mut().unwrap().remove("author");
    });
    let facts = facts("push", &body);
    assert_eq!(
        (&facts.commits[0].author, &facts.commits[1].author),
        (&None, &None)
    );
}

#[test]
fn tag_pushes_branch_deletions_and_empty_pushes_are_ignored() {
    ignored("push", PUSH_TAG.as_bytes());
    ignored("push", PUSH_DELETED.as_bytes());
    let empty = tweak(PUSH_BRANCH, |v| v["commits"] = serde_json::json!([]));
    ignored("push", &empty);
}

#[test]
fn a_created_deployment() {
    let facts = facts("deployment", DEPLOYMENT.as_bytes());
    assert_eq!(
        facts.deployments,
        vec![DeploymentFact {
            project: project_id(),
            repository: Some(repository_id()),
            external_id: "github:5120447".into(),
            environment: "web-eu".into(),
            // GitHub's production flag, though the name says nothing.
            tier: EnvironmentTier::Production,
            status: DeploymentStatus::Pending,
            sha: Some("b7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4".into()),
            started_at: time("2025-03-05T17:02:10Z"),
            status_at: time("2025-03-05T17:02:10Z"),
            pull_requests: vec![],
        }]
    );
}

#[test]
fn without_the_production_flag_the_tier_comes_from_the_name() {
    for (flag, environment, tier) in [
        (Value::Bool(false), "web-eu", EnvironmentTier::Other),
        (Value::Null, "prod-us", EnvironmentTier::Production),
        (Value::Bool(false), "qa", EnvironmentTier::Testing),
    ] {
        let body = tweak(DEPLOYMENT, |v| {
            v["deployment"]["production_environment"] = flag.clone();
            v["deployment"]["environment"] = environment.into();
        });
        let facts = facts("deployment", &body);
        assert_eq!(facts.deployments[0].tier, tier, "{environment}");
    }
}

#[test]
fn a_deployment_status() {
    let facts = facts("deployment_status", DEPLOYMENT_STATUS.as_bytes());
    assert_eq!(
        facts.deployments,
        vec![DeploymentFact {
            project: project_id(),
            repository: Some(repository_id()),
            external_id: "github:5120391".into(),
            environment: "staging-eu".into(),
            tier: EnvironmentTier::Staging,
            status: DeploymentStatus::Success,
            sha: Some("b7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4".into()),
            started_at: time("2025-03-05T16:50:02Z"),
            status_at: time("2025-03-05T16:55:48Z"),
            pull_requests: vec![],
        }]
    );
}

#[test]
fn deployment_states_map_to_three_statuses() {
    for (state, status) in [
        ("success", DeploymentStatus::Success),
        ("failure", DeploymentStatus::Failure),
        ("error", DeploymentStatus::Failure),
        ("pending", DeploymentStatus::Pending),
        ("queued", DeploymentStatus::Pending),
        ("in_progress", DeploymentStatus::Pending),
        ("inactive", DeploymentStatus::Pending),
    ] {
        let body = tweak(DEPLOYMENT_STATUS, |v| {
            v["deployment_status"]["state"] = state.into();
        });
        assert_eq!(
            facts("deployment_status", &body).deployments[0].status,
            status
        );
    }
    // Without its creation time, the status's last update.
    let body = tweak(DEPLOYMENT_STATUS, |v| {
        v["deployment_status"]["created_at"] = Value::Null;
    });
    let status_at = facts("deployment_status", &body).deployments[0].status_at;
    assert_eq!(status_at, time("2025-03-05T16:55:49Z"));
}

#[test]
fn an_incident_issue_opened_and_closed() {
    let expected = IncidentFact {
        project: project_id(),
        repository: Some(repository_id()),
        external_id: "github-issue:214".into(),
        title: "Ledger totals off by one cent after 2.4.0".into(),
        opened_at: time("2025-03-05T18:20:00Z"),
        resolved_at: None,
        caused_by: None,
        updated_at: time("2025-03-05T18:20:00Z"),
    };
    let opened = facts("issues", INCIDENT_OPENED.as_bytes());
    assert_eq!(opened.incidents, vec![expected.clone()]);
    let closed = facts("issues", INCIDENT_CLOSED.as_bytes());
    assert_eq!(
        closed.incidents,
        vec![IncidentFact {
            resolved_at: Some(time("2025-03-05T21:05:30Z")),
            updated_at: time("2025-03-05T21:05:31Z"),
            ..expected
        }]
    );
    // Reopened: GitHub keeps the old `closed_at`, but it is no longer resolved.
    let reopened = tweak(INCIDENT_CLOSED, |v| {
        v["action"] = "reopened".into();
        v["issue"]["state"] = "open".into();
    });
    assert_eq!(facts("issues", &reopened).incidents[0].resolved_at, None);
}

#[test]
fn only_issues_labelled_incident_are_incidents() {
    ignored("issues", BUG_OPENED.as_bytes());
    let labels = [
        "incident",
        "Incident",
        "incident: sev1",
        "INCIDENT-P2",
        "type: incident",
        "kind/Incident",
    ];
    for label in labels {
        let body = tweak(BUG_OPENED, |v| {
            v["issue"]["labels"] = serde_json::json!([{"name": "ui"}, {"name": label}]);
        });
        assert_eq!(facts("issues", &body).incidents.len(), 1, "{label}");
    }
    for labels in [
        serde_json::json!([]),
        serde_json::json!([{"name": "not an incident"}]),
        serde_json::json!([{"name": "incidental"}, {"name": "type: incidentals"}]),
        serde_json::json!([{"name": "type: bug"}, {"name": "area/incidents"}]),
    ] {
        let body = tweak(BUG_OPENED, |v| v["issue"]["labels"] = labels);
        ignored("issues", &body);
    }
    let deleted = tweak(INCIDENT_OPENED, |v| v["action"] = "deleted".into());
    ignored("issues", &deleted);
}

#[test]
fn pings_and_unknown_events_are_ignored() {
    ignored("ping", PING.as_bytes());
    ignored("star", br#"{"action": "created"}"#);
    ignored("workflow_run", b"not even json");
    ignored("", b"");
}

#[test]
fn a_body_that_is_not_json_is_malformed() {
    for body in [&b"{"[..], b"", b"not json", b"[1, 2]", b"\"text\""] {
        let err = error("pull_request", body);
        assert!(matches!(err, PayloadError::Malformed { .. }), "{err:?}");
        assert!(!err.to_string().contains("struct"), "{err}");
    }
    let not_an_object = tweak(PR_OPENED, |v| v["pull_request"]["head"] = 5.into());
    let err = error("pull_request", &not_an_object).to_string();
    assert!(err.contains("expected a JSON object"), "{err}");
    let wrong_type = tweak(PR_OPENED, |v| v["pull_request"]["number"] = "57".into());
    let err = error("pull_request", &wrong_type);
    assert!(matches!(err, PayloadError::Malformed { .. }), "{err:?}");
    let bad_time = tweak(PR_OPENED, |v| {
        v["pull_request"]["created_at"] = "yesterday".into()
    });
    assert!(matches!(
        error("pull_request", &bad_time),
        PayloadError::Malformed { .. }
    ));
}

#[test]
fn a_missing_field_is_named() {
    let missing = |event: &str, fixture: &str, change: fn(&mut Value)| match error(
        event,
        &tweak(fixture, change),
    ) {
        PayloadError::Missing { field } => field,
        other => panic!("{other:?}"),
    };
    let field = missing("pull_request", PR_OPENED, |v| {
        v["pull_request"].as_object_mut().unwrap().remove("number");
    });
    assert_eq!(field, "pull_request.number");
    let field = missing("pull_request", PR_OPENED, |v| {
        v["pull_request"]["updated_at"] = Value::Null;
    });
    assert_eq!(field, "pull_request.updated_at");
    let field = missing("pull_request", PR_OPENED, |v| {
        v.as_object_mut().unwrap().remove("pull_request");
    });
    assert_eq!(field, "pull_request");
    let field = missing("pull_request_review", REVIEW_SUBMITTED, |v| {
        v["review"]["submitted_at"] = Value::Null;
    });
    assert_eq!(field, "review.submitted_at");
    let field = missing("push", PUSH_BRANCH, |v| {
        v["commits"][1].as_object_mut().unwrap().remove("id");
    });
    assert_eq!(field, "commits[1].id");
    let field = missing("deployment_status", DEPLOYMENT_STATUS, |v| {
        v["deployment"]["id"] = Value::Null;
    });
    assert_eq!(field, "deployment.id");
    let field = missing("issues", INCIDENT_OPENED, |v| {
        v["issue"].as_object_mut().unwrap().remove("created_at");
    });
    assert_eq!(field, "issue.created_at");

    let err = AppError::from(PayloadError::Missing {
        field: "issue.created_at".into(),
    });
    assert_eq!(err.code(), "BAD_USER_INPUT");
    assert!(
        err.message().contains("issue.created_at"),
        "{}",
        err.message()
    );
}

#[test]
fn a_delivery_for_another_repository_is_refused() {
    for (event, fixture) in [
        ("pull_request", PR_OPENED),
        ("pull_request_review", REVIEW_SUBMITTED),
        ("push", PUSH_BRANCH),
        ("deployment", DEPLOYMENT),
        ("issues", INCIDENT_OPENED),
    ] {
        let body = tweak(fixture, |v| v["repository"]["id"] = 999_000_111.into());
        assert_eq!(
            error(event, &body),
            PayloadError::OtherRepository,
            "{event}"
        );
        let err = AppError::from(PayloadError::OtherRepository);
        assert!(err.message().contains("another repository"));
    }
    let body = tweak(PR_OPENED, |v| v["repository"]["id"] = 999_000_111.into());
    // Compared only when both sides know GitHub's id.
    let unknown = repository::Model {
        external_id: String::new(),
        ..repo()
    };
    assert!(matches!(
        parse("pull_request", &body, &unknown),
        Ok(Parsed::Facts(_))
    ));
    let generic = repository::Model {
        provider: Provider::Generic,
        ..repo()
    };
    assert!(matches!(
        parse("pull_request", &body, &generic),
        Ok(Parsed::Facts(_))
    ));
    let anonymous = tweak(PR_OPENED, |v| {
        v.as_object_mut().unwrap().remove("repository");
    });
    assert_eq!(facts("pull_request", &anonymous).pull_requests.len(), 1);
}
