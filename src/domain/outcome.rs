//! What a deployment did to its campaign ([`Operation`]) and how it ended
//! ([`Outcome`]): the words the workflow state, the status decisions and the
//! notifications share.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What DeployCampaign did to the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    None,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::None => "NONE",
        })
    }
}

/// The decision of a CampaignStatus poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// Not finished: wait `waitSeconds` and poll again.
    InProgress,
    /// Deployed: the campaign serves the target version and configuration.
    Active,
    /// The create or update failed (or a task of the workflow failed).
    Failed,
    /// The campaign was deleted (or is being deleted) during the deployment.
    Deleted,
    /// The deadline passed before the deployment finished.
    TimedOut,
    /// Nothing to deploy: the campaign already served the request.
    Unchanged,
    /// The request was rejected before anything was deployed.
    Rejected,
    /// A newer deployment of the campaign, toward another target, started
    /// after this one: it decides what the campaign serves.
    Superseded,
    /// The execution was stopped (StopExecution) before it reported.
    Aborted,
    /// The execution reached its own time limit (the backstop) before it
    /// reported.
    ExecutionTimedOut,
    /// The execution failed with an error no Catch sees (such as the history
    /// limit) before it reported.
    ExecutionFailed,
    /// The solution version's training failed: nothing was deployed.
    TrainingFailed,
    /// The solution version's training was stopped: nothing was deployed.
    TrainingStopped,
    /// The training did not finish before its deadline: nothing was deployed.
    TrainingTimedOut,
    /// The metric gate held the new version back: nothing was deployed.
    Gated,
}

impl Outcome {
    pub fn is_final(self) -> bool {
        self != Outcome::InProgress
    }

    /// Whether the execution should end in Succeed.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Active | Outcome::Unchanged)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "IN_PROGRESS",
            Outcome::Active => "ACTIVE",
            Outcome::Failed => "FAILED",
            Outcome::Deleted => "DELETED",
            Outcome::TimedOut => "TIMED_OUT",
            Outcome::Unchanged => "UNCHANGED",
            Outcome::Rejected => "REJECTED",
            Outcome::Superseded => "SUPERSEDED",
            Outcome::Aborted => "ABORTED",
            Outcome::ExecutionTimedOut => "EXECUTION_TIMED_OUT",
            Outcome::ExecutionFailed => "EXECUTION_FAILED",
            Outcome::TrainingFailed => "TRAINING_FAILED",
            Outcome::TrainingStopped => "TRAINING_STOPPED",
            Outcome::TrainingTimedOut => "TRAINING_TIMED_OUT",
            Outcome::Gated => "GATED",
        }
    }
}
