//! GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw
//! body under the repository's webhook secret. Checked before the body is parsed, over the exact
//! bytes received, so nothing an outsider sends is interpreted until it is known to come from
//! whoever holds the secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::AppError;

/// The header GitHub signs deliveries in.
pub const HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";

/// Why a delivery is not accepted as signed. The handler answers 401 to all of them; they are
/// distinct so that logs and the message say what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(
        "the delivery is not signed: no X-Hub-Signature-256 header (set the webhook's secret \
         in GitHub)"
    )]
    Missing,
    #[error("the X-Hub-Signature-256 header is not `sha256=` followed by 64 hex digits")]
    Malformed,
    #[error(
        "the X-Hub-Signature-256 signature does not match the body: the webhook's secret in \
         GitHub differs from the repository's"
    )]
    Mismatch,
}

impl From<SignatureError> for AppError {
    fn from(err: SignatureError) -> AppError {
        AppError::Unauthenticated(err.to_string())
    }
}

/// Checks `header` (the value of `X-Hub-Signature-256`) against `body` signed with `secret`,
/// in constant time.
pub fn verify(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex = header
        .get(..PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(PREFIX))
        .map(|_| &header[PREFIX.len()..])
        .ok_or(SignatureError::Malformed)?;
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    // Anyone can compute a signature under the empty key: never accept one.
    if secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    // HMAC takes a key of any length, so this error cannot happen; it is mapped rather
    // than unwrapped all the same.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Exactly 64 hex digits (a SHA-256 output), else `None`.
fn decode_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example ("Validating webhook deliveries").
    const GITHUB_SECRET: &str = "It's a Secret to Everybody";
    const GITHUB_BODY: &[u8] = b"Hello, World!";
    const GITHUB_SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    /// Computed with `printf '<body>' | openssl dgst -sha256 -hmac 'c0ffee-webhook-secret'`.
    const OUR_SECRET: &str = "c0ffee-webhook-secret";
    const OUR_BODY: &[u8] = br#"{"zen":"Keep it logically awesome.","hook_id":4242}"#;
    const OUR_SIGNATURE: &str =
        "sha256=f0e7b512d4c7b7fc06f53c181a678355009137901da0193c6bd0bbd4171f7a02";
    const EMPTY_BODY_SIGNATURE: &str =
        "sha256=1045af0e597ab8723851bcfb4b5c604640a6e6ab6eef80d077db6b1f2f9aebe7";

    #[test]
    fn githubs_documented_example_verifies() {
        assert_eq!(
            verify(GITHUB_SECRET, GITHUB_BODY, Some(GITHUB_SIGNATURE)),
            Ok(())
        );
    }

    #[test]
    fn independently_computed_signatures_verify() {
        assert_eq!(verify(OUR_SECRET, OUR_BODY, Some(OUR_SIGNATURE)), Ok(()));
        assert_eq!(verify(OUR_SECRET, b"", Some(EMPTY_BODY_SIGNATURE)), Ok(()));
        let upper = format!("SHA256={}", OUR_SIGNATURE[7..].to_uppercase());
        assert_eq!(verify(OUR_SECRET, OUR_BODY, Some(&upper)), Ok(()));
        let padded = format!(" {OUR_SIGNATURE} ");
        assert_eq!(verify(OUR_SECRET, OUR_BODY, Some(&padded)), Ok(()));
    }

    #[test]
    fn a_missing_header_is_missing() {
        assert_eq!(
            verify(OUR_SECRET, OUR_BODY, None),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_header_of_another_form_is_malformed() {
        let hex = &OUR_SIGNATURE[7..];
        for bad in [
            "",
            "sha256=",
            hex,
            &format!("sha1={hex}"),
            &format!("sha256={}", &hex[..62]),
            &format!("sha256={hex}00"),
            &format!("sha256={}zz", &hex[..62]),
            &format!("sha256={}é", &hex[..62]),
            "sha256",
        ] {
            assert_eq!(
                verify(OUR_SECRET, OUR_BODY, Some(bad)),
                Err(SignatureError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn another_body_secret_or_signature_is_a_mismatch() {
        let mismatch = Err(SignatureError::Mismatch);
        let other_body = br#"{"zen":"Keep it logically awesome.","hook_id":4243}"#;
        assert_eq!(
            verify(OUR_SECRET, other_body, Some(OUR_SIGNATURE)),
            mismatch
        );
        assert_eq!(
            verify("another-secret", OUR_BODY, Some(OUR_SIGNATURE)),
            mismatch
        );
        assert_eq!(
            verify(OUR_SECRET, GITHUB_BODY, Some(GITHUB_SIGNATURE)),
            mismatch
        );
        let zeros = format!("sha256={}", "0".repeat(64));
        assert_eq!(verify(OUR_SECRET, OUR_BODY, Some(&zeros)), mismatch);
    }

    #[test]
    fn an_empty_secret_accepts_nothing() {
        let empty_key = "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
        assert_eq!(
            verify("", b"", Some(empty_key)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn every_failure_is_unauthenticated() {
        for err in [
            SignatureError::Missing,
            SignatureError::Malformed,
            SignatureError::Mismatch,
        ] {
            assert_eq!(AppError::from(err).code(), "UNAUTHENTICATED");
        }
    }
}
