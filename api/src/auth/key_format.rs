//! The API key format, `dg_<prefix>_<secret>`, and what a key may do: the
//! one place that knows how a key is written, split and hashed, used both by
//! authentication (below the services) and by the service that creates keys.
//! 256 random bits of secret from the operating system's CSPRNG, stored only
//! as a SHA-256 hash (a slow hash buys nothing against 256-bit secrets).

use entity::api_key;
use rand::{TryRngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// What a key may do (not to be confused with a metrics scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyScope {
    Read,
    EventsWrite,
    /// Send pull requests, reviews, deployments and incidents to `POST /v1/delivery`.
    DeliveryWrite,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Read => "read",
            KeyScope::EventsWrite => "events:write",
            KeyScope::DeliveryWrite => "delivery:write",
        }
    }

    pub fn parse(text: &str) -> Option<KeyScope> {
        [
            KeyScope::Read,
            KeyScope::EventsWrite,
            KeyScope::DeliveryWrite,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// The scopes stored on a key (unknown strings are ignored, never granted).
pub fn scopes_of(row: &api_key::Model) -> Vec<KeyScope> {
    row.scopes
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().and_then(KeyScope::parse))
                .collect()
        })
        .unwrap_or_default()
}

pub const KEY_PREFIX: &str = "dg_";

/// Splits `dg_<prefix>_<secret>`; `None` if it is not shaped like a key.
pub fn split_key(token: &str) -> Option<(&str, &str)> {
    let (prefix, secret) = token.strip_prefix(KEY_PREFIX)?.split_once('_')?;
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(prefix) && hex(secret)).then_some((prefix, secret))
}

pub fn hash_secret(secret: &str) -> String {
    to_hex(&Sha256::digest(secret.as_bytes()))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn random_hex(bytes: usize) -> AppResult<String> {
    let mut buf = vec![0u8; bytes];
    OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    Ok(to_hex(&buf))
}
