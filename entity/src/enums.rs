//! String enums stored in plain `text` columns.
//!
//! They are text rather than native PostgreSQL enums so that the same migrations run on SQLite
//! and PostgreSQL, and so that adding a variant never needs an `ALTER TYPE`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A developer's role inside one organization (`developers.role`).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum DeveloperRole {
    #[sea_orm(string_value = "owner")]
    Owner,
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "member")]
    Member,
    #[sea_orm(string_value = "viewer")]
    Viewer,
}

/// A developer's role inside one team space (`team_space_members.role`).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum TeamSpaceRole {
    #[sea_orm(string_value = "lead")]
    Lead,
    #[sea_orm(string_value = "member")]
    Member,
}

/// How a person appears in a source (`identities.kind`).
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// An email address, stored lower-cased.
    #[sea_orm(string_value = "email")]
    Email,
    /// A GitHub login, stored lower-cased (GitHub logins are case-insensitive).
    #[sea_orm(string_value = "github")]
    Github,
    /// A GitLab username, stored lower-cased.
    #[sea_orm(string_value = "gitlab")]
    Gitlab,
    /// Any other system's user id, stored as sent.
    #[sea_orm(string_value = "external")]
    External,
}

/// Where a repository lives (`repositories.provider`).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    #[sea_orm(string_value = "github")]
    Github,
    #[sea_orm(string_value = "gitlab")]
    Gitlab,
    #[sea_orm(string_value = "generic")]
    Generic,
}

/// `pull_requests.state`.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum PullRequestState {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
    #[sea_orm(string_value = "merged")]
    Merged,
}

/// `pull_request_reviews.state`.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    #[sea_orm(string_value = "commented")]
    Commented,
    #[sea_orm(string_value = "changes_requested")]
    ChangesRequested,
    #[sea_orm(string_value = "approved")]
    Approved,
}

/// `deployments.tier`: what an environment is for, whatever it is called.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentTier {
    #[sea_orm(string_value = "production")]
    Production,
    #[sea_orm(string_value = "staging")]
    Staging,
    #[sea_orm(string_value = "testing")]
    Testing,
    #[sea_orm(string_value = "development")]
    Development,
    #[sea_orm(string_value = "other")]
    Other,
}

/// `deployments.status`. Ordered so that a finished status outranks `pending`.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "success")]
    Success,
    #[sea_orm(string_value = "failure")]
    Failure,
}
