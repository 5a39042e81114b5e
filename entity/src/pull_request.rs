//! `pull_requests`: one per repository and number. `source_updated_at` is the source's own
//! "last changed" time: a delivery older than the stored one changes nothing but the times that
//! only ever move earlier (first commit, first review, approval), so any arrival order ends in
//! the same row.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::PullRequestState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "pull_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub repository_id: Uuid,
    pub number: i32,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub state: PullRequestState,
    pub author_identity_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub opened_at: DateTimeUtc,
    pub first_commit_at: Option<DateTimeUtc>,
    pub first_review_at: Option<DateTimeUtc>,
    pub approved_at: Option<DateTimeUtc>,
    pub merged_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub additions: i32,
    pub deletions: i32,
    pub changed_files: i32,
    /// The source time of the size above; `None` while no delivery has said it.
    pub size_updated_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub head_ref: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub merge_commit_sha: Option<String>,
    pub source_updated_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(Repository => repository(RepositoryId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::PullRequestId);
