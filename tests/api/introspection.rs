//! Introspection as real clients send it: the exact documents graphql-js 16
//! builds with `getIntrospectionQuery()` (tests/fixtures/introspection/,
//! written by tests/clients/introspection-fixtures.mjs) are answered, and the
//! answer describes the schema in schema.graphql; `DEVGRAPH_INTROSPECTION`
//! opens or closes it; its own bounds hold, and nothing hides inside it.

use std::{collections::BTreeMap, path::Path};

use crate::support::{Reply, TestApp};
use async_graphql::parser::{
    parse_schema,
    types::{TypeKind, TypeSystemDefinition},
};
use devgraph::config::Introspection;
use entity::enums::DeveloperRole;
use serde_json::{Value, json};

const GQL: &str = "application/graphql-response+json";

fn fixtures() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/introspection");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fixtures folder")
        .map(|e| e.expect("fixture").path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("read fixture"))
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= 8,
        "the fixtures are missing: {}",
        dir.display()
    );
    out
}

fn fixture(name: &str) -> String {
    let found = fixtures().into_iter().find(|(n, _)| n == name);
    found.map(|(_, query)| query).expect("fixture")
}

/// POSTs a query with the given bearer, or none.
async fn post(app: &TestApp, bearer: Option<&str>, query: &str) -> Reply {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .header("accept", GQL)
        .json(&json!({ "query": query }));
    if let Some(bearer) = bearer {
        req = req.bearer_auth(bearer);
    }
    TestApp::reply(req.send().await.expect("send")).await
}

async fn with_token(tweak: impl FnOnce(&mut devgraph::Config)) -> (TestApp, String) {
    let app = TestApp::spawn_with(tweak).await;
    let (_, _, token) = app
        .with_org_and_developer("acme", DeveloperRole::Viewer)
        .await;
    (app, token)
}

#[tokio::test]
async fn every_standard_introspection_query_describes_schema_graphql() {
    let (app, token) = with_token(|_| {}).await;
    let sdl = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql"))
        .expect("schema.graphql");
    for (name, query) in fixtures() {
        if name.starts_with("experimental-") {
            continue;
        }
        // Without credentials (introspection is open by default), and with.
        for bearer in [None, Some(token.as_str())] {
            let reply = post(&app, bearer, &query).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            let schema = &reply.ok()["__schema"];
            // Asked for unless the fixture turned `descriptions` off.
            let descriptions = schema["types"][0].get("description").is_some();
            assert_same(
                &name,
                &summarize_introspection(schema, descriptions),
                &summarize_sdl(&sdl, descriptions, schema),
            );
        }
    }
}

#[tokio::test]
async fn graphql_js_experimental_directive_deprecation_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let query = fixture("experimental-directive-deprecation");
    let reply = post(&app, None, &query).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"), "{}", reply.body);
    assert!(reply.body.get("data").is_none());
    let message = reply.body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("includeDeprecated"), "{message}");
}

#[tokio::test]
async fn anonymous_callers_get_introspection_only() {
    let app = TestApp::spawn().await;
    let ok = post(&app, None, "{ __typename }").await;
    assert_eq!(ok.ok()["__typename"], "Query");
    let by_get = app
        .client
        .get(app.url("/graphql?query=%7B__type(name%3A%22Query%22)%7Bname%7D%7D"))
        .header("accept", GQL)
        .send()
        .await
        .expect("GET");
    let by_get = TestApp::reply(by_get).await;
    assert_eq!(by_get.ok()["__type"]["name"], "Query");
    for query in [
        "{ __typename viewer { id } }",
        "{ viewer { id } }",
        "query { ...F } fragment F on Query { organization { id } }",
        "mutation { __typename }",
        "query A { __typename } query B { viewer { id } }",
    ] {
        let reply = post(&app, None, query).await;
        assert_eq!(reply.status, 401, "{query}: {}", reply.body);
        assert_eq!(reply.code(), Some("UNAUTHENTICATED"), "{query}");
    }
    // Credentials that are sent are checked, even for introspection.
    let bad = post(&app, Some("not-a-token"), "{ __typename }").await;
    assert_eq!(bad.status, 401, "{}", bad.body);
}

