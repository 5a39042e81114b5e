//! The HTTP surface: routes, shared state, and answers for what is not
//! GraphQL (health, unknown paths).

mod cors;
mod dashboard;
mod delivery;
mod events;
mod graphiql;
pub mod graphql;
pub mod health;
mod hooks;
mod machine;
pub mod observe;
pub mod persisted;
pub mod webhooks;

use std::sync::Arc;

use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use sea_orm::DatabaseConnection;
use tower_http::trace::TraceLayer;

use crate::{
    auth::Authenticator, config::Config, db::DbStats, error::AppError, graphql::AppSchema,
    secrets::Sealer, service::live::Live, telemetry::Telemetry,
};

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub auth: Arc<Authenticator>,
    pub stats: Arc<DbStats>,
    /// In dev mode, a token for the demo owner that GraphiQL sends by default.
    pub dev_token: Option<String>,
    pub telemetry: Arc<Telemetry>,
    pub readiness: Arc<health::Readiness>,
    /// Slots for requests in flight to /graphql and /v1/events.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    pub budgets: Arc<crate::budget::Budgets>,
    /// Seals and opens repositories' webhook secrets; `None` without DEVGRAPH_SECRET_KEY.
    pub secrets: Option<Arc<Sealer>>,
    /// Committed changes, for subscriptions (`/graphql/ws`).
    pub live: Live,
    /// Persisted documents: the APQ store, or the trusted-documents manifest.
    pub documents: Arc<persisted::Documents>,
}

pub fn router(state: AppState) -> Router {
    // The API itself: its requests take an in-flight slot, so whatever
    // tenants send, the pool is not oversubscribed.
    let in_flight = || axum::middleware::from_fn_with_state(state.clone(), health::limit_in_flight);
    // What browsers call, from other origins too when CORS allows them.
    let browser = Router::new()
        .route("/", get(graphql::get))
        .route(
            "/graphql",
            // Other methods: a 405 with `Allow` and a GraphQL error body.
            get(graphql::get)
                .post(graphql::post)
                .fallback(graphql::method_not_allowed),
        )
        .route_layer(in_flight());
    // A route added to `browser` here, after its in-flight layer and before
    // CORS, gets CORS without taking an in-flight slot: the place for a
    // long-lived connection such as a WebSocket.
    let browser = browser.route("/graphql/ws", get(graphql::ws::upgrade));
    let browser = cors::allow(browser, &state.config.clients.cors_origins);
    // Servers and machines (API keys, webhooks): no CORS.
    let machines = Router::new()
        .route("/v1/events", axum::routing::post(events::post))
        .route("/v1/delivery", axum::routing::post(delivery::post))
        .route(
            "/v1/webhooks/github/{repository}",
            axum::routing::post(hooks::github),
        )
        .route_layer(in_flight());
    let mut router = browser
        .merge(machines)
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/{file}", get(dashboard::asset))
        // Liveness: the process answers.
        .route("/healthz", get(|| async { "ok" }));
    if state.config.admin_addr.is_none() {
        router = router.merge(admin_routes());
    }
    observed(router, state)
}

/// What `DEVGRAPH_ADMIN_ADDR` serves instead of the main address, when set.
pub fn admin_router(state: AppState) -> Router {
    let router = admin_routes().route("/healthz", get(|| async { "ok" }));
    observed(router, state)
}

/// Readiness (it can reach its database) and the Prometheus metrics.
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(observe::metrics))
}

fn observed(router: Router<AppState>, state: AppState) -> Router {
    router
        // After routing, so requests are labelled by route, not raw path.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::timeout,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::track,
        ))
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> Response {
    let err = AppError::NotFound("no such route; the API is at /graphql".into());
    (StatusCode::NOT_FOUND, axum::Json(err.to_response_body())).into_response()
}
