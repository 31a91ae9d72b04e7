//! deploy-campaign: the DeployCampaign and RollBack tasks of the state
//! machine.

use serde_json::Value;
use tracing::Instrument;

use super::task::{TaskError, log_record, task_input};
use crate::config::DeployConfig;
use crate::domain::deploy::{Turn, deploy, roll_back};
use crate::domain::execution::{Act, Deployment};
use crate::domain::request::DeploymentRequest;
use crate::domain::{record, revert};
use crate::error::Error;
use crate::ports::{Catalog, Clock, Personalize, SolutionMetrics, Tagging};

/// One DeployCampaign or RollBack task. An update's start is recorded on the
/// campaign: the request it was written for, and what the campaign served
/// until then as its last known good (see [`record::at_start`]); a record
/// that cannot be written is logged, and does not fail the deployment it
/// describes.
pub async fn handle<P: Personalize + SolutionMetrics + Catalog + Tagging, C: Clock>(
    personalize: &P,
    clock: &C,
    config: &DeployConfig,
    event: Value,
) -> Result<Deployment, TaskError> {
    let (input, task) = task_input(event)?;
    let accepted = input
        .state
        .require_accepted()
        .map_err(|e| TaskError::new(e, &task))?;
    let rollback = input.act == Act::Rollback;
    // A deployment is held to the stack's scope and cap again, whoever
    // started its execution. A rollback returns to what the campaign served,
    // as DescribeCampaign told it, after this execution's deployment passed
    // the same check: it is not held again (a scope narrowed or a cap
    // lowered since must not keep the alarmed version serving).
    let refused = if rollback {
        None
    } else {
        // Boxed: its state is not inlined into every task's future.
        Box::pin(revert::refusal(personalize, &config.scope, accepted))
            .instrument(task.span())
            .await
            .map_err(|e| TaskError::new(e, &task))?
    };
    if let Some(rejection) = refused {
        return Err(TaskError::new(
            Error::InvalidRequest(format!("outside this stack's scope: {rejection}")),
            &task,
        ));
    }
    let deployment = if rollback {
        roll_back(personalize, accepted, clock)
            .instrument(task.span())
            .await
            .map_err(|e| TaskError::new(e, &task))?
    } else {
        let turn = Turn::of(accepted, input.execution_start_time);
        deploy(
            personalize,
            personalize,
            &accepted.request,
            &turn,
            config.default_min_provisioned_tps,
            clock,
        )
        .instrument(task.span())
        .await
        .map_err(|e| TaskError::new(e, &task))?
    };
    task.span()
        .in_scope(|| log_deployment(&accepted.request, &deployment, rollback));
    let noted = record::at_start(
        personalize,
        accepted,
        &deployment,
        input.execution_start_time,
        rollback,
        clock.now(),
    )
    .instrument(task.span())
    .await;
    task.span().in_scope(|| log_record(&noted));
    Ok(deployment)
}

/// Logs what DeployCampaign (or RollBack) did.
fn log_deployment(request: &DeploymentRequest, deployment: &Deployment, rollback: bool) {
    match deployment {
        Deployment::Started(report) if rollback => tracing::info!(
            operation = %report.operation,
            from = report.previous_solution_version_arn.as_deref().unwrap_or("-"),
            changes = ?report.changes,
            "rollback started"
        ),
        _ if rollback => tracing::info!("a newer deployment heads elsewhere: no rollback"),
        Deployment::Started(report) => {
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
        }
        Deployment::Waiting(waiting) => tracing::info!(
            target = request.solution_version_arn(),
            busy = %waiting.waiting_for,
            since = %waiting.since,
            round = waiting.round,
            "campaign busy with older work: waiting for it"
        ),
        Deployment::Overtaken(overtaken) => tracing::info!(
            target = request.solution_version_arn(),
            newer = %overtaken.superseded_by.solution_version_arn,
            "a newer deployment heads elsewhere: nothing written"
        ),
    }
}