#[tokio::test]
async fn no_data_hides_inside_introspection() {
    let (app, token) = with_token(|_| {}).await;
    for bearer in [None, Some(token.as_str())] {
        let query = "{ __schema { types { ... on Query { organization { id name } } } } }";
        let reply = post(&app, bearer, query).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.body.get("data").is_none(), "{}", reply.body);
        let spread = "{ __type(name: \"Query\") { ...F } } fragment F on Query { viewer { id } }";
        let reply = post(&app, bearer, spread).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.body.get("data").is_none(), "{}", reply.body);
    }
}

#[tokio::test]
async fn introspection_has_its_own_bounds() {
    let app = TestApp::spawn().await;
    // Four nested lists: types × fields × fields × fields of the schema.
    let wide = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let reply = post(&app, None, wide).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), Some("LIMIT_EXCEEDED"));
    // A TypeRef chain deeper than the bound (graphql-js `typeDepth` 20).
    let mut chain = String::from("name");
    for _ in 0..20 {
        chain = format!("name ofType {{ {chain} }}");
    }
    let deep = format!("{{ __type(name: \"Query\") {{ fields {{ type {{ {chain} }} }} }} }}");
    let reply = post(&app, None, &deep).await;
    assert_eq!(reply.code(), Some("LIMIT_EXCEEDED"), "{}", reply.body);
    // The other limits count inside introspection too.
    let aliases: String = (0..60).map(|i| format!(" a{i}: __typename")).collect();
    let reply = post(
        &app,
        None,
        &format!("{{ __schema {{ queryType {{ {aliases} }} }} }}"),
    )
    .await;
    assert_eq!(reply.code(), Some("LIMIT_EXCEEDED"), "{}", reply.body);
}

#[tokio::test]
async fn authenticated_mode_needs_credentials() {
    let (app, token) = with_token(|c| c.introspection = Introspection::Authenticated).await;
    let query = fixture("default");
    let reply = post(&app, None, &query).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    let reply = post(&app, Some(&token), &query).await;
    assert!(reply.ok()["__schema"]["types"].as_array().is_some());
}

#[tokio::test]
async fn off_mode_refuses_schema_and_type_but_keeps_typename() {
    let (app, token) = with_token(|c| c.introspection = Introspection::Off).await;
    let query = fixture("default");
    for q in [query.as_str(), "{ __type(name: \"Query\") { name } }"] {
        let reply = post(&app, Some(&token), q).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.code(), Some("FORBIDDEN"), "{}", reply.body);
        assert!(reply.body.get("data").is_none());
        let anonymous = post(&app, None, q).await;
        assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    }
    let reply = post(&app, Some(&token), "{ __typename viewer { role } }").await;
    assert_eq!(reply.ok()["viewer"]["role"], "VIEWER");
}

/// Compares entry by entry, so a failure names the type that differs.
fn assert_same(fixture: &str, introspected: &Value, sdl: &Value) {
    for section in ["description", "query", "mutation", "subscription"] {
        assert_eq!(
            introspected[section], sdl[section],
            "{fixture}: {section} type"
        );
    }
    for section in ["types", "directives"] {
        let (a, b) = (&introspected[section], &sdl[section]);
        let names = |v: &Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
        assert_eq!(names(a), names(b), "{fixture}: the names of {section}");
        assert!(names(a).is_some_and(|n| !n.is_empty()) || section == "directives");
        for (name, entry) in a.as_object().into_iter().flatten() {
            assert_eq!(
                entry, &b[name],
                "{fixture}: {section} {name} (left: introspected)"
            );
        }
    }
}

/// The directives the spec defines, which an SDL may leave out.
const SPEC_DIRECTIVES: [&str; 5] = ["include", "skip", "deprecated", "specifiedBy", "oneOf"];

