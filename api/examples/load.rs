//! A bounded, fixed-duration HTTP load: `concurrency` closed-loop clients
//! POST one JSON body for `duration` seconds after a warm-up, then the run
//! prints requests/s, p50, p99, errors and, with `--pg-url`, the SQL
//! statements per request counted by pg_stat_statements. `bench/run.sh`
//! drives it against devgraph and PostGraphile alike, so both see the same
//! client.
//!
//! An error is a transport failure, a status other than `--expect-status`,
//! or a body with a top-level GraphQL `errors` entry. Each `__SEQ__` in the
//! body becomes a string unique to the request, so ingestion bodies carry
//! new event ids every time (a repeated id would count once).

use std::{
    io::Write,
    time::{Duration, Instant},
};

use clap::Parser;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Endpoint to POST to.
    #[arg(long)]
    url: String,
    /// File holding the JSON request body.
    #[arg(long)]
    body: std::path::PathBuf,
    /// Extra header, `Name: value` (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Concurrency levels, each run in turn.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// Measured seconds per level.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured seconds per level before the clock starts.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// PostgreSQL URL of the database under load, for pg_stat_statements.
    #[arg(long)]
    pg_url: Option<String>,
    /// Labels written with each result line.
    #[arg(long, default_value = "server")]
    server: String,
    #[arg(long, default_value = "scenario")]
    scenario: String,
    /// The status a successful request answers with (202 for /v1/events).
    #[arg(long, default_value_t = 200)]
    expect_status: u16,
    /// Append one JSON line per level to this file.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let body = std::fs::read(&args.body)?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", "application/json".parse()?);
    headers.insert("accept", "application/json".parse()?);
    for h in &args.headers {
        let (name, value) = h.split_once(':').ok_or("header must be `Name: value`")?;
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())?,
            value.trim().parse()?,
        );
    }
    let pg = match &args.pg_url {
        Some(url) => Some(Database::connect(url.as_str()).await?),
        None => None,
    };

    for &clients in &args.concurrency {
        let run = Run {
            url: &args.url,
            headers: &headers,
            body: &body,
            expect: args.expect_status,
        };
        drive(&run, clients, args.warmup).await;
        if let Some(pg) = &pg {
            pg.execute_unprepared("select pg_stat_statements_reset()")
                .await?;
        }
        let started = Instant::now();
        let tally = drive(&run, clients, args.duration).await;
        let elapsed = started.elapsed().as_secs_f64();
        let statements = match &pg {
            Some(pg) => Some(statement_calls(pg).await?),
            None => None,
        };
        let mut lat = tally.latencies_us;
        lat.sort_unstable();
        let done = lat.len() as u64;
        let total = done + tally.errors;
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
            lat[i] as f64 / 1000.0
        };
        let per_request = statements.map(|s| s as f64 / total.max(1) as f64);
        let line = json!({
            "server": args.server,
            "scenario": args.scenario,
            "concurrency": clients,
            "requests": total,
            "seconds": elapsed,
            "rps": done as f64 / elapsed,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "errors": tally.errors,
            "statements_per_request": per_request,
        });
        println!(
            "{:<12} {:<14} c={:<3} {:>8.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {:<5} stmts/req {}",
            args.server,
            args.scenario,
            clients,
            done as f64 / elapsed,
            pct(0.50),
            pct(0.99),
            tally.errors,
            per_request.map_or("-".into(), |s| format!("{s:.2}")),
        );
        if let Some(e) = &tally.first_error {
            println!("  first error: {e}");
        }
        if let Some(path) = &args.out {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            writeln!(f, "{line}")?;
        }
    }
    Ok(())
}

struct Run<'a> {
    url: &'a str,
    headers: &'a reqwest::header::HeaderMap,
    body: &'a [u8],
    expect: u16,
}

static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The body to send: `__SEQ__` replaced by a process-unique string.
fn next_body(template: &str, run_id: &str) -> Vec<u8> {
    if !template.contains("__SEQ__") {
        return template.as_bytes().to_vec();
    }
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    template
        .replace("__SEQ__", &format!("{run_id}-{n}"))
        .into_bytes()
}

/// Closed loop: each client sends its next request when the last one is
/// answered, until the deadline.
async fn drive(run: &Run<'_>, clients: usize, seconds: u64) -> Tally {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(clients);
    let template = String::from_utf8_lossy(run.body).into_owned();
    // Unique across runs too, so a second soak does not replay ids.
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    for _ in 0..clients {
        let (url, headers, template, run_id) = (
            run.url.to_owned(),
            run.headers.clone(),
            template.clone(),
            run_id.clone(),
        );
        let expect = run.expect;
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .default_headers(headers)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default();
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let t = Instant::now();
                let body = next_body(&template, &run_id);
                let outcome = match http.post(&url).body(body).send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.bytes().await {
                            Ok(b) if status.as_u16() == expect && !has_errors(&b) => Ok(()),
                            Ok(b) => Err(format!(
                                "status {status}: {}",
                                String::from_utf8_lossy(&b[..b.len().min(300)])
                            )),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                match outcome {
                    Ok(()) => tally
                        .latencies_us
                        .push(t.elapsed().as_micros().min(u32::MAX as u128) as u32),
                    Err(e) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert(e);
                    }
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        if let Ok(t) = task.await {
            all.latencies_us.extend(t.latencies_us);
            all.errors += t.errors;
            if all.first_error.is_none() {
                all.first_error = t.first_error;
            }
        }
    }
    all
}

/// A top-level `"errors"` key. Both servers write `data` and `errors` at the
/// top level and neither puts that key inside `data` for these queries, so a
/// byte search avoids parsing megabyte responses on the measuring machine.
fn has_errors(body: &[u8]) -> bool {
    body.windows(9).any(|w| w == b"\"errors\":")
}

/// Statements the database ran since the reset, the reset itself and this
/// probe excluded.
async fn statement_calls(pg: &sea_orm::DatabaseConnection) -> Result<i64, sea_orm::DbErr> {
    let row = pg
        .query_one_raw(Statement::from_string(
            pg.get_database_backend(),
            "select coalesce(sum(calls), 0)::bigint as n from pg_stat_statements \
             where dbid = (select oid from pg_database where datname = current_database()) \
             and query not ilike '%pg_stat_statements%'"
                .to_owned(),
        ))
        .await?;
    match row {
        Some(r) => r.try_get("", "n"),
        None => Ok(0),
    }
}
