//! Validation of a whole batch before anything is written: every refusal
//! names the event's index and field.

use crate::ids::GlobalId as _;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::config::IngestLimits;
use crate::{
    error::{AppError, AppResult},
    ids::DeveloperId,
};

/// Event names: 1 to 100 of letters, digits, `_`, `.`, `:` and `-`.
/// One event as a client sends it.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub client_id: String,
    pub name: String,
    /// An email address or a developer id (global or raw uuid).
    pub developer: Option<String>,
    pub occurred_at: String,
    pub properties: Option<Value>,
}

pub const NAME_ALPHABET: &str = "letters, digits, '_', '.', ':' and '-'";
const CLIENT_ID_MAX: usize = 200;

pub(crate) struct Valid {
    pub client_id: String,
    pub name: String,
    pub developer: Option<DevRef>,
    pub occurred_at: DateTime<Utc>,
    pub properties: Value,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum DevRef {
    Email(String),
    Id(Uuid),
}

fn bad(index: usize, field: &str, reason: impl std::fmt::Display) -> AppError {
    let path = format!("events[{index}].{field}");
    AppError::bad_field(&path, format!("{path}: {reason}"))
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn validate(
    index: usize,
    input: EventInput,
    now: DateTime<Utc>,
    oldest: DateTime<Utc>,
    limits: &IngestLimits,
) -> AppResult<Valid> {
    let client_id = input.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.chars().count() > CLIENT_ID_MAX {
        return Err(bad(
            index,
            "id",
            format!("must be 1 to {CLIENT_ID_MAX} characters"),
        ));
    }
    let name_ok = (1..=100).contains(&input.name.len())
        && input
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    if !name_ok {
        return Err(bad(
            index,
            "name",
            format!("must be 1 to 100 of {NAME_ALPHABET}"),
        ));
    }
    let occurred_at = DateTime::parse_from_rfc3339(input.occurred_at.trim())
        .map_err(|_| {
            bad(
                index,
                "occurredAt",
                "must be an RFC 3339 date-time with an offset",
            )
        })?
        .with_timezone(&Utc);
    if occurred_at > now + limits.max_future_skew {
        return Err(bad(index, "occurredAt", "is in the future"));
    }
    if occurred_at < oldest {
        return Err(bad(
            index,
            "occurredAt",
            "is older than the organization's retention window",
        ));
    }
    let properties = input
        .properties
        .unwrap_or_else(|| Value::Object(Default::default()));
    if !properties.is_object() {
        return Err(bad(index, "properties", "must be a JSON object"));
    }
    if depth(&properties) > limits.max_property_depth {
        return Err(bad(
            index,
            "properties",
            format!("nests deeper than {} levels", limits.max_property_depth),
        ));
    }
    if properties.to_string().len() > limits.max_property_bytes {
        return Err(bad(
            index,
            "properties",
            format!("is larger than {} bytes", limits.max_property_bytes),
        ));
    }
    let developer = match input
        .developer
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(text) if text.contains('@') => Some(DevRef::Email(text.to_lowercase())),
        Some(text) => match Uuid::parse_str(text) {
            Ok(id) => Some(DevRef::Id(id)),
            Err(_) => Some(DevRef::Id(
                DeveloperId::from_global(text)
                    .map_err(|_| {
                        bad(
                            index,
                            "developer",
                            "must be an email address or a developer id",
                        )
                    })?
                    .uuid(),
            )),
        },
    };
    Ok(Valid {
        client_id,
        name: input.name,
        developer,
        occurred_at,
        properties,
    })
}
