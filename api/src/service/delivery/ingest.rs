//! Storing a delivery's facts in one transaction, so that any arrival order of the same facts
//! ends in the same rows. How each table converges:
//!
//! - Rows a later delivery may overwrite (pull requests, reviews, incidents) keep the
//!   *greatest snapshot*: the source's "last changed" time first, then the state and the other
//!   fields, so two deliveries never tie and the newest always wins, whichever came last.
//! - Times that only move earlier (opened, first commit, first review, approval, a deployment's
//!   start) keep the minimum over everything seen.
//! - A deployment keeps its highest-ranked status: finished beats pending, and between two
//!   finished ones the later wins.
//! - Sets (commits, a deployment's pull requests) only grow.
//! - What refers to something not yet arrived refers to it by the source's key (a review to
//!   its pull request's number), and what is derived from several rows (a pull request's first
//!   review and first commit) is recomputed from them at the end of every delivery that touches
//!   one of them.
//!
//! An organization's deliveries are written one at a time (`begin_checked`): each reads what
//! the previous one committed, so no merge is lost between two concurrent ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use entity::{
    commit, deployment, deployment_pull_request, enums::DeploymentStatus, incident, pull_request,
    pull_request_review, repository, scoped::InOrg as _, webhook_delivery,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, sea_query::OnConflict,
};
use serde::Serialize;
use uuid::Uuid;

use super::{
    facts::{
        CommitFact, DeploymentFact, Facts, IdentityRef, IncidentFact, PullRequestFact, ReviewFact,
    },
    identity::{self, Resolved},
    metrics::Changed,
};
use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::{DeploymentId, IncidentId, ProjectId, PullRequestId, RepositoryId, ReviewId},
    permissions::{Action, authorize},
    service::{
        any_of::any_of,
        audit, begin_checked,
        live::{Change, Live},
        rollups::Writes,
        table,
    },
};

/// A webhook delivery: applied once, however often it is sent.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub repository: RepositoryId,
    /// The source's delivery id (`X-GitHub-Delivery`).
    pub id: String,
    /// The source's event name, kept for operators.
    pub event: String,
}

/// What a delivery stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingested {
    pub pull_requests: usize,
    pub reviews: usize,
    pub commits: usize,
    pub deployments: usize,
    pub incidents: usize,
    /// The delivery had been applied before; nothing was stored this time.
    pub duplicate: bool,
}

/// Stores `facts` (and records `delivery`, when they came in one) in one transaction. Every
/// repository and project they name must be the caller's (another organization's is NOT_FOUND,
/// like a missing one), and the caller must be allowed to record delivery data for each project.
pub async fn ingest(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    facts: Facts,
    delivery: Option<Delivery>,
) -> AppResult<Ingested> {
    ingest_audited(ctx, db, live, facts, delivery, None).await
}

/// `ingest`, with an audit row written in the same transaction (people's writes).
pub async fn ingest_audited(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    facts: Facts,
    delivery: Option<Delivery>,
    entry: Option<audit::Entry>,
) -> AppResult<Ingested> {
    let facts = to_micros(facts);
    let now = Utc::now().trunc_subsecs(6);
    let txn = begin_checked(ctx, db).await?;
    check_references(ctx, &txn, &facts, delivery.as_ref()).await?;
    if let Some(delivery) = &delivery
        && !record_delivery(ctx, &txn, delivery, now).await?
    {
        txn.rollback().await?;
        return Ok(Ingested {
            duplicate: true,
            ..Ingested::default()
        });
    }
    let refs = identities_of(&facts);
    let people = identity::resolve(ctx, &txn, &refs, now, identity::Touch::LastSeen).await?;
    let mut touched = Touched::default();
    let stored = Ingested {
        commits: store_commits(ctx, &txn, &facts.commits, &people, now, &mut touched).await?,
        pull_requests: store_pull_requests(ctx, &txn, &facts.pull_requests, &people, now).await?,
        reviews: store_reviews(ctx, &txn, &facts.reviews, &people, now).await?,
        deployments: store_deployments(ctx, &txn, &facts.deployments, now).await?,
        incidents: store_incidents(ctx, &txn, &facts.incidents, now).await?,
        duplicate: false,
    };
    touched.note_facts(&facts);
    let derived = derive(ctx, &txn, &touched, now).await?;
    super::metrics::refresh(ctx, &txn, changed(&facts, derived)).await?;
    if let Some(entry) = entry {
        audit::record(ctx, &txn, entry).await?;
    }
    live.commit(txn, Change::delivery(ctx.org_id())).await?;
    Ok(stored)
}

