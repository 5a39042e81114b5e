//! The caller's organization.

use entity::enums::DeveloperRole;
use entity::organization;
use sea_orm::EntityTrait;

use crate::{
    ids::{NodeKind, OrgId},
    service::{developer, prelude::*},
};

pub async fn get(ctx: &TenantCtx, db: &impl ConnectionTrait) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(ctx.org_id().uuid())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))
}

#[derive(Default)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// IANA name; applies to events ingested from now on.
    pub time_zone: Option<String>,
    pub event_retention_days: Option<i32>,
}

pub async fn update(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    patch: OrganizationPatch,
) -> AppResult<organization::Model> {
    let row = get(ctx, db).await?;
    authorize(ctx, db, Action::UpdateOrganization).await?;
    let mut changes = Changes::default();
    let mut active: organization::ActiveModel = row.clone().into();
    if let Some(name) = patch.name {
        let name = validate::name("name", &name)?;
        changes.note("name", &row.name, &name);
        active.name = Set(name);
    }
    if let Some(slug) = patch.slug {
        let slug = validate::slug("slug", &slug)?;
        changes.note("slug", &row.slug, &slug);
        active.slug = Set(slug);
    }
    if let Some(zone) = patch.time_zone {
        if zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(AppError::bad_field(
                "timeZone",
                "`timeZone` must be an IANA time zone name such as Europe/Berlin",
            ));
        }
        changes.note("timeZone", &row.time_zone, &zone);
        active.time_zone = Set(zone);
    }
    if let Some(days) = patch.event_retention_days {
        if !(1..=3650).contains(&days) {
            return Err(AppError::bad_field(
                "eventRetentionDays",
                "`eventRetentionDays` must be between 1 and 3650",
            ));
        }
        changes.note("eventRetentionDays", &row.event_retention_days, &days);
        active.event_retention_days = Set(days);
    }
    active.updated_at = Set(Utc::now());
    audit::update(ctx, db, active, |row| Entry {
        action: "organization.update",
        target: NodeKind::Organization,
        target_id: row.id,
        details: changes.into_json(),
    })
    .await
}

pub struct NewOrganization {
    pub slug: String,
    pub name: String,
    pub owner_email: String,
    pub owner_name: String,
    /// The identity provider's subject for the owner; defaults to the email.
    pub owner_subject: Option<String>,
}

/// Creates an organization with its first owner: how a production
/// deployment starts (`devgraph org create`). Not a request operation: the
/// tenant does not exist before it.
pub async fn create(
    db: &DatabaseConnection,
    input: NewOrganization,
) -> AppResult<(organization::Model, entity::developer::Model)> {
    let slug = validate::slug("slug", &input.slug)?;
    let name = validate::name("name", &input.name)?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let org = organization::ActiveModel {
        id: Set(OrgId::new().uuid()),
        slug: Set(slug),
        name: Set(name),
        time_zone: Set("UTC".into()),
        event_retention_days: Set(90),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let ctx = TenantCtx::unsafe_system(OrgId::from_db(org.id));
    let entry = Entry {
        action: "organization.create",
        target: NodeKind::Organization,
        target_id: org.id,
        details: serde_json::json!({ "slug": org.slug, "name": org.name }),
    };
    audit::record(&ctx, &txn, entry).await?;
    let owner = developer::NewDeveloper {
        email: input.owner_email,
        name: input.owner_name,
        role: DeveloperRole::Owner,
        auth_subject: input.owner_subject,
    };
    let owner = developer::insert(&ctx, &txn, owner).await?;
    txn.commit().await?;
    Ok((org, owner))
}
