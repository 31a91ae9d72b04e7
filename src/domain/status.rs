//! The CampaignStatus task: reading DescribeCampaign and deciding whether the
//! deployment is still in progress (and how long to wait), done, or failed,
//! and building the notification once it is final.

use chrono::{DateTime, Duration, Utc};

use super::campaign::{Campaign, Status};
use super::notification::{Facts, Notification, human_duration};
use super::outcome::{Operation, Outcome};
use super::request::DeploymentRequest;
use super::workflow::{Deployment, StatusReport, TaskInput};
use crate::error::Error;
use crate::ports::Personalize;

/// When to poll and when to give up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// Wait before the second poll.
    pub initial_seconds: u64,
    /// Longest wait between polls.
    pub max_seconds: u64,
    /// Each wait is the previous one times this (1 = fixed interval).
    pub backoff_rate: f64,
    /// Give up (TIMED_OUT) this long after the create or update started.
    pub deadline_seconds: u64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial_seconds: 30,
            max_seconds: 120,
            backoff_rate: 2.0,
            deadline_seconds: 3 * 60 * 60,
        }
    }
}

impl PollPolicy {
    /// The wait after poll number `attempt` (1-based): `initial × rate^(attempt-1)`,
    /// capped at `max`.
    pub fn backoff(&self, attempt: u32) -> u64 {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let wait = self.initial_seconds as f64 * self.backoff_rate.powi(exponent);
        if wait.is_finite() && wait < self.max_seconds as f64 {
            wait.round().max(1.0) as u64
        } else {
            self.max_seconds
        }
    }

    pub fn deadline(&self, started_at: DateTime<Utc>) -> DateTime<Utc> {
        started_at + Duration::seconds(self.deadline_seconds.min(i64::MAX as u64) as i64)
    }
}

/// What DescribeCampaign says about a deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    InProgress(String),
    Done,
    Failed(String),
    Deleted(String),
}

/// How much older than the deployment's start a record may look and still be
/// this deployment's (clock differences between Lambda and Personalize).
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// Reads a described campaign against the deployment.
///
/// - During an update the top-level status stays ACTIVE (or CREATE FAILED, for
///   a campaign whose creation had failed) and the progress is in
///   `latestCampaignUpdate`, which is read first.
/// - A failed update leaves the campaign ACTIVE on the old version and is a
///   failed deployment.
/// - A failure recorded before this deployment started belongs to earlier
///   work and is not this deployment's outcome: a stale failed update record,
///   or the old CREATE FAILED of a campaign whose update is not visible yet.
pub fn observe(
    request: &DeploymentRequest,
    deployment: &Deployment,
    campaign: Option<&Campaign>,
) -> Observation {
    let Some(campaign) = campaign else {
        return Observation::Deleted("the campaign no longer exists".to_string());
    };
    if campaign.status.is_deleting() {
        return Observation::Deleted(format!(
            "the campaign is being deleted (status {})",
            campaign.status
        ));
    }
    let since = deployment.started_at - Duration::seconds(CLOCK_SKEW_SECONDS);
    let current = |at: Option<DateTime<Utc>>| at.is_none_or(|at| at >= since);
    if let Some(update) = &campaign.latest_update {
        if update.status.is_creating() {
            return Observation::InProgress(format!("campaign update status is {}", update.status));
        }
        if update.status == Status::CreateFailed && current(update.created_at) {
            let reason = update
                .failure_reason
                .clone()
                .unwrap_or_else(|| "campaign update failed (no reason given)".to_string());
            return Observation::Failed(match (&campaign.status, &campaign.solution_version_arn) {
                (Status::Active, Some(serving)) => {
                    format!("{reason}; the campaign is still ACTIVE on {serving}")
                }
                _ => reason,
            });
        }
    }
    match &campaign.status {
        Status::CreateFailed if current(campaign.updated_at) => {
            return Observation::Failed(
                campaign
                    .failure_reason
                    .clone()
                    .unwrap_or_else(|| "campaign creation failed (no reason given)".to_string()),
            );
        }
        Status::CreateFailed => {
            return Observation::InProgress(
                "the campaign is still CREATE FAILED from an earlier attempt; \
                 this deployment has not shown up yet"
                    .to_string(),
            );
        }
        Status::Active => {}
        other => {
            return Observation::InProgress(format!("campaign status is {other}"));
        }
    }
    let differences = campaign.differences(request);
    if differences.is_empty() {
        Observation::Done
    } else {
        Observation::InProgress(format!(
            "the campaign is ACTIVE but does not serve the request yet ({})",
            differences.join(", ")
        ))
    }
}

