//! Developers: lists, lookups, and the developers of team spaces.

use entity::{developer, enums::DeveloperRole, team_space_member};
use sea_orm::{
    DatabaseTransaction, JoinType, QuerySelect, RelationTrait, Select, sea_query::Query,
};

use crate::{
    ids::{DeveloperId, TeamSpaceId},
    pagination::{ChildRow, PageRequest, fetch_window},
    service::{
        any_of::any_of,
        delivery::identity,
        live::{Change, Live},
        name_contains,
        prelude::*,
    },
};

listed!(developer, "developer", name: Name, created_at: CreatedAt);

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DeveloperFilter {
    pub name_contains: Option<String>,
    pub role: Option<DeveloperRole>,
    pub team_space: Option<TeamSpaceId>,
    /// `Some(true)`: only active; `Some(false)`: only deactivated.
    pub active: Option<bool>,
}

/// Filter conditions on developer columns, usable on any select that
/// includes the developers table.
fn apply_filter<S: QueryFilter>(ctx: &TenantCtx, mut select: S, filter: &DeveloperFilter) -> S {
    if let Some(text) = &filter.name_contains {
        select = select.filter(name_contains(developer::Column::Name, text));
    }
    if let Some(role) = filter.role {
        select = select.filter(developer::Column::Role.eq(role));
    }
    match filter.active {
        Some(true) => select = select.filter(developer::Column::DeactivatedAt.is_null()),
        Some(false) => select = select.filter(developer::Column::DeactivatedAt.is_not_null()),
        None => {}
    }
    if let Some(space) = filter.team_space {
        let members = Query::select()
            .column(team_space_member::Column::DeveloperId)
            .from(team_space_member::Entity)
            .and_where(team_space_member::Column::OrganizationId.eq(ctx.org_id()))
            .and_where(team_space_member::Column::TeamSpaceId.eq(space))
            .to_owned();
        select = select.filter(developer::Column::Id.in_subquery(members));
    }
    select
}

impl table::Filter for DeveloperFilter {
    type Table = developer::Entity;

    fn narrow(
        &self,
        ctx: &TenantCtx,
        select: Select<developer::Entity>,
    ) -> Select<developer::Entity> {
        apply_filter(ctx, select, self)
    }
}

