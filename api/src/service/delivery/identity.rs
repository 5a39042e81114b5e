//! Identities: how a person appears in a source, and the developer it is linked to. Ingestion
//! resolves every identity a delivery names in a few statements (`resolve`); an email identity
//! links itself to the developer with that email the first time it is seen with one, or when a
//! developer gets that email (`adopt_email`), unless an admin unlinked it; any other is linked
//! by an admin (`link`). Linking re-attributes what the identity did before (`reattribute`), so
//! the order of "activity arrives" and "identity is linked" does not change the result.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::{
    commit, developer, enums::IdentityKind, identity, pull_request, pull_request_review,
    scoped::InOrg as _,
};
use sea_orm::{
    ActiveEnum as _, ColumnTrait, ConnectionTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

use super::facts::IdentityRef;
use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::{DeveloperId, IdentityId},
    service::{
        any_of::any_of,
        live::{Change, Live},
        table,
    },
};

/// An identity as stored: its id and the developer it is linked to, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub id: IdentityId,
    pub developer: Option<DeveloperId>,
    /// An admin unlinked it: it does not link itself by email again.
    pub unlinked: bool,
}

impl Resolved {
    /// Whether an email identity in this state links itself to the developer with its email:
    /// linked to nobody, and not unlinked by an admin.
    fn links_by_email(&self) -> bool {
        self.developer.is_none() && !self.unlinked
    }
}

/// Whether resolving marks the identities as seen now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Delivery ingestion, which runs one at a time per organization.
    LastSeen,
    /// Event ingestion, whose concurrent batches would wait on each other's (and could
    /// deadlock on) the same identity rows for a bookkeeping time.
    No,
}

/// The stored identity of each of `refs`, creating the missing ones (in key order, so that
/// concurrent creators wait rather than deadlock), and linking unlinked email identities to the
/// developer with that email (re-attributing their history). A handful of statements whatever
/// the number of identities.
pub async fn resolve(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    refs: &BTreeSet<IdentityRef>,
    now: DateTime<Utc>,
    touch: Touch,
) -> AppResult<HashMap<IdentityRef, Resolved>> {
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut found = load(ctx, txn, refs).await?;
    let missing: Vec<&IdentityRef> = refs.iter().filter(|r| !found.contains_key(*r)).collect();
    if !missing.is_empty() {
        // One statement for any number of new identities (arrays on PostgreSQL), in key order.
        use identity::Column as C;
        let org = ctx.org_id().uuid();
        let rows = missing.into_iter().map(|r| {
            vec![
                org.into(),
                IdentityId::new().uuid().into(),
                sea_orm::Value::from(r.kind().to_value()),
                r.value().to_owned().into(),
                now.into(),
                now.into(),
                now.into(),
                now.into(),
            ]
        });
        let columns = [
            C::OrganizationId,
            C::Id,
            C::Kind,
            C::Value,
            // developer_id is left out (NULL): arrays of bound values cannot hold NULLs.
            C::FirstSeenAt,
            C::LastSeenAt,
            C::CreatedAt,
            C::UpdatedAt,
        ];
        // Another transaction may have created one since we looked: theirs is as good.
        let on_conflict = OnConflict::columns([C::OrganizationId, C::Kind, C::Value])
            .do_nothing()
            .to_owned();
        let mut writes = crate::service::rollups::Writes::new(txn);
        writes.upsert::<identity::Entity>(columns, rows, on_conflict)?;
        writes.run(txn).await?;
        found = load(ctx, txn, refs).await?;
    }
    if touch == Touch::LastSeen {
        let ids: Vec<uuid::Uuid> = found.values().map(|r| r.id.uuid()).collect();
        identity::Entity::update_in(ctx.org_id())
            .col_expr(identity::Column::LastSeenAt, Expr::value(now))
            .filter(any_of(
                txn.get_database_backend(),
                identity::Column::Id.into_expr(),
                &ids,
            ))
            .exec(txn)
            .await?;
    }
    link_by_email(ctx, txn, &mut found, now).await?;
    Ok(found)
}

