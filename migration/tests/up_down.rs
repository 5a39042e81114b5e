//! Runs every migration up, down to zero and up again on a fresh SQLite file and, when
//! `TEST_DATABASE_URL` is set, on a fresh PostgreSQL database created for the run.
//!
//! While the schema is up it also checks what the rest of the workspace assumes of it: a row of
//! every table round-trips through the `entity` models (catching uuid/json/date/timestamp type
//! mismatches per backend), the unique keys match `entity::constraint::UNIQUE_KEYS`, constraint
//! violations resolve to their `uq_`/`pk_`/`fk_` names, foreign keys cannot cross tenants, the
//! projects → team_spaces foreign key is deferred, and deleting an organization cascades.

use entity::{ids::OrgId, scoped::InOrg as _};
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use entity::constraint::{UNIQUE_KEYS, Violation, violation};
use entity::enums::{DeveloperRole, TeamSpaceRole};
use entity::prelude::*;
use entity::{
    aggregated_event, api_key, api_key_prefix, audit_log, developer, event, event_meta,
    organization, project, team_space, team_space_member,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, IntoActiveModel, JoinType, PaginatorTrait, QueryFilter,
    QuerySelect, RelationTrait, Statement, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

const TABLES: &[&str] = &[
    "aggregated_events",
    "api_key_prefixes",
    "api_keys",
    "audit_log",
    "commits",
    "delivery_contributions",
    "delivery_rollups",
    "deployment_pull_requests",
    "deployments",
    "developer_rollups",
    "developers",
    "event_meta",
    "events",
    "identities",
    "incidents",
    "organization_rollups",
    "organizations",
    "project_rollups",
    "projects",
    "pull_request_reviews",
    "pull_requests",
    "repositories",
    "seaql_migrations",
    "team_space_members",
    "team_space_rollups",
    "team_spaces",
    "webhook_deliveries",
];

#[tokio::test]
async fn sqlite_up_down_up() {
    let path = std::env::temp_dir().join(format!("devgraph-migration-{}.db", Uuid::now_v7()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let outcome = tokio::spawn(cycle(url)).await;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    rethrow(outcome);
}

#[tokio::test]
async fn postgres_up_down_up() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL migrations not tested");
        return;
    };
    let admin = Database::connect(&admin_url).await.expect("connect admin");
    let name = format!("devgraph_migration_{}", Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await
        .expect("create database");
    let outcome = tokio::spawn(cycle(with_database(&admin_url, &name))).await;
    admin
        .execute_unprepared(&format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#))
        .await
        .expect("drop database");
    rethrow(outcome);
}

/// Re-raises a failure of the spawned cycle once the database has been cleaned up.
fn rethrow(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("{e}");
    }
}

/// `url` with its path (the database name) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    format!("{}/{name}{query}", &base[..path])
}

async fn cycle(url: String) {
    let db = Database::connect(&url).await.expect("connect");

    Migrator::up(&db, None).await.expect("up");
    assert_eq!(tables(&db).await, TABLES);
    check_unique_keys(&db).await;
    check_names(&db).await;
    let org = round_trip(&db).await;
    check_violations(&db, &org).await;
    check_deferred_team_space_fk(&db, &org).await;
    check_cascade(&db, &org).await;

    Migrator::down(&db, None).await.expect("down");
    assert_eq!(tables(&db).await, ["seaql_migrations"]);

    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(tables(&db).await, TABLES);
    let pending = Migrator::get_pending_migrations(&db).await.expect("status");
    assert!(pending.is_empty());

    // `devgraph migrate fresh` drops everything, then reapplies every migration.
    Migrator::fresh(&db).await.expect("fresh");
    assert_eq!(tables(&db).await, TABLES);
    assert_eq!(Organization::find().count(&db).await.expect("count"), 0);
    check_rollup_backfill(&db).await;

    db.close().await.expect("close");
}

async fn strings(db: &DatabaseConnection, sql: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| row.try_get::<String>("", c).expect(c))
                .collect()
        })
        .collect()
}

async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY name",
    };
    strings(db, sql, &["name"]).await.concat()
}