/// Database times keep microseconds: a fact compared with its own stored copy must be equal.
fn to_micros(mut facts: Facts) -> Facts {
    let t = |at: &mut DateTime<Utc>| *at = at.trunc_subsecs(6);
    let o = |at: &mut Option<DateTime<Utc>>| {
        if let Some(at) = at {
            *at = at.trunc_subsecs(6);
        }
    };
    for p in &mut facts.pull_requests {
        t(&mut p.opened_at);
        t(&mut p.updated_at);
        o(&mut p.first_commit_at);
        o(&mut p.merged_at);
        o(&mut p.closed_at);
    }
    for r in &mut facts.reviews {
        t(&mut r.submitted_at);
        t(&mut r.updated_at);
    }
    for c in &mut facts.commits {
        t(&mut c.authored_at);
    }
    for d in &mut facts.deployments {
        t(&mut d.started_at);
        t(&mut d.status_at);
    }
    for i in &mut facts.incidents {
        t(&mut i.opened_at);
        t(&mut i.updated_at);
        o(&mut i.resolved_at);
    }
    facts
}

/// Every repository and project named must be the caller's, a repository named beside a project
/// must belong to it, and the caller may record delivery data for every project involved.
async fn check_references(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    facts: &Facts,
    delivery: Option<&Delivery>,
) -> AppResult<()> {
    let mut repositories: BTreeSet<RepositoryId> = BTreeSet::new();
    repositories.extend(facts.pull_requests.iter().map(|p| p.repository));
    repositories.extend(facts.reviews.iter().map(|r| r.repository));
    repositories.extend(facts.commits.iter().map(|c| c.repository));
    repositories.extend(facts.deployments.iter().filter_map(|d| d.repository));
    repositories.extend(facts.incidents.iter().filter_map(|i| i.repository));
    repositories.extend(delivery.map(|d| d.repository));
    let ids: Vec<RepositoryId> = repositories.iter().copied().collect();
    let found: HashMap<Uuid, Uuid> = table::by_ids::<repository::Entity>(ctx, txn, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r.project_id))
        .collect();
    if found.len() != ids.len() {
        return Err(AppError::not_found("repository"));
    }
    let mut projects: BTreeSet<Uuid> = found.values().copied().collect();
    let named = facts
        .deployments
        .iter()
        .map(|d| (d.project, d.repository))
        .chain(facts.incidents.iter().map(|i| (i.project, i.repository)));
    for (project, repository) in named {
        if let Some(repository) = repository
            && found.get(&repository.uuid()) != Some(&project.uuid())
        {
            return Err(AppError::bad_input(
                "a deployment or incident names a repository of another project",
            ));
        }
        projects.insert(project.uuid());
    }
    let ids: Vec<ProjectId> = projects.iter().copied().map(ProjectId::from_db).collect();
    let known = table::by_ids::<entity::project::Entity>(ctx, txn, &ids).await?;
    if known.len() != ids.len() {
        return Err(AppError::not_found("project"));
    }
    for project in ids {
        authorize(ctx, txn, Action::RecordDelivery(project)).await?;
    }
    Ok(())
}

/// Records the delivery id; false when it was recorded before (a redelivery).
async fn record_delivery(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    delivery: &Delivery,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let row = webhook_delivery::ActiveModel {
        organization_id: Set(ctx.org_id().uuid()),
        id: Set(Uuid::now_v7()),
        repository_id: Set(delivery.repository.uuid()),
        delivery_id: Set(delivery.id.clone()),
        event: Set(delivery.event.clone()),
        received_at: Set(now),
    };
    let inserted = webhook_delivery::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                webhook_delivery::Column::OrganizationId,
                webhook_delivery::Column::RepositoryId,
                webhook_delivery::Column::DeliveryId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(inserted > 0)
}

fn identities_of(facts: &Facts) -> BTreeSet<IdentityRef> {
    let mut refs = BTreeSet::new();
    refs.extend(facts.pull_requests.iter().filter_map(|p| p.author.clone()));
    refs.extend(facts.reviews.iter().filter_map(|r| r.reviewer.clone()));
    refs.extend(facts.commits.iter().filter_map(|c| c.author.clone()));
    refs
}

