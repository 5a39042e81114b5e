//! The shape every listed tenant table shares, written once: a row by id or
//! NOT_FOUND, rows by ids in one statement, and a page of a filtered select
//! in the requested order (the id breaks ties). A table joins with one
//! `listed!` line naming its noun and its name and creation-time columns.

use entity::scoped::{ByIdInOrg, InOrg};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Select};

use uuid::Uuid;

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    pagination::{Keyed, OrderField, Page, PageRequest},
    service::any_of::any_of,
};

/// A tenant table that lists in pages.
pub trait Listed: ByIdInOrg<Model: Keyed + Sync> {
    /// What a NOT_FOUND names, say "team space".
    const NOUN: &'static str;

    fn sort_column(field: OrderField) -> Self::Column;
}

/// A row whose writes are audited under its node kind (`listed!` writes it).
pub trait Audited {
    const KIND: crate::ids::NodeKind;
}

/// The caller's organization's own row (the one table keyed by the
/// organization alone): its time zone and budgets. Here rather than in
/// `service::organization`, whose writes create developers, so that what
/// reads the time zone (rollups, delivery metrics) does not import those.
pub async fn organization(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
) -> AppResult<entity::organization::Model> {
    entity::organization::Entity::find_by_id(ctx.org_id().uuid())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))
}

/// The row with this id in the caller's organization, or NOT_FOUND (also
/// for another organization's id).
pub async fn get<E: Listed>(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    id: E::Id,
) -> AppResult<E::Model> {
    E::find_by_id_in(ctx.org_id(), id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(E::NOUN))
}

/// The rows of these ids in the caller's organization, in one statement
/// whose text is the same for any number of ids (see `any_of`).
pub async fn by_ids<E: Listed>(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    ids: &[E::Id],
) -> AppResult<Vec<E::Model>>
where
    E::Id: Into<Uuid>,
{
    let ids = ids.iter().map(|id| (*id).into());
    Ok(E::find_in(ctx.org_id())
        .filter(any_of(
            db.get_database_backend(),
            E::id_column().into_expr(),
            ids,
        ))
        .all(db)
        .await?)
}

/// A list's filter: narrows the scoped select of its table.
pub trait Filter {
    type Table: Listed;

    fn narrow(&self, ctx: &TenantCtx, select: Select<Self::Table>) -> Select<Self::Table>;
}

type Row<F> = <<F as Filter>::Table as EntityTrait>::Model;

/// One page of the caller's rows that pass `filter`.
pub async fn list<F: Filter>(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &F,
    request: &PageRequest,
) -> AppResult<Page<Row<F>>> {
    let select = filter.narrow(ctx, F::Table::find_in(ctx.org_id()));
    page(db, select, request).await
}

/// How many of the caller's rows pass `filter`.
pub async fn count<F: Filter>(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &F,
) -> AppResult<u64> {
    let select = filter.narrow(ctx, F::Table::find_in(ctx.org_id()));
    Ok(select.count(db).await?)
}

/// One page of `select` (already scoped and filtered) in the page's order.
pub async fn page<E: Listed>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    page: &PageRequest,
) -> AppResult<Page<E::Model>> {
    let select = page.apply_sql(select, E::sort_column(page.order.field), E::id_column());
    Ok(page.finish_sql(select.all(db).await?))
}

/// `listed!(team_space, "team space", name: Name, created_at: CreatedAt)`:
/// the table's `Listed` and its rows' `Keyed`, ordered by those two fields
/// (`OrderField::Name`, `OrderField::CreatedAt`) and their columns.
macro_rules! listed {
    ($table:ident, $noun:literal, $name:ident: $name_col:ident, $created:ident: $created_col:ident) => {
        impl $crate::service::table::Listed for $table::Entity {
            const NOUN: &'static str = $noun;

            fn sort_column(field: $crate::pagination::OrderField) -> $table::Column {
                match field {
                    $crate::pagination::OrderField::Name => $table::Column::$name_col,
                    $crate::pagination::OrderField::CreatedAt => $table::Column::$created_col,
                }
            }
        }

        impl $crate::pagination::Keyed for $table::Model {
            fn sort_key(
                &self,
                field: $crate::pagination::OrderField,
            ) -> $crate::pagination::SortKey {
                use $crate::pagination::{OrderField, SortKey};
                match field {
                    OrderField::Name => SortKey::Text(self.$name.clone()),
                    OrderField::CreatedAt => SortKey::Time(self.$created),
                }
            }
            fn key_id(&self) -> uuid::Uuid {
                self.id
            }
        }

        impl $crate::service::table::Audited for $table::Model {
            const KIND: $crate::ids::NodeKind =
                <<$table::Entity as entity::scoped::ByIdInOrg>::Id as $crate::ids::GlobalId>::KIND;
        }
    };
}
pub(crate) use listed;
