//! Delivery data: repositories, their commits, pull requests and reviews, deployments,
//! incidents and the identities of the people in them. Sources (GitHub webhooks, the delivery
//! API, the mutations) translate what they receive into `facts`, and `ingest` stores a batch of
//! facts in one transaction so that any arrival order ends in the same rows.

pub mod batch;
pub mod facts;
pub mod identity;
pub mod ingest;
pub mod metrics;
pub mod read;
pub mod record;
pub mod sketch;

pub use ingest::{Delivery, Ingested, ingest};
