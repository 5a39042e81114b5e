//! devgraph: a multi-tenant GraphQL API server for developer analytics.
//!
//! Layers: `http` (routes, auth extraction) → `graphql` (thin resolvers) →
//! `loaders` / `service` (every query, each taking a `TenantCtx`) →
//! `entity` (tables). `build_app` assembles it for `main`, tests and benches.

// The cohorts of `loaders` refer to each other in circles (a pull request's
// author has pull requests), and proving them Send and Sync walks every type
// on the way round: past the default limit of 128 steps.
#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod budget;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod loaders;
pub mod pagination;
pub mod permissions;
pub mod secrets;
pub mod service;
pub mod telemetry;

pub use app::{App, build_app};
pub use config::Config;
