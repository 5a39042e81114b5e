//! Observability: a request id on every request (taken from `x-request-id`
//! or made up, echoed back), a tracing span per request that the auth step
//! fills with the organization id, and Prometheus metrics at `/metrics`.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
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

use super::AppState;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
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

impl Metrics {
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
        Arc::new(Metrics {
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

    pub fn events_ingested(&self, n: u64) {
        self.events.inc_by(n);
    }

    fn encode(&self, db: &DatabaseConnection) -> String {
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

/// Times and counts every request, and gives it a request id and a span.
pub async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert("x-request-id", value);
    }
    let span = tracing::info_span!("request", %request_id, %method, %route, org_id = tracing::field::Empty);
    let mut resp = {
        use tracing::Instrument;
        next.run(req).instrument(span).await
    };
    let status = resp.status().as_u16().to_string();
    let operation = resp
        .extensions()
        .get::<super::graphql::OperationLabel>()
        .map(|op| op.0.clone())
        .unwrap_or_default();
    let labels: Labels = vec![
        ("route", route.clone()),
        ("method", method),
        ("status", status),
        ("operation", operation.clone()),
    ];
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&vec![("route", route), ("operation", operation)])
        .observe(started.elapsed().as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", value);
    }
    resp
}

/// Answers 503 when a request outlives `request_timeout`. Dropping the
/// handler rolls back its open transaction, so nothing unanswered commits.
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!("request timed out");
            let err = crate::error::AppError::ServiceUnavailable;
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(err.to_response_body()),
            )
                .into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.encode(&state.db);
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// Names the organization on the current request's span, once known.
pub fn record_org(org_id: uuid::Uuid) {
    tracing::Span::current().record("org_id", tracing::field::display(org_id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_plain_names_and_bounded() {
        let metrics = Metrics::new();
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
