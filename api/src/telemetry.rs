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
    /// Operation names seen, to bound the `operation` label's values.
    operations: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Distinct operation names kept as labels; later ones count as `other`.
const MAX_OPERATION_LABELS: usize = 200;

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
        Arc::new(Telemetry {
            registry,
            requests,
            latency,
            events,
            pool_size,
            pool_idle,
            operations: Default::default(),
        })
    }

    /// The `operation` label for a request: its operation name when that is
    /// a plain GraphQL name of at most 64 characters, else `anonymous`.
    /// Names come from clients, so only the first `MAX_OPERATION_LABELS`
    /// distinct ones become labels and the rest count as `other`: a client
    /// cannot grow the metrics without bound.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let plain = |n: &&str| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        let Some(name) = name.filter(plain) else {
            return "anonymous".into();
        };
        let Ok(mut seen) = self.operations.lock() else {
            return "other".into();
        };
        if seen.contains(name) || seen.len() < MAX_OPERATION_LABELS {
            seen.insert(name.to_owned());
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
        assert_eq!(metrics.operation_label(Some("Dashboard")), "Dashboard");
        assert_eq!(metrics.operation_label(None), "anonymous");
        assert_eq!(metrics.operation_label(Some("no spaces")), "anonymous");
        assert_eq!(metrics.operation_label(Some(&"x".repeat(65))), "anonymous");
        for i in 1..MAX_OPERATION_LABELS {
            assert_eq!(
                metrics.operation_label(Some(&format!("Op{i}"))),
                format!("Op{i}")
            );
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), "other");
        assert_eq!(
            metrics.operation_label(Some("Dashboard")),
            "Dashboard",
            "names already seen keep their label"
        );
    }
}
