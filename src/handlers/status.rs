//! campaign-status: the tasks that look and decide. CheckTraining (`check:
//! training`) waits for the requested version's training; PollCampaign
//! polls the deployment (and a rollback) until its outcome is final;
//! WatchAlarms (`check: watch`) watches the alarms after the deployment;
//! DescribeOutcome builds the notification of an execution whose outcome its
//! state already decides (a rejected request, a caught task error, an
//! announcement, a watch that ended). An accepted request's end writes
//! its campaign's record ([`record::at_end`]).

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use tracing::Instrument;

use super::task::{TaskError, log_record, task_input};
use crate::config::StatusConfig;
use crate::domain::alarm::{Verdict, WatchReport};
use crate::domain::ending::measure;
use crate::domain::execution::{Check, StatusReport};
use crate::domain::record;
use crate::domain::schedule::MAX_HOLD_SECONDS;
use crate::domain::status::poll;
use crate::domain::training::TrainingReport;
use crate::domain::training_check;
use crate::domain::watching;
use crate::ports::{Alarms, Catalog, Clock, MetricsSink, Personalize, SolutionVersions, Tagging};

/// The report of either check; Step Functions puts it at the task's
/// ResultPath.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Report {
    Campaign(Box<StatusReport>),
    Training(TrainingReport),
    Watch(Box<WatchReport>),
}

/// How long before the function's own time-out a hold ends: room for its
/// last DescribeCampaign (at most the SDK's operation time-out) and the reply.
pub const HOLD_MARGIN: Duration = Duration::seconds(15);

/// How long before the function's own time-out a training check's hold
/// ends: its last look may be DescribeSolutionVersion and, for a followed
/// campaign trained by then, the recheck's three reads, each at most the
/// SDK's operation time-out (8 s).
pub const TRAINING_HOLD_MARGIN: Duration = Duration::seconds(45);

/// One check; a final outcome's measurements go to `metrics`. A check may
/// hold (see [`poll`], [`training_check::check`], [`watching::watch`]) for
/// at most its policy's longest hold ([`MAX_HOLD_SECONDS`] for a watch),
/// ending [`HOLD_MARGIN`] ([`TRAINING_HOLD_MARGIN`] for a training check)
/// before the invocation's own deadline,
/// `deadline_ms` (the Lambda context's, in milliseconds since the epoch; 0
/// when unknown).
pub async fn handle<P, A, M, C>(
    personalize: &P,
    alarms: &A,
    metrics: &M,
    clock: &C,
    config: &StatusConfig,
    event: Value,
    deadline_ms: u64,
) -> Result<Report, TaskError>
where
    P: Personalize + SolutionVersions + Catalog + Tagging,
    A: Alarms,
    M: MetricsSink,
    C: Clock,
{
    let (input, task) = task_input(event)?;
    let deadline = i64::try_from(deadline_ms)
        .ok()
        .filter(|&ms| ms > 0)
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    let limit = |longest: u64, margin: Duration| {
        let most = clock.now() + Duration::seconds(longest.min(i64::MAX as u64 / 1000) as i64);
        deadline.map_or(most, |d| most.min(d - margin))
    };
    if input.check == Check::Training {
        let limit = limit(config.training.max_hold_seconds, TRAINING_HOLD_MARGIN);
        let report = training_check::check(personalize, &input, &config.training, clock, limit)
            .instrument(task.span())
            .await
            .map_err(|e| TaskError::new(e, &task))?;
        task.span().in_scope(|| {
            let facts = report.facts.as_ref();
            tracing::info!(
                outcome = report.outcome.as_str(),
                attempt = report.attempt,
                wait_seconds = report.wait_seconds,
                training_status = facts.and_then(|f| f.status.as_deref()).unwrap_or("-"),
                reason = report.reason.as_deref().unwrap_or("-"),
                "training status"
            )
        });
        return Ok(Report::Training(report));
    }
    if input.check == Check::Watch {
        let limit = limit(MAX_HOLD_SECONDS, HOLD_MARGIN);
        let look_every = Duration::seconds(config.watch_look_seconds as i64);
        let report = watching::watch(personalize, alarms, &input, look_every, clock, limit)
            .instrument(task.span())
            .await
            .map_err(|e| TaskError::new(e, &task))?;
        task.span().in_scope(|| {
            tracing::info!(
                verdict = report.verdict.as_str(),
                attempt = report.attempt,
                reads = report.reads,
                wait_seconds = report.wait_seconds,
                unread = report.unread.as_deref().unwrap_or("-"),
                alarm = match &report.verdict {
                    Verdict::Alarm { alarm } => alarm.name.as_str(),
                    _ => "-",
                },
                "watch"
            )
        });
        return Ok(Report::Watch(Box::new(report)));
    }
    let limit = limit(config.poll.max_hold_seconds, HOLD_MARGIN);
    let report = poll(personalize, &input, &config.poll, clock, limit)
        .instrument(task.span())
        .await
        .map_err(|e| TaskError::new(e, &task))?;
    task.span().in_scope(|| {
        tracing::info!(
            outcome = report.outcome.as_str(),
            attempt = report.attempt,
            wait_seconds = report.wait_seconds,
            campaign_status = report.campaign_status.as_deref().unwrap_or("-"),
            update_status = report.update_status.as_deref().unwrap_or("-"),
            failure_reason = report.failure_reason.as_deref().unwrap_or("-"),
            "campaign status"
        )
    });
    if let Some(measured) = measure(&input, &report) {
        metrics.record(&measured);
    }
    // The end writes the campaign's record; one that cannot be written is
    // logged.
    let noted = record::at_end(personalize, &input, &report, &config.scope, clock.now())
        .instrument(task.span())
        .await;
    task.span().in_scope(|| log_record(&noted));
    Ok(Report::Campaign(Box::new(report)))
}
