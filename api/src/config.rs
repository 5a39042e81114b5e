//! Typed settings, read once at start-up from the environment (and `.env`)
//! or from command-line flags. Nothing else in the crate reads the
//! environment: tests build a `Config` directly.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser};

use crate::secrets::{BadSecretKey, SecretKey};

/// Where the embedded database lives when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_PATH: &str = ".devgraph/devgraph.db";

/// Dev mode's generated HS256 secret, beside the database file.
pub const DEV_SECRET_FILE: &str = "dev-jwt-secret";

/// Dev mode's generated sealing key for webhook secrets, beside the JWT secret.
pub const DEV_SECRET_KEY_FILE: &str = "dev-secret-key";

#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://...`.
    /// Default: an embedded SQLite file at .devgraph/devgraph.db.
    // Hidden in `--help`: a PostgreSQL URL carries its password.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address the server listens on.
    #[arg(
        long,
        env = "DEVGRAPH_ADDR",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub addr: SocketAddr,
    /// HS256 secret for dashboard JWTs.
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM public key (RSA or EC) for RS256/ES256 JWTs from an identity provider.
    #[arg(long, env = "JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<String>,
    /// The identity provider's JSON Web Key Set URL (https): RS256/ES256 keys
    /// chosen by the token's `kid`.
    #[arg(long, env = "JWT_JWKS_URL", global = true)]
    pub jwt_jwks_url: Option<String>,
    /// How long a fetched key set is used before it is fetched again:
    /// seconds, or a number with `s`, `m`, `h` or `d`.
    #[arg(
        long,
        env = "DEVGRAPH_JWKS_TTL",
        value_parser = parse_duration,
        default_value = "10m",
        global = true
    )]
    pub jwks_ttl: Duration,
    /// Required `iss` claim, when set: tokens without it are refused.
    #[arg(long, env = "JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim, when set: tokens without it are refused.
    /// Mandatory with JWT_PUBLIC_KEY and JWT_JWKS_URL.
    #[arg(long, env = "JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    /// Key that seals repositories' webhook secrets in the database: 32 bytes as
    /// base64 or 64 hex digits (`openssl rand -base64 32`). Keep it: secrets sealed
    /// under a lost key must be set again.
    #[arg(
        long,
        env = "DEVGRAPH_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Oldest token accepted, counted from its `iat` claim (which becomes
    /// required): seconds, or a number with `s`, `m`, `h` or `d`.
    #[arg(long, env = "DEVGRAPH_JWT_MAX_AGE", value_parser = parse_duration, global = true)]
    pub jwt_max_age: Option<Duration>,
    /// Largest `first`/`last` a connection accepts.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_PAGE_SIZE",
        default_value_t = 100,
        global = true
    )]
    pub max_page_size: usize,
    /// Page size when neither `first` nor `last` is given.
    #[arg(
        long,
        env = "DEVGRAPH_DEFAULT_PAGE_SIZE",
        default_value_t = 20,
        global = true
    )]
    pub default_page_size: usize,
    /// Deepest query accepted.
    #[arg(long, env = "DEVGRAPH_MAX_DEPTH", default_value_t = 12, global = true)]
    pub max_depth: usize,
    /// Highest query complexity accepted (list fields weigh `first` times their children).
    #[arg(
        long,
        env = "DEVGRAPH_MAX_COMPLEXITY",
        default_value_t = 250_000,
        global = true
    )]
    pub max_complexity: usize,
    /// Who may introspect the schema (`__schema`, `__type`): `on` (anyone,
    /// even without credentials, as GraphiQL and codegen expect), `authenticated`
    /// (callers with a valid token or key) or `off` (nobody).
    #[arg(
        long,
        env = "DEVGRAPH_INTROSPECTION",
        value_enum,
        default_value_t = Introspection::On,
        global = true
    )]
    pub introspection: Introspection,
    /// Largest request body, in bytes.
    #[arg(long, env = "DEVGRAPH_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Largest GraphQL document (the `query` text), in bytes.
    #[arg(long, env = "DEVGRAPH_MAX_QUERY_BYTES", default_value_t = 32 * 1024, global = true)]
    pub max_query_bytes: usize,
    /// Most aliased fields in one document.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_ALIASES",
        default_value_t = 50,
        global = true
    )]
    pub max_aliases: usize,
    /// Most root fields in one operation.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_ROOT_FIELDS",
        default_value_t = 20,
        global = true
    )]
    pub max_root_fields: usize,
    /// Longest date range of a metrics query, in days.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_METRICS_DAYS",
        default_value_t = 400,
        global = true
    )]
    pub max_metrics_days: i64,
    /// Most metric rows one request returns, all its metrics fields
    /// together; past it a field is LIMIT_EXCEEDED.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_METRIC_ROWS",
        default_value_t = 20_000,
        global = true
    )]
    pub max_metric_rows: usize,
    /// Most values in one filter list (`eventNames`, `teamSpaceIds`, ...).
    #[arg(
        long,
        env = "DEVGRAPH_MAX_FILTER_VALUES",
        default_value_t = 100,
        global = true
    )]
    pub max_filter_values: usize,
    /// Largest GraphQL response body, in bytes; a larger one is answered
    /// LIMIT_EXCEEDED instead.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_RESPONSE_BYTES",
        default_value_t = 16 * 1024 * 1024,
        global = true
    )]
    pub max_response_bytes: usize,
    /// Most events in one ingestion batch.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_BATCH_EVENTS",
        default_value_t = 1000,
        global = true
    )]
    pub max_batch_events: usize,
    /// How far in the future an event's `occurredAt` may be (clock skew), in seconds.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_FUTURE_SKEW_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub max_future_skew_seconds: i64,
    /// PostgreSQL `statement_timeout` for every statement, in milliseconds (0: none).
    #[arg(
        long,
        env = "DEVGRAPH_STATEMENT_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub statement_timeout_ms: u64,
    /// Longest time a request may take before it is answered 503, in milliseconds.
    #[arg(
        long,
        env = "DEVGRAPH_REQUEST_TIMEOUT_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub request_timeout_ms: u64,
    /// Database connection pool size.
    #[arg(
        long,
        env = "DEVGRAPH_DB_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub db_pool_size: u32,
    /// Longest wait for a database connection (opening one included), in
    /// milliseconds; past it a request is answered SERVICE_UNAVAILABLE.
    #[arg(
        long,
        env = "DEVGRAPH_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,
    /// Most requests to /graphql and /v1/events in flight at once, across
    /// all tenants (0: twice the pool size). Past it a request waits up to
    /// the acquire timeout for a slot, then is answered SERVICE_UNAVAILABLE.
    #[arg(
        long,
        env = "DEVGRAPH_MAX_IN_FLIGHT",
        default_value_t = 0,
        global = true
    )]
    pub max_in_flight: usize,
    /// Requests one organization may have in flight at once (the operator
    /// may override it per organization: `devgraph org set-budget`).
    #[arg(
        long,
        env = "DEVGRAPH_TENANT_IN_FLIGHT",
        default_value_t = 2,
        global = true
    )]
    pub tenant_in_flight: u32,
    /// Requests one organization may send per minute (a token bucket: a
    /// full minute's worth may come at once).
    #[arg(
        long,
        env = "DEVGRAPH_TENANT_REQUESTS_PER_MINUTE",
        default_value_t = 1200,
        global = true
    )]
    pub tenant_requests_per_minute: u32,
    /// Query complexity points one organization's GraphQL requests may
    /// spend per minute (a token bucket: a request weighing more than
    /// what is left waits for the refill; one weighing more than a
    /// minute's worth is LIMIT_EXCEEDED).
    #[arg(
        long,
        env = "DEVGRAPH_TENANT_POINTS_PER_MINUTE",
        default_value_t = 6_000_000,
        global = true
    )]
    pub tenant_points_per_minute: u32,
    /// A second address serving only /metrics, /readyz and /healthz, for
    /// deployments that must not expose them; when set, the main address
    /// no longer serves /metrics and /readyz.
    #[arg(long, env = "DEVGRAPH_ADMIN_ADDR", global = true)]
    pub admin_addr: Option<SocketAddr>,
    /// Most subscriptions one WebSocket connection may have open.
    #[arg(
        long,
        env = "DEVGRAPH_WS_MAX_SUBSCRIPTIONS",
        default_value_t = 20,
        global = true
    )]
    pub ws_max_subscriptions: usize,
    /// Most subscriptions one organization may have open on this replica,
    /// all its connections together.
    #[arg(
        long,
        env = "DEVGRAPH_WS_MAX_ORG_SUBSCRIPTIONS",
        default_value_t = 200,
        global = true
    )]
    pub ws_max_org_subscriptions: usize,
    /// A WebSocket connection with no subscription open for this long is
    /// closed: seconds, or a number with `s`, `m`, `h` or `d`.
    #[arg(long, env = "DEVGRAPH_WS_IDLE_TIMEOUT", default_value = "5m", value_parser = parse_duration, global = true)]
    pub ws_idle_timeout: Duration,
    /// Documents kept for automatic persisted queries (hash → document, the
    /// least recently used dropped first), per process; 0 keeps none.
    #[arg(long, env = "DEVGRAPH_APQ_CAPACITY", default_value_t = DEFAULT_APQ_CAPACITY, global = true)]
    pub apq_capacity: usize,
    /// A persisted-documents manifest (graphql-codegen's client preset's
    /// `persisted-documents.json`): when set, only its documents run.
    #[arg(long, env = "DEVGRAPH_TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<PathBuf>,
    /// `max-age` of `Cache-Control: private` on GET answers to queries sent
    /// by hash, in seconds (0: the browser revalidates with `If-None-Match`).
    #[arg(
        long,
        env = "DEVGRAPH_CACHE_MAX_AGE",
        default_value_t = 0,
        global = true
    )]
    pub cache_max_age: u32,
    /// Browser origins allowed to call /graphql cross-origin, comma-separated
    /// (`https://app.example.com,http://localhost:5173`), or `*`; none by default.
    #[arg(
        long,
        env = "DEVGRAPH_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,
}

