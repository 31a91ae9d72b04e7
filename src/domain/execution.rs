//! What an execution of the deployment state machine is, and the task inputs
//! and outputs of the Lambdas inside it.
//!
//! An execution is one of three things ([`Execution`]): an accepted request,
//! deployed step by step; a rejected request, only notified; or the
//! announcement of another execution that ended without reporting. (A
//! fourth is not made by this product but must still be told: an execution
//! started by hand with an input that is none of these, once its first task
//! failed on it.) Each fact has one home: the campaign's name, its ARN and
//! the target version of an accepted request are its request's.
//!
//! On the wire, the state is one JSON document that the state machine
//! carries from step to step: deploy-trigger writes the execution input,
//! and each task's report is put at its `ResultPath` (`training`,
//! `deployment`, `status`; a caught error at `error`). The paths the
//! definition's Choice states read (`ended`, `rejected`, `training.ready`,
//! `training.final`, `status.final`, `status.succeeded`, `status.outcome`)
//! are always written by the Rust side; docs/workflow.md lists every path
//! the definition reads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::alarm::{Verdict, WatchReport};
use super::campaign::Newer;
use super::field::FieldError;
use super::gate::GateReport;
use super::notification::Notification;
use super::origin::Origin;
use super::outcome::{Operation, Outcome};
use super::request::DeploymentRequest;
use super::request::Served;
use super::schedule::Expectation;
use super::training::TrainingReport;
use crate::error::Error;

/// What an execution is: one of the three this product starts, or an input
/// it did not make that is only told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "StateWire<DeploymentRequest>", try_from = "StateWire<Value>")]
pub enum Execution {
    /// A valid request: its training is waited for, it is deployed and
    /// watched, and the outcome notified.
    Accepted(Box<Accepted>),
    /// A request that broke a rule: only notified.
    Rejected(Rejected),
    /// The announcement of an execution that ended without reporting (the
    /// AnnounceUnreportedEnds rule starts it): only notified, as if that
    /// execution had sent it.
    Announcement(EndedExecution),
    /// An input that is none of these (an execution started by hand with a
    /// made-up input), once a task failed on it and the state machine caught
    /// its error: only notified, FAILED, with that error.
    Unrecognized(TaskFailure),
}

/// An accepted request and what the steps so far reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub request: DeploymentRequest,
    /// Where it came from (none for an execution started by hand).
    pub origin: Option<Origin>,
    /// The latest CheckTraining report, once it ran.
    pub training: Option<TrainingReport>,
    /// DeployCampaign's latest report, once it ran.
    pub deployment: Option<Deployment>,
    /// The latest report of PollCampaign (or DescribeOutcome), once it ran.
    pub status: Option<StatusReport>,
    /// The latest report of WatchAlarms, once the watch began.
    pub watch: Option<WatchReport>,
    /// RollBack's report, once an alarm of the watch fired.
    pub rollback: Option<Deployment>,
    /// A task error the state machine caught (its `Catch`).
    pub error: Option<TaskFailure>,
}

/// A rejected request: every reason, and its campaign name when the body
/// carried one as a string (even an invalid one), cut to
/// [`MAX_REPORTED_NAME`] characters.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub campaign_name: Option<String>,
    pub errors: Vec<FieldError>,
    pub origin: Option<Origin>,
}

/// A rejected request's campaign name is cut to this many characters.
pub const MAX_REPORTED_NAME: usize = 100;

impl Execution {
    /// An accepted request, as deploy-trigger starts it.
    pub fn accept(request: DeploymentRequest, origin: Origin) -> Execution {
        Execution::Accepted(Box::new(Accepted {
            request,
            origin: Some(origin),
            training: None,
            deployment: None,
            status: None,
            watch: None,
            rollback: None,
            error: None,
        }))
    }

    /// The campaign the execution is about: the request's, a rejected
    /// request's, or that of the execution announced.
    pub fn campaign_name(&self) -> Option<String> {
        match self {
            Execution::Accepted(accepted) => {
                Some(accepted.request.campaign_name().as_str().to_string())
            }
            Execution::Rejected(rejected) => rejected.campaign_name.clone(),
            Execution::Announcement(ended) => ended.execution()?.campaign_name(),
            Execution::Unrecognized(_) => None,
        }
    }

