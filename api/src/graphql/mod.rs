//! The GraphQL schema. It knows nothing of HTTP: the handler in `http/`
//! turns a request into a `RequestData` (tenant context, loaders, limits)
//! and this module reads only that.

mod connection;
pub(crate) mod cost;
mod mutation;
mod node;
mod order;
mod query;
mod request;
mod shape;
mod subscription;
mod types;

pub use cost::weighed;
pub use request::RequestData;
pub use shape::{SchemaDescriptions, check_shape, is_introspection_only, selected_operation};

use async_graphql::Schema;

use crate::config::Limits;

pub type AppSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// The one schema builder, used by the server, the tests and `devgraph schema`.
/// Depth is checked by `check_shape` before execution rather than by
/// async-graphql's `limit_depth`, which counts introspection fields like data
/// and so refused the standard introspection query.
pub fn build_schema(limits: &Limits) -> AppSchema {
    Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    .limit_complexity(limits.max_complexity)
    .finish()
}

/// The SDL that `schema.graphql` must equal: everything introspection
/// tells, `@specifiedBy` included (async-graphql leaves it out by default).
pub fn sdl() -> String {
    let options = async_graphql::SDLExportOptions::new().include_specified_by();
    build_schema(&Limits::default()).sdl_with_options(options)
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptySubscription, Request, Schema, Variables, extensions::Analyzer};
    use serde_json::json;

    use super::*;

    /// Every root field of the schema, per root type, from its SDL.
    fn root_fields(root: &str) -> Vec<String> {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let doc = async_graphql::parser::parse_schema(sdl()).unwrap();
        doc.definitions
            .into_iter()
            .filter_map(|def| match def {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == root => Some(ty.node.kind),
                _ => None,
            })
            .flat_map(|kind| match kind {
                TypeKind::Object(object) => object.fields,
                _ => Vec::new(),
            })
            .map(|field| field.node.name.node.to_string())
            .collect()
    }

    /// The points a request is charged are what async-graphql itself
    /// computes as the document's complexity (its Analyzer extension):
    /// every root field weighs through `cost::root`, so none is missed,
    /// whatever the document selects under it.
    #[tokio::test]
    async fn root_weights_add_up_to_the_complexity_of_the_document() {
        let limits = Limits::default();
        let analyzed = Schema::build(
            query::QueryRoot,
            mutation::MutationRoot::default(),
            EmptySubscription,
        )
        .extension(Analyzer)
        .finish();
        let query = r#"
            query Q($ids: [ID!]!, $from: Date!, $to: Date!) {
              viewer { id developer { name } }
              organization {
                name
                teamSpaces(first: 7) { nodes { name developers { nodes {
                  id activity(from: $from, to: $to) { day count } } } } }
                metrics(from: $from, to: $to, groupBy: [DAY, EVENT_NAME]) { day count }
              }
              teamSpaces(last: 3) { edges { node { ...Space } } }
              teamSpace(id: "x") { ...Space }
              developers { totalCount nodes { name } }
              developer(id: "x") { name }
              projects(first: 4) { nodes { name
                metrics(from: $from, to: $to, groupBy: [PROJECT]) { projectId count } } }
              project(id: "x") { name }
              node(id: "x") { id ... on Developer { name } }
              nodes(ids: $ids) { id }
              again: nodes(ids: $ids) { id ... on Developer { name email } }
            }
            fragment Space on TeamSpace { name developers(first: 2) { nodes { name } } }
        "#;
        let mutation = r#"
            mutation {
              updateOrganization(input: { name: "n" }) { organization { name } }
              createTeamSpace(input: { name: "n", slug: "n" }) { teamSpace { id name } }
              updateTeamSpace(input: { id: "x", name: "n" }) { teamSpace { id } }
              deleteTeamSpace(input: { id: "x" }) { deletedTeamSpaceId removedMemberCount }
              addTeamSpaceMember(input: { teamSpaceId: "x", developerId: "y" }) { role developer { id } }
              updateTeamSpaceMember(input: { teamSpaceId: "x", developerId: "y", role: LEAD }) { role teamSpace { name } }
              removeTeamSpaceMember(input: { teamSpaceId: "x", developerId: "y" }) { removedDeveloperId }
              createDeveloper(input: { name: "n", email: "e@x.y" }) { developer { id } }
              updateDeveloper(input: { id: "x", name: "n" }) { developer { id } }
              changeDeveloperRole(input: { id: "x", role: ADMIN }) { developer { id } }
              deactivateDeveloper(input: { id: "x" }) { developer { id } }
              reactivateDeveloper(input: { id: "x" }) { developer { id } }
              createProject(input: { name: "n", slug: "n" }) { project { id } }
              updateProject(input: { id: "x", name: "n" }) { project { id } }
              deleteProject(input: { id: "x" }) { deletedProjectId }
              createApiKey(input: { name: "n", scopes: [READ] }) { secret }
              revokeApiKey(input: { id: "x" }) { apiKey { id } }
              recordEvents(input: { projectId: "x", events: [] }) { accepted duplicated }
              connectRepository(input: { projectId: "x", fullName: "a/b" }) { webhookSecret repository { id } }
              updateRepository(input: { id: "x", fullName: "a/c" }) { repository { id } }
              disconnectRepository(input: { id: "x" }) { disconnectedRepositoryId }
              rotateWebhookSecret(input: { repositoryId: "x" }) { webhookSecret }
              linkIdentity(input: { identityId: "x", developerId: "y" }) { identity { id } }
              unlinkIdentity(input: { identityId: "x" }) { identity { id } }
              recordDeployment(input: { projectId: "x", environment: "prod", status: PENDING, startedAt: "2026-01-01T00:00:00Z" }) { deployment { id } }
              recordIncident(input: { projectId: "x", title: "t", openedAt: "2026-01-01T00:00:00Z" }) { incident { id } }
            }
        "#;
        let variables = json!({ "ids": ["a", "b", "c"], "from": "2026-01-01", "to": "2026-03-31" });
        for (root, document) in [("Query", query), ("Mutation", mutation)] {
            let parsed = async_graphql::parser::parse_query(document).unwrap();
            let selected: Vec<String> = parsed
                .operations
                .iter()
                .flat_map(|(_, op)| op.node.selection_set.node.items.clone())
                .filter_map(|item| match item.node {
                    async_graphql::parser::types::Selection::Field(f) => {
                        Some(f.node.name.node.to_string())
                    }
                    _ => None,
                })
                .collect();
            let fields = root_fields(root);
            assert!(fields.len() >= 10, "{root}: {fields:?}");
            for field in fields {
                assert!(selected.contains(&field), "the test selects {root}.{field}");
            }
            let request =
                || Request::new(document).variables(Variables::from_json(variables.clone()));
            let (response, spent) = weighed(&limits, None, analyzed.execute(request())).await;
            let analyzer = response.extensions.get("analyzer");
            let complexity = analyzer
                .and_then(|a| a.clone().into_json().ok())
                .and_then(|a| a["complexity"].as_u64());
            assert_eq!(
                Some(spent.points),
                complexity,
                "{root}: {:?}",
                response.errors
            );
            assert!(!spent.over_allowance);
            // One point short of its weight, the same document does not run.
            let short = Some(spent.points - 1);
            let plain = build_schema(&limits);
            let (refused, again) = weighed(&limits, short, plain.execute(request())).await;
            assert!(again.over_allowance, "{root}");
            assert!(
                refused.data == async_graphql::Value::Null,
                "{root}: nothing ran"
            );
        }
    }
}