type People = HashMap<IdentityRef, Resolved>;

fn person(people: &People, who: Option<&IdentityRef>) -> (Option<Uuid>, Option<Uuid>) {
    match who.and_then(|r| people.get(r)) {
        Some(p) => (Some(p.id.uuid()), p.developer.map(|d| d.uuid())),
        None => (None, None),
    }
}

/// Pull requests whose derived times a delivery may have changed.
#[derive(Default)]
struct Touched {
    /// By repository: numbers.
    numbers: BTreeMap<Uuid, BTreeSet<i32>>,
    /// By repository: branches that received commits.
    branches: BTreeMap<Uuid, BTreeSet<String>>,
}

impl Touched {
    fn note_facts(&mut self, facts: &Facts) {
        for p in &facts.pull_requests {
            self.numbers
                .entry(p.repository.uuid())
                .or_default()
                .insert(p.number);
        }
        for r in &facts.reviews {
            self.numbers
                .entry(r.repository.uuid())
                .or_default()
                .insert(r.pull_request_number);
        }
    }
}

// Commits ------------------------------------------------------------------------------------

async fn store_commits(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    facts: &[CommitFact],
    people: &People,
    now: DateTime<Utc>,
    touched: &mut Touched,
) -> AppResult<usize> {
    use commit::Column as C;
    // One insert per kind of author (unknown, an unlinked identity, a developer's): arrays of
    // bound values cannot hold NULLs, so each kind leaves out the columns it has none for.
    let mut by_kind: BTreeMap<(bool, bool), Vec<Vec<sea_orm::Value>>> = BTreeMap::new();
    let org = ctx.org_id().uuid();
    let mut seen = BTreeSet::new();
    for c in facts {
        // The same commit twice in one delivery: the first copy stands, as for stored ones.
        if !seen.insert((c.repository, c.branch.as_str(), c.sha.as_str())) {
            continue;
        }
        let (identity, author) = person(people, c.author.as_ref());
        let mut row: Vec<sea_orm::Value> = vec![
            org.into(),
            Uuid::now_v7().into(),
            c.repository.uuid().into(),
            c.sha.clone().into(),
            c.branch.clone().into(),
            c.authored_at.into(),
            c.message.clone().into(),
            now.into(),
        ];
        row.extend(identity.map(sea_orm::Value::from));
        row.extend(author.map(sea_orm::Value::from));
        by_kind
            .entry((identity.is_some(), author.is_some()))
            .or_default()
            .push(row);
        touched
            .branches
            .entry(c.repository.uuid())
            .or_default()
            .insert(c.branch.clone());
    }
    // A commit on a branch is a fact that never changes: the first copy stands.
    let on_conflict = OnConflict::columns([C::OrganizationId, C::RepositoryId, C::Branch, C::Sha])
        .do_nothing()
        .to_owned();
    let mut writes = Writes::new(txn);
    for ((has_identity, has_author), rows) in by_kind {
        let mut columns = vec![
            C::OrganizationId,
            C::Id,
            C::RepositoryId,
            C::Sha,
            C::Branch,
            C::AuthoredAt,
            C::Message,
            C::CreatedAt,
        ];
        columns.extend(has_identity.then_some(C::AuthorIdentityId));
        columns.extend(has_author.then_some(C::AuthorId));
        writes.upsert::<commit::Entity>(columns, rows, on_conflict.clone())?;
    }
    writes.run(txn).await?;
    Ok(facts.len())
}

// Pull requests ------------------------------------------------------------------------------

/// What decides which of two versions of a pull request is newer: the source's time first; the
/// rest only breaks ties, so that equal times still pick the same version in any order.
type PullRequestVersion = (
    DateTime<Utc>,
    entity::enums::PullRequestState,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    String,
    Option<String>,
    Option<String>,
    Option<Uuid>,
);

fn pr_version(m: &pull_request::Model) -> PullRequestVersion {
    (
        m.source_updated_at,
        m.state,
        m.merged_at,
        m.closed_at,
        m.title.clone(),
        m.head_ref.clone(),
        m.merge_commit_sha.clone(),
        m.author_identity_id,
    )
}

