//! deploy-trigger Lambda: S3 manifests and EventBridge events → executions.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use personalize_deployer::adapters::{
    CloudWatchClient, PersonalizeClient, S3Client, StepFunctionsClient, load_aws_config,
};
use personalize_deployer::config::{ProcessEnv, TriggerConfig};
use personalize_deployer::domain::intake::Services;
use personalize_deployer::handlers::{guarded, trigger};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = TriggerConfig::from_env(&ProcessEnv)?;
    let aws = load_aws_config().await;
    let store = S3Client::from_conf(&aws, config.s3_force_path_style);
    let workflow = StepFunctionsClient::new(
        aws_sdk_sfn::Client::new(&aws),
        config.state_machine_arn.clone(),
    );
    let personalize = PersonalizeClient::from_conf(&aws).paced(config.personalize_calls_per_second);
    let alarms = CloudWatchClient::from_conf(&aws);
    let services = Services {
        store: &store,
        alarms: &alarms,
        workflow: &workflow,
    };
    let (services, personalize, scope) = (&services, &personalize, &config.scope);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        guarded(trigger::handle(
            services,
            personalize,
            scope,
            &event.payload,
        ))
        .await
    }))
    .await
}