    /// Where the request came from (none for an announcement, or for an
    /// execution started by hand).
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Execution::Accepted(accepted) => accepted.origin.as_ref(),
            Execution::Rejected(rejected) => rejected.origin.as_ref(),
            Execution::Announcement(_) | Execution::Unrecognized(_) => None,
        }
    }

    /// The accepted request, if it is one.
    pub fn accepted(&self) -> Option<&Accepted> {
        match self {
            Execution::Accepted(accepted) => Some(accepted),
            _ => None,
        }
    }

    /// The accepted request, or the error of a task that deploys and was
    /// given something else.
    pub fn require_accepted(&self) -> Result<&Accepted, Error> {
        self.accepted().ok_or_else(|| {
            Error::InvalidTaskInput(match self {
                Execution::Rejected(_) => {
                    "state.request is missing (the request was rejected)".into()
                }
                Execution::Announcement(_) => {
                    "state.request is missing (an announcement deploys nothing)".into()
                }
                _ => "state.request is missing (a task failed on this input)".into(),
            })
        })
    }
}

impl Accepted {
    /// PollCampaign polls made so far.
    pub fn polls(&self) -> u32 {
        self.status.as_ref().map_or(0, |s| s.attempt)
    }

    /// CheckTraining polls made so far.
    pub fn training_polls(&self) -> u32 {
        self.training.as_ref().map_or(0, |t| t.attempt)
    }

    /// What a rollback returns the campaign to: what it served before the
    /// deployment (`servedBefore`), as a request, and whether that request
    /// turns the campaign's sync with its latest version off.
    pub fn restore(&self) -> Result<Restore<'_>, Error> {
        let served = self
            .deployment
            .as_ref()
            .and_then(Deployment::started)
            .and_then(|d| d.served_before.as_ref())
            .ok_or_else(|| {
                Error::InvalidTaskInput(
                    "state.deployment.servedBefore is missing: nothing to return to".into(),
                )
            })?;
        let (request, sync_turned_off) = self.request.restoring(served).map_err(|rule| {
            Error::InvalidTaskInput(format!("state.deployment.servedBefore: {rule}"))
        })?;
        Ok(Restore {
            served,
            request,
            sync_turned_off,
        })
    }

    /// Whether the watch was under way (its last report says WATCHING, or
    /// the deployment had just handed over to it): what a caught task error
    /// interrupted.
    pub fn watching(&self) -> bool {
        match &self.watch {
            Some(watch) => watch.verdict == Verdict::Watching,
            None => self.status.as_ref().is_some_and(|s| s.next == Then::Watch),
        }
    }
}

/// What a rollback returns a campaign to ([`Accepted::restore`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Restore<'a> {
    /// What it served before the deployment.
    pub served: &'a Served,
    /// That, as a request of the campaign.
    pub request: DeploymentRequest,
    /// Whether the request turns the sync with the latest version off.
    pub sync_turned_off: bool,
}

/// The state document as it travels. `R` is the request: written from a
/// [`DeploymentRequest`], read as JSON and then through the request's own
/// reader, so that a request that breaks a rule is named as such.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateWire<R> {
    #[serde(default)]
    rejected: bool,
    /// A rejected request's campaign name. Executions started by earlier
    /// versions also carry it (and `campaignArn`) for accepted requests: it
    /// is the request's, and not read there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    campaign_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request: Option<R>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<Origin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    training: Option<TrainingReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployment: Option<Deployment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<StatusReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    watch: Option<WatchReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rollback: Option<Deployment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<TaskFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ended: Option<EndedExecution>,
}

impl From<Execution> for StateWire<DeploymentRequest> {
    fn from(execution: Execution) -> Self {
        let mut wire = StateWire {
            rejected: false,
            campaign_name: None,
            request: None,
            errors: Vec::new(),
            origin: None,
            training: None,
            deployment: None,
            status: None,
            watch: None,
            rollback: None,
            error: None,
            ended: None,
        };
        match execution {
            Execution::Accepted(accepted) => {
                let Accepted {
                    request,
                    origin,
                    training,
                    deployment,
                    status,
                    watch,
                    rollback,
                    error,
                } = *accepted;
                wire.request = Some(request);
                wire.origin = origin;
                wire.training = training;
                wire.deployment = deployment;
                wire.status = status;
                wire.watch = watch;
                wire.rollback = rollback;
                wire.error = error;
            }
            Execution::Rejected(rejected) => {
                wire.rejected = true;
                wire.campaign_name = rejected.campaign_name;
                wire.errors = rejected.errors;
                wire.origin = rejected.origin;
            }
            Execution::Announcement(ended) => wire.ended = Some(ended),
            Execution::Unrecognized(error) => wire.error = Some(error),
        }
        wire
    }
}

