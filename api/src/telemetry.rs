//! Telemetry: the process's Prometheus metrics (requests by route, method,
//! status and GraphQL operation; events ingested; the database pool). The
//! HTTP edge records requests into it (`http/observe.rs`), resolvers count
//! ingestion through the request data, and `/metrics` prints it. Named apart
//! from the analytics metrics that devgraph serves (`service/metrics.rs`).

use std::sync::Arc;

use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use sea_orm::{DatabaseConnection, DbBackend};

/// The operation a GraphQL request ran, for the `operation` label of the
/// request metrics (see `Telemetry::operation_label`), carried from the
/// handler to the middleware in the response's extensions.
#[derive(Debug, Clone)]
pub struct OperationLabel(pub String);

type Labels = Vec<(&'static str, String)>;

/// The process's Prometheus metrics: HTTP requests, ingestion, the pool.
pub struct Telemetry {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram>,
    events: Counter,
    pool_size: Gauge,
    pool_idle: Gauge,
    request_tasks: Gauge,
    ws_connections: Gauge,
    subscriptions: Gauge,
    /// Operation names kept as labels, to bound the `operation` label.
    operations: std::sync::Mutex<OperationLabels>,
}

/// Distinct operation names kept as labels; later ones count as `other`.
const MAX_OPERATION_LABELS: usize = 200;
/// Of those, the most one organization may introduce, so one tenant's
/// clients cannot use up the labels every other tenant's operations need.
const MAX_OPERATION_LABELS_PER_ORG: usize = 20;

#[derive(Default)]
struct OperationLabels {
    names: std::collections::HashSet<String>,
    /// How many names each organization introduced (`None`: anonymous
    /// introspection, which has no organization).
    introduced: std::collections::HashMap<Option<uuid::Uuid>, usize>,
}

impl Telemetry {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("devgraph");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let events = Counter::default();
        let pool_size = Gauge::default();
        let pool_idle = Gauge::default();
        let request_tasks = Gauge::default();
        let ws_connections = Gauge::default();
        let subscriptions = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method, status and GraphQL operation",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and GraphQL operation",
            latency.clone(),
        );
        registry.register(
            "events_ingested",
            "Events accepted (stored) by ingestion",
            events.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            pool_idle.clone(),
        );
        registry.register(
            "request_tasks",
            "Batch-loading tasks spawned for requests and still running",
            request_tasks.clone(),
        );
        registry.register(
            "websocket_connections",
            "Open GraphQL WebSocket connections (/graphql/ws)",
            ws_connections.clone(),
        );
        registry.register(
            "subscriptions",
            "Open GraphQL subscriptions, all connections together",
            subscriptions.clone(),
        );
        Arc::new(Telemetry {
            registry,
            requests,
            latency,
            events,
            pool_size,
            pool_idle,
            request_tasks,
            ws_connections,
            subscriptions,
            operations: Default::default(),
        })
    }

    /// Open WebSocket connections: the handler holds one for each.
    pub fn ws_connections(&self) -> Gauge {
        self.ws_connections.clone()
    }

    /// Open subscriptions: each holds one while it runs.
    pub fn subscriptions(&self) -> Gauge {
        self.subscriptions.clone()
    }

    /// Counts the batch-loading tasks requests spawn while they run (the
    /// loaders stop a request's tasks when it ends; this shows they do).
    pub fn request_tasks(&self) -> Gauge {
        self.request_tasks.clone()
    }

    /// The `operation` label for a request of `org`: its operation name when
    /// that is a plain GraphQL name of at most 64 characters, else
    /// `anonymous`. Names come from clients, so only the first
    /// `MAX_OPERATION_LABELS` distinct ones become labels, at most
    /// `MAX_OPERATION_LABELS_PER_ORG` of them introduced by any one
    /// organization, and the rest count as `other`: no client can grow the
    /// metrics without bound, nor crowd out other tenants' operations.
    pub fn operation_label(&self, org: Option<uuid::Uuid>, name: Option<&str>) -> String {
        let plain = |n: &&str| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        let Some(name) = name.filter(plain) else {
            return "anonymous".into();
        };
        let Ok(mut labels) = self.operations.lock() else {
            return "other".into();
        };
        if labels.names.contains(name) {
            return name.to_owned();
        }
        let mine = labels.introduced.get(&org).copied().unwrap_or(0);
        if labels.names.len() < MAX_OPERATION_LABELS && mine < MAX_OPERATION_LABELS_PER_ORG {
            labels.names.insert(name.to_owned());
            *labels.introduced.entry(org).or_default() += 1;
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Counts and times one answered request.
    pub fn request_done(
        &self,
        route: String,
        method: String,
        status: String,
        operation: String,
        elapsed: std::time::Duration,
    ) {
        let labels: Labels = vec![
            ("route", route.clone()),
            ("method", method),
            ("status", status),
            ("operation", operation.clone()),
        ];
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&vec![("route", route), ("operation", operation)])
            .observe(elapsed.as_secs_f64());
    }

    pub fn events_ingested(&self, n: u64) {
        self.events.inc_by(n);
    }

    pub fn encode(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => (0, 0),
        };
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(idle as i64);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_plain_names_and_bounded() {
        let metrics = Telemetry::new();
        let org = Some(uuid::Uuid::now_v7());
        assert_eq!(metrics.operation_label(org, Some("Dashboard")), "Dashboard");
        assert_eq!(metrics.operation_label(org, None), "anonymous");
        assert_eq!(metrics.operation_label(org, Some("no spaces")), "anonymous");
        assert_eq!(
            metrics.operation_label(org, Some(&"x".repeat(65))),
            "anonymous"
        );
        // Many organizations fill the labels; each may introduce only its share.
        let mut kept = 1;
        for tenant in 0..20 {
            let org = Some(uuid::Uuid::from_u128(tenant));
            for i in 0..30 {
                let name = format!("Op{tenant}x{i}");
                let label = metrics.operation_label(org, Some(&name));
                if label == name {
                    kept += 1;
                } else {
                    assert_eq!(label, "other");
                    assert!(
                        i >= MAX_OPERATION_LABELS_PER_ORG || kept >= MAX_OPERATION_LABELS,
                        "{name}"
                    );
                }
            }
        }
        assert_eq!(kept, MAX_OPERATION_LABELS);
        assert_eq!(metrics.operation_label(org, Some("OneTooMany")), "other");
        assert_eq!(
            metrics.operation_label(Some(uuid::Uuid::from_u128(99)), Some("Dashboard")),
            "Dashboard",
            "names already seen keep their label, whoever sends them"
        );
    }

    #[test]
    fn one_organization_cannot_use_up_the_operation_labels() {
        let metrics = Telemetry::new();
        let noisy = Some(uuid::Uuid::from_u128(1));
        for i in 0..500 {
            metrics.operation_label(noisy, Some(&format!("Spam{i}")));
        }
        let quiet = Some(uuid::Uuid::from_u128(2));
        assert_eq!(
            metrics.operation_label(quiet, Some("Dashboard")),
            "Dashboard"
        );
    }
}
