//! The harness itself: a test's database is a complete copy of the migrated
//! template (so the server's start-up migrates nothing), and fixtures keep
//! the team-space rollup whatever order a test builds its data in.

use devgraph::ids::GlobalId as _;
use devgraph::service::events::EventInput;
use entity::scoped::InOrg as _;
use entity::{
    enums::{DeveloperRole, TeamSpaceRole},
    team_space_rollup,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, Database, QueryFilter};
use serde_json::json;

use crate::support::{
    Dev, TestApp, TestDb,
    events::{at, days_ago},
};

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

fn commits(dev: &Dev, tag: &str) -> Vec<EventInput> {
    (0..2)
        .map(|i| EventInput {
            client_id: format!("{tag}{i}"),
            name: "commit".into(),
            developer: Some(dev.email.clone()),
            occurred_at: at(days_ago(1), 12, 0, i).to_rfc3339(),
            properties: None,
        })
        .collect()
}

/// A member added after their events were ingested counts like one added
/// before: the fixture goes through the service that moves their events
/// into the team-space rollup (a raw membership row would leave them out).
#[tokio::test]
async fn fixtures_keep_the_team_space_rollup_in_either_order() {
    let app = TestApp::spawn().await;
    let owner = DeveloperRole::Owner;
    let (org, _, token) = app.with_org_and_developer("rollup", owner).await;
    let space = app.team_space(org, "Space").await;
    let project = app.project(org, Some(space), "App").await;
    let early = app.developer(org, "Early", DeveloperRole::Member).await;
    let late = app.developer(org, "Late", DeveloperRole::Member).await;
    app.member(org, space, early.id, TeamSpaceRole::Member)
        .await;
    let events = [commits(&early, "e"), commits(&late, "l")].concat();
    assert_eq!(app.ingest(org, project, events).await.accepted, 4);
    app.member(org, space, late.id, TeamSpaceRole::Member).await;

    let rows = team_space_rollup::Entity::find_in(org)
        .filter(team_space_rollup::Column::TeamSpaceId.eq(space.uuid()))
        .all(app.db())
        .await
        .expect("rollup rows");
    let total: i64 = rows.iter().map(|r| r.count).sum();
    assert_eq!(total, 4, "both members' events: {rows:?}");
    let q = "query($id: ID!, $d: Date!) { teamSpace(id: $id) {
        metrics(from: $d, to: $d, groupBy: [DAY, EVENT_NAME]) { eventName count } } }";
    let vars = json!({ "id": space.to_global().0, "d": days_ago(1) });
    let data = app.gql(&token, q, vars).await.ok().clone();
    let want = json!([{ "eventName": "commit", "count": 4 }]);
    assert_eq!(data["teamSpace"]["metrics"], want);
}
