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