impl ConfigArgs {
    /// The database URL, or the embedded default: the one place that knows
    /// it, for the server and every CLI command.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{DEFAULT_SQLITE_PATH}?mode=rwc"))
    }

    /// Settings from command-line style flags alone (defaults otherwise),
    /// e.g. `["--database-url", url]`; the environment still applies.
    pub fn from_flags(flags: &[&str]) -> Result<ConfigArgs, clap::Error> {
        #[derive(Parser)]
        struct OnlyConfig {
            #[command(flatten)]
            config: ConfigArgs,
        }
        let argv = std::iter::once("devgraph").chain(flags.iter().copied());
        OnlyConfig::try_parse_from(argv).map(|o| o.config)
    }
}

/// Who may send introspection queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Introspection {
    /// Anyone: an introspection-only query needs no credentials.
    #[default]
    On,
    /// Only authenticated callers.
    Authenticated,
    /// Nobody: `__schema` and `__type` are refused (`__typename` still works).
    Off,
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub enum JwtKey {
    Hs256Secret(String),
    PublicKeyPem(String),
    /// The identity provider's key set, fetched from this URL (see `auth::jwks`).
    Jwks {
        url: String,
    },
    /// No JWT setting on SQLite: a secret generated once and kept beside the
    /// database file, so printed dev tokens survive a restart.
    DevSecretFile(PathBuf),
}