/// The stored pull request after `fact`: the newer version's fields, the earliest times.
pub(crate) fn merge_pull_request(
    existing: Option<&pull_request::Model>,
    fact: &PullRequestFact,
    author: (Option<Uuid>, Option<Uuid>),
    org: Uuid,
    now: DateTime<Utc>,
) -> pull_request::Model {
    let incoming = pull_request::Model {
        organization_id: org,
        id: existing.map_or_else(|| PullRequestId::new().uuid(), |e| e.id),
        repository_id: fact.repository.uuid(),
        number: fact.number,
        title: fact.title.clone(),
        state: fact.state,
        author_identity_id: author.0,
        author_id: author.1,
        opened_at: fact.opened_at,
        first_commit_at: fact.first_commit_at,
        first_review_at: None,
        approved_at: None,
        merged_at: fact.merged_at,
        closed_at: fact.closed_at,
        additions: fact.size.map_or(0, |s| s.additions),
        deletions: fact.size.map_or(0, |s| s.deletions),
        changed_files: fact.size.map_or(0, |s| s.changed_files),
        size_updated_at: fact.size.map(|_| fact.updated_at),
        head_ref: fact.head_ref.clone(),
        merge_commit_sha: fact.merge_commit_sha.clone(),
        source_updated_at: fact.updated_at,
        created_at: existing.map_or(now, |e| e.created_at),
        updated_at: now,
    };
    let Some(existing) = existing else {
        return incoming;
    };
    let mut merged = if pr_version(&incoming) > pr_version(existing) {
        incoming.clone()
    } else {
        existing.clone()
    };
    merged.opened_at = existing.opened_at.min(incoming.opened_at);
    merged.first_commit_at = earliest(existing.first_commit_at, incoming.first_commit_at);
    // The size of the newest delivery that said one.
    let sized = |m: &pull_request::Model| {
        m.size_updated_at
            .map(|at| (at, m.additions, m.deletions, m.changed_files))
    };
    if let Some((at, additions, deletions, changed_files)) = sized(existing).max(sized(&incoming)) {
        merged.size_updated_at = Some(at);
        merged.additions = additions;
        merged.deletions = deletions;
        merged.changed_files = changed_files;
    }
    merged.first_review_at = existing.first_review_at;
    merged.approved_at = existing.approved_at;
    merged.updated_at = now;
    merged
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn store_pull_requests(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    facts: &[PullRequestFact],
    people: &People,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if facts.is_empty() {
        return Ok(0);
    }
    let keys: Vec<(Uuid, i32)> = facts
        .iter()
        .map(|f| (f.repository.uuid(), f.number))
        .collect();
    let mut stored = pull_requests_by_number(ctx, txn, &keys).await?;
    let org = ctx.org_id().uuid();
    for fact in facts {
        let key = (fact.repository.uuid(), fact.number);
        let existing = stored.get(&key);
        let merged = merge_pull_request(
            existing,
            fact,
            person(people, fact.author.as_ref()),
            org,
            now,
        );
        // `updated_at` is ours, always now: compare the rest.
        let changed = existing.is_none_or(|e| {
            let same_time = pull_request::Model {
                updated_at: e.updated_at,
                ..merged.clone()
            };
            &same_time != e
        });
        if changed {
            save(txn, existing.is_some(), merged.clone().into_active_model()).await?;
        }
        stored.insert(key, merged);
    }
    Ok(facts.len())
}

/// Inserts a new row or rewrites every column of an existing one.
async fn save<A>(txn: &impl ConnectionTrait, exists: bool, row: A) -> AppResult<()>
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    // A model converts to a row of unchanged values; every one may have changed.
    let row = row.reset_all();
    if exists {
        row.update(txn).await?;
    } else {
        row.insert(txn).await?;
    }
    Ok(())
}

/// The stored pull requests of these (repository, number) pairs, in one statement.
pub(crate) async fn pull_requests_by_number(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    keys: &[(Uuid, i32)],
) -> AppResult<HashMap<(Uuid, i32), pull_request::Model>> {
    use pull_request::Column as C;
    let wanted: BTreeSet<(Uuid, i32)> = keys.iter().copied().collect();
    let repositories = keys.iter().map(|k| k.0).collect();
    let numbers: BTreeSet<i32> = keys.iter().map(|k| k.1).collect();
    let rows = stored_by::<pull_request::Entity, _>(
        ctx,
        txn,
        (C::RepositoryId, C::Number),
        repositories,
        numbers,
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| wanted.contains(&(r.repository_id, r.number)))
        .map(|r| ((r.repository_id, r.number), r))
        .collect())
}

