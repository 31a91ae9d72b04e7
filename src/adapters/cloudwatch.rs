//! [`Alarms`] with `aws-sdk-cloudwatch`.

use aws_sdk_cloudwatch::types::{AlarmType, StateValue};

use super::sdk::{api_error, to_chrono};
use crate::domain::alarm::{AlarmState, AlarmValue};
use crate::ports::{Alarms, ApiError};

#[derive(Debug, Clone)]
pub struct CloudWatchClient {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchClient {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        Self { client }
    }

    pub fn from_conf(config: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_cloudwatch::Client::new(config))
    }
}

/// One alarm, metric or composite: its name, state, reason, and when its
/// state last changed.
fn alarm(
    name: Option<&str>,
    value: Option<&StateValue>,
    reason: Option<&str>,
    transitioned: Option<&aws_smithy_types::DateTime>,
    updated: Option<&aws_smithy_types::DateTime>,
) -> Option<AlarmState> {
    Some(AlarmState {
        name: name?.to_string(),
        value: AlarmValue::parse(value?.as_str())?,
        reason: reason.map(str::to_string),
        changed_at: transitioned.or(updated).and_then(to_chrono),
    })
}

impl Alarms for CloudWatchClient {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, ApiError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            // Without the types, only metric alarms are described.
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api_error)?;
            found.extend(page.metric_alarms().iter().filter_map(|a| {
                alarm(
                    a.alarm_name(),
                    a.state_value(),
                    a.state_reason(),
                    a.state_transitioned_timestamp(),
                    a.state_updated_timestamp(),
                )
            }));
            found.extend(page.composite_alarms().iter().filter_map(|a| {
                alarm(
                    a.alarm_name(),
                    a.state_value(),
                    a.state_reason(),
                    a.state_transitioned_timestamp(),
                    a.state_updated_timestamp(),
                )
            }));
        }
        Ok(found)
    }
}