impl TryFrom<StateWire<Value>> for Execution {
    type Error = Error;

    /// Reads the state as the definition routes it (`ended`, then
    /// `rejected`, else a request), refusing what contradicts that. A
    /// request that does not read, once a task's error was caught, is
    /// [`Execution::Unrecognized`].
    fn try_from(wire: StateWire<Value>) -> Result<Execution, Error> {
        let invalid = |what: &str| Error::InvalidTaskInput(format!("state{what}"));
        let progress = wire.training.is_some()
            || wire.deployment.is_some()
            || wire.status.is_some()
            || wire.watch.is_some()
            || wire.rollback.is_some()
            || wire.error.is_some();
        if let Some(ended) = wire.ended {
            if wire.rejected || wire.request.is_some() || !wire.errors.is_empty() || progress {
                return Err(invalid(": an announcement (ended) carries nothing else"));
            }
            return Ok(Execution::Announcement(ended));
        }
        if wire.rejected {
            if wire.request.is_some() || progress {
                return Err(invalid(
                    ": a rejected request (rejected: true) has no request and no steps",
                ));
            }
            return Ok(Execution::Rejected(Rejected {
                campaign_name: wire.campaign_name,
                errors: wire.errors,
                origin: wire.origin,
            }));
        }
        if !wire.errors.is_empty() {
            return Err(invalid(".errors are given, but rejected is not true"));
        }
        let request = match wire.request {
            Some(request) => DeploymentRequest::from_value(&request)
                .map_err(|rejection| Error::InvalidRequest(rejection.to_string())),
            None => Err(invalid(
                ".request is missing: an execution is a request (request), a rejected request \
                 (rejected: true) or an announcement (ended)",
            )),
        };
        let (request, error) = match (request, wire.error) {
            (Ok(request), error) => (request, error),
            (Err(_), Some(error)) => return Ok(Execution::Unrecognized(error)),
            (Err(e), None) => return Err(e),
        };
        Ok(Execution::Accepted(Box::new(Accepted {
            request,
            origin: wire.origin,
            training: wire.training,
            deployment: wire.deployment,
            status: wire.status,
            watch: wire.watch,
            rollback: wire.rollback,
            error,
        })))
    }
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
    /// The execution's input, as a JSON string (the [`Execution`] that
    /// deploy-trigger made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl EndedExecution {
    /// The ended execution, read back from its input (none when the event
    /// left it out or it is not one this product makes).
    pub fn execution(&self) -> Option<Execution> {
        serde_json::from_str(self.input.as_deref()?).ok()
    }
}

/// The input of every task Lambda: the state, the execution's ARN and start
/// time from the context object, and which check campaign-status makes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "TaskInputWire")]
pub struct TaskInput {
    pub state: Execution,
    /// `$$.Execution.Id`.
    pub execution_arn: Option<String>,
    /// `$$.Execution.StartTime`.
    pub execution_start_time: Option<DateTime<Utc>>,
    /// What a campaign-status task checks: the campaign (the default), the
    /// solution version's training, or the watch's alarms.
    pub check: Check,
    /// What a deploy-campaign task does: deploy (the default) or roll back.
    pub act: Act,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskInputWire {
    state: StateWire<Value>,
    #[serde(default)]
    execution_arn: Option<String>,
    #[serde(default)]
    execution_start_time: Option<DateTime<Utc>>,
    #[serde(default)]
    check: Check,
    #[serde(default)]
    act: Act,
}

impl TryFrom<TaskInputWire> for TaskInput {
    type Error = Error;

    fn try_from(wire: TaskInputWire) -> Result<TaskInput, Error> {
        Ok(TaskInput {
            state: Execution::try_from(wire.state)?,
            execution_arn: wire.execution_arn,
            execution_start_time: wire.execution_start_time,
            check: wire.check,
            act: wire.act,
        })
    }
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
    /// The alarms of the watch after the deployment.
    Watch,
}

/// What a deploy-campaign task does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Act {
    /// Deploys the request (DeployCampaign).
    #[default]
    Deploy,
    /// Returns the campaign to what it served before the deployment
    /// (RollBack).
    Rollback,
}