/// The stored rows of `E` whose `(scope, key)` may be among the given pairs, in one statement
/// (each set one parameter); callers keep the exact pairs they asked for.
pub(crate) async fn stored_by<E, K>(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    (scope, key): (E::Column, E::Column),
    scopes: BTreeSet<Uuid>,
    keys: BTreeSet<K>,
) -> AppResult<Vec<E::Model>>
where
    E: entity::scoped::InOrg,
    K: crate::service::any_of::SetMember,
{
    let backend = txn.get_database_backend();
    Ok(E::find_in(ctx.org_id())
        .filter(any_of(backend, scope.into_expr(), scopes))
        .filter(any_of(backend, key.into_expr(), keys))
        .all(txn)
        .await?)
}

// Reviews ------------------------------------------------------------------------------------

type ReviewVersion = (
    DateTime<Utc>,
    entity::enums::ReviewState,
    DateTime<Utc>,
    i32,
    Option<Uuid>,
);

fn review_version(m: &pull_request_review::Model) -> ReviewVersion {
    (
        m.source_updated_at,
        m.state,
        m.submitted_at,
        m.pull_request_number,
        m.reviewer_identity_id,
    )
}

pub(crate) fn merge_review(
    existing: Option<&pull_request_review::Model>,
    fact: &ReviewFact,
    reviewer: (Option<Uuid>, Option<Uuid>),
    org: Uuid,
    now: DateTime<Utc>,
) -> pull_request_review::Model {
    let incoming = pull_request_review::Model {
        organization_id: org,
        id: existing.map_or_else(|| ReviewId::new().uuid(), |e| e.id),
        repository_id: fact.repository.uuid(),
        pull_request_number: fact.pull_request_number,
        pull_request_id: existing.and_then(|e| e.pull_request_id),
        external_id: fact.external_id.clone(),
        reviewer_identity_id: reviewer.0,
        reviewer_id: reviewer.1,
        state: fact.state,
        submitted_at: fact.submitted_at,
        source_updated_at: fact.updated_at,
        created_at: existing.map_or(now, |e| e.created_at),
        updated_at: now,
    };
    match existing {
        Some(existing) if review_version(existing) >= review_version(&incoming) => existing.clone(),
        _ => incoming,
    }
}

async fn store_reviews(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    facts: &[ReviewFact],
    people: &People,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if facts.is_empty() {
        return Ok(0);
    }
    use pull_request_review::Column as C;
    let repositories = facts.iter().map(|f| f.repository.uuid()).collect();
    let external: BTreeSet<&str> = facts.iter().map(|f| f.external_id.as_str()).collect();
    let columns = (C::RepositoryId, C::ExternalId);
    let rows =
        stored_by::<pull_request_review::Entity, _>(ctx, txn, columns, repositories, external)
            .await?;
    let mut stored: HashMap<(Uuid, String), pull_request_review::Model> = rows
        .into_iter()
        .map(|r| ((r.repository_id, r.external_id.clone()), r))
        .collect();
    let org = ctx.org_id().uuid();
    for fact in facts {
        let key = (fact.repository.uuid(), fact.external_id.clone());
        let existing = stored.get(&key);
        let merged = merge_review(
            existing,
            fact,
            person(people, fact.reviewer.as_ref()),
            org,
            now,
        );
        if existing.is_none_or(|e| review_version(e) != review_version(&merged)) {
            save(txn, existing.is_some(), merged.clone().into_active_model()).await?;
        }
        stored.insert(key, merged);
    }
    Ok(facts.len())
}

// Deployments --------------------------------------------------------------------------------

/// A finished status outranks pending; between two finished ones the later wins; the rest
/// breaks ties.
type DeploymentRank = (
    bool,
    DateTime<Utc>,
    DeploymentStatus,
    Option<String>,
    String,
    entity::enums::EnvironmentTier,
    Option<Uuid>,
);

fn deployment_rank(m: &deployment::Model) -> DeploymentRank {
    (
        m.status != DeploymentStatus::Pending,
        m.status_at,
        m.status,
        m.sha.clone(),
        m.environment.clone(),
        m.tier,
        m.repository_id,
    )
}

