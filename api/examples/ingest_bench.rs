//! Ingestion benchmark: a fixed synthetic workload sent through
//! `POST /v1/events` by concurrent clients to an in-process server, then a
//! check that the rollup equals a count over the raw events.
//!
//! ```sh
//! DATABASE_URL=postgres://devgraph:devgraph@127.0.0.1:5432/devgraph \
//!   cargo run --release -p devgraph --example ingest_bench -- --events 500000
//! ```
//! Each run creates a fresh organization, so runs do not disturb each other.

use std::time::Instant;

use chrono::{Duration, Utc};
use clap::Parser;
use devgraph::{
    Config,
    auth::{TenantCtx, key_format::KeyScope},
    build_app,
    ids::OrgId,
    service::{
        api_key::{self, NewApiKey},
        organization::{self, NewOrganization},
        project::{self, NewProject},
    },
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 500_000)]
    events: usize,
    #[arg(long, default_value_t = 100)]
    developers: usize,
    #[arg(long, default_value_t = 10)]
    names: usize,
    #[arg(long, default_value_t = 30)]
    days: i64,
    #[arg(long, default_value_t = 500)]
    batch: usize,
    #[arg(long, default_value_t = 4)]
    clients: usize,
    #[arg(long, default_value_t = 16)]
    pool: u32,
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut config = Config::for_tests(
        &args.database_url,
        "bench-secret-that-is-long-enough-0123456789",
    );
    config.db_pool_size = args.pool;
    let app = build_app(config).await?;
    let addr = app.spawn().await?;
    let db = app.db().clone();

    // A fresh organization with developers, a project and an ingest key.
    let slug = format!("bench-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let (org, _) = organization::create(
        &db,
        NewOrganization {
            slug: slug.clone(),
            name: "Bench".into(),
            owner_email: format!("owner@{slug}.test"),
            owner_name: "Owner".into(),
            owner_subject: None,
        },
    )
    .await
    .map_err(|e| e.describe())?;
    let ctx = TenantCtx::unsafe_system(OrgId::from_db(org.id));
    let emails: Vec<String> = (0..args.developers)
        .map(|i| format!("dev{i}@{slug}.test"))
        .collect();
    for email in &emails {
        let new = devgraph::service::developer::NewDeveloper {
            email: email.clone(),
            name: email.clone(),
            role: entity::enums::DeveloperRole::Member,
            auth_subject: None,
        };
        let live = devgraph::service::live::Live::off();
        devgraph::service::developer::create(&ctx, &db, &live, new)
            .await
            .map_err(|e| e.describe())?;
    }
    let proj = project::create(
        &ctx,
        &db,
        NewProject {
            name: "bench".into(),
            slug: "bench".into(),
            team_space: None,
        },
    )
    .await
    .map_err(|e| e.describe())?;
    let key = api_key::create(
        &ctx,
        &db,
        NewApiKey {
            name: "bench".into(),
            scopes: vec![KeyScope::EventsWrite],
            project: Some(devgraph::ids::ProjectId::from_db(proj.id)),
        },
    )
    .await
    .map_err(|e| e.describe())?
    .key;

    // The workload, built before the clock starts.
    let now = Utc::now();
    let bodies: Vec<String> = (0..args.events)
        .collect::<Vec<_>>()
        .chunks(args.batch)
        .map(|chunk| {
            let events: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let at = now
                        - Duration::days(i as i64 % args.days)
                        - Duration::seconds((i % 3600) as i64);
                    json!({
                        "id": format!("e{i}"),
                        "name": format!("event_{}", i % args.names),
                        "developer": emails[i % emails.len()],
                        "occurredAt": at.to_rfc3339(),
                        "properties": { "repo": format!("repo-{}", i % 7), "n": i },
                    })
                })
                .collect();
            json!({ "events": events }).to_string()
        })
        .collect();
    let batches = bodies.len();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies));
    let url = format!("http://{addr}/v1/events");
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..args.clients {
        let (queue, url, key) = (queue.clone(), url.clone(), key.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut accepted = 0u64;
            loop {
                let body = match queue.lock() {
                    Ok(mut q) => q.pop(),
                    Err(_) => None,
                };
                let Some(body) = body else { break };
                let resp = http
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if resp.status().as_u16() != 202 {
                    return Err(format!(
                        "status {}: {}",
                        resp.status(),
                        resp.text().await.unwrap_or_default()
                    ));
                }
                let counts: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
                accepted += counts["accepted"].as_u64().unwrap_or(0);
            }
            Ok::<u64, String>(accepted)
        }));
    }
    let mut accepted = 0;
    for client in clients {
        accepted += client.await??;
    }
    let elapsed = started.elapsed();

    // Correctness: the rollup equals a count over the raw events, per key.
    let backend = db.get_database_backend();
    let scalar = |sql: String| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [org.id.into()],
                ))
                .await?
                .ok_or("no row")?;
            Ok::<i64, Box<dyn std::error::Error>>(row.try_get("", "n")?)
        }
    };
    let p = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let raw = scalar(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM events WHERE organization_id = {p}"
    ))
    .await?;
    let rolled = scalar(format!(
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) AS n FROM aggregated_events WHERE organization_id = {p}"
    ))
    .await?;
    let mismatched = scalar(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (
           SELECT developer_id, name, COUNT(*) AS c FROM events WHERE organization_id = {p} GROUP BY developer_id, name
         ) r FULL JOIN (
           SELECT developer_id, name, SUM(count) AS c FROM aggregated_events WHERE organization_id = {p} GROUP BY developer_id, name
         ) a ON a.developer_id = r.developer_id AND a.name = r.name
         WHERE a.c IS DISTINCT FROM r.c"
    ))
    .await;
    let rate = accepted as f64 / elapsed.as_secs_f64();
    println!(
        "ingested {accepted} events in {batches} batches of {} with {} clients in {:.2} s: {:.0} events/s",
        args.batch,
        args.clients,
        elapsed.as_secs_f64(),
        rate
    );
    println!(
        "raw events {raw}, rollup total {rolled}, per (developer, name) mismatches {mismatched:?}"
    );
    if raw != rolled || raw != accepted as i64 || !matches!(mismatched, Ok(0)) {
        return Err("rollup check FAILED".into());
    }
    println!("rollup check: OK");
    Ok(())
}
