//! What a deployment did to its campaign ([`Operation`]) and how it ended
//! ([`Outcome`]): the words the workflow state, the status decisions and the
//! notifications share.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::listed::listed;

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

listed! {
/// How a deployment stands: in progress, or how it ended (the decision of a
/// poll or of the training check, and what is notified).
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
    /// An alarm of the watch fired: the campaign was returned to what it
    /// served before (version, TPS and configuration).
    RolledBack,
    /// An alarm of the watch fired, and returning the campaign to what it
    /// served before failed or timed out.
    RollbackFailed,
}
}

impl Outcome {
    pub fn is_final(self) -> bool {
        self != Outcome::InProgress
    }

    /// Whether the execution should end in Succeed.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Active | Outcome::Unchanged)
    }

    /// The end state of the definition an execution with this final
    /// outcome ends in (none while in progress), and whether it fails the
    /// execution (a Fail state, which the failed-executions alarm counts).
    /// Only a deployment that did not happen as asked fails; a rejection,
    /// a newer deployment, a held-back or stopped model are told, not
    /// alarmed; an announcement ends its own execution as announced.
    pub fn end_state(self) -> Option<EndState> {
        let (name, fails) = match self {
            Outcome::InProgress => return None,
            Outcome::Active | Outcome::Unchanged => ("Deployed", false),
            Outcome::Rejected => ("Rejected", false),
            Outcome::Superseded => ("Superseded", false),
            Outcome::Gated => ("Gated", false),
            Outcome::TrainingStopped => ("TrainingStopped", false),
            Outcome::Aborted | Outcome::ExecutionTimedOut | Outcome::ExecutionFailed => {
                ("Announced", false)
            }
            Outcome::TimedOut => ("TimedOut", true),
            // The new model was not kept: the operator's alarm counts both.
            Outcome::RolledBack => ("RolledBack", true),
            Outcome::RollbackFailed => ("RollbackFailed", true),
            Outcome::TrainingTimedOut => ("TrainingTimedOut", true),
            Outcome::Failed | Outcome::Deleted | Outcome::TrainingFailed => ("Failed", true),
        };
        Some(EndState { name, fails })
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
            Outcome::RolledBack => "ROLLED_BACK",
            Outcome::RollbackFailed => "ROLLBACK_FAILED",
        }
    }
}

/// A terminal state of the state machine's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EndState {
    pub name: &'static str,
    /// A Fail state (else Succeed).
    pub fails: bool,
}
