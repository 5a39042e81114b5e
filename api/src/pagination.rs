//! Relay cursor pagination, shared by top-level lists (keyset conditions in
//! SQL) and nested lists (one statement for many parents, each parent's page
//! cut by window functions).
//!
//! Order is always `(sort key, id)`, so cursors are stable under ties; a
//! cursor remembers the field it was made for, and using it with another
//! order is a BAD_USER_INPUT rather than a silently wrong page.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
    sea_query::{
        Alias, Asterisk, Expr as SeaExpr, ExprTrait, IntoColumnRef, Query, SelectStatement,
        WindowStatement,
    },
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::Limits,
    error::{AppError, AppResult},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderField {
    #[default]
    Name,
    CreatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderDirection {
    #[default]
    Asc,
    Desc,
}

/// How a list is ordered; the id breaks ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ListOrder {
    pub field: OrderField,
    pub direction: OrderDirection,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SortKey {
    Text(String),
    Time(DateTime<Utc>),
}

impl From<SortKey> for sea_orm::Value {
    fn from(key: SortKey) -> Self {
        match key {
            SortKey::Text(text) => text.into(),
            SortKey::Time(time) => time.into(),
        }
    }
}

/// Rows that can be paginated: they expose their sort key and id.
pub trait Keyed {
    fn sort_key(&self, field: OrderField) -> SortKey;
    fn key_id(&self) -> Uuid;
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    field: OrderField_,
    key: SortKey,
    id: Uuid,
}

/// Serde mirror of `OrderField`, so the GraphQL enum stays free of serde.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum OrderField_ {
    N,
    C,
}

impl From<OrderField> for OrderField_ {
    fn from(field: OrderField) -> Self {
        match field {
            OrderField::Name => OrderField_::N,
            OrderField::CreatedAt => OrderField_::C,
        }
    }
}

impl Cursor {
    pub fn of<T: Keyed>(item: &T, field: OrderField) -> Cursor {
        Cursor {
            field: field.into(),
            key: item.sort_key(field),
            id: item.key_id(),
        }
    }

    pub fn encode(&self) -> String {
        // Serializing plain data cannot fail; an empty cursor would only
        // make the next request a BAD_USER_INPUT.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// A cursor is client input: one that is not base64url JSON of this
    /// shape, whose key type does not fit its field, or that was made for
    /// another order is BAD_USER_INPUT before it can reach SQL. The message
    /// does not echo it (it may be kilobytes).
    fn decode(text: &str, field: OrderField) -> AppResult<Cursor> {
        let bad = || AppError::bad_input("malformed cursor; pass one that this list returned");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let fits = matches!(
            (cursor.field, &cursor.key),
            (OrderField_::N, SortKey::Text(_)) | (OrderField_::C, SortKey::Time(_))
        );
        if !fits {
            return Err(bad());
        }
        if cursor.field != field.into() {
            return Err(AppError::bad_input(
                "the cursor was made for another order; restart pagination without it",
            ));
        }
        Ok(cursor)
    }
}

/// The raw Relay arguments of a list field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Validated pagination: how many, which way, between which cursors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub order: ListOrder,
    limit: usize,
    backward: bool,
    after: Option<Cursor>,
    before: Option<Cursor>,
}

