//! Delivery data as a forge or CI sends it: an organization with a project, a connected
//! repository and a `delivery:write` key, and `POST /v1/delivery`.

use chrono::Utc;
use devgraph::ids::{OrgId, ProjectId, RepositoryId};
use entity::enums::{DeveloperRole, Provider};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::Value;

use super::{Dev, Reply, TestApp, create_key};

/// An organization ready to receive delivery data for `acme/api`.
pub struct Delivery {
    pub org: OrgId,
    pub token: String,
    pub project: ProjectId,
    pub repository: RepositoryId,
    /// A `delivery:write` key of the project.
    pub key: String,
}

impl Delivery {
    pub async fn new(app: &TestApp, slug: &str) -> Delivery {
        let (org, owner) = app.org_with_owner(slug, "Owner").await;
        let token = app.token_for(&owner);
        let project = app.project(org, None, "API").await;
        let repository = raw_repository(app, org, project, "acme/api").await;
        let key = create_key(app, &token, "DELIVERY_WRITE", Some(project)).await;
        Delivery {
            org,
            token,
            project,
            repository,
            key: key.secret,
        }
    }

    pub async fn developer(&self, app: &TestApp, name: &str) -> Dev {
        app.developer(self.org, name, DeveloperRole::Member).await
    }
}

/// A repository row written directly (its webhook secret is not used by these tests).
pub async fn raw_repository(
    app: &TestApp,
    org: OrgId,
    project: ProjectId,
    full_name: &str,
) -> RepositoryId {
    let now = Utc::now();
    let id = RepositoryId::new();
    entity::repository::ActiveModel {
        organization_id: Set(org.uuid()),
        id: Set(id.uuid()),
        project_id: Set(project.uuid()),
        provider: Set(Provider::Github),
        external_id: Set(format!("ext-{}", id.uuid().simple())),
        full_name: Set(full_name.to_owned()),
        default_branch: Set("main".into()),
        webhook_secret: Set("unused".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(app.db())
    .await
    .expect("repository");
    id
}

/// `POST /v1/delivery` with a JSON body.
pub async fn post_delivery(app: &TestApp, bearer: &str, body: &Value) -> Reply {
    let resp = app
        .client
        .post(app.url("/v1/delivery"))
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("send");
    TestApp::reply(resp).await
}

/// The sealer of every test server (`Config::for_tests`' fixed key).
pub fn sealer() -> std::sync::Arc<devgraph::secrets::Sealer> {
    let config = devgraph::Config::for_tests("sqlite::memory:", super::JWT_SECRET);
    devgraph::app::secret_key::sealer(&config)
        .expect("key")
        .expect("tests have a key")
}

/// Connects `full_name` (GitHub id `external_id`) to `project` as the organization's system
/// actor, as `connectRepository` does; returns it and its webhook secret.
pub async fn connect(
    app: &TestApp,
    org: OrgId,
    project: ProjectId,
    full_name: &str,
    external_id: &str,
) -> (RepositoryId, String) {
    use devgraph::service::repository::{self, NewRepository};
    let ctx = devgraph::auth::TenantCtx::unsafe_system(org);
    let input = NewRepository {
        project,
        provider: Provider::Github,
        external_id: Some(external_id.to_owned()),
        full_name: full_name.to_owned(),
        default_branch: None,
    };
    let made = repository::connect(&ctx, app.db(), Some(&sealer()), input)
        .await
        .expect("connect");
    (
        RepositoryId::from_db(made.repository.id),
        made.webhook_secret,
    )
}
