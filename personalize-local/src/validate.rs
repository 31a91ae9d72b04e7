//! The constraints of the Personalize model, applied the way the service's
//! framework does: lengths and ranges exactly, patterns with search semantics
//! (a Smithy `pattern` is not implicitly anchored), or fully anchored in
//! strict mode. Violations are `InvalidInputException`s worded like AWS's
//! "1 validation error detected" messages.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::model::CampaignConfig;

pub const NAME_PATTERN: &str = r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*";
pub const ARN_PATTERN: &str = r"arn:([a-z\d-]+):personalize:.*:.*:.+";
pub const TAG_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";

static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(NAME_PATTERN).expect("valid"));
static NAME_STRICT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("{NAME_PATTERN}$")).expect("valid"));
static ARN: LazyLock<Regex> = LazyLock::new(|| Regex::new(ARN_PATTERN).expect("valid"));
static ARN_STRICT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:([a-z\d-]+):personalize:[^:\n]*:[^:\n]*:.+$").expect("valid")
});
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(TAG_PATTERN).expect("valid"));

fn shown(value: &str) -> String {
    let head: String = value.chars().take(100).collect();
    head
}

pub fn constraint(value: &str, member: &str, rule: &str) -> ApiError {
    ApiError::invalid(format!(
        "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: {rule}",
        shown(value)
    ))
}

fn length(value: &str, member: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min {
        return Err(constraint(
            value,
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(constraint(
            value,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

pub fn name(value: &str, member: &str, strict: bool) -> Result<(), ApiError> {
    length(value, member, 1, 63)?;
    let re = if strict { &NAME_STRICT } else { &NAME };
    if !re.is_match(value) {
        return Err(constraint(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
        ));
    }
    Ok(())
}

pub fn arn(value: &str, member: &str, strict: bool) -> Result<(), ApiError> {
    length(value, member, 0, 256)?;
    let re = if strict { &ARN_STRICT } else { &ARN };
    if !re.is_match(value) {
        return Err(constraint(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {ARN_PATTERN}"),
        ));
    }
    Ok(())
}

pub fn tps(value: i64, member: &str) -> Result<(), ApiError> {
    if !(1..=i64::from(i32::MAX)).contains(&value) {
        return Err(constraint(
            &value.to_string(),
            member,
            "Member must have value greater than or equal to 1",
        ));
    }
    Ok(())
}

pub fn max_results(value: i64) -> Result<(), ApiError> {
    if !(1..=100).contains(&value) {
        return Err(constraint(
            &value.to_string(),
            "maxResults",
            "Member must have value between 1 and 100",
        ));
    }
    Ok(())
}

pub fn campaign_config(config: &CampaignConfig) -> Result<(), ApiError> {
    if let Some(map) = &config.item_exploration_config {
        if map.len() > 100 {
            return Err(ApiError::invalid(format!(
                "1 validation error detected: Value at 'campaignConfig.itemExplorationConfig' failed to satisfy constraint: Member must have length less than or equal to 100 (it has {})",
                map.len()
            )));
        }
        for (k, v) in map {
            length(k, "campaignConfig.itemExplorationConfig.key", 0, 256)?;
            length(v, "campaignConfig.itemExplorationConfig.value", 0, 1000)?;
        }
        if let Some(w) = map.get("explorationWeight") {
            let ok = w
                .trim()
                .parse::<f64>()
                .is_ok_and(|w| (0.0..=1.0).contains(&w));
            if !ok {
                return Err(ApiError::invalid(format!(
                    "Invalid explorationWeight '{}': it must be a number between 0.0 and 1.0",
                    shown(w)
                )));
            }
        }
        if let Some(d) = map.get("explorationItemAgeCutOff") {
            let ok = d
                .trim()
                .parse::<f64>()
                .is_ok_and(|d| d.is_finite() && d > 0.0);
            if !ok {
                return Err(ApiError::invalid(format!(
                    "Invalid explorationItemAgeCutOff '{}': it must be a positive number of days",
                    shown(d)
                )));
            }
        }
    }
    if let Some(map) = &config.ranking_influence {
        for (k, w) in map {
            if k != "POPULARITY" && k != "FRESHNESS" {
                return Err(constraint(
                    k,
                    "campaignConfig.rankingInfluence.key",
                    "Member must satisfy enum value set: [POPULARITY, FRESHNESS]",
                ));
            }
            if !(0.0..=1.0).contains(w) {
                return Err(constraint(
                    &w.to_string(),
                    "campaignConfig.rankingInfluence.value",
                    "Member must have value between 0 and 1",
                ));
            }
        }
    }
    Ok(())
}

/// Checks a `Tags` list; returns the tags as pairs. More than `max` tags is a
/// `TooManyTagsException`.
pub fn tags(value: &[Value], max: usize) -> Result<Vec<(String, String)>, ApiError> {
    if value.len() > 200 {
        return Err(constraint(
            "[...]",
            "tags",
            "Member must have length less than or equal to 200",
        ));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(value.len());
    for (i, tag) in value.iter().enumerate() {
        let obj = tag
            .as_object()
            .ok_or_else(|| ApiError::serialization(format!("tags[{i}] must be a structure")))?;
        let key = tag_text(obj, "tagKey", i)?;
        let value = tag_text(obj, "tagValue", i)?;
        length(&key, &format!("tags.{}.member.tagKey", i + 1), 1, 128)?;
        length(&value, &format!("tags.{}.member.tagValue", i + 1), 0, 256)?;
        for (text, member) in [(&key, "tagKey"), (&value, "tagValue")] {
            if !TAG.is_match(text) {
                return Err(constraint(
                    text,
                    &format!("tags.{}.member.{member}", i + 1),
                    &format!("Member must satisfy regular expression pattern: {TAG_PATTERN}"),
                ));
            }
            if text
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
            {
                return Err(ApiError::invalid(format!(
                    "Tag {member}s beginning with 'aws:' are reserved for AWS use: '{}'",
                    shown(text)
                )));
            }
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(ApiError::invalid(format!(
                "Duplicate tag key '{}'",
                shown(&key)
            )));
        }
        out.push((key, value));
    }
    if out.len() > max {
        return Err(ApiError::new(
            "TooManyTagsException",
            format!(
                "A resource can have at most {max} tags; the request has {}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

fn tag_text(obj: &Map<String, Value>, member: &str, i: usize) -> Result<String, ApiError> {
    match obj.get(member) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(ApiError::invalid(format!(
            "1 validation error detected: Value null at 'tags.{}.member.{member}' failed to satisfy constraint: Member must not be null",
            i + 1
        ))),
        Some(_) => Err(ApiError::serialization(format!(
            "tags[{i}].{member} must be a string"
        ))),
    }
}

pub fn tag_key(key: &str, i: usize) -> Result<(), ApiError> {
    length(key, &format!("tagKeys.{}.member", i + 1), 1, 128)?;
    if !TAG.is_match(key) {
        return Err(constraint(
            key,
            &format!("tagKeys.{}.member", i + 1),
            &format!("Member must satisfy regular expression pattern: {TAG_PATTERN}"),
        ));
    }
    Ok(())
}
