//! The watch after a deployment: the CloudWatch alarms a newly served
//! version is held to, and for how long; written in a request (`watch`), a
//! followed campaign's tags or the stack's variables, and checked by the same
//! rules wherever it is written. What a look at the alarms decides is
//! [`super::watching`]'s, what it reports [`super::alarm`]'s.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::field::{FieldError, Reader, fields_of, quote};

/// `"watch": "none"` (and the alarms tag `none`): no watch, not even the
/// stack's.
pub const NO_WATCH: &str = "none";

/// Written in an alarm name, it stands for the campaign's name: one stack
/// setting (or tag) serves many campaigns.
pub const CAMPAIGN_PLACEHOLDER: &str = "{campaign}";

/// The longest watch, in minutes (12 hours): an execution's history holds
/// [`super::schedule::MAX_WATCH_POLLS`] looks of at most four minutes each.
pub const MAX_WATCH_MINUTES: u64 = 720;

/// The most alarms one watch reads.
pub const MAX_WATCH_ALARMS: usize = 10;

/// CloudWatch's limit on an alarm name.
pub const MAX_ALARM_NAME: usize = 255;

/// The watch period when nothing names one.
pub const DEFAULT_WATCH_MINUTES: u64 = 60;

/// The tags that set a followed campaign's watch.
pub const ALARMS_TAG: &str = "personalize-deployer:watch-alarms";
pub const MINUTES_TAG: &str = "personalize-deployer:watch-minutes";

/// The alarms a deployed version is held to (names, the campaign's name
/// inserted), and for how many minutes after it started serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Watch {
    pub alarms: Vec<String>,
    pub minutes: u64,
}

/// A watch as written: none, or alarms and perhaps a period (else the
/// stack's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchChoice {
    Off,
    Given {
        alarms: Vec<String>,
        minutes: Option<u64>,
    },
}

/// The stack's watch: the alarms of a request that names none (none when
/// empty) and the period of one that names no period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchDefaults {
    pub alarms: Vec<String>,
    pub minutes: u64,
}

impl Default for WatchDefaults {
    fn default() -> Self {
        WatchDefaults {
            alarms: Vec::new(),
            minutes: DEFAULT_WATCH_MINUTES,
        }
    }
}

/// The members a request's `watch` object may have.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WatchFields {
    alarms: Vec<String>,
    minutes: Option<u64>,
}

impl WatchChoice {
    /// Reads a request's `watch` (at `path`): `"none"`, or an object with
    /// `alarms` (required) and `minutes`.
    pub(crate) fn read_json(reader: &mut Reader, path: &str, value: &Value) -> Option<Self> {
        const EXPECTED: &str = "\"none\" or an object with alarms (names) and minutes";
        match value {
            Value::String(s) if s == NO_WATCH => Some(WatchChoice::Off),
            Value::Object(obj) => {
                reader.unknown_fields(path, obj, fields_of::<WatchFields>());
                let alarms: Option<Vec<String>> =
                    reader.required(path, obj, "alarms", "an array of alarm names (strings)");
                let minutes: Option<u64> =
                    reader.optional(path, obj, "minutes", "a whole number of minutes");
                Some(WatchChoice::Given {
                    alarms: alarms?,
                    minutes,
                })
            }
            other => {
                reader.wrong_type(path, EXPECTED, other);
                None
            }
        }
    }

    /// Reads a watch written as text (a campaign's tags, the stack's
    /// variables): alarm names separated by commas (`none`: no watch), and
    /// minutes. `alarms_at` and `minutes_at` name where each was written.
    pub fn from_text(
        alarms: Option<&str>,
        minutes: Option<&str>,
        alarms_at: &str,
        minutes_at: &str,
    ) -> Result<Option<WatchChoice>, Vec<FieldError>> {
        let minutes = match minutes.map(str::trim).filter(|m| !m.is_empty()) {
            None => None,
            Some(m) => Some(m.parse::<u64>().map_err(|_| {
                vec![FieldError::new(
                    minutes_at,
                    format!("must be a whole number of minutes, not {}", quote(m)),
                )]
            })?),
        };
        let Some(alarms) = alarms.map(str::trim).filter(|a| !a.is_empty()) else {
            return match minutes {
                Some(_) => Err(vec![FieldError::new(
                    alarms_at,
                    "is required when a watch period is set",
                )]),
                None => Ok(None),
            };
        };
        if alarms == NO_WATCH {
            return Ok(Some(WatchChoice::Off));
        }
        let alarms = alarms.split(',').map(|a| a.trim().to_string()).collect();
        Ok(Some(WatchChoice::Given { alarms, minutes }))
    }

