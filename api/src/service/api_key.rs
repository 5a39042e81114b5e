//! API keys for machines: `dg_<prefix>_<secret>`, 256 random bits of
//! secret from the operating system's CSPRNG, stored only as a SHA-256
//! hash (a slow hash buys nothing against 256-bit secrets), found by prefix
//! through the one global lookup table, compared in constant time.

use entity::{api_key, api_key_prefix};
use sea_orm::{EntityTrait as _, PaginatorTrait, QuerySelect as _};
use uuid::Uuid;

use crate::{
    auth::key_format::{KEY_PREFIX, KeyScope, hash_secret, random_hex},
    ids::{ApiKeyId, ProjectId},
    pagination::{OrderField, Page, PageRequest},
    service::{any_of::any_of, prelude::*},
};

listed!(api_key, "API key", name: Name, created_at: CreatedAt);

pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<KeyScope>,
    pub project: Option<ProjectId>,
}

pub struct CreatedKey {
    pub row: api_key::Model,
    /// The whole key; shown once, never stored.
    pub key: String,
}

pub async fn create(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    input: NewApiKey,
) -> AppResult<CreatedKey> {
    if let Some(project) = input.project {
        table::get::<entity::project::Entity>(ctx, db, project).await?;
    }
    authorize(ctx, db, Action::ManageApiKeys).await?;
    let name = validate::name("name", &input.name)?;
    if input.scopes.is_empty() {
        return Err(AppError::bad_field(
            "scopes",
            "a key needs at least one scope",
        ));
    }
    let mut scopes: Vec<&str> = input.scopes.iter().map(|s| s.as_str()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    // 48 bits of prefix: a lookup key, not a secret; collisions are retried
    // by the client as a CONFLICT, and are vanishingly rare.
    let prefix = random_hex(6)?;
    let secret = random_hex(32)?;
    let now = Utc::now();
    let id = ApiKeyId::new();
    let txn = db.begin().await?;
    let row = api_key::ActiveModel {
        id: Set(id.uuid()),
        project_id: Set(input.project.map(ProjectId::uuid)),
        name: Set(name),
        prefix: Set(prefix.clone()),
        secret_hash: Set(hash_secret(&secret)),
        scopes: Set(json!(scopes)),
        created_by: Set(ctx.developer_id().map(|d| d.uuid())),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..api_key::ActiveModel::new_in(ctx.org_id())
    }
    .insert(&txn)
    .await?;
    api_key_prefix::ActiveModel {
        prefix: Set(prefix.clone()),
        organization_id: Set(ctx.org_id().uuid()),
        api_key_id: Set(id.uuid()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let details = json!({ "name": row.name, "prefix": row.prefix, "scopes": scopes, "projectId": row.project_id });
    audit::commit(ctx, txn, Entry::of("api_key.create", &row, details)).await?;
    Ok(CreatedKey {
        row,
        key: format!("{KEY_PREFIX}{prefix}_{secret}"),
    })
}

/// Revocation takes effect on the key's next request: every request reads
/// the key row.
pub async fn revoke(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    id: ApiKeyId,
) -> AppResult<api_key::Model> {
    let row = table::get::<api_key::Entity>(ctx, db, id).await?;
    authorize(ctx, db, Action::ManageApiKeys).await?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let now = Utc::now();
    let mut active: api_key::ActiveModel = row.into();
    active.revoked_at = Set(Some(now));
    active.updated_at = Set(now);
    audit::update(ctx, db, active, |row| {
        Entry::of("api_key.revoke", row, json!({ "prefix": row.prefix }))
    })
    .await
}

/// Deletes the prefix rows of a project's keys, which the project's deletion
/// is about to take with it. No foreign key does it: on Citus the prefix
/// lookup is a reference table and `api_keys` is distributed, and a
/// reference table cannot point at a distributed one. The ids are read
/// first because Citus also refuses a DELETE of a reference table whose
/// subquery reads a distributed one.
pub async fn project_deleting(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project: ProjectId,
) -> AppResult<()> {
    let ids: Vec<Uuid> = api_key::Entity::find_in(ctx.org_id())
        .filter(api_key::Column::ProjectId.eq(project.uuid()))
        .select_only()
        .column(api_key::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    api_key_prefix::Entity::delete_many()
        .filter(api_key_prefix::Column::OrganizationId.eq(ctx.org_id().uuid()))
        .filter(any_of(
            backend,
            api_key_prefix::Column::ApiKeyId.into_expr(),
            ids,
        ))
        .exec(txn)
        .await?;
    Ok(())
}

pub async fn list(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    page: &PageRequest,
) -> AppResult<Page<api_key::Model>> {
    authorize(ctx, db, Action::ManageApiKeys).await?;
    let column = match page.order.field {
        OrderField::Name => api_key::Column::Name,
        OrderField::CreatedAt => api_key::Column::CreatedAt,
    };
    let select = page.apply_sql(
        api_key::Entity::find_in(ctx.org_id()),
        column,
        api_key::Column::Id,
    );
    Ok(page.finish_sql(select.all(db).await?))
}

pub async fn count(ctx: &TenantCtx, db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(api_key::Entity::find_in(ctx.org_id()).count(db).await?)
}
