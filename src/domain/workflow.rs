//! The state document the deployment state machine carries from step to step,
//! and the task inputs and outputs of the Lambdas inside it.
//!
//! The execution input is a [`WorkflowState`] built by deploy-trigger. The
//! DeployCampaign task adds `deployment`, every CampaignStatus poll replaces
//! `status`, and a caught task error is put in `error`. Both task Lambdas
//! receive a [`TaskInput`]: the whole state plus the execution's ARN and start
//! time from the context object.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::gate::GateReport;
use super::notification::Notification;
use super::origin::{Origin, execution_name};
use super::outcome::{Operation, Outcome};
use super::predict::Expectation;
use super::request::{DeploymentRequest, FieldError, Rejection};
use super::training::TrainingReport;
use crate::error::Error;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowState {
    /// True when the request was rejected by deploy-trigger; `errors` says why.
    #[serde(default)]
    pub rejected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_arn: Option<String>,
    /// The validated request; absent when rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<DeploymentRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Output of the latest CheckTraining poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingReport>,
    /// Output of DeployCampaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// Output of the latest CampaignStatus poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusReport>,
    /// A task error caught by the state machine (`Catch` with `ResultPath: $.error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskFailure>,
    /// Set only in an announcement: the execution that ended without
    /// reporting (the `detail` of its "Step Functions Execution Status Change"
    /// event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<EndedExecution>,
}

/// The `detail` of a "Step Functions Execution Status Change" event, as far as
/// the announcement of an execution that ended without reporting needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndedExecution {
    pub execution_arn: String,
    /// `ABORTED`, `TIMED_OUT` or `FAILED`.
    pub status: String,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<i64>,
    /// The execution's input, as a JSON string (the [`WorkflowState`] that
    /// deploy-trigger made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl EndedExecution {
    /// The ended execution's input, read back (none when the event left it
    /// out or it is not a workflow state).
    pub fn state(&self) -> Option<WorkflowState> {
        serde_json::from_str(self.input.as_deref()?).ok()
    }
}

impl WorkflowState {
    /// The execution input for a valid request.
    pub fn accepted(request: DeploymentRequest, origin: Origin) -> WorkflowState {
        WorkflowState {
            campaign_name: Some(request.campaign_name.clone()),
            campaign_arn: request.campaign_arn().ok(),
            request: Some(request),
            origin: Some(origin),
            ..WorkflowState::default()
        }
    }

    /// The execution input for a rejected request, carrying every reason, up
    /// to [`MAX_REPORTED_ERRORS`] (a manifest with thousands of unknown fields
    /// must still fit Step Functions' 256 KiB input and SNS's message limit).
    pub fn rejected(rejection: Rejection, origin: Origin) -> WorkflowState {
        let mut errors = rejection.errors;
        if errors.len() > MAX_REPORTED_ERRORS {
            let more = errors.len() - (MAX_REPORTED_ERRORS - 1);
            errors.truncate(MAX_REPORTED_ERRORS - 1);
            errors.push(FieldError::new(
                "(request)",
                format!("has {more} more errors, not listed"),
            ));
        }
        WorkflowState {
            rejected: true,
            campaign_name: rejection
                .campaign_name
                .map(|name| name.chars().take(MAX_REPORTED_NAME).collect()),
            errors,
            origin: Some(origin),
            ..WorkflowState::default()
        }
    }
}

/// The most errors a rejected request reports.
pub const MAX_REPORTED_ERRORS: usize = 50;
/// A rejected request's campaign name is cut to this many characters.
const MAX_REPORTED_NAME: usize = 100;

/// A StartExecution to make: its deterministic name and input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedExecution {
    pub name: String,
    pub input: String,
    pub rejected: bool,
    pub campaign_name: Option<String>,
    /// For a followed version: the name of the one more execution made if
    /// the first ended [`RETRIED_FAILURE`] (its training outlasted its
    /// deadline) and the version is found again, trained.
    pub retry_name: Option<String>,
}

/// The error of the execution of a followed version that is tried once more
/// when the version is found again: its training outlasted the deadline,
/// but has ended since.
pub const RETRIED_FAILURE: &str = "TrainingTimedOut";

impl PlannedExecution {
    /// Turns a parsed (or rejected) request from `origin` into an execution.
    /// `raw` is the request as received; it names a rejected request, whose
    /// canonical form does not exist.
    pub fn new(
        parsed: Result<DeploymentRequest, Rejection>,
        origin: Origin,
        raw: &[u8],
    ) -> PlannedExecution {
        let (mut state, content) = match parsed {
            Ok(request) => {
                let canonical = request.canonical_json();
                (
                    WorkflowState::accepted(request, origin.clone()),
                    canonical.into_bytes(),
                )
            }
            Err(rejection) => (
                WorkflowState::rejected(rejection, origin.clone()),
                raw.to_vec(),
            ),
        };
        let content = if origin.names_itself() {
            Vec::new()
        } else {
            content
        };
        let name = execution_name(state.campaign_name.as_deref(), &origin, &content);
        let retry_name = origin.names_itself().then(|| {
            execution_name(
                state.campaign_name.as_deref(),
                &origin,
                RETRIED_FAILURE.as_bytes(),
            )
        });
        // Struct fields serialize in declaration order and maps sorted, so the
        // same request always gives the same bytes.
        let mut input = to_json(&state);
        if input.len() > MAX_INPUT_BYTES {
            state = shrink(state, input.len());
            input = to_json(&state);
        }
        PlannedExecution {
            name,
            input,
            rejected: state.rejected,
            campaign_name: state.campaign_name,
            retry_name,
        }
    }
}

