//! Authenticates `Authorization: Bearer dg_<prefix>_<secret>`: the global
//! prefix table names the organization and key; the key row (read on every
//! request, so revocation is immediate) must be live and its hash match.

use chrono::{Duration, Utc};
use entity::{api_key, api_key_prefix, scoped::ByIdInOrg as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use subtle::ConstantTimeEq;

use super::{
    KeyGrant,
    key_format::{hash_secret, scopes_of, split_key},
};
use crate::{
    error::{AppError, AppResult},
    ids::{ApiKeyId, OrgId, ProjectId},
};

/// `last_used_at` is refreshed at most this often, not on every request.
const LAST_USED_GRANULARITY: Duration = Duration::minutes(1);

pub struct VerifiedKey {
    pub org_id: OrgId,
    pub grant: KeyGrant,
}

pub async fn verify(db: &DatabaseConnection, token: &str) -> AppResult<VerifiedKey> {
    let invalid = || AppError::Unauthenticated("invalid or revoked API key".into());
    let (prefix, secret) = split_key(token).ok_or_else(invalid)?;
    // The prefix row names the organization, then the key is read within
    // it, so a prefix row can only ever reach a key of its own organization.
    // Two statements rather than a join: on Citus the prefix table is a
    // reference table and the join would visit every shard of `api_keys`,
    // while the key by `(organization_id, id)` is read from one.
    let found = api_key_prefix::Entity::find_by_id(prefix.to_owned())
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let org = OrgId::from_db(found.organization_id);
    let key = api_key::Entity::find_by_id_in(org, ApiKeyId::from_db(found.api_key_id))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let matches: bool = hash_secret(secret)
        .as_bytes()
        .ct_eq(key.secret_hash.as_bytes())
        .into();
    if !matches || key.revoked_at.is_some() {
        return Err(invalid());
    }
    let now = Utc::now();
    let stale = key
        .last_used_at
        .is_none_or(|at| now - at > LAST_USED_GRANULARITY);
    let verified = VerifiedKey {
        org_id: OrgId::from_db(key.organization_id),
        grant: KeyGrant {
            id: ApiKeyId::from_db(key.id),
            scopes: scopes_of(&key),
            project: key.project_id.map(ProjectId::from_db),
        },
    };
    if stale {
        let mut active: api_key::ActiveModel = key.into();
        active.last_used_at = Set(Some(now));
        // Bookkeeping must not fail the request it describes.
        if let Err(err) = active.update(db).await {
            tracing::warn!(%err, "could not record API key use");
        }
    }
    Ok(verified)
}
