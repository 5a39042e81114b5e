//! An identity provider's signing keys, fetched from its JWKS endpoint
//! (`JWT_JWKS_URL`) and kept in memory: the token's `kid` picks the key.
//!
//! Nothing is fetched at start-up, so a provider that is down when devgraph
//! starts does not keep it from starting: the first token fetches the set.
//! A set is used for its TTL; the first token after that fetches it again.
//! A token naming a `kid` the set lacks (the provider rotated its keys)
//! fetches it again too, but such fetches are at most one per refresh
//! interval, since anyone can send tokens with made-up kids. A fetch that
//! fails (down, timed out, an answer that is not a key set) keeps the last
//! good set and is retried no sooner than one interval later; requests do
//! not queue behind a refresh of a set they can already use.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use axum::{body::Bytes, http::Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};

use crate::error::AppError;

/// A fetch that takes longer fails, so a hanging endpoint holds a request
/// for this long at most.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Longer times are cut to this: `Instant` arithmetic panics on overflow,
/// and a year is as good as forever for a key set.
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 86_400);

/// Providers publish a handful of keys; anything much larger is not a key set.
const MAX_SET_BYTES: usize = 512 * 1024;

/// A verification key and the one algorithm it is accepted for.
pub struct JwksKey {
    pub decoding: DecodingKey,
    pub alg: Algorithm,
}

type KeySet = HashMap<String, Arc<JwksKey>>;

pub struct JwksCache {
    url: Uri,
    /// The URL as logs show it: without credentials or query string.
    shown: String,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    ttl: Duration,
    refresh_interval: Duration,
    state: RwLock<State>,
    /// Held while fetching, so that concurrent requests cause one fetch;
    /// holds when a kid the set lacked last caused a fetch.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

struct State {
    /// The last good set; `None` until a fetch has succeeded.
    keys: Option<Arc<KeySet>>,
    /// From then on the set is refreshed by the next token (its TTL, or
    /// the retry after a failure).
    refresh_at: Instant,
    /// Fetches so far: a request that waited for the lock sees whether
    /// another made one meanwhile.
    fetches: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum JwksSetupError {
    #[error("JWT_JWKS_URL is not a valid URL")]
    BadUrl,
    #[error("cannot set up TLS for JWT_JWKS_URL: {0}")]
    Tls(String),
}

impl JwksCache {
    pub fn new(
        url: &str,
        ttl: Duration,
        refresh_interval: Duration,
    ) -> Result<Self, JwksSetupError> {
        let url: Uri = url.parse().map_err(|_| JwksSetupError::BadUrl)?;
        let (Some(scheme), Some(host)) = (url.scheme_str(), url.host()) else {
            return Err(JwksSetupError::BadUrl);
        };
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let shown = format!("{scheme}://{host}{port}{}", url.path());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .build();
        // The timer closes idle pooled connections; without one they stay.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(JwksCache {
            url,
            shown,
            client,
            ttl: ttl.min(LONGEST_WAIT),
            refresh_interval: refresh_interval.min(LONGEST_WAIT),
            state: RwLock::new(State {
                keys: None,
                refresh_at: Instant::now(),
                fetches: 0,
            }),
            fetching: tokio::sync::Mutex::new(None),
        })
    }

    /// The key named `kid`, fetching the set when it is due or lacks `kid`.
    pub async fn key(&self, kid: &str) -> Result<Arc<JwksKey>, AppError> {
        let (keys, refresh_at, seen) = self.read(|s| (s.keys.clone(), s.refresh_at, s.fetches));
        let known = keys.and_then(|keys| keys.get(kid).cloned());
        let fetching = match known {
            Some(key) if Instant::now() < refresh_at => return Ok(key),
            // Due for a refresh but usable: one request refreshes, the
            // others go on with the key they have rather than wait for it.
            Some(key) => match self.fetching.try_lock() {
                Ok(fetching) => fetching,
                Err(_) => return Ok(key),
            },
            None => self.fetching.lock().await,
        };
        self.refresh(fetching, seen, kid).await;
        self.found(kid)
    }