/// One page of developers for each of several team spaces, in one statement.
pub async fn of_team_spaces(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    spaces: &[TeamSpaceId],
    filter: &DeveloperFilter,
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<developer::Model>>> {
    let org = ctx.org_id().uuid();
    let select = developer::Entity::find_in(ctx.org_id())
        .join(
            JoinType::InnerJoin,
            team_space_member::Relation::Developer.def().rev(),
        )
        .filter(team_space_member::Column::OrganizationId.eq(org))
        .filter(any_of(
            db.get_database_backend(),
            team_space_member::Column::TeamSpaceId.into_expr(),
            spaces.iter().map(|s| s.uuid()),
        ));
    let statement = page.window_sql(
        apply_filter(ctx, select, filter),
        (
            team_space_member::Entity,
            team_space_member::Column::TeamSpaceId,
        ),
        developer::Entity::sort_column(page.order.field),
        developer::Column::Id,
    );
    fetch_window(db, &statement).await
}

pub async fn by_email(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<developer::Model>> {
    Ok(developer::Entity::find_in(ctx.org_id())
        .filter(developer::Column::Email.eq(email))
        .one(db)
        .await?)
}

/// The earliest active owner: whom dev mode signs GraphiQL in as.
pub async fn first_owner(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
) -> AppResult<Option<developer::Model>> {
    use sea_orm::QueryOrder;
    Ok(developer::Entity::find_in(ctx.org_id())
        .filter(developer::Column::Role.eq(DeveloperRole::Owner))
        .filter(developer::Column::DeactivatedAt.is_null())
        .order_by_asc(developer::Column::CreatedAt)
        .one(db)
        .await?)
}

// Writes -------------------------------------------------------------------

pub struct NewDeveloper {
    pub email: String,
    pub name: String,
    pub role: DeveloperRole,
    /// The subject the identity provider puts in tokens; defaults to the email.
    pub auth_subject: Option<String>,
}

/// Creates a developer; what was recorded under their email before they
/// existed becomes theirs (`adopt_email`), so the transaction takes the
/// organization's turn like every write that moves rollups.
pub async fn create(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    input: NewDeveloper,
) -> AppResult<developer::Model> {
    authorize(ctx, db, Action::InviteDeveloper { role: input.role }).await?;
    let txn = begin_checked(ctx, db).await?;
    let row = insert(ctx, &txn, input).await?;
    commit_adopting_email(ctx, live, txn, &row).await?;
    Ok(row)
}

/// Commits a developer's new email, with the unlinked email identity of
/// that address linked to them if there is one (announced: their figures
/// moved).
async fn commit_adopting_email(
    ctx: &TenantCtx,
    live: &Live,
    txn: DatabaseTransaction,
    row: &developer::Model,
) -> AppResult<()> {
    let developer = DeveloperId::from_db(row.id);
    if identity::adopt_email(ctx, &txn, developer, &row.email, Utc::now()).await? {
        live.commit(txn, Change::everything(ctx.org_id())).await
    } else {
        Ok(txn.commit().await?)
    }
}

/// Validates and writes a developer with its audit row, inside the
/// caller's transaction; authorization is the caller's.
pub(crate) async fn insert(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    input: NewDeveloper,
) -> AppResult<developer::Model> {
    let email = validate::email("email", &input.email)?;
    let name = validate::name("name", &input.name)?;
    let defaulted_subject = input.auth_subject.is_none();
    let subject = match input.auth_subject {
        Some(s) => validate::name("authSubject", &s)?,
        None => email.clone(),
    };
    let row = developer::ActiveModel {
        email: Set(email),
        name: Set(name),
        role: Set(input.role),
        auth_subject: Set(subject),
        deactivated_at: Set(None),
        ..developer::ActiveModel::new_in(ctx.org_id())
    }
    .insert(txn)
    .await
    .map_err(|err| match AppError::from(err) {
        // The subject defaulted to the email: a clash on it is the email's,
        // whichever of the two constraints the database names first.
        AppError::Conflict { field, .. }
            if defaulted_subject && field.as_deref() == Some("authSubject") =>
        {
            AppError::Conflict {
                message: "email is already taken".into(),
                field: Some("email".into()),
            }
        }
        other => other,
    })?;
    let details = json!({ "email": row.email, "name": row.name, "role": row.role });
    audit::record(ctx, txn, Entry::of("developer.create", &row, details)).await?;
    Ok(row)
}

#[derive(Default)]
pub struct DeveloperPatch {
    pub name: Option<String>,
    pub email: Option<String>,
}

pub async fn update(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    id: DeveloperId,
    patch: DeveloperPatch,
) -> AppResult<developer::Model> {
    let row = table::get::<developer::Entity>(ctx, db, id).await?;
    // Renaming is a lighter right than changing how someone signs in.
    if patch.email.is_some() {
        authorize(
            ctx,
            db,
            Action::ManageDeveloper {
                target: &row,
                new_role: None,
            },
        )
        .await?;
    } else {
        authorize(ctx, db, Action::RenameDeveloper { target: &row }).await?;
    }
    let mut changes = Changes::default();
    let mut active: developer::ActiveModel = row.clone().into();
    if let Some(name) = patch.name {
        let name = validate::name("name", &name)?;
        changes.note("name", &row.name, &name);
        active.name = Set(name);
    }
    let new_email = match patch.email {
        Some(email) => {
            let email = validate::email("email", &email)?;
            changes.note("email", &row.email, &email);
            active.email = Set(email.clone());
            (email != row.email).then_some(email)
        }
        None => None,
    };
    if new_email.is_none() {
        return save(ctx, db, active, "developer.update", changes.into_json()).await;
    }
    let txn = begin_checked(ctx, db).await?;
    active.updated_at = Set(Utc::now());
    let row = active.update(&txn).await?;
    let entry = Entry::of("developer.update", &row, changes.into_json());
    audit::record(ctx, &txn, entry).await?;
    commit_adopting_email(ctx, live, txn, &row).await?;
    Ok(row)
}

/// The two changes the last-owner rule watches: a new role, or
/// deactivating (`Active(false)`) or reactivating a developer.
#[derive(Clone, Copy)]
pub enum Standing {
    Role(DeveloperRole),
    Active(bool),
}

/// Changes a developer's role or active state, keeping an active owner.
/// The rule is checked and the row written in one checked transaction
/// (`begin_checked`: one at a time per organization), so two owners
/// demoting each other at once leave one owner, never none.
pub async fn change_standing(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    id: DeveloperId,
    standing: Standing,
) -> AppResult<developer::Model> {
    let txn = begin_checked(ctx, db).await?;
    let owners = developer::Entity::find_in(ctx.org_id())
        .filter(developer::Column::Role.eq(DeveloperRole::Owner))
        .filter(developer::Column::DeactivatedAt.is_null())
        .all(&txn)
        .await?;
    let row = table::get::<developer::Entity>(ctx, &txn, id).await?;
    let new_role = match standing {
        Standing::Role(role) => Some(role),
        Standing::Active(_) => None,
    };
    let target = &row;
    authorize(ctx, &txn, Action::ManageDeveloper { target, new_role }).await?;
    let leaves_owners = match standing {
        Standing::Role(role) => role != DeveloperRole::Owner,
        Standing::Active(active) => !active,
    };
    let was_active_owner = owners.iter().any(|o| o.id == row.id);
    if leaves_owners && was_active_owner && owners.len() == 1 {
        return Err(AppError::Forbidden(
            "the last active owner cannot be demoted or deactivated; make someone else owner first"
                .into(),
        ));
    }
    let mut active: developer::ActiveModel = row.clone().into();
    let (action, details) = match standing {
        Standing::Role(role) => {
            let mut changes = Changes::default();
            changes.note("role", &row.role, &role);
            active.role = Set(role);
            ("developer.change_role", changes.into_json())
        }
        Standing::Active(true) => {
            active.deactivated_at = Set(None);
            ("developer.reactivate", json!({}))
        }
        Standing::Active(false) => {
            active.deactivated_at = Set(row.deactivated_at.or(Some(Utc::now())));
            ("developer.deactivate", json!({}))
        }
    };
    active.updated_at = Set(Utc::now());
    let row = active.update(&txn).await?;
    audit::commit(ctx, txn, Entry::of(action, &row, details)).await?;
    Ok(row)
}

async fn save(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    mut active: developer::ActiveModel,
    action: &'static str,
    details: serde_json::Value,
) -> AppResult<developer::Model> {
    active.updated_at = Set(Utc::now());
    audit::update(ctx, db, active, |row| Entry::of(action, row, details)).await
}