// Both sides summarized into one shape: type name -> kind, description,
// fields (type, arguments with types and defaults), interfaces, union
// members, enum values, input fields; directives; root types.

fn summarize_introspection(schema: &Value, descriptions: bool) -> Value {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let desc = |v: &Value| {
        if descriptions {
            json!(v["description"].as_str().filter(|d| !d.is_empty()))
        } else {
            Value::Null
        }
    };
    let inputs = |list: &Value| -> BTreeMap<String, Value> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                let entry = json!({
                    "type": type_ref(&a["type"]),
                    "default": a["defaultValue"].as_str().map(strip_spaces),
                    "description": desc(a),
                });
                (text(&a["name"]).unwrap(), entry)
            })
            .collect()
    };
    let names = |list: &Value| -> Vec<String> {
        let mut v: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| text(&t["name"]))
            .collect();
        v.sort();
        v
    };
    let mut types = BTreeMap::new();
    for t in schema["types"].as_array().expect("types") {
        let name = text(&t["name"]).unwrap();
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name.as_str()) {
            continue;
        }
        let fields: BTreeMap<String, Value> = t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let entry = json!({
                    "type": type_ref(&f["type"]),
                    "args": inputs(&f["args"]),
                    "deprecated": f["isDeprecated"].as_bool().unwrap_or(false),
                    "description": desc(f),
                });
                (text(&f["name"]).unwrap(), entry)
            })
            .collect();
        let values: BTreeMap<String, Value> = t["enumValues"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| (text(&v["name"]).unwrap(), desc(v)))
            .collect();
        let summary = json!({
            "kind": t["kind"],
            "description": desc(t),
            // Asked for by the `specifiedByUrl` option only.
            "specifiedBy": t.get("specifiedByURL").map(|u| json!(u)),
            "fields": fields,
            "interfaces": names(&t["interfaces"]),
            "members": if t["kind"] == "UNION" { names(&t["possibleTypes"]) } else { vec![] },
            "values": values,
            "inputFields": inputs(&t["inputFields"]),
        });
        types.insert(name, summary);
    }
    let directives: BTreeMap<String, Value> = schema["directives"]
        .as_array()
        .expect("directives")
        .iter()
        .filter(|d| !SPEC_DIRECTIVES.contains(&d["name"].as_str().unwrap_or("")))
        .map(|d| {
            let mut locations: Vec<String> = d["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(&text)
                .collect();
            locations.sort();
            let entry = json!({ "locations": locations, "args": inputs(&d["args"]) });
            (text(&d["name"]).unwrap(), entry)
        })
        .collect();
    json!({
        "description": schema.get("description").map(|d| json!(d)),
        "query": schema["queryType"]["name"],
        "mutation": schema["mutationType"]["name"],
        "subscription": schema["subscriptionType"]["name"],
        "types": types,
        "directives": directives,
    })
}

const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn type_ref(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or("?").to_owned(),
    }
}

fn strip_spaces(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect()
}

