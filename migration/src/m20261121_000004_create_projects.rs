//! Creates `projects`, whose team-space foreign key is `DEFERRABLE INITIALLY DEFERRED`.
//!
//! The deferral lets the service delete a team space and clear `team_space_id` on its projects
//! in either order within one transaction; the check runs at commit. SeaQuery cannot express
//! `DEFERRABLE`, and SQLite cannot add a foreign key after `CREATE TABLE`, so this one table is
//! created from raw SQL per backend (column types spelled as SeaQuery spells them elsewhere);
//! its indexes use the builder like every other table's.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Projects {
    Table,
    OrganizationId,
    Id,
    TeamSpaceId,
    Slug,
    Name,
    CreatedAt,
}

// The team-space foreign key has no ON DELETE action: SET NULL would also null
// `organization_id`, and CASCADE would silently delete projects with their event history.
const CREATE_POSTGRES: &str = r#"CREATE TABLE "projects" (
    "organization_id" uuid NOT NULL,
    "id" uuid NOT NULL,
    "team_space_id" uuid NULL,
    "slug" text NOT NULL,
    "name" text NOT NULL,
    "created_at" timestamp with time zone NOT NULL,
    "updated_at" timestamp with time zone NOT NULL,
    CONSTRAINT "pk_projects" PRIMARY KEY ("organization_id", "id"),
    CONSTRAINT "fk_projects_organization" FOREIGN KEY ("organization_id")
        REFERENCES "organizations" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_projects_team_space" FOREIGN KEY ("organization_id", "team_space_id")
        REFERENCES "team_spaces" ("organization_id", "id") DEFERRABLE INITIALLY DEFERRED
)"#;

const CREATE_SQLITE: &str = r#"CREATE TABLE "projects" (
    "organization_id" uuid_text NOT NULL,
    "id" uuid_text NOT NULL,
    "team_space_id" uuid_text NULL,
    "slug" text NOT NULL,
    "name" text NOT NULL,
    "created_at" timestamp_with_timezone_text NOT NULL,
    "updated_at" timestamp_with_timezone_text NOT NULL,
    CONSTRAINT "pk_projects" PRIMARY KEY ("organization_id", "id"),
    CONSTRAINT "fk_projects_organization" FOREIGN KEY ("organization_id")
        REFERENCES "organizations" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_projects_team_space" FOREIGN KEY ("organization_id", "team_space_id")
        REFERENCES "team_spaces" ("organization_id", "id") DEFERRABLE INITIALLY DEFERRED
)"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let create = match manager.get_database_backend() {
            DbBackend::Postgres => CREATE_POSTGRES,
            DbBackend::Sqlite => CREATE_SQLITE,
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database backend {other:?}"
                )));
            }
        };
        manager.get_connection().execute_unprepared(create).await?;

        let indexes = [
            (Projects::Slug, "uq_projects_slug", true),
            (Projects::Name, "ix_projects_name", false),
            (Projects::CreatedAt, "ix_projects_created_at", false),
            (Projects::TeamSpaceId, "ix_projects_team_space", false),
        ];
        for (column, name, unique) in indexes {
            let mut ix = index(name, Projects::Table, [Projects::OrganizationId, column]);
            if unique {
                ix.unique();
            }
            manager.create_index(ix).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Projects::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
