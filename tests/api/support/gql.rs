//! Mutations as the tests send them: one `input` written as a GraphQL
//! literal from JSON (so the tests do not depend on the input types' names),
//! a fixed selection per payload, and the checks every mutation test shares.
//! The `check_*` functions return `Err(description)` so a table-driven test
//! can collect every failing cell before it fails.

use serde_json::{Value, json};

use crate::support::{Reply, TestApp};

/// Every mutation of the spec.
pub const MUTATIONS: [&str; 25] = [
    "updateOrganization",
    "createTeamSpace",
    "updateTeamSpace",
    "deleteTeamSpace",
    "addTeamSpaceMember",
    "updateTeamSpaceMember",
    "removeTeamSpaceMember",
    "createDeveloper",
    "updateDeveloper",
    "changeDeveloperRole",
    "deactivateDeveloper",
    "reactivateDeveloper",
    "createProject",
    "updateProject",
    "deleteProject",
    "createApiKey",
    "revokeApiKey",
    "connectRepository",
    "updateRepository",
    "disconnectRepository",
    "rotateWebhookSecret",
    "linkIdentity",
    "unlinkIdentity",
    "recordDeployment",
    "recordIncident",
];

/// Input fields whose values are GraphQL enums, written without quotes.
const ENUM_FIELDS: &[&str] = &["role", "scopes", "kind", "status", "tier", "provider"];

/// `{name: "x", role: LEAD, scopes: [READ], teamSpaceId: null}` from JSON;
/// an absent key stays absent. JSON string escapes are valid GraphQL ones.
pub fn literal(value: &Value) -> String {
    lit(value, false)
}

fn lit(value: &Value, bare: bool) -> String {
    match value {
        Value::Object(map) => {
            let fields = map.iter().map(|(key, v)| {
                let bare = ENUM_FIELDS.contains(&key.as_str());
                format!("{key}: {}", lit(v, bare))
            });
            format!("{{{}}}", fields.collect::<Vec<_>>().join(", "))
        }
        Value::Array(items) => {
            let items = items.iter().map(|v| lit(v, bare));
            format!("[{}]", items.collect::<Vec<_>>().join(", "))
        }
        Value::String(text) if bare => text.clone(),
        other => other.to_string(),
    }
}

/// The payload fields each test reads.
pub fn selection(mutation: &str) -> &'static str {
    const DEVELOPER: &str = "{ developer { id name email role active deactivatedAt } }";
    match mutation {
        "updateOrganization" => "{ organization { id name slug } }",
        "createTeamSpace" | "updateTeamSpace" => "{ teamSpace { id name slug description } }",
        "deleteTeamSpace" => "{ deletedTeamSpaceId detachedProjectCount removedMemberCount }",
        "addTeamSpaceMember" | "updateTeamSpaceMember" => {
            "{ teamSpace { id } developer { id } role }"
        }
        "removeTeamSpaceMember" => "{ teamSpace { id } removedDeveloperId }",
        "createDeveloper"
        | "updateDeveloper"
        | "changeDeveloperRole"
        | "deactivateDeveloper"
        | "reactivateDeveloper" => DEVELOPER,
        "createProject" | "updateProject" => "{ project { id name slug teamSpace { id } } }",
        "deleteProject" => "{ deletedProjectId }",
        "createApiKey" => {
            "{ secret apiKey { id name prefix scopes project { id } createdAt lastUsedAt revokedAt } }"
        }
        "revokeApiKey" => "{ apiKey { id name prefix revokedAt } }",
        "recordEvents" => "{ accepted duplicated unmatched }",
        "connectRepository" => "{ repository { id fullName } webhookSecret webhookPath }",
        "updateRepository" => "{ repository { id fullName defaultBranch } }",
        "disconnectRepository" => "{ disconnectedRepositoryId }",
        "rotateWebhookSecret" => "{ repository { id } webhookSecret }",
        "linkIdentity" | "unlinkIdentity" => "{ identity { id kind value developer { id } } }",
        "recordDeployment" => "{ deployment { id externalId environment tier status } }",
        "recordIncident" => "{ incident { id externalId title openedAt resolvedAt } }",
        other => panic!("no selection for mutation {other}"),
    }
}

