//! deploy-campaign Lambda: the DeployCampaign task (create, update or nothing).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use personalize_deployer::adapters::{PersonalizeClient, SystemClock, load_aws_config};
use personalize_deployer::config::{DeployConfig, ProcessEnv};
use personalize_deployer::handlers::{deploy, guarded};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = DeployConfig::from_env(&ProcessEnv)?;
    let personalize = PersonalizeClient::from_conf(&load_aws_config().await);
    let (personalize, config) = (&personalize, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        guarded(deploy::handle(
            personalize,
            &SystemClock,
            config,
            event.payload,
        ))
        .await
    }))
    .await
}
