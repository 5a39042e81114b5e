//! Which named constraint a failed statement violated, on PostgreSQL and on SQLite alike.
//!
//! The API maps database errors by constraint-name prefix (`uq_`, `pk_`, `fk_`). PostgreSQL
//! reports the constraint (or unique index) name with every violation. SQLite never does: a
//! unique index violation reads `UNIQUE constraint failed: table.col, table.col` and a foreign
//! key violation just `FOREIGN KEY constraint failed`. [`UNIQUE_KEYS`] lets a SQLite unique
//! violation be resolved to the same name PostgreSQL would report; the migration crate's tests
//! check that list against both migrated schemas so the two cannot drift apart.

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// A unique index or primary key of the schema, as the migrations create it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UniqueKey {
    pub name: &'static str,
    pub table: &'static str,
    /// In index order.
    pub columns: &'static [&'static str],
}

const fn key(
    name: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
) -> UniqueKey {
    UniqueKey {
        name,
        table,
        columns,
    }
}

/// Every unique index and primary key in the schema.
pub const UNIQUE_KEYS: &[UniqueKey] = &[
    key("pk_organizations", "organizations", &["id"]),
    key("uq_organizations_slug", "organizations", &["slug"]),
    key("pk_developers", "developers", &["organization_id", "id"]),
    key(
        "uq_developers_email",
        "developers",
        &["organization_id", "email"],
    ),
    key(
        "uq_developers_auth_subject",
        "developers",
        &["organization_id", "auth_subject"],
    ),
    key("pk_team_spaces", "team_spaces", &["organization_id", "id"]),
    key(
        "uq_team_spaces_slug",
        "team_spaces",
        &["organization_id", "slug"],
    ),
    key(
        "pk_team_space_members",
        "team_space_members",
        &["organization_id", "team_space_id", "developer_id"],
    ),
    key(
        "pk_team_space_rollups",
        "team_space_rollups",
        &["organization_id", "team_space_id", "day", "name"],
    ),
    key("pk_projects", "projects", &["organization_id", "id"]),
    key("uq_projects_slug", "projects", &["organization_id", "slug"]),
    key("pk_api_keys", "api_keys", &["organization_id", "id"]),
    key(
        "uq_api_keys_prefix",
        "api_keys",
        &["organization_id", "prefix"],
    ),
    key("pk_api_key_prefixes", "api_key_prefixes", &["prefix"]),
    key("pk_events", "events", &["organization_id", "id"]),
    key(
        "uq_events_client_event_id",
        "events",
        &[
            "organization_id",
            "project_id",
            "source_id",
            "client_event_id",
        ],
    ),
    key(
        "pk_event_meta",
        "event_meta",
        &["organization_id", "project_id", "name"],
    ),
    key(
        "pk_aggregated_events",
        "aggregated_events",
        &[
            "organization_id",
            "project_id",
            "developer_id",
            "name",
            "day",
        ],
    ),
    key(
        "pk_organization_rollups",
        "organization_rollups",
        &["organization_id", "day", "name"],
    ),
    key(
        "pk_project_rollups",
        "project_rollups",
        &["organization_id", "project_id", "day", "name"],
    ),
    key(
        "pk_developer_rollups",
        "developer_rollups",
        &["organization_id", "developer_id", "day", "name"],
    ),
    key(
        "pk_delivery_rollups",
        "delivery_rollups",
        &[
            "organization_id",
            "project_id",
            "developer_id",
            "day",
            "tier",
            "metric",
            "bucket",
        ],
    ),
    key(
        "pk_delivery_contributions",
        "delivery_contributions",
        &[
            "organization_id",
            "source_id",
            "project_id",
            "developer_id",
            "day",
            "tier",
            "metric",
            "bucket",
        ],
    ),
    key("pk_audit_log", "audit_log", &["organization_id", "id"]),
    key("pk_identities", "identities", &["organization_id", "id"]),
    key(
        "uq_identities_value",
        "identities",
        &["organization_id", "kind", "value"],
    ),
    key(
        "pk_repositories",
        "repositories",
        &["organization_id", "id"],
    ),
    key(
        "uq_repositories_external",
        "repositories",
        &["organization_id", "provider", "external_id"],
    ),
    key("pk_commits", "commits", &["organization_id", "id"]),
    key(
        "uq_commits_branch_sha",
        "commits",
        &["organization_id", "repository_id", "branch", "sha"],
    ),
    key(
        "pk_pull_requests",
        "pull_requests",
        &["organization_id", "id"],
    ),
    key(
        "uq_pull_requests_number",
        "pull_requests",
        &["organization_id", "repository_id", "number"],
    ),
    key(
        "pk_pull_request_reviews",
        "pull_request_reviews",
        &["organization_id", "id"],
    ),
    key(
        "uq_pull_request_reviews_external",
        "pull_request_reviews",
        &["organization_id", "repository_id", "external_id"],
    ),
    key(
        "pk_webhook_deliveries",
        "webhook_deliveries",
        &["organization_id", "id"],
    ),
    key(
        "uq_webhook_deliveries_delivery",
        "webhook_deliveries",
        &["organization_id", "repository_id", "delivery_id"],
    ),
    key("pk_deployments", "deployments", &["organization_id", "id"]),
    key(
        "uq_deployments_external",
        "deployments",
        &["organization_id", "project_id", "external_id"],
    ),
    key(
        "pk_deployment_pull_requests",
        "deployment_pull_requests",
        &[
            "organization_id",
            "deployment_id",
            "repository_id",
            "pull_request_number",
        ],
    ),
    key("pk_incidents", "incidents", &["organization_id", "id"]),
    key(
        "uq_incidents_external",
        "incidents",
        &["organization_id", "project_id", "external_id"],
    ),
];

