//! What the two task handlers share: reading the task input, the span that
//! names the deployment in every log line, and the error that names it too.

use std::fmt;

use lambda_runtime::Diagnostic;
use serde_json::Value;

use crate::domain::workflow::TaskInput;
use crate::error::Error;

/// Who a task works for: the campaign and the execution (for an
/// announcement, the execution it announces), as far as the event tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Deployment {
    campaign: String,
    execution: String,
}

impl Deployment {
    fn of(input: &TaskInput) -> Deployment {
        let execution = input
            .state
            .ended
            .as_ref()
            .map(|ended| ended.execution_arn.clone())
            .or_else(|| input.execution_arn.clone());
        Deployment {
            campaign: input.campaign_name().unwrap_or_else(|| "-".into()),
            execution: execution.unwrap_or_else(|| "-".into()),
        }
    }

    /// From an event that is not a task input: what it carries where a task
    /// input would.
    fn of_raw(event: &Value) -> Deployment {
        let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
        Deployment {
            campaign: text(&event["state"]["campaignName"]),
            execution: text(&event["executionArn"]),
        }
    }

    /// The span of the task's work: every line it logs names the campaign
    /// and the execution, so that one deployment's story can be followed in
    /// the logs.
    pub(super) fn span(&self) -> tracing::Span {
        tracing::info_span!(
            "deployment",
            campaign = %self.campaign,
            execution = %self.execution
        )
    }
}

/// A task's error, and the deployment it belongs to. The runtime logs a
/// handler's error (its `Debug`) after the handler's span has closed: this
/// one names the campaign and the execution there too. Lambda reports the
/// error alone.
pub struct TaskError {
    pub error: Error,
    deployment: Deployment,
}

impl TaskError {
    pub(super) fn new(error: Error, deployment: &Deployment) -> TaskError {
        TaskError {
            error,
            deployment: deployment.clone(),
        }
    }

    pub fn error_type(&self) -> &'static str {
        self.error.error_type()
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "deployment{{campaign={} execution={}}}: {} ({})",
            self.deployment.campaign,
            self.deployment.execution,
            self.error,
            self.error.error_type()
        )
    }
}

impl From<TaskError> for Diagnostic {
    fn from(e: TaskError) -> Diagnostic {
        e.error.into()
    }
}

/// Reads a task input; an unreadable one is an error that names what the
/// event carries.
pub(super) fn task_input(event: Value) -> Result<(TaskInput, Deployment), TaskError> {
    let deployment = Deployment::of_raw(&event);
    let input = TaskInput::from_event(event).map_err(|e| TaskError::new(e, &deployment))?;
    let deployment = Deployment::of(&input);
    Ok((input, deployment))
}
