//! GitHub webhook ingestion under load: sets up an organization, a project and a GitHub
//! repository through the services (on the server's database, sealing the webhook secret with
//! the server's key, so the server opens it), then `concurrency` closed-loop clients send signed
//! deliveries to `POST /v1/webhooks/github/{repository id}` for `duration` seconds after a
//! warm-up, and the run prints deliveries/s, p50, p99, errors and, on PostgreSQL, the SQL
//! statements per delivery counted by pg_stat_statements. `bench/webhooks.sh` drives it.
//!
//! Each client plays pull requests through their life, one delivery at a time, in the mix a
//! repository's webhook sends: a push of two commits to the head branch, the pull request
//! opened, a review commenting, a push of a fix, the pull request synchronized, an approving
//! review, the pull request merged, and a production deployment's success status (3/8
//! pull_request, 2/8 pull_request_review, 2/8 push, 1/8 deployment_status). Every delivery has
//! its own `X-GitHub-Delivery` id and every pull request its own number, so nothing is a
//! redelivery. The payloads are written here, in GitHub's documented shapes, with the
//! repository and sender objects GitHub includes, so a body weighs what a real one does.
//!
//! An error is a transport failure, a status other than 202, or an answer saying the delivery
//! was ignored or a duplicate: a correct run has none.

