//! A campaign's record, kept in its own tags: its last known good version
//! (with its TPS and configuration), and the version last rolled back from
//! (when, and why). It outlives every execution, so that a revert asked for
//! weeks later knows where to return, and following knows what not to
//! deploy again. Tags need no infrastructure of their own, travel with the
//! campaign, and are read by following already (docs/decisions.md).
//!
//! The last known good is where a revert returns to: what the campaign
//! served before its newest deployment. It is written
//! - when a deployment starts an update: what the campaign served until then
//!   (unless it is the version last rolled back from, or the deployment is
//!   a revert, which leaves a version that is not good);
//! - when a watch's alarm rolled the deployment back: what it returned to,
//!   with the version rolled back from. A failed rollback records the
//!   version it could not leave, and a kept revert the version it left.
//!
//! A kept deployment leaves it as it is: the version it replaced is still
//! the one to return to, should the kept one prove bad later (returning to
//! the kept one needs nothing).
//!
//! Tag values hold only letters, digits, white space and `_ . : / = + - @`,
//! at most 256 characters: the configuration is written as `name=value`
//! words (`exploration.explorationWeight=0.3 metadata=true`), and a
//! configuration that cannot be written so is not recorded (the old record
//! is removed rather than left to mislead).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};

use super::alarm::Verdict;
use super::campaign::Campaign;
use super::execution::{Accepted, Deployment, Execution, StatusReport, TaskInput};
use super::field::is_tag_text;
use super::origin::{Origin, Sent};
use super::outcome::{Operation, Outcome};
use super::request::{CampaignConfig, Scope, Served, Tag};
use crate::ports::{ApiError, Catalog, Tagging};

pub const GOOD_VERSION_TAG: &str = "personalize-deployer:good-version";
pub const GOOD_TPS_TAG: &str = "personalize-deployer:good-tps";
pub const GOOD_CONFIG_TAG: &str = "personalize-deployer:good-config";
pub const GOOD_SINCE_TAG: &str = "personalize-deployer:good-since";
pub const ROLLED_BACK_VERSION_TAG: &str = "personalize-deployer:rolled-back-version";
pub const ROLLED_BACK_AT_TAG: &str = "personalize-deployer:rolled-back-at";
pub const ROLLED_BACK_WHY_TAG: &str = "personalize-deployer:rolled-back-why";
pub const LAST_WRITE_VERSION_TAG: &str = "personalize-deployer:last-write-version";
pub const LAST_WRITE_REQUESTED_AT_TAG: &str = "personalize-deployer:last-write-requested-at";
pub const LAST_WRITE_AT_TAG: &str = "personalize-deployer:last-write-at";

/// How long before its tag a write's update may have begun (the update
/// comes first, then the record) and still be that write; and how much
/// later (the clocks of Lambda and Personalize differ).
const WRITE_BEFORE_TAG_SECONDS: i64 = 300;
const WRITE_AFTER_TAG_SECONDS: i64 = 60;

/// The most characters a tag value holds.
pub const MAX_TAG_VALUE: usize = 256;

/// The last known good: what the campaign served, and since when it is
/// known good.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownGood {
    pub served: Served,
    pub since: DateTime<Utc>,
}

/// The version last rolled back from: when (none when its tag is gone or
/// does not read), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RolledBack {
    pub version: String,
    pub at: Option<DateTime<Utc>>,
    pub why: String,
}

/// The campaign's latest update made by this product: the version it
/// heads to, when the request it was made for was made (for a rollback, the
/// deployment's request), and when it was recorded. It tells newer work
/// from older by the requests' times, not by when each was written.
#[derive(Debug, Clone, PartialEq)]
pub struct LastWrite {
    pub version: String,
    pub requested_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

/// A campaign's record as its tags hold it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// The last known good (`Err`: its tags are there but do not read).
    pub good: Option<Result<KnownGood, String>>,
    pub rolled_back: Option<RolledBack>,
    pub last_write: Option<LastWrite>,
}

