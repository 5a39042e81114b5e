//! The `devgraph` command line, run in-process: migrate up/down/status/
//! fresh, seed, token and `schema --check`, on the suite's database (a
//! blank one, `TestDb::empty`, where the command must migrate it itself).

use std::process::ExitCode;

use crate::support::{JWT_SECRET, TestApp, TestDb};
use devgraph::{cli::run_from, config::ConfigArgs};
use sea_orm::{ConnectionTrait, Database, EntityTrait, Statement};
use serde_json::json;

pub(crate) async fn run(db: &TestDb, args: &[&str]) -> ExitCode {
    let mut argv = vec![
        "devgraph",
        "--database-url",
        &db.url,
        "--jwt-secret",
        JWT_SECRET,
    ];
    argv.extend_from_slice(args);
    run_from(argv).await
}

async fn table_count(url: &str) -> i64 {
    let db = Database::connect(url).await.unwrap();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'"
        }
        _ => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'seaql_migrations'"
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    db.close().await.ok();
    n
}

#[tokio::test]
async fn migrate_up_down_status_fresh() {
    let db = TestDb::empty().await;
    assert_eq!(run(&db, &["migrate", "up"]).await, ExitCode::SUCCESS);
    assert_eq!(
        table_count(&db.url).await,
        26,
        "every table of the data model, the team-space, organization, project and developer \
         rollups, the delivery data and its rollup"
    );
    assert_eq!(run(&db, &["migrate", "status"]).await, ExitCode::SUCCESS);
    assert_eq!(run(&db, &["migrate", "down"]).await, ExitCode::SUCCESS);
    assert_eq!(table_count(&db.url).await, 0, "down removes every table");
    assert_eq!(run(&db, &["migrate", "up"]).await, ExitCode::SUCCESS);
    assert_eq!(run(&db, &["migrate", "fresh"]).await, ExitCode::SUCCESS);
    assert_eq!(table_count(&db.url).await, 26);
}

#[tokio::test]
async fn seed_is_deterministic_and_refuses_to_seed_twice() {
    let first = TestDb::empty().await;
    let second = TestDb::empty().await;
    let args = [
        "seed",
        "--orgs",
        "2",
        "--team-spaces",
        "3",
        "--developers",
        "7",
        "--projects",
        "4",
    ];
    assert_eq!(run(&first, &args).await, ExitCode::SUCCESS);
    assert_eq!(run(&second, &args).await, ExitCode::SUCCESS);
    let snapshot = |url: String| async move {
        let db = Database::connect(&url).await.unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT d.email, d.name, d.role, t.slug FROM developers d \
                 JOIN team_space_members m ON m.organization_id = d.organization_id AND m.developer_id = d.id \
                 JOIN team_spaces t ON t.organization_id = m.organization_id AND t.id = m.team_space_id \
                 ORDER BY d.email, t.slug",
            ))
            .await
            .unwrap();
        let out: Vec<String> = rows
            .iter()
            .map(|r| {
                let email: String = r.try_get("", "email").unwrap();
                let slug: String = r.try_get("", "slug").unwrap();
                format!("{email}:{slug}")
            })
            .collect();
        db.close().await.ok();
        out
    };
    let a = snapshot(first.url.clone()).await;
    let b = snapshot(second.url.clone()).await;
    assert!(
        a.len() >= 14,
        "2 orgs x 7 developers, each in 1 to 3 team spaces"
    );
    assert_eq!(a, b, "same seed, same data");
    assert_ne!(
        run(&first, &args).await,
        ExitCode::SUCCESS,
        "seeding over existing orgs fails"
    );
}

#[tokio::test]
async fn token_command_mints_a_working_token() {
    let app = TestApp::spawn().await;
    let (_org, dev, _) = app
        .with_org_and_developer("tokenorg", entity::enums::DeveloperRole::Admin)
        .await;
    let url = app_database_url(&app);
    let args =
        ConfigArgs::from_flags(&["--database-url", &url, "--jwt-secret", JWT_SECRET]).unwrap();
    let token = devgraph::cli::mint_token(args, "tokenorg", &dev.email, 1)
        .await
        .unwrap();
    let reply = app
        .gql(&token, "{ viewer { email role } }", json!({}))
        .await;
    assert_eq!(
        reply.ok()["viewer"],
        json!({ "email": dev.email, "role": "ADMIN" })
    );

    let args =
        ConfigArgs::from_flags(&["--database-url", &url, "--jwt-secret", JWT_SECRET]).unwrap();
    let unknown = devgraph::cli::mint_token(args, "tokenorg", "nobody@x.test", 1).await;
    assert!(unknown.unwrap_err().contains("no developer"));
}

fn app_database_url(app: &TestApp) -> String {
    app.app.state.config.database_url.clone()
}

