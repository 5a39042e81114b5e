//! Subscription fan-out across replicas, measured: two devgraph servers
//! (`--a`, `--b`) on one PostgreSQL database. The client makes an
//! organization (through the services, as `devgraph org create` does), a
//! project, an EVENTS_WRITE key and `--developers` developers (through the
//! API), then:
//!
//! 1. at each level of `--subscribers`, holds that many `metricsChanged`
//!    subscriptions open on B (ten per connection, each on one developer,
//!    round robin) and reads B's resident memory (`--pid-b`);
//! 2. at the first and the last level, sends `--samples` events of nobody
//!    in particular to A, one at a time, each after the previous one was
//!    heard, and times each from the POST to the message of a project
//!    subscription on B (the developer subscriptions are not woken: the
//!    change names none of them).
//!
//! Prints one line per level and the latency percentiles. Not a test: a
//! measurement, run by `bench/live.sh` and reported in bench/README.md.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use clap::Parser;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

#[derive(Parser)]
struct Args {
    /// Replica that ingests, e.g. 127.0.0.1:8131.
    #[arg(long)]
    a: SocketAddr,
    /// Replica that the subscribers are connected to.
    #[arg(long)]
    b: SocketAddr,
    /// B's process id, to read its resident memory.
    #[arg(long)]
    pid_b: u32,
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[arg(long, env = "JWT_SECRET")]
    jwt_secret: String,
    #[arg(long, default_value_t = 200)]
    developers: usize,
    #[arg(long, value_delimiter = ',', default_value = "0,1000,5000,10000")]
    subscribers: Vec<usize>,
    #[arg(long, default_value_t = 40)]
    samples: usize,
}

const PER_CONNECTION: usize = 10;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let (token, org_gid) = organization(&args).await;
    let gql = |query: &'static str, variables: Value| {
        let (http, token, a) = (http.clone(), token.clone(), args.a);
        async move {
            let body = json!({ "query": query, "variables": variables });
            let reply: Value = http
                .post(format!("http://{a}/graphql"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("post")
                .json()
                .await
                .expect("json");
            assert!(reply.get("errors").is_none(), "{reply}");
            reply["data"].clone()
        }
    };
    let project = gql(
        "mutation { createProject(input: {name: \"Live\", slug: \"live\"}) { project { id } } }",
        json!({}),
    )
    .await["createProject"]["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = gql(
        "mutation($p: ID!) { createApiKey(input: {name: \"live\", scopes: [EVENTS_WRITE], projectId: $p}) { secret } }",
        json!({ "p": project }),
    )
    .await["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut developers = Vec::new();
    for i in 0..args.developers {
        let input = json!({ "name": format!("Dev {i}"), "email": format!("dev{i}@live.test") });
        let made = gql(
            "mutation($i: CreateDeveloperInput!) { createDeveloper(input: $i) { developer { id } } }",
            json!({ "i": input }),
        )
        .await;
        developers.push(
            made["createDeveloper"]["developer"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    println!(
        "organization {org_gid}: project, key and {} developers",
        developers.len()
    );

    let mut watcher = open(args.b, &token).await;
    subscribe(&mut watcher, "p", &project).await;
    let mut held: Vec<Socket> = Vec::new();
    let mut open_subscriptions = 0;
    let (first, last) = (args.subscribers[0], *args.subscribers.last().unwrap());
    for &level in &args.subscribers {
        let started = Instant::now();
        while open_subscriptions < level {
            let mut socket = open(args.b, &token).await;
            for n in 0..PER_CONNECTION.min(level - open_subscriptions) {
                let dev = &developers[(open_subscriptions + n) % developers.len()];
                subscribe(&mut socket, &format!("d{n}"), dev).await;
            }
            open_subscriptions += PER_CONNECTION.min(level - open_subscriptions);
            held.push(socket);
        }
        // Every subscription has sent its first message: it is running.
        for socket in &mut held {
            while let Ok(Some(_)) =
                tokio::time::timeout(Duration::from_millis(1), socket.next()).await
            {}
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "subscribers {level:>6}  connections {:>5}  B resident {:>7.1} MiB  (opened in {:.1} s)",
            held.len(),
            resident_mib(args.pid_b),
            started.elapsed().as_secs_f64()
        );
        if level == first || level == last {
            latency(&args, &http, &key, &mut watcher, level).await;
            println!(
                "                  after the events: B resident {:>7.1} MiB",
                resident_mib(args.pid_b)
            );
        }
    }
}

/// An organization and its owner's token, made as `devgraph org create` does.
async fn organization(args: &Args) -> (String, String) {
    use devgraph::ids::GlobalId as _;
    let db = sea_orm::Database::connect(&args.database_url)
        .await
        .expect("database");
    let slug = format!("live-{}", uuid::Uuid::now_v7().simple());
    let input = devgraph::service::organization::NewOrganization {
        slug: slug.clone(),
        name: "Live bench".into(),
        owner_email: format!("owner@{slug}.test"),
        owner_name: "Owner".into(),
        owner_subject: Some(format!("owner|{slug}")),
    };
    let (org, _) = devgraph::service::organization::create(&db, input)
        .await
        .expect("org");
    let claims = json!({
        "sub": format!("owner|{slug}"),
        "org": org.id.to_string(),
        "exp": chrono::Utc::now().timestamp() + 86_400,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(args.jwt_secret.as_bytes());
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    (token, devgraph::ids::OrgId::from_db(org.id).to_global().0)
}

async fn open(addr: SocketAddr, token: &str) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = connect_async(request).await.expect("connect");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let ack = socket.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack}");
    socket
}

async fn subscribe(socket: &mut Socket, id: &str, scope: &str) {
    let query =
        "subscription($s: ID!) { metricsChanged(scope: $s) { rows { day eventName count } } }";
    let msg = json!({ "type": "subscribe", "id": id,
        "payload": { "query": query, "variables": { "s": scope } } });
    socket.send(Message::text(msg.to_string())).await.unwrap();
}

/// Ingest on A, heard on B: `samples` times, one after the other.
async fn latency(
    args: &Args,
    http: &reqwest::Client,
    key: &str,
    watcher: &mut Socket,
    level: usize,
) {
    // Whatever the watcher had not read yet.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), watcher.next()).await {
    }
    let mut times = Vec::new();
    for i in 0..args.samples {
        // Past the one-second folding interval since the last message.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let event = json!({ "events": [{ "id": format!("l{level}-{i}-{}", uuid::Uuid::now_v7()),
            "name": "deploy", "occurredAt": chrono::Utc::now().to_rfc3339() }] });
        let sent = Instant::now();
        let status = http
            .post(format!("http://{}/v1/events", args.a))
            .bearer_auth(key)
            .json(&event)
            .send()
            .await
            .expect("post")
            .status();
        assert_eq!(status, 202);
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), watcher.next())
                .await
                .expect("a message within 30 s")
                .unwrap()
                .unwrap();
            if msg.to_text().is_ok_and(|t| t.contains("\"next\"")) {
                break;
            }
        }
        times.push(sent.elapsed());
    }
    times.sort();
    let pct =
        |p: f64| times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "latency with {level} other subscribers, {} samples: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}

fn resident_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}
