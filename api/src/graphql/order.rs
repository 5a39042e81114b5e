//! The GraphQL spelling of a list order (`orderBy: { field, direction }`),
//! turned into the plain `pagination` types at the resolver, so services
//! never see a GraphQL type.

use async_graphql::{Enum, InputObject};

use crate::pagination;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(remote = "pagination::OrderField")]
pub enum OrderField {
    #[default]
    Name,
    CreatedAt,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(remote = "pagination::OrderDirection")]
pub enum OrderDirection {
    #[default]
    Asc,
    Desc,
}

/// How a list is ordered; the id breaks ties.
#[derive(InputObject, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListOrder {
    #[graphql(default)]
    pub field: OrderField,
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl From<ListOrder> for pagination::ListOrder {
    fn from(order: ListOrder) -> Self {
        pagination::ListOrder {
            field: order.field.into(),
            direction: order.direction.into(),
        }
    }
}

impl ListOrder {
    /// Time-ordered lists (pull requests, reviews, deployments, incidents)
    /// without `orderBy`: the newest first.
    pub const NEWEST_FIRST: ListOrder = ListOrder {
        field: OrderField::CreatedAt,
        direction: OrderDirection::Desc,
    };
}
