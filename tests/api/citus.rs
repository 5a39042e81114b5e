//! `devgraph migrate distribute`: refused, changing nothing, where Citus is
//! absent (SQLite, plain PostgreSQL); on a Citus cluster (the suite run with
//! `TEST_CITUS_WORKERS`, see `support::citus`) it converts a migrated
//! database, a second run finds nothing to do, and the migrations applied
//! after it distribute the tables they create, whose cascades then fire.

use std::process::ExitCode;

use migration::{
    Alias, ColumnDef, ForeignKey, ForeignKeyAction, Index, Migrator, MigratorTrait, SchemaManager,
    Table, citus,
};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use crate::cli::run;
use crate::support::{TestDb, citus::workers};

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    let rows = db.query_all_raw(stmt).await.unwrap();
    rows.iter().map(|r| r.try_get("", "v").unwrap()).collect()
}

#[tokio::test]
async fn distribute_converts_on_citus_and_is_refused_elsewhere() {
    let db = TestDb::empty().await;
    let conn = Database::connect(&db.url).await.unwrap();
    if workers().is_empty() {
        assert_eq!(run(&db, &["migrate", "up"]).await, ExitCode::SUCCESS);
        let refused = citus::distribute(&conn).await.unwrap_err().to_string();
        let why = match conn.get_database_backend() {
            DbBackend::Sqlite => "this database is SQLite",
            _ => "the citus extension is not installed in this database",
        };
        assert!(refused.contains(why), "{refused}");
        assert_eq!(
            run(&db, &["migrate", "distribute"]).await,
            ExitCode::FAILURE
        );
        assert!(!citus::is_distributed(&conn).await.unwrap());
        // Tables are still there and plain: the refusal changed nothing.
        assert_eq!(run(&db, &["migrate", "status"]).await, ExitCode::SUCCESS);
        return;
    }

    // Refused while migrations are pending.
    Migrator::up(&conn, Some(3)).await.unwrap();
    let refused = citus::distribute(&conn).await.unwrap_err().to_string();
    assert!(refused.contains("pending"), "{refused}");
    assert!(!citus::is_distributed(&conn).await.unwrap());

    assert_eq!(run(&db, &["migrate", "up"]).await, ExitCode::SUCCESS);
    assert_eq!(
        run(&db, &["migrate", "distribute"]).await,
        ExitCode::SUCCESS
    );
    let reference = strings(
        &conn,
        "SELECT logicalrelid::regclass::text AS v FROM pg_dist_partition \
         WHERE partmethod = 'n' ORDER BY 1",
    )
    .await;
    assert_eq!(reference, ["api_key_prefixes", "organizations"]);

    // A migration shipped later creates its table through
    // `create_tenant_table`: distributed before its foreign keys.
    let manager = SchemaManager::new(&conn);
    let later = Table::create()
        .table(Alias::new("later_notes"))
        .col(
            ColumnDef::new(Alias::new("organization_id"))
                .uuid()
                .not_null(),
        )
        .col(ColumnDef::new(Alias::new("id")).uuid().not_null())
        .col(ColumnDef::new(Alias::new("project_id")).uuid().not_null())
        .primary_key(
            Index::create()
                .name("pk_later_notes")
                .col(Alias::new("organization_id"))
                .col(Alias::new("id")),
        )
        .to_owned();
    let to_project = ForeignKey::create()
        .name("fk_later_notes_project")
        .from(
            Alias::new("later_notes"),
            (Alias::new("organization_id"), Alias::new("project_id")),
        )
        .to(
            Alias::new("projects"),
            (Alias::new("organization_id"), Alias::new("id")),
        )
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned();
    citus::create_tenant_table(&manager, later, vec![to_project])
        .await
        .unwrap();

    let undistributed = strings(
        &conn,
        "SELECT c.relname::text AS v FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'seaql_migrations' \
         AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)",
    )
    .await;
    assert!(undistributed.is_empty(), "left local: {undistributed:?}");
    let groups = strings(
        &conn,
        "SELECT DISTINCT colocationid::text AS v FROM pg_dist_partition WHERE partmethod = 'h'",
    )
    .await;
    assert_eq!(groups.len(), 1, "every distributed table colocated");
    let keys = strings(
        &conn,
        "SELECT conname::text AS v FROM pg_constraint WHERE conname LIKE 'fk_later_notes_%'",
    )
    .await;
    assert_eq!(keys, ["fk_later_notes_project"]);

    // The later table's cascade from a distributed parent fires.
    let (org, project) = (Uuid::now_v7(), Uuid::now_v7());
    for sql in [
        format!(
            "INSERT INTO organizations (id, slug, name, time_zone, event_retention_days, \
             created_at, updated_at) VALUES ('{org}', 'acme', 'Acme', 'UTC', 30, now(), now())"
        ),
        format!(
            "INSERT INTO projects (organization_id, id, slug, name, created_at, updated_at) \
             VALUES ('{org}', '{project}', 'web', 'Web', now(), now())"
        ),
        format!(
            "INSERT INTO later_notes (organization_id, id, project_id) \
             VALUES ('{org}', '{}', '{project}')",
            Uuid::now_v7()
        ),
        format!("DELETE FROM projects WHERE organization_id = '{org}' AND id = '{project}'"),
    ] {
        conn.execute_unprepared(&sql).await.unwrap();
    }
    let left = strings(&conn, "SELECT count(*)::text AS v FROM later_notes").await;
    assert_eq!(left, ["0"]);

    assert_eq!(
        run(&db, &["migrate", "distribute"]).await,
        ExitCode::SUCCESS
    );
    let again = citus::distribute(&conn).await.unwrap();
    assert!(again.was_done_already(), "{again:?}");
    conn.close().await.unwrap();
}