impl PageRequest {
    pub fn new(args: PageArgs, order: Option<ListOrder>, limits: &Limits) -> AppResult<Self> {
        let order = order.unwrap_or_default();
        let count = |name: &str, n: i32| -> AppResult<usize> {
            if n < 0 {
                return Err(AppError::bad_field(
                    name,
                    format!("`{name}` must not be negative"),
                ));
            }
            let n = n as usize;
            if n > limits.max_page_size {
                return Err(AppError::LimitExceeded(format!(
                    "`{name}` is {n}, above the maximum page size of {}",
                    limits.max_page_size
                )));
            }
            Ok(n)
        };
        let (limit, backward) = match (args.first, args.last) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input("pass `first` or `last`, not both"));
            }
            (Some(first), None) => (count("first", first)?, false),
            (None, Some(last)) => (count("last", last)?, true),
            (None, None) => (limits.default_page_size, args.before.is_some()),
        };
        let decode = |c: Option<String>| c.map(|c| Cursor::decode(&c, order.field)).transpose();
        Ok(PageRequest {
            order,
            limit,
            backward,
            after: decode(args.after)?,
            before: decode(args.before)?,
        })
    }

    /// Adds cursor conditions, order and limit (one extra row tells whether
    /// another page exists) to a select.
    pub fn apply_sql<E: EntityTrait>(
        &self,
        mut select: Select<E>,
        key_col: E::Column,
        id_col: E::Column,
    ) -> Select<E> {
        if let Some(range) = self.cursor_range(key_col, id_col) {
            select = select.filter(range);
        }
        let sea_order = self.sql_order();
        select
            .order_by(key_col, sea_order.clone())
            .order_by(id_col, sea_order)
            .limit(self.limit as u64 + 1)
    }

    /// The rows between the cursors, or `None` without cursors.
    fn cursor_range<C: ColumnTrait>(&self, key_col: C, id_col: C) -> Option<Condition> {
        let asc = self.order.direction == OrderDirection::Asc;
        let bounds = [(&self.after, asc), (&self.before, !asc)];
        let mut range = None;
        for (cursor, greater) in bounds {
            if let Some(cursor) = cursor {
                let bound = keyset(key_col, id_col, cursor, greater);
                range = Some(range.unwrap_or_else(Condition::all).add(bound));
            }
        }
        range
    }

    /// The order rows are read in: walking backward reads the list order
    /// reversed and flips the rows after.
    fn sql_order(&self) -> sea_orm::Order {
        if (self.order.direction == OrderDirection::Asc) != self.backward {
            sea_orm::Order::Asc
        } else {
            sea_orm::Order::Desc
        }
    }

    /// Turns the rows of `apply_sql` into a page.
    pub fn finish_sql<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        if self.backward {
            rows.reverse();
        }
        // A cursor comes from a row that existed, so a page that starts after
        // one has something before it (Relay lets servers answer so cheaply).
        let (has_prev, has_next) = if self.backward {
            (more, self.before.is_some())
        } else {
            (self.after.is_some(), more)
        };
        Page {
            items: rows,
            has_previous: has_prev,
            has_next,
        }
    }
}

/// One row of a nested list read through `PageRequest::window_sql`.
#[derive(Debug, Clone)]
pub struct ChildRow<T> {
    pub parent: Uuid,
    /// All of the parent's rows that match the filter, cursors aside.
    pub total: u64,
    /// Inside the cursors; a row outside them only carries `total` for a
    /// parent whose page is empty.
    in_range: bool,
    pub item: T,
}

const PARENT: &str = "page_parent";
const TOTAL: &str = "page_total";
const IN_RANGE: &str = "page_in_range";
const ROW: &str = "page_row";

impl PageRequest {
    /// Per-parent pages of a nested list in one statement. Each parent's rows
    /// are numbered in list order, rows inside the cursors first, and only
    /// the first `limit + 1` of each come back, so a page of 10 out of 10,000
    /// children reads 11 rows, not 10,000; the total comes from a window
    /// count over the same partition.
    pub fn window_sql<E: EntityTrait>(
        &self,
        select: Select<E>,
        parent: impl IntoColumnRef + Clone,
        key_col: E::Column,
        id_col: E::Column,
    ) -> SelectStatement {
        let range = self.cursor_range(key_col, id_col);
        let has_cursor = range.is_some();
        let in_range: SeaExpr = match range {
            Some(range) => SeaExpr::case(range, 1).finally(0).into(),
            None => SeaExpr::cust("1"),
        };
        let order = self.sql_order();
        let mut numbering = WindowStatement::partition_by(parent.clone());
        if has_cursor {
            numbering.order_by_expr(in_range.clone(), sea_orm::Order::Desc);
        }
        numbering
            .order_by((E::default(), key_col), order.clone())
            .order_by((E::default(), id_col), order);

        let mut inner = select.into_query();
        inner
            .expr_as(SeaExpr::col(parent.clone()), Alias::new(PARENT))
            .expr_window_as(
                SeaExpr::cust("COUNT(*)"),
                WindowStatement::partition_by(parent),
                Alias::new(TOTAL),
            )
            .expr_as(in_range, Alias::new(IN_RANGE))
            .expr_window_as(SeaExpr::cust("ROW_NUMBER()"), numbering, Alias::new(ROW));
        Query::select()
            .column(Asterisk)
            .from_subquery(inner, Alias::new("page"))
            .and_where(SeaExpr::col(Alias::new(ROW)).lte(self.limit as i64 + 1))
            .order_by(Alias::new(PARENT), sea_orm::Order::Asc)
            .order_by(Alias::new(ROW), sea_orm::Order::Asc)
            .to_owned()
    }

