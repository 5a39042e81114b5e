//! Every write of a rollup: the daily rollup of every dimension
//! (`daily`: `aggregated_events`), the organization, project and developer
//! rollups summed from it (`scope`), the team-space rollup kept equal to its
//! members' daily rows (`team`), and the re-bucketing of retained raw
//! events after a time-zone change (`rebuild`). Each is called inside the
//! transaction of the change that moves it.

pub mod daily;
pub mod reattribute;
pub mod rebuild;
pub mod scope;
pub mod team;

use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, Value,
    sea_query::{
        Alias, ArrayType, CommonTableExpression, Expr, ExprTrait, Func, InsertStatement,
        OnConflict, Query, WithClause,
    },
};

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
};

/// PostgreSQL sums bigints into numeric; both databases read this as BIGINT.
const SUM_COUNT: &str = r#"CAST(SUM("aggregated_events"."count") AS BIGINT)"#;

/// Before `project` is deleted (same transaction): takes its counts out of
/// every rollup that sums across projects. Its own rows (`aggregated_events`,
/// `project_rollups`) cascade away with it.
pub async fn project_deleting(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project: uuid::Uuid,
) -> AppResult<()> {
    // The team rollup first: on PostgreSQL it locks the project and its
    // developers, which this order relies on (see `scope`).
    team::project_deleting(ctx, txn, project).await?;
    scope::project_deleting(ctx, txn, project).await
}

/// Additive upserts of one transaction, gathered and then sent together
/// (`run`): on PostgreSQL as ONE statement whose inserts are data-modifying
/// CTEs, on SQLite one statement per insert, in the order pushed.
///
/// Why one statement: ingested batches of a project add to the same rows
/// (today's counts of its active developers, the organization's and the
/// project's days, `event_meta`), so each batch waits for the row locks of
/// the one before it, and holds its own until it commits. Sent one table at
/// a time, that wait lasted one round trip per table; sent together, one
/// round trip and the commit. Every ingester sends the same statement text,
/// so all take their locks in the same table order, and within a table in
/// key order (callers push rows sorted).
pub struct Writes {
    backend: DbBackend,
    /// Each insert with the table it writes.
    inserts: Vec<(&'static str, InsertStatement)>,
}

impl Writes {
    /// Writes to be sent in `txn` (whose database decides their form).
    pub fn new(txn: &impl ConnectionTrait) -> Writes {
        Writes {
            backend: txn.get_database_backend(),
            inserts: Vec::new(),
        }
    }

    /// Adds counts to a rollup table: each row is its key (the values of
    /// `keys`, `organization_id` first) and a count; a key already stored
    /// gets the count added, so concurrent writers add rather than
    /// overwrite. Rows counting 0 change nothing and are left out.
    pub fn add_counts<E: EntityTrait, const N: usize>(
        &mut self,
        keys: [E::Column; N],
        count: E::Column,
        rows: &[([Value; N], i64)],
    ) -> AppResult<()> {
        let on_conflict = OnConflict::columns(keys)
            .value(
                count,
                Expr::col((E::default(), count)).add(Expr::col((Alias::new("excluded"), count))),
            )
            .to_owned();
        let columns = keys.into_iter().chain([count]);
        let rows = rows
            .iter()
            .filter(|(_, n)| *n != 0)
            .map(|(key, n)| key.iter().cloned().chain([Value::from(*n)]).collect());
        self.upsert::<E>(columns, rows, on_conflict)
    }

