//! The constraints of the Personalize API model (see the API reference, §2–§3),
//! checked exactly, each failure naming the field and the rule. Private to
//! [`super`]: requests are validated only through it.

use std::collections::{BTreeMap, HashMap};

use super::{CampaignConfig, Tag};
use crate::domain::arn::CampaignName;
use crate::domain::field::{FieldError, is_tag_text, member_path, quote};

pub const ARN_MAX: usize = 256;
pub const EXPLORATION_MAX_ENTRIES: usize = 100;
pub const PARAMETER_NAME_MAX: usize = 256;
pub const PARAMETER_VALUE_MAX: usize = 1000;
/// The service limit on tags per resource (the model's list allows 200).
pub const TAGS_MAX: usize = 50;
pub const TAG_KEY_MAX: usize = 128;
pub const TAG_VALUE_MAX: usize = 256;
pub const RANKING_INFLUENCE_TYPES: [&str; 2] = ["POPULARITY", "FRESHNESS"];
pub const EXPLORATION_WEIGHT: &str = "explorationWeight";
pub const EXPLORATION_ITEM_AGE_CUT_OFF: &str = "explorationItemAgeCutOff";

/// The model's `Arn` pattern, `arn:([a-z\d-]+):personalize:.*:.*:.+`, anchored
/// at both ends, with `\d` an ASCII digit (the model's regexes are Java's,
/// where it is) and the `.*` narrowed so that region and account cannot
/// contain `:`; `.` does not match a newline.
fn is_personalize_arn(arn: &str) -> bool {
    let Some((partition, rest)) = arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(':'))
    else {
        return false;
    };
    let partition_ok = !partition.is_empty()
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let Some((region, rest)) = rest
        .strip_prefix("personalize:")
        .and_then(|rest| rest.split_once(':'))
    else {
        return false;
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return false;
    };
    partition_ok
        && !resource.is_empty()
        && ![region, account, resource].iter().any(|s| s.contains('\n'))
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// The name, when it keeps the rule.
pub fn check_name(field: &str, name: &str, out: &mut Vec<FieldError>) -> Option<CampaignName> {
    CampaignName::parse(name)
        .map_err(|rule| out.push(FieldError::new(field, rule)))
        .ok()
}

/// Length and pattern of a Personalize `Arn`. Returns `Some(())` when both hold.
pub fn check_arn(field: &str, arn: &str, out: &mut Vec<FieldError>) -> Option<()> {
    let n = len(arn);
    if n > ARN_MAX {
        out.push(FieldError::new(
            field,
            format!("must be at most {ARN_MAX} characters long (it has {n})"),
        ));
        return None;
    }
    if !is_personalize_arn(arn) {
        out.push(FieldError::new(
            field,
            format!(
                "must be a Personalize ARN (arn:<partition>:personalize:<region>:<account>:<resource>); got {}",
                quote(arn)
            ),
        ));
        return None;
    }
    Some(())
}

pub fn check_tps(field: &str, tps: i64, out: &mut Vec<FieldError>) {
    if !(1..=i64::from(i32::MAX)).contains(&tps) {
        out.push(FieldError::new(
            field,
            format!("must be a whole number from 1 to {} (got {tps})", i32::MAX),
        ));
    }
}

pub fn check_campaign_config(field: &str, config: &CampaignConfig, out: &mut Vec<FieldError>) {
    if let Some(exploration) = &config.item_exploration_config {
        check_exploration(&format!("{field}.itemExplorationConfig"), exploration, out);
    }
    if let Some(influence) = &config.ranking_influence {
        check_ranking_influence(&format!("{field}.rankingInfluence"), influence, out);
    }
}

