//! `column ∈ set` with the whole set bound as ONE parameter, whatever its
//! size: `= ANY($1)` with an array on PostgreSQL, `IN (SELECT … FROM
//! json_each(?))` with a JSON array on SQLite. Every batched load filters
//! through it instead of `is_in`.
//!
//! Why not `IN ($1, …, $n)`: each list length is another statement text,
//! so another prepared statement in every pooled connection's cache, and
//! after five executions PostgreSQL may switch a prepared statement to a
//! generic plan, which with hundreds of bound ids was far slower than the
//! custom one (the Dashboard's activity statement, 600 ids: mean 25 ms →
//! 836 ms).
//! One parameter gives one text and one plan per statement.

use sea_orm::{
    DbBackend,
    sea_query::{ArrayType, Expr, ExprTrait, SimpleExpr, Value, extension::postgres::PgFunc},
};
use uuid::Uuid;

/// A type whose sets `any_of` binds: its PostgreSQL array type and value,
/// and on SQLite how an element travels in the JSON array and how
/// `json_each`'s `value` is turned back into the stored form.
pub(crate) trait SetMember {
    const ARRAY: ArrayType;
    /// SQL over json_each's `value` that yields what the column stores.
    const SQLITE_STORED: &'static str;

    fn value(&self) -> Value;
    fn json(&self) -> serde_json::Value;
}

/// sqlx stores a `Uuid` on SQLite as a 16-byte BLOB (not text), so the set
/// travels as hex digits and `unhex` (SQLite ≥ 3.41; the bundled one is
/// newer) makes the same 16 bytes again: compared byte for byte, as `=`
/// on a bound `Uuid` is. Malformed hex would give NULL, which matches
/// nothing; ours never is.
impl SetMember for Uuid {
    const ARRAY: ArrayType = ArrayType::Uuid;
    const SQLITE_STORED: &'static str = "unhex(value)";

    fn value(&self) -> Value {
        (*self).into()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::Value::String(self.simple().to_string())
    }
}

/// Text is stored as text: `value` is already the column's form.
impl SetMember for str {
    const ARRAY: ArrayType = ArrayType::String;
    const SQLITE_STORED: &'static str = "value";

    fn value(&self) -> Value {
        self.into()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::Value::String(self.to_owned())
    }
}

impl SetMember for String {
    const ARRAY: ArrayType = <str as SetMember>::ARRAY;
    const SQLITE_STORED: &'static str = <str as SetMember>::SQLITE_STORED;

    fn value(&self) -> Value {
        self.as_str().value()
    }

    fn json(&self) -> serde_json::Value {
        self.as_str().json()
    }
}

/// Integers travel as JSON numbers, which `json_each` gives back as integers.
impl SetMember for i32 {
    const ARRAY: ArrayType = ArrayType::Int;
    const SQLITE_STORED: &'static str = "value";

    fn value(&self) -> Value {
        (*self).into()
    }

    fn json(&self) -> serde_json::Value {
        (*self).into()
    }
}

/// So a set can be passed by reference (`&[Uuid]`, `&BTreeSet<String>`).
impl<T: SetMember + ?Sized> SetMember for &T {
    const ARRAY: ArrayType = T::ARRAY;
    const SQLITE_STORED: &'static str = T::SQLITE_STORED;

    fn value(&self) -> Value {
        (**self).value()
    }

    fn json(&self) -> serde_json::Value {
        (**self).json()
    }
}

/// `col` equals one of `values`, with `values` bound as one parameter. An
/// empty set matches nothing (with the same statement text as any other
/// size); callers that can skip the statement for an empty set still do.
/// `backend` is the connection's (`db.get_database_backend()`).
pub(crate) fn any_of<T: SetMember>(
    backend: DbBackend,
    col: impl Into<SimpleExpr>,
    values: impl IntoIterator<Item = T>,
) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            let array: Vec<Value> = values.into_iter().map(|v| v.value()).collect();
            col.into().eq(PgFunc::any(Expr::val(Value::Array(
                T::ARRAY,
                Some(Box::new(array)),
            ))))
        }
        // Only SQLite and PostgreSQL are built (the sqlx features of the
        // workspace); json_each and unhex are SQLite's.
        _ => {
            let json: Vec<serde_json::Value> = values.into_iter().map(|v| v.json()).collect();
            // One custom expression rather than `in_subquery` of a built
            // select: the sub-select reads no table, only the parameter, and
            // this is the text whose plan was checked (EXPLAIN QUERY PLAN: a
            // search of the key index per element, as with the IN list).
            Expr::cust_with_exprs(
                format!("? IN (SELECT {} FROM json_each(?))", T::SQLITE_STORED),
                [
                    col.into(),
                    Expr::val(serde_json::Value::Array(json).to_string()),
                ],
            )
        }
    }
}