use std::{
    io::Write,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use clap::Parser;
use devgraph::{
    auth::TenantCtx,
    ids::{OrgId, ProjectId},
    secrets::{Sealer, SecretKey},
    service::{
        developer::{self, NewDeveloper},
        live::Live,
        organization::{self, NewOrganization},
        project::{self, NewProject},
        repository::{self, NewRepository},
    },
};
use entity::enums::{DeveloperRole, Provider};
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use sha2::Sha256;

#[derive(Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// The server's database, where the repository is set up.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The server's key for webhook secrets.
    #[arg(long, env = "DEVGRAPH_SECRET_KEY", hide_env_values = true)]
    secret_key: String,
    /// Concurrency levels, each run in turn.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    concurrency: Vec<usize>,
    /// Measured seconds per level.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Unmeasured seconds per level before the clock starts.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Developers of the organization: commit authors by email, pull request authors and
    /// reviewers by GitHub login.
    #[arg(long, default_value_t = 20)]
    developers: usize,
    /// Append one JSON line per level to this file.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

/// The repository the deliveries are for, as GitHub names it.
struct Repo {
    /// Our id, in the webhook URL.
    id: uuid::Uuid,
    github_id: u64,
    full_name: String,
    secret: String,
    /// The organization's slug, the domain of its developers' emails.
    slug: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let db = Database::connect(args.database_url.as_str()).await?;
    let key = SecretKey::parse(&args.secret_key)?;
    let repo = Arc::new(set_up(&db, &Sealer::new(&key), args.developers).await?);
    let pg = (db.get_database_backend() == DbBackend::Postgres).then_some(&db);
    let endpoint = format!(
        "{}/v1/webhooks/github/{}",
        args.url.trim_end_matches('/'),
        repo.id
    );
    println!(
        "repository {} ({}), {} developers, levels {:?}, {} s each",
        repo.full_name, repo.id, args.developers, args.concurrency, args.duration
    );
    for &clients in &args.concurrency {
        let run = Run {
            endpoint: endpoint.clone(),
            repo: repo.clone(),
            developers: args.developers.max(2),
        };
        drive(&run, clients, args.warmup).await;
        if let Some(pg) = pg {
            // This database's statistics only: the cluster may serve others.
            pg.execute_unprepared(
                "select pg_stat_statements_reset(0, \
                 (select oid from pg_database where datname = current_database()), 0)",
            )
            .await?;
        }
        let tally = drive(&run, clients, args.duration).await;
        let statements = match pg {
            Some(pg) => statement_calls(pg).await.ok(),
            None => None,
        };
        report(&args, clients, &tally, statements)?;
    }
    Ok(())
}

/// A fresh organization (so runs do not disturb each other) with developers, a project, and
/// a GitHub repository connected as an admin would connect one.
async fn set_up(
    db: &DatabaseConnection,
    sealer: &Sealer,
    developers: usize,
) -> Result<Repo, Box<dyn std::error::Error>> {
    let slug = format!("hooks-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let (org, _) = organization::create(
        db,
        NewOrganization {
            slug: slug.clone(),
            name: "Webhook bench".into(),
            owner_email: format!("owner@{slug}.test"),
            owner_name: "Owner".into(),
            owner_subject: None,
        },
    )
    .await
    .map_err(|e| e.describe())?;
    let ctx = TenantCtx::unsafe_system(OrgId::from_db(org.id));
    for i in 0..developers {
        let new = NewDeveloper {
            email: format!("dev{i}@{slug}.test"),
            name: format!("Dev {i}"),
            role: DeveloperRole::Member,
            auth_subject: None,
        };
        developer::create(&ctx, db, &Live::off(), new)
            .await
            .map_err(|e| e.describe())?;
    }
    let project = project::create(
        &ctx,
        db,
        NewProject {
            name: "Ledger".into(),
            slug: "ledger".into(),
            team_space: None,
        },
    )
    .await
    .map_err(|e| e.describe())?;
    let github_id = 700_000_000 + u64::from(uuid::Uuid::now_v7().as_fields().1);
    let full_name = format!("{slug}/ledger");
    let made = repository::connect(
        &ctx,
        db,
        Some(sealer),
        NewRepository {
            project: ProjectId::from_db(project.id),
            provider: Provider::Github,
            external_id: Some(github_id.to_string()),
            full_name: full_name.clone(),
            default_branch: Some("main".into()),
        },
    )
    .await
    .map_err(|e| e.describe())?;
    Ok(Repo {
        id: made.repository.id,
        github_id,
        full_name,
        secret: made.webhook_secret,
        slug,
    })
}

struct Run {
    endpoint: String,
    repo: Arc<Repo>,
    developers: usize,
}

/// Pull request numbers, unique over the whole run.
static NUMBER: AtomicU64 = AtomicU64::new(1);
/// Deployment and review ids, unique over the whole run.
static SERIAL: AtomicU64 = AtomicU64::new(1);

#[derive(Default)]
struct Tally {
    /// Seconds from the start of the clock to the last answer.
    elapsed: f64,
    /// Latency of each accepted delivery, µs.
    latencies: Vec<u32>,
    /// Deliveries sent, by event.
    by_event: std::collections::BTreeMap<&'static str, u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Closed loop: each client sends its next delivery when the last one is answered, until the
/// deadline; a client stops mid-story at the deadline, and the next level starts new stories.
async fn drive(run: &Run, clients: usize, seconds: u64) -> Tally {
    let origin = Instant::now();
    let deadline = origin + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (endpoint, repo, developers) = (run.endpoint.clone(), run.repo.clone(), run.developers);
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default();
            let mut tally = Tally::default();
            'stories: while Instant::now() < deadline {
                for (event, body) in story(&repo, developers) {
                    if Instant::now() >= deadline {
                        break 'stories;
                    }
                    *tally.by_event.entry(event).or_default() += 1;
                    let t = Instant::now();
                    match send(&http, &endpoint, &repo.secret, event, body).await {
                        Ok(()) => tally
                            .latencies
                            .push(t.elapsed().as_micros().min(u32::MAX as u128) as u32),
                        Err(e) => {
                            tally.errors += 1;
                            tally.first_error.get_or_insert(e);
                        }
                    }
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        if let Ok(t) = task.await {
            all.latencies.extend(t.latencies);
            for (event, n) in t.by_event {
                *all.by_event.entry(event).or_default() += n;
            }
            all.errors += t.errors;
            if all.first_error.is_none() {
                all.first_error = t.first_error;
            }
        }
    }
    all.elapsed = origin.elapsed().as_secs_f64();
    all
}

async fn send(
    http: &reqwest::Client,
    endpoint: &str,
    secret: &str,
    event: &str,
    body: Vec<u8>,
) -> Result<(), String> {
    let resp = http
        .post(endpoint)
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/bench")
        .header("x-github-event", event)
        .header("x-github-delivery", uuid::Uuid::now_v7().to_string())
        .header("x-hub-signature-256", signature(secret, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let answer = resp.bytes().await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer);
    let refused = text.contains("\"ignored\"") || text.contains("\"duplicate\":true");
    if status.as_u16() != 202 || refused {
        return Err(format!(
            "{event}: status {status}: {}",
            &text[..text.len().min(300)]
        ));
    }
    Ok(())
}

/// `sha256=` and the hex HMAC-SHA256 of the body, as GitHub signs a delivery.
fn signature(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// One pull request's deliveries, in the order GitHub sends them.
fn story(repo: &Repo, developers: usize) -> Vec<(&'static str, Vec<u8>)> {
    let number = NUMBER.fetch_add(1, Ordering::Relaxed);
    let serial = SERIAL.fetch_add(4, Ordering::Relaxed);
    let author = format!("dev{}", number as usize % developers);
    let reviewer = format!("dev{}", (number as usize + 1) % developers);
    let branch = format!("feat/bench-{number}");
    // Spread over the last 30 days, an hour apart, so that days and rollups vary.
    let t0 = Utc::now() - chrono::Duration::minutes(((number * 7) % 43_000) as i64 + 600);
    let at = |minutes: i64| t0 + chrono::Duration::minutes(minutes);
    let pr = Pr {
        number,
        author: &author,
        branch: &branch,
        opened: at(60),
    };
    let deliveries = [
        ("push", push(repo, &pr, &[at(0), at(30)], number * 10)),
        ("pull_request", pull_request(repo, &pr, "opened", at(60))),
        (
            "pull_request_review",
            review(repo, &pr, serial, &reviewer, "commented", at(150)),
        ),
        ("push", push(repo, &pr, &[at(200)], number * 10 + 5)),
        (
            "pull_request",
            pull_request(repo, &pr, "synchronize", at(201)),
        ),
        (
            "pull_request_review",
            review(repo, &pr, serial + 1, &reviewer, "approved", at(240)),
        ),
        ("pull_request", pull_request(repo, &pr, "closed", at(300))),
        (
            "deployment_status",
            deployment(repo, &pr, serial + 2, at(360)),
        ),
    ];
    deliveries
        .into_iter()
        .map(|(event, body)| (event, serde_json::to_vec(&body).unwrap_or_default()))
        .collect()
}

struct Pr<'a> {
    number: u64,
    author: &'a str,
    branch: &'a str,
    opened: DateTime<Utc>,
}

fn sha(seed: u64) -> String {
    format!(
        "{:040x}",
        u128::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    )
}

fn push(repo: &Repo, pr: &Pr, times: &[DateTime<Utc>], seed: u64) -> Value {
    let email = format!("{}@{}.test", pr.author, repo.slug);
    let commits: Vec<Value> = times
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let id = sha(seed + i as u64);
            json!({
                "id": id, "tree_id": sha(seed + 100 + i as u64), "distinct": true,
                "message": format!("Work on #{} ({i})\n\nDetails of the change.", pr.number),
                "timestamp": at.to_rfc3339(),
                "url": format!("https://github.com/{}/commit/{id}", repo.full_name),
                "author": {"name": pr.author, "email": email, "username": pr.author},
                "committer": {
                    "name": "GitHub", "email": "noreply@github.com", "username": "web-flow"
                },
                "added": [], "removed": [], "modified": ["src/lib.rs", "src/ledger.rs"],
            })
        })
        .collect();
    let head = commits.last().cloned().unwrap_or(Value::Null);
    json!({
        "ref": format!("refs/heads/{}", pr.branch),
        "before": sha(seed + 999), "after": head["id"],
        "created": false, "deleted": false, "forced": false, "base_ref": null,
        "compare": format!("https://github.com/{}/compare/{}", repo.full_name, pr.branch),
        "commits": commits, "head_commit": head,
        "repository": repository(repo), "pusher": {"name": pr.author, "email": email},
        "sender": user(pr.author, pr.number),
    })
}

fn pull_request(repo: &Repo, pr: &Pr, action: &str, at: DateTime<Utc>) -> Value {
    let merged = action == "closed";
    json!({
        "action": action, "number": pr.number,
        "pull_request": pull_request_object(repo, pr, at, merged, true),
        "repository": repository(repo), "sender": user(pr.author, pr.number),
    })
}

fn review(repo: &Repo, pr: &Pr, id: u64, reviewer: &str, state: &str, at: DateTime<Utc>) -> Value {
    let api = format!("https://api.github.com/repos/{}", repo.full_name);
    let html = format!("https://github.com/{}/pull/{}", repo.full_name, pr.number);
    json!({
        "action": "submitted",
        "review": {
            "id": 2_000_000_000u64 + id, "node_id": format!("PRR_kw{id}"),
            "user": user(reviewer, id), "body": "Looks good overall.",
            "commit_id": sha(pr.number * 10 + 5), "submitted_at": at.to_rfc3339(),
            "state": state, "author_association": "MEMBER",
            "html_url": format!("{html}#pullrequestreview-{id}"),
            "pull_request_url": format!("{api}/pulls/{}", pr.number),
        },
        // Review deliveries carry the pull request without its size fields.
        "pull_request": pull_request_object(repo, pr, at, false, false),
        "repository": repository(repo), "sender": user(reviewer, id),
    })
}

fn pull_request_object(
    repo: &Repo,
    pr: &Pr,
    at: DateTime<Utc>,
    merged: bool,
    sized: bool,
) -> Value {
    let api = format!("https://api.github.com/repos/{}", repo.full_name);
    let mut object = json!({
        "url": format!("{api}/pulls/{}", pr.number), "id": 1_000_000_000 + pr.number,
        "node_id": format!("PR_kw{}", pr.number),
        "html_url": format!("https://github.com/{}/pull/{}", repo.full_name, pr.number),
        "diff_url": format!("https://github.com/{}/pull/{}.diff", repo.full_name, pr.number),
        "number": pr.number, "state": if merged { "closed" } else { "open" }, "locked": false,
        "title": format!("Add ledger export #{}", pr.number), "user": user(pr.author, pr.number),
        "body": "Adds the export and its tests.", "labels": [], "draft": false,
        "created_at": pr.opened.to_rfc3339(), "updated_at": at.to_rfc3339(),
        "closed_at": if merged { Value::from(at.to_rfc3339()) } else { Value::Null },
        "merged_at": if merged { Value::from(at.to_rfc3339()) } else { Value::Null },
        "merge_commit_sha": sha(pr.number * 10 + 7),
        "head": {
            "label": format!("{}:{}", repo.slug, pr.branch), "ref": pr.branch,
            "sha": sha(pr.number * 10 + 5), "user": user(pr.author, pr.number)
        },
        "base": {
            "label": format!("{}:main", repo.slug), "ref": "main",
            "sha": sha(pr.number * 10 + 6), "user": user(&repo.slug, 1)
        },
        "author_association": "MEMBER", "auto_merge": null, "active_lock_reason": null,
    });
    if sized {
        object["merged"] = Value::from(merged);
        object["comments"] = Value::from(1);
        object["review_comments"] = Value::from(2);
        object["commits"] = Value::from(3);
        object["additions"] = Value::from(40 + pr.number % 300);
        object["deletions"] = Value::from(5 + pr.number % 40);
        object["changed_files"] = Value::from(1 + pr.number % 9);
    }
    object
}

fn deployment(repo: &Repo, pr: &Pr, id: u64, at: DateTime<Utc>) -> Value {
    let api = format!("https://api.github.com/repos/{}", repo.full_name);
    let done = (at + chrono::Duration::minutes(9)).to_rfc3339();
    json!({
        "action": "created",
        "deployment_status": {
            "id": 5_000_000_000u64 + id, "state": "success", "environment": "production",
            "description": "Deployed", "created_at": done, "updated_at": done,
            "url": format!("{api}/deployments/{id}/statuses/{id}"),
            "creator": user("deploy-bot", 7),
        },
        "deployment": {
            "id": 4_000_000_000u64 + id, "sha": sha(pr.number * 10 + 7), "ref": "main",
            "task": "deploy", "environment": "production", "production_environment": true,
            "transient_environment": false, "payload": {},
            "created_at": at.to_rfc3339(), "updated_at": at.to_rfc3339(),
            "url": format!("{api}/deployments/{id}"), "creator": user("deploy-bot", 7),
        },
        "repository": repository(repo), "sender": user("deploy-bot", 7),
    })
}

/// The repository object every delivery carries, with the fields GitHub sends.
fn repository(repo: &Repo) -> Value {
    let api = format!("https://api.github.com/repos/{}", repo.full_name);
    let mut object = json!({
        "id": repo.github_id, "node_id": format!("R_kg{}", repo.github_id), "name": "ledger",
        "full_name": repo.full_name, "private": true, "owner": user(&repo.slug, 1),
        "html_url": format!("https://github.com/{}", repo.full_name),
        "description": "The ledger service", "fork": false, "url": api,
        "created_at": "2024-03-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z",
        "pushed_at": "2026-11-29T10:00:00Z", "size": 4211, "stargazers_count": 12,
        "watchers_count": 12, "language": "Rust", "has_issues": true, "forks_count": 1,
        "open_issues_count": 7, "default_branch": "main", "visibility": "private",
    });
    for link in [
        "forks",
        "keys",
        "collaborators",
        "teams",
        "hooks",
        "issue_events",
        "events",
        "assignees",
        "branches",
        "tags",
        "blobs",
        "git_tags",
        "git_refs",
        "trees",
        "statuses",
        "languages",
        "stargazers",
        "contributors",
        "subscribers",
        "commits",
        "git_commits",
        "comments",
        "issue_comment",
        "contents",
        "compare",
        "merges",
        "archive",
        "downloads",
        "issues",
        "pulls",
        "milestones",
        "notifications",
        "labels",
        "releases",
        "deployments",
    ] {
        object[format!("{link}_url")] = Value::from(format!("{api}/{link}"));
    }
    object
}

fn user(login: &str, id: u64) -> Value {
    let api = format!("https://api.github.com/users/{login}");
    json!({
        "login": login, "id": 10_000 + id, "node_id": format!("U_kg{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", 10_000 + id),
        "gravatar_id": "", "url": api, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"), "following_url": format!("{api}/following"),
        "gists_url": format!("{api}/gists"), "starred_url": format!("{api}/starred"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"), "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events"),
        "received_events_url": format!("{api}/received_events"),
        "type": "User", "site_admin": false,
    })
}

fn report(
    args: &Args,
    clients: usize,
    tally: &Tally,
    statements: Option<i64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut latencies = tally.latencies.clone();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let n = latencies.len();
        latencies[((n as f64 * p).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0
    };
    let total = latencies.len() as u64 + tally.errors;
    let rate = latencies.len() as f64 / tally.elapsed.max(1e-9);
    let per_delivery = statements.map(|s| s as f64 / total.max(1) as f64);
    println!(
        "c={clients:<3} {rate:>8.1} deliveries/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}  \
         stmts/delivery {}  mix {:?}",
        pct(0.5),
        pct(0.99),
        tally.errors,
        per_delivery.map_or("-".into(), |s| format!("{s:.1}")),
        tally.by_event,
    );
    if let Some(e) = &tally.first_error {
        println!("  first error: {e}");
    }
    if let Some(path) = &args.out {
        let line = json!({
            "concurrency": clients,
            "duration": args.duration,
            "seconds": tally.elapsed,
            "deliveries": total,
            "accepted": latencies.len(),
            "rps": rate,
            "p50_ms": pct(0.5),
            "p99_ms": pct(0.99),
            "errors": tally.errors,
            "statements_per_delivery": per_delivery,
            "by_event": tally.by_event,
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

/// Statements the database ran since the reset, the reset itself and this probe excluded.
async fn statement_calls(pg: &DatabaseConnection) -> Result<i64, sea_orm::DbErr> {
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
