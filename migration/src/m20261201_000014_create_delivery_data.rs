//! Creates the delivery data: developer identities, repositories, their commits, pull requests
//! and reviews, webhook deliveries (for de-duplication), deployments with the pull requests they
//! shipped, and incidents; and gives `events` the identity of a developer it could not match.
//!
//! Rows that refer to something that may arrive later refer to it by its natural key, not by a
//! foreign key: a review names its pull request by `(repository_id, pull_request_number)` (and
//! carries `pull_request_id` once the pull request exists), a deployment names the pull requests
//! it shipped by number, an incident names the deployment that caused it by its external id.
//! Deliveries arrive in any order, and none of them may be refused for coming first.
//!
//! Everything a repository brought goes with it when it is disconnected (cascading keys):
//! commits, pull requests, reviews, webhook deliveries, and the deployments and incidents its
//! webhooks reported. Identities stay with the organization: they are people, not history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261121_000001_create_organizations::Organizations;
use crate::m20261121_000002_create_developers::Developers;
use crate::m20261121_000004_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Identities {
    Table,
    Kind,
    Value,
    FirstSeenAt,
    LastSeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Repositories {
    Table,
    Provider,
    FullName,
    DefaultBranch,
    WebhookSecret,
}

#[derive(DeriveIden, Clone, Copy)]
enum Commits {
    Table,
    Sha,
    Branch,
    AuthoredAt,
    Message,
}

#[derive(DeriveIden, Clone, Copy)]
enum PullRequests {
    Table,
    Number,
    Title,
    State,
    OpenedAt,
    FirstCommitAt,
    FirstReviewAt,
    ApprovedAt,
    MergedAt,
    ClosedAt,
    Additions,
    Deletions,
    ChangedFiles,
    SizeUpdatedAt,
    HeadRef,
    MergeCommitSha,
}

#[derive(DeriveIden, Clone, Copy)]
enum PullRequestReviews {
    Table,
    PullRequestNumber,
    PullRequestId,
    ReviewerIdentityId,
    ReviewerId,
    State,
    SubmittedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookDeliveries {
    Table,
    DeliveryId,
    Event,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Deployments {
    Table,
    Environment,
    Tier,
    Status,
    Sha,
    StartedAt,
    FinishedAt,
    StatusAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DeploymentPullRequests {
    Table,
    DeploymentId,
    PullRequestNumber,
}

#[derive(DeriveIden, Clone, Copy)]
enum Incidents {
    Table,
    Title,
    OpenedAt,
    ResolvedAt,
    CausedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    IdentityId,
}

/// The columns several tables name alike.
#[derive(DeriveIden, Clone, Copy)]
enum Col {
    OrganizationId,
    Id,
    ProjectId,
    RepositoryId,
    DeveloperId,
    AuthorIdentityId,
    AuthorId,
    ExternalId,
    /// The source's own "last changed" time of a row that later deliveries may overwrite:
    /// the newer one wins whatever order they arrive in.
    SourceUpdatedAt,
    CreatedAt,
    UpdatedAt,
}

/// A tenant table keyed `(organization_id, id)`, deleted with its organization.
fn tenant_table(table: impl IntoIden + Copy + 'static, name: &str) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(uuid(Col::OrganizationId))
        .col(uuid(Col::Id))
        .primary_key(
            Index::create()
                .name(format!("pk_{name}"))
                .col(Col::OrganizationId)
                .col(Col::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_organization"))
                .from(table, Col::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// `(organization_id, <column>)` → `(organization_id, id)` of `parent`, cascading.
fn belongs_to(
    name: &str,
    table: impl IntoIden + 'static,
    column: Col,
    parent: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, (Col::OrganizationId, column))
        .to(parent, (Col::OrganizationId, Col::Id))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Creates each `(name, columns after organization_id, unique)` index of `table`.
async fn create_indexes(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Copy + 'static,
    indexes: impl IntoIterator<Item = (&str, Vec<DynIden>, bool)>,
) -> Result<(), DbErr> {
    for (name, columns, unique) in indexes {
        let mut ix = index(
            name,
            table.into_iden(),
            std::iter::once(Col::OrganizationId.into_iden()).chain(columns),
        );
        if unique {
            ix.unique();
        }
        manager.create_index(ix).await?;
    }
    Ok(())
}

fn stamps(create: &mut TableCreateStatement) -> &mut TableCreateStatement {
    create
        .col(timestamp_with_time_zone(Col::CreatedAt))
        .col(timestamp_with_time_zone(Col::UpdatedAt))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // identities: how a person appears in a source (an email, a provider login, an external
        // id), linked to a developer once known.
        let mut t = tenant_table(Identities::Table, "identities");
        t.col(text(Identities::Kind))
            .col(text(Identities::Value))
            .col(uuid_null(Col::DeveloperId))
            .col(timestamp_with_time_zone(Identities::FirstSeenAt))
            .col(timestamp_with_time_zone(Identities::LastSeenAt))
            // Developers are deactivated, never deleted; a plain key keeps links honest.
            .foreign_key(
                ForeignKey::create()
                    .name("fk_identities_developer")
                    .from(Identities::Table, (Col::OrganizationId, Col::DeveloperId))
                    .to(
                        Developers::Table,
                        (Developers::OrganizationId, Developers::Id),
                    ),
            );
        manager.create_table(stamps(&mut t).to_owned()).await?;
        create_indexes(
            manager,
            Identities::Table,
            [
                (
                    "uq_identities_value",
                    vec![Identities::Kind.into_iden(), Identities::Value.into_iden()],
                    true,
                ),
                (
                    "ix_identities_developer",
                    vec![Col::DeveloperId.into_iden()],
                    false,
                ),
            ],
        )
        .await?;

        let mut t = tenant_table(Repositories::Table, "repositories");
        t.col(uuid(Col::ProjectId))
            .col(text(Repositories::Provider))
            .col(text(Col::ExternalId))
            .col(text(Repositories::FullName))
            .col(text(Repositories::DefaultBranch))
            // AES-256-GCM under DEVGRAPH_SECRET_KEY: `v1.<nonce>.<ciphertext>`, base64url.
            .col(text(Repositories::WebhookSecret))
            .foreign_key(&mut belongs_to(
                "fk_repositories_project",
                Repositories::Table,
                Col::ProjectId,
                Projects::Table,
            ));
        manager.create_table(stamps(&mut t).to_owned()).await?;
        create_indexes(
            manager,
            Repositories::Table,
            [(
                "uq_repositories_external",
                vec![
                    Repositories::Provider.into_iden(),
                    Col::ExternalId.into_iden(),
                ],
                true,
            )],
        )
        .await?;
        // A project's repositories in name order; the cascade from projects.
        create_indexes(
            manager,
            Repositories::Table,
            [(
                "ix_repositories_project",
                vec![
                    Col::ProjectId.into_iden(),
                    Repositories::FullName.into_iden(),
                ],
                false,
            )],
        )
        .await?;

        // commits: a commit as pushed to a branch (the same commit on two branches is two rows),
        // for a pull request's first commit time.
        let mut t = tenant_table(Commits::Table, "commits");
        t.col(uuid(Col::RepositoryId))
            .col(text(Commits::Sha))
            .col(text(Commits::Branch))
            .col(timestamp_with_time_zone(Commits::AuthoredAt))
            .col(uuid_null(Col::AuthorIdentityId))
            .col(uuid_null(Col::AuthorId))
            .col(text(Commits::Message))
            .col(timestamp_with_time_zone(Col::CreatedAt))
            .foreign_key(&mut belongs_to(
                "fk_commits_repository",
                Commits::Table,
                Col::RepositoryId,
                Repositories::Table,
            ));
        manager.create_table(t).await?;
        create_indexes(
            manager,
            Commits::Table,
            [
                (
                    "uq_commits_branch_sha",
                    vec![
                        Col::RepositoryId.into_iden(),
                        Commits::Branch.into_iden(),
                        Commits::Sha.into_iden(),
                    ],
                    true,
                ),
                (
                    "ix_commits_author_identity",
                    vec![Col::AuthorIdentityId.into_iden()],
                    false,
                ),
            ],
        )
        .await?;

        let mut t = tenant_table(PullRequests::Table, "pull_requests");
        t.col(uuid(Col::RepositoryId))
            .col(integer(PullRequests::Number))
            .col(text(PullRequests::Title))
            .col(text(PullRequests::State))
            .col(uuid_null(Col::AuthorIdentityId))
            .col(uuid_null(Col::AuthorId))
            .col(timestamp_with_time_zone(PullRequests::OpenedAt))
            .col(timestamp_with_time_zone_null(PullRequests::FirstCommitAt))
            .col(timestamp_with_time_zone_null(PullRequests::FirstReviewAt))
            .col(timestamp_with_time_zone_null(PullRequests::ApprovedAt))
            .col(timestamp_with_time_zone_null(PullRequests::MergedAt))
            .col(timestamp_with_time_zone_null(PullRequests::ClosedAt))
            .col(integer(PullRequests::Additions))
            .col(integer(PullRequests::Deletions))
            .col(integer(PullRequests::ChangedFiles))
            // The source time of the size stored (NULL: no source has said yet): sizes merge
            // on their own, since some deliveries (GitHub's reviews) leave them out.
            .col(timestamp_with_time_zone_null(PullRequests::SizeUpdatedAt))
            .col(text_null(PullRequests::HeadRef))
            .col(text_null(PullRequests::MergeCommitSha))
            .col(timestamp_with_time_zone(Col::SourceUpdatedAt))
            .foreign_key(&mut belongs_to(
                "fk_pull_requests_repository",
                PullRequests::Table,
                Col::RepositoryId,
                Repositories::Table,
            ));
        manager.create_table(stamps(&mut t).to_owned()).await?;
        let pr_indexes: [(&str, Vec<DynIden>, bool); 6] = [
            (
                "uq_pull_requests_number",
                vec![
                    Col::RepositoryId.into_iden(),
                    PullRequests::Number.into_iden(),
                ],
                true,
            ),
            (
                "ix_pull_requests_repository_opened",
                vec![
                    Col::RepositoryId.into_iden(),
                    PullRequests::OpenedAt.into_iden(),
                ],
                false,
            ),
            (
                "ix_pull_requests_author",
                vec![
                    Col::AuthorId.into_iden(),
                    PullRequests::OpenedAt.into_iden(),
                ],
                false,
            ),
            (
                "ix_pull_requests_author_identity",
                vec![Col::AuthorIdentityId.into_iden()],
                false,
            ),
            // A push finds the pull requests of the branches it touched.
            (
                "ix_pull_requests_head_ref",
                vec![
                    Col::RepositoryId.into_iden(),
                    PullRequests::HeadRef.into_iden(),
                ],
                false,
            ),
            (
                "ix_pull_requests_merge_commit",
                vec![
                    Col::RepositoryId.into_iden(),
                    PullRequests::MergeCommitSha.into_iden(),
                ],
                false,
            ),
        ];
        create_indexes(manager, PullRequests::Table, pr_indexes).await?;

        let mut t = tenant_table(PullRequestReviews::Table, "pull_request_reviews");
        t.col(uuid(Col::RepositoryId))
            .col(integer(PullRequestReviews::PullRequestNumber))
            .col(uuid_null(PullRequestReviews::PullRequestId))
            .col(text(Col::ExternalId))
            .col(uuid_null(PullRequestReviews::ReviewerIdentityId))
            .col(uuid_null(PullRequestReviews::ReviewerId))
            .col(text(PullRequestReviews::State))
            .col(timestamp_with_time_zone(PullRequestReviews::SubmittedAt))
            .col(timestamp_with_time_zone(Col::SourceUpdatedAt))
            .foreign_key(&mut belongs_to(
                "fk_pull_request_reviews_repository",
                PullRequestReviews::Table,
                Col::RepositoryId,
                Repositories::Table,
            ));
        manager.create_table(stamps(&mut t).to_owned()).await?;
        let review_indexes: [(&str, Vec<DynIden>, bool); 5] = [
            (
                "uq_pull_request_reviews_external",
                vec![Col::RepositoryId.into_iden(), Col::ExternalId.into_iden()],
                true,
            ),
            (
                "ix_pull_request_reviews_number",
                vec![
                    Col::RepositoryId.into_iden(),
                    PullRequestReviews::PullRequestNumber.into_iden(),
                ],
                false,
            ),
            (
                "ix_pull_request_reviews_pull_request",
                vec![
                    PullRequestReviews::PullRequestId.into_iden(),
                    PullRequestReviews::SubmittedAt.into_iden(),
                ],
                false,
            ),
            (
                "ix_pull_request_reviews_reviewer",
                vec![
                    PullRequestReviews::ReviewerId.into_iden(),
                    PullRequestReviews::SubmittedAt.into_iden(),
                ],
                false,
            ),
            (
                "ix_pull_request_reviews_reviewer_identity",
                vec![PullRequestReviews::ReviewerIdentityId.into_iden()],
                false,
            ),
        ];
        create_indexes(manager, PullRequestReviews::Table, review_indexes).await?;

        let mut t = tenant_table(WebhookDeliveries::Table, "webhook_deliveries");
        t.col(uuid(Col::RepositoryId))
            .col(text(WebhookDeliveries::DeliveryId))
            .col(text(WebhookDeliveries::Event))
            .col(timestamp_with_time_zone(WebhookDeliveries::ReceivedAt))
            .foreign_key(&mut belongs_to(
                "fk_webhook_deliveries_repository",
                WebhookDeliveries::Table,
                Col::RepositoryId,
                Repositories::Table,
            ));
        manager.create_table(t).await?;
        create_indexes(
            manager,
            WebhookDeliveries::Table,
            [(
                "uq_webhook_deliveries_delivery",
                vec![
                    Col::RepositoryId.into_iden(),
                    WebhookDeliveries::DeliveryId.into_iden(),
                ],
                true,
            )],
        )
        .await?;
        // Retention purges deliveries by age.
        create_indexes(
            manager,
            WebhookDeliveries::Table,
            [(
                "ix_webhook_deliveries_received",
                vec![WebhookDeliveries::ReceivedAt.into_iden()],
                false,
            )],
        )
        .await?;

        // deployments: keyed by the sender's id within the project. `repository_id` is set for
        // the ones a repository's webhook reported (and for API deployments naming one).
        let mut t = tenant_table(Deployments::Table, "deployments");
        t.col(uuid(Col::ProjectId))
            .col(uuid_null(Col::RepositoryId))
            .col(text(Col::ExternalId))
            .col(text(Deployments::Environment))
            .col(text(Deployments::Tier))
            .col(text(Deployments::Status))
            .col(text_null(Deployments::Sha))
            .col(timestamp_with_time_zone(Deployments::StartedAt))
            .col(timestamp_with_time_zone_null(Deployments::FinishedAt))
            .col(timestamp_with_time_zone(Deployments::StatusAt))
            .foreign_key(&mut belongs_to(
                "fk_deployments_project",
                Deployments::Table,
                Col::ProjectId,
                Projects::Table,
            ))
            .foreign_key(&mut belongs_to(
                "fk_deployments_repository",
                Deployments::Table,
                Col::RepositoryId,
                Repositories::Table,
            ));
        manager.create_table(stamps(&mut t).to_owned()).await?;
        let deployment_indexes: [(&str, Vec<DynIden>, bool); 3] = [
            (
                "uq_deployments_external",
                vec![Col::ProjectId.into_iden(), Col::ExternalId.into_iden()],
                true,
            ),
            (
                "ix_deployments_project_started",
                vec![
                    Col::ProjectId.into_iden(),
                    Deployments::StartedAt.into_iden(),
                ],
                false,
            ),
            (
                "ix_deployments_repository_sha",
                vec![Col::RepositoryId.into_iden(), Deployments::Sha.into_iden()],
                false,
            ),
        ];
        create_indexes(manager, Deployments::Table, deployment_indexes).await?;

        // The pull requests a deployment shipped, by number: the pull request may arrive later.
        manager
            .create_table(
                Table::create()
                    .table(DeploymentPullRequests::Table)
                    .col(uuid(Col::OrganizationId))
                    .col(uuid(DeploymentPullRequests::DeploymentId))
                    .col(uuid(Col::RepositoryId))
                    .col(integer(DeploymentPullRequests::PullRequestNumber))
                    .primary_key(
                        Index::create()
                            .name("pk_deployment_pull_requests")
                            .col(Col::OrganizationId)
                            .col(DeploymentPullRequests::DeploymentId)
                            .col(Col::RepositoryId)
                            .col(DeploymentPullRequests::PullRequestNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deployment_pull_requests_deployment")
                            .from(
                                DeploymentPullRequests::Table,
                                (Col::OrganizationId, DeploymentPullRequests::DeploymentId),
                            )
                            .to(Deployments::Table, (Col::OrganizationId, Col::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut belongs_to(
                        "fk_deployment_pull_requests_repository",
                        DeploymentPullRequests::Table,
                        Col::RepositoryId,
                        Repositories::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            DeploymentPullRequests::Table,
            [(
                "ix_deployment_pull_requests_number",
                vec![
                    Col::RepositoryId.into_iden(),
                    DeploymentPullRequests::PullRequestNumber.into_iden(),
                ],
                false,
            )],
        )
        .await?;

        let mut t = tenant_table(Incidents::Table, "incidents");
        t.col(uuid(Col::ProjectId))
            .col(uuid_null(Col::RepositoryId))
            .col(text(Col::ExternalId))
            .col(text(Incidents::Title))
            .col(timestamp_with_time_zone(Incidents::OpenedAt))
            .col(timestamp_with_time_zone_null(Incidents::ResolvedAt))
            // The external id of the deployment that caused it, when known.
            .col(text_null(Incidents::CausedBy))
            .col(timestamp_with_time_zone(Col::SourceUpdatedAt))
            .foreign_key(&mut belongs_to(
                "fk_incidents_project",
                Incidents::Table,
                Col::ProjectId,
                Projects::Table,
            ))
            .foreign_key(&mut belongs_to(
                "fk_incidents_repository",
                Incidents::Table,
                Col::RepositoryId,
                Repositories::Table,
            ));
        manager.create_table(stamps(&mut t).to_owned()).await?;
        create_indexes(
            manager,
            Incidents::Table,
            [
                (
                    "uq_incidents_external",
                    vec![Col::ProjectId.into_iden(), Col::ExternalId.into_iden()],
                    true,
                ),
                (
                    "ix_incidents_project_opened",
                    vec![Col::ProjectId.into_iden(), Incidents::OpenedAt.into_iden()],
                    false,
                ),
            ],
        )
        .await?;

        // events: who an event named when no developer matched, so that linking the identity
        // later re-attributes it.
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(uuid_null(Events::IdentityId))
                    .to_owned(),
            )
            .await?;
        // Partial: only the (few) events of unmatched people carry one; same syntax on both.
        manager
            .get_connection()
            .execute_unprepared(
                r#"CREATE INDEX "ix_events_identity" ON "events" ("organization_id", "identity_id")
                   WHERE "identity_id" IS NOT NULL"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_events_identity")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::IdentityId)
                    .to_owned(),
            )
            .await?;
        for table in [
            Incidents::Table.into_iden(),
            DeploymentPullRequests::Table.into_iden(),
            Deployments::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            PullRequestReviews::Table.into_iden(),
            PullRequests::Table.into_iden(),
            Commits::Table.into_iden(),
            Repositories::Table.into_iden(),
            Identities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
