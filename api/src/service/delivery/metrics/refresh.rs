//! Keeping `delivery_rollups` equal to the sum of every source's contributions, inside the
//! transaction that changes delivery data: the sources a change reaches are recomputed from
//! their stored rows (the definitions in `mod.rs`), what they contributed before is read back
//! from `delivery_contributions`, and the rollup gets the difference.
//!
//! A change reaches further than the rows it wrote:
//! - a pull request's author counts in the shares of the deployments that shipped it, and so in
//!   the incidents those deployments caused;
//! - a deployment's finish and status count in the deploy and lead times of the pull requests
//!   it shipped, and its authors in the shares of the incidents it caused;
//! - an incident marks its cause as failed.
//!
//! Every writer of delivery data holds the organization's row lock (`begin_checked`), so no two
//! refreshes of one organization interleave.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{
    delivery_contribution as ledger, delivery_rollup as rollup, deployment,
    deployment_pull_request as shipped, enums::DeploymentStatus, enums::EnvironmentTier, incident,
    pull_request, pull_request_review, repository, scoped::InOrg as _,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect as _, sea_query::OnConflict};
use uuid::Uuid;

use super::{Contributions, Counts, Key, Metric};
use crate::{
    auth::TenantCtx,
    error::AppResult,
    ids::{DeploymentId, IdentityId, RepositoryId},
    service::{
        any_of::any_of,
        delivery::ingest::{pull_requests_by_number, stored_by},
        rollups::Writes,
        table,
    },
};

/// What a change wrote, by the sources' own keys.
#[derive(Debug, Default, Clone)]
pub struct Changed {
    /// (repository, number)
    pub pull_requests: BTreeSet<(Uuid, i32)>,
    /// (repository, the source's review id)
    pub reviews: BTreeSet<(Uuid, String)>,
    /// (project, external id)
    pub deployments: BTreeSet<(Uuid, String)>,
    /// (project, external id)
    pub incidents: BTreeSet<(Uuid, String)>,
}

impl Changed {
    pub fn is_empty(&self) -> bool {
        self.pull_requests.is_empty()
            && self.reviews.is_empty()
            && self.deployments.is_empty()
            && self.incidents.is_empty()
    }
}

/// The sources a change reaches, as stored when they were gathered, with what each needs to be
/// recomputed.
#[derive(Debug, Default)]
pub struct Reach {
    /// Every source gathered, whose old contributions are taken back.
    ids: BTreeSet<Uuid>,
    /// Pull requests to recompute, by (repository, number).
    pull_requests: BTreeMap<(Uuid, i32), pull_request::Model>,
    reviews: Vec<pull_request_review::Model>,
    /// Deployments to recompute.
    deployments: BTreeSet<Uuid>,
    incidents: Vec<incident::Model>,
    /// Every deployment loaded: the ones recomputed, those that shipped a recomputed pull
    /// request, and the causes of recomputed incidents.
    loaded: HashMap<Uuid, deployment::Model>,
    /// (deployment, repository, number) for every loaded deployment's shipped pull requests
    /// that matter here.
    links: BTreeSet<(Uuid, Uuid, i32)>,
    /// Author of every pull request a loaded deployment shipped.
    authors: HashMap<(Uuid, i32), Option<Uuid>>,
    /// Repository → project.
    projects: HashMap<Uuid, Uuid>,
}

/// Recomputes what `changed` reaches, in `txn`.
pub async fn refresh(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    changed: Changed,
) -> AppResult<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let reach = gather(ctx, txn, &changed).await?;
    apply(ctx, txn, reach).await
}

