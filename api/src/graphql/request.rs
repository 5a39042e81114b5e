//! What a resolver may use: the caller's tenant context, the per-request
//! loaders, the database, the limits and the telemetry. A request without it (no
//! authentication) reaches no data: deny by default.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::{
    auth::{Caller, CallerKind, TenantCtx},
    budget::Budgets,
    config::Limits,
    error::{AppError, AppResult},
    graphql::order::ListOrder,
    loaders::Loaders,
    pagination::{PageArgs, PageRequest},
    secrets::Sealer,
    service::{self, live::Live},
    telemetry::Telemetry,
};

pub struct RequestData {
    pub caller: Caller,
    pub db: DatabaseConnection,
    pub loaders: Loaders,
    pub limits: Limits,
    /// `recordEvents` counts what it ingests in the same metrics as /v1/events.
    pub telemetry: Arc<Telemetry>,
    /// The tenants' budgets, for `Organization.budget`.
    pub budgets: Arc<Budgets>,
    /// Seals repositories' webhook secrets; `None` without DEVGRAPH_SECRET_KEY.
    pub secrets: Option<Arc<Sealer>>,
    /// Where writes announce what they changed, for subscribers.
    pub live: Live,
    /// Metric rows the request's fields have returned so far.
    metric_rows: AtomicUsize,
}

impl RequestData {
    pub fn new(
        caller: Caller,
        db: DatabaseConnection,
        limits: Limits,
        telemetry: Arc<Telemetry>,
        budgets: Arc<Budgets>,
        secrets: Option<Arc<Sealer>>,
        live: Live,
    ) -> Self {
        let loaders = Loaders::new(&caller.ctx, &db, telemetry.request_tasks());
        RequestData {
            caller,
            db,
            loaders,
            limits,
            telemetry,
            budgets,
            secrets,
            live,
            metric_rows: AtomicUsize::new(0),
        }
    }

    /// Counts `rows` metric rows against the request's budget: all its
    /// metrics fields together return at most `max_metric_rows`, however
    /// many aliases or team spaces ask, so no estimate can be wrong by more.
    pub fn charge_metric_rows(&self, rows: usize) -> AppResult<()> {
        let max = self.limits.max_metric_rows;
        let total = self.metric_rows.fetch_add(rows, Ordering::Relaxed) + rows;
        if total > max {
            return Err(AppError::LimitExceeded(format!(
                "this request's metrics return more than {max} rows together; group by fewer \
                 dimensions, filter, shorten the range or ask in several requests"
            )));
        }
        Ok(())
    }

    pub fn tenant(&self) -> &TenantCtx {
        &self.caller.ctx
    }

    /// The caller's organization: a person's was read with their developer
    /// row while authenticating (no statement of its own); a key's is read
    /// now.
    pub async fn organization(&self) -> AppResult<entity::organization::Model> {
        match &self.caller.kind {
            CallerKind::Person { organization, .. } => Ok((**organization).clone()),
            CallerKind::Machine => service::table::organization(self.tenant(), &self.db).await,
        }
    }

    pub fn page(&self, args: PageArgs, order: Option<ListOrder>) -> AppResult<PageRequest> {
        PageRequest::new(args, order.map(Into::into), &self.limits)
    }
}

pub fn request<'a>(ctx: &Context<'a>) -> AppResult<&'a RequestData> {
    ctx.data_opt::<RequestData>()
        .ok_or_else(|| AppError::Unauthenticated("authentication required".into()))
}

/// Answers a nullable field: on error, reports it at the field's path and
/// resolves to `null`, as the GraphQL spec requires. (Returning the error
/// instead would make async-graphql drop the key from `data` altogether.)
pub fn or_null<T>(ctx: &Context<'_>, result: AppResult<Option<T>>) -> Option<T> {
    match result {
        Ok(value) => value,
        Err(err) => {
            let err = err.into_graphql().into_server_error(ctx.item.pos);
            ctx.add_error(ctx.set_error_path(err));
            None
        }
    }
}
