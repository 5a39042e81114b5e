//! `identities`: how a person appears in a source (an email, a provider login, an external
//! id), and the developer it is linked to once known. Activity from an identity no developer
//! matches is stored under the identity and re-attributed when it is linked.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::IdentityKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: IdentityKind,
    #[sea_orm(column_type = "Text")]
    pub value: String,
    pub developer_id: Option<Uuid>,
    /// When an admin last unlinked it (cleared by a link): an email identity
    /// with one no longer links itself to the developer with that email.
    pub unlinked_at: Option<DateTimeUtc>,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(Developer => developer(DeveloperId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::IdentityId);