/// Where the key that seals webhook secrets comes from.
#[derive(Debug, Clone)]
pub enum SecretKeySource {
    /// `DEVGRAPH_SECRET_KEY`, already checked.
    Configured(SecretKey),
    /// Dev mode without the setting: a key generated once and kept in this file beside the
    /// dev JWT secret, so sealed secrets still open after a restart.
    DevFile(PathBuf),
    /// Neither: the server runs, but cannot keep repository webhook secrets.
    Missing,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub addr: SocketAddr,
    pub jwt_key: JwtKey,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// Tokens issued (`iat`) longer ago than this are refused.
    pub jwt_max_age: Option<Duration>,
    /// With `JwtKey::Jwks`: how long a fetched key set is used as it is.
    pub jwks_ttl: Duration,
    /// With `JwtKey::Jwks`: the least time between two fetches that a token
    /// with an unknown `kid` may cause, and between retries while the
    /// endpoint fails. `JWKS_REFRESH_INTERVAL`; tests shorten it.
    pub jwks_refresh_interval: Duration,
    /// The key for webhook secrets at rest.
    pub secret_key: SecretKeySource,
    pub limits: Limits,
    pub introspection: Introspection,
    pub db_pool_size: u32,
    /// Most requests to /graphql and /v1/events in flight at once.
    pub max_in_flight: usize,
    /// Where /metrics and /readyz are served instead, when set.
    pub admin_addr: Option<SocketAddr>,
    /// Each organization's budget unless the operator overrides it.
    pub tenant_in_flight: u32,
    pub tenant_requests_per_minute: u32,
    pub tenant_points_per_minute: u32,
    /// Bounds both taking a pooled connection and opening a new one: while
    /// the database is down, requests fail (503) after this long.
    pub db_acquire_timeout: Duration,
    /// PostgreSQL only; `None` leaves the server's setting.
    pub statement_timeout: Option<Duration>,
    pub request_timeout: Duration,
    /// How often raw events past retention are purged in the background;
    /// `None` runs no background task (tests purge explicitly).
    pub retention_every: Option<Duration>,
    /// Persisted documents, GET caching and CORS for browser clients.
    pub clients: ClientSettings,
    pub live: LiveLimits,
}

/// Subscriptions over `/graphql/ws`.
#[derive(Debug, Clone, Copy)]
pub struct LiveLimits {
    pub per_connection: usize,
    pub per_organization: usize,
    /// A connection without subscriptions is closed after this long.
    pub idle_timeout: Duration,
    /// The least time between two messages of one subscription (changes in
    /// between are folded into the next).
    pub interval: Duration,
    /// How often a connection's credentials are checked again, so that a
    /// deactivated developer's or revoked key's subscriptions end.
    pub recheck: Duration,
    /// How long a client has to send `connection_init`.
    pub init_timeout: Duration,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            per_connection: 20,
            per_organization: 200,
            idle_timeout: Duration::from_secs(300),
            interval: Duration::from_secs(1),
            recheck: Duration::from_secs(30),
            init_timeout: Duration::from_secs(10),
        }
    }
}

