//! Test support: `TestApp`, a real server on port 0 against its own
//! database (see `db`), how tests send requests and read replies, and
//! tokens. Fixtures live in `fixtures`, the larger worlds built from them
//! in `world`, `site` and `shop`.

pub mod citus;
pub mod db;
pub mod delivery;
pub mod events;
pub mod fixtures;
pub mod forge;
pub mod gql;
pub mod keys;
pub mod log;
pub mod ops;
pub mod postgres;
pub mod proxy;
pub mod random;
pub mod recorder;
pub mod recount;
pub mod scene;
pub mod shop;
pub mod site;
pub mod snapshot;
pub mod world;

pub use db::{TestDb, backend_name};
pub use keys::{Key, create_key, revoke_key, try_create_key};
pub(crate) use scene::{pairs, rows};

use devgraph::ids::GlobalId as _;
use std::net::SocketAddr;

use chrono::Utc;
use devgraph::{
    App, Config, build_app,
    ids::{
        ApiKeyId, DeploymentId, DeveloperId, IdentityId, IncidentId, OrgId, ProjectId,
        PullRequestId, RepositoryId, ReviewId, TeamSpaceId,
    },
};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-0123456789";

pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub client: reqwest::Client,
    // Dropped last: the server's pool must not outlive its database.
    _db: TestDb,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// The `extensions.code` of the first error, if any.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errs| {
                errs.iter()
                    .map(|e| {
                        e["extensions"]["code"]
                            .as_str()
                            .unwrap_or("<none>")
                            .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// Panics with the whole body when there are errors.
    pub fn ok(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            serde_json::to_string_pretty(&self.body).unwrap()
        );
        assert_eq!(self.status, 200, "status");
        &self.body["data"]
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_routed(str::to_owned, tweak).await
    }

    /// Like `spawn_with`, but the server reaches its fresh database at
    /// `route(url)`, e.g. through a [`proxy::Proxy`] the test can cut.
    pub async fn spawn_routed(
        route: impl FnOnce(&str) -> String,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        Self::spawn_on(TestDb::fresh().await, route, tweak).await
    }

    /// A server on a database the test made (see `TestDb::empty`).
    pub async fn spawn_on(
        db: TestDb,
        route: impl FnOnce(&str) -> String,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config::for_tests(&route(&db.url), JWT_SECRET);
        tweak(&mut config);
        let app = build_app(config).await.expect("build app");
        let addr = app.spawn().await.expect("spawn");
        TestApp {
            addr,
            app,
            client: reqwest::Client::new(),
            _db: db,
        }
    }

    /// A server that shuts down gracefully when the returned sender fires
    /// (as `devgraph serve` does on SIGTERM); the handle ends when it has.
    pub async fn spawn_stoppable() -> (
        TestApp,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let db = TestDb::fresh().await;
        let app = build_app(Config::for_tests(&db.url, JWT_SECRET))
            .await
            .expect("build app");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr, handle) = app
            .spawn_until(async {
                stopped.await.ok();
            })
            .await
            .expect("spawn");
        let test_app = TestApp {
            addr,
            app,
            client: reqwest::Client::new(),
            _db: db,
        };
        (test_app, stop, handle)
    }

    pub fn db(&self) -> &DatabaseConnection {
        self.app.db()
    }

    /// The test database's own URL, which bypasses any route the server
    /// was given (see `spawn_routed`).
    pub fn direct_database_url(&self) -> &str {
        &self._db.url
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SQL statements run so far by the server's pool.
    pub fn statements(&self) -> u64 {
        self.app.stats().statements()
    }

    /// POSTs a GraphQL request with a bearer token.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Reply {
        let req = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        Self::reply(req.send().await.expect("send")).await
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            content_type,
            body,
        }
    }

    pub fn token_for(&self, dev: &Dev) -> String {
        mint(&dev.subject, Some(dev.org.uuid().to_string()), 3600)
    }
}

/// A global id as the API takes it.
pub trait Gid {
    fn gid(&self) -> String;
}

macro_rules! gid {
    ($($t:ty),*) => {$(
        impl Gid for $t {
            fn gid(&self) -> String {
                self.to_global().0
            }
        }
    )*};
}
gid!(
    OrgId,
    DeveloperId,
    TeamSpaceId,
    ProjectId,
    ApiKeyId,
    RepositoryId,
    IdentityId,
    PullRequestId,
    ReviewId,
    DeploymentId,
    IncidentId
);

impl<T: Gid> Gid for &T {
    fn gid(&self) -> String {
        (*self).gid()
    }
}

impl Gid for Dev {
    fn gid(&self) -> String {
        self.id.to_global().0
    }
}

#[derive(Debug, Clone)]
pub struct Dev {
    pub org: OrgId,
    pub id: DeveloperId,
    pub subject: String,
    pub email: String,
}

/// Mints an HS256 token with the test secret; `exp_in` seconds from now
/// (negative for an expired token).
pub fn mint(sub: &str, org: Option<String>, exp_in: i64) -> String {
    mint_claims(json!({
        "sub": sub,
        "org": org,
        "exp": Utc::now().timestamp() + exp_in,
    }))
}

pub fn mint_claims(mut claims: Value) -> String {
    if claims["org"].is_null()
        && let Some(map) = claims.as_object_mut()
    {
        map.remove("org");
    }
    let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("encode")
}
