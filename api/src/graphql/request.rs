//! What a resolver may use: the caller's tenant context, the per-request
//! loaders, the database, the limits and the telemetry. A request without it (no
//! authentication) reaches no data: deny by default.

use std::sync::Arc;

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::{
    auth::{Caller, TenantCtx},
    config::Limits,
    error::{AppError, AppResult},
    graphql::order::ListOrder,
    loaders::Loaders,
    pagination::{PageArgs, PageRequest},
    telemetry::Telemetry,
};

pub struct RequestData {
    pub caller: Caller,
    pub db: DatabaseConnection,
    pub loaders: Loaders,
    pub limits: Limits,
    /// `recordEvents` counts what it ingests in the same metrics as /v1/events.
    pub telemetry: Arc<Telemetry>,
}

impl RequestData {
    pub fn new(
        caller: Caller,
        db: DatabaseConnection,
        limits: Limits,
        telemetry: Arc<Telemetry>,
    ) -> Self {
        let loaders = Loaders::new(&caller.ctx, &db);
        RequestData {
            caller,
            db,
            loaders,
            limits,
            telemetry,
        }
    }

    pub fn tenant(&self) -> &TenantCtx {
        &self.caller.ctx
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
