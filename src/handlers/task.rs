//! What the task handlers share: reading the task input, the span that
//! names the deployment in every log line, and the error that names it too.

use std::fmt;

use lambda_runtime::Diagnostic;
use serde_json::Value;

use crate::domain::execution::{Execution, TaskInput};
use crate::domain::record::Noted;
use crate::error::Error;

/// Whom a task works for: the campaign and the execution (for an
/// announcement, the execution it announces), as far as the event tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Attribution {
    campaign: String,
    execution: String,
}

impl Attribution {
    fn of(input: &TaskInput) -> Attribution {
        let execution = match &input.state {
            Execution::Announcement(ended) => Some(ended.execution_arn.clone()),
            _ => input.execution_arn.clone(),
        };
        Attribution {
            campaign: input.state.campaign_name().unwrap_or_else(|| "-".into()),
            execution: execution.unwrap_or_else(|| "-".into()),
        }
    }

    /// From an event that is not a task input: what it carries where a task
    /// input would (a request's campaign name, or a rejected one's).
    fn of_raw(event: &Value) -> Attribution {
        let state = &event["state"];
        let campaign = [&state["request"]["campaignName"], &state["campaignName"]]
            .into_iter()
            .find_map(Value::as_str);
        Attribution {
            campaign: campaign.unwrap_or("-").to_string(),
            execution: event["executionArn"].as_str().unwrap_or("-").to_string(),
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

/// A task's error, and whom it works for. The runtime logs a handler's
/// error (its `Debug`) after the handler's span has closed: this one names
/// the campaign and the execution there too. Lambda reports the error alone.
pub struct TaskError {
    pub error: Error,
    attribution: Attribution,
}

impl TaskError {
    pub(super) fn new(error: Error, attribution: &Attribution) -> TaskError {
        TaskError {
            error,
            attribution: attribution.clone(),
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
            self.attribution.campaign,
            self.attribution.execution,
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
pub(super) fn task_input(event: Value) -> Result<(TaskInput, Attribution), TaskError> {
    let attribution = Attribution::of_raw(&event);
    let input = TaskInput::from_event(event).map_err(|e| TaskError::new(e, &attribution))?;
    let attribution = Attribution::of(&input);
    Ok((input, attribution))
}

/// Logs what a task wrote to a campaign's record.
pub fn log_record(noted: &Noted) {
    match noted {
        Noted::Nothing(why) => tracing::debug!(why, "campaign record unchanged"),
        Noted::Written { good, rolled_back } => tracing::info!(
            good = good.as_deref().unwrap_or("-"),
            rolled_back = rolled_back.as_deref().unwrap_or("-"),
            "campaign record written"
        ),
        Noted::Failed(why) => tracing::warn!(%why, "campaign record not written"),
    }
}
