//! Webhooks that sources send us: checking that a delivery is signed with the repository's
//! secret (`signature`), then reading what it says as facts (`github`). The handler that
//! receives a delivery runs the two in that order, over the raw body, before storing anything.

pub mod github;
pub mod signature;