fn check_exploration(field: &str, map: &BTreeMap<String, String>, out: &mut Vec<FieldError>) {
    if map.len() > EXPLORATION_MAX_ENTRIES {
        out.push(FieldError::new(
            field,
            format!(
                "must have at most {EXPLORATION_MAX_ENTRIES} entries (it has {})",
                map.len()
            ),
        ));
    }
    for (key, value) in map {
        let path = member_path(field, key);
        if len(key) > PARAMETER_NAME_MAX {
            out.push(FieldError::new(
                &path,
                format!(
                    "keys must be at most {PARAMETER_NAME_MAX} characters long (this one has {})",
                    len(key)
                ),
            ));
        }
        if len(value) > PARAMETER_VALUE_MAX {
            out.push(FieldError::new(
                &path,
                format!(
                    "values must be at most {PARAMETER_VALUE_MAX} characters long (this one has {})",
                    len(value)
                ),
            ));
            continue;
        }
        let number = value.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        match key.as_str() {
            EXPLORATION_WEIGHT if !number.is_some_and(|w| (0.0..=1.0).contains(&w)) => {
                out.push(FieldError::new(
                    &path,
                    format!(
                        "must be a number from 0 to 1 written as a string, e.g. \"0.3\" (got {})",
                        quote(value)
                    ),
                ));
            }
            EXPLORATION_ITEM_AGE_CUT_OFF if !number.is_some_and(|d| d > 0.0) => {
                out.push(FieldError::new(
                    &path,
                    format!(
                        "must be a positive number of days written as a string, e.g. \"30\" (got {})",
                        quote(value)
                    ),
                ));
            }
            EXPLORATION_WEIGHT | EXPLORATION_ITEM_AGE_CUT_OFF => {}
            // Personalize documents these two; another key is most likely a
            // misspelt one, which would deploy without the exploration asked
            // for.
            _ => out.push(FieldError::new(
                &path,
                format!(
                    "is not an item exploration parameter; Personalize documents \
                     {EXPLORATION_WEIGHT} and {EXPLORATION_ITEM_AGE_CUT_OFF}"
                ),
            )),
        }
    }
}

fn check_ranking_influence(field: &str, map: &BTreeMap<String, f64>, out: &mut Vec<FieldError>) {
    for (key, weight) in map {
        let path = member_path(field, key);
        if !RANKING_INFLUENCE_TYPES.contains(&key.as_str()) {
            out.push(FieldError::new(
                path,
                format!(
                    "is not a ranking influence type; allowed: {}",
                    RANKING_INFLUENCE_TYPES.join(", ")
                ),
            ));
        } else if !(0.0..=1.0).contains(weight) {
            out.push(FieldError::new(
                path,
                format!("must be a weight from 0 to 1 (got {weight})"),
            ));
        }
    }
}

/// Checks tags given with their index in the request's list (unreadable items
/// are left out by the caller, so indices may have gaps).
pub fn check_tags(field: &str, tags: &[(usize, Tag)], out: &mut Vec<FieldError>) {
    if tags.len() > TAGS_MAX {
        out.push(FieldError::new(
            field,
            format!("must have at most {TAGS_MAX} tags (it has {})", tags.len()),
        ));
    }
    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (i, tag) in tags {
        let key_path = format!("{field}[{i}].tagKey");
        let value_path = format!("{field}[{i}].tagValue");
        let key_len = len(&tag.tag_key);
        if key_len == 0 || key_len > TAG_KEY_MAX {
            out.push(FieldError::new(
                &key_path,
                format!("must be 1 to {TAG_KEY_MAX} characters long (it has {key_len})"),
            ));
        }
        let value_len = len(&tag.tag_value);
        if value_len > TAG_VALUE_MAX {
            out.push(FieldError::new(
                &value_path,
                format!("must be at most {TAG_VALUE_MAX} characters long (it has {value_len})"),
            ));
        }
        check_tag_text(&key_path, &tag.tag_key, out);
        check_tag_text(&value_path, &tag.tag_value, out);
        if let Some(j) = first_index.get(tag.tag_key.as_str()) {
            out.push(FieldError::new(
                &key_path,
                format!(
                    "repeats the key {} of {field}[{j}]; each key may appear once",
                    quote(&tag.tag_key)
                ),
            ));
        } else {
            first_index.insert(&tag.tag_key, *i);
        }
    }
}

fn check_tag_text(path: &str, text: &str, out: &mut Vec<FieldError>) {
    if !is_tag_text(text) {
        out.push(FieldError::new(
            path,
            format!(
                "may contain only letters, digits, white space and _ . : / = + - @ \
                 (pattern ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$); got {}",
                quote(text)
            ),
        ));
    }
    if text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
    {
        out.push(FieldError::new(
            path,
            format!(
                "must not start with \"aws:\" in any letter case (reserved for AWS); got {}",
                quote(text)
            ),
        ));
    }
}
