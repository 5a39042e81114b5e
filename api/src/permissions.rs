//! Who may do what: every role rule of the API, in one place, matching the
//! permission matrix of the README. Mutations load their target first (so a
//! foreign id is NOT_FOUND, like a missing one), then ask `authorize`.

use entity::scoped::InOrg as _;
use entity::{
    developer,
    enums::{DeveloperRole, TeamSpaceRole},
    team_space_member,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::{
    auth::key_format::KeyScope,
    auth::{Actor, TenantCtx},
    error::{AppError, AppResult},
    ids::{DeveloperId, ProjectId, TeamSpaceId},
};

#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    UpdateOrganization,
    /// Create, rename or delete team spaces.
    ManageTeamSpaces,
    /// Add, change or remove the members of one team space.
    ManageMembersOf(TeamSpaceId),
    /// Create, change or delete projects owned by a team space (or by none).
    ManageProjectsIn(Option<TeamSpaceId>),
    InviteDeveloper {
        role: DeveloperRole,
    },
    RenameDeveloper {
        target: &'a developer::Model,
    },
    /// Change email or role, deactivate or reactivate.
    ManageDeveloper {
        target: &'a developer::Model,
        new_role: Option<DeveloperRole>,
    },
    ManageApiKeys,
    ReadAuditLog,
    /// List the identities no developer is linked to yet.
    ReadIdentities,
    /// Send events to a project.
    RecordEvents(ProjectId),
    /// Record pull requests, reviews, deployments or incidents of a project.
    RecordDelivery(ProjectId),
    /// Connect, change or disconnect a project's repositories (and rotate their secrets).
    ManageRepositoriesOf(ProjectId, Option<TeamSpaceId>),
    /// Link developer identities, or undo a link.
    ManageIdentities,
    /// Override the organization's budget: the operator's, never the
    /// tenant's (owners included).
    SetBudget,
    /// See the organization's budget and what it uses now.
    ReadBudget,
}

impl Action<'_> {
    fn describe(&self) -> &'static str {
        match self {
            Action::UpdateOrganization => "update the organization",
            Action::SetBudget => "change the organization's budget (the operator sets it)",
            Action::ReadBudget => "read the organization's budget",
            Action::ManageTeamSpaces => "manage team spaces",
            Action::ManageMembersOf(_) => "manage this team space's members",
            Action::ManageProjectsIn(_) => "manage projects of this team space",
            Action::InviteDeveloper { .. } => "invite developers with this role",
            Action::RenameDeveloper { .. } => "rename this developer",
            Action::ManageDeveloper { .. } => "manage this developer",
            Action::ManageApiKeys => "manage API keys",
            Action::ReadAuditLog => "read the audit log",
            Action::ReadIdentities => "read the unmatched identities",
            Action::RecordEvents(_) => "record events for this project",
            Action::RecordDelivery(_) => "record delivery data for this project",
            Action::ManageRepositoriesOf(..) => "manage this project's repositories",
            Action::ManageIdentities => "link developer identities",
        }
    }
}

/// Reading through GraphQL: people always (their role limits what they see,
/// field by field); API keys only with the `read` scope.
pub fn may_read(ctx: &TenantCtx) -> AppResult<()> {
    match ctx.actor() {
        Actor::ApiKey(key) if !key.allows(KeyScope::Read) => Err(AppError::Forbidden(
            "this API key lacks the `read` scope".into(),
        )),
        _ => Ok(()),
    }
}

/// Mutations through GraphQL are for people: an API key never runs one,
/// whatever its scopes (keys send events to `POST /v1/events`).
pub fn may_mutate(ctx: &TenantCtx) -> AppResult<()> {
    match ctx.actor() {
        Actor::ApiKey(_) => Err(AppError::Forbidden(
            "API keys do not run mutations; send events to POST /v1/events".into(),
        )),
        _ => Ok(()),
    }
}

/// The one developer a caller may record events for, when there is one:
/// members (leads included) record only their own activity, so they cannot
/// inflate or back-date someone else's; admins and owners (importing
/// history, correcting), keys and the system record for anyone.
pub fn records_only_for(ctx: &TenantCtx) -> Option<DeveloperId> {
    match ctx.actor() {
        Actor::Developer(me)
            if !matches!(ctx.role(), DeveloperRole::Owner | DeveloperRole::Admin) =>
        {
            Some(*me)
        }
        _ => None,
    }
}

