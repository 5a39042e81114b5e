//! The GraphQL schema. It knows nothing of HTTP: the handler in `http/`
//! turns a request into a `RequestData` (tenant context, loaders, limits)
//! and this module reads only that.

mod connection;
pub(crate) mod cost;
mod mutation;
mod node;
mod order;
mod query;
mod request;
mod shape;
mod types;

pub use cost::weighed;
pub use request::RequestData;
pub use shape::{SchemaDescriptions, check_shape, is_introspection_only, selected_operation};

use async_graphql::{EmptySubscription, Schema};

use crate::config::Limits;

pub type AppSchema = Schema<query::QueryRoot, mutation::MutationRoot, EmptySubscription>;

/// The one schema builder, used by the server, the tests and `devgraph schema`.
/// Depth is checked by `check_shape` before execution rather than by
/// async-graphql's `limit_depth`, which counts introspection fields like data
/// and so refused the standard introspection query.
pub fn build_schema(limits: &Limits) -> AppSchema {
    Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        EmptySubscription,
    )
    .limit_complexity(limits.max_complexity)
    .finish()
}

/// The SDL that `schema.graphql` must equal: everything introspection
/// tells, `@specifiedBy` included (async-graphql leaves it out by default).
pub fn sdl() -> String {
    let options = async_graphql::SDLExportOptions::new().include_specified_by();
    build_schema(&Limits::default()).sdl_with_options(options)
}