/// Documents kept for automatic persisted queries unless configured otherwise.
pub const DEFAULT_APQ_CAPACITY: usize = 1000;

/// How `/graphql` serves browser and codegen clients.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Automatic persisted queries kept; 0 keeps none.
    pub apq_capacity: usize,
    /// When set, only the documents of this manifest run.
    pub trusted_documents: Option<PathBuf>,
    /// `max-age` of cacheable GET answers, in seconds.
    pub cache_max_age: u32,
    pub cors_origins: CorsOrigins,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            apq_capacity: DEFAULT_APQ_CAPACITY,
            trusted_documents: None,
            cache_max_age: 0,
            cors_origins: CorsOrigins::None,
        }
    }
}

/// Which browser origins may call the API cross-origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers at all: browsers keep other origins out.
    #[default]
    None,
    /// `*`: safe only because no credentials ride along (bearer tokens, no cookies).
    Any,
    /// Serialized origins (`scheme://host[:port]`, lowercase), as browsers send them.
    List(Vec<String>),
}

impl CorsOrigins {
    /// `DEVGRAPH_CORS_ORIGINS`, each origin checked: a typo here would
    /// otherwise fail silently in the browser, as a CORS error.
    pub fn parse(items: &[String]) -> Result<CorsOrigins, ConfigError> {
        let items: Vec<&str> = items
            .iter()
            .map(|i| i.trim())
            .filter(|i| !i.is_empty())
            .collect();
        if items == ["*"] {
            return Ok(CorsOrigins::Any);
        }
        if items.is_empty() {
            return Ok(CorsOrigins::None);
        }
        items
            .into_iter()
            .map(|item| {
                serialized_origin(item).ok_or_else(|| ConfigError::BadCorsOrigin(item.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(CorsOrigins::List)
    }
}

/// `item` as the `Origin` header a browser sends (`https://app.example.com`,
/// `http://localhost:5173`), or `None` when it is not one: another scheme, a
/// path, a user, a wildcard mixed with names.
fn serialized_origin(item: &str) -> Option<String> {
    let (scheme, host) = item.split_once("://")?;
    let (scheme, host) = (scheme.to_ascii_lowercase(), host.to_ascii_lowercase());
    // `host[:port]`, the host a name or an IPv6 literal in brackets.
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            let literal = inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
            if inside.is_empty() || !literal || !(after.is_empty() || after.starts_with(':')) {
                return None;
            }
            (&host[..inside.len() + 2], after.strip_prefix(':'))
        }
        None => {
            let (name, port) = match host.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (host.as_str(), None),
            };
            let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
            if name.is_empty() || !name.chars().all(valid) {
                return None;
            }
            (name, port)
        }
    };
    let port = match port {
        Some(p) if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) => return None,
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    // Browsers leave the scheme's default port out of `Origin`.
    let port = match (scheme.as_str(), port) {
        ("http", Some(80)) | ("https", Some(443)) | ("http" | "https", None) => String::new(),
        ("http" | "https", Some(p)) => format!(":{p}"),
        _ => return None,
    };
    Some(format!("{scheme}://{name}{port}"))
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_page_size: usize,
    pub default_page_size: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_body_bytes: usize,
    pub max_query_bytes: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_metrics_days: i64,
    pub max_metric_rows: usize,
    pub max_filter_values: usize,
    pub max_response_bytes: usize,
    pub ingest: IngestLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_page_size: 100,
            default_page_size: 20,
            max_depth: 12,
            max_complexity: 250_000,
            max_body_bytes: 1024 * 1024,
            max_query_bytes: 32 * 1024,
            max_aliases: 50,
            max_root_fields: 20,
            max_metrics_days: 400,
            max_metric_rows: 20_000,
            max_filter_values: 100,
            max_response_bytes: 16 * 1024 * 1024,
            ingest: IngestLimits::default(),
        }
    }
}

/// Limits of one ingestion batch.
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    pub max_events: usize,
    pub max_future_skew: chrono::Duration,
    pub max_property_bytes: usize,
    pub max_property_depth: usize,
    /// Distinct property keys `event_meta` keeps per event name.
    pub max_property_keys: usize,
    /// Distinct event names a project may have.
    pub max_event_names: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_events: 1000,
            max_future_skew: chrono::Duration::minutes(5),
            max_property_bytes: 8 * 1024,
            max_property_depth: 5,
            max_property_keys: 256,
            max_event_names: 1000,
        }
    }
}