    /// Turns one parent's rows of `window_sql` (in their order) into a page.
    pub fn finish_window<T>(&self, rows: Vec<ChildRow<T>>) -> Page<T> {
        let items = rows
            .into_iter()
            .filter(|r| r.in_range)
            .map(|r| r.item)
            .collect();
        self.finish_sql(items)
    }
}

/// Runs a `window_sql` statement.
pub async fn fetch_window<M: FromQueryResult>(
    db: &impl ConnectionTrait,
    statement: &SelectStatement,
) -> AppResult<Vec<ChildRow<M>>> {
    let rows = db.query_all(statement).await?;
    rows.iter()
        .map(|row| {
            Ok(ChildRow {
                parent: row.try_get("", PARENT)?,
                total: u64::try_from(row.try_get::<i64>("", TOTAL)?).unwrap_or(0),
                in_range: row.try_get::<i32>("", IN_RANGE)? == 1,
                item: M::from_query_result(row, "")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}

/// `(key, id) > cursor` when `greater`, else `(key, id) < cursor`, written
/// out because row-value comparison is not portable across our databases.
fn keyset<C: ColumnTrait>(key_col: C, id_col: C, cursor: &Cursor, greater: bool) -> Condition {
    let key = sea_orm::Value::from(cursor.key.clone());
    let (key_cmp, id_cmp) = if greater {
        (key_col.gt(key.clone()), id_col.gt(cursor.id))
    } else {
        (key_col.lt(key.clone()), id_col.lt(cursor.id))
    };
    Condition::any()
        .add(key_cmp)
        .add(Condition::all().add(key_col.eq(key)).add(id_cmp))
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous: bool,
    pub has_next: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Row(&'static str, u128);

    impl Keyed for Row {
        fn sort_key(&self, _: OrderField) -> SortKey {
            SortKey::Text(self.0.to_owned())
        }
        fn key_id(&self) -> Uuid {
            Uuid::from_u128(self.1)
        }
    }

    #[test]
    fn limits_and_bad_cursors_are_refused() {
        let limits = Limits::default();
        let refused = [
            (
                PageArgs {
                    first: Some(101),
                    ..Default::default()
                },
                "LIMIT_EXCEEDED",
            ),
            (
                PageArgs {
                    last: Some(-1),
                    ..Default::default()
                },
                "BAD_USER_INPUT",
            ),
            (
                PageArgs {
                    after: Some("zzz".into()),
                    ..Default::default()
                },
                "BAD_USER_INPUT",
            ),
        ];
        for (args, code) in refused {
            let err = PageRequest::new(args.clone(), None, &limits).unwrap_err();
            assert_eq!(err.code(), code, "{args:?}");
        }
        let by_name = Cursor::of(&Row("a", 1), OrderField::Name).encode();
        let other_order = ListOrder {
            field: OrderField::CreatedAt,
            direction: OrderDirection::Asc,
        };
        let mixed = PageArgs {
            after: Some(by_name),
            ..Default::default()
        };
        assert!(PageRequest::new(mixed, Some(other_order), &limits).is_err());
    }
}
