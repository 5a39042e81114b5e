//! JWT verification (and minting of dev tokens for the CLI and dev mode):
//! with one key (an HS256 secret, a PEM public key) or an identity
//! provider's key set (`jwks`), where the token's `kid` picks the key.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use super::{
    dev_files::{DevDir, DevFileError},
    jwks::{JwksCache, JwksSetupError},
};
use crate::{
    config::{Config, DEV_SECRET_FILE, JwtKey, dev_dir_of},
    error::AppError,
};

/// Tokens a little out of sync with our clock are still accepted, but no
/// more than this.
const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Matched against `developers.auth_subject`.
    pub sub: String,
    /// Organization id; without it the `X-Organization` header picks one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

pub struct JwtVerifier {
    keys: Keys,
    /// With a key set, each key's own algorithm replaces `algorithms`.
    validation: Validation,
    /// Refuse tokens whose `iat` is older than this.
    max_age: Option<std::time::Duration>,
    /// Only for HS256: the server can mint tokens for the CLI and dev mode.
    encoding: Option<EncodingKey>,
}

enum Keys {
    One(DecodingKey),
    Set(Box<JwksCache>),
}

#[derive(Debug, thiserror::Error)]
pub enum JwtSetupError {
    #[error("JWT_PUBLIC_KEY is not a PEM RSA or EC public key")]
    BadPublicKey,
    #[error(transparent)]
    Jwks(#[from] JwksSetupError),
    #[error("dev JWT secret: {0}")]
    DevSecret(#[from] DevFileError),
    #[error(
        "the dev JWT secret {path} is shorter than 32 characters: delete it and dev mode makes a new one"
    )]
    WeakDevSecret { path: String },
}

impl JwtVerifier {
    pub fn from_config(config: &Config) -> Result<Self, JwtSetupError> {
        let (keys, encoding, alg) = match &config.jwt_key {
            JwtKey::Hs256Secret(secret) => hs256(secret.as_bytes()),
            JwtKey::DevSecretFile(path) => hs256(dev_secret(path)?.as_bytes()),
            JwtKey::PublicKeyPem(pem) => {
                let pem = pem.replace("\\n", "\n");
                if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                    (Keys::One(key), None, Algorithm::RS256)
                } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                    (Keys::One(key), None, Algorithm::ES256)
                } else {
                    return Err(JwtSetupError::BadPublicKey);
                }
            }
            JwtKey::Jwks { url } => {
                let ttl = config.jwks_ttl;
                let cache = JwksCache::new(url, ttl, config.jwks_refresh_interval)?;
                // Replaced by each key's algorithm when a token is verified.
                (Keys::Set(Box::new(cache)), None, Algorithm::RS256)
            }
        };
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        // jsonwebtoken compares `iss` and `aud` only when the token carries
        // them: a configured one must also be required, or a token that
        // simply leaves it out passes.
        let mut required = vec!["exp", "sub"];
        required.extend(config.jwt_issuer.as_ref().map(|_| "iss"));
        required.extend(config.jwt_audience.as_ref().map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        match &config.jwt_issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &config.jwt_audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(JwtVerifier {
            keys,
            validation,
            max_age: config.jwt_max_age,
            encoding,
        })
    }

    /// Verifies with the configured key; with a key set, with the token's
    /// `kid`, fetching the set when it is due or lacks that kid (see `jwks`
    /// for how often).
    pub async fn verify(&self, token: &str) -> Result<Claims, AppError> {
        match &self.keys {
            Keys::One(key) => self.decode(token, key, &self.validation),
            Keys::Set(cache) => {
                let key = cache.key(&kid_of(token)?).await?;
                self.decode(token, &key.decoding, &self.for_alg(key.alg))
            }
        }
    }

    /// A key from a set is accepted for its own algorithm only, so a token
    /// cannot pick another one (say HS256 keyed with the public key).
    fn for_alg(&self, alg: Algorithm) -> Validation {
        let mut validation = self.validation.clone();
        validation.algorithms = vec![alg];
        validation
    }

    fn decode(
        &self,
        token: &str,
        key: &DecodingKey,
        validation: &Validation,
    ) -> Result<Claims, AppError> {
        let claims = jsonwebtoken::decode::<Claims>(token, key, validation)
            .map(|data| data.claims)
            .map_err(|err| {
                let reason = match err.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                    ErrorKind::InvalidSignature => "the token signature is invalid",
                    ErrorKind::InvalidAlgorithm => "the token algorithm is not accepted",
                    ErrorKind::InvalidIssuer => "the token issuer is not accepted",
                    ErrorKind::InvalidAudience => "the token audience is not accepted",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                };
                AppError::Unauthenticated(reason.to_owned())
            })?;
        if let Some(max_age) = self.max_age {
            check_age(claims.iat, max_age, chrono::Utc::now().timestamp())?;
        }
        Ok(claims)
    }

    /// Mints an HS256 token; `None` when the server only verifies (RS256/ES256).
    pub fn mint(&self, sub: &str, org: Option<&str>, ttl: chrono::Duration) -> Option<String> {
        let key = self.encoding.as_ref()?;
        let now = chrono::Utc::now();
        let claims = Claims {
            sub: sub.to_owned(),
            org: org.map(str::to_owned),
            exp: (now + ttl).timestamp(),
            iat: Some(now.timestamp()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key).ok()
    }
}

