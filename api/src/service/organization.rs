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

/// The operator's override of an organization's budget; `None` fields
/// keep (or go back to) the configured defaults.
pub struct BudgetOverride {
    pub in_flight: Option<u32>,
    pub requests_per_minute: Option<u32>,
}

/// Sets the organization's budget override (operators only: the CLI acts as
/// the system, and no GraphQL mutation reaches this).
pub async fn set_budget(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    budget: BudgetOverride,
) -> AppResult<organization::Model> {
    authorize(ctx, db, Action::SetBudget).await?;
    let row = get(ctx, db).await?;
    let to_db = |n: Option<u32>| n.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let mut changes = Changes::default();
    let mut active: organization::ActiveModel = row.clone().into();
    let in_flight = to_db(budget.in_flight);
    changes.note("budgetInFlight", &row.budget_in_flight, &in_flight);
    active.budget_in_flight = Set(in_flight);
    let per_minute = to_db(budget.requests_per_minute);
    changes.note(
        "budgetRequestsPerMinute",
        &row.budget_requests_per_minute,
        &per_minute,
    );
    active.budget_requests_per_minute = Set(per_minute);
    active.updated_at = Set(Utc::now());
    audit::update(ctx, db, active, |row| Entry {
        action: "organization.set_budget",
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
        budget_in_flight: Set(None),
        budget_requests_per_minute: Set(None),
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