fn summarize_sdl(sdl: &str, descriptions: bool, asked: &Value) -> Value {
    use async_graphql::parser::{Positioned, types::InputValueDefinition};
    let doc = parse_schema(sdl).expect("schema.graphql parses");
    let desc = |d: &Option<Positioned<String>>| {
        if descriptions {
            json!(d.as_ref().map(|d| d.node.clone()))
        } else {
            Value::Null
        }
    };
    let inputs = |list: &[Positioned<InputValueDefinition>]| -> BTreeMap<String, Value> {
        list.iter()
            .map(|a| {
                let a = &a.node;
                let entry = json!({
                    "type": a.ty.node.to_string(),
                    "default": a.default_value.as_ref().map(|v| strip_spaces(&v.node.to_string())),
                    "description": desc(&a.description),
                });
                (a.name.node.to_string(), entry)
            })
            .collect()
    };
    let mut types = BTreeMap::new();
    let mut directives = BTreeMap::new();
    let mut roots = (Value::Null, Value::Null, Value::Null);
    for def in doc.definitions {
        match def {
            TypeSystemDefinition::Schema(s) => {
                let name = |n: &Option<Positioned<async_graphql::Name>>| {
                    json!(n.as_ref().map(|n| n.node.to_string()))
                };
                roots = (
                    name(&s.node.query),
                    name(&s.node.mutation),
                    name(&s.node.subscription),
                );
            }
            TypeSystemDefinition::Directive(d) => {
                let d = d.node;
                if SPEC_DIRECTIVES.contains(&d.name.node.as_str()) {
                    continue;
                }
                let mut locations: Vec<String> = d
                    .locations
                    .iter()
                    .map(|l| format!("{:?}", l.node))
                    .map(|l| screaming(&l))
                    .collect();
                locations.sort();
                let entry = json!({ "locations": locations, "args": inputs(&d.arguments) });
                directives.insert(d.name.node.to_string(), entry);
            }
            TypeSystemDefinition::Type(t) => {
                let t = t.node;
                let specified_by = t
                    .directives
                    .iter()
                    .find(|d| d.node.name.node == "specifiedBy")
                    .and_then(|d| d.node.get_argument("url"))
                    .map(|url| url.node.clone().into_json().unwrap_or_default());
                let asked_specified_by = asked["types"][0].get("specifiedByURL").is_some();
                let mut summary = json!({
                    "description": desc(&t.description),
                    "specifiedBy": asked_specified_by.then(|| specified_by.unwrap_or(Value::Null)),
                    "fields": {}, "interfaces": [], "members": [], "values": {}, "inputFields": {},
                });
                let fields =
                    |list: &[Positioned<async_graphql::parser::types::FieldDefinition>]| {
                        list.iter()
                            .map(|f| {
                                let f = &f.node;
                                let deprecated = f
                                    .directives
                                    .iter()
                                    .any(|d| d.node.name.node == "deprecated");
                                let entry = json!({
                                    "type": f.ty.node.to_string(),
                                    "args": inputs(&f.arguments),
                                    "deprecated": deprecated,
                                    "description": desc(&f.description),
                                });
                                (f.name.node.to_string(), entry)
                            })
                            .collect::<BTreeMap<_, _>>()
                    };
                let sorted = |names: Vec<String>| {
                    let mut names = names;
                    names.sort();
                    names
                };
                let kind = match &t.kind {
                    TypeKind::Scalar => "SCALAR",
                    TypeKind::Object(o) => {
                        summary["fields"] = json!(fields(&o.fields));
                        summary["interfaces"] = json!(sorted(
                            o.implements.iter().map(|i| i.node.to_string()).collect()
                        ));
                        "OBJECT"
                    }
                    TypeKind::Interface(i) => {
                        summary["fields"] = json!(fields(&i.fields));
                        summary["interfaces"] = json!(sorted(
                            i.implements.iter().map(|i| i.node.to_string()).collect()
                        ));
                        "INTERFACE"
                    }
                    TypeKind::Union(u) => {
                        summary["members"] = json!(sorted(
                            u.members.iter().map(|m| m.node.to_string()).collect()
                        ));
                        "UNION"
                    }
                    TypeKind::Enum(e) => {
                        let values: BTreeMap<String, Value> = e
                            .values
                            .iter()
                            .map(|v| (v.node.value.node.to_string(), desc(&v.node.description)))
                            .collect();
                        summary["values"] = json!(values);
                        "ENUM"
                    }
                    TypeKind::InputObject(i) => {
                        summary["inputFields"] = json!(inputs(&i.fields));
                        "INPUT_OBJECT"
                    }
                };
                summary["kind"] = json!(kind);
                types.insert(t.name.node.to_string(), summary);
            }
        }
    }
    json!({
        // schema.graphql gives the schema no description.
        "description": asked.get("description").map(|_| Value::Null),
        "query": roots.0,
        "mutation": roots.1,
        "subscription": roots.2,
        "types": types,
        "directives": directives,
    })
}

/// `FragmentSpread` -> `FRAGMENT_SPREAD`, as introspection spells locations.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