/// One CampaignStatus poll: decides from the state (rejected, failed task,
/// unchanged) or from DescribeCampaign, and builds the notification when the
/// outcome is final.
pub async fn poll<P: Personalize>(
    personalize: &P,
    input: &TaskInput,
    policy: &PollPolicy,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<StatusReport, Error> {
    let state = &input.state;
    let attempt = state.status.as_ref().map_or(0, |s| s.attempt) + 1;
    if state.rejected {
        return Ok(finish(input, Outcome::Rejected, None, attempt, None, now()));
    }
    if let Some(failure) = &state.error {
        return Ok(finish(
            input,
            Outcome::Failed,
            Some(failure.reason()),
            attempt,
            None,
            now(),
        ));
    }
    let request = state
        .request
        .as_ref()
        .ok_or_else(|| Error::InvalidTaskInput("state.request is missing".into()))?;
    let deployment = state
        .deployment
        .as_ref()
        .ok_or_else(|| Error::InvalidTaskInput("state.deployment is missing".into()))?;
    if deployment.operation == Operation::None {
        return Ok(finish(
            input,
            Outcome::Unchanged,
            None,
            attempt,
            None,
            now(),
        ));
    }
    let campaign = personalize
        .describe_campaign(&deployment.campaign_arn)
        .await?;
    let now = now();
    let observed = Some(campaign.as_ref());
    let report = match observe(request, deployment, campaign.as_ref()) {
        Observation::Done => finish(input, Outcome::Active, None, attempt, observed, now),
        Observation::Failed(reason) => {
            finish(input, Outcome::Failed, Some(reason), attempt, observed, now)
        }
        Observation::Deleted(reason) => finish(
            input,
            Outcome::Deleted,
            Some(reason),
            attempt,
            observed,
            now,
        ),
        Observation::InProgress(what) => {
            let deadline = policy.deadline(deployment.started_at);
            if now >= deadline {
                let reason = format!(
                    "not finished {} after it started: {what}",
                    human_duration(policy.deadline_seconds as f64)
                );
                finish(
                    input,
                    Outcome::TimedOut,
                    Some(reason),
                    attempt,
                    observed,
                    now,
                )
            } else {
                // Never sleep far past the deadline: the poll after it reports
                // the time-out promptly.
                let remaining = (deadline - now).num_seconds().max(1) as u64;
                let mut report = report(Outcome::InProgress, attempt, observed, None);
                report.wait_seconds = policy.backoff(attempt).min(remaining);
                report
            }
        }
    };
    Ok(report)
}

fn report(
    outcome: Outcome,
    attempt: u32,
    campaign: Option<Option<&Campaign>>,
    failure_reason: Option<String>,
) -> StatusReport {
    let campaign = campaign.flatten();
    StatusReport {
        outcome,
        is_final: outcome.is_final(),
        succeeded: outcome.is_success(),
        wait_seconds: 0,
        attempt,
        campaign_status: campaign.map(|c| c.status.to_string()),
        update_status: campaign
            .and_then(|c| c.latest_update.as_ref())
            .map(|u| u.status.to_string()),
        failure_reason,
        notification: None,
    }
}

/// A final report with its notification.
fn finish(
    input: &TaskInput,
    outcome: Outcome,
    failure_reason: Option<String>,
    attempt: u32,
    campaign: Option<Option<&Campaign>>,
    now: DateTime<Utc>,
) -> StatusReport {
    let state = &input.state;
    let deployment: Option<&Deployment> = state.deployment.as_ref();
    let request = state.request.as_ref();
    let mut report = report(outcome, attempt, campaign, failure_reason.clone());
    report.notification = Some(Notification::build(Facts {
        outcome,
        campaign_name: deployment
            .map(|d| d.campaign_name.clone())
            .or_else(|| request.map(|r| r.campaign_name.clone()))
            .or_else(|| state.campaign_name.clone()),
        campaign_arn: deployment
            .map(|d| d.campaign_arn.clone())
            .or_else(|| state.campaign_arn.clone()),
        operation: deployment.map(|d| d.operation),
        target_solution_version_arn: deployment
            .map(|d| d.target_solution_version_arn.clone())
            .or_else(|| request.map(|r| r.solution_version_arn.clone())),
        previous_solution_version_arn: deployment
            .and_then(|d| d.previous_solution_version_arn.clone()),
        failure_reason,
        errors: state.errors.clone(),
        started_at: input
            .execution_start_time
            .or(deployment.map(|d| d.started_at)),
        ended_at: now,
        execution_arn: input.execution_arn.clone(),
        origin: state.origin.clone(),
    }));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        let p = PollPolicy {
            initial_seconds: 30,
            max_seconds: 120,
            backoff_rate: 2.0,
            deadline_seconds: 3600,
        };
        let waits: Vec<u64> = (1..=6).map(|a| p.backoff(a)).collect();
        assert_eq!(waits, vec![30, 60, 120, 120, 120, 120]);
        let fixed = PollPolicy {
            backoff_rate: 1.0,
            ..p
        };
        assert_eq!(fixed.backoff(9), 30);
        let gentle = PollPolicy {
            initial_seconds: 10,
            max_seconds: 300,
            backoff_rate: 1.5,
            ..p
        };
        assert_eq!(
            (1..=4).map(|a| gentle.backoff(a)).collect::<Vec<_>>(),
            vec![10, 15, 23, 34]
        );
        assert_eq!(
            p.backoff(10_000),
            120,
            "no overflow on very long deployments"
        );
    }
}
