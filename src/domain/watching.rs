//! The WatchAlarms task (campaign-status, `check: watch`): after a deployment
//! became ACTIVE, it reads the watch's alarms for the watch period and
//! decides: an alarm that entered ALARM after the new version started
//! serving rolls it back; a newer deployment of the campaign ends the watch
//! (no rollback); the period passing ends it, verified if the alarms could
//! be read.
//!
//! One invocation stays and looks every [`WATCH_LOOK_SECONDS`] (the alarms;
//! `WATCH_LOOK_SECONDS` sets it) and every [`CAMPAIGN_LOOK_SECONDS`] (the
//! campaign), up to the time it may
//! use; the next comes at once. An alarm is thus seen within seconds of its
//! state change, and the whole watch costs few state transitions.

use chrono::{DateTime, Duration, Utc};

use super::alarm::{AlarmValue, FiredAlarm, Verdict, WatchReport};
use super::campaign::{Campaign, Status};
use super::execution::{Accepted, DeployReport, TaskInput};
use super::schedule::{MAX_WATCH_POLLS, whole_seconds};
use super::watch::Watch;
use crate::error::Error;
use crate::ports::{Alarms, Clock, Personalize};

/// How often a watch reads its alarms, unless the stack says otherwise.
pub const WATCH_LOOK_SECONDS: i64 = 10;

/// How often a watch looks at the campaign (for a newer deployment).
pub const CAMPAIGN_LOOK_SECONDS: i64 = 60;

/// One WatchAlarms invocation, reading the alarms every `look_every`, until
/// `limit` (what the invocation may use of its time), the end of the watch,
/// or a verdict.
pub async fn watch<P: Personalize, A: Alarms, C: Clock>(
    personalize: &P,
    alarms: &A,
    input: &TaskInput,
    look_every: Duration,
    clock: &C,
    limit: DateTime<Utc>,
) -> Result<WatchReport, Error> {
    let accepted = input.state.require_accepted()?;
    let (watch, deployment) = what_is_watched(accepted)?;
    let began = clock.now();
    // The campaign, now: for the watch's first invocation, when the version
    // started serving; for every look, whether newer work heads elsewhere.
    let mut campaign = describe(personalize, accepted).await?;
    let mut report = match &accepted.watch {
        Some(previous) => WatchReport {
            attempt: previous.attempt + 1,
            wait_seconds: 0,
            ..previous.clone()
        },
        None => WatchReport {
            attempt: 1,
            ..WatchReport::begun(watch, served_at(campaign.as_ref(), deployment, began))
        },
    };
    let mut campaign_looked = began;
    loop {
        let now = clock.now();
        if now - campaign_looked >= Duration::seconds(CAMPAIGN_LOOK_SECONDS) {
            campaign_looked = now;
            campaign = describe(personalize, accepted).await?;
        }
        // A newer deployment of the campaign heading elsewhere (running, or
        // begun after this one): the watch ends, no rollback.
        if let Some(newer) = campaign
            .take()
            .and_then(|c| c.newer_than(&accepted.request, deployment.started_at, true))
        {
            let verdict = Verdict::Superseded {
                superseded_by: newer,
            };
            return Ok(ended(report, verdict, now));
        }
        match alarms.describe_alarms(&report.alarms).await {
            // A read that finds none of the alarms (all deleted) reads
            // nothing: a watch that only ever finds none is unverified.
            Ok(states) if states.is_empty() => {
                report.missing = report.alarms.clone();
                report.unread = Some("none of the alarms exists any more".into());
            }
            Ok(states) => {
                report.reads += 1;
                report.unread = None;
                report.insufficient_data.clear();
                report.already_in_alarm.clear();
                report.missing = report
                    .alarms
                    .iter()
                    .filter(|name| !states.iter().any(|s| &&s.name == name))
                    .cloned()
                    .collect();
                for state in &states {
                    match state.value {
                        AlarmValue::Alarm
                            if state.changed_at.is_none_or(|at| at > report.began_at) =>
                        {
                            let fired = FiredAlarm {
                                name: state.name.clone(),
                                reason: state.reason.clone(),
                                fired_at: state.changed_at,
                            };
                            return Ok(ended(report, Verdict::Alarm { alarm: fired }, now));
                        }
                        AlarmValue::Alarm => report.already_in_alarm.push(state.name.clone()),
                        AlarmValue::InsufficientData => {
                            report.insufficient_data.push(state.name.clone())
                        }
                        AlarmValue::Ok => {}
                    }
                }
            }
            // A watch that cannot read its alarms goes on: it rolls back only
            // on an alarm it read, and says if it never read one.
            Err(e) => report.unread = Some(e.to_string()),
        }
        let now = clock.now();
        if now >= report.ends_at || report.attempt >= MAX_WATCH_POLLS {
            let verdict = if report.reads > 0 {
                Verdict::Passed
            } else {
                Verdict::Unverified
            };
            return Ok(ended(report, verdict, now));
        }
        let next = now + look_every;
        if next >= limit {
            report.wait_seconds = resume(&report, began, now);
            return Ok(report);
        }
        let pause = next.min(report.ends_at) - now;
        clock.sleep(pause.to_std().unwrap_or_default()).await;
    }
}

/// The watch of an accepted request and the deployment it watches, or why
/// there is none (a hand-made state: WatchAlarms runs only after an update
/// that has a watch).
fn what_is_watched(accepted: &Accepted) -> Result<(&Watch, &DeployReport), Error> {
    let watch = accepted.request.watch().ok_or_else(|| {
        Error::InvalidTaskInput("state.request.watch is missing: there is nothing to watch".into())
    })?;
    let deployment = accepted
        .deployment
        .as_ref()
        .and_then(|d| d.started())
        .filter(|d| d.served_before.is_some())
        .ok_or_else(|| {
            Error::InvalidTaskInput(
                "state.deployment has no servedBefore: only an update of a serving campaign is \
                 watched"
                    .into(),
            )
        })?;
    Ok((watch, deployment))
}

/// When the new version started serving: its update record's last update,
/// as Personalize recorded it becoming ACTIVE; else `now`.
fn served_at(
    campaign: Option<&Campaign>,
    deployment: &DeployReport,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    campaign
        .and_then(|c| c.latest_update.as_ref())
        .filter(|u| u.status == Status::Active)
        .and_then(|u| u.updated_at)
        .filter(|at| *at >= deployment.started_at && *at <= now)
        .unwrap_or(now)
}

/// The campaign as described; none when it does not exist or the service did
/// not answer (throttling, 5xx: that look decides nothing).
async fn describe<P: Personalize>(
    personalize: &P,
    accepted: &Accepted,
) -> Result<Option<Campaign>, Error> {
    match personalize
        .describe_campaign(&accepted.request.campaign_arn())
        .await
    {
        Ok(campaign) => Ok(campaign),
        Err(e) if e.is_transient_for_a_read() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn ended(mut report: WatchReport, verdict: Verdict, now: DateTime<Utc>) -> WatchReport {
    report.verdict = verdict;
    report.ended_at = Some(now);
    report.wait_seconds = 0;
    report
}

/// The wait after an invocation whose time was up: the next comes at once,
/// but never sooner after this one began than the watch's share of the
/// history allows ([`MAX_WATCH_POLLS`] invocations over the period).
fn resume(report: &WatchReport, began: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let period = report.minutes.saturating_mul(60);
    let floor = period.div_ceil(u64::from(MAX_WATCH_POLLS - 2)).max(1);
    let held = whole_seconds(now - began);
    let left = whole_seconds(report.ends_at - now).max(1);
    floor.saturating_sub(held).clamp(1, left)
}
