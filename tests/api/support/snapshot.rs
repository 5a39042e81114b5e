//! Every row an organization owns, read straight from the database, so a
//! test can prove that a refused request changed nothing.
//!
//! `api_keys.last_used_at` is left out: authenticating with a key stamps it
//! (by design), and that is not a change made by the refused request.

use entity::scoped::InOrg as _;
use std::collections::BTreeMap;

use devgraph::ids::OrgId;
use entity::{
    aggregated_event, api_key, api_key_prefix, audit_log, commit, deployment,
    deployment_pull_request, developer, event, event_meta, identity, incident, organization,
    project, pull_request, pull_request_review, repository, team_space, team_space_member,
    webhook_delivery,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use serde::Serialize;
use serde_json::Value;

use crate::support::TestApp;

/// Table name → its rows of one organization, each as JSON text, sorted.
pub type Snapshot = BTreeMap<&'static str, Vec<String>>;

async fn rows<E>(app: &TestApp, select: Select<E>, drop: &[&str]) -> Vec<String>
where
    E: EntityTrait,
    E::Model: Serialize,
{
    let models = select.all(app.db()).await.expect("snapshot read");
    let mut out: Vec<String> = models
        .iter()
        .map(|m| {
            let mut v = serde_json::to_value(m).expect("row to json");
            if let Value::Object(map) = &mut v {
                for key in drop {
                    map.remove(*key);
                }
            }
            v.to_string()
        })
        .collect();
    out.sort();
    out
}

pub async fn snapshot(app: &TestApp, org: OrgId) -> Snapshot {
    let id = org.uuid();
    let mut s = Snapshot::new();
    let orgs = organization::Entity::find().filter(organization::Column::Id.eq(id));
    s.insert("organizations", rows(app, orgs, &[]).await);
    s.insert(
        "developers",
        rows(app, developer::Entity::find_in(org), &[]).await,
    );
    s.insert(
        "team_spaces",
        rows(app, team_space::Entity::find_in(org), &[]).await,
    );
    let members = team_space_member::Entity::find_in(org);
    s.insert("team_space_members", rows(app, members, &[]).await);
    s.insert(
        "projects",
        rows(app, project::Entity::find_in(org), &[]).await,
    );
    let keys = api_key::Entity::find_in(org);
    s.insert("api_keys", rows(app, keys, &["last_used_at"]).await);
    let prefixes =
        api_key_prefix::Entity::find().filter(api_key_prefix::Column::OrganizationId.eq(id));
    s.insert("api_key_prefixes", rows(app, prefixes, &[]).await);
    s.insert(
        "audit_log",
        rows(app, audit_log::Entity::find_in(org), &[]).await,
    );
    s.insert("events", rows(app, event::Entity::find_in(org), &[]).await);
    s.insert(
        "event_meta",
        rows(app, event_meta::Entity::find_in(org), &[]).await,
    );
    let rollups = aggregated_event::Entity::find_in(org);
    s.insert("aggregated_events", rows(app, rollups, &[]).await);
    // The delivery data. A repository's sealed secret is not serialized; its updated_at
    // moves whenever the secret does.
    let repos = repository::Entity::find_in(org);
    s.insert("repositories", rows(app, repos, &[]).await);
    let ids = identity::Entity::find_in(org);
    s.insert("identities", rows(app, ids, &[]).await);
    s.insert(
        "commits",
        rows(app, commit::Entity::find_in(org), &[]).await,
    );
    let prs = pull_request::Entity::find_in(org);
    s.insert("pull_requests", rows(app, prs, &[]).await);
    let reviews = pull_request_review::Entity::find_in(org);
    s.insert("pull_request_reviews", rows(app, reviews, &[]).await);
    let hooks = webhook_delivery::Entity::find_in(org);
    s.insert("webhook_deliveries", rows(app, hooks, &[]).await);
    let deploys = deployment::Entity::find_in(org);
    s.insert("deployments", rows(app, deploys, &[]).await);
    let shipped = deployment_pull_request::Entity::find_in(org);
    s.insert("deployment_pull_requests", rows(app, shipped, &[]).await);
    let incidents = incident::Entity::find_in(org);
    s.insert("incidents", rows(app, incidents, &[]).await);
    s
}

/// Rows removed (`-`) and added (`+`) per table; empty when equal.
pub fn diff(before: &Snapshot, after: &Snapshot) -> String {
    let mut out = String::new();
    for (table, old) in before {
        let new = after.get(table).cloned().unwrap_or_default();
        for row in old.iter().filter(|r| !new.contains(r)) {
            out.push_str(&format!("  {table} - {row}\n"));
        }
        for row in new.iter().filter(|r| !old.contains(r)) {
            out.push_str(&format!("  {table} + {row}\n"));
        }
    }
    out
}

/// `Err` with the diff when the organization's rows differ from `before`.
pub async fn check_unchanged(app: &TestApp, org: OrgId, before: &Snapshot) -> Result<(), String> {
    let changes = diff(before, &snapshot(app, org).await);
    if changes.is_empty() {
        Ok(())
    } else {
        Err(format!("the database changed:\n{changes}"))
    }
}

/// The organization's audit rows, oldest first.
pub async fn audit_rows(app: &TestApp, org: OrgId) -> Vec<audit_log::Model> {
    let mut rows = audit_log::Entity::find_in(org)
        .all(app.db())
        .await
        .expect("audit rows");
    rows.sort_by_key(|r| (r.at, r.id));
    rows
}
