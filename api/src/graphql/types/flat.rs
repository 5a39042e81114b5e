//! Long lists of small rows (`Developer.activity`, metrics rows) resolved
//! in one step. async-graphql resolves a list of objects with one future
//! per item and one boxed future per selected field of each; a 90-day
//! Dashboard has hundreds of thousands of those, and they, not the
//! database, took most of the server's CPU (bench/profile.sh). When every
//! field a query selects on such a row is a plain value, `Flat` reads the
//! selection once and builds the list's values directly; otherwise (an
//! object field, a directive, a fragment on another type) it resolves the
//! ordinary way. The schema is the same either way: `Flat<T>` is `[T!]!`.

use std::borrow::Cow;

use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
    indexmap::IndexMap,
    parser::types::{Field, Selection, SelectionSet},
    registry::Registry,
};

/// A row type whose plain (scalar) fields can be read without a resolver.
pub trait FlatRow: OutputType {
    /// The value of `field`, or `None` when it is not a plain field (the
    /// list then resolves the ordinary way).
    fn plain(&self, field: &str) -> Option<Value>;

    /// Whether `field` is one `plain` answers (asked once per list, before
    /// any row).
    fn is_plain(field: &str) -> bool;
}

/// `[T!]!`, resolved in one step when the selection allows it.
pub struct Flat<T>(pub Vec<T>);

/// What one response key of a row holds.
enum Part<'a> {
    Typename,
    Plain(&'a str),
}

impl<T: FlatRow> Flat<T> {
    /// The response keys of each row and what they hold, in the order of
    /// the selection; `None` when some selection needs the ordinary path.
    fn plan<'a>(ctx: &ContextSelectionSet<'a>) -> Option<Vec<(&'a Name, Part<'a>)>> {
        let mut plan = Vec::new();
        collect::<T>(ctx, ctx.item, &mut plan)?;
        Some(plan)
    }
}

fn collect<'a, T: FlatRow>(
    ctx: &ContextSelectionSet<'a>,
    selection: &'a Positioned<SelectionSet>,
    plan: &mut Vec<(&'a Name, Part<'a>)>,
) -> Option<()> {
    let own_type = |on: Option<&str>| on.is_none_or(|on| on == T::type_name());
    for item in &selection.node.items {
        match &item.node {
            Selection::Field(field) => {
                let field: &'a Field = &field.node;
                if !field.directives.is_empty() || !field.arguments.is_empty() {
                    return None;
                }
                let name = field.name.node.as_str();
                let part = match name {
                    "__typename" => Part::Typename,
                    _ if T::is_plain(name) => Part::Plain(name),
                    _ => return None,
                };
                plan.push((&field.response_key().node, part));
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = ctx
                    .query_env
                    .fragments
                    .get(&spread.node.fragment_name.node)?;
                let on = fragment.node.type_condition.node.on.node.as_str();
                if !fragment.node.directives.is_empty() || !own_type(Some(on)) {
                    return None;
                }
                collect::<T>(ctx, &fragment.node.selection_set, plan)?;
            }
            Selection::InlineFragment(inline) => {
                let on = inline.node.type_condition.as_ref();
                if !inline.node.directives.is_empty()
                    || !own_type(on.map(|c| c.node.on.node.as_str()))
                {
                    return None;
                }
                collect::<T>(ctx, &inline.node.selection_set, plan)?;
            }
        }
    }
    Some(())
}