#[tokio::test]
async fn schema_check_fails_on_a_stale_file() {
    let dir =
        std::env::temp_dir().join(format!("devgraph-schema-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("schema.graphql");
    std::fs::write(&path, devgraph::graphql::sdl()).unwrap();
    let path_str = path.to_str().unwrap();
    assert_eq!(
        run_from(["devgraph", "schema", "--check", "--path", path_str]).await,
        ExitCode::SUCCESS
    );
    std::fs::write(&path, "type Query { stale: Int }").unwrap();
    assert_eq!(
        run_from(["devgraph", "schema", "--check", "--path", path_str]).await,
        ExitCode::FAILURE
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The committed SDL is what the server serves (TypeScript codegen reads it).
#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the workspace root");
    assert!(
        committed == devgraph::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn org_create_makes_an_owner_and_api_key_create_a_key() {
    let db = TestDb::empty().await;
    let org = [
        "org",
        "create",
        "--slug",
        "prod-co",
        "--name",
        "Prod Co",
        "--owner-email",
        "Boss@Prod.test",
    ];
    assert_eq!(run(&db, &org).await, ExitCode::SUCCESS);
    assert_ne!(
        run(&db, &org).await,
        ExitCode::SUCCESS,
        "the slug is taken now"
    );
    let conn = Database::connect(&db.url).await.unwrap();
    let owner = entity::developer::Entity::find()
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.role, entity::enums::DeveloperRole::Owner);
    assert_eq!(owner.email, "boss@prod.test");
    assert_eq!(
        owner.auth_subject, "boss@prod.test",
        "subject defaults to the email"
    );

    let key = [
        "api-key",
        "create",
        "--org",
        "prod-co",
        "--name",
        "ci",
        "--scopes",
        "read,events:write",
    ];
    assert_eq!(run(&db, &key).await, ExitCode::SUCCESS);
    let bad = [
        "api-key", "create", "--org", "prod-co", "--name", "ci", "--scopes", "admin",
    ];
    assert_ne!(run(&db, &bad).await, ExitCode::SUCCESS);
    let keys = entity::api_key::Entity::find().all(&conn).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].scopes, json!(["events:write", "read"]));

    // The operator's budget override: the parts given, then back to the
    // defaults.
    let budget = [
        "org",
        "set-budget",
        "--org",
        "prod-co",
        "--in-flight",
        "3",
        "--points-per-minute",
        "50000",
    ];
    assert_eq!(run(&db, &budget).await, ExitCode::SUCCESS);
    let org = || entity::organization::Entity::find().one(&conn);
    let row = org().await.unwrap().unwrap();
    assert_eq!(
        (
            row.budget_in_flight,
            row.budget_requests_per_minute,
            row.budget_points_per_minute
        ),
        (Some(3), None, Some(50_000))
    );
    let clear = ["org", "set-budget", "--org", "prod-co", "--clear"];
    assert_eq!(run(&db, &clear).await, ExitCode::SUCCESS);
    let row = org().await.unwrap().unwrap();
    assert_eq!(row.budget_points_per_minute, None);
    let both = [
        "org",
        "set-budget",
        "--org",
        "prod-co",
        "--clear",
        "--in-flight",
        "3",
    ];
    assert_ne!(run(&db, &both).await, ExitCode::SUCCESS);
    conn.close().await.ok();
}

// In a process of their own ---------------------------------------------------------
//
// `--help` shows the process's environment and `.env` is found from its
// working directory: both are per process, so these tests run their other
// half in a new process of this test binary, with its own environment and
// directory, and read what it prints.

/// Names the test whose child half a process runs.
const CHILD: &str = "DEVGRAPH_TEST_CHILD";

fn is_child(test: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(test)
}

/// Runs `test` again, alone, in a new process in `dir` with `env` added;
/// returns what it printed on stdout.
fn run_child(test: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = std::process::Command::new(exe);
    child.args(["--exact", test, "--nocapture", "--test-threads=1"]);
    child.current_dir(dir).env(CHILD, test);
    child.envs(env.iter().copied());
    let out = child.output().expect("run the child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child {test} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scratch_dir() -> std::path::PathBuf {
    let name = format!("devgraph-cli-{}", uuid::Uuid::now_v7().simple());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

#[tokio::test]
async fn help_hides_secret_values() {
    const TEST: &str = "cli::help_hides_secret_values";
    if is_child(TEST) {
        run_from(["devgraph", "--help"]).await;
        return;
    }
    let dir = scratch_dir();
    let env = [
        (
            "DATABASE_URL",
            "postgres://devgraph:pg-password-42@db.internal/devgraph",
        ),
        ("JWT_SECRET", "jwt-secret-value-that-is-long-enough-42"),
        ("DEVGRAPH_MAX_DEPTH", "9"),
    ];
    let help = run_child(TEST, &dir, &env);
    std::fs::remove_dir_all(&dir).ok();
    assert!(help.contains("DATABASE_URL"), "{help}");
    assert!(
        help.contains("DEVGRAPH_MAX_DEPTH=9"),
        "other values still show: {help}"
    );
    assert!(!help.contains("pg-password-42"), "{help}");
    assert!(!help.contains("jwt-secret-value"), "{help}");
}

/// A `.env` in a parent directory is not the current directory's: a server
/// started below it must not take its settings (or secrets).
#[tokio::test]
async fn dotenv_is_read_from_the_current_directory_only() {
    const TEST: &str = "cli::dotenv_is_read_from_the_current_directory_only";
    const VAR: &str = "DEVGRAPH_TEST_DOTENV_MARKER";
    if is_child(TEST) {
        // Loads `.env`, then refuses the test harness's arguments.
        devgraph::cli::run().await;
        // On a line of its own: libtest has printed the test's name.
        println!("\n{VAR}={}", std::env::var(VAR).unwrap_or_default());
        return;
    }
    let parent = scratch_dir();
    std::fs::write(parent.join(".env"), format!("{VAR}=from-dotenv\n")).expect("write .env");
    let below = parent.join("below");
    std::fs::create_dir_all(&below).expect("mkdir");
    let seen = |out: String| {
        let line = out.lines().find(|l| l.starts_with(VAR)).map(str::to_owned);
        line.expect("the child prints the variable")
    };
    let in_parent = seen(run_child(TEST, &parent, &[]));
    let in_below = seen(run_child(TEST, &below, &[]));
    std::fs::remove_dir_all(&parent).ok();
    assert_eq!(
        in_parent,
        format!("{VAR}=from-dotenv"),
        "the current directory's"
    );
    assert_eq!(in_below, format!("{VAR}="), "not the parent's");
}
