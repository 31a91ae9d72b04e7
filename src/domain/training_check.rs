//! The CheckTraining task (run by campaign-status): waiting for the
//! requested solution version's training (DescribeSolutionVersion) with its
//! own schedule and deadline, before anything is deployed.

use chrono::{DateTime, Utc};

use super::execution::TaskInput;
use super::follow::{self, Stop};
use super::origin::Origin;
use super::outcome::Outcome;
use super::schedule::{Next, PollPolicy};
use super::training::{SolutionVersion, Training, TrainingFacts, TrainingReport, observe};
use crate::error::Error;
use crate::ports::{Catalog, Clock, Personalize, SolutionVersions};

/// One CheckTraining poll: whether the requested version is trained (deploy
/// it), still training (wait `waitSeconds`), or will never be (report it).
/// A `$LATEST` request is ready at once: the campaign takes the newest
/// ACTIVE version itself. The deadline counts from the execution's start.
/// A followed campaign's version, once trained, is deployed only if the
/// campaign still follows and serves nothing newer ([`follow::recheck`]).
pub async fn check<V: Personalize + SolutionVersions + Catalog, C: Clock>(
    versions: &V,
    input: &TaskInput,
    policy: &PollPolicy,
    clock: &C,
) -> Result<TrainingReport, Error> {
    let accepted = input.state.require_accepted()?;
    let attempt = accepted.training_polls() + 1;
    let request = &accepted.request;
    if request.targets_latest() {
        return Ok(report(Outcome::Active, attempt, None, None));
    }
    let arn = request.solution_version_arn();
    let described = versions.describe_solution_version(arn).await;
    let now = clock.now();
    let (version, facts) = match described {
        Ok(version) => {
            let facts = facts_of(arn, version.as_ref());
            (version, facts)
        }
        Err(e) if e.is_transient_for_a_read() => {
            let what = format!("DescribeSolutionVersion did not answer ({e})");
            let facts = accepted.training.as_ref().and_then(|t| t.facts.clone());
            return Ok(not_yet(input, policy, attempt, facts, what, now));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(match observe(version.as_ref()) {
        Training::Ready => {
            let created = version.as_ref().and_then(|v| v.created_at);
            let stop = match &accepted.origin {
                Some(Origin::Follow { campaign_arn, .. }) => {
                    match follow::recheck(versions, campaign_arn, arn, created).await {
                        Ok(stop) => stop,
                        // Only reads: an answer that may change is waited out.
                        Err(e) if e.is_transient_for_a_read() => {
                            let what = format!("the campaign could not be looked at again ({e})");
                            return Ok(not_yet(input, policy, attempt, Some(facts), what, now));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                _ => None,
            };
            match stop {
                None => report(Outcome::Active, attempt, None, Some(facts)),
                Some(Stop {
                    outcome,
                    reason,
                    superseded_by,
                }) => TrainingReport {
                    superseded_by,
                    ..report(outcome, attempt, Some(reason), Some(facts))
                },
            }
        }
        Training::InProgress(status) => {
            let what = format!("the solution version is {status}");
            not_yet(input, policy, attempt, Some(facts), what, now)
        }
        Training::Failed(reason) => {
            report(Outcome::TrainingFailed, attempt, Some(reason), Some(facts))
        }
        Training::Stopped(reason) => {
            report(Outcome::TrainingStopped, attempt, Some(reason), Some(facts))
        }
        // Not a training that failed: a request for nothing.
        Training::Missing => report(
            Outcome::Failed,
            attempt,
            Some(format!("the solution version {arn} does not exist")),
            Some(facts),
        ),
    })
}

fn facts_of(arn: &str, version: Option<&SolutionVersion>) -> TrainingFacts {
    TrainingFacts {
        solution_version_arn: arn.to_string(),
        status: version.map(|v| v.status.to_string()),
        failure_reason: version.and_then(|v| v.failure_reason.clone()),
        training_hours: version.and_then(|v| v.training_hours),
    }
}

fn report(
    outcome: Outcome,
    attempt: u32,
    reason: Option<String>,
    facts: Option<TrainingFacts>,
) -> TrainingReport {
    TrainingReport {
        outcome,
        ready: outcome == Outcome::Active,
        is_final: outcome.is_final(),
        wait_seconds: 0,
        attempt,
        reason,
        facts,
        superseded_by: None,
    }
}

/// Still training: wait and poll again, or, once the deadline has passed
/// (or the poll budget is spent), TRAINING_TIMED_OUT.
fn not_yet(
    input: &TaskInput,
    policy: &PollPolicy,
    attempt: u32,
    facts: Option<TrainingFacts>,
    what: String,
    now: DateTime<Utc>,
) -> TrainingReport {
    let started = input.execution_start_time.unwrap_or(now);
    let since = "the deployment was requested";
    match policy.next(attempt, started, since, &what, now) {
        Next::Wait(wait) => {
            let mut report = report(Outcome::InProgress, attempt, None, facts);
            report.wait_seconds = wait;
            report
        }
        Next::Overdue(reason) => report(
            Outcome::TrainingTimedOut,
            attempt,
            Some(format!("training {reason}")),
            facts,
        ),
    }
}