impl<T: FlatRow> OutputType for Flat<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(plan) = Self::plan(ctx) else {
            return OutputType::resolve(&self.0, ctx, field).await;
        };
        let typename = T::type_name();
        let mut rows = Vec::with_capacity(self.0.len());
        for row in &self.0 {
            let mut object = IndexMap::with_capacity(plan.len());
            for (key, part) in &plan {
                let value = match part {
                    Part::Typename => Value::String(typename.to_string()),
                    Part::Plain(name) => row.plain(name).unwrap_or(Value::Null),
                };
                object.insert((*key).clone(), value);
            }
            rows.push(Value::Object(object));
        }
        Ok(Value::List(rows))
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema, Variables};
    use chrono::NaiveDate;
    use serde_json::json;
    use uuid::Uuid;

    use super::Flat;
    use crate::{
        graphql::types::{Date, DayCount, MetricRow},
        service::analytics::MetricRow as Row,
    };

    fn days() -> Vec<DayCount> {
        let first = NaiveDate::from_ymd_opt(2026, 2, 27).unwrap();
        (0..5)
            .map(|i| DayCount {
                day: Date(first + chrono::Days::new(i)),
                count: i as i64 * 7,
            })
            .collect()
    }

    fn rows() -> Vec<MetricRow> {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2);
        vec![
            MetricRow(Row {
                day,
                week: day,
                event_name: Some("commit".into()),
                developer: Some(Uuid::from_u128(1)),
                team_space: Some(Uuid::from_u128(2)),
                project: Some(Uuid::from_u128(3)),
                count: 3,
                ..Row::default()
            }),
            MetricRow(Row {
                developer: Some(entity::UNKNOWN_DEVELOPER),
                count: 1,
                ..Row::default()
            }),
            MetricRow(Row::default()),
        ]
    }

    /// Each list twice: built in one step, and resolved by async-graphql
    /// the ordinary way, which is the oracle.
    struct Query;

    #[Object]
    impl Query {
        async fn flat_days(&self) -> Flat<DayCount> {
            Flat(days())
        }
        async fn days(&self) -> Vec<DayCount> {
            days()
        }
        async fn flat_rows(&self) -> Flat<MetricRow> {
            Flat(rows())
        }
        async fn rows(&self) -> Vec<MetricRow> {
            rows()
        }
    }

    #[tokio::test]
    async fn one_step_answers_what_async_graphql_answers() {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let days = [
            "{ day count }",
            "{ count }",
            "{ n: count __typename day n: count count }",
            "{ ...D ... on DayCount { day n: count } ... { count } __typename }",
            "{ day @include(if: $yes) count @skip(if: $yes) }",
            "{ ... @include(if: $no) { count } day }",
        ];
        let rows = [
            "{ day week eventName developerId teamSpaceId projectId count }",
            "{ __typename c: count ...R developerId }",
            "{ count developerId @skip(if: $no) }",
        ];
        let fragments = "fragment D on DayCount { day } fragment R on MetricRow { eventName week }";
        let cases = days
            .iter()
            .map(|s| ("flatDays", "days", s))
            .chain(rows.iter().map(|s| ("flatRows", "rows", s)));
        for (flat, ordinary, selection) in cases {
            let run = |field: &str| {
                let used: Vec<&str> = fragments
                    .split("fragment ")
                    .filter(|f| {
                        let name = f.split(' ').next().unwrap_or_default();
                        !name.is_empty() && selection.contains(&format!("...{name}"))
                    })
                    .collect();
                let document = format!(
                    "query($yes: Boolean!, $no: Boolean!) {{
                       list: {field} @include(if: $yes) @skip(if: $no) {selection} }} {}",
                    used.iter()
                        .map(|f| format!("fragment {f}"))
                        .collect::<String>()
                );
                let variables = Variables::from_json(json!({ "yes": true, "no": false }));
                schema.execute(Request::new(document).variables(variables))
            };
            let (a, b) = (run(flat).await, run(ordinary).await);
            assert!(a.errors.is_empty(), "{selection}: {:?}", a.errors);
            assert!(b.errors.is_empty(), "{selection}: {:?}", b.errors);
            // Compared as text: the same keys in the same order.
            assert_eq!(a.data.to_string(), b.data.to_string(), "{selection}");
            let a = a.data.into_json().unwrap();
            assert!(a["list"].as_array().is_some_and(|l| l.len() >= 3), "{a}");
        }
    }

    /// A selection it cannot build in one step (an object field) takes the
    /// ordinary path, whose resolvers then run.
    #[tokio::test]
    async fn an_object_field_takes_the_ordinary_path() {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let response = schema
            .execute("{ flatRows { count developer { id } } }")
            .await;
        // Without request data the resolver of `developer` answers with an
        // error: proof that it ran.
        assert!(!response.errors.is_empty());
    }
}