    /// Checks the rules of a watch written at `path` (`alarms[i]` and
    /// `minutes` are named below it), adding what is broken to `out`.
    pub fn check(&self, path: &str, out: &mut Vec<FieldError>) {
        let WatchChoice::Given { alarms, minutes } = self else {
            return;
        };
        check_alarms(alarms, &format!("{path}.alarms"), out);
        if let Some(minutes) = minutes {
            check_minutes(*minutes, &format!("{path}.minutes"), out);
        }
    }

    /// The watch that applies to a campaign: this one, its period defaulting
    /// to the stack's; none when it is off.
    pub fn resolve(self, defaults: &WatchDefaults, campaign: &str) -> Option<Watch> {
        match self {
            WatchChoice::Off => None,
            WatchChoice::Given { alarms, minutes } => Some(Watch {
                alarms: alarms.iter().map(|a| for_campaign(a, campaign)).collect(),
                minutes: minutes.unwrap_or(defaults.minutes),
            }),
        }
    }
}

impl WatchDefaults {
    /// The stack's watch for a request that names none: its alarms, if it
    /// has any.
    pub fn for_campaign(&self, campaign: &str) -> Option<Watch> {
        (!self.alarms.is_empty()).then(|| Watch {
            alarms: self
                .alarms
                .iter()
                .map(|a| for_campaign(a, campaign))
                .collect(),
            minutes: self.minutes,
        })
    }
}

/// An alarm name with the campaign's name in place of [`CAMPAIGN_PLACEHOLDER`].
fn for_campaign(alarm: &str, campaign: &str) -> String {
    alarm.replace(CAMPAIGN_PLACEHOLDER, campaign)
}

/// The rules of alarm names (at `path`, each at `path[i]`): one to
/// [`MAX_WATCH_ALARMS`], each 1 to [`MAX_ALARM_NAME`] characters (with the
/// longest campaign name in place of the placeholder), printable, no repeats.
pub fn check_alarms(alarms: &[String], path: &str, out: &mut Vec<FieldError>) {
    if alarms.is_empty() || alarms.len() > MAX_WATCH_ALARMS {
        out.push(FieldError::new(
            path,
            format!(
                "must name 1 to {MAX_WATCH_ALARMS} alarms, not {}",
                alarms.len()
            ),
        ));
    }
    for (i, alarm) in alarms.iter().enumerate() {
        let at = format!("{path}[{i}]");
        // The longest campaign name Personalize allows is 63 characters.
        let longest = alarm.replace(CAMPAIGN_PLACEHOLDER, &"x".repeat(63));
        if alarm.trim().is_empty() {
            out.push(FieldError::new(at, "must not be empty"));
        } else if longest.chars().count() > MAX_ALARM_NAME {
            out.push(FieldError::new(
                at,
                format!(
                    "must be at most {MAX_ALARM_NAME} characters (with a 63-character campaign \
                     name for {CAMPAIGN_PLACEHOLDER}), not {}",
                    longest.chars().count()
                ),
            ));
        } else if alarm.chars().any(char::is_control) {
            out.push(FieldError::new(at, "must not contain control characters"));
        } else if alarms[..i].contains(alarm) {
            out.push(FieldError::new(at, format!("repeats {}", quote(alarm))));
        }
    }
}

/// The rule of a watch period (at `path`): 1 to [`MAX_WATCH_MINUTES`].
pub fn check_minutes(minutes: u64, path: &str, out: &mut Vec<FieldError>) {
    if !(1..=MAX_WATCH_MINUTES).contains(&minutes) {
        out.push(FieldError::new(
            path,
            format!("must be from 1 to {MAX_WATCH_MINUTES} minutes (12 hours), not {minutes}"),
        ));
    }
}

