//! Metrics types: `Date`, the grouping dimensions, rows and day counts.
//! Days are calendar days in the organization's time zone at ingestion.

use super::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{
    Context, Enum, ID, InputObject, InputValueError, InputValueResult, Object, Result, Scalar,
    ScalarType, SimpleObject, Value,
};
use chrono::{DateTime, NaiveDate, Utc};

use super::{Developer, Project, TeamSpace, flat::FlatRow};
use crate::{
    error::{AppError, AppResult},
    graphql::request::{RequestData, request},
    ids::{DeveloperId, ProjectId, TeamSpaceId},
    service::analytics::{Dim, MetricFilter, MetricQuery, MetricRow as Row, check_range},
};

/// A calendar day, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

#[Scalar]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        // NaiveDate's Display is `YYYY-MM-DD`, written directly: `format`
        // re-parses its pattern on every call, which was 3–7% of a
        // Dashboard's CPU (bench/profile.sh).
        Value::String(self.0.to_string())
    }
}

/// What metric rows are grouped by.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Dim")]
pub enum MetricDimension {
    Day,
    /// ISO week, named by its Monday.
    Week,
    EventName,
    Developer,
    TeamSpace,
    Project,
}

impl MetricDimension {
    /// What a metrics field's weight needs of its `groupBy`.
    pub(crate) fn grouping(dims: &[MetricDimension]) -> crate::graphql::cost::Grouping {
        let time = |d: &&MetricDimension| matches!(d, MetricDimension::Day | MetricDimension::Week);
        crate::graphql::cost::Grouping {
            day: dims.contains(&MetricDimension::Day),
            week: dims.contains(&MetricDimension::Week),
            others: dims.iter().filter(|d| !time(d)).count(),
        }
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "MetricFilter")]
pub struct MetricFilterInput {
    pub event_names: Option<Vec<String>>,
    pub team_space_ids: Option<Vec<ID>>,
    pub project_ids: Option<Vec<ID>>,
    pub developer_ids: Option<Vec<ID>>,
}

/// Validates a metrics call's arguments into a query: a range within the
/// limit, filter lists of at most `max_filter_values` values (a longer one
/// could pass the database's bind-parameter limit), each dimension grouped
/// by once, and at most `max_metric_rows` rows.
pub fn metric_query(
    rq: &RequestData,
    from: Date,
    to: Date,
    filter: Option<MetricFilterInput>,
    group_by: Vec<MetricDimension>,
) -> AppResult<MetricQuery> {
    check_range(from.0, to.0, rq.limits.max_metrics_days)?;
    let f = filter.unwrap_or_default();
    let max = rq.limits.max_filter_values;
    check_list_len("filter.eventNames", f.event_names.as_deref(), max)?;
    let ids = |field: &str, list: Option<Vec<ID>>, parse: fn(&str) -> AppResult<uuid::Uuid>| {
        check_list_len(field, list.as_deref(), max)?;
        list.map(|ids| {
            ids.iter()
                .map(|id| parse(id))
                .collect::<AppResult<Vec<_>>>()
        })
        .transpose()
    };
    let group_by: Vec<Dim> = group_by.into_iter().map(Into::into).collect();
    for (i, dim) in group_by.iter().enumerate() {
        if group_by[..i].contains(dim) {
            return Err(AppError::bad_field(
                "groupBy",
                "`groupBy` names each dimension at most once",
            ));
        }
    }
    Ok(MetricQuery {
        from: from.0,
        to: to.0,
        filter: MetricFilter {
            event_names: f.event_names,
            team_spaces: ids("filter.teamSpaceIds", f.team_space_ids, |id| {
                TeamSpaceId::from_global(id).map(TeamSpaceId::uuid)
            })?,
            projects: ids("filter.projectIds", f.project_ids, |id| {
                ProjectId::from_global(id).map(ProjectId::uuid)
            })?,
            // The nil uuid keys the rows of unknown developers; as an id it
            // names no developer, so it matches nothing, like any other id
            // of no developer.
            developers: ids("filter.developerIds", f.developer_ids, |id| {
                DeveloperId::from_global(id).map(DeveloperId::uuid)
            })?
            .map(|devs| {
                devs.into_iter()
                    .filter(|dev| *dev != entity::UNKNOWN_DEVELOPER)
                    .collect()
            }),
        },
        group_by,
        max_rows: Some(rq.limits.max_metric_rows),
    })
}

/// A filter list longer than `max` is LIMIT_EXCEEDED, naming the argument.
pub fn check_list_len<T>(field: &str, list: Option<&[T]>, max: usize) -> AppResult<()> {
    match list {
        Some(list) if list.len() > max => Err(AppError::LimitExceeded(format!(
            "`{field}` holds {} values; at most {max} are allowed",
            list.len()
        ))),
        _ => Ok(()),
    }
}