pub(crate) fn merge_deployment(
    existing: Option<&deployment::Model>,
    fact: &DeploymentFact,
    org: Uuid,
    now: DateTime<Utc>,
) -> deployment::Model {
    let finished = fact.status != DeploymentStatus::Pending;
    let incoming = deployment::Model {
        organization_id: org,
        id: existing.map_or_else(|| DeploymentId::new().uuid(), |e| e.id),
        project_id: fact.project.uuid(),
        repository_id: fact.repository.map(RepositoryId::uuid),
        external_id: fact.external_id.clone(),
        environment: fact.environment.clone(),
        tier: fact.tier,
        status: fact.status,
        sha: fact.sha.clone(),
        started_at: fact.started_at,
        finished_at: finished.then_some(fact.status_at),
        status_at: fact.status_at,
        created_at: existing.map_or(now, |e| e.created_at),
        updated_at: now,
    };
    let Some(existing) = existing else {
        return incoming;
    };
    let mut merged = if deployment_rank(&incoming) > deployment_rank(existing) {
        incoming.clone()
    } else {
        existing.clone()
    };
    merged.started_at = existing.started_at.min(incoming.started_at);
    merged.updated_at = now;
    merged
}

async fn store_deployments(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    facts: &[DeploymentFact],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if facts.is_empty() {
        return Ok(0);
    }
    use deployment::Column as C;
    let projects = facts.iter().map(|f| f.project.uuid()).collect();
    let external: BTreeSet<&str> = facts.iter().map(|f| f.external_id.as_str()).collect();
    let columns = (C::ProjectId, C::ExternalId);
    let rows = stored_by::<deployment::Entity, _>(ctx, txn, columns, projects, external).await?;
    let mut links: BTreeSet<(Uuid, Uuid, i32)> = BTreeSet::new();
    let mut stored: HashMap<(Uuid, String), deployment::Model> = rows
        .into_iter()
        .map(|d| ((d.project_id, d.external_id.clone()), d))
        .collect();
    let org = ctx.org_id().uuid();
    for fact in facts {
        let key = (fact.project.uuid(), fact.external_id.clone());
        let existing = stored.get(&key);
        let merged = merge_deployment(existing, fact, org, now);
        let changed = existing.is_none_or(|e| {
            deployment_rank(e) != deployment_rank(&merged) || e.started_at != merged.started_at
        });
        if changed {
            save(txn, existing.is_some(), merged.clone().into_active_model()).await?;
        }
        if let Some(repository) = fact.repository {
            for number in &fact.pull_requests {
                links.insert((merged.id, repository.uuid(), *number));
            }
        }
        stored.insert(key, merged);
    }
    // The shipped pull requests of every deployment: one statement (arrays on PostgreSQL).
    use deployment_pull_request::Column as L;
    let columns = [
        L::OrganizationId,
        L::DeploymentId,
        L::RepositoryId,
        L::PullRequestNumber,
    ];
    let on_conflict = OnConflict::columns(columns).do_nothing().to_owned();
    let rows = links.into_iter().map(|(deployment, repository, number)| {
        vec![
            org.into(),
            deployment.into(),
            repository.into(),
            number.into(),
        ]
    });
    let mut writes = Writes::new(txn);
    writes.upsert::<deployment_pull_request::Entity>(columns, rows, on_conflict)?;
    writes.run(txn).await?;
    Ok(facts.len())
}

// Incidents ----------------------------------------------------------------------------------

type IncidentVersion = (
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
    Option<String>,
    Option<Uuid>,
);

fn incident_version(m: &incident::Model) -> IncidentVersion {
    (
        m.source_updated_at,
        m.resolved_at,
        m.title.clone(),
        m.caused_by.clone(),
        m.repository_id,
    )
}

