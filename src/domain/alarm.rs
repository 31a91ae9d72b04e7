//! What CloudWatch says of an alarm, and what a watch made of its alarms:
//! the report of WatchAlarms, which the notification carries.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::campaign::Newer;
use super::watch::Watch;

/// An alarm's state value (DescribeAlarms' `StateValue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmValue {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmValue {
    pub fn parse(value: &str) -> Option<AlarmValue> {
        Some(match value {
            "OK" => AlarmValue::Ok,
            "ALARM" => AlarmValue::Alarm,
            "INSUFFICIENT_DATA" => AlarmValue::InsufficientData,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            AlarmValue::Ok => "OK",
            AlarmValue::Alarm => "ALARM",
            AlarmValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

impl fmt::Display for AlarmValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alarm, metric or composite, as DescribeAlarms describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmState {
    pub name: String,
    pub value: AlarmValue,
    pub reason: Option<String>,
    /// When its state value last changed (`StateTransitionedTimestamp`; where
    /// the service leaves it out, `StateUpdatedTimestamp`).
    pub changed_at: Option<DateTime<Utc>>,
}

/// The report of WatchAlarms (at `$.watch`): the watch so far, and its
/// verdict (`WATCHING` until it ends; the definition routes on it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchReport {
    pub alarms: Vec<String>,
    pub minutes: u64,
    /// When the new version started serving (its update became ACTIVE, as
    /// Personalize recorded it).
    pub began_at: DateTime<Utc>,
    /// When the watch passes, unless an alarm fires first.
    pub ends_at: DateTime<Utc>,
    /// WatchAlarms invocations so far, this one included.
    pub attempt: u32,
    /// Reads of the alarms that were answered (0: never read).
    pub reads: u32,
    /// Why the last read that failed failed (throttling, 5xx, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
    /// Alarms INSUFFICIENT_DATA at the last read: they cannot fire a
    /// rollback until they have data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insufficient_data: Vec<String>,
    /// Alarms in ALARM since before the version served, at the last read:
    /// not this version's doing; one rolls back only if it leaves ALARM and
    /// enters it again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_in_alarm: Vec<String>,
    /// Alarms no longer found (deleted during the watch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// When it ended (none while watching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Seconds before the next look (0 once it ended).
    pub wait_seconds: u64,
}

impl WatchReport {
    /// A watch of `watch`'s alarms that began at `began_at`: WATCHING, nothing
    /// read yet, ending its period later.
    pub fn begun(watch: &Watch, began_at: DateTime<Utc>) -> WatchReport {
        // A period too long to count in dates (a hand-made state) ends at
        // the end of time.
        let ends_at = i64::try_from(watch.minutes)
            .ok()
            .and_then(chrono::Duration::try_minutes)
            .and_then(|period| began_at.checked_add_signed(period))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        WatchReport {
            alarms: watch.alarms.clone(),
            minutes: watch.minutes,
            began_at,
            ends_at,
            attempt: 0,
            reads: 0,
            unread: None,
            insufficient_data: Vec::new(),
            already_in_alarm: Vec::new(),
            missing: Vec::new(),
            ended_at: None,
            verdict: Verdict::Watching,
            wait_seconds: 0,
        }
    }
}

/// How a watch stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "verdict",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Verdict {
    /// Not over: look again after `waitSeconds`.
    Watching,
    /// The period passed, the alarms read, and none entered ALARM.
    Passed,
    /// The period passed, but the alarms could never be read: the new
    /// version is kept, and not reported as verified.
    Unverified,
    /// An alarm entered ALARM after the version started serving: roll back.
    Alarm { alarm: FiredAlarm },
    /// A newer deployment of the campaign began during the watch: it decides
    /// what the campaign serves; no rollback.
    Superseded { superseded_by: Newer },
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Watching => "WATCHING",
            Verdict::Passed => "PASSED",
            Verdict::Unverified => "UNVERIFIED",
            Verdict::Alarm { .. } => "ALARM",
            Verdict::Superseded { .. } => "SUPERSEDED",
        }
    }
}

/// The alarm that fired: its name, CloudWatch's reason, and when it entered
/// ALARM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiredAlarm {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_at: Option<DateTime<Utc>>,
}
