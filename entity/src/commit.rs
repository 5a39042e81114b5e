//! `commits`: a commit as pushed to a branch of a repository (the same commit on two branches
//! is two rows), so that a pull request's first commit is known whatever arrives first.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "commits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub repository_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub sha: String,
    #[sea_orm(column_type = "Text")]
    pub branch: String,
    pub authored_at: DateTimeUtc,
    pub author_identity_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    /// The first line of the message.
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub created_at: DateTimeUtc,
}

crate::belongs_to!(Repository => repository(RepositoryId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::CommitId);
