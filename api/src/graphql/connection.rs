//! Relay connections: `edges { cursor node }`, `pageInfo` and a `totalCount`
//! that costs a statement only when it is asked for.

use std::{future::Future, pin::Pin, sync::Arc};

use async_graphql::{
    Object, OutputType,
    connection::{Connection, Edge, EmptyFields},
};

use crate::{
    error::AppResult,
    pagination::{Cursor, Keyed, OrderField, Page},
};

pub type Conn<N> = Connection<String, N, TotalCount, EmptyFields>;

type CountFuture = Pin<Box<dyn Future<Output = AppResult<u64>> + Send>>;

pub struct TotalCount(Total);

enum Total {
    Known(u64),
    Deferred(Arc<dyn Fn() -> CountFuture + Send + Sync>),
}

impl TotalCount {
    pub fn known(total: u64) -> Self {
        TotalCount(Total::Known(total))
    }

    pub fn deferred<F, Fut>(count: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<u64>> + Send + 'static,
    {
        TotalCount(Total::Deferred(Arc::new(move || Box::pin(count()))))
    }
}

#[Object]
impl TotalCount {
    /// How many items the list has in all, across pages, with its filter.
    async fn total_count(&self) -> async_graphql::Result<i64> {
        let total = match &self.0 {
            Total::Known(n) => *n,
            Total::Deferred(count) => count().await?,
        };
        Ok(i64::try_from(total).unwrap_or(i64::MAX))
    }
}

pub fn connection<M, N>(
    page: Page<M>,
    field: OrderField,
    total: TotalCount,
    wrap: impl Fn(M) -> N,
) -> Conn<N>
where
    M: Keyed,
    N: OutputType,
{
    let mut conn = Connection::with_additional_fields(page.has_previous, page.has_next, total);
    conn.edges = page
        .items
        .into_iter()
        .map(|item| Edge::new(Cursor::of(&item, field).encode(), wrap(item)))
        .collect();
    conn
}
