//! The harness itself: a test's database is a complete copy of the migrated
//! template, so the server's start-up migrates nothing.

use migration::{Migrator, MigratorTrait};
use sea_orm::Database;

use crate::support::{TestApp, TestDb};

#[tokio::test]
async fn a_test_database_is_the_migrated_template() {
    let db = TestDb::fresh().await;
    let conn = Database::connect(&db.url).await.expect("connect");
    let pending = Migrator::get_pending_migrations(&conn)
        .await
        .expect("status");
    let names: Vec<_> = pending.iter().map(|m| m.name().to_owned()).collect();
    assert!(
        names.is_empty(),
        "pending on a copy of the template: {names:?}"
    );
    conn.close().await.ok();
}

/// `build_app` runs `Migrator::up`, which on an up-to-date database only
/// creates its bookkeeping table if missing and reads it.
#[tokio::test]
async fn start_up_on_a_copy_of_the_template_migrates_nothing() {
    let cloned = TestApp::spawn().await.statements();
    let blank = TestApp::spawn_on(TestDb::empty().await, str::to_owned, |_| {})
        .await
        .statements();
    println!(
        "start-up statements: {cloned} on a copy of the template, {blank} on a blank database"
    );
    assert!(cloned <= 8, "start-up ran {cloned} statements");
    assert!(blank > 4 * cloned, "a blank database is migrated ({blank})");
}
