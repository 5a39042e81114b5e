//! `pull_request_reviews`: keyed by the source's review id within the repository. A review
//! names its pull request by number, since it may arrive first; `pull_request_id` is filled in
//! when both are there.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::ReviewState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "pull_request_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub repository_id: Uuid,
    pub pull_request_number: i32,
    pub pull_request_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub external_id: String,
    pub reviewer_identity_id: Option<Uuid>,
    pub reviewer_id: Option<Uuid>,
    pub state: ReviewState,
    pub submitted_at: DateTimeUtc,
    pub source_updated_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(Repository => repository(RepositoryId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::ReviewId);