    /// Inserts `rows` (values of `columns`, in order) into `E`'s table,
    /// merging into stored rows as `on_conflict` says. On PostgreSQL each
    /// column travels as one array parameter (`unnest`), so the statement
    /// has one text whatever the row count; on SQLite at most 1,000 rows go
    /// in one statement, well under its bind-parameter limit. No rows, no
    /// statement.
    pub fn upsert<E: EntityTrait>(
        &mut self,
        columns: impl IntoIterator<Item = E::Column>,
        rows: impl IntoIterator<Item = Vec<Value>>,
        on_conflict: OnConflict,
    ) -> AppResult<()> {
        let rows: Vec<Vec<Value>> = rows.into_iter().collect();
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let mut insert = Query::insert();
        insert
            .into_table(E::default())
            .columns(columns)
            .on_conflict(on_conflict);
        if self.backend == DbBackend::Postgres {
            let types: Vec<ArrayType> = first.iter().map(Value::array_type).collect();
            let mut arrays: Vec<Vec<Value>> = vec![Vec::with_capacity(rows.len()); types.len()];
            for row in rows {
                for (array, value) in arrays.iter_mut().zip(row) {
                    array.push(value);
                }
            }
            // Set-returning functions in a select list run in lockstep:
            // row i takes element i of every array.
            let unnested = types.into_iter().zip(arrays).map(|(ty, values)| {
                Func::cust("unnest").arg(Expr::val(Value::Array(ty, Some(Box::new(values)))))
            });
            let select = Query::select().exprs(unnested).to_owned();
            insert.select_from(select).map_err(AppError::internal)?;
            self.inserts.push((E::default().table_name(), insert));
            return Ok(());
        }
        for chunk in rows.chunks(1000) {
            let mut chunk_insert = insert.clone();
            for row in chunk {
                chunk_insert
                    .values(row.iter().cloned().map(Into::into))
                    .map_err(AppError::internal)?;
            }
            self.inserts.push((E::default().table_name(), chunk_insert));
        }
        Ok(())
    }

    /// Sends everything gathered, in the transaction `txn`.
    ///
    /// On PostgreSQL the inserts of one statement cannot see each other's
    /// rows, so two of them reaching the same row fail ("ON CONFLICT DO
    /// UPDATE command cannot affect row a second time"): a table written a
    /// second time (a re-attribution adds each project's counts to the same
    /// organization days) starts the next statement.
    pub async fn run(self, txn: &impl ConnectionTrait) -> AppResult<()> {
        if self.backend != DbBackend::Postgres {
            for (_, insert) in self.inserts {
                txn.execute(&insert).await?;
            }
            return Ok(());
        }
        let mut statement: Vec<InsertStatement> = Vec::new();
        let mut tables: Vec<&str> = Vec::new();
        for (table, insert) in self.inserts {
            if tables.contains(&table) {
                send_together(txn, std::mem::take(&mut statement)).await?;
                tables.clear();
            }
            tables.push(table);
            statement.push(insert);
        }
        send_together(txn, statement).await
    }
}

/// PostgreSQL: `inserts` as one statement, each a data-modifying CTE.
async fn send_together(
    txn: &impl ConnectionTrait,
    mut inserts: Vec<InsertStatement>,
) -> AppResult<()> {
    if inserts.len() <= 1 {
        if let Some(insert) = inserts.pop() {
            txn.execute(&insert).await?;
        }
        return Ok(());
    }
    let mut with = WithClause::new();
    for (n, insert) in inserts.into_iter().enumerate() {
        with.cte(
            CommonTableExpression::new()
                .query(insert)
                .table_name(Alias::new(format!("write_{n}")))
                .to_owned(),
        );
    }
    // Data-modifying CTEs run to completion whatever the main query reads.
    let done = Query::select().expr(Expr::val(1)).to_owned();
    txn.execute(&with.query(done)).await?;
    Ok(())
}

/// PostgreSQL: waits until the organization's other ingesting transactions
/// have committed, and makes later ones wait for this one (a transaction
/// advisory lock per organization, released at commit or rollback).
///
/// Their writes add to the same rows (the organization's and the
/// projects' days, busy developers' today), so they run one after the other
/// anyway. Queued on row locks, every commit woke each waiter to retry its
/// row, and throughput fell as ingesters were added (2 clients: 42 batches
/// a second, 8: 14); queued here, each goes once, when its turn comes.
/// Other organizations' batches do not wait.
pub async fn take_turn(ctx: &TenantCtx, txn: &impl ConnectionTrait) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // The random low half of the UUIDv7: two organizations sharing a key
    // only take turns needlessly.
    let bytes = ctx.org_id().uuid().as_u64_pair().1;
    let key = i64::from_ne_bytes(bytes.to_ne_bytes());
    let lock = sea_orm::Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [key.into()],
    );
    txn.execute_raw(lock).await?;
    Ok(())
}

/// `Writes::add_counts` of one table, sent at once.
pub(crate) async fn add_counts<E: EntityTrait, const N: usize>(
    txn: &impl ConnectionTrait,
    keys: [E::Column; N],
    count: E::Column,
    rows: &[([Value; N], i64)],
) -> AppResult<()> {
    let mut writes = Writes::new(txn);
    writes.add_counts::<E, N>(keys, count, rows)?;
    writes.run(txn).await
}
