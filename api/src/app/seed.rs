//! Deterministic synthetic data (demo data, not domain logic: it lives
//! with the application, above the services it writes through): the same seed gives the same
//! organizations, names, ids, memberships and projects. Used by
//! `devgraph seed`, by `cargo run` on an empty database, and by benchmarks. The delivery data
//! (repositories, pull requests, deployments, incidents) is `seed_delivery`'s.

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::{
    developer,
    enums::{DeveloperRole, TeamSpaceRole},
    organization, project, team_space, team_space_member,
};
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::index::sample};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::seed_delivery::{DeliveryCounts, Tenant, seed_delivery};
use crate::{
    auth::TenantCtx,
    config::IngestLimits,
    error::{AppError, AppResult},
    ids::{OrgId, ProjectId},
    secrets::Sealer,
    service::{
        events::{EventInput, ingest},
        live::Live,
    },
};

/// What `devgraph seed` generates (its fields are the command's options)
/// and, with the defaults, what dev mode seeds.
#[derive(Debug, Clone, Copy, clap::Args)]
#[command(next_help_heading = "What to generate")]
pub struct SeedSpec {
    #[arg(long, default_value_t = DEFAULT.orgs)]
    pub orgs: usize,
    /// Team spaces per organization.
    #[arg(long, default_value_t = DEFAULT.team_spaces)]
    pub team_spaces: usize,
    /// Developers per organization (each in 1 to 3 team spaces).
    #[arg(long, default_value_t = DEFAULT.developers)]
    pub developers: usize,
    /// Projects per organization.
    #[arg(long, default_value_t = DEFAULT.projects)]
    pub projects: usize,
    /// Days of activity (events) before today.
    #[arg(long, default_value_t = DEFAULT.days)]
    pub days: usize,
    /// Average events per developer per day.
    #[arg(long, default_value_t = DEFAULT.events_per_day)]
    pub events_per_day: usize,
    /// Pull requests a repository opens per week (delivery data; 0 for none). Each project
    /// has one or two repositories; delivery data needs the secret key that seals their
    /// webhook secrets (DEVGRAPH_SECRET_KEY, or dev mode's own).
    #[arg(long, default_value_t = DEFAULT.pull_requests)]
    pub pull_requests: usize,
    /// The moment the seeded history ends (RFC 3339; default: now). A fixed one makes the
    /// same seed give the same timestamps on any day.
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
    #[arg(long, default_value_t = DEFAULT.seed)]
    pub seed: u64,
}

const DEFAULT: SeedSpec = SeedSpec {
    orgs: 3,
    team_spaces: 5,
    developers: 25,
    projects: 8,
    days: 30,
    events_per_day: 4,
    // About 150 pull requests a month per organization, a little over one a week per
    // developer: believable, and few enough that dev mode's first start stays within a few
    // seconds (the delivery part about doubles it: every fact is a statement or two).
    pull_requests: 4,
    until: None,
    seed: 42,
};

impl Default for SeedSpec {
    fn default() -> Self {
        DEFAULT
    }
}

#[derive(Debug, Clone)]
pub struct SeededOrg {
    pub org_id: OrgId,
    pub slug: String,
    pub owner_email: String,
    /// All zero when no delivery data was seeded.
    pub delivery: DeliveryCounts,
}

const ORG_NAMES: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
];
const SPACE_NAMES: &[&str] = &[
    "Platform", "Payments", "Mobile", "Data", "Growth", "Security", "Search", "Infra", "Web",
    "Billing",
];
const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
    "Guido",
    "Radia",
    "Donald",
    "Hedy",
    "Alan",
    "Katherine",
    "Bjarne",
    "Sophie",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Liskov",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Allen",
    "Rossum",
    "Perlman",
    "Knuth",
    "Lamarr",
    "Turing",
    "Johnson",
    "Stroustrup",
    "Wilson",
];
const PROJECT_NAMES: &[&str] = &[
    "api",
    "web",
    "ios",
    "android",
    "ingest",
    "billing",
    "search",
    "auth",
    "warehouse",
    "cli",
];

/// Ids and timestamps derived from the seed: UUIDv7 still, so they sort by
/// creation like real ones.
struct Gen {
    rng: StdRng,
    clock: DateTime<Utc>,
}

impl Gen {
    fn tick(&mut self) -> DateTime<Utc> {
        self.clock += Duration::milliseconds(1);
        self.clock
    }

    fn id(&mut self, at: DateTime<Utc>) -> Uuid {
        let bytes: [u8; 10] = self.rng.random();
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis() as u64, &bytes).into_uuid()
    }
}

