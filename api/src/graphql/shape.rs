//! The depth rules of a document, checked before it runs: data selections
//! may nest `max_depth` fields; introspection (`__schema`, `__type`) has its
//! own bounds, because the standard introspection query that GraphiQL and
//! codegen send nests deeper than any dashboard query (15 fields with
//! graphql-js's default `typeDepth` of 9) but costs nothing per row. Its cost
//! is bounded by what can multiply it: at most `INTROSPECTION_MAX_LISTS` list
//! fields (`types`, `fields`, `args`, ...) on one path, as in the standard
//! query, so one selection returns at most types × fields × arguments
//! objects; aliases, root fields and document size are limited as for any
//! query.
//!
//! Aliases and root fields are counted with fragments expanded: a fragment
//! spread twice counts twice, however deeply it nests, so no spread hides
//! what it selects.
//!
//! Introspection types only have introspection fields, so no data selection
//! can hide inside `__schema` or `__type` to escape the data depth limit.
//!
//! It also reads what else the HTTP layer asks of a document before it
//! runs: the operation that would run, whether it is introspection only, and
//! where `__schema { description }` answers.
//!
//! These are plain functions on the parsed document rather than an
//! async-graphql extension: any installed extension sends every field of
//! every response through async-graphql's slower per-field hook path.

use std::collections::HashMap;

use async_graphql::{
    Name,
    parser::types::{
        ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
    },
};

use crate::{
    config::{Introspection, Limits},
    error::AppError,
};

/// Deepest introspection path: the standard query reaches 15; this leaves
/// room for a `typeDepth` of up to 14.
const INTROSPECTION_MAX_DEPTH: usize = 20;
/// Most introspection list fields on one path (`__schema.types.fields.args`
/// in the standard query).
const INTROSPECTION_MAX_LISTS: usize = 3;

/// Introspection fields that return lists of objects.
const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "directives",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
];

fn is_introspection_root(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

/// Refuses a document deeper or wider than the limits (depth, aliases, root
/// fields), or one that introspects when introspection is off.
pub fn check_shape(
    doc: &ExecutableDocument,
    limits: &Limits,
    introspection: Introspection,
) -> Result<(), AppError> {
    let shape = Shape::of(doc);
    if shape.introspects && introspection == Introspection::Off {
        return Err(AppError::Forbidden(
            "introspection is turned off on this server; the schema is published as schema.graphql"
                .into(),
        ));
    }
    if shape.aliases > limits.max_aliases as u64 {
        return Err(refuse(format!(
            "the query has {} aliases (fragments expanded); at most {} are allowed",
            shape.aliases, limits.max_aliases
        )));
    }
    if shape.width > limits.max_root_fields as u64 {
        return Err(refuse(format!(
            "an operation selects {} root fields (fragments expanded); at most {} are allowed",
            shape.width, limits.max_root_fields
        )));
    }
    let max_depth = limits.max_depth;
    if shape.data_depth > max_depth {
        return Err(refuse(format!(
            "the query nests {} fields deep; at most {max_depth} are allowed",
            shape.data_depth
        )));
    }
    if shape.introspection_depth > INTROSPECTION_MAX_DEPTH
        || shape.introspection_lists > INTROSPECTION_MAX_LISTS
    {
        return Err(refuse(format!(
            "an introspection selection may nest {INTROSPECTION_MAX_DEPTH} fields and \
             {INTROSPECTION_MAX_LISTS} list fields deep; this one nests {} and {}",
            shape.introspection_depth, shape.introspection_lists
        )));
    }
    Ok(())
}

fn refuse(message: String) -> AppError {
    tracing::warn!(%message, "query refused by a limit");
    AppError::LimitExceeded(message)
}

/// The operation GetOperation() of the GraphQL spec would pick: the one
/// named, or the only one.
pub fn selected_operation<'a>(
    doc: &'a ExecutableDocument,
    wanted: Option<&str>,
) -> Option<(Option<&'a Name>, &'a OperationDefinition)> {
    let mut candidates = doc.operations.iter().filter(|(name, _)| match wanted {
        Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
        None => true,
    });
    let (name, op) = candidates.next()?;
    candidates.next().is_none().then_some((name, &op.node))
}

