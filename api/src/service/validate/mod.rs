//! Input validation shared by every mutation. Each check names the input
//! field it refuses, so clients can show the message beside it.
//!
//! The one validation module: these field rules, and a batch of events
//! (`event.rs`), whose names and properties follow the same rules.

pub mod event;

use crate::error::{AppError, AppResult};

pub const NAME_MAX: usize = 200;
pub const SLUG_MAX: usize = 63;
pub const DESCRIPTION_MAX: usize = 2000;

/// Trimmed, 1 to 200 characters.
pub fn name(field: &str, value: &str) -> AppResult<String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    if len > NAME_MAX {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` must be at most {NAME_MAX} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` must not contain control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Lowercase letters, digits and hyphens, 1 to 63 characters, not starting
/// or ending with a hyphen (so slugs are safe in URLs and hostnames).
pub fn slug(field: &str, value: &str) -> AppResult<String> {
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ok_len = (1..=SLUG_MAX).contains(&value.len());
    if !ok_chars || !ok_len || value.starts_with('-') || value.ends_with('-') {
        return Err(AppError::bad_field(
            field,
            format!(
                "`{field}` must be 1 to {SLUG_MAX} lowercase letters, digits or hyphens, \
                 not starting or ending with a hyphen"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// A plausible address: one `@`, a local part, a dotted domain, no spaces.
/// Lowercased, since addresses are compared case-insensitively in practice.
pub fn email(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim().to_lowercase();
    let bad = || AppError::bad_field(field, format!("`{field}` is not a valid email address"));
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty()
        || !domain_ok
        || domain.contains('@')
        || value.len() > 254
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(value)
}

/// Optional free text, trimmed; empty means none.
pub fn description(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` must be at most {DESCRIPTION_MAX} characters"),
        ));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["a", "team-1", "x".repeat(63).as_str()] {
            assert!(slug("slug", good).is_ok(), "{good}");
        }
        for bad in ["", "A", "a_b", "-a", "a-", "é", &"x".repeat(64), "a b"] {
            let err = slug("slug", bad).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT", "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Platform ").unwrap(), "Platform");
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"n".repeat(201)).is_err());
        assert!(name("name", &"n".repeat(200)).is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("email", " Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "", "ada", "ada@", "@x.io", "ada@x", "a b@x.io", "a@x..io", "a@@x.io",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }
}
