//! [`Workflow`] with `aws-sdk-sfn`.

use super::sdk::{api_error, found};
use crate::domain::arn::execution_arn;
use crate::ports::{ApiError, ApiErrorKind, Started, Workflow};

#[derive(Debug, Clone)]
pub struct StepFunctionsClient {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

impl StepFunctionsClient {
    pub fn new(client: aws_sdk_sfn::Client, state_machine_arn: impl Into<String>) -> Self {
        Self {
            client,
            state_machine_arn: state_machine_arn.into(),
        }
    }
}

impl Workflow for StepFunctionsClient {
    async fn start_execution(&self, name: &str, input: &str) -> Result<Started, ApiError> {
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Started::New {
                execution_arn: out.execution_arn,
            }),
            Err(e) => {
                let e = api_error(e);
                if e.kind == ApiErrorKind::AlreadyExists {
                    Ok(Started::AlreadyExists)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn failure_of(&self, name: &str) -> Result<Option<String>, ApiError> {
        let result = self
            .client
            .describe_execution()
            .execution_arn(execution_arn(&self.state_machine_arn, name))
            .send()
            .await;
        let described = found(result.map_err(api_error))?;
        Ok(described
            .filter(|d| *d.status() == aws_sdk_sfn::types::ExecutionStatus::Failed)
            .and_then(|d| d.error))
    }
}
