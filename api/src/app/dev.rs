//! Dev mode's start-up: seed an empty embedded database with the demo
//! organizations and mint the token GraphiQL sends by default. The token is
//! an owner's, so it is minted only for the demo organization dev mode
//! itself seeded, whose id it records in the dev directory beside the
//! secret (`dev-demo-org`); an embedded database holding anything else
//! (organizations made with `devgraph org create`, a copied production
//! database) gets no token.

use std::path::Path;

use entity::organization;
use indicatif::ProgressBar;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use uuid::Uuid;

use super::{StartError, seed};
use crate::{
    auth::{DevDir, JwtVerifier, TenantCtx},
    ids::OrgId,
    secrets::Sealer,
    service,
};

/// The demo organization's id, written when dev mode seeds it.
pub const DEMO_ORG_FILE: &str = "dev-demo-org";

/// How long the printed dev token lasts.
const DEV_TOKEN_DAYS: i64 = 30;

/// Seeds an empty database, then mints the demo owner's token if the demo
/// organization dev mode seeded is there.
pub async fn start(
    dir: &Path,
    db: &DatabaseConnection,
    jwt: &JwtVerifier,
    sealer: Option<&Sealer>,
) -> Result<Option<String>, StartError> {
    let dir = DevDir::open(dir).map_err(|e| StartError::DevMode(e.to_string()))?;
    let orgs = organization::Entity::find()
        .count(db)
        .await
        .map_err(StartError::Database)?;
    if orgs == 0 {
        tracing::info!("empty database: seeding demo organizations");
        let seeded = seed::seed(
            db,
            seed::SeedSpec::default(),
            sealer,
            &ProgressBar::hidden(),
        )
        .await
        .map_err(|e| StartError::DevMode(e.describe()))?;
        if let Some(demo) = seeded.first() {
            dir.replace(DEMO_ORG_FILE, &demo.org_id.uuid().to_string())
                .map_err(|e| StartError::DevMode(e.to_string()))?;
        }
    }
    let Some(org) = demo_org(&dir, db).await? else {
        tracing::warn!(
            file = %dir.path(DEMO_ORG_FILE).display(),
            "dev mode: the database holds no demo organization that dev mode seeded, so \
             GraphiQL gets no token; mint one with `devgraph token --org <slug> --developer \
             <email>`, or delete the database to seed the demo again"
        );
        return Ok(None);
    };
    let ctx = TenantCtx::unsafe_system(org);
    let owner = service::developer::first_owner(&ctx, db)
        .await
        .map_err(|e| StartError::DevMode(e.describe()))?;
    let Some(owner) = owner else {
        tracing::warn!("dev mode: the demo organization has no active owner, so no token");
        return Ok(None);
    };
    let org_id = org.uuid().to_string();
    let ttl = chrono::Duration::days(DEV_TOKEN_DAYS);
    Ok(jwt.mint(&owner.auth_subject, Some(&org_id), ttl))
}

/// The organization recorded in `dev-demo-org`, if the database has it.
async fn demo_org(dir: &DevDir, db: &DatabaseConnection) -> Result<Option<OrgId>, StartError> {
    let recorded = dir
        .read(DEMO_ORG_FILE)
        .map_err(|e| StartError::DevMode(e.to_string()))?;
    let Some(id) = recorded.and_then(|text| Uuid::parse_str(text.trim()).ok()) else {
        return Ok(None);
    };
    let org = organization::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(StartError::Database)?;
    Ok(org.map(|o| OrgId::from_db(o.id)))
}