fn tag(key: &str, value: impl Into<String>) -> Tag {
    Tag {
        tag_key: key.to_string(),
        tag_value: value.into(),
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Record {
    /// Reads the record from a campaign's tags.
    pub fn from_tags(tags: &[Tag]) -> Record {
        let value = |key: &str| {
            tags.iter()
                .find(|t| t.tag_key == key)
                .map(|t| t.tag_value.as_str())
        };
        let time_of = |key: &str| {
            value(key)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|s| s.with_timezone(&Utc))
        };
        let good = value(GOOD_VERSION_TAG).map(|version| {
            let tps = value(GOOD_TPS_TAG)
                .and_then(|tps| tps.parse::<i32>().ok())
                .filter(|tps| *tps >= 1)
                .ok_or_else(|| format!("tag {GOOD_TPS_TAG} is missing or not a TPS"))?;
            let config = decode_config(value(GOOD_CONFIG_TAG).unwrap_or(""))
                .map_err(|e| format!("tag {GOOD_CONFIG_TAG}: {e}"))?;
            let since = time_of(GOOD_SINCE_TAG)
                .ok_or_else(|| format!("tag {GOOD_SINCE_TAG} is missing or not a time"))?;
            Ok(KnownGood {
                served: Served {
                    solution_version_arn: version.to_string(),
                    min_provisioned_tps: tps,
                    campaign_config: config,
                },
                since,
            })
        });
        let rolled_back = value(ROLLED_BACK_VERSION_TAG).map(|version| RolledBack {
            version: version.to_string(),
            at: time_of(ROLLED_BACK_AT_TAG),
            why: value(ROLLED_BACK_WHY_TAG)
                .filter(|why| !why.is_empty())
                .unwrap_or("no reason recorded")
                .to_string(),
        });
        let last_write = value(LAST_WRITE_VERSION_TAG).and_then(|version| {
            Some(LastWrite {
                version: version.to_string(),
                requested_at: time_of(LAST_WRITE_REQUESTED_AT_TAG)?,
                at: time_of(LAST_WRITE_AT_TAG)?,
            })
        });
        Record {
            good,
            rolled_back,
            last_write,
        }
    }

    /// Whether the campaign's latest create or update is this product's
    /// write for a request made before `since`: older work, however late it
    /// was written (a request that waited for the same campaign, or a
    /// rollback of a deployment requested earlier). Its version and time
    /// must match the record's.
    pub fn wrote_for_older_request(&self, campaign: &Campaign, since: DateTime<Utc>) -> bool {
        let Some(write) = &self.last_write else {
            return false;
        };
        let (version, created_at) = match &campaign.latest_update {
            Some(update) => (update.solution_version_arn.as_deref(), update.created_at),
            None => (
                campaign.solution_version_arn.as_deref(),
                campaign.created_at,
            ),
        };
        let window = write.at - Duration::seconds(WRITE_BEFORE_TAG_SECONDS)
            ..=write.at + Duration::seconds(WRITE_AFTER_TAG_SECONDS);
        version == Some(write.version.as_str())
            && created_at.is_some_and(|at| window.contains(&at))
            // As the tag keeps it: to the millisecond.
            && write.requested_at < since.trunc_subsecs(3)
    }

    /// The record of the version last rolled back from, if it is `version`.
    pub fn rolled_back_from(&self, version: &str) -> Option<&RolledBack> {
        self.rolled_back.as_ref().filter(|r| r.version == version)
    }
}

impl RolledBack {
    /// How following reports a version it leaves alone.
    pub fn describe(&self) -> String {
        let when = self.at.map_or_else(|| "an unknown time".to_string(), time);
        format!(
            "{} was rolled back at {when} ({}); a deployment request deploys it again",
            self.version, self.why
        )
    }

    fn tags(&self) -> Vec<Tag> {
        let mut tags = vec![
            tag(ROLLED_BACK_VERSION_TAG, self.version.clone()),
            tag(ROLLED_BACK_WHY_TAG, tag_text(&self.why)),
        ];
        tags.extend(self.at.map(|at| tag(ROLLED_BACK_AT_TAG, time(at))));
        tags
    }
}

impl LastWrite {
    /// Its tags. The times keep their milliseconds: two requests made in
    /// the same second are told apart as Step Functions timed them.
    fn tags(&self) -> Vec<Tag> {
        let time = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Millis, true);
        vec![
            tag(LAST_WRITE_VERSION_TAG, self.version.clone()),
            tag(LAST_WRITE_REQUESTED_AT_TAG, time(self.requested_at)),
            tag(LAST_WRITE_AT_TAG, time(self.at)),
        ]
    }
}

