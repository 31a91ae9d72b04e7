//! How an execution ends: its final report and the notification's facts,
//! read from what the execution is; the announcement of an execution that
//! ended without reporting, as if that execution had sent it; and the
//! measurements of a final report.

use chrono::{DateTime, Utc};

use super::alarm::{Verdict, WatchReport};
use super::campaign::Campaign;
use super::execution::{
    Accepted, Deployment, EndedExecution, Execution, StatusReport, TaskInput, Then,
};
use super::metrics::{DeploymentMetrics, History};
use super::notification::{Facts, Notification, RollbackFacts};
use super::origin::Origin;
use super::outcome::Outcome;
use super::request::DeploymentRequest;

/// How a deployment ended: its outcome, why, and (when superseded) the
/// target of the newer deployment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct End {
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub superseded_by: Option<String>,
}

impl End {
    pub fn new(outcome: Outcome) -> End {
        End {
            outcome,
            reason: None,
            superseded_by: None,
        }
    }

    pub fn because(outcome: Outcome, reason: String) -> End {
        End {
            reason: Some(reason),
            ..End::new(outcome)
        }
    }
}

/// What a poll reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Conclusion {
    /// The outcome is final.
    Final(End),
    /// Not yet: poll again after this many seconds.
    Wait(u64),
    /// The campaign the request waited for is free: deploy at once (a
    /// definition that cannot polls again after this many seconds).
    Deploy(u64),
    /// The deployment is ACTIVE and has a watch: watch at once.
    Watch,
}

/// The notification of an execution that ended without sending its own (a
/// stop, the backstop time-out, an error no Catch sees), built from its status
/// change event and its input, as if that execution had sent it.
pub(crate) fn announce(ended: &EndedExecution, now: DateTime<Utc>) -> StatusReport {
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
    let millis = |ms: Option<i64>| ms.and_then(DateTime::<Utc>::from_timestamp_millis);
    let mut report = status_report(outcome, 0, None, Some(reason.clone()));
    report.notification = Some(Notification::build(facts(
        ended.execution().as_ref(),
        Some(ended.execution_arn.clone()),
        millis(ended.start_date),
        End::because(outcome, reason),
        millis(ended.stop_date).unwrap_or(now),
    )));
    report
}

fn status_report(
    outcome: Outcome,
    attempt: u32,
    campaign: Option<&Campaign>,
    failure_reason: Option<String>,
) -> StatusReport {
    StatusReport {
        outcome,
        is_final: outcome.is_final(),
        succeeded: outcome.is_success(),
        wait_seconds: 0,
        attempt,
        next: if outcome.is_final() {
            Then::Notify
        } else {
            Then::Poll
        },
        campaign_status: campaign.map(|c| c.status.to_string()),
        update_status: campaign
            .and_then(|c| c.latest_update.as_ref())
            .map(|u| u.status.to_string()),
        failure_reason,
        notification: None,
    }
}

/// The report of poll number `attempt`: the wait before the next, or the
/// final outcome with its notification.
pub(crate) fn report(
    input: &TaskInput,
    attempt: u32,
    conclusion: Conclusion,
    campaign: Option<&Campaign>,
    now: DateTime<Utc>,
) -> StatusReport {
    let end = match conclusion {
        Conclusion::Wait(wait) => {
            let mut report = status_report(Outcome::InProgress, attempt, campaign, None);
            report.wait_seconds = wait;
            return report;
        }
        Conclusion::Deploy(wait) => {
            let mut report = status_report(Outcome::InProgress, attempt, campaign, None);
            report.next = Then::Deploy;
            report.wait_seconds = wait;
            return report;
        }
        Conclusion::Watch => {
            let mut report = status_report(Outcome::InProgress, attempt, campaign, None);
            report.next = Then::Watch;
            return report;
        }
        Conclusion::Final(end) => end,
    };
    let mut report = status_report(end.outcome, attempt, campaign, end.reason.clone());
    report.notification = Some(Notification::build(facts(
        Some(&input.state),
        input.execution_arn.clone(),
        input.execution_start_time,
        end,
        now,
    )));
    report
}