/// With a maximum age, `iat` is required and must lie between `max_age`
/// ago and now (both with the clock leeway).
fn check_age(iat: Option<i64>, max_age: std::time::Duration, now: i64) -> Result<(), AppError> {
    let refuse = |reason: &str| Err(AppError::Unauthenticated(reason.to_owned()));
    let Some(iat) = iat else {
        return refuse("the token lacks a required claim");
    };
    let leeway = LEEWAY_SECONDS as i64;
    let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    if iat > now.saturating_add(leeway) {
        return refuse("the token was issued in the future (iat)");
    }
    if now.saturating_sub(iat) > max_age.saturating_add(leeway) {
        return refuse("the token is older than the accepted maximum age (iat)");
    }
    Ok(())
}

/// The `kid` of the token's header. A token without one is refused even
/// when the set holds a single key: whether it passes would otherwise
/// change with the day the provider publishes its next key.
fn kid_of(token: &str) -> Result<String, AppError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| AppError::Unauthenticated("the token is malformed".into()))?;
    header.kid.ok_or_else(|| {
        AppError::Unauthenticated("the token names no signing key (kid in its header)".into())
    })
}

fn hs256(secret: &[u8]) -> (Keys, Option<EncodingKey>, Algorithm) {
    (
        Keys::One(DecodingKey::from_secret(secret)),
        Some(EncodingKey::from_secret(secret)),
        Algorithm::HS256,
    )
}

/// Reads the dev secret, creating it on first use (see `dev_files` for
/// the rules its file and directory follow).
fn dev_secret(path: &std::path::Path) -> Result<String, JwtSetupError> {
    let dir = DevDir::open(&dev_dir_of(path))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(DEV_SECRET_FILE);
    let shown = || path.display().to_string();
    if let Some(secret) = dir.read(name)? {
        return strong(secret).ok_or_else(|| JwtSetupError::WeakDevSecret { path: shown() });
    }
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match dir.create(name, &secret) {
        Ok(()) => Ok(secret),
        // Another devgraph (a `token` command next to `serve`) made it
        // first: use theirs, under the same checks.
        Err(DevFileError::Io { cause, .. })
            if cause.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            let secret = dir.read(name)?.and_then(strong);
            secret.ok_or_else(|| JwtSetupError::WeakDevSecret { path: shown() })
        }
        Err(e) => Err(e.into()),
    }
}

fn strong(secret: String) -> Option<String> {
    let secret = secret.trim();
    (secret.len() >= 32).then(|| secret.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

    #[test]
    fn max_age_counts_from_iat_with_the_leeway() {
        let now = 1_000_000;
        assert!(check_age(Some(now - 3600), HOUR, now).is_ok());
        assert!(check_age(Some(now - 3600 - 30), HOUR, now).is_ok());
        assert!(check_age(Some(now - 3600 - 31), HOUR, now).is_err());
        assert!(check_age(Some(now + 30), HOUR, now).is_ok());
        assert!(check_age(Some(now + 31), HOUR, now).is_err());
        assert!(check_age(None, HOUR, now).is_err());
    }
}
