//! Relay cursor pagination, shared by top-level lists (keyset conditions in
//! SQL) and nested lists (a page cut per parent from a batch a DataLoader
//! fetched in one statement).
//!
//! Order is always `(sort key, id)`, so cursors are stable under ties; a
//! cursor remembers the field it was made for, and using it with another
//! order is a BAD_USER_INPUT rather than a silently wrong page.

use async_graphql::{Enum, InputObject};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use uuid::Uuid;

use crate::{
    config::Limits,
    error::{AppError, AppResult},
};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderField {
    #[default]
    Name,
    CreatedAt,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderDirection {
    #[default]
    Asc,
    Desc,
}

/// How a list is ordered; the id breaks ties.
#[derive(InputObject, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ListOrder {
    #[graphql(default)]
    pub field: OrderField,
    #[graphql(default)]
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

    fn decode(text: &str, field: OrderField) -> AppResult<Cursor> {
        let bad = || AppError::bad_input(format!("malformed cursor {text:?}"));
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if cursor.field != field.into() {
            return Err(AppError::bad_input(
                "the cursor was made for another order; restart pagination without it",
            ));
        }
        Ok(cursor)
    }

    fn cmp_item<T: Keyed>(&self, item: &T, order: ListOrder) -> Ordering {
        let ord = (item.sort_key(order.field), item.key_id()).cmp(&(self.key.clone(), self.id));
        directed(ord, order.direction)
    }
}

fn directed(ord: Ordering, direction: OrderDirection) -> Ordering {
    match direction {
        OrderDirection::Asc => ord,
        OrderDirection::Desc => ord.reverse(),
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
        let asc = self.order.direction == OrderDirection::Asc;
        if let Some(after) = &self.after {
            select = select.filter(keyset(key_col, id_col, after, asc));
        }
        if let Some(before) = &self.before {
            select = select.filter(keyset(key_col, id_col, before, !asc));
        }
        // Walking backward reads the order reversed and flips the rows after.
        let sql_asc = asc != self.backward;
        let sea_order = if sql_asc {
            sea_orm::Order::Asc
        } else {
            sea_orm::Order::Desc
        };
        select
            .order_by(key_col, sea_order.clone())
            .order_by(id_col, sea_order)
            .limit(self.limit as u64 + 1)
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

    /// Cuts a page from all of one parent's rows, already filtered.
    pub fn cut<T: Keyed>(&self, mut rows: Vec<T>) -> Page<T> {
        let order = self.order;
        rows.sort_by(|a, b| {
            let ord =
                (a.sort_key(order.field), a.key_id()).cmp(&(b.sort_key(order.field), b.key_id()));
            directed(ord, order.direction)
        });
        let start = match &self.after {
            Some(c) => rows.partition_point(|r| c.cmp_item(r, order) != Ordering::Greater),
            None => 0,
        };
        let end = match &self.before {
            Some(c) => rows.partition_point(|r| c.cmp_item(r, order) == Ordering::Less),
            None => rows.len(),
        };
        let end = end.max(start);
        let (from, to) = if self.backward {
            (end.saturating_sub(self.limit).max(start), end)
        } else {
            (start, (start + self.limit).min(end))
        };
        let total = rows.len();
        let items: Vec<T> = rows.drain(from..to).collect();
        Page {
            items,
            has_previous: from > 0,
            has_next: to < total,
        }
    }
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

    fn rows() -> Vec<Row> {
        vec![
            Row("d", 4),
            Row("a", 1),
            Row("c", 3),
            Row("b", 2),
            Row("b", 5),
        ]
    }

    fn names(page: &Page<Row>) -> Vec<(&'static str, u128)> {
        page.items.iter().map(|r| (r.0, r.1)).collect()
    }

    fn req(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> PageRequest {
        PageRequest::new(
            PageArgs {
                first,
                after,
                last,
                before,
            },
            None,
            &Limits::default(),
        )
        .unwrap()
    }

    #[test]
    fn forward_pages_chain_through_cursors() {
        let p1 = req(Some(2), None, None, None).cut(rows());
        assert_eq!(names(&p1), vec![("a", 1), ("b", 2)]);
        assert!(p1.has_next && !p1.has_previous);
        let after = Cursor::of(&p1.items[1], OrderField::Name).encode();
        let p2 = req(Some(2), Some(after), None, None).cut(rows());
        assert_eq!(names(&p2), vec![("b", 5), ("c", 3)]);
        assert!(p2.has_next && p2.has_previous);
    }

    #[test]
    fn backward_pages_end_at_the_cursor() {
        let p = req(None, None, Some(2), None).cut(rows());
        assert_eq!(names(&p), vec![("c", 3), ("d", 4)]);
        let before = Cursor::of(&p.items[0], OrderField::Name).encode();
        let p = req(None, None, Some(3), Some(before)).cut(rows());
        assert_eq!(names(&p), vec![("a", 1), ("b", 2), ("b", 5)]);
        assert!(!p.has_previous && p.has_next);
    }

    #[test]
    fn limits_and_bad_cursors_are_refused() {
        let limits = Limits::default();
        let too_many = PageArgs {
            first: Some(101),
            ..Default::default()
        };
        assert_eq!(
            PageRequest::new(too_many, None, &limits)
                .unwrap_err()
                .code(),
            "LIMIT_EXCEEDED"
        );
        let negative = PageArgs {
            last: Some(-1),
            ..Default::default()
        };
        assert_eq!(
            PageRequest::new(negative, None, &limits)
                .unwrap_err()
                .code(),
            "BAD_USER_INPUT"
        );
        let junk = PageArgs {
            after: Some("zzz".into()),
            ..Default::default()
        };
        assert_eq!(
            PageRequest::new(junk, None, &limits).unwrap_err().code(),
            "BAD_USER_INPUT"
        );
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
