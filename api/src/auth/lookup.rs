//! The only reads of tenant tables that happen before a tenant context
//! exists, because they are what builds it: an organization by id or slug,
//! the developer row of a token subject, and a subject's memberships (one
//! developer row per organization). Each is keyed by the authenticated
//! subject or an organization named by the caller, never by request data
//! alone.

use crate::ids::GlobalId as _;
use entity::scoped::InOrg as _;
use entity::{developer, enums::DeveloperRole, organization};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{error::AppError, ids::OrgId};

pub async fn org_by_id_or_slug(
    db: &DatabaseConnection,
    key: &str,
) -> Result<Option<OrgId>, AppError> {
    // A raw uuid, the global id that `viewer.organizations` shows, or a slug.
    let id = Uuid::parse_str(key)
        .ok()
        .or_else(|| OrgId::from_global(key).ok().map(OrgId::uuid));
    let condition = match id {
        Some(id) => organization::Column::Id.eq(id),
        None => organization::Column::Slug.eq(key),
    };
    let org = organization::Entity::find()
        .filter(condition)
        .one(db)
        .await?;
    Ok(org.map(|o| OrgId::from_db(o.id)))
}

/// The subject's active developer row in the organization, and the
/// organization's row, read in the same statement: most operations need
/// the organization, and authenticating already pays for the round trip.
pub async fn active_developer(
    db: &DatabaseConnection,
    org_id: OrgId,
    subject: &str,
) -> Result<Option<(developer::Model, organization::Model)>, AppError> {
    let found = developer::Entity::find_in(org_id)
        .filter(developer::Column::AuthSubject.eq(subject))
        .filter(developer::Column::DeactivatedAt.is_null())
        .find_also_related(organization::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(developer, org)| org.map(|org| (developer, org))))
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub org_id: OrgId,
    pub name: String,
    pub slug: String,
    pub role: DeveloperRole,
}

/// The organizations in which `subject` has an active developer row.
pub async fn memberships_of_subject(
    db: &DatabaseConnection,
    subject: &str,
) -> Result<Vec<Membership>, AppError> {
    let rows = developer::Entity::find()
        .filter(developer::Column::AuthSubject.eq(subject))
        .filter(developer::Column::DeactivatedAt.is_null())
        .find_also_related(organization::Entity)
        .order_by_asc(developer::Column::OrganizationId)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(dev, org)| {
            org.map(|org| Membership {
                org_id: OrgId::from_db(org.id),
                name: org.name,
                slug: org.slug,
                role: dev.role,
            })
        })
        .collect())
}

/// The repository a webhook delivery names, whichever organization it belongs to: the one
/// read of a tenant table by request data alone, because the delivery proves who sent it only
/// with the repository's secret, which this row holds. Nothing is acted on until the
/// signature is verified with it.
pub async fn webhook_repository(
    db: &DatabaseConnection,
    id: crate::ids::RepositoryId,
) -> Result<Option<(OrgId, entity::repository::Model)>, AppError> {
    let found = entity::repository::Entity::find()
        .filter(entity::repository::Column::Id.eq(id.uuid()))
        .one(db)
        .await?;
    Ok(found.map(|repo| (OrgId::from_db(repo.organization_id), repo)))
}
