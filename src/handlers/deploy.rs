//! deploy-campaign: the DeployCampaign task of the state machine.

use chrono::Utc;
use serde_json::Value;
use tracing::Instrument;

use super::task::{TaskError, task_input};
use crate::config::DeployConfig;
use crate::domain::deploy::deploy;
use crate::domain::workflow::Deployment;
use crate::error::Error;
use crate::ports::{Personalize, SolutionMetrics};

pub async fn handle<P: Personalize + SolutionMetrics>(
    personalize: &P,
    config: &DeployConfig,
    event: Value,
) -> Result<Deployment, TaskError> {
    let (input, task) = task_input(event)?;
    let request = input.state.request.as_ref().ok_or_else(|| {
        let e =
            Error::InvalidTaskInput("state.request is missing (was the request rejected?)".into());
        TaskError::new(e, &task)
    })?;
    let deployment = deploy(
        personalize,
        personalize,
        request,
        config.default_min_provisioned_tps,
        Utc::now,
    )
    .instrument(task.span())
    .await
    .map_err(|e| TaskError::new(e, &task))?;
    task.span().in_scope(|| {
        let what = if deployment.gated() {
            "deployment held back by the metric gate"
        } else {
            "deployment started"
        };
        tracing::info!(
            operation = %deployment.operation,
            target = %deployment.target_solution_version_arn,
            previous = deployment.previous_solution_version_arn.as_deref().unwrap_or("-"),
            changes = ?deployment.changes,
            gate = deployment.gate.as_ref().map(|g| g.summary()).as_deref().unwrap_or("-"),
            "{what}"
        )
    });
    Ok(deployment)
}
