//! devgraph: a multi-tenant GraphQL API server for developer analytics.
//!
//! Layers: `http` (routes, auth extraction) → `graphql` (thin resolvers) →
//! `loaders` / `service` (every query, each taking a `TenantCtx`) →
//! `entity` (tables). `build_app` assembles it for `main`, tests and benches.

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
