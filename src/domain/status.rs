//! The CampaignStatus task: reading DescribeCampaign and deciding whether the
//! deployment is still in progress (and how long to wait), done, or failed,
//! and building the notification once it is final.

use chrono::{DateTime, Duration, Utc};

use super::campaign::{Campaign, Deploying, Status};
use super::metrics::DeploymentMetrics;
use super::notification::{Facts, Notification, human_duration};
use super::outcome::{Operation, Outcome};
use super::predict::{self, Expectation, MAX_HOLD_SECONDS, Next, whole_seconds};
use super::request::DeploymentRequest;
use super::workflow::{Deployment, EndedExecution, StatusReport, TaskInput};
use crate::error::Error;
use crate::ports::{Clock, Personalize};

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
    /// The most polls: waits are lengthened so that the deadline comes
    /// first ([`MAX_POLLS`] for the campaign,
    /// `MAX_TRAINING_POLLS` (of the training check) for the training).
    pub max_polls: u32,
    /// Around a deployment's expected end, look every this many seconds
    /// within one invocation ([`super::predict`]); 0: never hold, always
    /// the schedule above.
    pub hold_seconds: u64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial_seconds: 30,
            max_seconds: 120,
            backoff_rate: 2.0,
            deadline_seconds: 3 * 60 * 60,
            max_polls: MAX_POLLS,
            hold_seconds: 5,
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

    /// The wait after poll number `attempt`: the backoff, but never so short
    /// that the polls until the deadline would exceed `max_polls` (around
    /// an expected end, [`Self::next`] and [`poll_and_hold`] keep the polls'
    /// starts at least [`Self::shortest_wait`] apart too).
    pub fn wait(&self, attempt: u32) -> u64 {
        self.backoff(attempt).max(self.shortest_wait())
    }

    /// The shortest wait that keeps the polls within `max_polls` until the
    /// deadline (with two to spare: the first poll and the one after it).
    pub fn shortest_wait(&self) -> u64 {
        self.deadline_seconds
            .div_ceil(u64::from(self.max_polls.max(3) - 2))
            .max(1)
    }

    pub fn deadline(&self, started_at: DateTime<Utc>) -> DateTime<Utc> {
        started_at + Duration::seconds(self.deadline_seconds.min(i64::MAX as u64) as i64)
    }

    /// After poll number `attempt` found the work unfinished at `now`: the
    /// wait before the next poll (never far past the deadline, so that the
    /// poll after it reports the time-out promptly), or, once the deadline
    /// has passed or the poll budget is spent, why not: "not finished
    /// <deadline> after <since>: <what>".
    pub fn next_wait(
        &self,
        attempt: u32,
        started_at: DateTime<Utc>,
        since: &str,
        what: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, String> {
        let next = self.next(attempt, started_at, None, since, what, now)?;
        Ok(match next {
            Next::Wait(wait) => wait,
            // Without an expected end there is no hold.
            Next::Hold { .. } => 1,
        })
    }

    /// [`Self::next_wait`] for work that may have an expected duration: the
    /// schedule around its expected end ([`predict::next`]), holds ending by
    /// the deadline.
    pub fn next(
        &self,
        attempt: u32,
        started_at: DateTime<Utc>,
        expected: Option<&Expectation>,
        since: &str,
        what: &str,
        now: DateTime<Utc>,
    ) -> Result<Next, String> {
        let deadline = self.deadline(started_at);
        if now >= deadline {
            return Err(format!(
                "not finished {} after {since}: {what}",
                human_duration(self.deadline_seconds as f64)
            ));
        }
        if attempt >= self.max_polls {
            return Err(format!(
                "not finished after {attempt} polls, the most an execution makes: {what}"
            ));
        }
        let remaining = (deadline - now).num_seconds().max(1) as u64;
        let expected = expected.filter(|_| self.hold_seconds > 0);
        Ok(
            match predict::next(self.wait(attempt), expected, started_at, now) {
                // A wait shortened to reach the window is still at least
                // the shortest wait: polls start that far apart at least.
                Next::Wait(wait) => Next::Wait(wait.max(self.shortest_wait()).min(remaining)),
                Next::Hold { until } => Next::Hold {
                    until: until.min(deadline),
                },
            },
        )
    }
}