/// A team space's or project's rows of a cohort query; ungrouped, there is
/// always one total row, 0 when nothing was counted.
pub fn scoped_rows(
    rq: &RequestData,
    rows: Option<&Vec<Row>>,
    ungrouped: bool,
) -> AppResult<Vec<MetricRow>> {
    let rows = match rows {
        Some(rows) if !rows.is_empty() => rows.iter().cloned().map(MetricRow).collect(),
        _ if ungrouped => vec![MetricRow(Row::default())],
        _ => Vec::new(),
    };
    rq.charge_metric_rows(rows.len())?;
    Ok(rows)
}

/// One group of a metrics query and its event count; the fields not
/// grouped by are null.
pub struct MetricRow(pub Row);

impl MetricRow {
    fn developer_gid(&self) -> Option<ID> {
        self.0
            .developer
            .filter(|id| *id != entity::UNKNOWN_DEVELOPER)
            .map(|id| DeveloperId::from_db(id).to_global())
    }
    fn team_space_gid(&self) -> Option<ID> {
        self.0
            .team_space
            .map(|id| TeamSpaceId::from_db(id).to_global())
    }
    fn project_gid(&self) -> Option<ID> {
        self.0.project.map(|id| ProjectId::from_db(id).to_global())
    }
}

/// The plain fields, for lists resolved in one step (`Flat`); the
/// resolvers below answer the same.
impl FlatRow for MetricRow {
    fn is_plain(field: &str) -> bool {
        matches!(
            field,
            "day" | "week" | "eventName" | "developerId" | "teamSpaceId" | "projectId" | "count"
        )
    }

    fn plain(&self, field: &str) -> Option<Value> {
        let id = |id: Option<ID>| id.map_or(Value::Null, |id| Value::String(id.0));
        let day = |day: Option<NaiveDate>| day.map_or(Value::Null, |d| Date(d).to_value());
        Some(match field {
            "day" => day(self.0.day),
            "week" => day(self.0.week),
            "eventName" => self.0.event_name.clone().map_or(Value::Null, Value::String),
            "developerId" => id(self.developer_gid()),
            "teamSpaceId" => id(self.team_space_gid()),
            "projectId" => id(self.project_gid()),
            "count" => Value::from(self.0.count),
            _ => return None,
        })
    }
}

#[Object]
impl MetricRow {
    async fn day(&self) -> Option<Date> {
        self.0.day.map(Date)
    }
    /// The Monday of the ISO week.
    async fn week(&self) -> Option<Date> {
        self.0.week.map(Date)
    }
    async fn event_name(&self) -> Option<&str> {
        self.0.event_name.as_deref()
    }
    /// Null for events that named no known developer.
    async fn developer_id(&self) -> Option<ID> {
        self.developer_gid()
    }
    async fn developer(&self, ctx: &Context<'_>) -> Result<Option<Developer>> {
        let Some(id) = self
            .0
            .developer
            .filter(|id| *id != entity::UNKNOWN_DEVELOPER)
        else {
            return Ok(None);
        };
        let found = request(ctx)?
            .loaders
            .developer
            .load_one(DeveloperId::from_db(id))
            .await?;
        Ok(found.map(Developer::one))
    }
    async fn team_space_id(&self) -> Option<ID> {
        self.team_space_gid()
    }
    async fn team_space(&self, ctx: &Context<'_>) -> Result<Option<TeamSpace>> {
        let Some(id) = self.0.team_space else {
            return Ok(None);
        };
        let found = request(ctx)?
            .loaders
            .team_space
            .load_one(TeamSpaceId::from_db(id))
            .await?;
        Ok(found.map(TeamSpace::one))
    }
    async fn project_id(&self) -> Option<ID> {
        self.project_gid()
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        let Some(id) = self.0.project else {
            return Ok(None);
        };
        let found = request(ctx)?
            .loaders
            .project
            .load_one(ProjectId::from_db(id))
            .await?;
        Ok(found.map(Project::one))
    }
    async fn count(&self) -> i64 {
        self.0.count
    }
}

/// Events of one day.
#[derive(SimpleObject)]
pub struct DayCount {
    pub day: Date,
    pub count: i64,
}

impl FlatRow for DayCount {
    fn is_plain(field: &str) -> bool {
        matches!(field, "day" | "count")
    }

    fn plain(&self, field: &str) -> Option<Value> {
        match field {
            "day" => Some(self.day.to_value()),
            "count" => Some(Value::from(self.count)),
            _ => None,
        }
    }
}

/// What a project has sent under one event name.
#[derive(SimpleObject)]
pub struct EventMeta {
    pub name: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub total_count: i64,
    /// Every property key seen with this event name.
    pub property_keys: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_yyyy_mm_dd() {
        for (y, m, d, text) in [(2026, 3, 1, "2026-03-01"), (987, 12, 31, "0987-12-31")] {
            let date = Date(NaiveDate::from_ymd_opt(y, m, d).unwrap());
            assert_eq!(date.to_value(), Value::String(text.into()));
            assert_eq!(Date::parse(date.to_value()).unwrap(), date);
        }
    }
}
