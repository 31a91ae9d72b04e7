//! deploy-campaign: the DeployCampaign task of the state machine.

use serde_json::Value;
use tracing::Instrument;

use super::task::{TaskError, task_input};
use crate::config::DeployConfig;
use crate::domain::deploy::deploy;
use crate::domain::execution::DeployReport;
use crate::ports::{Clock, Personalize, SolutionMetrics};

pub async fn handle<P: Personalize + SolutionMetrics, C: Clock>(
    personalize: &P,
    clock: &C,
    config: &DeployConfig,
    event: Value,
) -> Result<DeployReport, TaskError> {
    let (input, task) = task_input(event)?;
    let accepted = input
        .state
        .require_accepted()
        .map_err(|e| TaskError::new(e, &task))?;
    let request = &accepted.request;
    let report = deploy(
        personalize,
        personalize,
        request,
        config.default_min_provisioned_tps,
        clock,
    )
    .instrument(task.span())
    .await
    .map_err(|e| TaskError::new(e, &task))?;
    task.span().in_scope(|| {
        let what = if report.gated() {
            "deployment held back by the metric gate"
        } else {
            "deployment started"
        };
        tracing::info!(
            operation = %report.operation,
            target = request.solution_version_arn(),
            previous = report.previous_solution_version_arn.as_deref().unwrap_or("-"),
            changes = ?report.changes,
            gate = report.gate.as_ref().map(|g| g.summary()).as_deref().unwrap_or("-"),
            "{what}"
        )
    });
    Ok(report)
}