async fn load(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    refs: &BTreeSet<IdentityRef>,
) -> AppResult<HashMap<IdentityRef, Resolved>> {
    let values: BTreeSet<&str> = refs.iter().map(|r| r.value()).collect();
    let rows = identity::Entity::find_in(ctx.org_id())
        .filter(any_of(
            txn.get_database_backend(),
            identity::Column::Value.into_expr(),
            values,
        ))
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let r = IdentityRef::new(row.kind, &row.value)?;
            refs.contains(&r).then_some((
                r,
                Resolved {
                    id: IdentityId::from_db(row.id),
                    developer: row.developer_id.map(DeveloperId::from_db),
                    unlinked: row.unlinked_at.is_some(),
                },
            ))
        })
        .collect())
}

/// Unlinked email identities whose email is a developer's: linked to that developer, unless an
/// admin unlinked them.
async fn link_by_email(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    found: &mut HashMap<IdentityRef, Resolved>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let emails: BTreeSet<&str> = found
        .iter()
        .filter(|(r, v)| r.kind() == IdentityKind::Email && v.links_by_email())
        .map(|(r, _)| r.value())
        .collect();
    if emails.is_empty() {
        return Ok(());
    }
    let developers = developer::Entity::find_in(ctx.org_id())
        .filter(any_of(
            txn.get_database_backend(),
            developer::Column::Email.into_expr(),
            emails,
        ))
        .all(txn)
        .await?;
    for dev in developers {
        let Some(r) = IdentityRef::new(IdentityKind::Email, &dev.email) else {
            continue;
        };
        if let Some(resolved) = found.get_mut(&r) {
            let developer = DeveloperId::from_db(dev.id);
            set_link(ctx, txn, resolved.id, Some(developer), now, By::Email).await?;
            resolved.developer = Some(developer);
        }
    }
    Ok(())
}

/// Who moves a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum By {
    /// devgraph, matching an email: leaves an admin's unlink standing.
    Email,
    /// An admin (`linkIdentity`, `unlinkIdentity`): an unlink is remembered, a link forgets it.
    Admin,
}

/// Points the identity at `developer` (or at nobody), and moves what it did with it
/// (`reattribute`).
async fn set_link(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    id: IdentityId,
    developer: Option<DeveloperId>,
    now: DateTime<Utc>,
    by: By,
) -> AppResult<()> {
    let mut update = identity::Entity::update_in(ctx.org_id())
        .col_expr(
            identity::Column::DeveloperId,
            Expr::value(developer.map(DeveloperId::uuid)),
        )
        .col_expr(identity::Column::UpdatedAt, Expr::value(now));
    if by == By::Admin {
        let unlinked_at = developer.is_none().then_some(now);
        update = update.col_expr(identity::Column::UnlinkedAt, Expr::value(unlinked_at));
    }
    update.filter(identity::Column::Id.eq(id)).exec(txn).await?;
    reattribute(ctx, txn, id, developer).await
}

/// Everything recorded under the identity now counts for `developer` (or for nobody): its
/// pull requests, reviews and commits, and its events with their counts in every rollup.
async fn reattribute(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    id: IdentityId,
    developer: Option<DeveloperId>,
) -> AppResult<()> {
    crate::service::rollups::reattribute::events_of_identity(ctx, txn, id, developer).await?;
    let to = developer.map(DeveloperId::uuid);
    pull_request::Entity::update_in(ctx.org_id())
        .col_expr(pull_request::Column::AuthorId, Expr::value(to))
        .filter(pull_request::Column::AuthorIdentityId.eq(id))
        .exec(txn)
        .await?;
    pull_request_review::Entity::update_in(ctx.org_id())
        .col_expr(pull_request_review::Column::ReviewerId, Expr::value(to))
        .filter(pull_request_review::Column::ReviewerIdentityId.eq(id))
        .exec(txn)
        .await?;
    commit::Entity::update_in(ctx.org_id())
        .col_expr(commit::Column::AuthorId, Expr::value(to))
        .filter(commit::Column::AuthorIdentityId.eq(id))
        .exec(txn)
        .await?;
    let changed = super::metrics::refresh::of_identity(ctx, txn, id).await?;
    super::metrics::refresh(ctx, txn, changed).await
}

/// A developer's email, newly theirs (they were created, or changed to it): the unlinked email
/// identity with that address, if one was seen, becomes theirs with its history, as `link` would
/// make it, and audited like it; not one an admin unlinked. Whether there was one.
pub(crate) async fn adopt_email(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    developer: DeveloperId,
    email: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(r) = IdentityRef::new(IdentityKind::Email, email) else {
        return Ok(false);
    };
    let found = load(ctx, txn, &BTreeSet::from([r.clone()])).await?;
    let Some(resolved) = found.get(&r).filter(|v| v.links_by_email()) else {
        return Ok(false);
    };
    set_link(ctx, txn, resolved.id, Some(developer), now, By::Email).await?;
    let details = serde_json::json!({
        "kind": r.kind(), "value": r.value(), "developerId": developer.uuid(),
        "previousDeveloperId": null, "matchedBy": "email",
    });
    audit_identity(ctx, txn, "identity.link", resolved.id, details).await?;
    Ok(true)
}