/// Seeds `spec`. Delivery data needs `sealer` (repositories keep a sealed webhook secret);
/// without one it is left out, with a warning, and the rest is seeded as usual.
pub async fn seed(
    db: &DatabaseConnection,
    spec: SeedSpec,
    sealer: Option<&Sealer>,
    progress: &ProgressBar,
) -> AppResult<Vec<SeededOrg>> {
    let mut generator = Gen {
        rng: StdRng::seed_from_u64(spec.seed),
        clock: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_else(Utc::now),
    };
    let delivery = if spec.pull_requests == 0 {
        None
    } else {
        sealer
    };
    if spec.pull_requests > 0 && sealer.is_none() {
        tracing::warn!(
            "no key to seal repository webhook secrets ({}): seeding without repositories, \
             pull requests, deployments or incidents",
            crate::secrets::SECRET_KEY_VAR
        );
    }
    // Rows, and one step per project's delivery history.
    let per_org = 1 + spec.team_spaces + spec.developers + spec.projects;
    let per_org = per_org + if delivery.is_some() { spec.projects } else { 0 };
    progress.set_length((spec.orgs * per_org) as u64);
    let mut seeded = Vec::with_capacity(spec.orgs);
    for n in 0..spec.orgs {
        let base = ORG_NAMES[n % ORG_NAMES.len()];
        let name = match n / ORG_NAMES.len() {
            0 => base.to_owned(),
            round => format!("{base} {}", round + 1),
        };
        let slug = name.to_lowercase().replace(' ', "-");
        let exists = organization::Entity::find()
            .filter(organization::Column::Slug.eq(&slug))
            .one(db)
            .await?;
        if exists.is_some() {
            return Err(AppError::Conflict {
                message: format!("organization {slug:?} already exists; seed an empty database"),
                field: Some("slug".into()),
            });
        }
        let (mut org, people, projects) =
            seed_org(db, &mut generator, &spec, &name, &slug, progress).await?;
        let ids: Vec<Uuid> = projects.iter().map(|(id, _)| *id).collect();
        seed_activity(db, &mut generator, &spec, &org, &people, &ids).await?;
        if let Some(sealer) = delivery {
            let tenant = Tenant {
                org: &org,
                index: n,
                people: &people,
                projects: &projects,
            };
            org.delivery = seed_delivery(db, sealer, &spec, tenant, progress).await?;
        }
        seeded.push(org);
    }
    progress.finish_and_clear();
    Ok(seeded)
}

async fn seed_org(
    db: &DatabaseConnection,
    g: &mut Gen,
    spec: &SeedSpec,
    name: &str,
    slug: &str,
    progress: &ProgressBar,
) -> AppResult<(SeededOrg, Vec<String>, Vec<(Uuid, String)>)> {
    let txn = db.begin().await?;
    let at = g.tick();
    let org_id = OrgId::from_db(g.id(at));
    organization::Entity::insert(organization::ActiveModel {
        id: Set(org_id.uuid()),
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        time_zone: Set("UTC".into()),
        // Long enough to keep every seeded day (the oldest one starts just
        // past `days` ago).
        event_retention_days: Set((spec.days as i32 + 1).max(90)),
        budget_in_flight: Set(None),
        budget_requests_per_minute: Set(None),
        budget_points_per_minute: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .exec(&txn)
    .await?;
    progress.inc(1);
    // From here on every row is written in this organization only.
    let ctx = TenantCtx::unsafe_system(org_id);
    let org = ctx.org_id().uuid();

    let mut spaces = Vec::with_capacity(spec.team_spaces);
    for i in 0..spec.team_spaces {
        let at = g.tick();
        let base = SPACE_NAMES[i % SPACE_NAMES.len()];
        let name = match i / SPACE_NAMES.len() {
            0 => base.to_owned(),
            round => format!("{base} {}", round + 1),
        };
        spaces.push(team_space::ActiveModel {
            organization_id: Set(org),
            id: Set(g.id(at)),
            slug: Set(name.to_lowercase().replace(' ', "-")),
            name: Set(name.clone()),
            description: Set(Some(format!("The {name} team"))),
            created_at: Set(at),
            updated_at: Set(at),
        });
    }
    let space_ids: Vec<Uuid> = spaces.iter().map(|s| *s.id.as_ref()).collect();
    insert_chunks(&txn, spaces, progress).await?;

    let mut developers = Vec::with_capacity(spec.developers);
    let mut members = Vec::new();
    let mut owner_email = String::new();
    for i in 0..spec.developers {
        let at = g.tick();
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len() + i) % LAST.len()];
        let email = format!(
            "{}.{}{}@{slug}.test",
            first.to_lowercase(),
            last.to_lowercase(),
            i + 1
        );
        let role = match i {
            0 => DeveloperRole::Owner,
            _ if i % 10 == 1 => DeveloperRole::Admin,
            _ if i % 10 == 9 => DeveloperRole::Viewer,
            _ => DeveloperRole::Member,
        };
        let email = if i == 0 {
            format!("owner@{slug}.test")
        } else {
            email
        };
        if i == 0 {
            owner_email = email.clone();
        }
        let id = g.id(at);
        if !space_ids.is_empty() {
            let how_many = g.rng.random_range(1..=3.min(space_ids.len()));
            for (k, pick) in sample(&mut g.rng, space_ids.len(), how_many)
                .into_iter()
                .enumerate()
            {
                members.push(team_space_member::ActiveModel {
                    organization_id: Set(org),
                    team_space_id: Set(space_ids[pick]),
                    developer_id: Set(id),
                    role: Set(if k == 0 && i % 7 == 0 {
                        TeamSpaceRole::Lead
                    } else {
                        TeamSpaceRole::Member
                    }),
                    created_at: Set(at),
                    updated_at: Set(at),
                });
            }
        }
        developers.push(developer::ActiveModel {
            organization_id: Set(org),
            id: Set(id),
            name: Set(format!("{first} {last}")),
            auth_subject: Set(format!("seed|{email}")),
            email: Set(email),
            role: Set(role),
            deactivated_at: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        });
    }
    let people: Vec<String> = developers
        .iter()
        .map(|d| d.email.as_ref().clone())
        .collect();
    insert_chunks(&txn, developers, progress).await?;
    insert_chunks(&txn, members, &ProgressBar::hidden()).await?;

    let mut projects = Vec::with_capacity(spec.projects);
    for i in 0..spec.projects {
        let at = g.tick();
        let base = PROJECT_NAMES[i % PROJECT_NAMES.len()];
        let name = match i / PROJECT_NAMES.len() {
            0 => base.to_owned(),
            round => format!("{base}-{}", round + 1),
        };
        // Every fifth project belongs to no team space, as in real orgs.
        let space = (!space_ids.is_empty() && i % 5 != 4).then(|| space_ids[i % space_ids.len()]);
        projects.push(project::ActiveModel {
            organization_id: Set(org),
            id: Set(g.id(at)),
            team_space_id: Set(space),
            slug: Set(name.clone()),
            name: Set(name),
            created_at: Set(at),
            updated_at: Set(at),
        });
    }
    let project_ids: Vec<(Uuid, String)> = projects
        .iter()
        .map(|p| (*p.id.as_ref(), p.slug.as_ref().clone()))
        .collect();
    insert_chunks(&txn, projects, progress).await?;
    txn.commit().await?;
    let org = SeededOrg {
        org_id,
        slug: slug.to_owned(),
        owner_email,
        delivery: DeliveryCounts::default(),
    };
    Ok((org, people, project_ids))
}