/// Tokens naming a key the cached set lacks may cause a fetch at most this
/// often: anyone can send such tokens, and each would otherwise cost a
/// request to the identity provider.
pub const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// How long a request waits for a database connection unless configured otherwise.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no JWT verification key: set JWT_SECRET (HS256), JWT_PUBLIC_KEY (RS256/ES256 PEM) or \
         JWT_JWKS_URL (an identity provider's key set). Generated dev secrets are only used with the embedded SQLite database"
    )]
    NoJwtKeyForPostgres,
    #[error("DATABASE_URL must start with sqlite: or postgres:// (got a URL of another scheme)")]
    UnsupportedDatabase,
    #[error("JWT_SECRET must be at least 32 characters")]
    WeakJwtSecret,
    #[error(
        "{0} are set: set only the one your tokens are verified with (JWT_SECRET for HS256, \
         JWT_PUBLIC_KEY for one RS256/ES256 key, JWT_JWKS_URL for an identity provider's key set)"
    )]
    TwoJwtKeys(String),
    #[error(
        "{0} needs JWT_AUDIENCE: without it, a token the identity provider issued \
         for any other application would be accepted here"
    )]
    PublicKeyWithoutAudience(&'static str),
    #[error(
        "JWT_JWKS_URL must be an https:// URL (http:// only to a loopback address such as \
         127.0.0.1): keys fetched in the clear could be replaced on the way"
    )]
    BadJwksUrl,
    #[error(
        "dev mode (embedded SQLite, no JWT setting) hands out an owner token, so it only \
         listens on a loopback address, and the address is {addr}: listen on 127.0.0.1 \
         (DEVGRAPH_ADDR), or set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL to serve on other \
         interfaces"
    )]
    DevModeNotLoopback { addr: SocketAddr },
    #[error(transparent)]
    BadSecretKey(#[from] BadSecretKey),
    #[error(
        "DEVGRAPH_CORS_ORIGINS: {0:?} is not an origin: write each as the browser sends it, \
         scheme://host[:port] with no path or trailing slash (https://app.example.com, \
         http://localhost:5173), comma-separated, or * alone for any origin"
    )]
    BadCorsOrigin(String),
}

impl Config {
    pub fn from_args(args: ConfigArgs) -> Result<Config, ConfigError> {
        let database_url = args.database_url();
        let jwt_key = jwt_key(&args, &database_url)?;
        let secret_key = secret_key_source(args.secret_key.as_deref(), &jwt_key)?;
        let clients = ClientSettings {
            apq_capacity: args.apq_capacity,
            trusted_documents: args.trusted_documents,
            cache_max_age: args.cache_max_age,
            cors_origins: CorsOrigins::parse(&args.cors_origins)?,
        };
        Ok(Config {
            database_url,
            addr: args.addr,
            jwt_key,
            secret_key,
            jwt_issuer: args.jwt_issuer,
            jwt_audience: args.jwt_audience,
            jwt_max_age: args.jwt_max_age,
            jwks_ttl: args.jwks_ttl,
            jwks_refresh_interval: JWKS_REFRESH_INTERVAL,
            limits: Limits {
                max_page_size: args.max_page_size,
                default_page_size: args.default_page_size.min(args.max_page_size),
                max_depth: args.max_depth,
                max_complexity: args.max_complexity,
                max_body_bytes: args.max_body_bytes,
                max_query_bytes: args.max_query_bytes,
                max_aliases: args.max_aliases,
                max_root_fields: args.max_root_fields,
                max_metrics_days: args.max_metrics_days,
                max_metric_rows: args.max_metric_rows,
                max_filter_values: args.max_filter_values,
                max_response_bytes: args.max_response_bytes,
                ingest: IngestLimits {
                    max_events: args.max_batch_events,
                    max_future_skew: chrono::Duration::seconds(args.max_future_skew_seconds.max(0)),
                    ..IngestLimits::default()
                },
            },
            introspection: args.introspection,
            db_pool_size: args.db_pool_size,
            max_in_flight: match args.max_in_flight {
                0 => (args.db_pool_size as usize).max(1) * 2,
                n => n,
            },
            admin_addr: args.admin_addr,
            tenant_in_flight: args.tenant_in_flight,
            tenant_requests_per_minute: args.tenant_requests_per_minute,
            tenant_points_per_minute: args.tenant_points_per_minute,
            db_acquire_timeout: Duration::from_millis(args.db_acquire_timeout_ms),
            statement_timeout: (args.statement_timeout_ms > 0)
                .then(|| Duration::from_millis(args.statement_timeout_ms)),
            request_timeout: Duration::from_millis(args.request_timeout_ms),
            retention_every: Some(Duration::from_secs(3600)),
            live: LiveLimits {
                per_connection: args.ws_max_subscriptions,
                per_organization: args.ws_max_org_subscriptions,
                idle_timeout: args.ws_idle_timeout,
                ..LiveLimits::default()
            },
            clients,
        })
    }

