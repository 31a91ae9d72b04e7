//! What Personalize reports about a solution version's training
//! (DescribeSolutionVersion), without SDK types, and what it means for a
//! deployment that waits for it.

use std::fmt;

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use super::outcome::Outcome;
use super::schedule;

/// A solution version's status (API reference §5.3, §10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrainingStatus {
    CreatePending,
    CreateInProgress,
    Active,
    CreateFailed,
    CreateStopping,
    CreateStopped,
    Other(String),
}

impl TrainingStatus {
    pub fn parse(s: &str) -> TrainingStatus {
        match s {
            "CREATE PENDING" => TrainingStatus::CreatePending,
            "CREATE IN_PROGRESS" => TrainingStatus::CreateInProgress,
            "ACTIVE" => TrainingStatus::Active,
            "CREATE FAILED" => TrainingStatus::CreateFailed,
            "CREATE STOPPING" => TrainingStatus::CreateStopping,
            "CREATE STOPPED" => TrainingStatus::CreateStopped,
            other => TrainingStatus::Other(other.to_string()),
        }
    }

    /// Still training: CREATE PENDING or CREATE IN_PROGRESS.
    pub fn is_training(&self) -> bool {
        matches!(
            self,
            TrainingStatus::CreatePending | TrainingStatus::CreateInProgress
        )
    }

    pub fn as_str(&self) -> &str {
        match self {
            TrainingStatus::CreatePending => "CREATE PENDING",
            TrainingStatus::CreateInProgress => "CREATE IN_PROGRESS",
            TrainingStatus::Active => "ACTIVE",
            TrainingStatus::CreateFailed => "CREATE FAILED",
            TrainingStatus::CreateStopping => "CREATE STOPPING",
            TrainingStatus::CreateStopped => "CREATE STOPPED",
            TrainingStatus::Other(s) => s,
        }
    }
}

impl fmt::Display for TrainingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `SolutionVersion` of DescribeSolutionVersion, as far as a deployment needs
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct SolutionVersion {
    pub arn: String,
    pub status: TrainingStatus,
    pub failure_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Billed training hours, once trained.
    pub training_hours: Option<f64>,
    /// `FULL`, `UPDATE` or `AUTOTRAIN`.
    pub training_mode: Option<String>,
}

/// What a version's training means for a deployment of it.
#[derive(Debug, Clone, PartialEq)]
pub enum Training {
    /// Trained: it can be deployed.
    Ready,
    /// Still training (its status).
    InProgress(String),
    /// Training failed, with the service's reason.
    Failed(String),
    /// Training was stopped (or is stopping): it will never be deployable.
    Stopped(String),
    /// No such version.
    Missing,
}

/// Reads a described version.
pub fn observe(version: Option<&SolutionVersion>) -> Training {
    let Some(version) = version else {
        return Training::Missing;
    };
    match &version.status {
        TrainingStatus::Active => Training::Ready,
        TrainingStatus::CreatePending | TrainingStatus::CreateInProgress => {
            Training::InProgress(version.status.to_string())
        }
        TrainingStatus::CreateFailed => Training::Failed(
            version
                .failure_reason
                .clone()
                .unwrap_or_else(|| "training failed (no reason given)".to_string()),
        ),
        TrainingStatus::CreateStopping | TrainingStatus::CreateStopped => {
            Training::Stopped(format!("training was stopped (status {})", version.status))
        }
        TrainingStatus::Other(status) => Training::InProgress(status.clone()),
    }
}

/// How many of a solution's newest successful trainings in a mode its
/// next training in that mode is expected to take as long as (their median).
pub const HISTORY: usize = 5;

/// How long a training is expected to take: the median duration (creation
/// to last update, pending included) of the solution's newest earlier
/// trainings of the same `trainingMode` that succeeded (a FULL training and
/// an UPDATE take very different times; read from the solution's versions
/// by [`TrainingExpectation::of`], in `training_check`). None without such
/// a training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingExpectation {
    pub seconds: u64,
    /// The mode of the training and of those it is expected from.
    pub training_mode: Option<String>,
    /// How many earlier trainings it is the median of (at most [`HISTORY`]).
    pub trainings: u32,
    /// When the training began (the version's creation): what the window
    /// counts from, kept so that a look that gets no answer still holds.
    pub started_at: DateTime<Utc>,
}

impl TrainingExpectation {
    /// The window around the expected end ([`schedule::window`]).
    pub fn window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        schedule::window(self.seconds, self.started_at)
    }
}

/// What is known of the requested version's training (the `training` of a
/// notification's detail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingFacts {
    pub solution_version_arn: String,
    /// The version's status as last described (none when it does not exist).
    pub status: Option<String>,
    pub failure_reason: Option<String>,
    /// Billed training hours, once trained.
    pub training_hours: Option<f64>,
}

/// The output of CheckTraining. Every member the state machine's Choice
/// states read (`ready`, `final`, `waitSeconds`) is always present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingReport {
    /// `IN_PROGRESS` while waiting, `ACTIVE` when trained, else how the
    /// execution ends (`TRAINING_FAILED`, `TRAINING_STOPPED`,
    /// `TRAINING_TIMED_OUT`).
    pub outcome: Outcome,
    /// Trained: deploy it.
    pub ready: bool,
    /// No more polls: deploy it (ready) or report the outcome.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Seconds to wait before the next poll (0 when final).
    pub wait_seconds: u64,
    /// Polls made so far, this one included.
    pub attempt: u32,
    /// Why the training ended without a version to deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// None for a `$LATEST` request (the campaign picks the newest ACTIVE
    /// version itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<TrainingFacts>,
    /// For a followed campaign that serves a newer version by now: that
    /// version (the outcome is SUPERSEDED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// How long the training is expected to take, once known (from the
    /// solution's earlier trainings; none without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<TrainingExpectation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(status: &str, reason: Option<&str>) -> SolutionVersion {
        SolutionVersion {
            arn: "arn:aws:personalize:us-east-1:111122223333:solution/movies/9f8e7d6c".into(),
            status: TrainingStatus::parse(status),
            failure_reason: reason.map(str::to_string),
            created_at: None,
            updated_at: None,
            training_hours: None,
            training_mode: None,
        }
    }

    #[test]
    fn each_status_means_ready_training_failed_or_stopped() {
        assert_eq!(observe(Some(&version("ACTIVE", None))), Training::Ready);
        for status in ["CREATE PENDING", "CREATE IN_PROGRESS"] {
            assert_eq!(
                observe(Some(&version(status, None))),
                Training::InProgress(status.into())
            );
        }
        assert_eq!(
            observe(Some(&version(
                "CREATE FAILED",
                Some("Not enough interactions")
            ))),
            Training::Failed("Not enough interactions".into())
        );
        assert!(matches!(
            observe(Some(&version("CREATE FAILED", None))),
            Training::Failed(reason) if reason.contains("no reason given")
        ));
        for status in ["CREATE STOPPING", "CREATE STOPPED"] {
            assert_eq!(
                observe(Some(&version(status, None))),
                Training::Stopped(format!("training was stopped (status {status})"))
            );
        }
        assert_eq!(observe(None), Training::Missing);
        // A status this code does not know yet is waited for, not taken as an end.
        assert_eq!(
            observe(Some(&version("CREATE QUEUED", None))),
            Training::InProgress("CREATE QUEUED".into())
        );
    }
}
