//! Demo delivery data, the part of `seed` that fills the delivery tables: each project gets one
//! or two GitHub repositories, connected through `service::repository::connect` as an admin
//! would, and each repository a history over the seeded days (pull requests with commits on
//! their head branch, reviews, merges or abandonment; staging and production deployments that
//! ship the merged ones; incidents), sent as facts through `service::delivery::ingest`, so that
//! identities, derived review times and links are what a real source makes.
//!
//! Durations are log-normal, as measured cycle times are (most pull requests are picked up
//! within hours, a few wait days); people open, review and deploy on weekdays in working hours;
//! about one production deployment in eight fails, and some failures open an incident. Times
//! count back from now (or `--until`), like the activity events: the same seed and end give the
//! same data (without `--until`, which days are weekdays moves with the calendar). This part
//! draws from its own random stream, so seeding with or without it leaves the organizations,
//! people and events the same.

use chrono::{Duration, SubsecRound, Utc};
use entity::enums::{DeploymentStatus, EnvironmentTier, Provider};
use indicatif::ProgressBar;
use rand::{SeedableRng, rngs::StdRng};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::seed::{SeedSpec, SeededOrg};
use crate::{
    auth::TenantCtx,
    error::AppResult,
    ids::{ProjectId, RepositoryId},
    secrets::Sealer,
    service::{
        delivery::{
            Ingested,
            facts::{DeploymentFact, Facts},
            ingest,
        },
        live::Live,
        repository::{self, NewRepository},
    },
};

mod pull_requests;
mod releases;
mod story;

use releases::Target;
use story::Story;

/// What the delivery part of a seed stored in one organization.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub repositories: usize,
    pub pull_requests: usize,
    pub reviews: usize,
    pub commits: usize,
    pub deployments: usize,
    pub incidents: usize,
}

impl DeliveryCounts {
    fn add(&mut self, stored: &Ingested) {
        self.pull_requests += stored.pull_requests;
        self.reviews += stored.reviews;
        self.commits += stored.commits;
        self.deployments += stored.deployments;
        self.incidents += stored.incidents;
    }
}

/// Pull requests per ingestion (with their commits and reviews, about six facts each): large
/// enough that a transaction's fixed cost is spread, small enough to stay a plausible delivery.
const PULL_REQUESTS_PER_BATCH: usize = 50;
const DEPLOYMENTS_PER_BATCH: usize = 200;

/// The second repository of a project, when it has one, and its share of the project's pace.
const SECONDARY: &[&str] = &["infra", "sdk", "e2e", "config", "docs"];
const SECONDARY_SHARE: f64 = 0.4;
const SECOND_REPOSITORY: f64 = 0.4;

/// An organization `seed` made, as the delivery part needs it.
pub(super) struct Tenant<'a> {
    pub org: &'a SeededOrg,
    /// Its place in the seed's order: it picks the organization's random stream.
    pub index: usize,
    pub people: &'a [String],
    /// Ids and slugs.
    pub projects: &'a [(Uuid, String)],
}

/// One organization's delivery history: its repositories, pull requests, deployments and
/// incidents, drawn project by project and stored as they are drawn.
pub(super) async fn seed_delivery(
    db: &DatabaseConnection,
    sealer: &Sealer,
    spec: &SeedSpec,
    tenant: Tenant<'_>,
    progress: &ProgressBar,
) -> AppResult<DeliveryCounts> {
    let mut counts = DeliveryCounts::default();
    if spec.pull_requests == 0 || spec.days == 0 || tenant.people.is_empty() {
        return Ok(counts);
    }
    let ctx = TenantCtx::unsafe_system(tenant.org.org_id);
    // Its own stream (see the module's comment), distinct per organization.
    let rng = StdRng::seed_from_u64(spec.seed ^ 0x5eed_de11_0000_0000 ^ tenant.index as u64);
    // Whole seconds, as a source's timestamps are.
    let now = spec.until.unwrap_or_else(Utc::now).trunc_subsecs(0);
    let start = now - Duration::days(spec.days as i64);
    let mut story = Story::new(rng, tenant.people, start, now);
    let mut org = Seeding {
        ctx: &ctx,
        db,
        counts: &mut counts,
    };
    for (project, slug) in tenant.projects {
        let project = ProjectId::from_db(*project);
        let mut failed = Vec::new();
        for (full_name, share) in repository_names(&mut story, &tenant.org.slug, slug) {
            let repository = org.connect(sealer, &mut story, project, full_name).await?;
            let rate = spec.pull_requests as f64 * share;
            let (prs, merges) = story.pull_requests(repository, rate);
            for chunk in prs.chunks(PULL_REQUESTS_PER_BATCH) {
                org.send(chunk.iter().fold(Facts::default(), concat))
                    .await?;
            }
            let deployments = story.deployments(
                Target {
                    project,
                    repository,
                },
                &merges,
            );
            failed.extend(deployments.iter().filter(|d| is_failed_release(d)).cloned());
            for chunk in deployments.chunks(DEPLOYMENTS_PER_BATCH) {
                let deployments = chunk.to_vec();
                org.send(Facts {
                    deployments,
                    ..Facts::default()
                })
                .await?;
            }
        }
        let incidents = story.incidents(project, &failed, spec.days);
        org.send(Facts {
            incidents,
            ..Facts::default()
        })
        .await?;
        progress.inc(1);
    }
    Ok(counts)
}

/// Where one organization's delivery data goes, and what has gone so far.
struct Seeding<'a> {
    ctx: &'a TenantCtx,
    db: &'a DatabaseConnection,
    counts: &'a mut DeliveryCounts,
}

impl Seeding<'_> {
    /// Connects a GitHub repository to the project, as an admin would. Its webhook secret is
    /// dropped: no GitHub will sign deliveries for a demo repository (an admin who wants to
    /// try one rotates the secret).
    async fn connect(
        &mut self,
        sealer: &Sealer,
        story: &mut Story,
        project: ProjectId,
        full_name: String,
    ) -> AppResult<RepositoryId> {
        let input = NewRepository {
            project,
            provider: Provider::Github,
            external_id: Some(story.serial(900_000_000).to_string()),
            full_name,
            default_branch: Some("main".into()),
        };
        let made = repository::connect(self.ctx, self.db, Some(sealer), input).await?;
        self.counts.repositories += 1;
        Ok(RepositoryId::from_db(made.repository.id))
    }

    async fn send(&mut self, facts: Facts) -> AppResult<()> {
        if !facts.is_empty() {
            self.counts
                .add(&ingest(self.ctx, self.db, &Live::off(), facts, None).await?);
        }
        Ok(())
    }
}

fn concat(mut all: Facts, one: &Facts) -> Facts {
    all.pull_requests.extend(one.pull_requests.iter().cloned());
    all.reviews.extend(one.reviews.iter().cloned());
    all.commits.extend(one.commits.iter().cloned());
    all
}

/// `<org>/<project>`, and for some projects a second, quieter repository beside it.
fn repository_names(story: &mut Story, org: &str, project: &str) -> Vec<(String, f64)> {
    let mut names = vec![(format!("{org}/{project}"), 1.0)];
    if story.chance(SECOND_REPOSITORY) {
        let suffix = story.pick(SECONDARY);
        names.push((format!("{org}/{project}-{suffix}"), SECONDARY_SHARE));
    }
    names
}

fn is_failed_release(d: &DeploymentFact) -> bool {
    d.tier == EnvironmentTier::Production && d.status == DeploymentStatus::Failure
}
