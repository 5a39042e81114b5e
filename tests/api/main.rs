//! The one end-to-end test binary: each module below was a test binary of
//! its own, and each test runs the real server on port 0 against its own
//! database, cloned from a migrated template (see `support::db`). One
//! binary is one link step instead of fifteen, and test names stay
//! greppable as `module::test_name` (`cargo test auth::`).

mod support;

mod api_keys;
mod auth;
mod citus;
mod cli;
mod cors;
mod cost;
mod dashboard;
mod dataloader;
mod delivery;
mod delivery_metrics;
mod delivery_reads;
mod delivery_recount;
mod dev_mode;
mod events;
mod faults;
mod graphql_over_http;
mod harness;
mod http;
mod introspection;
mod jwks;
mod limits;
mod live;
mod metrics;
mod mutations;
mod permissions;
mod persisted;
mod plans;
mod reads;
mod rollups;
mod seed;
mod tenancy;
mod webhooks;
