//! SeaORM entities of devgraph's database: one module per table, plus the shared enums.
//!
//! The migration crate owns the DDL; these models mirror it column for column (the migration
//! tests round-trip a row of every table through them on SQLite and PostgreSQL). Tenant-owned
//! entities are read through `Entity::find_in(org)` (`scoped.rs`) so that no query forgets the tenant.

pub mod aggregated_event;
pub mod api_key;
pub mod api_key_prefix;
pub mod audit_log;
pub mod commit;
pub mod constraint;
pub mod delivery_contribution;
pub mod delivery_rollup;
pub mod deployment;
pub mod deployment_pull_request;
pub mod developer;
pub mod developer_rollup;
pub mod enums;
pub mod event;
pub mod event_meta;
pub mod identity;
pub mod ids;
pub mod incident;
pub mod organization;
pub mod organization_rollup;
pub mod project;
pub mod project_rollup;
pub mod pull_request;
pub mod pull_request_review;
pub mod relations;
pub mod repository;
pub mod scoped;
pub mod team_space;
pub mod team_space_member;
pub mod team_space_rollup;
pub mod webhook_delivery;

/// The `developer_id` that daily aggregates use for events without a known developer: it is
/// part of `aggregated_events`' primary key, which cannot hold NULL, and the nil UUID can never
/// be a real (UUIDv7) developer id.
pub const UNKNOWN_DEVELOPER: uuid::Uuid = uuid::Uuid::nil();

pub mod prelude {
    //! The entities under their table-like names, for `use entity::prelude::*`.

    pub use crate::aggregated_event::Entity as AggregatedEvent;
    pub use crate::api_key::Entity as ApiKey;
    pub use crate::api_key_prefix::Entity as ApiKeyPrefix;
    pub use crate::audit_log::Entity as AuditLog;
    pub use crate::commit::Entity as Commit;
    pub use crate::delivery_contribution::Entity as DeliveryContribution;
    pub use crate::delivery_rollup::Entity as DeliveryRollup;
    pub use crate::deployment::Entity as Deployment;
    pub use crate::deployment_pull_request::Entity as DeploymentPullRequest;
    pub use crate::developer::Entity as Developer;
    pub use crate::developer_rollup::Entity as DeveloperRollup;
    pub use crate::event::Entity as Event;
    pub use crate::event_meta::Entity as EventMeta;
    pub use crate::identity::Entity as Identity;
    pub use crate::incident::Entity as Incident;
    pub use crate::organization::Entity as Organization;
    pub use crate::organization_rollup::Entity as OrganizationRollup;
    pub use crate::project::Entity as Project;
    pub use crate::project_rollup::Entity as ProjectRollup;
    pub use crate::pull_request::Entity as PullRequest;
    pub use crate::pull_request_review::Entity as PullRequestReview;
    pub use crate::repository::Entity as Repository;
    pub use crate::team_space::Entity as TeamSpace;
    pub use crate::team_space_member::Entity as TeamSpaceMember;
    pub use crate::team_space_rollup::Entity as TeamSpaceRollup;
    pub use crate::webhook_delivery::Entity as WebhookDelivery;
}