/// Whether the operation that would run selects only introspection
/// (`__schema`, `__type`, `__typename`) at its root, so it reads no tenant
/// data and may be answered without a caller when introspection is open.
pub fn is_introspection_only(doc: &ExecutableDocument, operation: Option<&str>) -> bool {
    let Some((_, op)) = selected_operation(doc, operation) else {
        return false;
    };
    // A cycle or an unknown fragment (`None`) is validation's to report; it
    // is not a reason to answer without a caller.
    op.ty == OperationType::Query
        && fields_of(&op.selection_set.node, doc).is_some_and(|fields| {
            fields.iter().all(|f| {
                let name = f.name.node.as_str();
                is_introspection_root(name) || name == "__typename"
            })
        })
}

/// async-graphql answers `__schema { description }` with the description of
/// the `__Schema` type itself (a fixed sentence, added upstream so that
/// GraphiQL's query validates), where the spec wants the schema's own
/// description, and devgraph's schema has none. This finds the response keys
/// of every `__schema { description }` of a document before it runs, so the
/// answer can carry null there, as graphql-js and `schema.graphql` say.
#[derive(Debug, Default)]
pub struct SchemaDescriptions(Vec<(String, String)>);

impl SchemaDescriptions {
    pub fn of(doc: &ExecutableDocument) -> SchemaDescriptions {
        let key = |f: &Field| f.response_key().node.to_string();
        let named = |set, name: &'static str| {
            fields_of(set, doc)
                .unwrap_or_default()
                .into_iter()
                .filter(move |f| f.name.node == name)
        };
        let mut found = Vec::new();
        for (_, op) in doc.operations.iter() {
            for schema in named(&op.node.selection_set.node, "__schema") {
                for description in named(&schema.selection_set.node, "description") {
                    found.push((key(schema), key(description)));
                }
            }
        }
        SchemaDescriptions(found)
    }

    pub fn apply(&self, data: &mut async_graphql::Value) {
        use async_graphql::Value;
        for (schema_key, key) in &self.0 {
            if let Value::Object(root) = data
                && let Some(Value::Object(schema)) = root.get_mut(schema_key.as_str())
                && let Some(description) = schema.get_mut(key.as_str())
            {
                *description = Value::Null;
            }
        }
    }
}

/// The fields a selection set selects, through inline fragments and
/// fragment spreads; `None` when a spread names an unknown fragment or one
/// already on its path (validation refuses both).
fn fields_of<'a>(set: &'a SelectionSet, doc: &'a ExecutableDocument) -> Option<Vec<&'a Field>> {
    fn walk<'a>(
        set: &'a SelectionSet,
        doc: &'a ExecutableDocument,
        path: &mut Vec<&'a str>,
        out: &mut Vec<&'a Field>,
    ) -> Option<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => out.push(&f.node),
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node, doc, path, out)?,
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if path.contains(&name) {
                        return None;
                    }
                    let fragment = doc.fragments.get(&s.node.fragment_name.node)?;
                    path.push(name);
                    walk(&fragment.node.selection_set.node, doc, path, out)?;
                    path.pop();
                }
            }
        }
        Some(())
    }
    let mut out = Vec::new();
    walk(set, doc, &mut Vec::new(), &mut out)?;
    Some(out)
}

/// How deep and how wide a selection set is, relative to itself, with
/// fragments expanded. Depths combine by maximum, counts by (saturating)
/// sum: a fragment bomb's expanded count is computed without expanding it,
/// and saturates instead of overflowing.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    /// Deepest path outside introspection.
    data_depth: usize,
    /// Deepest path that enters introspection, counted from the set.
    introspection_depth: usize,
    /// Most introspection list fields on one path.
    introspection_lists: usize,
    introspects: bool,
    /// Aliased fields in the set and below it.
    aliases: u64,
    /// Fields the set selects at its own level (for an operation: its root
    /// fields); of a whole document, the most of any operation.
    width: u64,
}