// Links made by people --------------------------------------------------------------------

/// Which identity a link names: a stored one, or one by kind and value (created if it has not
/// been seen yet, so that an admin can link a login before its first pull request arrives).
#[derive(Debug, Clone)]
pub enum IdentityKey {
    Id(IdentityId),
    Named(IdentityRef),
}

/// Links the identity to `developer`: what it did before (pull requests, reviews, commits,
/// events and their rollups) now counts for the developer, and what it does later too.
/// Admins and owners; audited in the same transaction.
pub async fn link(
    ctx: &TenantCtx,
    db: &sea_orm::DatabaseConnection,
    live: &Live,
    key: IdentityKey,
    developer: DeveloperId,
) -> AppResult<identity::Model> {
    let txn = crate::service::begin_checked(ctx, db).await?;
    crate::permissions::authorize(ctx, &txn, crate::permissions::Action::ManageIdentities).await?;
    let dev = table::get::<developer::Entity>(ctx, &txn, developer).await?;
    let now = Utc::now();
    let row = find_or_create(ctx, &txn, key, now).await?;
    let id = IdentityId::from_db(row.id);
    let developer = DeveloperId::from_db(dev.id);
    set_link(ctx, &txn, id, Some(developer), now, By::Admin).await?;
    let details = serde_json::json!({
        "kind": row.kind, "value": row.value,
        "developerId": dev.id, "previousDeveloperId": row.developer_id,
    });
    let row = identity::Model {
        developer_id: Some(dev.id),
        unlinked_at: None,
        updated_at: now,
        ..row
    };
    audit_identity(ctx, &txn, "identity.link", id, details).await?;
    // What the identity did moves between developers, both kinds of figures.
    live.commit(txn, Change::everything(ctx.org_id())).await?;
    Ok(row)
}

/// Undoes a link: the identity's history counts for nobody again until an admin links it anew
/// (an email identity an admin unlinked no longer links itself by its email).
pub async fn unlink(
    ctx: &TenantCtx,
    db: &sea_orm::DatabaseConnection,
    live: &Live,
    id: IdentityId,
) -> AppResult<identity::Model> {
    let txn = crate::service::begin_checked(ctx, db).await?;
    crate::permissions::authorize(ctx, &txn, crate::permissions::Action::ManageIdentities).await?;
    let row = table::get::<identity::Entity>(ctx, &txn, id).await?;
    let now = Utc::now();
    set_link(ctx, &txn, id, None, now, By::Admin).await?;
    let details = serde_json::json!({
        "kind": row.kind, "value": row.value, "previousDeveloperId": row.developer_id,
    });
    let row = identity::Model {
        developer_id: None,
        unlinked_at: Some(now),
        updated_at: now,
        ..row
    };
    audit_identity(ctx, &txn, "identity.unlink", id, details).await?;
    // What the identity did moves between developers, both kinds of figures.
    live.commit(txn, Change::everything(ctx.org_id())).await?;
    Ok(row)
}

async fn find_or_create(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    key: IdentityKey,
    now: DateTime<Utc>,
) -> AppResult<identity::Model> {
    let id = match key {
        IdentityKey::Id(id) => id,
        IdentityKey::Named(r) => {
            let refs = BTreeSet::from([r.clone()]);
            let found = resolve(ctx, txn, &refs, now, Touch::No).await?;
            found
                .get(&r)
                .map(|f| f.id)
                .ok_or_else(|| AppError::internal("an identity just stored was not found"))?
        }
    };
    table::get::<identity::Entity>(ctx, txn, id).await
}

async fn audit_identity(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    action: &'static str,
    id: IdentityId,
    details: serde_json::Value,
) -> AppResult<()> {
    let entry = crate::service::audit::Entry {
        action,
        target: crate::ids::NodeKind::Identity,
        target_id: id.uuid(),
        details,
    };
    crate::service::audit::record(ctx, txn, entry).await
}