pub(crate) fn merge_incident(
    existing: Option<&incident::Model>,
    fact: &IncidentFact,
    org: Uuid,
    now: DateTime<Utc>,
) -> incident::Model {
    let incoming = incident::Model {
        organization_id: org,
        id: existing.map_or_else(|| IncidentId::new().uuid(), |e| e.id),
        project_id: fact.project.uuid(),
        repository_id: fact.repository.map(RepositoryId::uuid),
        external_id: fact.external_id.clone(),
        title: fact.title.clone(),
        opened_at: fact.opened_at,
        resolved_at: fact.resolved_at,
        caused_by: fact.caused_by.clone(),
        source_updated_at: fact.updated_at,
        created_at: existing.map_or(now, |e| e.created_at),
        updated_at: now,
    };
    let Some(existing) = existing else {
        return incoming;
    };
    let mut merged = if incident_version(&incoming) > incident_version(existing) {
        incoming.clone()
    } else {
        existing.clone()
    };
    merged.opened_at = existing.opened_at.min(incoming.opened_at);
    merged.updated_at = now;
    merged
}

async fn store_incidents(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    facts: &[IncidentFact],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if facts.is_empty() {
        return Ok(0);
    }
    use incident::Column as C;
    let projects = facts.iter().map(|f| f.project.uuid()).collect();
    let external: BTreeSet<&str> = facts.iter().map(|f| f.external_id.as_str()).collect();
    let columns = (C::ProjectId, C::ExternalId);
    let rows = stored_by::<incident::Entity, _>(ctx, txn, columns, projects, external).await?;
    let mut stored: HashMap<(Uuid, String), incident::Model> = rows
        .into_iter()
        .map(|i| ((i.project_id, i.external_id.clone()), i))
        .collect();
    let org = ctx.org_id().uuid();
    for fact in facts {
        let key = (fact.project.uuid(), fact.external_id.clone());
        let existing = stored.get(&key);
        let merged = merge_incident(existing, fact, org, now);
        let changed = existing.is_none_or(|e| {
            incident_version(e) != incident_version(&merged) || e.opened_at != merged.opened_at
        });
        if changed {
            save(txn, existing.is_some(), merged.clone().into_active_model()).await?;
        }
        stored.insert(key, merged);
    }
    Ok(facts.len())
}

// Derived times ------------------------------------------------------------------------------

/// Recomputes what a pull request's row derives from other rows, for every pull request the
/// delivery touched: the first review and approval (from reviews by someone other than the
/// author), the first commit (from the commits pushed to its head branch, and the earliest time
/// any source reported), and the reviews' link to it.
/// What the delivery changed, for the metrics: its facts, and the pull requests whose derived
/// times it may have moved.
fn changed(facts: &Facts, derived: BTreeSet<(Uuid, i32)>) -> Changed {
    let mut changed = Changed {
        pull_requests: derived,
        ..Changed::default()
    };
    let prs = facts.pull_requests.iter();
    (changed.pull_requests).extend(prs.map(|p| (p.repository.uuid(), p.number)));
    for r in &facts.reviews {
        let key = (r.repository.uuid(), r.external_id.clone());
        changed.reviews.insert(key);
    }
    for d in &facts.deployments {
        let key = (d.project.uuid(), d.external_id.clone());
        changed.deployments.insert(key);
    }
    for i in &facts.incidents {
        let key = (i.project.uuid(), i.external_id.clone());
        changed.incidents.insert(key);
    }
    changed
}

