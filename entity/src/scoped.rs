//! The scoped path: the one way to read a tenant table. `find_in(org)`
//! filters on `organization_id`; `find_by_id_in(org, id)` adds the typed id.
//! Every tenant table gets them from one line (`scoped!`) in its module, so
//! the filter is written once; `.ci/unscoped.py` fails CI when a tenant
//! table is read another way outside this crate.

use sea_orm::{ColumnTrait, DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany};

use crate::ids::OrgId;

/// A table whose rows belong to one organization.
pub trait InOrg: EntityTrait {
    fn org_column() -> Self::Column;

    /// Every row of the organization, and only those.
    fn find_in(org: OrgId) -> Select<Self> {
        Self::find().filter(Self::org_column().eq(org.uuid()))
    }

    /// Deletes rows of the organization only (add filters for which).
    fn delete_in(org: OrgId) -> DeleteMany<Self> {
        Self::delete_many().filter(Self::org_column().eq(org.uuid()))
    }

    /// Updates rows of the organization only (add filters for which).
    fn update_in(org: OrgId) -> UpdateMany<Self> {
        Self::update_many().filter(Self::org_column().eq(org.uuid()))
    }
}

/// A tenant table with its own typed id.
pub trait ByIdInOrg: InOrg {
    type Id: Copy + Into<sea_orm::Value>;

    fn id_column() -> Self::Column;

    /// The row with this id in the organization: another organization's id
    /// finds nothing, exactly like an id that does not exist.
    fn find_by_id_in(org: OrgId, id: Self::Id) -> Select<Self> {
        Self::find_in(org).filter(Self::id_column().eq(id))
    }
}

/// `scoped!(Entity)` for a tenant table; `scoped!(Entity, TeamSpaceId)` for
/// one whose `id` column is that typed id.
#[macro_export]
macro_rules! scoped {
    ($entity:ty) => {
        impl $crate::scoped::InOrg for $entity {
            fn org_column() -> Self::Column {
                Column::OrganizationId
            }
        }
    };
    ($entity:ty, $id:ty) => {
        $crate::scoped!($entity);

        impl $crate::scoped::ByIdInOrg for $entity {
            type Id = $id;

            fn id_column() -> Self::Column {
                Column::Id
            }
        }
    };
}

/// `stamped!(TeamSpaceId)` in a table's module: `ActiveModel::new_in(org)`,
/// a new row of the organization with a new id, created and updated now,
/// the rest left for the caller to set.
#[macro_export]
macro_rules! stamped {
    ($id:ty) => {
        impl ActiveModel {
            pub fn new_in(org: $crate::ids::OrgId) -> Self {
                use sea_orm::ActiveValue::Set;
                let now = chrono::Utc::now();
                ActiveModel {
                    organization_id: Set(org.uuid()),
                    id: Set(<$id>::new().uuid()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
            }
        }
    };
}
