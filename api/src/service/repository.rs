//! Repositories: connecting one to a project (which makes the secret its webhook deliveries
//! are signed with, shown once), changing, disconnecting (everything it brought goes with
//! it), and rotating the secret. Admins and owners, and the leads of the project's team space;
//! every change audited in its own transaction.

use entity::{enums::Provider, project, repository, scoped::InOrg as _};

use crate::{
    ids::{NodeKind, ProjectId, RepositoryId, TeamSpaceId},
    secrets::{Sealer, new_webhook_secret},
    service::{
        live::{Change, Live},
        prelude::*,
    },
};

/// A repository and its webhook secret in clear text: returned by `connect` and
/// `rotate_secret` only, and never stored unsealed.
pub struct WithSecret {
    pub repository: repository::Model,
    pub webhook_secret: String,
}

pub struct NewRepository {
    pub project: ProjectId,
    pub provider: Provider,
    /// The provider's id of the repository (GitHub's numeric `repository.id`); the full name
    /// when absent.
    pub external_id: Option<String>,
    pub full_name: String,
    pub default_branch: Option<String>,
}

#[derive(Default)]
pub struct RepositoryPatch {
    pub full_name: Option<String>,
    pub default_branch: Option<String>,
}

/// The sealed secret's associated data: the row it belongs to, so a sealed value copied to
/// another repository does not open there.
fn context(id: uuid::Uuid) -> [u8; 16] {
    *id.as_bytes()
}

fn sealer(sealer: Option<&Sealer>) -> AppResult<&Sealer> {
    sealer.ok_or_else(|| {
        tracing::warn!("repository webhooks need DEVGRAPH_SECRET_KEY, which is not set");
        AppError::ServiceUnavailable
    })
}

/// The project (NOT_FOUND when it is not the caller's) and the right to manage its
/// repositories.
async fn authorize_project(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    id: ProjectId,
) -> AppResult<project::Model> {
    let row = table::get::<project::Entity>(ctx, txn, id).await?;
    let space = row.team_space_id.map(TeamSpaceId::from_db);
    authorize(ctx, txn, Action::ManageRepositoriesOf(id, space)).await?;
    Ok(row)
}

fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` takes 1 to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

pub async fn connect(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    keys: Option<&Sealer>,
    input: NewRepository,
) -> AppResult<WithSecret> {
    let keys = sealer(keys)?;
    let full_name = text("fullName", &input.full_name, 200)?;
    let external_id = match &input.external_id {
        Some(id) => text("externalId", id, 200)?,
        None => full_name.clone(),
    };
    let default_branch = text(
        "defaultBranch",
        input.default_branch.as_deref().unwrap_or("main"),
        200,
    )?;
    let txn = begin_checked(ctx, db).await?;
    authorize_project(ctx, &txn, input.project).await?;
    let id = RepositoryId::new();
    let secret = new_webhook_secret();
    let now = Utc::now();
    let row = repository::ActiveModel {
        organization_id: Set(ctx.org_id().uuid()),
        id: Set(id.uuid()),
        project_id: Set(input.project.uuid()),
        provider: Set(input.provider),
        external_id: Set(external_id),
        full_name: Set(full_name),
        default_branch: Set(default_branch),
        webhook_secret: Set(keys.seal(&secret, &context(id.uuid()))?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let details = json!({
        "projectId": row.project_id, "provider": row.provider, "externalId": row.external_id,
        "fullName": row.full_name, "defaultBranch": row.default_branch,
    });
    audit::commit(ctx, txn, entry("repository.connect", &row, details)).await?;
    Ok(WithSecret {
        repository: row,
        webhook_secret: secret,
    })
}

pub async fn update(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    id: RepositoryId,
    patch: RepositoryPatch,
) -> AppResult<repository::Model> {
    let txn = begin_checked(ctx, db).await?;
    let row = table::get::<repository::Entity>(ctx, &txn, id).await?;
    authorize_project(ctx, &txn, ProjectId::from_db(row.project_id)).await?;
    let mut changes = Changes::default();
    let mut active: repository::ActiveModel = row.clone().into();
    if let Some(name) = patch.full_name {
        let name = text("fullName", &name, 200)?;
        changes.note("fullName", &row.full_name, &name);
        active.full_name = Set(name);
    }
    if let Some(branch) = patch.default_branch {
        let branch = text("defaultBranch", &branch, 200)?;
        changes.note("defaultBranch", &row.default_branch, &branch);
        active.default_branch = Set(branch);
    }
    active.updated_at = Set(Utc::now());
    let row = active.update(&txn).await?;
    audit::commit(
        ctx,
        txn,
        entry("repository.update", &row, changes.into_json()),
    )
    .await?;
    Ok(row)
}

/// Disconnects the repository: its commits, pull requests, reviews, webhook deliveries, and
/// the deployments and incidents it reported go with it.
pub async fn disconnect(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    id: RepositoryId,
) -> AppResult<()> {
    let txn = begin_checked(ctx, db).await?;
    let row = table::get::<repository::Entity>(ctx, &txn, id).await?;
    authorize_project(ctx, &txn, ProjectId::from_db(row.project_id)).await?;
    // What it brought leaves the delivery metrics with it: gathered before the delete
    // cascades, applied after.
    use crate::service::delivery::metrics::refresh;
    let brought = refresh::of_repository(ctx, &txn, row.id).await?;
    let reach = refresh::gather(ctx, &txn, &brought).await?;
    repository::Entity::delete_in(ctx.org_id())
        .filter(repository::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    refresh::apply(ctx, &txn, reach.without_repository(row.id)).await?;
    let details = json!({ "projectId": row.project_id, "fullName": row.full_name });
    audit::record(ctx, &txn, entry("repository.disconnect", &row, details)).await?;
    live.commit(txn, Change::delivery(ctx.org_id())).await
}

/// A new webhook secret, shown once; deliveries signed with the old one are refused from now.
pub async fn rotate_secret(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    keys: Option<&Sealer>,
    id: RepositoryId,
) -> AppResult<WithSecret> {
    let keys = sealer(keys)?;
    let txn = begin_checked(ctx, db).await?;
    let row = table::get::<repository::Entity>(ctx, &txn, id).await?;
    authorize_project(ctx, &txn, ProjectId::from_db(row.project_id)).await?;
    let secret = new_webhook_secret();
    let mut active: repository::ActiveModel = row.clone().into();
    active.webhook_secret = Set(keys.seal(&secret, &context(row.id))?);
    active.updated_at = Set(Utc::now());
    let row = active.update(&txn).await?;
    audit::commit(ctx, txn, entry("repository.rotate_secret", &row, json!({}))).await?;
    Ok(WithSecret {
        repository: row,
        webhook_secret: secret,
    })
}

/// The repository's webhook secret in clear text, to verify a delivery's signature.
pub fn webhook_secret(keys: Option<&Sealer>, row: &repository::Model) -> AppResult<String> {
    sealer(keys)?.open(&row.webhook_secret, &context(row.id))
}

fn entry(action: &'static str, row: &repository::Model, details: serde_json::Value) -> Entry {
    Entry {
        action,
        target: NodeKind::Repository,
        target_id: row.id,
        details,
    }
}
