//! The HTTP surface: routes, shared state, and answers for what is not
//! GraphQL (health, unknown paths).

mod events;
mod graphiql;
pub mod graphql;
pub mod observe;

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
    telemetry::Telemetry,
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
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(graphql::get))
        .route(
            "/graphql",
            // Other methods: a 405 with `Allow` and a GraphQL error body.
            get(graphql::get)
                .post(graphql::post)
                .fallback(graphql::method_not_allowed),
        )
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/v1/events", axum::routing::post(events::post))
        // Liveness: the process answers. Readiness: it can reach its database.
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(observe::metrics))
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

async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await;
    match ping {
        Ok(Ok(())) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ready" })),
        )
            .into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "database unreachable" })),
        )
            .into_response(),
    }
}

async fn not_found() -> Response {
    let err = AppError::NotFound("no such route; the API is at /graphql".into());
    (StatusCode::NOT_FOUND, axum::Json(err.to_response_body())).into_response()
}