/// The sources `changed` reaches, as stored now.
pub async fn gather(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    changed: &Changed,
) -> AppResult<Reach> {
    let mut reach = Reach::default();

    let incidents = by_keys::<incident::Entity>(
        ctx,
        txn,
        (incident::Column::ProjectId, incident::Column::ExternalId),
        &changed.incidents,
    )
    .await?;
    // Deployments recomputed: those written, and the causes of incidents written.
    let mut deployment_keys = changed.deployments.clone();
    deployment_keys.extend(cause_keys(&incidents));
    let written = by_keys::<deployment::Entity>(
        ctx,
        txn,
        (
            deployment::Column::ProjectId,
            deployment::Column::ExternalId,
        ),
        &deployment_keys,
    )
    .await?;
    let written_ids: BTreeSet<Uuid> = written.iter().map(|d| d.id).collect();
    reach.deployments.extend(&written_ids);
    reach.loaded.extend(written.into_iter().map(|d| (d.id, d)));

    // Pull requests recomputed: those written, and those the written deployments shipped.
    let mut pr_keys = changed.pull_requests.clone();
    let of_written = links_of(ctx, txn, &written_ids).await?;
    pr_keys.extend(of_written.iter().map(|l| (l.1, l.2)));
    reach.links.extend(of_written);
    // Every deployment that shipped one of them (for their deploy and lead times); those that
    // shipped a written pull request are recomputed too (their authors may have changed).
    let shipping = links_to(ctx, txn, &pr_keys).await?;
    let more: Vec<DeploymentId> = shipping
        .iter()
        .map(|l| l.0)
        .filter(|d| !reach.loaded.contains_key(d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(DeploymentId::from_db)
        .collect();
    if !more.is_empty() {
        for d in table::by_ids::<deployment::Entity>(ctx, txn, &more).await? {
            reach.loaded.insert(d.id, d);
        }
    }
    for link in &shipping {
        if changed.pull_requests.contains(&(link.1, link.2)) {
            reach.deployments.insert(link.0);
        }
    }
    reach.links.extend(shipping);
    // The rest of what the recomputed deployments shipped (their authors).
    let missing: BTreeSet<Uuid> = reach
        .deployments
        .iter()
        .filter(|d| !written_ids.contains(d))
        .copied()
        .collect();
    reach.links.extend(links_of(ctx, txn, &missing).await?);

    // Incidents recomputed: those written, and those the recomputed deployments caused.
    let recomputed_keys: BTreeSet<(Uuid, String)> = reach
        .deployments
        .iter()
        .filter_map(|d| reach.loaded.get(d))
        .map(|d| (d.project_id, d.external_id.clone()))
        .collect();
    let caused = if recomputed_keys.is_empty() {
        Vec::new()
    } else {
        stored_by::<incident::Entity, _>(
            ctx,
            txn,
            (incident::Column::ProjectId, incident::Column::CausedBy),
            recomputed_keys.iter().map(|k| k.0).collect(),
            recomputed_keys.iter().map(|k| k.1.clone()).collect(),
        )
        .await?
    };
    let mut by_id: BTreeMap<Uuid, incident::Model> =
        incidents.into_iter().map(|i| (i.id, i)).collect();
    for i in caused {
        let key = i.caused_by.clone().map(|c| (i.project_id, c));
        if key.is_some_and(|k| recomputed_keys.contains(&k)) {
            by_id.insert(i.id, i);
        }
    }
    reach.incidents = by_id.into_values().collect();
    // Their causes, when not loaded yet (an incident caused by an untouched deployment).
    let causes = cause_keys(&reach.incidents);
    let loaded_keys: BTreeSet<(Uuid, String)> = reach
        .loaded
        .values()
        .map(|d| (d.project_id, d.external_id.clone()))
        .collect();
    let unloaded: BTreeSet<(Uuid, String)> = causes.difference(&loaded_keys).cloned().collect();
    let found = by_keys::<deployment::Entity>(
        ctx,
        txn,
        (
            deployment::Column::ProjectId,
            deployment::Column::ExternalId,
        ),
        &unloaded,
    )
    .await?;
    let found_ids: BTreeSet<Uuid> = found.iter().map(|d| d.id).collect();
    reach.loaded.extend(found.into_iter().map(|d| (d.id, d)));
    reach.links.extend(links_of(ctx, txn, &found_ids).await?);

    // Every pull request named: recomputed ones, and those whose authors a share needs.
    let mut named: BTreeSet<(Uuid, i32)> = pr_keys.clone();
    named.extend(reach.links.iter().map(|l| (l.1, l.2)));
    let named: Vec<(Uuid, i32)> = named.into_iter().collect();
    let prs = if named.is_empty() {
        HashMap::new()
    } else {
        pull_requests_by_number(ctx, txn, &named).await?
    };
    for (key, pr) in prs {
        reach.authors.insert(key, pr.author_id);
        if pr_keys.contains(&key) {
            reach.pull_requests.insert(key, pr);
        }
    }

    use pull_request_review::Column as R;
    let keys = (R::RepositoryId, R::ExternalId);
    reach.reviews =
        by_keys::<pull_request_review::Entity>(ctx, txn, keys, &changed.reviews).await?;
    let repositories: Vec<RepositoryId> = reach
        .pull_requests
        .values()
        .map(|p| p.repository_id)
        .chain(reach.reviews.iter().map(|r| r.repository_id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(RepositoryId::from_db)
        .collect();
    if !repositories.is_empty() {
        reach.projects = table::by_ids::<repository::Entity>(ctx, txn, &repositories)
            .await?
            .into_iter()
            .map(|r| (r.id, r.project_id))
            .collect();
    }

    reach.ids.extend(reach.pull_requests.values().map(|p| p.id));
    reach.ids.extend(reach.reviews.iter().map(|r| r.id));
    reach.ids.extend(&reach.deployments);
    reach.ids.extend(reach.incidents.iter().map(|i| i.id));
    Ok(reach)
}

impl Reach {
    /// What remains once `repository` and everything it brought are deleted: its sources
    /// contribute nothing any more (their old contributions are still taken back).
    pub fn without_repository(mut self, repository: Uuid) -> Reach {
        self.pull_requests.retain(|k, _| k.0 != repository);
        self.reviews.retain(|r| r.repository_id != repository);
        let gone: BTreeSet<Uuid> = (self.loaded.values())
            .filter(|d| d.repository_id == Some(repository))
            .map(|d| d.id)
            .collect();
        self.deployments.retain(|d| !gone.contains(d));
        self.loaded.retain(|d, _| !gone.contains(d));
        self.links
            .retain(|l| !gone.contains(&l.0) && l.1 != repository);
        self.authors.retain(|k, _| k.0 != repository);
        self.incidents
            .retain(|i| i.repository_id != Some(repository));
        self
    }

    /// What the gathered sources contribute now.
    fn contributions(&self, tz: Tz) -> BTreeMap<Uuid, Counts> {
        let mut by_source: BTreeMap<Uuid, Counts> = BTreeMap::new();
        // Per pull request and tier: the first successful deployment to finish.
        let mut shipped: HashMap<(Uuid, i32), BTreeMap<EnvironmentTier, DateTime<Utc>>> =
            HashMap::new();
        for (d, repository, number) in &self.links {
            let Some(d) = self.loaded.get(d) else {
                continue;
            };
            if d.status != DeploymentStatus::Success {
                continue;
            }
            let finished = d.finished_at.unwrap_or(d.status_at);
            let first = shipped.entry((*repository, *number)).or_default();
            let at = first.entry(d.tier).or_insert(finished);
            *at = (*at).min(finished);
        }
        let none = BTreeMap::new();
        for (key, pr) in &self.pull_requests {
            let Some(project) = self.projects.get(&pr.repository_id) else {
                continue;
            };
            let out = by_source.entry(pr.id).or_default();
            let ships = shipped.get(key).unwrap_or(&none);
            Contributions { tz, out }.pull_request(pr, *project, ships);
        }
        for review in &self.reviews {
            let Some(project) = self.projects.get(&review.repository_id) else {
                continue;
            };
            let out = by_source.entry(review.id).or_default();
            Contributions { tz, out }.review(review, *project);
        }
        let authors = self.authors_of_deployments();
        let failed: BTreeSet<(Uuid, &str)> = self
            .incidents
            .iter()
            .filter_map(|i| i.caused_by.as_deref().map(|c| (i.project_id, c)))
            .collect();
        let empty = BTreeSet::new();
        for id in &self.deployments {
            let Some(d) = self.loaded.get(id) else {
                continue;
            };
            let out = by_source.entry(d.id).or_default();
            let caused = failed.contains(&(d.project_id, d.external_id.as_str()));
            let who = authors.get(id).unwrap_or(&empty);
            Contributions { tz, out }.deployment(d, who, caused);
        }
        let by_key: HashMap<(Uuid, &str), Uuid> = self
            .loaded
            .values()
            .map(|d| ((d.project_id, d.external_id.as_str()), d.id))
            .collect();
        for i in &self.incidents {
            let cause = (i.caused_by.as_deref())
                .and_then(|c| by_key.get(&(i.project_id, c)))
                .and_then(|d| authors.get(d))
                .unwrap_or(&empty);
            let out = by_source.entry(i.id).or_default();
            Contributions { tz, out }.incident(i, cause);
        }
        by_source
    }

    /// The known authors of what each loaded deployment shipped.
    fn authors_of_deployments(&self) -> HashMap<Uuid, BTreeSet<Uuid>> {
        let mut authors: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
        for (d, repository, number) in &self.links {
            let entry = authors.entry(*d).or_default();
            if let Some(Some(author)) = self.authors.get(&(*repository, *number)) {
                entry.insert(*author);
            }
        }
        authors
    }
}

/// Takes back what the gathered sources contributed and adds what they contribute now.
pub async fn apply(ctx: &TenantCtx, txn: &impl ConnectionTrait, reach: Reach) -> AppResult<()> {
    if reach.ids.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let org = crate::service::table::organization(ctx, txn).await?;
    let tz: Tz = org.time_zone.parse().unwrap_or(Tz::UTC);
    let now = reach.contributions(tz);
    let ids: Vec<Uuid> = reach.ids.iter().copied().collect();
    let before = ledger::Entity::find_in(ctx.org_id())
        .filter(any_of(backend, ledger::Column::SourceId.into_expr(), &ids))
        .all(txn)
        .await?;
    let mut diff: Counts = Counts::new();
    let mut unchanged: BTreeSet<Uuid> = BTreeSet::new();
    let mut old: BTreeMap<Uuid, Counts> = BTreeMap::new();
    for row in before {
        let Some(metric) = Metric::parse(&row.metric) else {
            continue;
        };
        let key = Key {
            project: row.project_id,
            developer: row.developer_id,
            day: row.day,
            tier: row.tier,
            metric,
            bucket: row.bucket,
        };
        *old.entry(row.source_id)
            .or_default()
            .entry(key)
            .or_default() += row.count;
    }
    let empty = Counts::new();
    for id in &reach.ids {
        let was = old.get(id).unwrap_or(&empty);
        let is = now.get(id).unwrap_or(&empty);
        if was == is {
            unchanged.insert(*id);
            continue;
        }
        for (key, n) in was {
            *diff.entry(key.clone()).or_default() -= n;
        }
        for (key, n) in is {
            *diff.entry(key.clone()).or_default() += n;
        }
    }
    let changed: Vec<Uuid> = reach.ids.difference(&unchanged).copied().collect();
    if changed.is_empty() {
        return Ok(());
    }
    ledger::Entity::delete_in(ctx.org_id())
        .filter(any_of(
            backend,
            ledger::Column::SourceId.into_expr(),
            &changed,
        ))
        .exec(txn)
        .await?;
    let org = ctx.org_id().uuid();
    let mut writes = Writes::new(txn);
    {
        use rollup::Column as C;
        let keys = [
            C::OrganizationId,
            C::ProjectId,
            C::DeveloperId,
            C::Day,
            C::Tier,
            C::Metric,
            C::Bucket,
        ];
        let rows: Vec<_> = diff.iter().map(|(k, n)| (values(org, k), *n)).collect();
        writes.add_counts::<rollup::Entity, 7>(keys, C::Count, &rows)?;
    }
    {
        use ledger::Column as L;
        let columns = [
            L::OrganizationId,
            L::SourceId,
            L::ProjectId,
            L::DeveloperId,
            L::Day,
            L::Tier,
            L::Metric,
            L::Bucket,
            L::Count,
        ];
        let rows = changed
            .iter()
            .filter_map(|id| now.get(id).map(|counts| (id, counts)))
            .flat_map(|(id, counts)| {
                counts.iter().filter(|(_, n)| **n != 0).map(move |(k, n)| {
                    let [o, p, d, day, t, m, b] = values(org, k);
                    vec![o, (*id).into(), p, d, day, t, m, b, (*n).into()]
                })
            });
        let on_conflict = OnConflict::columns(columns.into_iter().take(8))
            .update_column(L::Count)
            .to_owned();
        writes.upsert::<ledger::Entity>(columns, rows, on_conflict)?;
    }
    writes.run(txn).await?;
    // A recount has no rows of zero: drop the ones this emptied.
    let touched: BTreeSet<Uuid> = diff.keys().map(|k| k.project).collect();
    rollup::Entity::delete_in(ctx.org_id())
        .filter(any_of(
            backend,
            rollup::Column::ProjectId.into_expr(),
            &touched,
        ))
        .filter(rollup::Column::Count.eq(0))
        .exec(txn)
        .await?;
    Ok(())
}

/// A key's values, `organization_id` first.
fn values(org: Uuid, k: &Key) -> [sea_orm::Value; 7] {
    [
        org.into(),
        k.project.into(),
        k.developer.into(),
        k.day.into(),
        k.tier.clone().into(),
        k.metric.as_str().into(),
        k.bucket.into(),
    ]
}

fn cause_keys(incidents: &[incident::Model]) -> BTreeSet<(Uuid, String)> {
    incidents
        .iter()
        .filter_map(|i| i.caused_by.clone().map(|c| (i.project_id, c)))
        .collect()
}

/// Rows of `E` by `(scope, key)` pairs, exactly those; none asked, no statement.
async fn by_keys<E>(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    (scope, key): (E::Column, E::Column),
    keys: &BTreeSet<(Uuid, String)>,
) -> AppResult<Vec<E::Model>>
where
    E: entity::scoped::InOrg,
    E::Model: Keyed,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = stored_by::<E, _>(
        ctx,
        txn,
        (scope, key),
        keys.iter().map(|k| k.0).collect(),
        keys.iter().map(|k| k.1.clone()).collect(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| keys.contains(&r.key()))
        .collect())
}

/// A deployment's or incident's `(project, external id)`, a review's `(repository, review id)`.
trait Keyed {
    fn key(&self) -> (Uuid, String);
}

impl Keyed for deployment::Model {
    fn key(&self) -> (Uuid, String) {
        (self.project_id, self.external_id.clone())
    }
}

impl Keyed for pull_request_review::Model {
    fn key(&self) -> (Uuid, String) {
        (self.repository_id, self.external_id.clone())
    }
}

impl Keyed for incident::Model {
    fn key(&self) -> (Uuid, String) {
        (self.project_id, self.external_id.clone())
    }
}

/// What the deployments shipped: (deployment, repository, number).
async fn links_of(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    deployments: &BTreeSet<Uuid>,
) -> AppResult<Vec<(Uuid, Uuid, i32)>> {
    if deployments.is_empty() {
        return Ok(Vec::new());
    }
    let rows = shipped::Entity::find_in(ctx.org_id())
        .filter(any_of(
            txn.get_database_backend(),
            shipped::Column::DeploymentId.into_expr(),
            deployments,
        ))
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|l| (l.deployment_id, l.repository_id, l.pull_request_number))
        .collect())
}

/// Which deployments shipped the pull requests: (deployment, repository, number).
async fn links_to(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    pull_requests: &BTreeSet<(Uuid, i32)>,
) -> AppResult<Vec<(Uuid, Uuid, i32)>> {
    if pull_requests.is_empty() {
        return Ok(Vec::new());
    }
    let rows = stored_by::<shipped::Entity, _>(
        ctx,
        txn,
        (
            shipped::Column::RepositoryId,
            shipped::Column::PullRequestNumber,
        ),
        pull_requests.iter().map(|k| k.0).collect(),
        pull_requests.iter().map(|k| k.1).collect(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|l| pull_requests.contains(&(l.repository_id, l.pull_request_number)))
        .map(|l| (l.deployment_id, l.repository_id, l.pull_request_number))
        .collect())
}

/// Whose sources to list.
enum Whose {
    Organization,
    /// Everything a repository brought (before it is disconnected).
    Repository(Uuid),
    /// The pull requests and reviews of an identity (after a link or unlink moved them).
    Identity(IdentityId),
}

type Filter = Option<sea_orm::sea_query::SimpleExpr>;

/// The `(scope, key)` pairs of `E`'s rows: all of them (`Some(None)`), those a filter keeps
/// (`Some(Some(f))`), or none (`None`, no statement).
async fn pairs<E, A, B>(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    (scope, key): (E::Column, E::Column),
    filter: Option<Filter>,
) -> AppResult<Vec<(A, B)>>
where
    E: entity::scoped::InOrg,
    (A, B): sea_orm::TryGetableMany,
{
    let Some(filter) = filter else {
        return Ok(Vec::new());
    };
    let mut select = E::find_in(ctx.org_id()).select_only().columns([scope, key]);
    if let Some(filter) = filter {
        select = select.filter(filter);
    }
    Ok(select.into_tuple().all(txn).await?)
}

async fn sources(ctx: &TenantCtx, txn: &impl ConnectionTrait, whose: Whose) -> AppResult<Changed> {
    use {deployment::Column as D, incident::Column as I};
    use {pull_request::Column as P, pull_request_review::Column as R};
    // What each table keeps, given its repository and identity columns.
    let of = |repository: Option<fn(Uuid) -> sea_orm::sea_query::SimpleExpr>,
              identity: Option<fn(IdentityId) -> sea_orm::sea_query::SimpleExpr>|
     -> Option<Filter> {
        match whose {
            Whose::Organization => Some(None),
            Whose::Repository(r) => repository.map(|f| Some(f(r))),
            Whose::Identity(i) => identity.map(|f| Some(f(i))),
        }
    };
    let prs = of(
        Some(|r| P::RepositoryId.eq(r)),
        Some(|i| P::AuthorIdentityId.eq(i)),
    );
    let reviews = of(
        Some(|r| R::RepositoryId.eq(r)),
        Some(|i| R::ReviewerIdentityId.eq(i)),
    );
    let deployments = of(Some(|r| D::RepositoryId.eq(r)), None);
    let incidents = of(Some(|r| I::RepositoryId.eq(r)), None);
    let mut changed = Changed::default();
    let keys = (P::RepositoryId, P::Number);
    let found = pairs::<pull_request::Entity, _, _>(ctx, txn, keys, prs).await?;
    changed.pull_requests.extend(found);
    let keys = (R::RepositoryId, R::ExternalId);
    let found = pairs::<pull_request_review::Entity, _, _>(ctx, txn, keys, reviews).await?;
    changed.reviews.extend(found);
    let keys = (D::ProjectId, D::ExternalId);
    let found = pairs::<deployment::Entity, _, _>(ctx, txn, keys, deployments).await?;
    changed.deployments.extend(found);
    let keys = (I::ProjectId, I::ExternalId);
    let found = pairs::<incident::Entity, _, _>(ctx, txn, keys, incidents).await?;
    changed.incidents.extend(found);
    Ok(changed)
}

/// The sources of a repository (before it is disconnected): everything it brought.
pub async fn of_repository(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    repository: Uuid,
) -> AppResult<Changed> {
    sources(ctx, txn, Whose::Repository(repository)).await
}

/// The pull requests and reviews of an identity (after a link or unlink moved them).
pub async fn of_identity(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    identity: IdentityId,
) -> AppResult<Changed> {
    sources(ctx, txn, Whose::Identity(identity)).await
}

/// Recomputes the organization's delivery rollup whole (after a time-zone change moves its
/// days): `devgraph rollup rebuild` runs it after the events' rebuild. Returns the sources
/// counted.
pub async fn rebuild(ctx: &TenantCtx, db: &sea_orm::DatabaseConnection) -> AppResult<usize> {
    let txn = crate::service::begin_checked(ctx, db).await?;
    ledger::Entity::delete_in(ctx.org_id()).exec(&txn).await?;
    rollup::Entity::delete_in(ctx.org_id()).exec(&txn).await?;
    let all = sources(ctx, &txn, Whose::Organization).await?;
    let sources =
        all.pull_requests.len() + all.reviews.len() + all.deployments.len() + all.incidents.len();
    refresh(ctx, &txn, all).await?;
    txn.commit().await?;
    Ok(sources)
}