    /// Fetches unless another request did while this one waited, and unless
    /// neither the set's refresh time nor a new kid's allowance has come.
    async fn refresh(
        &self,
        mut unknown_kid_fetch: tokio::sync::MutexGuard<'_, Option<Instant>>,
        seen: u64,
        kid: &str,
    ) {
        let (has_kid, has_set, refresh_at, fetches) = self.read(|s| {
            let has_kid = s.keys.as_ref().is_some_and(|keys| keys.contains_key(kid));
            (has_kid, s.keys.is_some(), s.refresh_at, s.fetches)
        });
        if fetches != seen {
            return;
        }
        let now = Instant::now();
        if now < refresh_at {
            // Until a set was fetched once, every kid is unknown: only the
            // retry time governs then.
            let allowed = unknown_kid_fetch
                .is_none_or(|last| now.duration_since(last) >= self.refresh_interval);
            if has_kid || !has_set || !allowed {
                return;
            }
            *unknown_kid_fetch = Some(now);
        }
        let fetched = self.fetch().await;
        let now = Instant::now();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.fetches += 1;
        match fetched {
            Ok(keys) => {
                state.keys = Some(Arc::new(keys));
                state.refresh_at = now + self.ttl;
            }
            Err(why) => {
                state.refresh_at = now + self.refresh_interval;
                let kept = if state.keys.is_some() {
                    "the last good set"
                } else {
                    "no keys yet"
                };
                tracing::warn!(url = %self.shown, %why, kept, "cannot fetch the identity provider's keys (JWKS)");
            }
        }
    }

    fn found(&self, kid: &str) -> Result<Arc<JwksKey>, AppError> {
        match self.read(|s| s.keys.clone()) {
            Some(keys) => keys.get(kid).cloned().ok_or_else(|| {
                AppError::Unauthenticated("the token's signing key (kid) is not known".into())
            }),
            // Not the caller's fault, and likely over soon: a 503 asks the
            // client to retry rather than to sign in again.
            None => Err(AppError::ServiceUnavailable),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        // Every write leaves the state whole, so a poisoned lock is usable.
        f(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    async fn fetch(&self) -> Result<KeySet, FetchError> {
        let request = axum::http::Request::get(self.url.clone())
            .header(axum::http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|_| FetchError::Request("the request cannot be built".into()))?;
        let body = tokio::time::timeout(FETCH_TIMEOUT, async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| FetchError::Request(chain(&e)))?;
            let status = response.status();
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let body = Limited::new(response.into_body(), MAX_SET_BYTES);
            let body = body.collect().await.map_err(|_| FetchError::Body)?;
            Ok::<_, FetchError>(body.to_bytes())
        })
        .await
        .map_err(|_| FetchError::TimedOut)??;
        parse_key_set(&body)
    }
}

/// ring, chosen here rather than through a process-wide default that would
/// change every other TLS client; Mozilla's roots, so that a system without
/// a CA bundle still reaches public providers, and the system's, so that a
/// provider behind an internal CA (or a TLS-inspecting proxy) is reached too.
fn tls_config() -> Result<rustls::ClientConfig, JwksSetupError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // Unreadable system certificates are skipped: Mozilla's roots remain.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| JwksSetupError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("no answer within {} s", FETCH_TIMEOUT.as_secs())]
    TimedOut,
    #[error("the request failed: {0}")]
    Request(String),
    #[error("the endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the answer could not be read whole (or is over {} KiB)", MAX_SET_BYTES / 1024)]
    Body,
    #[error("the answer is not a JWK set (JSON with a `keys` array)")]
    NotAKeySet,
    #[error("the key set has no RS256 or ES256 key with a kid")]
    NoUsableKey,
}