    /// A configuration for tests and benchmarks: the given database, port 0,
    /// an HS256 secret, default limits.
    pub fn for_tests(database_url: &str, jwt_secret: &str) -> Config {
        Config {
            database_url: database_url.to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_key: JwtKey::Hs256Secret(jwt_secret.to_owned()),
            jwt_issuer: None,
            jwt_audience: None,
            jwt_max_age: None,
            jwks_ttl: Duration::from_secs(600),
            jwks_refresh_interval: JWKS_REFRESH_INTERVAL,
            secret_key: SecretKeySource::Configured(SecretKey::from_bytes(TEST_SECRET_KEY)),
            limits: Limits::default(),
            introspection: Introspection::On,
            db_pool_size: 5,
            max_in_flight: 64,
            admin_addr: None,
            // Tests that measure budgets set their own.
            tenant_in_flight: 64,
            tenant_requests_per_minute: 1_000_000,
            tenant_points_per_minute: 1_000_000_000,
            db_acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: Some(Duration::from_secs(10)),
            request_timeout: Duration::from_secs(30),
            retention_every: None,
            live: LiveLimits::default(),
            clients: ClientSettings::default(),
        }
    }

    pub fn is_dev_mode(&self) -> bool {
        matches!(self.jwt_key, JwtKey::DevSecretFile(_))
    }

    /// Where dev mode keeps its state (the secret, the demo organization's
    /// id): the directory of the dev secret file.
    pub fn dev_dir(&self) -> Option<PathBuf> {
        match &self.jwt_key {
            JwtKey::DevSecretFile(path) => Some(dev_dir_of(path)),
            _ => None,
        }
    }

    /// Dev mode puts an owner token in the GraphiQL page, so it must not be
    /// reachable from another machine: only loopback addresses.
    pub fn check_listen_addr(&self) -> Result<(), ConfigError> {
        if self.is_dev_mode() && !self.addr.ip().to_canonical().is_loopback() {
            return Err(ConfigError::DevModeNotLoopback { addr: self.addr });
        }
        Ok(())
    }
}

