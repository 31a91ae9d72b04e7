//! deploy-campaign: the DeployCampaign task of the state machine.

use chrono::Utc;
use serde_json::Value;

use crate::config::DeployConfig;
use crate::domain::deploy::deploy;
use crate::domain::workflow::{Deployment, TaskInput};
use crate::error::Error;
use crate::ports::Personalize;

pub async fn handle<P: Personalize>(
    personalize: &P,
    config: &DeployConfig,
    event: Value,
) -> Result<Deployment, Error> {
    let input = TaskInput::from_event(event)?;
    let request = input.state.request.as_ref().ok_or_else(|| {
        Error::InvalidTaskInput("state.request is missing (was the request rejected?)".into())
    })?;
    let deployment = deploy(
        personalize,
        request,
        config.default_min_provisioned_tps,
        Utc::now,
    )
    .await?;
    tracing::info!(
        campaign = %deployment.campaign_arn,
        operation = %deployment.operation,
        target = %deployment.target_solution_version_arn,
        previous = deployment.previous_solution_version_arn.as_deref().unwrap_or("-"),
        changes = ?deployment.changes,
        "deployment started"
    );
    Ok(deployment)
}
