//! The CheckTraining task (run by campaign-status): waiting for the
//! requested solution version's training (DescribeSolutionVersion) with its
//! own schedule and deadline, before anything is deployed.

use chrono::{DateTime, Utc};

use super::execution::{Accepted, TaskInput};
use super::follow::{self, Stop};
use super::origin::Origin;
use super::outcome::Outcome;
use super::schedule::{Held, PollPolicy, Step, took};
use super::training::{
    self, SolutionVersion, Training, TrainingExpectation, TrainingFacts, TrainingReport,
    TrainingStatus, observe,
};
use crate::error::Error;
use crate::ports::{Catalog, Clock, Personalize, SolutionVersions, VersionSummary};

/// One CheckTraining poll: whether the requested version is trained (deploy
/// it), still training (wait `waitSeconds`), or will never be (report it).
/// A `$LATEST` request is ready at once: the campaign takes the newest
/// ACTIVE version itself. The deadline counts from the execution's start.
/// A followed campaign's version, once trained, is deployed only if the
/// campaign still follows and serves nothing newer ([`follow::recheck`]).
///
/// The poll that first finds the version training reads how long the
/// solution's earlier trainings in its mode took
/// ([`TrainingExpectation::of`]; read again on a later poll while there is
/// none) and every report carries it. Inside the window around the
/// expected end (counted from the version's creation), the poll stays and
/// looks every `hold_seconds` until the training ends, the window closes
/// or `limit` (what the invocation may use of its time) comes
/// ([`PollPolicy::in_hold`]); before and after it, the usual schedule.
pub async fn check<V: Personalize + SolutionVersions + Catalog, C: Clock>(
    versions: &V,
    input: &TaskInput,
    policy: &PollPolicy,
    clock: &C,
    limit: DateTime<Utc>,
) -> Result<TrainingReport, Error> {
    let accepted = input.state.require_accepted()?;
    let attempt = accepted.training_polls() + 1;
    let request = &accepted.request;
    if request.targets_latest() {
        return Ok(report(Outcome::Active, attempt, None, None));
    }
    let arn = request.solution_version_arn();
    let earlier = accepted.training.as_ref();
    let mut expected = earlier.and_then(|t| t.expected.clone());
    let mut facts = earlier.and_then(|t| t.facts.clone());
    let began = clock.now();
    let mut looks = 0;
    // How the poll ends: the outcome, why, the newer version served, and
    // the wait before the next poll.
    let (outcome, reason, superseded_by, wait_seconds) = loop {
        looks += 1;
        let (version, seen) = match versions.describe_solution_version(arn).await {
            Ok(version) => {
                facts = Some(facts_of(arn, version.as_ref()));
                let seen = decide(versions, accepted, arn, version.as_ref()).await?;
                (version, seen)
            }
            Err(e) if e.is_transient_for_a_read() => (
                None,
                Seen::NotYet(format!("DescribeSolutionVersion did not answer ({e})")),
            ),
            Err(e) => return Err(e.into()),
        };
        let now = clock.now();
        let what = match seen {
            Seen::NotYet(what) => what,
            Seen::Final(outcome, reason, superseded_by) => {
                break (outcome, reason, superseded_by, 0);
            }
        };
        if let (None, 1, Some(version)) = (&expected, looks, &version) {
            expected = expectation(versions, version).await;
        }
        let window = expected.as_ref().map(TrainingExpectation::window);
        let started = input.execution_start_time.unwrap_or(now);
        let since = "the deployment was requested";
        match policy.around(attempt, started, window, since, &what, now) {
            Step::Wait(wait) => break (Outcome::InProgress, None, None, wait),
            Step::Overdue(why) => {
                let reason = Some(format!("training {why}"));
                break (Outcome::TrainingTimedOut, reason, None, 0);
            }
            Step::Hold { until } => match policy.in_hold(began, until, limit, looks, now) {
                Held::Over(wait) => break (Outcome::InProgress, None, None, wait),
                Held::LookAgainIn(pause) => clock.sleep(pause.to_std().unwrap_or_default()).await,
            },
        }
    };
    Ok(TrainingReport {
        wait_seconds,
        superseded_by,
        expected,
        ..report(outcome, attempt, reason, facts)
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
        expected: None,
    }
}

/// What a described version decides.
enum Seen {
    /// The end of the wait: deploy it (ACTIVE) or report it, and why, and
    /// the newer version a followed campaign serves by now.
    Final(Outcome, Option<String>, Option<String>),
    /// Not yet (in what state).
    NotYet(String),
}

/// Reads a described version: trained (and, for a followed campaign, still
/// to be deployed), still training, or never to be deployed.
async fn decide<V: Personalize + SolutionVersions + Catalog>(
    versions: &V,
    accepted: &Accepted,
    arn: &str,
    version: Option<&SolutionVersion>,
) -> Result<Seen, Error> {
    Ok(match observe(version) {
        Training::Ready => {
            let Some(Origin::Follow { campaign_arn, .. }) = &accepted.origin else {
                return Ok(Seen::Final(Outcome::Active, None, None));
            };
            let created = version.and_then(|v| v.created_at);
            match follow::recheck(versions, campaign_arn, arn, created).await {
                Ok(None) => Seen::Final(Outcome::Active, None, None),
                Ok(Some(Stop {
                    outcome,
                    reason,
                    superseded_by,
                })) => Seen::Final(outcome, Some(reason), superseded_by),
                // Only reads: an answer that may change is waited out.
                Err(e) if e.is_transient_for_a_read() => {
                    Seen::NotYet(format!("the campaign could not be looked at again ({e})"))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Training::InProgress(status) => Seen::NotYet(format!("the solution version is {status}")),
        Training::Failed(reason) => Seen::Final(Outcome::TrainingFailed, Some(reason), None),
        Training::Stopped(reason) => Seen::Final(Outcome::TrainingStopped, Some(reason), None),
        // Not a training that failed: a request for nothing.
        Training::Missing => Seen::Final(
            Outcome::Failed,
            Some(format!("the solution version {arn} does not exist")),
            None,
        ),
    })
}

/// How long the version's training is expected to take, from the
/// solution's earlier versions; none when they cannot be read (it is read
/// again on the next poll).
async fn expectation<V: Catalog>(
    versions: &V,
    version: &SolutionVersion,
) -> Option<TrainingExpectation> {
    let solution = follow::solution_of(&version.arn)?;
    match versions.list_solution_versions(&solution).await {
        Ok(history) => TrainingExpectation::of(version, &history),
        Err(e) => {
            tracing::warn!(error = %e, "the solution's earlier trainings could not be read");
            None
        }
    }
}

/// Reading an expectation from the solution's versions (here, beside the
/// check that reads them, so that the training's types need no port).
impl TrainingExpectation {
    /// From the solution's versions as listed (`history`), for `version`:
    /// its own entry and unfinished, failed or stopped trainings are left
    /// out (how long failing took says nothing of training), as are
    /// missing or backward timestamps. None for a version with no creation
    /// time (nothing to count the window from).
    pub fn of(version: &SolutionVersion, history: &[VersionSummary]) -> Option<Self> {
        let started_at = version.created_at?;
        let mut earlier: Vec<(DateTime<Utc>, u64)> = history
            .iter()
            .filter(|v| {
                v.arn != version.arn
                    && v.status == TrainingStatus::Active
                    && v.training_mode == version.training_mode
            })
            .filter_map(|v| {
                let created = v.created_at?;
                Some((created, took(created, v.updated_at?)?))
            })
            .collect();
        earlier.sort_by_key(|&(created, _)| std::cmp::Reverse(created));
        earlier.truncate(training::HISTORY);
        let mut seconds: Vec<u64> = earlier.iter().map(|(_, s)| *s).collect();
        seconds.sort_unstable();
        let middle = seconds.len() / 2;
        let median = match seconds.len() {
            0 => return None,
            n if n % 2 == 1 => seconds[middle],
            _ => (seconds[middle - 1] + seconds[middle]).div_ceil(2),
        };
        Some(TrainingExpectation {
            seconds: median,
            training_mode: version.training_mode.clone(),
            trainings: seconds.len() as u32,
            started_at,
        })
    }
}
