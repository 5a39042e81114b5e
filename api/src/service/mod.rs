//! The domain logic and every query of a tenant table. Each function takes
//! the `TenantCtx` first and filters on its organization; nothing outside
//! this module (and `auth::lookup`, which builds the context) reads tenant
//! tables.

pub mod analytics;
pub mod api_key;
pub mod audit;
pub mod developer;
pub mod events;
pub mod membership;
pub mod organization;
pub(crate) mod prelude;
pub mod project;
pub mod retention;
pub mod rollups;
pub mod table;
pub mod team_space;
pub mod validate;

use sea_orm::{
    ColumnTrait,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr},
};

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
