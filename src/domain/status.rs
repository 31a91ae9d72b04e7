//! The PollCampaign task (and DescribeOutcome, which runs the same code):
//! reading DescribeCampaign against the deployment and deciding whether it is
//! still in progress (wait, or hold around its expected end), done, or
//! failed; or deciding from the state alone for a rejected request, a caught
//! task error, a training that ended without a version, a gated or unchanged
//! deployment, and an announcement. The final report and its notification
//! are [`super::ending`]'s.

use chrono::{DateTime, Duration, Utc};

use super::alarm::Verdict;
use super::campaign::{Campaign, Deploying, Newer, Status};
use super::deploy::{Plan, plan_by_requests};
use super::ending::{Conclusion, End, announce, report};
use super::execution::{
    Accepted, DeployReport, Deployment, Execution, StatusReport, TaskInput, Waiting,
};
use super::outcome::{Operation, Outcome};
use super::request::DeploymentRequest;
use super::schedule::{Held, Next, PollPolicy, Step};
use crate::error::Error;
use crate::ports::{Catalog, Clock, Personalize};

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
    deployment: &DeployReport,
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
    // A record in progress toward another target is newer (ours, when it
    // runs, goes to the request; an earlier one had ended before ours was
    // planned), and so is one started after ours.
    if let Some(target) = campaign.newer_than(request, deployment.started_at, true) {
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

/// What one look at the deployment decided.
#[derive(Debug, Clone, PartialEq)]
enum Decision {
    Report(Conclusion),
    /// Not yet, inside the window around the expected end: look again, in
    /// this invocation, until then.
    Hold {
        until: DateTime<Utc>,
    },
}

/// One PollCampaign poll: decides from the state (an announcement, a
/// rejected request, a caught task error, a training that ended without a
/// version, a gated or unchanged deployment) or from DescribeCampaign, and
/// builds the notification when the outcome is final.
///
/// The poll only reads, so an answer that says nothing about the deployment
/// (throttling of any kind, a 5xx, a time-out) is not its end: it polls again,
/// until the deadline.
///
/// Inside the window around the deployment's expected end, the poll looks
/// again every `hold_seconds` (at least a second): until the end is seen,
/// the window closes, or `limit` (what the invocation may use of its time)
/// comes. Each look is one DescribeCampaign; the invocation is one poll.
/// When its time is up inside the window, the next poll comes at once, but
/// never sooner after this one began than [`PollPolicy::shortest_wait`]
/// ([`PollPolicy::resume_after_hold`]).
pub async fn poll<P: Personalize + Catalog, C: Clock>(
    personalize: &P,
    input: &TaskInput,
    policy: &PollPolicy,
    clock: &C,
    limit: DateTime<Utc>,
) -> Result<StatusReport, Error> {
    let accepted = match &input.state {
        Execution::Announcement(ended) => return Ok(announce(ended, clock.now())),
        Execution::Rejected(_) => {
            let end = End::new(Outcome::Rejected);
            return Ok(report(input, 1, Conclusion::Final(end), None, clock.now()));
        }
        Execution::Unrecognized(failure) => {
            let end = End::because(Outcome::Failed, failure.reason());
            return Ok(report(input, 1, Conclusion::Final(end), None, clock.now()));
        }
        Execution::Accepted(accepted) => accepted,
    };
    let attempt = accepted.polls() + 1;
    let deployment = match from_state(accepted)? {
        FromState::Ended(end) => {
            return Ok(report(
                input,
                attempt,
                Conclusion::Final(end),
                None,
                clock.now(),
            ));
        }
        FromState::Waiting(waiting) => {
            let (conclusion, described) = wait_for_campaign(
                personalize,
                &accepted.request,
                input.execution_start_time,
                waiting,
                policy,
                attempt,
                clock,
            )
            .await?;
            let now = clock.now();
            return Ok(report(input, attempt, conclusion, described.as_ref(), now));
        }
        FromState::Deploying(deployment) => (
            deployment,
            Phase::Forward {
                watched: watched(&accepted.request, deployment),
            },
            None,
        ),
        FromState::RollingBack(rollback, restore) => (rollback, Phase::Rollback, Some(restore)),
    };
    let (deployment, phase, restore) = deployment;
    let request = restore.as_ref().unwrap_or(&accepted.request);
    let policy = &match phase {
        Phase::Forward { .. } => *policy,
        Phase::Rollback => policy.rollback(),
    };
    let began = clock.now();
    let mut looks = 0;
    loop {
        looks += 1;
        let (decision, described) = look(
            personalize,
            request,
            deployment,
            policy,
            phase,
            attempt,
            clock,
        )
        .await?;
        let now = clock.now();
        let conclusion = match decision {
            Decision::Report(conclusion) => conclusion,
            Decision::Hold { until } => match policy.in_hold(began, until, limit, looks, now) {
                Held::Over(wait) => Conclusion::Wait(wait),
                Held::LookAgainIn(pause) => {
                    clock.sleep(pause.to_std().unwrap_or_default()).await;
                    continue;
                }
            },
        };
        return Ok(report(input, attempt, conclusion, described.as_ref(), now));
    }
}

/// What an accepted request's state tells before a look at the campaign
/// (a value of one poll, on its stack).
#[allow(clippy::large_enum_variant)]
enum FromState<'a> {
    /// The end it already decides.
    Ended(End),
    /// The campaign was busy with older work: look whether it is free.
    Waiting(&'a Waiting),
    /// A create or update under way: look at the campaign.
    Deploying(&'a DeployReport),
    /// A rollback's update under way, and the request it heads to (what
    /// the campaign served before).
    RollingBack(&'a DeployReport, DeploymentRequest),
}

/// Which update a poll follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The request's; `watched`: once ACTIVE, the watch begins.
    Forward { watched: bool },
    /// A rollback's, after an alarm of the watch fired.
    Rollback,
}

/// Whether a deployment is watched once ACTIVE: the request has a watch,
/// and it is an update that changed what a serving campaign serves (its
/// version or configuration; a TPS change alone is not watched, and a
/// create has nothing to return to).
fn watched(request: &DeploymentRequest, deployment: &DeployReport) -> bool {
    request.watch().is_some()
        && deployment.operation == Operation::Update
        && deployment
            .served_before
            .as_ref()
            .is_some_and(|served| served.changes_what_is_served(request))
}

/// The end an accepted request's state already decides: a caught task
/// error, a training that ended without a version to deploy, a version the
/// gate held back, nothing to change; else the deployment to look at.
fn from_state(accepted: &Accepted) -> Result<FromState<'_>, Error> {
    let alarmed = accepted
        .watch
        .as_ref()
        .is_some_and(|w| matches!(w.verdict, Verdict::Alarm { .. }));
    if let Some(failure) = &accepted.error {
        // After an alarm, a failed task is a failed rollback; during the
        // watch, a watch that could not go on: the version is kept,
        // unverified.
        if accepted.watching() {
            return Ok(FromState::Ended(End::because(
                Outcome::Active,
                format!(
                    "the watch could not go on ({}): the new version is kept, not verified",
                    failure.reason()
                ),
            )));
        }
        let outcome = if alarmed {
            Outcome::RollbackFailed
        } else {
            Outcome::Failed
        };
        return Ok(FromState::Ended(End::because(outcome, failure.reason())));
    }
    if let Some(training) = accepted
        .training
        .as_ref()
        .filter(|t| t.is_final && !t.ready)
    {
        let reason = training.reason.clone().unwrap_or_default();
        return Ok(FromState::Ended(End {
            superseded_by: training.superseded_by.clone(),
            ..End::because(training.outcome, reason)
        }));
    }
    if let Some(rollback) = &accepted.rollback {
        return rolling_back(accepted, rollback);
    }
    if let Some(watch) = &accepted.watch {
        return match &watch.verdict {
            Verdict::Passed | Verdict::Unverified => {
                Ok(FromState::Ended(End::new(Outcome::Active)))
            }
            Verdict::Superseded { superseded_by } => Ok(FromState::Ended(superseded(
                superseded_by,
                "began during the watch; no rollback",
            ))),
            Verdict::Watching | Verdict::Alarm { .. } => Err(Error::InvalidTaskInput(format!(
                "state.watch.verdict is {}: the watch has not ended, or its rollback not begun",
                watch.verdict.as_str()
            ))),
        };
    }
    let deployment = match accepted.deployment.as_ref() {
        None => {
            return Err(Error::InvalidTaskInput(
                "state.deployment is missing".into(),
            ));
        }
        Some(Deployment::Waiting(waiting)) => return Ok(FromState::Waiting(waiting)),
        Some(Deployment::Overtaken(overtaken)) => {
            return Ok(FromState::Ended(superseded(
                &overtaken.superseded_by,
                "began after this request; nothing was written",
            )));
        }
        Some(Deployment::Started(deployment)) => deployment,
    };
    if deployment.operation != Operation::None {
        return Ok(FromState::Deploying(deployment));
    }
    Ok(FromState::Ended(match deployment.held_back() {
        Some(gate) => End::because(
            Outcome::Gated,
            format!(
                "the metric gate held {} back: {}",
                accepted.request.solution_version_arn(),
                gate.reason.clone().unwrap_or_default()
            ),
        ),
        None => End::new(Outcome::Unchanged),
    }))
}

/// What a rollback's report tells: the update to follow (and what it heads
/// to), or the end it already decides.
fn rolling_back<'a>(
    accepted: &'a Accepted,
    rollback: &'a Deployment,
) -> Result<FromState<'a>, Error> {
    let report = match rollback {
        Deployment::Started(report) => report,
        Deployment::Overtaken(overtaken) => {
            return Ok(FromState::Ended(superseded(
                &overtaken.superseded_by,
                "began during the watch; no rollback",
            )));
        }
        Deployment::Waiting(_) => {
            return Err(Error::InvalidTaskInput(
                "state.rollback: a rollback does not wait".into(),
            ));
        }
    };
    let restore = accepted.restore()?.request;
    if report.operation == Operation::None {
        return Ok(FromState::Ended(End::because(
            Outcome::RolledBack,
            "the campaign already served what it served before the deployment".into(),
        )));
    }
    Ok(FromState::RollingBack(report, restore))
}

