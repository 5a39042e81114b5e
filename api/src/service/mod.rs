//! The domain logic and every query of a tenant table. Each function takes
//! the `TenantCtx` first and filters on its organization; nothing outside
//! this module (and `auth::lookup`, which builds the context) reads tenant
//! tables.

pub mod analytics;
pub(crate) mod any_of;
pub mod api_key;
pub mod audit;
pub mod delivery;
pub mod developer;
pub mod events;
pub mod live;
pub mod membership;
pub mod organization;
pub(crate) mod prelude;
pub mod project;
pub mod repository;
pub mod retention;
pub mod rollups;
pub mod table;
pub mod team_space;
pub mod validate;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr},
};

use crate::{auth::TenantCtx, error::AppResult};

/// Begins the transaction of a write whose checks (a permission that reads
/// the database, the last-owner rule) must still hold when it commits: such
/// writes of one organization run one at a time. On PostgreSQL the
/// transaction first locks the organization's row (`FOR NO KEY UPDATE`,
/// which ingestion's foreign-key checks do not wait for); SQLite has no row
/// locks, so there the first statement takes the database's write lock (a
/// no-op update of the organization's row). Either way a check reads what
/// the previous write committed, and no two writes decide on the same stale
/// read. One lock per organization rather than row locks in id order: it
/// cannot deadlock, and administrative writes are rare.
pub(crate) async fn begin_checked(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
) -> AppResult<DatabaseTransaction> {
    use entity::organization;
    use sea_orm::{QuerySelect, sea_query::LockType};
    let txn = db.begin().await?;
    let org = organization::Column::Id.eq(ctx.org_id().uuid());
    if txn.get_database_backend() == DbBackend::Sqlite {
        organization::Entity::update_many()
            .col_expr(
                organization::Column::UpdatedAt,
                Expr::col(organization::Column::UpdatedAt),
            )
            .filter(org)
            .exec(&txn)
            .await?;
    } else {
        organization::Entity::find()
            .select_only()
            .column(organization::Column::Id)
            .filter(org)
            .lock(LockType::NoKeyUpdate)
            .into_tuple::<uuid::Uuid>()
            .one(&txn)
            .await?;
    }
    Ok(txn)
}

/// Case-insensitive "contains" that treats `%`, `_` and `\` in the user's
/// text literally, the same on SQLite and PostgreSQL.
pub(crate) fn name_contains<C: ColumnTrait>(col: C, text: &str) -> SimpleExpr {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(col.as_column_ref())))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// The fields an update changed, `{field: {from, to}}`, for the audit log.
#[derive(Default)]
pub(crate) struct Changes(serde_json::Map<String, serde_json::Value>);

impl Changes {
    pub(crate) fn note<T: serde::Serialize + PartialEq>(&mut self, field: &str, from: &T, to: &T) {
        if from != to {
            self.0.insert(
                field.to_owned(),
                serde_json::json!({ "from": from, "to": to }),
            );
        }
    }

    pub(crate) fn into_json(self) -> serde_json::Value {
        serde_json::Value::Object(self.0)
    }
}