impl Shape {
    /// Two parts of one selection set: deepest of either, counts added.
    fn and(self, other: Shape) -> Shape {
        Shape {
            data_depth: self.data_depth.max(other.data_depth),
            introspection_depth: self.introspection_depth.max(other.introspection_depth),
            introspection_lists: self.introspection_lists.max(other.introspection_lists),
            introspects: self.introspects || other.introspects,
            aliases: self.aliases.saturating_add(other.aliases),
            width: self.width.saturating_add(other.width),
        }
    }

    /// The shape of a document: its operations' depths and aliases as if
    /// one set, its width the widest operation's.
    fn of(doc: &ExecutableDocument) -> Shape {
        let mut walker = Walker {
            doc,
            memo: HashMap::new(),
        };
        doc.operations
            .iter()
            .map(|(_, op)| walker.set(&op.node.selection_set.node, false))
            .fold(Shape::default(), |all, op| Shape {
                width: all.width.max(op.width),
                ..all.and(op)
            })
    }
}

/// Walks a document with fragments expanded. Each fragment's shape is
/// computed once per mode and reused, so a document of fragments spread
/// many times over costs its size, not its expansion; a fragment cycle
/// (refused later by validation) counts as empty.
struct Walker<'a> {
    doc: &'a ExecutableDocument,
    memo: HashMap<(&'a str, bool), Option<Shape>>,
}