/// The real unique indexes and primary keys, as `name → (table, columns)`.
async fn unique_keys(db: &DatabaseConnection) -> BTreeMap<String, (String, Vec<String>)> {
    let mut keys = BTreeMap::new();
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            for table in TABLES.iter().filter(|t| **t != "seaql_migrations") {
                let sql = format!(
                    "SELECT il.name AS name, il.origin AS origin, ii.name AS col \
                     FROM pragma_index_list('{table}') il, pragma_index_info(il.name) ii \
                     WHERE il.\"unique\" = 1 ORDER BY il.name, ii.seqno"
                );
                for row in strings(db, &sql, &["name", "origin", "col"]).await {
                    // SQLite names primary-key indexes itself (sqlite_autoindex_…).
                    let name = if row[1] == "pk" {
                        format!("pk_{table}")
                    } else {
                        row[0].clone()
                    };
                    let entry = keys
                        .entry(name)
                        .or_insert_with(|| (table.to_string(), Vec::new()));
                    entry.1.push(row[2].clone());
                }
            }
        }
        _ => {
            let sql = "SELECT i.relname::text AS name, t.relname::text AS tbl, \
                       string_agg(a.attname::text, ',' ORDER BY k.ord) AS cols \
                       FROM pg_index x \
                       JOIN pg_class i ON i.oid = x.indexrelid \
                       JOIN pg_class t ON t.oid = x.indrelid \
                       JOIN pg_namespace n ON n.oid = t.relnamespace \
                       CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                       WHERE n.nspname = 'public' AND x.indisunique \
                       AND t.relname <> 'seaql_migrations' \
                       GROUP BY i.relname, t.relname";
            for row in strings(db, sql, &["name", "tbl", "cols"]).await {
                let columns = row[2].split(',').map(str::to_owned).collect();
                keys.insert(row[0].clone(), (row[1].clone(), columns));
            }
        }
    }
    keys
}

async fn check_unique_keys(db: &DatabaseConnection) {
    let expected: BTreeMap<String, (String, Vec<String>)> = UNIQUE_KEYS
        .iter()
        .map(|k| {
            let columns = k.columns.iter().map(|c| c.to_string()).collect();
            (k.name.to_owned(), (k.table.to_owned(), columns))
        })
        .collect();
    assert_eq!(unique_keys(db).await, expected);
}

/// Every index and (on PostgreSQL, where they have names) constraint is named
/// `<kind>_<table>…`, which is what the API's error mapping keys on.
async fn check_names(db: &DatabaseConnection) {
    let (indexes, constraints) = match db.get_database_backend() {
        DbBackend::Sqlite => (
            "SELECT name, tbl_name AS tbl FROM sqlite_master WHERE type = 'index' \
             AND name NOT LIKE 'sqlite_autoindex_%' AND tbl_name <> 'seaql_migrations'",
            None,
        ),
        _ => (
            "SELECT indexname AS name, tablename AS tbl FROM pg_indexes \
             WHERE schemaname = 'public' AND tablename <> 'seaql_migrations'",
            Some(
                "SELECT c.conname::text AS name, t.relname::text AS tbl FROM pg_constraint c \
                 JOIN pg_class t ON t.oid = c.conrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f') \
                 AND t.relname <> 'seaql_migrations'",
            ),
        ),
    };
    let mut named = strings(db, indexes, &["name", "tbl"]).await;
    if let Some(sql) = constraints {
        named.extend(strings(db, sql, &["name", "tbl"]).await);
    }
    assert!(named.len() > 20, "{named:?}");
    for row in named {
        let (name, table) = (&row[0], &row[1]);
        let ok = name == &format!("pk_{table}")
            || ["uq", "ix", "fk"]
                .iter()
                .any(|kind| name.starts_with(&format!("{kind}_{table}_")));
        assert!(ok, "{name} on {table} breaks the naming convention");
    }
}

fn now() -> DateTime<Utc> {
    // PostgreSQL keeps microseconds; truncating lets read-back values compare equal.
    Utc::now().trunc_subsecs(6)
}