/// DescribeCampaign for a poll: the campaign (none when it does not exist),
/// or, when the service did not answer (throttling, 5xx, a time-out), what to
/// say of that: the poll says nothing about the deployment and looks again.
/// Any other error is the task's.
async fn describe<P: Personalize>(
    personalize: &P,
    request: &DeploymentRequest,
) -> Result<Result<Option<Campaign>, String>, Error> {
    match personalize.describe_campaign(&request.campaign_arn()).await {
        Ok(campaign) => Ok(Ok(campaign)),
        Err(e) if e.is_transient_for_a_read() => {
            Ok(Err(format!("DescribeCampaign did not answer ({e})")))
        }
        Err(e) => Err(e.into()),
    }
}

/// One DescribeCampaign, read against the deployment (or the rollback): what
/// it decides, and the campaign as described (none when it could not be
/// read).
async fn look<P: Personalize, C: Clock>(
    personalize: &P,
    request: &DeploymentRequest,
    deployment: &DeployReport,
    policy: &PollPolicy,
    phase: Phase,
    attempt: u32,
    clock: &C,
) -> Result<(Decision, Option<Campaign>), Error> {
    let described = describe(personalize, request).await?;
    let now = clock.now();
    let window = deployment
        .expected
        .map(|expected| expected.window(deployment.started_at));
    let unfinished = |what: String| match policy.around(
        attempt,
        deployment.started_at,
        window,
        "it started",
        &what,
        now,
    ) {
        Step::Wait(wait) => Decision::Report(Conclusion::Wait(wait)),
        Step::Hold { until } => Decision::Hold { until },
        Step::Overdue(reason) => Decision::Report(Conclusion::Final(match phase {
            Phase::Forward { .. } => End::because(Outcome::TimedOut, reason),
            Phase::Rollback => End::because(
                Outcome::RollbackFailed,
                format!("the rollback's update did not finish: {reason}"),
            ),
        })),
    };
    let campaign = match described {
        Ok(campaign) => campaign,
        Err(what) => return Ok((unfinished(what), None)),
    };
    let end = match observe(request, deployment, campaign.as_ref()) {
        Observation::InProgress(what) => return Ok((unfinished(what), campaign)),
        Observation::Done => match phase {
            Phase::Forward { watched: true } => {
                return Ok((Decision::Report(Conclusion::Watch), campaign));
            }
            Phase::Forward { watched: false } => End::new(Outcome::Active),
            Phase::Rollback => End::new(Outcome::RolledBack),
        },
        Observation::Failed(reason) if phase == Phase::Rollback => End::because(
            Outcome::RollbackFailed,
            format!("the rollback's update failed: {reason}"),
        ),
        Observation::Failed(reason) => End::because(Outcome::Failed, reason),
        Observation::Deleted(reason) => End::because(Outcome::Deleted, reason),
        Observation::Superseded(newer) => superseded(&newer, "started after this one"),
    };
    Ok((Decision::Report(Conclusion::Final(end)), campaign))
}