const EVENT_NAMES: &[&str] = &[
    "commit", "review", "deploy", "build", "merge", "comment", "incident", "release",
];

/// Days of activity before now, sent through the ingestion path in
/// batches, so rollups and event_meta are exactly what real traffic makes.
async fn seed_activity(
    db: &DatabaseConnection,
    g: &mut Gen,
    spec: &SeedSpec,
    org: &SeededOrg,
    people: &[String],
    projects: &[Uuid],
) -> AppResult<()> {
    if projects.is_empty() || people.is_empty() || spec.days == 0 {
        return Ok(());
    }
    let ctx = TenantCtx::unsafe_system(org.org_id);
    let limits = IngestLimits::default();
    let now = spec.until.unwrap_or_else(Utc::now);
    let mut batches: std::collections::BTreeMap<Uuid, Vec<EventInput>> = Default::default();
    let mut serial = 0u64;
    for back in (0..spec.days).rev() {
        for person in people {
            let n = g.rng.random_range(0..=spec.events_per_day * 2);
            for _ in 0..n {
                // Spread over the day, never past now.
                let seconds = g.rng.random_range(0..86_400i64);
                let at = Ord::min(
                    now - Duration::days(back as i64 + 1) + Duration::seconds(seconds),
                    now,
                );
                let project = projects[g.rng.random_range(0..projects.len())];
                let name = EVENT_NAMES[g.rng.random_range(0..EVENT_NAMES.len())];
                serial += 1;
                batches.entry(project).or_default().push(EventInput {
                    client_id: format!("seed-{serial}"),
                    name: name.to_owned(),
                    developer: Some(person.clone()),
                    occurred_at: at.to_rfc3339(),
                    properties: Some(
                        serde_json::json!({ "source": "seed", "size": g.rng.random_range(1..500) }),
                    ),
                });
            }
        }
    }
    for (project, events) in batches {
        for chunk in events.chunks(limits.max_events) {
            ingest(
                &ctx,
                db,
                &Live::off(),
                ProjectId::from_db(project),
                chunk.to_vec(),
                &limits,
            )
            .await?;
        }
    }
    Ok(())
}

/// Multi-row inserts, in chunks that stay under SQLite's bound-parameter limit.
async fn insert_chunks<A>(
    txn: &sea_orm::DatabaseTransaction,
    rows: Vec<A>,
    progress: &ProgressBar,
) -> AppResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(500));
        let n = rows.len() as u64;
        <A::Entity as EntityTrait>::insert_many(rows)
            .exec(txn)
            .await?;
        progress.inc(n);
        rows = rest;
    }
    Ok(())
}