/// An error and its causes, which name the failing step (connect, TLS)
/// but not the URL.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

/// Keys of other kinds or uses are skipped, not fatal: providers publish
/// encryption keys and newer algorithms beside the signing keys we take.
/// An answer without a usable key is refused, keeping the last good set.
fn parse_key_set(body: &[u8]) -> Result<KeySet, FetchError> {
    #[derive(serde::Deserialize)]
    struct Raw {
        keys: Vec<serde_json::Value>,
    }
    // serde's messages may quote the answer; ours does not.
    let raw: Raw = serde_json::from_slice(body).map_err(|_| FetchError::NotAKeySet)?;
    let mut keys = KeySet::new();
    for value in raw.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if let Some((kid, key)) = usable(&jwk) {
            // A kid listed twice: the first entry counts.
            keys.entry(kid).or_insert_with(|| Arc::new(key));
        }
    }
    if keys.is_empty() {
        return Err(FetchError::NoUsableKey);
    }
    Ok(keys)
}

/// An RSA key (RS256) or a P-256 key (ES256), with a kid, meant for
/// signatures, and not declared for another algorithm.
fn usable(jwk: &Jwk) -> Option<(String, JwksKey)> {
    let kid = jwk.common.key_id.clone()?;
    if let Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_)) = jwk.common.public_key_use {
        return None;
    }
    let (alg, declared) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return None,
    };
    if jwk.common.key_algorithm.is_some_and(|a| a != declared) {
        return None;
    }
    let decoding = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, JwksKey { decoding, alg }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The example public keys of RFC 7517, appendix A.1.
    const EC_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const EC_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const RSA_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    #[test]
    fn only_rs256_and_es256_signing_keys_with_a_kid_are_taken() {
        let set = json!({ "keys": [
            { "kty": "RSA", "kid": "rsa", "n": RSA_N, "e": "AQAB" },
            { "kty": "EC", "kid": "ec", "crv": "P-256", "x": EC_X, "y": EC_Y, "use": "sig", "alg": "ES256" },
            { "kty": "RSA", "n": RSA_N, "e": "AQAB" },
            { "kty": "RSA", "kid": "enc", "n": RSA_N, "e": "AQAB", "use": "enc" },
            { "kty": "RSA", "kid": "ps", "n": RSA_N, "e": "AQAB", "alg": "PS256" },
            { "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" },
            { "kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": EC_X },
            { "kty": "EC", "kid": "p384", "crv": "P-384", "x": EC_X, "y": EC_Y },
            { "kty": "something-new", "kid": "new" },
            "not even an object",
        ]});
        let keys = parse_key_set(set.to_string().as_bytes()).unwrap();
        let mut kids: Vec<_> = keys
            .iter()
            .map(|(kid, key)| (kid.as_str(), key.alg))
            .collect();
        kids.sort_by_key(|(kid, _)| *kid);
        assert_eq!(kids, [("ec", Algorithm::ES256), ("rsa", Algorithm::RS256)]);
    }

    #[test]
    fn answers_without_a_usable_key_are_refused() {
        for body in [
            "".to_owned(),
            "<html>sign in</html>".to_owned(),
            json!({ "keys": "no" }).to_string(),
            json!({ "keys": [] }).to_string(),
            json!({ "keys": [{ "kty": "oct", "kid": "h", "k": "c2VjcmV0" }] }).to_string(),
        ] {
            assert!(parse_key_set(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn logs_show_the_url_without_its_query_or_credentials() {
        let cache = JwksCache::new(
            "https://user:pw@idp.example.com:8443/tenant/jwks?client_secret=s3cr3t",
            Duration::from_secs(600),
            Duration::from_secs(60),
        );
        // Building the TLS client needs no runtime; only requests do.
        let cache = cache.unwrap();
        assert_eq!(cache.shown, "https://idp.example.com:8443/tenant/jwks");
    }
}