impl<'a> Walker<'a> {
    fn set(&mut self, set: &'a SelectionSet, introspecting: bool) -> Shape {
        let mut shape = Shape::default();
        for item in &set.items {
            let inner = match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    let enters = !introspecting && is_introspection_root(name);
                    let inside = introspecting || enters;
                    let child = self.set(&f.node.selection_set.node, inside);
                    let aliases = u64::from(f.node.alias.is_some()).saturating_add(child.aliases);
                    if inside {
                        let list = introspecting && INTROSPECTION_LISTS.contains(&name);
                        Shape {
                            data_depth: 0,
                            introspection_depth: 1 + child.introspection_depth,
                            introspection_lists: usize::from(list) + child.introspection_lists,
                            introspects: true,
                            aliases,
                            width: 1,
                        }
                    } else {
                        Shape {
                            data_depth: 1 + child.data_depth,
                            introspection_depth: if child.introspects {
                                1 + child.introspection_depth
                            } else {
                                0
                            },
                            aliases,
                            width: 1,
                            ..child
                        }
                    }
                }
                Selection::InlineFragment(f) => self.set(&f.node.selection_set.node, introspecting),
                Selection::FragmentSpread(s) => {
                    self.fragment(&s.node.fragment_name.node, introspecting)
                }
            };
            shape = shape.and(inner);
        }
        shape
    }

    fn fragment(&mut self, name: &'a str, introspecting: bool) -> Shape {
        let key = (name, introspecting);
        match self.memo.get(&key) {
            Some(Some(shape)) => return *shape,
            Some(None) => return Shape::default(),
            None => {}
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Shape::default();
        };
        self.memo.insert(key, None);
        let shape = self.set(&fragment.node.selection_set.node, introspecting);
        self.memo.insert(key, Some(shape));
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn shape(query: &str) -> Shape {
        Shape::of(&parse_query(query).unwrap())
    }

    /// `start`, then fragments F0..F{levels-1} whose selection is `body`
    /// with `{next}` naming the next one, and the last, F{levels}, of `leaf`.
    fn fan_out(start: &str, levels: usize, body: &str, leaf: &str) -> String {
        let mut doc = String::from(start);
        for i in 0..levels {
            let body = body.replace("{next}", &(i + 1).to_string());
            doc.push_str(&format!(" fragment F{i} on Query {{ {body} }}"));
        }
        doc.push_str(&format!(" fragment F{levels} on Query {{ {leaf} }}"));
        doc
    }

    #[test]
    fn data_depth_counts_fields_through_fragments() {
        assert_eq!(shape("{ a { b { c } } }").data_depth, 3);
        let spread = "{ a { ...F } } fragment F on T { b { ...G } } fragment G on T { c { d } }";
        assert_eq!(shape(spread).data_depth, 4);
        assert_eq!(shape("{ a { ... on T { b } } }").data_depth, 2);
        assert!(!shape(spread).introspects);
    }

    #[test]
    fn introspection_has_its_own_depth_and_list_count() {
        let s = shape(
            "{ viewer { id } __schema { types { fields { args { type { ofType { name } } } } } } }",
        );
        assert_eq!(s.data_depth, 2);
        assert_eq!(s.introspection_depth, 7);
        assert_eq!(s.introspection_lists, 3);
        assert!(s.introspects);
        let s = shape(
            "{ __type(name: \"Query\") { fields { type { fields { type { fields { name } } } } } } }",
        );
        assert_eq!(s.introspection_lists, 3);
        let s = shape(
            "{ __type(name: \"Query\") { fields { type { fields { type { fields { type { fields { name } } } } } } } } }",
        );
        assert_eq!(s.introspection_lists, 4);
    }

    #[test]
    fn a_field_named_like_an_introspection_list_is_data_outside_introspection() {
        let s = shape("{ fields { types { args { name } } } }");
        assert_eq!(s.introspection_lists, 0);
        assert_eq!(s.data_depth, 4);
    }

    #[test]
    fn fragment_cycles_and_fan_out_terminate() {
        let cycle = "{ a { ...F } } fragment F on T { b { ...F } }";
        assert_eq!(shape(cycle).data_depth, 2);
        // 30 fragments each spreading the next twice: 2^30 paths if expanded.
        let doc = fan_out(
            "{ a { ...F0 } }",
            30,
            "x { ...F{next} } y { ...F{next} }",
            "z",
        );
        assert_eq!(shape(&doc).data_depth, 32);
    }

    #[test]
    fn aliases_and_root_fields_count_every_spread() {
        let s = shape("{ a: viewer { id } ...F ...F } fragment F on Query { b: viewer { c: id } }");
        assert_eq!(
            s.aliases, 5,
            "F's two aliases count at each of its two spreads"
        );
        assert_eq!(s.width, 3);
        // Twelve levels of inline fragments hide nothing.
        let nested = format!(
            "{{ {} viewer {{ id }} {} }}",
            "... on Query {".repeat(12),
            "}".repeat(12)
        );
        assert_eq!(shape(&nested).width, 1);
        let wide = "{ ...A ...A } fragment A on Query { ...B ...B } fragment B on Query { x: viewer { id } }";
        assert_eq!((shape(wide).width, shape(wide).aliases), (4, 4));
        // The widest operation, not the sum of all.
        assert_eq!(shape("query A { a b } query B { c }").width, 2);
    }

    #[test]
    fn expanded_counts_of_a_fragment_bomb_saturate() {
        let doc = fan_out("{ ...F0 }", 70, "...F{next} ...F{next}", "a: viewer { id }");
        let s = shape(&doc);
        assert_eq!((s.width, s.aliases), (u64::MAX, u64::MAX));
    }

    #[test]
    fn introspection_only_operations_are_recognised() {
        let yes = |q: &str, op: Option<&str>| is_introspection_only(&parse_query(q).unwrap(), op);
        assert!(yes("{ __typename }", None));
        assert!(yes(
            "query Q { __schema { types { name } } ...F } fragment F on Query { __type(name: \"X\") { name } }",
            None
        ));
        assert!(!yes("{ __typename viewer { id } }", None));
        assert!(!yes("{ ...F } fragment F on Query { viewer { id } }", None));
        assert!(!yes("mutation { __typename }", None));
        assert!(!yes("{ ...F } fragment F on Query { ...F }", None));
        let two = "query A { __typename } query B { viewer { id } }";
        assert!(yes(two, Some("A")));
        assert!(!yes(two, Some("B")));
        assert!(!yes(two, None));
        assert!(!yes(two, Some("C")));
    }
}
