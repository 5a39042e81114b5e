//! A bounded, fixed-duration HTTP load: `concurrency` closed-loop clients
//! POST one JSON body for `duration` seconds after a warm-up, then the run
//! prints requests/s, p50, p99, errors and, with `--pg-url`, the SQL
//! statements per request counted by pg_stat_statements. `bench/run.sh`
//! drives it against devgraph and PostGraphile alike, so both see the same
//! client.
//!
//! Each answered request keeps the moment it completed, so the same figures
//! are also given for the first and the last third of the measured window:
//! a server that slows down as the run goes on (PostgreSQL switching a
//! prepared statement to a generic plan after its fifth execution on a
//! connection, say) shows it as a last third slower than the first. The
//! first third is completions in `[0, duration/3)`, the last third those
//! from `2·duration/3` to the end of the run (requests still in flight at
//! the deadline complete in it); each third's req/s is over its own length.
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
    /// Seconds from the start of the clock to the last answer.
    elapsed: f64,
    /// Per answered request: when it completed (µs after the clock
    /// started) and how long it took (µs).
    done: Vec<(u64, u32)>,
    errors: u64,
    first_error: Option<String>,
}

/// Requests/s, p50 and p99 of some answered requests over `seconds`.
struct Figures {
    requests: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Figures {
    fn of(mut latencies_us: Vec<u32>, seconds: f64) -> Figures {
        latencies_us.sort_unstable();
        let pct = |p: f64| -> f64 {
            if latencies_us.is_empty() {
                return 0.0;
            }
            let n = latencies_us.len();
            let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
            latencies_us[i] as f64 / 1000.0
        };
        Figures {
            requests: latencies_us.len(),
            rps: if seconds > 0.0 {
                latencies_us.len() as f64 / seconds
            } else {
                0.0
            },
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "requests": self.requests,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
        })
    }
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
            // This database's statistics only: the cluster may serve others.
            pg.execute_unprepared(
                "select pg_stat_statements_reset(0, \
                 (select oid from pg_database where datname = current_database()), 0)",
            )
            .await?;
        }
        let tally = drive(&run, clients, args.duration).await;
        let elapsed = tally.elapsed;
        let statements = match &pg {
            Some(pg) => Some(statement_calls(pg).await?),
            None => None,
        };
        let total = tally.done.len() as u64 + tally.errors;
        let all = Figures::of(tally.done.iter().map(|d| d.1).collect(), elapsed);
        // Thirds of the nominal window; the last one runs on to the end
        // (the requests in flight at the deadline), over its real length.
        let third_us = args.duration * 1_000_000 / 3;
        let last_from_us = 2 * third_us;
        let first = Figures::of(
            tally
                .done
                .iter()
                .filter(|d| d.0 < third_us)
                .map(|d| d.1)
                .collect(),
            third_us as f64 / 1e6,
        );
        let last = Figures::of(
            tally
                .done
                .iter()
                .filter(|d| d.0 >= last_from_us)
                .map(|d| d.1)
                .collect(),
            elapsed - last_from_us as f64 / 1e6,
        );
        let per_request = statements.map(|s| s as f64 / total.max(1) as f64);
        let line = json!({
            "server": args.server,
            "scenario": args.scenario,
            "concurrency": clients,
            "duration": args.duration,
            "requests": total,
            "seconds": elapsed,
            "rps": all.rps,
            "p50_ms": all.p50_ms,
            "p99_ms": all.p99_ms,
            "errors": tally.errors,
            "statements_per_request": per_request,
            "first_third": first.json(),
            "last_third": last.json(),
        });
        println!(
            "{:<12} {:<14} c={:<3} {:>8.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {:<5} stmts/req {}",
            args.server,
            args.scenario,
            clients,
            all.rps,
            all.p50_ms,
            all.p99_ms,
            tally.errors,
            per_request.map_or("-".into(), |s| format!("{s:.2}")),
        );
        println!(
            "{:<12} {:<14}       first third {:>8.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms   \
             last third {:>8.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms",
            "", "", first.rps, first.p50_ms, first.p99_ms, last.rps, last.p50_ms, last.p99_ms,
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
    let origin = Instant::now();
    let deadline = origin + Duration::from_secs(seconds);
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
                let end = Instant::now();
                match outcome {
                    Ok(()) => tally.done.push((
                        end.duration_since(origin).as_micros() as u64,
                        end.duration_since(t).as_micros().min(u32::MAX as u128) as u32,
                    )),
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
            all.done.extend(t.done);
            all.errors += t.errors;
            if all.first_error.is_none() {
                all.first_error = t.first_error;
            }
        }
    }
    all.elapsed = origin.elapsed().as_secs_f64();
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