/// The end of a deployment a newer one overtook (`when`: how it relates to
/// this one).
fn superseded(newer: &Newer, when: &str) -> End {
    End {
        reason: Some(format!(
            "a newer deployment of the campaign, to {}, {when} ({})",
            newer.solution_version_arn,
            newer.differences.join(", ")
        )),
        superseded_by: Some(newer.solution_version_arn.clone()),
        ..End::new(Outcome::Superseded)
    }
}

/// One look at a campaign that was busy with work older than the request
/// (made at `requested_at`): still busy, wait (the usual schedule, the
/// deadline counting from when the request first found it busy); free, deploy
/// now; overtaken by newer work heading elsewhere, superseded; being
/// deleted, deleted. What it decides is [`plan`]'s: DeployCampaign decides the
/// same way when it runs again.
async fn wait_for_campaign<P: Personalize + Catalog, C: Clock>(
    personalize: &P,
    request: &DeploymentRequest,
    requested_at: Option<DateTime<Utc>>,
    waiting: &Waiting,
    policy: &PollPolicy,
    attempt: u32,
    clock: &C,
) -> Result<(Conclusion, Option<Campaign>), Error> {
    let described = describe(personalize, request).await?;
    let now = clock.now();
    let unfinished = |what: String| match policy.busy_wait().next(
        attempt,
        waiting.since,
        "it first found the campaign busy",
        &what,
        now,
    ) {
        Next::Wait(wait) => Conclusion::Wait(wait),
        Next::Overdue(reason) => Conclusion::Final(End::because(Outcome::TimedOut, reason)),
    };
    let campaign = match described {
        Ok(campaign) => campaign,
        Err(what) => return Ok((unfinished(what), None)),
    };
    let conclusion =
        match plan_by_requests(personalize, request, campaign.as_ref(), requested_at).await {
            Err(Error::CampaignDeleting { status, .. }) => Conclusion::Final(End::because(
                Outcome::Deleted,
                format!("the campaign is being deleted (status {status})"),
            )),
            Err(e) => return Err(e),
            Ok(Plan::Wait(busy)) => unfinished(format!("the campaign is still busy: {busy}")),
            Ok(Plan::Superseded(newer)) => Conclusion::Final(superseded(
                &newer,
                "began after this request; nothing was written",
            )),
            // Free: deploy at once, even past the wait's deadline (the wait is
            // over). The usual wait goes with it, and the poll budget still
            // holds, for a definition that polls again instead (an execution that
            // began before the stack was updated).
            Ok(_) if attempt >= policy.max_polls => Conclusion::Final(End::because(
                Outcome::TimedOut,
                format!(
                    "the campaign is free again, but this execution did not deploy after {attempt} \
                 polls (one that began before the stack was updated cannot): request the \
                 deployment again"
                ),
            )),
            Ok(_) => Conclusion::Deploy(policy.busy_wait().wait(attempt)),
        };
    Ok((conclusion, campaign))
}
