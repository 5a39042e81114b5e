//! The one error type of the API and its mapping to GraphQL `extensions.code`
//! and HTTP statuses.
//!
//! Why one enum: `async_graphql::Error` converts from anything `Display`, so
//! a bare `?` on a database error would silently drop the code and leak the
//! SQL text. Every resolver returns `AppResult`, and the conversion below is
//! the only place an error becomes a GraphQL error.

use async_graphql::ErrorExtensions;
use axum::http::StatusCode;
use entity::constraint::Violation;
use sea_orm::{DbErr, RuntimeErr, SqlxError, SqlxPostgresError, SqlxSqliteError};

pub type AppResult<T> = Result<T, AppError>;

/// Deliberately not `Display`: async-graphql converts anything `Display`
/// into an error without a code, so a `?` would silently drop it. Without
/// `Display`, `?` in a resolver goes through `From<AppError>` below.
#[derive(Debug, Clone)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden(String),
    NotFound(String),
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    Conflict {
        message: String,
        field: Option<String>,
    },
    LimitExceeded(String),
    /// The organization is over its budget; retry after this many seconds.
    RateLimited {
        retry_after: u64,
    },
    ServiceUnavailable,
    /// PostgreSQL chose this transaction as a deadlock victim (40P01) or
    /// could not serialize it (40001): it was rolled back whole, so running
    /// it again is safe. Services whose writes are idempotent retry it
    /// themselves; a caller that still sees it gets 503 and retries.
    Collided,
    /// A request named a persisted document by its hash, and this server
    /// does not know it: send the document with the hash (automatic
    /// persisted queries), or it is not in the trusted-documents manifest.
    PersistedQueryNotFound,
    /// The cause is logged, never shown: it may hold SQL, paths or secrets.
    Internal(String),
}

impl AppError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    /// What the caller is told; never the cause of an internal error.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::LimitExceeded(m) => m.clone(),
            AppError::BadUserInput { message, .. } | AppError::Conflict { message, .. } => {
                message.clone()
            }
            AppError::RateLimited { retry_after } => {
                format!("your organization is over its request budget; retry in {retry_after} s")
            }
            AppError::ServiceUnavailable => {
                "the service is temporarily unavailable; retry shortly".into()
            }
            AppError::Collided => {
                "the request collided with a concurrent one and was undone; retry it".into()
            }
            AppError::Internal(_) => "internal error".into(),
            // Apollo Client and urql recognise the miss by this exact message
            // (urql by the message alone), so it is not a sentence.
            AppError::PersistedQueryNotFound => "PersistedQueryNotFound".into(),
        }
    }

    /// For operators (CLI output, logs): includes an internal error's cause.
    pub fn describe(&self) -> String {
        match self {
            AppError::Internal(cause) => format!("internal error: {cause}"),
            other => other.message(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput { .. } => "BAD_USER_INPUT",
            AppError::Conflict { .. } => "CONFLICT",
            AppError::LimitExceeded(_) => "LIMIT_EXCEEDED",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::ServiceUnavailable | AppError::Collided => "SERVICE_UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL",
            AppError::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
        }
    }

    /// The status for errors answered at the HTTP layer (before or instead of
    /// GraphQL execution).
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::LimitExceeded(_) => StatusCode::BAD_REQUEST,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::ServiceUnavailable | AppError::Collided => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            // A request error: `/graphql` answers it 200 under application/json,
            // as it does every request error (see `MediaType::request_error_status`).
            AppError::PersistedQueryNotFound => StatusCode::BAD_REQUEST,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            AppError::BadUserInput { field, .. } | AppError::Conflict { field, .. } => {
                field.as_deref()
            }
            _ => None,
        }
    }

    /// Logs what must not be shown, once, where the error leaves the API.
    fn log(&self) {
        match self {
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::ServiceUnavailable => tracing::warn!(
                "answered SERVICE_UNAVAILABLE (the database or the identity provider is away)"
            ),
            AppError::Collided => tracing::warn!(
                "answered SERVICE_UNAVAILABLE (a transaction was rolled back as a deadlock victim \
                 or a serialization failure)"
            ),
            _ => {}
        }
    }

    pub fn into_graphql(self) -> async_graphql::Error {
        self.log();
        let code = self.code();
        let field = self.field().map(str::to_owned);
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
        })
    }

    /// A GraphQL-shaped body for errors answered before execution.
    pub fn to_response_body(&self) -> serde_json::Value {
        self.log();
        let mut extensions = serde_json::json!({ "code": self.code() });
        if let Some(field) = self.field() {
            extensions["field"] = field.into();
        }
        serde_json::json!({ "errors": [{ "message": self.message(), "extensions": extensions }] })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.into_graphql()
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            return AppError::ServiceUnavailable;
        }
        if is_collision(&err) {
            return AppError::Collided;
        }
        if is_statement_timeout(&err) {
            return AppError::LimitExceeded(
                "the query took longer than the statement timeout".into(),
            );
        }
        match unique_violation(&err) {
            Some(field) => AppError::Conflict {
                message: format!("{field} is already taken"),
                field: Some(field.to_owned()),
            },
            None => AppError::internal(err),
        }
    }
}