/// A constraint violation reported by the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A unique index or primary key (`uq_…` / `pk_…`). `None` only when SQLite names a column
    /// set missing from [`UNIQUE_KEYS`].
    Unique(Option<String>),
    /// A foreign key (`fk_…`). Always `None` on SQLite, which does not say which one failed.
    ForeignKey(Option<String>),
}

/// Classifies `err` as a unique or foreign-key violation and names the constraint where the
/// backend allows it. Any other error gives `None`.
pub fn violation(err: &DbErr) -> Option<Violation> {
    let constraint = reported_constraint(err);
    match err.sql_err()? {
        SqlErr::UniqueConstraintViolation(message) => Some(Violation::Unique(
            constraint
                .or_else(|| named_in_message(&message))
                .or_else(|| sqlite_unique_key(&message).map(|k| k.name.to_owned())),
        )),
        SqlErr::ForeignKeyConstraintViolation(message) => Some(Violation::ForeignKey(
            constraint.or_else(|| named_in_message(&message)),
        )),
        _ => None,
    }
}

/// The constraint name the driver reported, which only PostgreSQL does (an empty one counts as
/// none: Citus relays a shard's violation without it).
fn reported_constraint(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    match e.deref() {
        sea_orm::sqlx::Error::Database(db) => db
            .constraint()
            .filter(|name| !name.is_empty())
            .map(|name| without_shard(name).to_owned()),
        _ => None,
    }
}

/// The constraint PostgreSQL's message names (`… violates unique constraint "uq_x"`), for when
/// the name field is empty: Citus puts the shard's constraint there only
/// (`uq_team_spaces_slug_102056`), and the shard suffix is dropped.
fn named_in_message(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("constraint \"")?;
    let (name, _) = rest.split_once('"')?;
    Some(without_shard(name).to_owned())
}

/// `name` without a Citus shard id (`_<digits>`) when what is left is one of the schema's
/// names: a unique key of [`UNIQUE_KEYS`] or a foreign key (`fk_…`), so a name of the schema
/// that ends in digits itself is kept.
fn without_shard(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((base, shard))
            if !shard.is_empty()
                && shard.bytes().all(|b| b.is_ascii_digit())
                && (UNIQUE_KEYS.iter().any(|k| k.name == base) || base.starts_with("fk_")) =>
        {
            base
        }
        _ => name,
    }
}

/// Resolves SQLite's `UNIQUE constraint failed: t.a, t.b` to the key on exactly those columns.
pub fn sqlite_unique_key(message: &str) -> Option<&'static UniqueKey> {
    let list = message
        .split_once("UNIQUE constraint failed: ")
        .map(|(_, rest)| rest.trim())?;
    let mut table = None;
    let mut columns = Vec::new();
    for qualified in list.split(", ") {
        let (t, c) = qualified.split_once('.')?;
        if *table.get_or_insert(t) != t {
            return None;
        }
        columns.push(c);
    }
    let table = table?;
    UNIQUE_KEYS
        .iter()
        .find(|k| k.table == table && k.columns == columns.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_sqlite_messages() {
        let key = sqlite_unique_key(
            "UNIQUE constraint failed: team_spaces.organization_id, team_spaces.slug",
        );
        assert_eq!(key.map(|k| k.name), Some("uq_team_spaces_slug"));
        let key = sqlite_unique_key("UNIQUE constraint failed: organizations.slug");
        assert_eq!(key.map(|k| k.name), Some("uq_organizations_slug"));
        let key = sqlite_unique_key("UNIQUE constraint failed: api_key_prefixes.prefix");
        assert_eq!(key.map(|k| k.name), Some("pk_api_key_prefixes"));
        assert!(sqlite_unique_key("UNIQUE constraint failed: projects.slug").is_none());
        assert!(sqlite_unique_key("FOREIGN KEY constraint failed").is_none());
    }

    #[test]
    fn reads_the_constraint_from_the_message_without_a_citus_shard_id() {
        let citus =
            r#"duplicate key value violates unique constraint "uq_team_spaces_slug_102056""#;
        assert_eq!(
            named_in_message(citus).as_deref(),
            Some("uq_team_spaces_slug")
        );
        let plain = r#"duplicate key value violates unique constraint "uq_projects_slug""#;
        assert_eq!(named_in_message(plain).as_deref(), Some("uq_projects_slug"));
        let fk = r#"insert or update on table "projects_102040" violates foreign key constraint "fk_projects_team_space_102041""#;
        assert_eq!(
            named_in_message(fk).as_deref(),
            Some("fk_projects_team_space")
        );
        // Only a known name loses a numeric tail.
        assert_eq!(without_shard("uq_unknown_102056"), "uq_unknown_102056");
        assert_eq!(without_shard("pk_organizations_7"), "pk_organizations");
        assert_eq!(without_shard("uq_projects_slug"), "uq_projects_slug");
        assert!(named_in_message("UNIQUE constraint failed: projects.slug").is_none());
    }

    #[test]
    fn names_follow_the_prefix_convention() {
        for k in UNIQUE_KEYS {
            assert!(
                k.name == format!("pk_{}", k.table)
                    || k.name.starts_with(&format!("uq_{}_", k.table)),
                "{}",
                k.name
            );
            let leads_with_org = k.columns.first() == Some(&"organization_id");
            let global = matches!(k.table, "organizations" | "api_key_prefixes");
            assert!(
                leads_with_org || global,
                "{} must lead with organization_id",
                k.name
            );
        }
    }
}
