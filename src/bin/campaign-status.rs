//! campaign-status Lambda: the tasks that look and decide (CheckTraining,
//! PollCampaign, WatchAlarms and DescribeOutcome).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use personalize_deployer::adapters::{
    CloudWatchClient, EmfStdout, PersonalizeClient, SystemClock, load_aws_config,
};
use personalize_deployer::config::{ProcessEnv, StatusConfig};
use personalize_deployer::handlers::{guarded, status};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = StatusConfig::from_env(&ProcessEnv)?;
    let aws = load_aws_config().await;
    let personalize = PersonalizeClient::from_conf(&aws);
    let alarms = CloudWatchClient::from_conf(&aws);
    let metrics = EmfStdout {
        namespace: config.metrics_namespace.clone(),
    };
    let (personalize, alarms, metrics, config) = (&personalize, &alarms, &metrics, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        guarded(status::handle(
            personalize,
            alarms,
            metrics,
            &SystemClock,
            config,
            event.payload,
            event.context.deadline,
        ))
        .await
    }))
    .await
}