impl KnownGood {
    /// Its tags, or why a tag cannot hold it.
    fn tags(&self) -> Result<Vec<Tag>, String> {
        let config = match &self.served.campaign_config {
            Some(config) => encode_config(config)?,
            None => String::new(),
        };
        checked(vec![
            tag(GOOD_VERSION_TAG, self.served.solution_version_arn.clone()),
            tag(GOOD_TPS_TAG, self.served.min_provisioned_tps.to_string()),
            tag(GOOD_CONFIG_TAG, config),
            tag(GOOD_SINCE_TAG, time(self.since)),
        ])
    }
}

/// Free text as a tag value: comparisons in words (an alarm's reason says
/// `[7.0] >= 1.0`), other characters a tag cannot hold spaces, runs of
/// white space one space, cut to [`MAX_TAG_VALUE`].
fn tag_text(text: &str) -> String {
    let worded = [
        (">=", " at or above "),
        ("<=", " at or below "),
        (">", " above "),
        ("<", " below "),
    ]
    .iter()
    .fold(text.to_string(), |text, (sign, words)| {
        text.replace(sign, words)
    });
    let kept: String = worded
        .chars()
        .map(|c| {
            let mut buf = [0u8; 4];
            if is_tag_text(c.encode_utf8(&mut buf)) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = kept.split_whitespace().collect();
    words.join(" ").chars().take(MAX_TAG_VALUE).collect()
}

const EXPLORATION: &str = "exploration.";
const RANKING: &str = "ranking.";
const METADATA: &str = "metadata";
const SYNC: &str = "sync";

/// A configuration as `name=value` words, or why it cannot be written as a
/// tag value.
pub fn encode_config(config: &CampaignConfig) -> Result<String, String> {
    let mut words = Vec::new();
    let mut word = |name: String, value: String| {
        // A word splits at its first `=`, and words at spaces.
        if name.contains('=') || name.contains(char::is_whitespace) {
            return Err(format!(
                "the configuration's name {name:?} cannot be written as a tag"
            ));
        }
        if value.contains(char::is_whitespace) {
            return Err(format!(
                "the configuration's {name} value {value:?} cannot be written as a tag"
            ));
        }
        words.push(format!("{name}={value}"));
        Ok(())
    };
    for (name, value) in config.item_exploration_config.iter().flatten() {
        word(format!("{EXPLORATION}{name}"), value.clone())?;
    }
    if let Some(on) = config.enable_metadata_with_recommendations {
        word(METADATA.to_string(), on.to_string())?;
    }
    if let Some(on) = config.sync_with_latest_solution_version {
        word(SYNC.to_string(), on.to_string())?;
    }
    for (kind, weight) in config.ranking_influence.iter().flatten() {
        word(format!("{RANKING}{kind}"), weight.to_string())?;
    }
    let text = words.join(" ");
    if text.chars().count() > MAX_TAG_VALUE || !is_tag_text(&text) {
        return Err(format!(
            "the configuration ({text}) does not fit a tag value: at most {MAX_TAG_VALUE} \
             letters, digits, spaces and _ . : / = + - @"
        ));
    }
    Ok(text)
}

/// The configuration [`encode_config`] wrote (none for an empty text).
pub fn decode_config(text: &str) -> Result<Option<CampaignConfig>, String> {
    let mut config = CampaignConfig::default();
    let mut any = false;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        any = true;
        let (name, value) = word
            .split_once('=')
            .ok_or_else(|| format!("{word:?} is not name=value"))?;
        let flag = || {
            value
                .parse::<bool>()
                .map_err(|_| format!("{word:?}: not true or false"))
        };
        if let Some(name) = name.strip_prefix(EXPLORATION) {
            config
                .item_exploration_config
                .get_or_insert_with(BTreeMap::new)
                .insert(name.to_string(), value.to_string());
        } else if let Some(kind) = name.strip_prefix(RANKING) {
            let weight = value
                .parse::<f64>()
                .map_err(|_| format!("{word:?}: not a weight"))?;
            config
                .ranking_influence
                .get_or_insert_with(BTreeMap::new)
                .insert(kind.to_string(), weight);
        } else if name == METADATA {
            config.enable_metadata_with_recommendations = Some(flag()?);
        } else if name == SYNC {
            config.sync_with_latest_solution_version = Some(flag()?);
        } else {
            return Err(format!("{word:?}: unknown name"));
        }
    }
    Ok(any.then_some(config))
}

/// A part of the record as tags, or why a tag cannot hold it (a
/// `…/$LATEST` version, a configuration with a space or a brace, more than
/// [`MAX_TAG_VALUE`] characters).
fn checked(tags: Vec<Tag>) -> Result<Vec<Tag>, String> {
    match tags
        .iter()
        .find(|t| t.tag_value.chars().count() > MAX_TAG_VALUE || !is_tag_text(&t.tag_value))
    {
        Some(t) => Err(format!("tag {} cannot hold {:?}", t.tag_key, t.tag_value)),
        None => Ok(tags),
    }
}

const GOOD_TAGS: [&str; 4] = [
    GOOD_VERSION_TAG,
    GOOD_TPS_TAG,
    GOOD_CONFIG_TAG,
    GOOD_SINCE_TAG,
];
const ROLLED_BACK_TAGS: [&str; 3] = [
    ROLLED_BACK_VERSION_TAG,
    ROLLED_BACK_AT_TAG,
    ROLLED_BACK_WHY_TAG,
];

/// What to write into a campaign's record (what is none is left as it is).
#[derive(Debug, Clone, Default, PartialEq)]
struct Entry {
    good: Option<KnownGood>,
    rolled_back: Option<RolledBack>,
    /// The version rolled back from was deployed again on request: it is no
    /// longer marked.
    clear_rolled_back: bool,
    last_write: Option<LastWrite>,
}

/// What was written, for the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Noted {
    /// Nothing to write (and why).
    Nothing(&'static str),
    /// The record was written: its last known good version, and the version
    /// rolled back from, if any.
    Written {
        good: Option<String>,
        rolled_back: Option<String>,
    },
    /// It could not be written, or not all of it (what was, was).
    Failed(String),
}

/// Writes an entry: every part a tag can hold in one TagResource, the tags
/// to remove in one UntagResource. A known good that a tag cannot hold
/// removes the one there (it would name the wrong version); a part that
/// cannot be written does not keep the others from being written.
async fn write<T: Tagging>(tagging: &T, campaign_arn: &str, entry: Entry) -> Noted {
    if entry == Entry::default() {
        return Noted::Nothing("nothing to record");
    }
    let mut tags = Vec::new();
    let mut remove: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let mut keep = |part: Result<Vec<Tag>, String>, what: &str, keys: &[&str]| match part {
        Ok(part) => {
            tags.extend(part);
            true
        }
        Err(why) => {
            problems.push(format!("no {what} recorded: {why}"));
            remove.extend(keys.iter().map(|k| k.to_string()));
            false
        }
    };
    let good = entry
        .good
        .filter(|g| keep(g.tags(), "last known good", &GOOD_TAGS))
        .map(|g| g.served.solution_version_arn);
    let rolled_back = entry
        .rolled_back
        .filter(|r| keep(checked(r.tags()), "version rolled back from", &[]))
        .map(|r| r.version);
    if let Some(write) = &entry.last_write {
        keep(checked(write.tags()), "last write", &[]);
    }
    if entry.clear_rolled_back {
        remove.extend(ROLLED_BACK_TAGS.map(str::to_string));
    }
    let failed = |e: ApiError| format!("{campaign_arn}: its record could not be written ({e})");
    if !tags.is_empty()
        && let Err(e) = tagging.tag_resource(campaign_arn, &tags).await
    {
        problems.push(failed(e));
    }
    if !remove.is_empty()
        && let Err(e) = tagging.untag_resource(campaign_arn, &remove).await
    {
        problems.push(failed(e));
    }
    if problems.is_empty() {
        Noted::Written { good, rolled_back }
    } else {
        Noted::Failed(format!("{campaign_arn}: {}", problems.join("; ")))
    }
}

/// Whether what the campaign serves, `version`, may be recorded as its
/// last known good: not when it is the version last rolled back from, nor
/// when this execution is a revert (it left that version as not good).
fn may_be_good(record: &Record, accepted: &Accepted, version: &str) -> bool {
    record.rolled_back_from(version).is_none()
        && !matches!(accepted.origin, Some(Origin::Rollback { .. }))
}

/// The campaign's record, or why it could not be read.
pub async fn read<C: Catalog>(catalog: &C, campaign_arn: &str) -> Result<Record, ApiError> {
    catalog
        .list_tags(campaign_arn)
        .await
        .map(|tags| Record::from_tags(&tags))
}

/// At the start of a deployment's update (or a rollback's): the write, for
/// the request made at `requested_at` (none when unknown); what the campaign
/// served until then as its last known good ([`may_be_good`], and not a
/// rollback's start, which leaves the new version; unless recorded so
/// already); and, for a request that deploys the version last rolled back
/// from again, that mark removed. A record that cannot be read still gets
/// the write.
pub async fn at_start<P: Catalog + Tagging>(
    personalize: &P,
    accepted: &Accepted,
    deployment: &Deployment,
    requested_at: Option<DateTime<Utc>>,
    rollback: bool,
    now: DateTime<Utc>,
) -> Noted {
    let Some(report) = deployment
        .started()
        .filter(|r| r.operation == Operation::Update)
    else {
        return Noted::Nothing("no update was written");
    };
    let arn = accepted.request.campaign_arn();
    let target = if rollback {
        accepted
            .restore()
            .ok()
            .map(|restore| restore.served.solution_version_arn.clone())
    } else {
        Some(accepted.request.solution_version_arn().to_string())
    };
    let last_write = requested_at
        .zip(target.clone())
        .map(|(requested_at, version)| LastWrite {
            version,
            requested_at,
            at: now,
        });
    // The write first, on its own: what tells older work from newer does
    // not wait on the read, nor fail with the rest.
    let wrote = match last_write {
        Some(last_write) => {
            let entry = Entry {
                last_write: Some(last_write),
                ..Entry::default()
            };
            write(personalize, &arn, entry).await
        }
        None => Noted::Nothing("the request's time is unknown"),
    };
    let record = read(personalize, &arn).await;
    let (good, clear_rolled_back) = match &record {
        Err(_) => (None, false),
        Ok(record) => {
            // A new version only: an update of TPS or configuration alone
            // keeps the version to return to.
            let good = report
                .served_before
                .as_ref()
                .filter(|_| !rollback)
                .filter(|s| target.as_deref() != Some(s.solution_version_arn.as_str()))
                .filter(|s| may_be_good(record, accepted, &s.solution_version_arn))
                .filter(|s| !matches!(&record.good, Some(Ok(good)) if good.served == **s))
                .map(|served| KnownGood {
                    served: served.clone(),
                    since: now,
                });
            // Deployed again by someone's choice, not by following.
            let requested = matches!(
                accepted.origin,
                None | Some(Origin::S3 { .. } | Origin::Event(_))
            );
            let again = target
                .as_deref()
                .is_some_and(|t| record.rolled_back_from(t).is_some());
            (good, !rollback && requested && again)
        }
    };
    let entry = Entry {
        good,
        clear_rolled_back,
        ..Entry::default()
    };
    let rest = write(personalize, &arn, entry).await;
    together(unread(&arn, record.err()), together(wrote, rest))
}

/// A record that could not be read, as an outcome.
fn unread(campaign_arn: &str, error: Option<ApiError>) -> Noted {
    error.map_or(Noted::Nothing("read"), |e| {
        Noted::Failed(unreadable(campaign_arn, &e))
    })
}

/// Why a campaign's record was not read, in words.
pub fn unreadable(campaign_arn: &str, error: &ApiError) -> String {
    format!("{campaign_arn}: its record could not be read ({error})")
}

/// Two outcomes as one (what failed said first).
fn together(first: Noted, second: Noted) -> Noted {
    match (first, second) {
        (Noted::Failed(a), Noted::Failed(b)) => Noted::Failed(format!("{a}; {b}")),
        (Noted::Failed(why), _) | (_, Noted::Failed(why)) => Noted::Failed(why),
        (Noted::Written { .. }, Noted::Nothing(_)) => Noted::Written {
            good: None,
            rolled_back: None,
        },
        (_, second) => second,
    }
}

/// At an execution's end (a final report of an accepted request): a
/// rollback records what it returned to ([`may_be_good`]) and the version
/// it left; a failed rollback, the version it could not leave (it is bad all
/// the same); a kept revert, the version it left. A kept deployment leaves
/// the record as it is: what served before it is where a revert returns to.
pub async fn at_end<P: Catalog + Tagging>(
    personalize: &P,
    input: &TaskInput,
    report: &StatusReport,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Noted {
    let Execution::Accepted(accepted) = &input.state else {
        return Noted::Nothing("not a deployment");
    };
    if !report.is_final {
        return Noted::Nothing("not ended");
    }
    if scope.refuses(&accepted.request, false).is_some() {
        return Noted::Nothing("the campaign is outside this stack's scope");
    }
    let arn = accepted.request.campaign_arn();
    let target = accepted.request.solution_version_arn();
    let alarm = match accepted.watch.as_ref().map(|w| &w.verdict) {
        Some(Verdict::Alarm { alarm }) => Some(alarm),
        _ => None,
    };
    let fired = || {
        alarm.map_or_else(
            || "an alarm of its watch".to_string(),
            |a| {
                let reason = a.reason.as_deref().unwrap_or("no reason given");
                format!("alarm {}: {reason}", a.name)
            },
        )
    };
    let rolled_back = |why: String| RolledBack {
        version: target.to_string(),
        at: Some(now),
        why,
    };
    let entry = match report.outcome {
        Outcome::RolledBack => {
            let record = read(personalize, &arn).await;
            let good = match (&record, accepted.restore()) {
                (Ok(record), Ok(restore))
                    if may_be_good(record, accepted, &restore.served.solution_version_arn) =>
                {
                    Some(KnownGood {
                        served: restore.served.clone(),
                        since: now,
                    })
                }
                _ => None,
            };
            let entry = Entry {
                good,
                rolled_back: Some(rolled_back(fired())),
                ..Entry::default()
            };
            return together(
                unread(&arn, record.err()),
                write(personalize, &arn, entry).await,
            );
        }
        Outcome::RollbackFailed if alarm.is_some() => Entry {
            rolled_back: Some(rolled_back(format!("{} - the rollback failed", fired()))),
            ..Entry::default()
        },
        // A kept revert: the version it left is not to be followed again.
        Outcome::Active => {
            let Some(Origin::Rollback {
                event: Sent { event_id, .. },
                reason,
            }) = &accepted.origin
            else {
                return Noted::Nothing("a kept deployment returns to what it served before");
            };
            let left = accepted
                .deployment
                .as_ref()
                .and_then(Deployment::started)
                .and_then(|d| d.served_before.as_ref())
                .filter(|before| before.solution_version_arn != target);
            let Some(left) = left else {
                return Noted::Nothing("the revert left no other version");
            };
            let why = format!(
                "reverted on request {event_id}: {}",
                reason.as_deref().unwrap_or("no reason given")
            );
            Entry {
                rolled_back: Some(RolledBack {
                    version: left.solution_version_arn.clone(),
                    at: Some(now),
                    why,
                }),
                ..Entry::default()
            }
        }
        _ => return Noted::Nothing("the outcome changes no record"),
    };
    write(personalize, &arn, entry).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_reads_back_as_written() {
        let config = CampaignConfig {
            item_exploration_config: Some(BTreeMap::from([
                ("explorationWeight".to_string(), "0.3".to_string()),
                ("explorationItemAgeCutOff".to_string(), "30".to_string()),
            ])),
            enable_metadata_with_recommendations: Some(true),
            sync_with_latest_solution_version: Some(false),
            ranking_influence: Some(BTreeMap::from([("POPULARITY".to_string(), 0.5)])),
        };
        let text = encode_config(&config).unwrap();
        assert_eq!(
            text,
            "exploration.explorationItemAgeCutOff=30 exploration.explorationWeight=0.3 \
             metadata=true sync=false ranking.POPULARITY=0.5"
        );
        assert_eq!(decode_config(&text).unwrap(), Some(config));
        assert_eq!(decode_config("").unwrap(), None);
    }

    #[test]
    fn a_configuration_a_tag_cannot_hold_is_refused() {
        let config = |name: &str, value: &str| CampaignConfig {
            item_exploration_config: Some(BTreeMap::from([(name.to_string(), value.to_string())])),
            ..CampaignConfig::default()
        };
        assert!(encode_config(&config("w", "0 3")).is_err());
        assert!(encode_config(&config("a=b", "1")).is_err());
        assert!(encode_config(&config("w", "{1}")).is_err());
        assert!(encode_config(&config("w", &"9".repeat(300))).is_err());
        assert!(decode_config("colour=blue").is_err());
        assert!(decode_config("metadata=maybe").is_err());
    }

    #[test]
    fn free_text_becomes_a_tag_value() {
        assert_eq!(
            tag_text("alarm \"ctr\" (5%): [0.8] < 0.9, [7] >= 1"),
            "alarm ctr 5 : 0.8 below 0.9 7 at or above 1"
        );
        assert_eq!(tag_text(&"x".repeat(300)).len(), MAX_TAG_VALUE);
    }
}
