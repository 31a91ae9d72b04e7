//! campaign-status Lambda: the CampaignStatus task (describe and decide).

use chrono::{DateTime, Utc};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use personalize_deployer::adapters::{EmfStdout, PersonalizeClient, SystemClock, load_aws_config};
use personalize_deployer::config::{ProcessEnv, StatusConfig};
use personalize_deployer::handlers::status;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = StatusConfig::from_env(&ProcessEnv)?;
    let personalize = PersonalizeClient::from_conf(&load_aws_config().await);
    let metrics = EmfStdout {
        namespace: config.metrics_namespace.clone(),
    };
    let (personalize, metrics, config) = (&personalize, &metrics, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = DateTime::<Utc>::from_timestamp_millis(event.context.deadline as i64);
        let clock = SystemClock;
        status::handle(
            personalize,
            metrics,
            &clock,
            config,
            event.payload,
            deadline,
        )
        .await
    }))
    .await
}
