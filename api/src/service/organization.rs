//! The caller's organization.

use entity::enums::DeveloperRole;
use entity::organization;

use crate::{
    ids::{NodeKind, OrgId},
    service::{developer, prelude::*},
};

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
    let row = table::organization(ctx, db).await?;
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
    save(ctx, db, active, "organization.update", changes).await
}

/// Writes an organization's change with its audit row.
async fn save(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    mut active: organization::ActiveModel,
    action: &'static str,
    changes: Changes,
) -> AppResult<organization::Model> {
    active.updated_at = Set(Utc::now());
    let details = changes.into_json();
    audit::update(ctx, db, active, |row| entry(action, row, details)).await
}

fn entry(action: &'static str, row: &organization::Model, details: serde_json::Value) -> Entry {
    Entry {
        action,
        target: NodeKind::Organization,
        target_id: row.id,
        details,
    }
}

/// Sets the organization's budget override (operators only: the CLI acts as
/// the system, and no GraphQL mutation reaches this); `None` keeps (or goes
/// back to) the configured default.
pub async fn set_budget(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    budget: BudgetOverride,
) -> AppResult<organization::Model> {
    authorize(ctx, db, Action::SetBudget).await?;
    let row = table::organization(ctx, db).await?;
    let to_db = |n: Option<u32>| n.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let in_flight = to_db(budget.in_flight);
    let requests = to_db(budget.requests_per_minute);
    let points = to_db(budget.points_per_minute);
    let mut changes = Changes::default();
    changes.note("budgetInFlight", &row.budget_in_flight, &in_flight);
    changes.note(
        "budgetRequestsPerMinute",
        &row.budget_requests_per_minute,
        &requests,
    );
    changes.note(
        "budgetPointsPerMinute",
        &row.budget_points_per_minute,
        &points,
    );
    let mut active: organization::ActiveModel = row.into();
    active.budget_in_flight = Set(in_flight);
    active.budget_requests_per_minute = Set(requests);
    active.budget_points_per_minute = Set(points);
    save(ctx, db, active, "organization.set_budget", changes).await
}

/// An operator's budget for one organization; `None` keeps (or goes back
/// to) the configured default of that part.
#[derive(Debug, Clone, Copy, Default)]
pub struct BudgetOverride {
    pub in_flight: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub points_per_minute: Option<u32>,
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
        budget_points_per_minute: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let ctx = TenantCtx::unsafe_system(OrgId::from_db(org.id));
    let details = serde_json::json!({ "slug": org.slug, "name": org.name });
    audit::record(&ctx, &txn, entry("organization.create", &org, details)).await?;
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
