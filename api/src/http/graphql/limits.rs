//! Limits on a GraphQL document checked before execution: its size, its
//! aliases and its root fields. Depth and complexity are the schema's
//! (async-graphql's) own limits. Each refusal is LIMIT_EXCEEDED and a log
//! line, so abuse is visible to operators.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::{config::Limits, error::AppError};

/// `doc` is the parsed `query`, when it parses: a document that does not is
/// left to execution, which names the syntax error precisely.
pub fn check(
    query: &str,
    doc: Option<&ExecutableDocument>,
    limits: &Limits,
) -> Result<(), AppError> {
    if query.len() > limits.max_query_bytes {
        return Err(refuse(format!(
            "the query is {} bytes; at most {} are allowed",
            query.len(),
            limits.max_query_bytes
        )));
    }
    let Some(doc) = doc else {
        return Ok(());
    };
    let aliases = count_aliases(doc);
    if aliases > limits.max_aliases {
        return Err(refuse(format!(
            "the query has {aliases} aliases; at most {} are allowed",
            limits.max_aliases
        )));
    }
    for (_, op) in doc.operations.iter() {
        let roots = root_fields(&op.node.selection_set.node, doc, 0);
        if roots > limits.max_root_fields {
            return Err(refuse(format!(
                "an operation selects {roots} root fields; at most {} are allowed",
                limits.max_root_fields
            )));
        }
    }
    Ok(())
}

fn refuse(message: String) -> AppError {
    tracing::warn!(%message, "query refused by a limit");
    AppError::LimitExceeded(message)
}

/// Aliases written in the document (operations and fragment definitions,
/// each counted once: fragment spreads are not expanded).
fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + in_set(&f.node.selection_set.node)
                }
                Selection::InlineFragment(f) => in_set(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let ops: usize = doc
        .operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| in_set(&f.node.selection_set.node))
        .sum();
    ops + fragments
}

/// Root fields of an operation, through fragments (bounded against cycles,
/// which validation rejects anyway).
fn root_fields(set: &SelectionSet, doc: &ExecutableDocument, depth: usize) -> usize {
    if depth > 8 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => root_fields(&f.node.selection_set.node, doc, depth + 1),
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.node.fragment_name.node)
                .map(|f| root_fields(&f.node.selection_set.node, doc, depth + 1))
                .unwrap_or(0),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn check(query: &str, limits: &Limits) -> Result<(), AppError> {
        super::check(query, parse_query(query).ok().as_ref(), limits)
    }

    fn limits() -> Limits {
        Limits {
            max_query_bytes: 200,
            max_aliases: 2,
            max_root_fields: 3,
            ..Limits::default()
        }
    }

    #[test]
    fn counts_aliases_and_root_fields() {
        assert!(check("{ a: viewer { id } b: viewer { id } }", &limits()).is_ok());
        let three = "{ a: viewer { id } b: viewer { id } c: viewer { id } }";
        assert_eq!(
            check(three, &limits()).unwrap_err().code(),
            "LIMIT_EXCEEDED"
        );
        let roots = "query { viewer { id } organization { id } teamSpaces { totalCount } ...F } fragment F on Query { projects { totalCount } }";
        assert!(
            check(
                roots,
                &Limits {
                    max_query_bytes: 1000,
                    ..limits()
                }
            )
            .is_err()
        );
        assert!(check(&"x".repeat(201), &limits()).is_err());
        assert!(
            check("{ not valid", &limits()).is_ok(),
            "syntax is execution's to report"
        );
    }
}