/// Inserts one row into every table through the entities and reads each back; returns the
/// organization they belong to.
async fn round_trip(db: &DatabaseConnection) -> organization::Model {
    let now = now();
    let org = organization::Model {
        id: Uuid::now_v7(),
        slug: "acme".into(),
        name: "Acme".into(),
        time_zone: "Europe/Berlin".into(),
        event_retention_days: 30,
        budget_in_flight: Some(4),
        budget_requests_per_minute: None,
        budget_points_per_minute: None,
        created_at: now,
        updated_at: now,
    };
    let got = org
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("org");
    assert_eq!(got, org);
    let read = Organization::find_by_id(org.id).one(db).await.expect("org");
    assert_eq!(read.as_ref(), Some(&org));

    // Defaults come from the database when the fields are left unset.
    let defaulted = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set("defaults".into()),
        name: Set("Defaults".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("org with defaults");
    assert_eq!(defaulted.time_zone, "UTC");
    assert_eq!(defaulted.event_retention_days, 90);

    let dev = developer::Model {
        organization_id: org.id,
        id: Uuid::now_v7(),
        email: "ada@example.com".into(),
        name: "Ada".into(),
        role: DeveloperRole::Admin,
        auth_subject: "auth|ada".into(),
        deactivated_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    assert_eq!(
        dev.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("dev"),
        dev
    );
    let all = Developer::find_in(OrgId::from_db(org.id))
        .all(db)
        .await
        .expect("devs");
    assert_eq!(all, std::slice::from_ref(&dev));
    assert!(
        Developer::find_in(OrgId::from_db(defaulted.id))
            .all(db)
            .await
            .expect("devs")
            .is_empty()
    );

    let ts = team_space::Model {
        organization_id: org.id,
        id: Uuid::now_v7(),
        slug: "core".into(),
        name: "Core".into(),
        description: Some("The core team".into()),
        created_at: now,
        updated_at: now,
    };
    assert_eq!(
        ts.clone().into_active_model().insert(db).await.expect("ts"),
        ts
    );
    assert_eq!(
        TeamSpace::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("ts"),
        std::slice::from_ref(&ts)
    );

    let member = team_space_member::Model {
        organization_id: org.id,
        team_space_id: ts.id,
        developer_id: dev.id,
        role: TeamSpaceRole::Lead,
        created_at: now,
        updated_at: now,
    };
    let got = member
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("member");
    assert_eq!(got, member);
    let all = TeamSpaceMember::find_in(OrgId::from_db(org.id))
        .all(db)
        .await
        .expect("members");
    assert_eq!(all, std::slice::from_ref(&member));
    // The composite member → team space relation joins within the tenant.
    let spaces = TeamSpace::find_in(OrgId::from_db(org.id))
        .join(
            JoinType::InnerJoin,
            team_space_member::Relation::TeamSpace.def().rev(),
        )
        .filter(team_space_member::Column::DeveloperId.eq(dev.id))
        .all(db)
        .await
        .expect("related team spaces");
    assert_eq!(spaces, std::slice::from_ref(&ts));

    let proj = project::Model {
        organization_id: org.id,
        id: Uuid::now_v7(),
        team_space_id: Some(ts.id),
        slug: "web".into(),
        name: "Web".into(),
        created_at: now,
        updated_at: now,
    };
    assert_eq!(
        proj.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("project"),
        proj
    );
    assert_eq!(
        Project::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("projects"),
        std::slice::from_ref(&proj)
    );

    let key = api_key::Model {
        organization_id: org.id,
        id: Uuid::now_v7(),
        project_id: Some(proj.id),
        name: "CI".into(),
        prefix: "dg_abc123".into(),
        secret_hash: "ab".repeat(32),
        scopes: json!(["events:write", "events:read"]),
        created_by: Some(dev.id),
        created_at: now,
        updated_at: now,
        last_used_at: None,
        revoked_at: Some(now),
    };
    assert_eq!(
        key.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("key"),
        key
    );
    assert_eq!(
        ApiKey::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("keys"),
        std::slice::from_ref(&key)
    );

    let prefix = api_key_prefix::Model {
        prefix: key.prefix.clone(),
        organization_id: org.id,
        api_key_id: key.id,
        created_at: now,
    };
    let got = prefix
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("prefix");
    assert_eq!(got, prefix);
    let read = ApiKeyPrefix::find_by_id(prefix.prefix.clone())
        .one(db)
        .await;
    assert_eq!(read.expect("prefix"), Some(prefix));

    let ev = event::Model {
        organization_id: org.id,
        id: Uuid::now_v7(),
        project_id: proj.id,
        developer_id: Some(dev.id),
        name: "commit".into(),
        properties: json!({"branch": "main", "lines": 42, "nested": {"ok": true, "x": null}}),
        occurred_at: now - chrono::Duration::minutes(5),
        received_at: now,
        client_event_id: "c-1".into(),
        source_id: Some(dev.id),
        identity_id: None,
    };
    assert_eq!(
        ev.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("event"),
        ev
    );
    assert_eq!(
        Event::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("events"),
        std::slice::from_ref(&ev)
    );

    let meta = event_meta::Model {
        organization_id: org.id,
        project_id: proj.id,
        name: "commit".into(),
        first_seen: now,
        last_seen: now,
        total_count: 1 << 40,
        property_keys: json!(["branch", "lines", "nested"]),
    };
    assert_eq!(
        meta.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("meta"),
        meta
    );
    assert_eq!(
        EventMeta::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("meta"),
        [meta]
    );

    let agg = aggregated_event::Model {
        organization_id: org.id,
        project_id: proj.id,
        developer_id: entity::UNKNOWN_DEVELOPER,
        name: "commit".into(),
        day: NaiveDate::from_ymd_opt(2026, 11, 21).expect("date"),
        count: 3,
    };
    assert_eq!(
        agg.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("agg"),
        agg
    );
    let read = AggregatedEvent::find_by_id((
        agg.organization_id,
        agg.project_id,
        agg.developer_id,
        agg.name.clone(),
        agg.day,
    ))
    .one(db)
    .await
    .expect("agg");
    assert_eq!(read.as_ref(), Some(&agg));
    assert_eq!(
        AggregatedEvent::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("agg"),
        [agg]
    );

    let rollup = entity::team_space_rollup::Model {
        organization_id: org.id,
        team_space_id: ts.id,
        day: NaiveDate::from_ymd_opt(2026, 11, 21).expect("date"),
        name: "commit".into(),
        count: 3,
    };
    assert_eq!(
        rollup
            .clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("team rollup"),
        rollup
    );
    assert_eq!(
        TeamSpaceRollup::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("team rollup"),
        [rollup]
    );

    let day = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let org_rollup = entity::organization_rollup::Model {
        organization_id: org.id,
        day,
        name: "commit".into(),
        count: 3,
    };
    org_rollup
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("org rollup");
    assert_eq!(
        OrganizationRollup::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("org rollup"),
        [org_rollup]
    );
    let project_rollup = entity::project_rollup::Model {
        organization_id: org.id,
        project_id: proj.id,
        day,
        name: "commit".into(),
        count: 3,
    };
    project_rollup
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("project rollup");
    assert_eq!(
        ProjectRollup::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("project rollup"),
        [project_rollup]
    );
    let developer_rollup = entity::developer_rollup::Model {
        organization_id: org.id,
        developer_id: entity::UNKNOWN_DEVELOPER,
        day,
        name: "commit".into(),
        count: 3,
    };
    developer_rollup
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("developer rollup");
    assert_eq!(
        DeveloperRollup::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("developer rollup"),
        [developer_rollup]
    );

    let delivery_rollup = entity::delivery_rollup::Model {
        organization_id: org.id,
        project_id: proj.id,
        developer_id: entity::UNKNOWN_DEVELOPER,
        day,
        tier: "production".into(),
        metric: "lead".into(),
        bucket: -3,
        count: 720_720,
    };
    delivery_rollup
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("delivery rollup");
    assert_eq!(
        entity::delivery_rollup::Entity::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("delivery rollup"),
        [delivery_rollup]
    );
    let contribution = entity::delivery_contribution::Model {
        organization_id: org.id,
        source_id: Uuid::now_v7(),
        project_id: proj.id,
        developer_id: dev.id,
        day,
        tier: String::new(),
        metric: "opened".into(),
        bucket: 0,
        count: 1,
    };
    contribution
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("delivery contribution");
    assert_eq!(
        entity::delivery_contribution::Entity::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("delivery contribution"),
        [contribution]
    );

    let audit = audit_log::Model {
        organization_id: org.id,
        id: Uuid::now_v7(),
        actor_type: "developer".into(),
        actor_id: Some(dev.id),
        action: "team_space.create".into(),
        target_type: "team_space".into(),
        target_id: Some(ts.id),
        at: now,
        details: json!({"slug": "core"}),
    };
    assert_eq!(
        audit
            .clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("audit"),
        audit
    );
    assert_eq!(
        AuditLog::find_in(OrgId::from_db(org.id))
            .all(db)
            .await
            .expect("audit"),
        [audit]
    );

    org
}

fn expect_violation<T: std::fmt::Debug>(
    db: &DatabaseConnection,
    result: Result<T, DbErr>,
    expected: &str,
) {
    let err = result.expect_err(expected);
    let message = err.to_string();
    let got = violation(&err);
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    let want = if expected.starts_with("fk_") {
        // SQLite does not report which foreign key failed.
        Violation::ForeignKey((!sqlite).then(|| expected.to_owned()))
    } else {
        Violation::Unique(Some(expected.to_owned()))
    };
    assert_eq!(got, Some(want), "{message}");
    if !sqlite {
        assert!(message.contains(expected), "{message}");
    }
}

async fn check_violations(db: &DatabaseConnection, org: &organization::Model) {
    let now = now();
    let other = organization::Model {
        id: Uuid::now_v7(),
        slug: "other".into(),
        ..org.clone()
    };
    other
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("other org");

    let dup = organization::Model {
        id: Uuid::now_v7(),
        ..org.clone()
    };
    let result = dup.into_active_model().insert(db).await;
    expect_violation(db, result, "uq_organizations_slug");

    let dev = Developer::find_in(OrgId::from_db(org.id))
        .one(db)
        .await
        .expect("dev")
        .expect("a developer");
    // Only the primary key collides: with several, which one is reported depends on backend.
    let same_id = developer::Model {
        email: "new@example.com".into(),
        auth_subject: "auth|new".into(),
        ..dev.clone()
    };
    let result = same_id.into_active_model().insert(db).await;
    expect_violation(db, result, "pk_developers");
    let same_email = developer::Model {
        id: Uuid::now_v7(),
        auth_subject: "auth|other".into(),
        ..dev.clone()
    };
    let result = same_email.into_active_model().insert(db).await;
    expect_violation(db, result, "uq_developers_email");
    let same_subject = developer::Model {
        id: Uuid::now_v7(),
        email: "other@example.com".into(),
        ..dev.clone()
    };
    let result = same_subject.into_active_model().insert(db).await;
    expect_violation(db, result, "uq_developers_auth_subject");
    // The same person in another organization is fine: uniqueness is per tenant.
    let elsewhere = developer::Model {
        organization_id: other.id,
        id: Uuid::now_v7(),
        ..dev.clone()
    };
    elsewhere
        .clone()
        .into_active_model()
        .insert(db)
        .await
        .expect("same email and subject in another organization");

    let ts = TeamSpace::find_in(OrgId::from_db(org.id))
        .one(db)
        .await
        .expect("ts")
        .expect("a team space");
    let result = team_space::Model {
        id: Uuid::now_v7(),
        ..ts.clone()
    }
    .into_active_model()
    .insert(db)
    .await;
    expect_violation(db, result, "uq_team_spaces_slug");

    // A membership may not pair a team space with another tenant's developer.
    let cross = team_space_member::Model {
        organization_id: org.id,
        team_space_id: ts.id,
        developer_id: elsewhere.id,
        role: TeamSpaceRole::Member,
        created_at: now,
        updated_at: now,
    };
    let result = cross.into_active_model().insert(db).await;
    expect_violation(db, result, "fk_team_space_members_developer");

    let proj = Project::find_in(OrgId::from_db(org.id))
        .one(db)
        .await
        .expect("project")
        .expect("a project");
    let result = project::Model {
        id: Uuid::now_v7(),
        team_space_id: None,
        ..proj.clone()
    }
    .into_active_model()
    .insert(db)
    .await;
    expect_violation(db, result, "uq_projects_slug");

    let key = ApiKey::find_in(OrgId::from_db(org.id))
        .one(db)
        .await
        .expect("key")
        .expect("a key");
    let result = api_key::Model {
        id: Uuid::now_v7(),
        ..key.clone()
    }
    .into_active_model()
    .insert(db)
    .await;
    expect_violation(db, result, "uq_api_keys_prefix");
    let result = api_key_prefix::Model {
        prefix: key.prefix.clone(),
        organization_id: key.organization_id,
        api_key_id: key.id,
        created_at: now,
    }
    .into_active_model()
    .insert(db)
    .await;
    expect_violation(db, result, "pk_api_key_prefixes");

    let ev = Event::find_in(OrgId::from_db(org.id))
        .one(db)
        .await
        .expect("event")
        .expect("an event");
    let result = event::Model {
        id: Uuid::now_v7(),
        ..ev.clone()
    }
    .into_active_model()
    .insert(db)
    .await;
    expect_violation(db, result, "uq_events_client_event_id");
    // An event may not point at another tenant's project.
    let result = event::Model {
        organization_id: other.id,
        id: Uuid::now_v7(),
        ..ev.clone()
    }
    .into_active_model()
    .insert(db)
    .await;
    expect_violation(db, result, "fk_events_project");

    Organization::delete_by_id(other.id)
        .exec(db)
        .await
        .expect("delete other org");
}

/// projects.team_space_id → team_spaces is checked at commit, not per statement.
async fn check_deferred_team_space_fk(db: &DatabaseConnection, org: &organization::Model) {
    let ts = TeamSpace::find_in(OrgId::from_db(org.id))
        .one(db)
        .await
        .expect("ts")
        .expect("a team space");
    let proj = Project::find_in(OrgId::from_db(org.id))
        .one(db)
        .await
        .expect("project")
        .expect("a project");
    assert_eq!(proj.team_space_id, Some(ts.id));

    // Deleting the team space while a project still points at it fails, but only at commit.
    let txn = db.begin().await.expect("begin");
    TeamSpace::delete_by_id((org.id, ts.id))
        .exec(&txn)
        .await
        .expect("delete is deferred");
    let err = txn
        .commit()
        .await
        .expect_err("commit with a dangling project");
    assert!(
        matches!(violation(&err), Some(Violation::ForeignKey(_))),
        "{err}"
    );
    assert!(
        TeamSpace::find_by_id((org.id, ts.id))
            .one(db)
            .await
            .expect("ts")
            .is_some()
    );

    // Deleting first and clearing the reference afterwards, in one transaction, commits.
    let txn = db.begin().await.expect("begin");
    TeamSpace::delete_by_id((org.id, ts.id))
        .exec(&txn)
        .await
        .expect("delete team space");
    let mut cleared = proj.clone().into_active_model();
    cleared.team_space_id = Set(None);
    cleared.update(&txn).await.expect("clear team space");
    txn.commit().await.expect("commit");
    let read = Project::find_by_id((org.id, proj.id)).one(db).await;
    assert_eq!(read.expect("project").and_then(|p| p.team_space_id), None);
    assert_eq!(
        TeamSpaceMember::find_in(OrgId::from_db(org.id))
            .count(db)
            .await
            .expect("count"),
        0
    );
}

async fn check_cascade(db: &DatabaseConnection, org: &organization::Model) {
    Organization::delete_by_id(org.id)
        .exec(db)
        .await
        .expect("delete org");
    let counts = [
        Developer::find_in(OrgId::from_db(org.id)).count(db).await,
        TeamSpace::find_in(OrgId::from_db(org.id)).count(db).await,
        Project::find_in(OrgId::from_db(org.id)).count(db).await,
        ApiKey::find_in(OrgId::from_db(org.id)).count(db).await,
        ApiKeyPrefix::find().count(db).await,
        Event::find_in(OrgId::from_db(org.id)).count(db).await,
        EventMeta::find_in(OrgId::from_db(org.id)).count(db).await,
        AggregatedEvent::find_in(OrgId::from_db(org.id))
            .count(db)
            .await,
        TeamSpaceRollup::find_in(OrgId::from_db(org.id))
            .count(db)
            .await,
        OrganizationRollup::find_in(OrgId::from_db(org.id))
            .count(db)
            .await,
        ProjectRollup::find_in(OrgId::from_db(org.id))
            .count(db)
            .await,
        DeveloperRollup::find_in(OrgId::from_db(org.id))
            .count(db)
            .await,
        AuditLog::find_in(OrgId::from_db(org.id)).count(db).await,
    ];
    for count in counts {
        assert_eq!(count.expect("count"), 0);
    }
}

/// The migration that creates the organization, project and developer rollups fills them from
/// the `aggregated_events` already stored: summed over the dimensions each one drops, per
/// organization.
async fn check_rollup_backfill(db: &DatabaseConnection) {
    // Back to just before the scope rollups, whatever migrations follow them.
    let steps = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name().contains("create_scope_rollups"))
        .expect("the scope rollups migration")
        + 1;
    Migrator::down(db, Some(steps as u32))
        .await
        .expect("down to before the scope rollups");
    let now = now();
    let day = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let mut projects = Vec::new();
    for slug in ["one", "two"] {
        let org = organization::Model {
            id: Uuid::now_v7(),
            slug: slug.into(),
            name: slug.into(),
            time_zone: "UTC".into(),
            event_retention_days: 90,
            budget_in_flight: None,
            budget_requests_per_minute: None,
            budget_points_per_minute: None,
            created_at: now,
            updated_at: now,
        };
        org.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("org");
        for p in 0..2 {
            let proj = project::Model {
                organization_id: org.id,
                id: Uuid::now_v7(),
                team_space_id: None,
                slug: format!("p{p}"),
                name: format!("P{p}"),
                created_at: now,
                updated_at: now,
            };
            proj.clone()
                .into_active_model()
                .insert(db)
                .await
                .expect("project");
            projects.push(proj);
        }
    }
    let devs = [entity::UNKNOWN_DEVELOPER, Uuid::now_v7()];
    // Per project, developer, name and day: 1, 2, 3, ... so every sum is distinct.
    let mut n = 0;
    for proj in &projects {
        for dev in devs {
            for name in ["commit", "review"] {
                for d in 0..2 {
                    n += 1;
                    aggregated_event::Model {
                        organization_id: proj.organization_id,
                        project_id: proj.id,
                        developer_id: dev,
                        name: name.into(),
                        day: day + chrono::Duration::days(d),
                        count: n,
                    }
                    .into_active_model()
                    .insert(db)
                    .await
                    .expect("agg");
                }
            }
        }
    }
    Migrator::up(db, None).await.expect("up again");
    for org in [projects[0].organization_id, projects[2].organization_id] {
        let agg = AggregatedEvent::find_in(OrgId::from_db(org))
            .all(db)
            .await
            .expect("agg");
        let mut by_org = BTreeMap::new();
        let mut by_project = BTreeMap::new();
        let mut by_dev = BTreeMap::new();
        for a in &agg {
            *by_org.entry((a.day, a.name.clone())).or_insert(0) += a.count;
            *by_project
                .entry((a.project_id, a.day, a.name.clone()))
                .or_insert(0) += a.count;
            *by_dev
                .entry((a.developer_id, a.day, a.name.clone()))
                .or_insert(0) += a.count;
        }
        assert_eq!(by_org.len(), 4);
        let rows = OrganizationRollup::find_in(OrgId::from_db(org))
            .all(db)
            .await
            .expect("rows");
        let got: BTreeMap<_, _> = rows
            .into_iter()
            .map(|r| ((r.day, r.name), r.count))
            .collect();
        assert_eq!(got, by_org);
        let rows = ProjectRollup::find_in(OrgId::from_db(org))
            .all(db)
            .await
            .expect("rows");
        let got: BTreeMap<_, _> = rows
            .into_iter()
            .map(|r| ((r.project_id, r.day, r.name), r.count))
            .collect();
        assert_eq!(got, by_project);
        let rows = DeveloperRollup::find_in(OrgId::from_db(org))
            .all(db)
            .await
            .expect("rows");
        let got: BTreeMap<_, _> = rows
            .into_iter()
            .map(|r| ((r.developer_id, r.day, r.name), r.count))
            .collect();
        assert_eq!(got, by_dev);
    }
}