/// Step Functions' limit on an execution input, in UTF-8 bytes.
pub const MAX_INPUT_BYTES: usize = 262_144;

fn to_json(state: &WorkflowState) -> String {
    serde_json::to_string(state).unwrap_or_else(|_| "{}".to_string())
}

/// A state too large for an execution input becomes a rejection that fits:
/// the request is dropped, then reasons, then the campaign name, until it does.
fn shrink(mut state: WorkflowState, size: usize) -> WorkflowState {
    if let Some(request) = state.request.take() {
        state.rejected = true;
        state.campaign_arn = None;
        state.campaign_name = Some(request.campaign_name);
        state.errors = vec![FieldError::new(
            "(request)",
            format!(
                "is {size} bytes as an execution input; Step Functions accepts at most {MAX_INPUT_BYTES}"
            ),
        )];
    }
    let total = state.errors.len();
    while to_json(&state).len() > MAX_INPUT_BYTES && state.errors.len() > 1 {
        let keep = state.errors.len() / 2;
        state.errors.truncate(keep);
    }
    if state.errors.len() < total {
        state.errors.push(FieldError::new(
            "(request)",
            format!(
                "has {} more errors, not listed (too large to report)",
                total - state.errors.len()
            ),
        ));
    }
    if to_json(&state).len() > MAX_INPUT_BYTES {
        state.campaign_name = None;
        state.errors = vec![FieldError::new(
            "(request)",
            "was rejected; its errors are too large to report",
        )];
    }
    state
}

/// The input of the DeployCampaign and CampaignStatus tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskInput {
    pub state: WorkflowState,
    /// `$$.Execution.Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// `$$.Execution.StartTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_start_time: Option<DateTime<Utc>>,
    /// What a campaign-status task checks: the campaign (the default) or the
    /// solution version's training.
    #[serde(default, skip_serializing_if = "Check::is_campaign")]
    pub check: Check,
}

/// What a campaign-status task checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// The deployment (or, without one, the outcome so far).
    #[default]
    Campaign,
    /// The training of the requested solution version.
    Training,
}

impl Check {
    fn is_campaign(&self) -> bool {
        *self == Check::Campaign
    }
}

impl TaskInput {
    /// The campaign this task is about, for its log lines: the request's, a
    /// rejected request's, or that of an execution being announced.
    pub fn campaign_name(&self) -> Option<String> {
        let state = &self.state;
        state
            .campaign_name
            .clone()
            .or_else(|| state.request.as_ref().map(|r| r.campaign_name.clone()))
            .or_else(|| state.ended.as_ref()?.state()?.campaign_name)
    }

    /// Reads a task Lambda's event, naming what is wrong with it.
    pub fn from_event(event: Value) -> Result<TaskInput, Error> {
        serde_json::from_value(event).map_err(|e| {
            Error::InvalidTaskInput(format!(
                "expected {{\"state\": <workflow state>, \"executionArn\", \"executionStartTime\"}}: {e}"
            ))
        })
    }
}

/// What Step Functions puts at a Catch's ResultPath.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskFailure {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl TaskFailure {
    /// A readable reason: the error name and, when the cause is a Lambda error
    /// document, its `errorMessage`.
    pub fn reason(&self) -> String {
        let message = self.cause.as_deref().map(|cause| {
            serde_json::from_str::<serde_json::Value>(cause)
                .ok()
                .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_string))
                .unwrap_or_else(|| cause.to_string())
        });
        match message {
            Some(m) if !m.is_empty() => format!("{}: {m}", self.error),
            _ => self.error.clone(),
        }
    }
}

/// The output of DeployCampaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub campaign_name: String,
    pub campaign_arn: String,
    pub operation: Operation,
    pub target_solution_version_arn: String,
    /// The solution version the campaign served before (none for a new or a
    /// failed campaign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_solution_version_arn: Option<String>,
    /// When the create or update was requested (for NONE: when it was checked).
    pub started_at: DateTime<Utc>,
    /// What differed, e.g. `minProvisionedTPS 1 -> 2` (empty for CREATE/NONE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// The metric gate's verdict, when the request has a gate and a new
    /// version was to be deployed. When it failed, nothing was written
    /// (`operation` is NONE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateReport>,
    /// How long the create or update is expected to take, from the
    /// campaign's own history (none without one, and for NONE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expectation>,
}

impl Deployment {
    /// Whether the metric gate held the version back.
    pub fn gated(&self) -> bool {
        self.gate.as_ref().is_some_and(|g| !g.passed)
    }
}

/// The output of CampaignStatus. Every member the state machine's Choice
/// states read (`outcome`, `final`, `succeeded`, `waitSeconds`, `attempt`) is
/// always present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub outcome: Outcome,
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Whether the execution should succeed (meaningful when final).
    pub succeeded: bool,
    /// Seconds to wait before the next poll (0 when final).
    pub wait_seconds: u64,
    /// Polls made so far, this one included.
    pub attempt: u32,
    /// The campaign's top-level status as last described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_status: Option<String>,
    /// `latestCampaignUpdate.status` as last described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Present when final: what to publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Notification>,
    /// Inside the window around the expected end: until when the
    /// invocation may stay and look again (never in the output).
    #[serde(skip)]
    pub hold_until: Option<DateTime<Utc>>,
}