/// Which of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL verifies tokens
/// (at most one), or dev mode's generated secret when none is set.
fn jwt_key(args: &ConfigArgs, database_url: &str) -> Result<JwtKey, ConfigError> {
    let (secret, pem, jwks) = (&args.jwt_secret, &args.jwt_public_key, &args.jwt_jwks_url);
    // Refused rather than one silently winning: an operator who set two
    // believes the other one is in force.
    let set: Vec<&str> = [
        secret.as_ref().map(|_| "JWT_SECRET"),
        pem.as_ref().map(|_| "JWT_PUBLIC_KEY"),
        jwks.as_ref().map(|_| "JWT_JWKS_URL"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if set.len() > 1 {
        return Err(ConfigError::TwoJwtKeys(set.join(" and ")));
    }
    // An identity provider signs tokens for every application it serves
    // with the same keys; only the audience tells ours apart.
    if let [provider @ ("JWT_PUBLIC_KEY" | "JWT_JWKS_URL")] = set[..]
        && args.jwt_audience.is_none()
    {
        return Err(ConfigError::PublicKeyWithoutAudience(provider));
    }
    Ok(match (secret, pem, jwks) {
        (Some(secret), _, _) if secret.len() < 32 => return Err(ConfigError::WeakJwtSecret),
        (Some(secret), _, _) => JwtKey::Hs256Secret(secret.clone()),
        (_, Some(pem), _) => JwtKey::PublicKeyPem(pem.clone()),
        (_, _, Some(url)) if !jwks_url_is_safe(url) => return Err(ConfigError::BadJwksUrl),
        (_, _, Some(url)) => JwtKey::Jwks { url: url.clone() },
        (None, None, None) => match sqlite_path(database_url) {
            Some(path) => JwtKey::DevSecretFile(dev_secret_path(&path)),
            None if is_postgres(database_url) => return Err(ConfigError::NoJwtKeyForPostgres),
            None => return Err(ConfigError::UnsupportedDatabase),
        },
    })
}

/// https, or plain http to this machine (a provider on loopback, the tests).
fn jwks_url_is_safe(url: &str) -> bool {
    let Ok(uri) = url.parse::<axum::http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// The fixed sealing key of `Config::for_tests`.
const TEST_SECRET_KEY: [u8; 32] = *b"devgraph-tests-fixed-secret-key!";

/// A configured key wins; dev mode (whose JWT secret is generated) generates this one too;
/// otherwise there is none, and a production operator is told at start-up rather than
/// refused, since only repository webhooks need it.
fn secret_key_source(
    configured: Option<&str>,
    jwt_key: &JwtKey,
) -> Result<SecretKeySource, ConfigError> {
    Ok(match (configured, jwt_key) {
        (Some(text), _) => SecretKeySource::Configured(SecretKey::parse(text)?),
        (None, JwtKey::DevSecretFile(jwt_path)) => {
            SecretKeySource::DevFile(dev_dir_of(jwt_path).join(DEV_SECRET_KEY_FILE))
        }
        (None, _) => SecretKeySource::Missing,
    })
}

/// `3600`, `3600s`, `90m`, `12h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?}: expected seconds, or a number with s, m, h or d"
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected seconds, or a number with s, m, h or d"))?;
    match n.checked_mul(seconds_per) {
        Some(0) => Err(format!("{text:?}: the duration must be more than zero")),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Err(format!("{text:?} is too long")),
    }
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file behind a `sqlite:` URL, if it is one (not `sqlite::memory:`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

fn dev_secret_path(db_path: &std::path::Path) -> PathBuf {
    dev_dir_of(db_path).join(DEV_SECRET_FILE)
}

/// The directory of a file path, `.` for a bare file name.
pub fn dev_dir_of(file: &std::path::Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://.devgraph/devgraph.db?mode=rwc"),
            Some(PathBuf::from(".devgraph/devgraph.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x@y/z"), None);
    }

    #[test]
    fn the_acquire_timeout_defaults_to_five_seconds_and_is_settable() {
        let config = |flags: &[&str]| {
            let args = ConfigArgs::from_flags(flags).unwrap();
            Config::from_args(args).unwrap().db_acquire_timeout
        };
        if std::env::var_os("DEVGRAPH_DB_ACQUIRE_TIMEOUT_MS").is_none() {
            assert_eq!(config(&[]), Duration::from_secs(5));
        }
        let set = config(&["--db-acquire-timeout-ms", "1500"]);
        assert_eq!(set, Duration::from_millis(1500));
    }

    #[test]
    fn max_token_age_takes_seconds_or_a_unit() {
        let secs = |text| parse_duration(text).map(|d| d.as_secs());
        assert_eq!(secs("3600"), Ok(3600));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("15m"), Ok(900));
        assert_eq!(secs("12h"), Ok(43_200));
        assert_eq!(secs("7d"), Ok(604_800));
        for bad in ["", "0", "0h", "h", "1w", "-5", "1.5h", "1 h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dev_mode_listens_on_loopback_only() {
        let dev = |addr: &str| Config {
            addr: addr.parse().unwrap(),
            jwt_key: JwtKey::DevSecretFile(PathBuf::from(".devgraph/dev-jwt-secret")),
            ..Config::for_tests("sqlite://x.db", "unused-secret-that-is-long-enough")
        };
        for ok in ["127.0.0.1:8000", "127.0.0.2:0", "[::1]:8000"] {
            assert!(dev(ok).check_listen_addr().is_ok(), "{ok}");
        }
        for refused in ["0.0.0.0:8000", "[::]:8000", "192.168.1.2:8000"] {
            assert!(dev(refused).check_listen_addr().is_err(), "{refused}");
        }
    }

    #[test]
    fn a_configured_secret_key_is_checked_when_the_configuration_is_read() {
        let jwt = JwtKey::Hs256Secret("x".repeat(32));
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let source = secret_key_source(Some(key), &jwt).unwrap();
        assert!(matches!(source, SecretKeySource::Configured(_)));
        let err = secret_key_source(Some("hunter2-hunter2"), &jwt).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("DEVGRAPH_SECRET_KEY"), "{err}");
        assert!(err.contains("openssl rand -base64 32"), "{err}");
        assert!(!err.contains("hunter2"), "the value is not repeated: {err}");
    }

    #[test]
    fn dev_mode_keeps_its_secret_key_beside_the_jwt_secret_and_production_has_none() {
        let dev = JwtKey::DevSecretFile(PathBuf::from(".devgraph/dev-jwt-secret"));
        match secret_key_source(None, &dev).unwrap() {
            SecretKeySource::DevFile(path) => {
                assert_eq!(path, PathBuf::from(".devgraph/dev-secret-key"));
            }
            other => panic!("{other:?}"),
        }
        let configured = secret_key_source(Some(&"ab".repeat(32)), &dev).unwrap();
        assert!(matches!(configured, SecretKeySource::Configured(_)));
        for production in [
            JwtKey::Hs256Secret("x".repeat(32)),
            JwtKey::PublicKeyPem("pem".into()),
        ] {
            let source = secret_key_source(None, &production).unwrap();
            assert!(matches!(source, SecretKeySource::Missing), "{source:?}");
        }
    }

    #[test]
    fn the_secret_key_flag_reaches_the_config() {
        let config = |flags: &[&str]| {
            let args = ConfigArgs::from_flags(flags).unwrap();
            Config::from_args(args)
        };
        let pg = ["--database-url", "postgres://u:p@127.0.0.1/db"];
        let jwt = ["--jwt-secret", "0123456789abcdef0123456789abcdef"];
        let key = "ab".repeat(32);
        let set = config(&[&pg[..], &jwt[..], &["--secret-key", &key]].concat()).unwrap();
        assert!(matches!(set.secret_key, SecretKeySource::Configured(_)));
        let bad = config(&[&pg[..], &jwt[..], &["--secret-key", "short"]].concat());
        assert!(matches!(bad, Err(ConfigError::BadSecretKey(_))));
        if std::env::var_os("DEVGRAPH_SECRET_KEY").is_none() {
            let unset = config(&[&pg[..], &jwt[..]].concat()).unwrap();
            assert!(matches!(unset.secret_key, SecretKeySource::Missing));
        }
        let tests = Config::for_tests("sqlite::memory:", "unused");
        assert!(matches!(tests.secret_key, SecretKeySource::Configured(_)));
    }

    #[test]
    fn a_jwks_url_is_https_or_http_to_loopback() {
        for ok in [
            "https://idp.example.com/.well-known/jwks.json",
            "https://idp.example.com:8443/keys?tenant=a",
            "http://127.0.0.1:9000/jwks",
            "http://localhost/jwks",
            "http://[::1]:9000/jwks",
        ] {
            assert!(jwks_url_is_safe(ok), "{ok}");
        }
        for refused in [
            "http://idp.example.com/jwks",
            "http://10.0.0.5/jwks",
            "ftp://idp.example.com/jwks",
            "idp.example.com/jwks",
            "/jwks",
            "",
        ] {
            assert!(!jwks_url_is_safe(refused), "{refused}");
        }
    }

    #[test]
    fn a_jwks_url_excludes_the_other_keys_and_needs_an_audience() {
        let config = |flags: &[&str]| {
            let args = ConfigArgs::from_flags(flags).unwrap();
            Config::from_args(args)
        };
        let base = ["--database-url", "postgres://u:p@127.0.0.1/db"];
        let jwks = ["--jwt-jwks-url", "https://idp.example.com/jwks"];
        let aud = ["--jwt-audience", "devgraph"];
        let secret = ["--jwt-secret", "0123456789abcdef0123456789abcdef"];
        let set = config(&[&base[..], &jwks[..], &aud[..]].concat()).unwrap();
        assert!(matches!(&set.jwt_key, JwtKey::Jwks { url } if url == jwks[1]));
        let err = config(&[&base[..], &jwks[..]].concat()).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::PublicKeyWithoutAudience("JWT_JWKS_URL")
        ));
        let err = config(&[&base[..], &jwks[..], &aud[..], &secret[..]].concat()).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("JWT_SECRET and JWT_JWKS_URL are set"), "{err}");
        let plain = ["--jwt-jwks-url", "http://idp.example.com/jwks"];
        let err = config(&[&base[..], &plain[..], &aud[..]].concat()).unwrap_err();
        assert!(matches!(err, ConfigError::BadJwksUrl));
    }

    #[test]
    fn the_jwks_ttl_defaults_to_ten_minutes_and_is_settable() {
        let ttl = |flags: &[&str]| {
            let args = ConfigArgs::from_flags(flags).unwrap();
            Config::from_args(args).unwrap().jwks_ttl
        };
        if std::env::var_os("DEVGRAPH_JWKS_TTL").is_none() {
            assert_eq!(ttl(&[]), Duration::from_secs(600));
        }
        assert_eq!(ttl(&["--jwks-ttl", "1h"]), Duration::from_secs(3600));
        assert!(ConfigArgs::from_flags(&["--jwks-ttl", "0"]).is_err());
    }

    #[test]
    fn cors_origins_are_checked_and_written_as_browsers_send_them() {
        let parse = |items: &[&str]| {
            let items: Vec<String> = items.iter().map(|i| (*i).to_owned()).collect();
            CorsOrigins::parse(&items)
        };
        assert_eq!(parse(&[]).unwrap(), CorsOrigins::None);
        assert_eq!(parse(&[""]).unwrap(), CorsOrigins::None);
        assert_eq!(parse(&["*"]).unwrap(), CorsOrigins::Any);
        let list = [
            " https://App.Example.com",
            "http://localhost:5173",
            "http://[::1]:8080",
            "https://[::1]",
            "https://default.example:443",
        ];
        assert_eq!(
            parse(&list).unwrap(),
            CorsOrigins::List(vec![
                "https://app.example.com".into(),
                "http://localhost:5173".into(),
                "http://[::1]:8080".into(),
                "https://[::1]".into(),
                "https://default.example".into(),
            ])
        );
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "ftp://app.example.com",
            "https://user@app.example.com",
            "https://app.example.com:port",
            "https://*.example.com",
            "https://",
            "http://a.example:",
            "http://a.example:+80",
            "http://a.example:70000",
            "http://[::1",
            "http://[]",
        ] {
            assert!(
                matches!(parse(&[bad]), Err(ConfigError::BadCorsOrigin(_))),
                "{bad}"
            );
        }
        assert!(
            parse(&["*", "https://a.example"]).is_err(),
            "* alone or not at all"
        );
    }

    #[test]
    fn postgres_without_a_jwt_key_is_refused() {
        let args =
            ConfigArgs::from_flags(&["--database-url", "postgres://u:p@127.0.0.1/db"]).unwrap();
        let err = Config::from_args(args).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET"));
    }
}