impl TaskInput {
    /// Reads a task Lambda's event, naming what is wrong with it: a request
    /// that breaks a rule is `InvalidRequest`, anything else that is not a
    /// task input `InvalidTaskInput`.
    pub fn from_event(event: Value) -> Result<TaskInput, Error> {
        let wire: TaskInputWire = serde_json::from_value(event).map_err(|e| {
            Error::InvalidTaskInput(format!(
                "expected {{\"state\": <execution state>, \"executionArn\", \"executionStartTime\"}}: {e}"
            ))
        })?;
        TaskInput::try_from(wire)
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

/// The output of DeployCampaign: the create or update it started (or why it
/// wrote nothing), or why it waits, or why it will not write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Deployment {
    /// Another create or update of the campaign, older than this request,
    /// is under way: PollCampaign waits for it to end, then DeployCampaign
    /// runs again.
    Waiting(Waiting),
    /// A create or update of the campaign that a newer request started heads
    /// elsewhere: nothing was written, the newer request decides.
    Overtaken(Overtaken),
    /// What DeployCampaign did (CREATE, UPDATE, or NONE).
    Started(Box<DeployReport>),
}

impl Deployment {
    /// The create or update (or NONE) reported, if DeployCampaign got that
    /// far.
    pub fn started(&self) -> Option<&DeployReport> {
        match self {
            Deployment::Started(report) => Some(report),
            _ => None,
        }
    }

    /// The wait for the campaign, while there is one.
    pub fn waiting(&self) -> Option<&Waiting> {
        match self {
            Deployment::Waiting(waiting) => Some(waiting),
            _ => None,
        }
    }
}

/// DeployCampaign found the campaign busy with work older than this request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    /// What the campaign is busy with, e.g. `an update is in progress
    /// (CREATE IN_PROGRESS)`.
    pub waiting_for: String,
    /// When this request first found the campaign busy: the wait's
    /// deadline (the deployment deadline) counts from then.
    pub since: DateTime<Utc>,
    /// How many times DeployCampaign has found the campaign busy (at most
    /// [`MAX_WAITS`]).
    pub round: u32,
}

/// The most times a deployment waits for its campaign. Only work older than
/// the request is waited for, and the campaign was seen free after each wait,
/// so a second is already a race; the bound keeps DeployCampaign's runs
/// (and the history of the execution) finite.
pub const MAX_WAITS: u32 = 3;

/// DeployCampaign found a newer create or update of the campaign heading
/// elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overtaken {
    pub superseded_by: Newer,
    /// When DeployCampaign found it.
    pub checked_at: DateTime<Utc>,
}

/// What DeployCampaign did to the campaign of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployReport {
    pub operation: Operation,
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
    /// When this request first found the campaign busy with older work, if
    /// it waited for that work before this create or update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_since: Option<DateTime<Utc>>,
    /// What the campaign served before this UPDATE (its version, TPS and
    /// configuration): what a rollback returns to. None for a CREATE, NONE,
    /// or an update of a campaign that served nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_before: Option<Served>,
}

impl DeployReport {
    /// When the request first tried to deploy: when it first found the
    /// campaign busy, if it waited, else when it wrote.
    pub fn first_tried_at(&self) -> DateTime<Utc> {
        self.waited_since
            .map_or(self.started_at, |since| since.min(self.started_at))
    }

    /// The metric gate's verdict, when it held the version back.
    pub fn held_back(&self) -> Option<&GateReport> {
        self.gate.as_ref().filter(|g| !g.passed)
    }

    /// Whether the metric gate held the version back.
    pub fn gated(&self) -> bool {
        self.held_back().is_some()
    }
}

/// The output of PollCampaign and DescribeOutcome. Every member the state
/// machine's Choice states read (`outcome`, `final`, `succeeded`, `next`,
/// `waitSeconds`, `attempt`) is always present.
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
    /// Where the execution goes next: poll again after `waitSeconds`,
    /// deploy (the campaign this request waited for is free), watch (the
    /// deployment is ACTIVE and has a watch), or notify (final).
    #[serde(default)]
    pub next: Then,
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
}

/// Where an execution goes after a PollCampaign (or DescribeOutcome) report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Then {
    /// Wait `waitSeconds`, then poll again.
    #[default]
    Poll,
    /// Run DeployCampaign at once: the busy campaign is free.
    Deploy,
    /// Watch the alarms: the deployment is ACTIVE and has a watch.
    Watch,
    /// Notify: the outcome is final.
    Notify,
}