/// A followed campaign's watch, from its tags ([`ALARMS_TAG`],
/// [`MINUTES_TAG`]: `tag` gives a tag's value by its key); none when it has
/// neither.
pub fn from_tags(
    tag: impl Fn(&str) -> Option<String>,
) -> Result<Option<WatchChoice>, Vec<FieldError>> {
    let alarms_at = format!("tags.{ALARMS_TAG}");
    let minutes_at = format!("tags.{MINUTES_TAG}");
    let choice = WatchChoice::from_text(
        tag(ALARMS_TAG).as_deref(),
        tag(MINUTES_TAG).as_deref(),
        &alarms_at,
        &minutes_at,
    )?;
    let mut errors = Vec::new();
    if let Some(WatchChoice::Given { alarms, minutes }) = &choice {
        check_alarms(alarms, &alarms_at, &mut errors);
        if let Some(m) = minutes {
            check_minutes(*m, &minutes_at, &mut errors);
        }
    }
    if errors.is_empty() {
        Ok(choice)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Value) -> (Option<WatchChoice>, Vec<FieldError>) {
        let mut reader = Reader::default();
        let choice = WatchChoice::read_json(&mut reader, "watch", &value);
        let mut errors = reader.errors;
        if let Some(c) = &choice {
            c.check("watch", &mut errors);
        }
        (choice, errors)
    }

    #[test]
    fn a_watch_is_none_or_alarms_and_minutes() {
        assert_eq!(read(Value::from("none")).0, Some(WatchChoice::Off));
        let (choice, errors) =
            read(serde_json::json!({"alarms": ["recs-{campaign}-5xx"], "minutes": 30}));
        assert!(errors.is_empty(), "{errors:?}");
        let watch = choice
            .unwrap()
            .resolve(&WatchDefaults::default(), "movie-recs")
            .unwrap();
        assert_eq!(watch.alarms, vec!["recs-movie-recs-5xx".to_string()]);
        assert_eq!(watch.minutes, 30);
        // No period: the stack's.
        let (choice, _) = read(serde_json::json!({"alarms": ["a"]}));
        let defaults = WatchDefaults {
            alarms: Vec::new(),
            minutes: 90,
        };
        assert_eq!(choice.unwrap().resolve(&defaults, "c").unwrap().minutes, 90);
    }

    #[test]
    fn every_broken_rule_is_named() {
        let (_, errors) = read(
            serde_json::json!({"alarms": ["", "a", "a", "b\u{7}"], "minutes": 0, "period": 5}),
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "watch.period",
                "watch.alarms[0]",
                "watch.alarms[2]",
                "watch.alarms[3]",
                "watch.minutes"
            ],
            "{errors:?}"
        );
        assert!(
            errors[0].rule.contains("allowed: alarms, minutes"),
            "{errors:?}"
        );
        assert_eq!(
            errors[4].rule,
            "must be from 1 to 720 minutes (12 hours), not 0"
        );
        let (_, errors) = read(serde_json::json!({"alarms": []}));
        assert_eq!(errors[0].rule, "must name 1 to 10 alarms, not 0");
        let (_, errors) = read(serde_json::json!({"minutes": 5}));
        assert_eq!(errors[0].field, "watch.alarms");
        let (_, errors) = read(Value::from("off"));
        assert!(
            errors[0].rule.starts_with("must be \"none\" or an object"),
            "{errors:?}"
        );
        let long = format!("{}{CAMPAIGN_PLACEHOLDER}", "a".repeat(200));
        let (_, errors) = read(serde_json::json!({"alarms": [long]}));
        assert!(
            errors[0].rule.contains("at most 255 characters"),
            "{errors:?}"
        );
    }

    #[test]
    fn tags_write_a_watch_as_text() {
        let tag = |k: &str, v: &str| (k.to_string(), v.to_string());
        let watch_of = |tags: &[(String, String)]| {
            from_tags(|key| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        };
        assert_eq!(watch_of(&[]), Ok(None));
        assert_eq!(
            watch_of(&[
                tag(ALARMS_TAG, " a , {campaign}-b "),
                tag(MINUTES_TAG, "45")
            ]),
            Ok(Some(WatchChoice::Given {
                alarms: vec!["a".into(), "{campaign}-b".into()],
                minutes: Some(45)
            }))
        );
        assert_eq!(
            watch_of(&[tag(ALARMS_TAG, "none")]),
            Ok(Some(WatchChoice::Off))
        );
        let errors = watch_of(&[tag(MINUTES_TAG, "soon")]).unwrap_err();
        assert_eq!(errors[0].field, "tags.personalize-deployer:watch-minutes");
        let errors = watch_of(&[tag(MINUTES_TAG, "30")]).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "tags.personalize-deployer:watch-alarms: is required when a watch period is set"
        );
        let errors = watch_of(&[tag(ALARMS_TAG, "a,,b"), tag(MINUTES_TAG, "9999")]).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