/// The sqlx error inside a failed statement, if there is one.
fn sqlx_error(err: &DbErr) -> Option<&SqlxError> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// The PostgreSQL error inside a failed statement, if it is one.
fn pg_error(err: &DbErr) -> Option<&SqlxPostgresError> {
    match sqlx_error(err) {
        Some(SqlxError::Database(db)) => db.try_downcast_ref::<SqlxPostgresError>(),
        _ => None,
    }
}

/// The database could not be reached or the connection broke: the request
/// may succeed if retried, so it is 503, not a bug (`INTERNAL`). A broken
/// connection surfaces wherever the statement was (a query, an execute, a
/// commit), so the error's variant, not the `DbErr` kind, decides.
fn is_unavailable(err: &DbErr) -> bool {
    match err {
        // No connection to be had within the acquire timeout, or none at all.
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        _ => match sqlx_error(err) {
            Some(e) => sqlx_unavailable(e),
            // Paths that keep only the text (a `Custom` wrapper) still say it.
            None => err.to_string().contains("database is locked"),
        },
    }
}

fn sqlx_unavailable(err: &SqlxError) -> bool {
    match err {
        // Reset, refused, broken pipe, end of stream: the link is gone.
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        SqlxError::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<SqlxPostgresError>() {
                pg_unavailable(pg.code())
            } else if db.try_downcast_ref::<SqlxSqliteError>().is_some() {
                // SQLITE_BUSY (and its extended codes): another writer holds
                // the lock longer than the busy timeout; retry.
                db.code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .is_some_and(|c| c & 0xff == SQLITE_BUSY)
            } else {
                false
            }
        }
        _ => false,
    }
}

const SQLITE_BUSY: i32 = 5;

/// SQLSTATEs of a server going away or not taking connections: class 08
/// (connection exception), 57P01-57P03 (admin or crash shutdown, cannot
/// connect now: what a stopping or starting server sends), 53300 (too many
/// connections).
fn pg_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// A deadlock victim (40P01) or a serialization failure (40001). devgraph
/// orders its locks so that plain PostgreSQL has no deadlocks to pick; on
/// Citus the distributed deadlock detector also cancels some waits across
/// the coordinator's advisory lock that are not deadlocks.
fn is_collision(err: &DbErr) -> bool {
    pg_error(err).is_some_and(|pg| matches!(pg.code(), "40P01" | "40001"))
}

