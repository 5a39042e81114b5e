//! Administration commands: create organizations and API keys, which
//! production deployments need before anyone can sign in or send events.

use clap::Subcommand;
use migration::{Migrator, MigratorTrait};

use super::connect;
use crate::{config::ConfigArgs, service};

#[derive(Subcommand)]
pub enum OrgAction {
    /// Create an organization and its first owner.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long, default_value = "Owner")]
        owner_name: String,
        /// The owner's `sub` in your identity provider's tokens (default: the email).
        #[arg(long)]
        owner_subject: Option<String>,
    },
    /// Override an organization's budget (requests in flight, requests and
    /// query points per minute); a part left out goes back to its default.
    /// A running server re-reads overrides at most every 10 seconds.
    SetBudget {
        /// Organization slug or id.
        #[arg(long)]
        org: String,
        #[arg(long)]
        in_flight: Option<u32>,
        #[arg(long)]
        requests_per_minute: Option<u32>,
        /// Query complexity the organization's GraphQL requests may spend
        /// per minute.
        #[arg(long)]
        points_per_minute: Option<u32>,
        /// Back to the configured defaults.
        #[arg(long, conflicts_with_all = ["in_flight", "requests_per_minute", "points_per_minute"])]
        clear: bool,
    },
}

#[derive(Subcommand)]
pub enum ApiKeyAction {
    /// Create an API key and print it (it is shown only once).
    Create {
        /// Organization slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: read, events:write.
        #[arg(long, default_value = "read")]
        scopes: String,
        /// Slug of the project to bind the key to.
        #[arg(long)]
        project: Option<String>,
    },
}

pub async fn org(args: &ConfigArgs, action: OrgAction) -> Result<(), String> {
    let (slug, name, owner_email, owner_name, owner_subject) = match action {
        OrgAction::Create {
            slug,
            name,
            owner_email,
            owner_name,
            owner_subject,
        } => (slug, name, owner_email, owner_name, owner_subject),
        OrgAction::SetBudget {
            org,
            in_flight,
            requests_per_minute,
            points_per_minute,
            clear: _,
        } => {
            let db = connect(args).await?;
            let ctx = super::system_ctx(&db, &org).await?;
            // `--clear` conflicts with every part, so it leaves them all `None`.
            let budget = service::organization::BudgetOverride {
                in_flight,
                requests_per_minute,
                points_per_minute,
            };
            let row = service::organization::set_budget(&ctx, &db, budget)
                .await
                .map_err(|e| e.describe())?;
            let shown = |n: Option<i32>| n.map_or("default".to_owned(), |n| n.to_string());
            println!(
                "{}: in flight {}, requests per minute {}, points per minute {}",
                row.slug,
                shown(row.budget_in_flight),
                shown(row.budget_requests_per_minute),
                shown(row.budget_points_per_minute)
            );
            return Ok(());
        }
    };
    let db = connect(args).await?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let input = service::organization::NewOrganization {
        slug,
        name,
        owner_email,
        owner_name,
        owner_subject,
    };
    let (org, owner) = service::organization::create(&db, input)
        .await
        .map_err(|e| e.describe())?;
    println!(
        "created organization {} ({}) with owner {} (subject {})",
        org.slug, org.id, owner.email, owner.auth_subject
    );
    Ok(())
}

pub async fn api_key(args: &ConfigArgs, action: ApiKeyAction) -> Result<(), String> {
    use crate::auth::key_format::KeyScope;
    use service::api_key::NewApiKey;
    let ApiKeyAction::Create {
        org,
        name,
        scopes,
        project,
    } = action;
    let db = connect(args).await?;
    let ctx = super::system_ctx(&db, &org).await?;
    let scopes = scopes
        .split(',')
        .map(|s| {
            KeyScope::parse(s.trim())
                .ok_or_else(|| format!("unknown scope {s:?} (read, events:write, delivery:write)"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let project = match project {
        Some(slug) => Some(
            service::project::by_slug(&ctx, &db, &slug)
                .await
                .map_err(|e| e.describe())?
                .ok_or_else(|| format!("no project {slug:?} in {org}"))?,
        ),
        None => None,
    };
    let input = NewApiKey {
        name,
        scopes,
        project,
    };
    let created = service::api_key::create(&ctx, &db, input)
        .await
        .map_err(|e| e.describe())?;
    println!("{}", created.key);
    Ok(())
}
