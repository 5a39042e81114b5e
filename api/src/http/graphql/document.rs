//! What is read from a GraphQL document before it runs: the operation a
//! request selects, whether a GET would mutate, the limits (its size here;
//! `graphql::check_shape`: aliases, root fields, depth and introspection),
//! and the required variables. Each refusal is LIMIT_EXCEEDED and a log
//! line, so abuse is visible to operators.

use async_graphql::parser::{
    parse_query,
    types::{ExecutableDocument, OperationType},
};

use super::body::RawRequest;
use crate::{
    config::{Config, Limits},
    error::AppError,
    graphql::{check_shape, selected_operation},
};

/// Every check of a parsed or unparsed document before execution.
pub fn check(
    query: &str,
    raw: &RawRequest,
    doc: Option<&ExecutableDocument>,
    config: &Config,
) -> Result<(), AppError> {
    let limits = &config.limits;
    if query.len() > limits.max_query_bytes {
        let message = format!(
            "the query is {} bytes; at most {} are allowed",
            query.len(),
            limits.max_query_bytes
        );
        tracing::warn!(%message, "query refused by a limit");
        return Err(AppError::LimitExceeded(message));
    }
    if let Some(doc) = doc {
        check_shape(doc, limits, config.introspection)?;
        check_required_variables(raw, doc)?;
    }
    Ok(())
}

/// The name of the operation that runs: the one asked for, or the only one.
pub fn operation_name<'a>(
    doc: Option<&'a ExecutableDocument>,
    wanted: Option<&'a str>,
) -> Option<&'a str> {
    match (wanted, doc) {
        (Some(name), _) => Some(name),
        (None, Some(doc)) => selected_operation(doc, None)
            .and_then(|(name, _)| name)
            .map(|n| n.as_str()),
        (None, None) => None,
    }
}

/// The parsed document, unless it is over the size limit (the limits check
/// refuses it without the parsing) or does not parse (execution reports the
/// syntax error precisely).
pub fn parse_document(query: &str, limits: &Limits) -> Option<ExecutableDocument> {
    if query.len() > limits.max_query_bytes {
        return None;
    }
    parse_query(query).ok()
}

/// Whether the operation a GET would run is a mutation.
pub fn is_mutation(doc: &ExecutableDocument, wanted: Option<&str>) -> bool {
    doc.operations.iter().any(|(name, op)| {
        let selected = match (wanted, name) {
            (Some(w), Some(n)) => w == n.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && op.node.ty != OperationType::Query
    })
}

/// The type of the operation that would run, when one can be chosen
/// (`/graphql` refuses subscriptions, `/graphql/ws` everything else).
pub fn operation_type(doc: &ExecutableDocument, wanted: Option<&str>) -> Option<OperationType> {
    selected_operation(doc, wanted).map(|(_, op)| op.ty)
}

/// CoerceVariableValues() of the GraphQL spec, for what async-graphql leaves
/// to execution: a non-null variable with no value (and no default) or a
/// null one. async-graphql would run the operation and fail the field with
/// an uncoded error; the spec makes it a request error, before execution.
/// Documents that do not parse, or whose operation cannot be chosen, are
/// left to execution, which reports them properly.
fn check_required_variables(raw: &RawRequest, doc: &ExecutableDocument) -> Result<(), AppError> {
    let Some((_, op)) = selected_operation(doc, raw.operation_name.as_deref()) else {
        return Ok(());
    };
    for def in &op.variable_definitions {
        let def = &def.node;
        let value = raw
            .variables
            .as_ref()
            .and_then(|v| v.get(def.name.node.as_str()));
        let missing = match value {
            None => def.default_value.is_none(),
            Some(value) => value.is_null(),
        };
        if !def.var_type.node.nullable && missing {
            return Err(AppError::bad_field(
                "variables",
                format!(
                    "variable `${}` of required type `{}` was not provided",
                    def.name.node, def.var_type.node
                ),
            ));
        }
    }
    Ok(())
}