/// The most status polls an execution makes. A Standard execution fails,
/// uncatchably and unannounced, at 25,000 history events; a poll costs 9 (Task,
/// Choice and Wait) plus 3 per retried attempt of its task, so this many polls
/// and `MAX_TRAINING_POLLS` (of the training check) training polls stay under the
/// limit together even if every poll used all of its retries (the test of
/// the state machine definition computes it). Waits are lengthened so
/// that a deadline is reached first ([`PollPolicy::wait`]); the budget is the
/// guarantee.
pub const MAX_POLLS: u32 = 540;

/// What DescribeCampaign says about a deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    InProgress(String),
    Done,
    Failed(String),
    Deleted(String),
    /// A newer deployment of the campaign heads to another target.
    Superseded(Newer),
}

/// A newer deployment of the campaign: the solution version it deploys and
/// how it differs from the request (e.g. `minProvisionedTPS 3 -> 2`).
#[derive(Debug, Clone, PartialEq)]
pub struct Newer {
    pub solution_version_arn: String,
    pub differences: Vec<String>,
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
    if let Some(target) = newer_target(request, deployment, campaign) {
        return Observation::Superseded(target);
    }
    let since = deployment.started_at - Duration::seconds(CLOCK_SKEW_SECONDS);
    let current = |at: Option<DateTime<Utc>>| at.is_none_or(|at| at >= since);
    if let Some(update) = &campaign.latest_update {
        if update.status.is_creating() {
            return Observation::InProgress(format!("campaign update status is {}", update.status));
        }
        // A failure heading elsewhere is another deployment's.
        if update.status == Status::CreateFailed
            && current(update.created_at)
            && update.reported_differences(request).is_empty()
        {
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

/// A newer create or update of the campaign that heads elsewhere than the
/// request, if its latest record is one: a record in progress toward another
/// target (ours, when it runs, goes to the request; an earlier one had ended
/// before ours was planned), or one started after ours. Only the members the
/// record reports count: a member the service leaves out is not a difference.
fn newer_target(
    request: &DeploymentRequest,
    deployment: &Deployment,
    campaign: &Campaign,
) -> Option<Newer> {
    let (in_progress, created_at, target, differences) = match &campaign.latest_update {
        Some(update) => (
            update.status.is_creating(),
            update.created_at,
            update.solution_version_arn.as_deref(),
            update.reported_differences(request),
        ),
        None => (
            campaign.status.is_creating(),
            campaign.created_at,
            campaign.solution_version_arn.as_deref(),
            campaign.reported_differences(request),
        ),
    };
    let newer = in_progress || created_at.is_some_and(|at| at > deployment.started_at);
    (newer && !differences.is_empty()).then(|| Newer {
        solution_version_arn: target.unwrap_or("(not reported)").to_string(),
        differences,
    })
}

/// How a deployment ended: its outcome, why, and (when superseded) the
/// target of the newer deployment.
#[derive(Debug, Clone, PartialEq)]
struct End {
    outcome: Outcome,
    reason: Option<String>,
    superseded_by: Option<String>,
}

impl End {
    fn new(outcome: Outcome) -> End {
        End {
            outcome,
            reason: None,
            superseded_by: None,
        }
    }

    fn because(outcome: Outcome, reason: String) -> End {
        End {
            reason: Some(reason),
            ..End::new(outcome)
        }
    }
}

/// One CampaignStatus poll: decides from the state (rejected, failed task,
/// unchanged) or from DescribeCampaign, and builds the notification when the
/// outcome is final.
///
/// The poll only reads, so an answer that says nothing about the deployment
/// (throttling of any kind, a 5xx, a time-out) is not its end: it polls again,
/// until the deadline. One look: inside the window around an expected end
/// it reports a wait of a second ([`poll_and_hold`] stays instead).
pub async fn poll<P: Personalize>(
    personalize: &P,
    input: &TaskInput,
    policy: &PollPolicy,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<StatusReport, Error> {
    let state = &input.state;
    let attempt = state.status.as_ref().map_or(0, |s| s.attempt) + 1;
    if let Some(ended) = &state.ended {
        return Ok(announce(ended, now()));
    }
    if state.rejected {
        return Ok(finish(
            input,
            End::new(Outcome::Rejected),
            attempt,
            None,
            now(),
        ));
    }
    if let Some(failure) = &state.error {
        let end = End::because(Outcome::Failed, failure.reason());
        return Ok(finish(input, end, attempt, None, now()));
    }
    if let Some(training) = state.training.as_ref().filter(|t| t.is_final && !t.ready) {
        let reason = training.reason.clone().unwrap_or_default();
        let end = End {
            superseded_by: training.superseded_by.clone(),
            ..End::because(training.outcome, reason)
        };
        return Ok(finish(input, end, attempt, None, now()));
    }
    let request = state
        .request
        .as_ref()
        .ok_or_else(|| Error::InvalidTaskInput("state.request is missing".into()))?;
    let deployment = state
        .deployment
        .as_ref()
        .ok_or_else(|| Error::InvalidTaskInput("state.deployment is missing".into()))?;
    if deployment.gated() && deployment.operation == Operation::None {
        let reason = deployment.gate.as_ref().and_then(|g| g.reason.clone());
        let end = End {
            reason: Some(format!(
                "the metric gate held {} back: {}",
                deployment.target_solution_version_arn,
                reason.unwrap_or_default()
            )),
            ..End::new(Outcome::Gated)
        };
        return Ok(finish(input, end, attempt, None, now()));
    }
    if deployment.operation == Operation::None {
        return Ok(finish(
            input,
            End::new(Outcome::Unchanged),
            attempt,
            None,
            now(),
        ));
    }
    let described = personalize
        .describe_campaign(&deployment.campaign_arn)
        .await;
    let now = now();
    let campaign = match described {
        Ok(campaign) => campaign,
        Err(e) if e.is_transient_for_a_read() => {
            let what = format!("DescribeCampaign did not answer ({e})");
            return Ok(not_yet(input, policy, deployment, attempt, None, what, now));
        }
        Err(e) => return Err(e.into()),
    };
    let observed = Some(campaign.as_ref());
    let end = match observe(request, deployment, campaign.as_ref()) {
        Observation::InProgress(what) => {
            return Ok(not_yet(
                input, policy, deployment, attempt, observed, what, now,
            ));
        }
        Observation::Done => End::new(Outcome::Active),
        Observation::Failed(reason) => End::because(Outcome::Failed, reason),
        Observation::Deleted(reason) => End::because(Outcome::Deleted, reason),
        Observation::Superseded(newer) => End {
            reason: Some(format!(
                "a newer deployment of the campaign, to {}, started after this one ({})",
                newer.solution_version_arn,
                newer.differences.join(", ")
            )),
            superseded_by: Some(newer.solution_version_arn),
            ..End::new(Outcome::Superseded)
        },
    };
    Ok(finish(input, end, attempt, observed, now))
}

/// [`poll`], and while the deployment is unfinished inside the window
/// around its expected end, look again every `hold_seconds` (at least a
/// second) in the same invocation: until the end is seen, the window closes,
/// or `limit` (what the invocation may use of its time) comes. Each look is
/// one DescribeCampaign; the invocation is one poll. When its time is up
/// inside the window, the next poll comes at once, but never sooner after
/// this one began than [`PollPolicy::shortest_wait`], however little it held
/// (the poll budget stays a guarantee).
pub async fn poll_and_hold<P: Personalize, C: Clock>(
    personalize: &P,
    input: &TaskInput,
    policy: &PollPolicy,
    clock: &C,
    limit: DateTime<Utc>,
) -> Result<StatusReport, Error> {
    let every = Duration::seconds(policy.hold_seconds.clamp(1, MAX_HOLD_SECONDS) as i64);
    let began = clock.now();
    // A look a second at most, for at most the longest hold: bounded even
    // if the clock stood still.
    let mut looks = 0;
    loop {
        looks += 1;
        let mut report = poll(personalize, input, policy, || clock.now()).await?;
        let Some(window_end) = report.hold_until else {
            return Ok(report);
        };
        let now = clock.now();
        let until = window_end.min(limit);
        if now >= until || looks > MAX_HOLD_SECONDS {
            let held = whole_seconds(now - began);
            let left = whole_seconds(window_end - now).max(1);
            report.wait_seconds = policy.shortest_wait().saturating_sub(held).clamp(1, left);
            return Ok(report);
        }
        clock
            .sleep(every.min(until - now).to_std().unwrap_or_default())
            .await;
    }
}

/// The report of a poll that found the deployment unfinished: wait and poll
/// again (or hold, inside the window around the expected end), or, once the
/// deadline has passed (or the poll budget is spent), TIMED_OUT.
fn not_yet(
    input: &TaskInput,
    policy: &PollPolicy,
    deployment: &Deployment,
    attempt: u32,
    campaign: Option<Option<&Campaign>>,
    what: String,
    now: DateTime<Utc>,
) -> StatusReport {
    let expected = deployment.expected.as_ref();
    match policy.next(
        attempt,
        deployment.started_at,
        expected,
        "it started",
        &what,
        now,
    ) {
        Ok(next) => {
            let mut report = report(Outcome::InProgress, attempt, campaign, None);
            match next {
                Next::Wait(wait) => report.wait_seconds = wait,
                // A poll that cannot stay (its time is up) comes back at once.
                Next::Hold { until } => {
                    report.wait_seconds = 1;
                    report.hold_until = Some(until);
                }
            }
            report
        }
        Err(reason) => finish(
            input,
            End::because(Outcome::TimedOut, reason),
            attempt,
            campaign,
            now,
        ),
    }
}

/// The notification of an execution that ended without sending its own (a
/// stop, the backstop time-out, an error no Catch sees), built from its status
/// change event and its input, as if that execution had sent it.
fn announce(ended: &EndedExecution, now: DateTime<Utc>) -> StatusReport {
    let outcome = match ended.status.as_str() {
        "ABORTED" => Outcome::Aborted,
        "TIMED_OUT" => Outcome::ExecutionTimedOut,
        _ => Outcome::ExecutionFailed,
    };
    let what = match outcome {
        Outcome::Aborted => "the execution was stopped before it reported",
        Outcome::ExecutionTimedOut => {
            "the execution reached its time limit (the backstop) before it reported"
        }
        _ => "the execution failed with an error no step of it could catch",
    };
    let error = [ended.error.as_deref(), ended.cause.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    let reason = if error.is_empty() {
        format!("{what}; the campaign may still be changing")
    } else {
        format!("{what} ({error}); the campaign may still be changing")
    };
    let state = ended.state().unwrap_or_default();
    let millis = |ms: Option<i64>| ms.and_then(DateTime::<Utc>::from_timestamp_millis);
    let ended_input = TaskInput {
        state,
        execution_arn: Some(ended.execution_arn.clone()),
        execution_start_time: millis(ended.start_date),
        check: Default::default(),
    };
    let ended_at = millis(ended.stop_date).unwrap_or(now);
    finish(
        &ended_input,
        End::because(outcome, reason),
        0,
        None,
        ended_at,
    )
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
        hold_until: None,
    }
}

/// A final report with its notification.
fn finish(
    input: &TaskInput,
    end: End,
    attempt: u32,
    campaign: Option<Option<&Campaign>>,
    now: DateTime<Utc>,
) -> StatusReport {
    let state = &input.state;
    let deployment: Option<&Deployment> = state.deployment.as_ref();
    let request = state.request.as_ref();
    let End {
        outcome,
        reason: failure_reason,
        superseded_by,
    } = end;
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
        superseded_by,
        errors: state.errors.clone(),
        started_at: input
            .execution_start_time
            .or(deployment.map(|d| d.started_at)),
        ended_at: now,
        execution_arn: input.execution_arn.clone(),
        origin: state.origin.clone(),
        training: state.training.as_ref().and_then(|t| t.facts.clone()),
        gate: deployment.and_then(|d| d.gate.clone()),
    }));
    report
}

/// The measurements of a final report (none while the deployment goes on).
pub fn measure(input: &TaskInput, report: &StatusReport) -> Option<DeploymentMetrics> {
    let notification = report.notification.as_ref()?;
    let detail = &notification.detail;
    let training = input.state.training.as_ref();
    let started = detail.started_at;
    let waited_until = input
        .state
        .deployment
        .as_ref()
        .map_or(detail.ended_at, |d| d.started_at);
    let training_wait_seconds = training
        .filter(|t| t.attempt > 1)
        .and(started)
        .map(|start| ((waited_until - start).num_milliseconds().max(0)) as f64 / 1000.0);
    Some(DeploymentMetrics {
        outcome: report.outcome,
        campaign_name: detail.campaign_name.clone(),
        duration_seconds: detail.duration_seconds,
        polls: report.attempt,
        training_polls: training.map(|t| t.attempt),
        training_wait_seconds,
        execution_arn: detail.execution_arn.clone(),
        notification_id: Some(detail.notification_id.clone()),
        ended_at: detail.ended_at,
    })
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
            max_polls: MAX_POLLS,
            hold_seconds: 5,
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