/// The project `/v1/events` stores a caller's events in: the project of an
/// API key with the `events:write` scope. People send events through the
/// `recordEvents` mutation instead.
pub fn events_endpoint_project(ctx: &TenantCtx) -> AppResult<ProjectId> {
    key_project(
        ctx,
        KeyScope::EventsWrite,
        "events are sent with a project's API key; people use the recordEvents mutation",
    )
}

/// The project `/v1/delivery` stores a caller's delivery data in: the
/// project of an API key with the `delivery:write` scope. People record
/// deployments and incidents through mutations instead.
pub fn delivery_endpoint_project(ctx: &TenantCtx) -> AppResult<ProjectId> {
    key_project(
        ctx,
        KeyScope::DeliveryWrite,
        "delivery data is sent with a project's API key; people use the recordDeployment and \
         recordIncident mutations",
    )
}

fn key_project(ctx: &TenantCtx, scope: KeyScope, for_people: &str) -> AppResult<ProjectId> {
    match ctx.actor() {
        Actor::ApiKey(key) if !key.allows(scope) => Err(AppError::Forbidden(format!(
            "this API key lacks the `{}` scope",
            scope.as_str()
        ))),
        Actor::ApiKey(key) => key.project.ok_or_else(|| {
            AppError::Forbidden(
                "this API key is bound to no project; create one with a projectId".into(),
            )
        }),
        _ => Err(AppError::Forbidden(for_people.into())),
    }
}

pub async fn authorize(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    action: Action<'_>,
) -> AppResult<()> {
    if allowed(ctx, db, action).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "you may not {}",
            action.describe()
        )))
    }
}

async fn allowed(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    action: Action<'_>,
) -> AppResult<bool> {
    if matches!(action, Action::SetBudget) {
        return Ok(matches!(ctx.actor(), Actor::System));
    }
    let me = match ctx.actor() {
        Actor::System => return Ok(true),
        // Keys read and ingest (into their one project); they never
        // administer anything.
        Actor::ApiKey(key) => {
            return Ok(match action {
                Action::RecordEvents(project) => {
                    key.allows(KeyScope::EventsWrite) && key.project == Some(project)
                }
                Action::RecordDelivery(project) => {
                    key.allows(KeyScope::DeliveryWrite) && key.project == Some(project)
                }
                _ => false,
            });
        }
        // A verified webhook records its own repository's project's data, nothing else.
        Actor::Webhook(grant) => {
            return Ok(matches!(action, Action::RecordDelivery(p) if p == grant.project));
        }
        Actor::Developer(id) => *id,
    };
    let owner = |target: &developer::Model| target.role == DeveloperRole::Owner;
    Ok(match (ctx.role(), action) {
        (DeveloperRole::Owner, _) => true,
        // Admins manage everything except owners: they can neither touch an
        // owner nor make one.
        (DeveloperRole::Admin, Action::InviteDeveloper { role }) => role != DeveloperRole::Owner,
        (DeveloperRole::Admin, Action::RenameDeveloper { target }) => !owner(target),
        (DeveloperRole::Admin, Action::ManageDeveloper { target, new_role }) => {
            !owner(target) && new_role != Some(DeveloperRole::Owner)
        }
        (DeveloperRole::Admin, _) => true,
        (DeveloperRole::Member, Action::RecordEvents(_)) => true,
        // Members record deployments and incidents by hand (teams without CI integration).
        (DeveloperRole::Member, Action::RecordDelivery(_)) => true,
        // A team-space lead manages the repositories of that space's projects.
        (DeveloperRole::Member, Action::ManageRepositoriesOf(_, Some(space))) => {
            is_lead(ctx, db, space, me).await?
        }
        (DeveloperRole::Member, Action::RenameDeveloper { target }) => target.id == me.uuid(),
        // A team-space lead manages that space's members and projects.
        (DeveloperRole::Member, Action::ManageMembersOf(space))
        | (DeveloperRole::Member, Action::ManageProjectsIn(Some(space))) => {
            is_lead(ctx, db, space, me).await?
        }
        // Viewers only read, even when they lead a team space.
        _ => false,
    })
}

/// Whether `dev` leads `space`. Read here rather than through the
/// membership service, which itself asks `authorize`: the rules depend on no
/// service, so no service depends on itself through them.
async fn is_lead(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    space: TeamSpaceId,
    dev: DeveloperId,
) -> AppResult<bool> {
    let row = team_space_member::Entity::find_in(ctx.org_id())
        .filter(team_space_member::Column::TeamSpaceId.eq(space))
        .filter(team_space_member::Column::DeveloperId.eq(dev))
        .filter(team_space_member::Column::Role.eq(TeamSpaceRole::Lead))
        .one(db)
        .await?;
    Ok(row.is_some())
}
