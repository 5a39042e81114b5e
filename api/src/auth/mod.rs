//! Authentication: turns a request's `Authorization` (and `X-Organization`)
//! header into a `TenantCtx`, in one place. The developer and role always
//! come from the database, so demoting or deactivating someone takes effect
//! on their next request.

mod api_key;
mod ctx;
mod dev_files;
mod jwks;
mod jwt;
pub mod key_format;
mod lookup;

pub use ctx::{Actor, KeyGrant, TenantCtx};
pub use dev_files::{DevDir, DevFileError};
pub use jwks::JwksSetupError;
pub use jwt::{Claims, JwtSetupError, JwtVerifier};
pub use lookup::{Membership, memberships_of_subject, org_by_id_or_slug, webhook_repository};

/// The context of a webhook delivery whose signature `repository`'s secret verified: it may
/// record that repository's project's delivery data, nothing else.
pub fn webhook_ctx(org: crate::ids::OrgId, repository: &entity::repository::Model) -> TenantCtx {
    TenantCtx::for_webhook(
        org,
        ctx::WebhookGrant {
            repository: crate::ids::RepositoryId::from_db(repository.id),
            project: crate::ids::ProjectId::from_db(repository.project_id),
        },
    )
}

use crate::ids::GlobalId as _;
use axum::http::HeaderMap;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    error::AppError,
    ids::{DeveloperId, OrgId},
};

/// Who is calling, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub ctx: TenantCtx,
    /// A person (JWT), or a machine (API key) with its scopes.
    pub kind: CallerKind,
}

#[derive(Debug, Clone)]
pub enum CallerKind {
    Person {
        /// The token subject, for listing the caller's other organizations.
        subject: String,
        /// The caller's developer row, as read while authenticating.
        developer: Box<entity::developer::Model>,
        /// The organization's row, read in the same statement.
        organization: Box<entity::organization::Model>,
    },
    /// An API key; what it may do is in the context's `KeyGrant`.
    Machine,
}

pub struct Authenticator {
    jwt: JwtVerifier,
}

impl Authenticator {
    pub fn new(jwt: JwtVerifier) -> Self {
        Authenticator { jwt }
    }

    pub fn jwt(&self) -> &JwtVerifier {
        &self.jwt
    }

    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        headers: &HeaderMap,
    ) -> Result<Caller, AppError> {
        let token = bearer_token(headers)?;
        if token.starts_with(key_format::KEY_PREFIX) {
            let key = api_key::verify(db, token).await?;
            return Ok(Caller {
                ctx: TenantCtx::for_api_key(key.org_id, key.grant),
                kind: CallerKind::Machine,
            });
        }
        let claims = self.jwt.verify(token).await?;
        let header_org = headers
            .get("x-organization")
            .map(|v| v.to_str().map(str::trim))
            .transpose()
            .map_err(|_| AppError::bad_input("X-Organization is not valid text"))?;

        let org_id = match (&claims.org, header_org) {
            (Some(org), header) => {
                let org_id = parse_org_claim(org)?;
                // A header naming another organization than the token's is a
                // client mix-up worth refusing loudly rather than ignoring.
                if let Some(header) = header {
                    let named = lookup::org_by_id_or_slug(db, header).await?;
                    if named != Some(org_id) {
                        return Err(AppError::Forbidden(
                            "X-Organization does not match the token's organization".into(),
                        ));
                    }
                }
                org_id
            }
            (None, Some(header)) => lookup::org_by_id_or_slug(db, header)
                .await?
                .ok_or_else(not_a_member)?,
            (None, None) => only_membership(db, &claims.sub).await?,
        };

        let found = lookup::active_developer(db, org_id, &claims.sub).await?;
        let Some((developer, organization)) = found else {
            return Err(if claims.org.is_some() {
                AppError::Unauthenticated("unknown organization or developer".into())
            } else {
                not_a_member()
            });
        };
        Ok(Caller {
            ctx: TenantCtx::for_developer(
                org_id,
                DeveloperId::from_db(developer.id),
                developer.role,
            ),
            kind: CallerKind::Person {
                subject: claims.sub,
                developer: Box::new(developer),
                organization: Box::new(organization),
            },
        })
    }
}

fn not_a_member() -> AppError {
    AppError::Forbidden("you are not an active member of that organization".into())
}

/// A token without `org` and no header: fine when the person belongs to
/// exactly one organization.
async fn only_membership(db: &DatabaseConnection, subject: &str) -> Result<OrgId, AppError> {
    let memberships = memberships_of_subject(db, subject).await?;
    match memberships.as_slice() {
        [one] => Ok(one.org_id),
        [] => Err(AppError::Unauthenticated(
            "unknown organization or developer".into(),
        )),
        _ => Err(AppError::bad_field(
            "X-Organization",
            "the token names no organization and you belong to several: send the X-Organization header (id or slug)",
        )),
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, AppError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthenticated("missing Authorization header".into()))?;
    let value = value
        .to_str()
        .map_err(|_| AppError::Unauthenticated("malformed Authorization header".into()))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        AppError::Unauthenticated("expected `Authorization: Bearer <token>`".into())
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::Unauthenticated(
            "expected `Authorization: Bearer <token>`".into(),
        ));
    }
    Ok(token.trim())
}

/// The `org` claim is an organization uuid (or its global id).
fn parse_org_claim(org: &str) -> Result<OrgId, AppError> {
    if let Ok(uuid) = Uuid::parse_str(org) {
        return Ok(OrgId::from_db(uuid));
    }
    OrgId::from_global(org).map_err(|_| {
        AppError::Unauthenticated("the token's org claim is not an organization id".into())
    })
}
