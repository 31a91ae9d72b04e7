//! campaign-status: the CampaignStatus task (the describe handler).

use chrono::Utc;
use serde_json::Value;
use tracing::Instrument;

use super::task::{TaskError, task_input};
use crate::config::StatusConfig;
use crate::domain::status::poll;
use crate::domain::workflow::StatusReport;
use crate::ports::Personalize;

pub async fn handle<P: Personalize>(
    personalize: &P,
    config: &StatusConfig,
    event: Value,
) -> Result<StatusReport, TaskError> {
    let (input, deployment) = task_input(event)?;
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
    Ok(report)
}