pub fn document(mutation: &str, input: &Value) -> String {
    let (input, selection) = (literal(input), selection(mutation));
    format!("mutation {{ {mutation}(input: {input}) {selection} }}")
}

/// Runs one mutation with a bearer token (a JWT or an API key).
pub async fn mutate(app: &TestApp, token: &str, mutation: &str, input: Value) -> Reply {
    app.gql(token, &document(mutation, &input), json!({})).await
}

pub fn compact(body: &Value) -> String {
    let text = body.to_string();
    if text.len() > 1200 {
        format!("{}…", &text[..1200])
    } else {
        text
    }
}

/// Error messages that show SQL or database internals.
pub fn check_no_sql(reply: &Reply) -> Result<(), String> {
    let errors = reply.body["errors"].as_array().cloned().unwrap_or_default();
    for message in errors.iter().filter_map(|e| e["message"].as_str()) {
        let lower = message.to_lowercase();
        let upper = ["SELECT", "INSERT", "UPDATE ", "DELETE FROM"];
        let any_case = [
            "sqlx",
            "constraint",
            "uq_",
            "pk_",
            "fk_",
            "sqlite",
            "postgres",
        ];
        if upper.iter().any(|n| message.contains(n)) || any_case.iter().any(|n| lower.contains(n)) {
            return Err(format!("error message leaks SQL/internals: {message:?}"));
        }
    }
    Ok(())
}

/// Success: HTTP 200, no errors, the payload an object.
pub fn check_ok(reply: &Reply, mutation: &str) -> Result<Value, String> {
    let payload = &reply.body["data"][mutation];
    if reply.status != 200 || reply.body.get("errors").is_some() || !payload.is_object() {
        return Err(format!(
            "expected success, got HTTP {} {}",
            reply.status,
            compact(&reply.body)
        ));
    }
    Ok(payload.clone())
}

/// Refusal: exactly one error with `code`, HTTP 200, `data.<mutation>` null
/// (present), and no SQL in the message.
pub fn check_refused(reply: &Reply, mutation: &str, code: &str) -> Result<(), String> {
    let body = compact(&reply.body);
    if reply.codes() != [code] {
        return Err(format!(
            "expected exactly one {code}, got {:?}: {body}",
            reply.codes()
        ));
    }
    if reply.status != 200 {
        return Err(format!(
            "expected HTTP 200 for a field error, got {}: {body}",
            reply.status
        ));
    }
    if reply.body["data"].get(mutation) != Some(&Value::Null) {
        return Err(format!("expected data.{mutation} = null: {body}"));
    }
    check_no_sql(reply)
}

/// `check_refused` and `extensions.field` naming `field`.
pub fn check_refused_on(
    reply: &Reply,
    mutation: &str,
    code: &str,
    field: &str,
) -> Result<(), String> {
    check_refused(reply, mutation, code)?;
    let got = &reply.body["errors"][0]["extensions"]["field"];
    if got != field {
        return Err(format!(
            "expected extensions.field {field:?}, got {got}: {}",
            compact(&reply.body)
        ));
    }
    Ok(())
}

/// The payload of a successful mutation, or a panic with the whole body.
pub fn ok(reply: &Reply, mutation: &str) -> Value {
    check_ok(reply, mutation).unwrap_or_else(|e| panic!("{mutation}: {e}"))
}

/// A string at a JSON pointer, or a panic naming it.
pub fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    let found = value.pointer(pointer).and_then(Value::as_str);
    found.unwrap_or_else(|| panic!("no string at {pointer} in {}", compact(value)))
}
