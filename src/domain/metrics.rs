//! What an operator measures of each finished deployment: one record per
//! final outcome, with the deployment's duration, its polls, its wait for
//! training and its watch, sliced by outcome (rollbacks among them) and
//! campaign.

use chrono::{DateTime, Utc};

use super::outcome::Outcome;

/// The measurements of one finished deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentMetrics {
    pub outcome: Outcome,
    pub campaign_name: Option<String>,
    /// From the execution's start to its outcome.
    pub duration_seconds: Option<f64>,
    /// PollCampaign polls (a final report without a poll loop counts one).
    pub polls: u32,
    /// Training checks, when the request's training was checked.
    pub training_polls: Option<u32>,
    /// From the execution's start to the end of the wait for training, when
    /// there was a wait (the version was not trained at the first check).
    pub training_wait_seconds: Option<f64>,
    /// How long the watch after the deployment lasted (to its verdict),
    /// when there was one.
    pub watch_seconds: Option<f64>,
    pub execution_arn: Option<String>,
    pub notification_id: Option<String>,
    pub ended_at: DateTime<Utc>,
    /// For the deployment history in the logs, not metrics: the version
    /// requested, the gate's verdict (`PASSED`, `HELD_BACK`), the watch's
    /// (`PASSED`, `UNVERIFIED`, `ALARM`, `SUPERSEDED`) and the version a
    /// rollback returned to.
    pub history: History,
}

/// What the deployment history shows of a deployment beyond its outcome.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Where the request came from (its origin's type: `rollback` for a
    /// revert on request).
    pub origin: Option<&'static str>,
    pub solution_version_arn: Option<String>,
    pub gate_verdict: Option<&'static str>,
    pub watch_verdict: Option<&'static str>,
    pub rolled_back_to: Option<String>,
}