/// PostgreSQL's `statement_timeout` fired. 57014 (query_canceled) is also
/// a cancel request, so the message tells the two apart.
fn is_statement_timeout(err: &DbErr) -> bool {
    const TIMEOUT: &str = "canceling statement due to statement timeout";
    match sqlx_error(err) {
        Some(SqlxError::Database(_)) => pg_error(err)
            .is_some_and(|pg| pg.code() == "57014" && pg.message().contains("statement timeout")),
        _ => err.to_string().contains(TIMEOUT),
    }
}

/// Maps a unique-constraint violation to the input field it guards, by the
/// constraint-name prefix (distributed shards append a suffix to the name,
/// so matching is by prefix, never by equality). `entity::constraint`
/// recovers the name on SQLite, whose messages only list columns.
fn unique_violation(err: &DbErr) -> Option<&'static str> {
    const FIELDS: &[(&str, &str)] = &[
        ("uq_organizations_slug", "slug"),
        ("uq_team_spaces_slug", "slug"),
        ("uq_projects_slug", "slug"),
        ("uq_developers_email", "email"),
        ("uq_developers_auth_subject", "authSubject"),
        ("uq_api_keys_prefix", "prefix"),
        ("uq_repositories_external", "externalId"),
    ];
    match entity::constraint::violation(err)? {
        Violation::Unique(Some(name)) => FIELDS
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .map(|(_, field)| *field),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_map_to_codes_without_internals() {
        let timeout = DbErr::Custom("error: canceling statement due to statement timeout".into());
        assert_eq!(AppError::from(timeout).code(), "LIMIT_EXCEEDED");
        let locked = DbErr::Custom("(code: 5) database is locked".into());
        assert_eq!(AppError::from(locked).code(), "SERVICE_UNAVAILABLE");
        let other = AppError::from(DbErr::Custom("SELECT secret FROM t".into()));
        assert_eq!(
            (other.code(), other.message()),
            ("INTERNAL", "internal error".to_owned())
        );
    }

    #[test]
    fn a_lost_connection_is_service_unavailable_wherever_it_surfaces() {
        use std::{io::ErrorKind, sync::Arc};
        let sqlx = |e: SqlxError| RuntimeErr::SqlxError(Arc::new(e));
        let io = |kind: ErrorKind| sqlx(SqlxError::Io(std::io::Error::from(kind)));
        let lost = [
            DbErr::Query(io(ErrorKind::ConnectionReset)),
            DbErr::Exec(io(ErrorKind::BrokenPipe)),
            DbErr::Query(io(ErrorKind::UnexpectedEof)),
            DbErr::Exec(io(ErrorKind::ConnectionAborted)),
            DbErr::Conn(io(ErrorKind::ConnectionRefused)),
            DbErr::Query(sqlx(SqlxError::PoolClosed)),
            DbErr::Exec(sqlx(SqlxError::PoolTimedOut)),
            DbErr::Query(sqlx(SqlxError::WorkerCrashed)),
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed),
        ];
        for err in lost {
            let text = err.to_string();
            assert_eq!(AppError::from(err).code(), "SERVICE_UNAVAILABLE", "{text}");
        }
        // Not a lost connection: a bug, logged and shown as INTERNAL.
        let bugs = [
            DbErr::Query(sqlx(SqlxError::RowNotFound)),
            DbErr::Query(sqlx(SqlxError::Protocol("unexpected message".into()))),
            DbErr::Exec(RuntimeErr::Internal("connection reset".into())),
        ];
        for err in bugs {
            let text = err.to_string();
            assert_eq!(AppError::from(err).code(), "INTERNAL", "{text}");
        }
    }

    #[test]
    fn postgres_shutdown_and_connection_states_are_unavailable() {
        for code in ["08006", "08001", "57P01", "57P02", "57P03", "53300"] {
            assert!(pg_unavailable(code), "{code}");
        }
        // Unique violation, serialization failure, query canceled.
        for code in ["23505", "40001", "57014"] {
            assert!(!pg_unavailable(code), "{code}");
        }
    }
}
