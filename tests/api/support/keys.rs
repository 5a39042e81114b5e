//! API keys made through the API (`createApiKey`, `revokeApiKey`) as an
//! owner would make them: the one way every test gets a key.

use devgraph::ids::ProjectId;
use serde_json::{Value, json};

use super::{Gid, TestApp, gql};

/// An API key as `createApiKey` returned it.
#[derive(Debug, Clone)]
pub struct Key {
    /// Global id.
    pub id: String,
    pub prefix: String,
    /// The full `dg_<prefix>_<secret>`.
    pub secret: String,
}

/// Creates a key with `createApiKey` as the holder of `token`; `Err`
/// describes a refusal (the permission tests expect some).
pub async fn try_create_key(
    app: &TestApp,
    token: &str,
    name: &str,
    scopes: &[&str],
    project: Option<String>,
) -> Result<Key, String> {
    let mut input = json!({ "name": name, "scopes": scopes });
    if let Some(project) = project {
        input["projectId"] = Value::String(project);
    }
    let reply = gql::mutate(app, token, "createApiKey", input).await;
    let payload =
        gql::check_ok(&reply, "createApiKey").map_err(|e| format!("createApiKey: {e}"))?;
    let field = |p: &str| {
        payload
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match (
        field("/apiKey/id"),
        field("/apiKey/prefix"),
        field("/secret"),
    ) {
        (Some(id), Some(prefix), Some(secret)) => Ok(Key { id, prefix, secret }),
        _ => Err(format!("createApiKey payload incomplete: {payload}")),
    }
}

/// A key with one `scope` (`EVENTS_WRITE`, `READ`), bound to `project`
/// if given, that must be created.
pub async fn create_key(
    app: &TestApp,
    token: &str,
    scope: &str,
    project: Option<ProjectId>,
) -> Key {
    let project = project.map(|p| p.gid());
    let key = try_create_key(app, token, "k", &[scope], project).await;
    key.unwrap_or_else(|e| panic!("{e}"))
}

pub async fn revoke_key(app: &TestApp, token: &str, key: &Key) {
    let reply = app
        .gql(
            token,
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id revokedAt } } }",
            json!({ "id": key.id }),
        )
        .await;
    assert!(
        !reply.ok()["revokeApiKey"]["apiKey"]["revokedAt"].is_null(),
        "revoked"
    );
}
