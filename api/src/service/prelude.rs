//! What the services that write rows share: the tenant context, the error
//! type, the permission check, the audit log, the scoped path and the SeaORM
//! traits of a transaction. `use crate::service::prelude::*;` stands for the
//! same dozen imports at the head of each of them.

pub(crate) use chrono::Utc;
pub(crate) use entity::scoped::InOrg as _;
pub(crate) use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    QueryFilter, TransactionTrait,
};
pub(crate) use serde_json::json;

pub(crate) use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    permissions::{Action, authorize},
    service::{
        Changes,
        audit::{self, Entry},
        begin_checked,
        table::{self, Listed, listed},
        validate,
    },
};