/// Recomputes the derived times of the pull requests the delivery touched; returns them all,
/// by (repository, number).
async fn derive(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    touched: &Touched,
    now: DateTime<Utc>,
) -> AppResult<BTreeSet<(Uuid, i32)>> {
    let backend = txn.get_database_backend();
    let mut prs: HashMap<Uuid, pull_request::Model> = HashMap::new();
    let keys: Vec<(Uuid, i32)> = touched
        .numbers
        .iter()
        .flat_map(|(repo, numbers)| numbers.iter().map(|n| (*repo, *n)))
        .collect();
    if !keys.is_empty() {
        for (_, pr) in pull_requests_by_number(ctx, txn, &keys).await? {
            prs.insert(pr.id, pr);
        }
    }
    if !touched.branches.is_empty() {
        let repositories: BTreeSet<Uuid> = touched.branches.keys().copied().collect();
        let branches: BTreeSet<&str> = touched
            .branches
            .values()
            .flatten()
            .map(String::as_str)
            .collect();
        let rows = pull_request::Entity::find_in(ctx.org_id())
            .filter(any_of(
                backend,
                pull_request::Column::RepositoryId.into_expr(),
                repositories,
            ))
            .filter(any_of(
                backend,
                pull_request::Column::HeadRef.into_expr(),
                branches,
            ))
            .all(txn)
            .await?;
        for pr in rows {
            let on_touched_branch = pr.head_ref.as_ref().is_some_and(|b| {
                touched
                    .branches
                    .get(&pr.repository_id)
                    .is_some_and(|set| set.contains(b))
            });
            if on_touched_branch {
                prs.insert(pr.id, pr);
            }
        }
    }
    if prs.is_empty() {
        return Ok(BTreeSet::new());
    }
    let repositories: BTreeSet<Uuid> = prs.values().map(|p| p.repository_id).collect();
    let numbers: BTreeSet<i32> = prs.values().map(|p| p.number).collect();
    let reviews = pull_request_review::Entity::find_in(ctx.org_id())
        .filter(any_of(
            backend,
            pull_request_review::Column::RepositoryId.into_expr(),
            repositories.iter().copied(),
        ))
        .filter(any_of(
            backend,
            pull_request_review::Column::PullRequestNumber.into_expr(),
            numbers,
        ))
        .all(txn)
        .await?;
    let branches: BTreeSet<&str> = prs.values().filter_map(|p| p.head_ref.as_deref()).collect();
    let commits = if branches.is_empty() {
        Vec::new()
    } else {
        commit::Entity::find_in(ctx.org_id())
            .filter(any_of(
                backend,
                commit::Column::RepositoryId.into_expr(),
                repositories.iter().copied(),
            ))
            .filter(any_of(
                backend,
                commit::Column::Branch.into_expr(),
                branches,
            ))
            .all(txn)
            .await?
    };
    let by_number: HashMap<(Uuid, i32), Uuid> = prs
        .values()
        .map(|p| ((p.repository_id, p.number), p.id))
        .collect();
    // Reviews that arrived before their pull request: linked now, one statement per pull
    // request.
    let mut unlinked: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for review in &reviews {
        let pr = by_number.get(&(review.repository_id, review.pull_request_number));
        if let Some(pr) = pr
            && review.pull_request_id != Some(*pr)
        {
            unlinked.entry(*pr).or_default().push(review.id);
        }
    }
    for (pr, ids) in unlinked {
        pull_request_review::Entity::update_in(ctx.org_id())
            .col_expr(
                pull_request_review::Column::PullRequestId,
                sea_orm::sea_query::Expr::value(pr),
            )
            .filter(any_of(
                backend,
                pull_request_review::Column::Id.into_expr(),
                ids,
            ))
            .exec(txn)
            .await?;
    }
    for pr in prs.values() {
        let derived = derived_times(pr, &reviews, &commits);
        let stored = Derived {
            first_review_at: pr.first_review_at,
            approved_at: pr.approved_at,
            first_commit_at: pr.first_commit_at,
        };
        if derived != stored {
            let mut row: pull_request::ActiveModel = pr.clone().into();
            row.first_review_at = Set(derived.first_review_at);
            row.approved_at = Set(derived.approved_at);
            row.first_commit_at = Set(derived.first_commit_at);
            row.updated_at = Set(now);
            row.update(txn).await?;
        }
    }
    Ok(prs.values().map(|p| (p.repository_id, p.number)).collect())
}

/// What a pull request's row derives from other rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Derived {
    pub first_review_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub first_commit_at: Option<DateTime<Utc>>,
}

pub(crate) fn derived_times(
    pr: &pull_request::Model,
    reviews: &[pull_request_review::Model],
    commits: &[commit::Model],
) -> Derived {
    let by_others = reviews.iter().filter(|r| {
        r.repository_id == pr.repository_id
            && r.pull_request_number == pr.number
            && (r.reviewer_identity_id.is_none() || r.reviewer_identity_id != pr.author_identity_id)
    });
    let mut first_review = None;
    let mut approved = None;
    for r in by_others {
        first_review = earliest(first_review, Some(r.submitted_at));
        if r.state == entity::enums::ReviewState::Approved {
            approved = earliest(approved, Some(r.submitted_at));
        }
    }
    let first_commit = commits
        .iter()
        .filter(|c| {
            c.repository_id == pr.repository_id && pr.head_ref.as_deref() == Some(&c.branch)
        })
        .map(|c| c.authored_at)
        .min();
    Derived {
        first_review_at: first_review,
        approved_at: approved,
        first_commit_at: earliest(pr.first_commit_at, first_commit),
    }
}
