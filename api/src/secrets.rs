//! Secrets the server must keep for tenants and use again later (a repository's webhook
//! secret, which it needs in clear to check GitHub's signatures), sealed at rest under the
//! operator's `DEVGRAPH_SECRET_KEY` so that a database dump or backup alone does not reveal them.
//!
//! Sealing is AES-256-GCM with a fresh random nonce per value, and the row the value belongs to
//! (its repository id) as associated data: a sealed value copied into another row does not open.
//! The text form is `v1.<nonce>.<ciphertext>` (base64url), versioned so that another scheme
//! or key can be introduced next to this one.

use std::fmt;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::{
    Engine, alphabet,
    engine::{
        DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::URL_SAFE_NO_PAD,
    },
};
use rand::RngCore;

use crate::error::AppError;

/// The variable (and `--secret-key` flag) that holds the key.
pub const SECRET_KEY_VAR: &str = "DEVGRAPH_SECRET_KEY";

/// The prefix of the current sealed form.
const VERSION: &str = "v1";

/// AES-GCM's standard nonce: 96 bits, random per seal. With random nonces one key may seal
/// about 2^32 values before a repeat becomes a concern; webhook secrets are far fewer.
const NONCE_LEN: usize = 12;

const KEY_LEN: usize = 32;

/// Operators paste keys from `openssl rand -base64 32`, password managers or secret stores,
/// which differ in alphabet and padding: accept either alphabet, padded or not.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const BASE64_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// The server's 256-bit sealing key. Its `Debug` shows nothing of the key, and it has no way
/// to print or export the bytes, so it cannot end up in a log.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A key that is not 32 bytes in a form we read. Deliberately without the offending text: it
/// is (close to) a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{SECRET_KEY_VAR} must be 32 random bytes written as base64 (44 characters, standard or \
     URL-safe, padded or not) or as 64 hex digits; make one with `openssl rand -base64 32`"
)]
pub struct BadSecretKey;

impl SecretKey {
    /// Reads a key written as 64 hex digits or as base64 of exactly 32 bytes (surrounding
    /// whitespace ignored, as a key file or an environment file may end in a newline).
    pub fn parse(text: &str) -> Result<SecretKey, BadSecretKey> {
        let text = text.trim();
        // Hex first: 64 hex digits are also valid base64 (of 48 bytes), never the reverse.
        let bytes = match hex_decode(text) {
            Some(bytes) => bytes,
            None => BASE64_STANDARD
                .decode(text)
                .or_else(|_| BASE64_URL_SAFE.decode(text))
                .map_err(|_| BadSecretKey)?,
        };
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| BadSecretKey)?;
        Ok(SecretKey(key))
    }

    /// A key from raw bytes (tests and callers that already hold random bytes).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        SecretKey(bytes)
    }
}

/// Seals and opens secrets under one key. Built once at start-up and shared.
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

impl Sealer {
    pub fn new(key: &SecretKey) -> Sealer {
        Sealer {
            cipher: Aes256Gcm::new(&key.0.into()),
        }
    }

    /// Seals `plaintext` for the row named by `context` (pass the repository id's bytes): the
    /// result opens only with the same key and the same context.
    ///
    /// Fails only for inputs AES-GCM cannot take (a plaintext over 64 GiB); a `Result` rather
    /// than a panic, since the input comes from callers.
    pub fn seal(&self, plaintext: &str, context: &[u8]) -> Result<String, AppError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context,
        };
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), payload)
            .map_err(|_| AppError::internal("cannot seal a secret: the value is too long"))?;
        Ok(format!(
            "{VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// Opens what `seal` produced for the same `context`. A wrong key, a wrong context and an
    /// altered value all fail alike: AES-GCM cannot tell them apart, and the message must not
    /// help anyone guess.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<String, AppError> {
        let fail = || {
            AppError::internal(format!(
                "a sealed secret does not open: it was sealed under another {SECRET_KEY_VAR}, \
                 for another row, or altered"
            ))
        };
        let mut parts = sealed.trim().split('.');
        let (Some(VERSION), Some(nonce), Some(ciphertext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail());
        };
        let nonce = URL_SAFE_NO_PAD.decode(nonce).map_err(|_| fail())?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| fail())?;
        let ciphertext = URL_SAFE_NO_PAD.decode(ciphertext).map_err(|_| fail())?;
        let payload = Payload {
            msg: &ciphertext,
            aad: context,
        };
        let plaintext = self
            .cipher
            .decrypt(&Nonce::from(nonce), payload)
            .map_err(|_| fail())?;
        String::from_utf8(plaintext).map_err(|_| fail())
    }
}