/// What the notification of an execution tells: the facts of its state
/// (none when it is unknown), its ARN and start, and how it ended.
fn facts(
    state: Option<&Execution>,
    execution_arn: Option<String>,
    started_at: Option<DateTime<Utc>>,
    end: End,
    ended_at: DateTime<Utc>,
) -> Facts {
    let accepted = state.and_then(Execution::accepted);
    let request = accepted.map(|a| &a.request);
    let deployment = accepted
        .and_then(|a| a.deployment.as_ref())
        .and_then(Deployment::started);
    let errors = match state {
        Some(Execution::Rejected(rejected)) => rejected.errors.clone(),
        _ => Vec::new(),
    };
    let watch = accepted.and_then(|a| watch_facts(a, &end, ended_at));
    let rollback = accepted.and_then(|a| rollback_facts(a, end.outcome));
    Facts {
        outcome: end.outcome,
        campaign_name: state.and_then(Execution::campaign_name),
        campaign_arn: request.map(DeploymentRequest::campaign_arn),
        operation: deployment.map(|d| d.operation),
        target_solution_version_arn: request.map(|r| r.solution_version_arn().to_string()),
        previous_solution_version_arn: deployment
            .and_then(|d| d.previous_solution_version_arn.clone()),
        failure_reason: end.reason,
        superseded_by: end.superseded_by,
        errors,
        started_at: started_at.or(deployment.map(|d| d.started_at)),
        ended_at,
        execution_arn,
        origin: state.and_then(Execution::origin).cloned(),
        training: accepted
            .and_then(|a| a.training.as_ref())
            .and_then(|t| t.facts.clone()),
        gate: deployment.and_then(|d| d.gate.clone()),
        watch,
        rollback,
    }
}

/// The watch as notified: as it ended; one a task error interrupted (it
/// was WATCHING, or about to begin) as `UNVERIFIED`, since then, with why.
fn watch_facts(accepted: &Accepted, end: &End, ended_at: DateTime<Utc>) -> Option<WatchReport> {
    let interrupted = accepted.error.is_some() && accepted.watching();
    let mut watch = match (&accepted.watch, interrupted) {
        (Some(watch), _) => watch.clone(),
        (None, false) => return None,
        (None, true) => WatchReport::begun(accepted.request.watch()?, ended_at),
    };
    if interrupted {
        watch.verdict = Verdict::Unverified;
        watch.ended_at = Some(ended_at);
        watch.unread = end.reason.clone();
    }
    Some(watch)
}

/// The rollback of a watch whose alarm fired: from what the campaign served
/// then, to what it served before the deployment, and how it ended.
fn rollback_facts(accepted: &Accepted, outcome: Outcome) -> Option<RollbackFacts> {
    let Verdict::Alarm { .. } = accepted.watch.as_ref()?.verdict else {
        return None;
    };
    let restore = accepted.restore().ok()?;
    let rollback = accepted.rollback.as_ref().and_then(Deployment::started);
    Some(RollbackFacts {
        from: rollback.and_then(|r| r.served_before.clone()),
        to: restore.served.clone(),
        sync_turned_off: restore.sync_turned_off,
        started_at: rollback.map(|r| r.started_at),
        outcome,
    })
}

/// The measurements of a final report (none while the deployment goes on).
pub fn measure(input: &TaskInput, report: &StatusReport) -> Option<DeploymentMetrics> {
    let notification = report.notification.as_ref()?;
    let detail = &notification.detail;
    let accepted = input.state.accepted();
    let training = accepted.and_then(|a| a.training.as_ref());
    let started = detail.started_at;
    let waited_until = accepted
        .and_then(|a| a.deployment.as_ref())
        .map_or(detail.ended_at, |d| match d {
            Deployment::Started(report) => report.first_tried_at(),
            Deployment::Waiting(waiting) => waiting.since,
            Deployment::Overtaken(overtaken) => overtaken.checked_at,
        });
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
        watch_seconds: accepted.and_then(|a| a.watch.as_ref()).map(|w| {
            let ended = w.ended_at.unwrap_or(detail.ended_at);
            ((ended - w.began_at).num_milliseconds().max(0)) as f64 / 1000.0
        }),
        execution_arn: detail.execution_arn.clone(),
        notification_id: Some(detail.notification_id.clone()),
        ended_at: detail.ended_at,
        history: History {
            origin: detail.origin.as_ref().map(Origin::kind),
            solution_version_arn: detail.target_solution_version_arn.clone(),
            gate_verdict: detail
                .gate
                .as_ref()
                .map(|g| if g.passed { "PASSED" } else { "HELD_BACK" }),
            watch_verdict: detail.watch.as_ref().map(|w| w.verdict.as_str()),
            rolled_back_to: detail
                .rollback
                .as_ref()
                .map(|r| r.to.solution_version_arn.clone()),
        },
    })
}
