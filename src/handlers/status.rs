//! campaign-status: the CampaignStatus task (the describe handler).

use chrono::Utc;
use serde_json::Value;
use tracing::Instrument;

use super::task::{TaskError, task_input};
use crate::config::StatusConfig;
use crate::domain::status::{measure, poll};
use crate::domain::training::TrainingReport;
use crate::domain::watch;
use crate::domain::workflow::{Check, StatusReport};
use crate::ports::{Catalog, MetricsSink, Personalize, SolutionVersions};

/// The report of either check; Step Functions puts it at the task's
/// ResultPath.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Report {
    Campaign(Box<StatusReport>),
    Training(TrainingReport),
}

/// One check; a final outcome's measurements go to `metrics`.
pub async fn handle<P: Personalize + SolutionVersions + Catalog, M: MetricsSink>(
    personalize: &P,
    metrics: &M,
    config: &StatusConfig,
    event: Value,
) -> Result<Report, TaskError> {
    let (input, deployment) = task_input(event)?;
    if input.check == Check::Training {
        let report = watch::check(personalize, &input, &config.training, Utc::now)
            .instrument(deployment.span())
            .await
            .map_err(|e| TaskError::new(e, &deployment))?;
        deployment.span().in_scope(|| {
            let facts = report.facts.as_ref();
            tracing::info!(
                outcome = report.outcome.as_str(),
                attempt = report.attempt,
                wait_seconds = report.wait_seconds,
                training_status = facts.and_then(|f| f.status.as_deref()).unwrap_or("-"),
                reason = report.reason.as_deref().unwrap_or("-"),
                "training status"
            )
        });
        return Ok(Report::Training(report));
    }
    let report = poll(personalize, &input, &config.poll, Utc::now)
        .instrument(deployment.span())
        .await
        .map_err(|e| TaskError::new(e, &deployment))?;
    deployment.span().in_scope(|| {
        tracing::info!(
            outcome = report.outcome.as_str(),
            attempt = report.attempt,
            wait_seconds = report.wait_seconds,
            campaign_status = report.campaign_status.as_deref().unwrap_or("-"),
            update_status = report.update_status.as_deref().unwrap_or("-"),
            failure_reason = report.failure_reason.as_deref().unwrap_or("-"),
            "campaign status"
        )
    });
    if let Some(measured) = measure(&input, &report) {
        metrics.record(&measured);
    }
    Ok(Report::Campaign(Box::new(report)))
}