/// A new webhook secret: 32 random bytes as 64 hex digits, a form GitHub's webhook settings
/// accept as pasted.
pub fn new_webhook_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex_encode(&bytes)
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly 64 hex digits (a key), else `None`.
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() != 2 * KEY_LEN || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key_bytes() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    fn sealer() -> Sealer {
        Sealer::new(&SecretKey::from_bytes(key_bytes()))
    }

    #[test]
    fn keys_are_read_from_hex_and_every_base64_form() {
        let bytes = key_bytes();
        let standard = base64::engine::general_purpose::STANDARD.encode(bytes);
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode(bytes);
        // These bytes put `+`/`/` (or `-`/`_`) in the text, so each alphabet is exercised.
        let high: [u8; 32] = std::array::from_fn(|i| 0xf0 | i as u8);
        let high_standard = base64::engine::general_purpose::STANDARD.encode(high);
        let high_url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(high);
        assert!(high_standard.contains('/') && high_url.contains('_'));
        for (text, expected) in [
            (KEY_HEX.to_owned(), bytes),
            (KEY_HEX.to_uppercase(), bytes),
            (format!("  {KEY_HEX}\n"), bytes),
            (standard.clone(), bytes),
            (standard.trim_end_matches('=').to_owned(), bytes),
            (url_safe.clone(), bytes),
            (format!("{standard}\n"), bytes),
            (high_standard, high),
            (high_url, high),
        ] {
            let key = SecretKey::parse(&text).unwrap_or_else(|_| panic!("{text:?}"));
            assert_eq!(key.0, expected, "{text:?}");
        }
    }

    #[test]
    fn anything_but_32_bytes_is_refused_with_how_to_make_a_key() {
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        let long = base64::engine::general_purpose::STANDARD.encode([1u8; 33]);
        for bad in [
            "",
            "secret",
            &KEY_HEX[..62],
            &format!("{KEY_HEX}00"),
            &short,
            &long,
            "not base64 at all, but long enough to be 44 chars",
        ] {
            let err = SecretKey::parse(bad).unwrap_err().to_string();
            assert!(err.contains("DEVGRAPH_SECRET_KEY"), "{err}");
            assert!(err.contains("openssl rand -base64 32"), "{err}");
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = SecretKey::from_bytes([0xab; 32]);
        let shown = format!("{key:?} {:?}", Sealer::new(&key));
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_context() {
        let sealer = sealer();
        let sealed = sealer.seal("webhook secret ✓", b"repo-1").unwrap();
        assert!(sealed.starts_with("v1."), "{sealed}");
        assert!(!sealed.contains("webhook"), "{sealed}");
        assert_eq!(sealer.open(&sealed, b"repo-1").unwrap(), "webhook secret ✓");
        let empty = sealer.seal("", b"repo-1").unwrap();
        assert_eq!(sealer.open(&empty, b"repo-1").unwrap(), "");
    }

    #[test]
    fn two_seals_of_the_same_text_differ() {
        let sealer = sealer();
        let a = sealer.seal("same", b"repo-1").unwrap();
        let b = sealer.seal("same", b"repo-1").unwrap();
        assert_ne!(a, b);
        assert_ne!(a.split('.').nth(1), b.split('.').nth(1), "nonces differ");
    }

    #[test]
    fn another_context_does_not_open() {
        let sealer = sealer();
        let sealed = sealer.seal("secret", b"repo-1").unwrap();
        let err = sealer.open(&sealed, b"repo-2").unwrap_err();
        assert_eq!(err.code(), "INTERNAL");
        assert_eq!(err.message(), "internal error");
        assert!(!err.describe().contains("secret\""), "{}", err.describe());
    }

    #[test]
    fn another_key_does_not_open() {
        let sealed = sealer().seal("secret", b"repo-1").unwrap();
        let other = Sealer::new(&SecretKey::from_bytes([9; 32]));
        assert!(other.open(&sealed, b"repo-1").is_err());
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let sealer = sealer();
        let sealed = sealer.seal("secret", b"repo-1").unwrap();
        let parts: Vec<&str> = sealed.split('.').collect();
        let mut ciphertext = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        ciphertext[0] ^= 1;
        let flipped = format!("v1.{}.{}", parts[1], URL_SAFE_NO_PAD.encode(&ciphertext));
        let mut nonce = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        nonce[0] ^= 1;
        let renonced = format!("v1.{}.{}", URL_SAFE_NO_PAD.encode(&nonce), parts[2]);
        let truncated = &sealed[..sealed.len() - 4];
        for bad in [
            flipped.as_str(),
            renonced.as_str(),
            truncated,
            &sealed.replacen("v1.", "v2.", 1),
            &format!("{sealed}.x"),
            "v1..",
            "",
            "secret",
        ] {
            assert!(sealer.open(bad, b"repo-1").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn webhook_secrets_are_64_random_hex_digits() {
        let a = new_webhook_secret();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(a, new_webhook_secret());
    }
}
