//! [`Personalize`] with `aws-sdk-personalize`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_personalize::types as sdk;

use super::pace::Pace;
use super::sdk::{api_error, found, to_chrono};
use crate::domain::campaign::{Campaign, CampaignUpdate, Status};
use crate::domain::request::{CampaignConfig, Tag};
use crate::domain::training::{SolutionVersion, TrainingStatus};
use crate::ports::{
    ApiError, ApiErrorKind, CampaignChange, CampaignSummary, Catalog, NewCampaign, Personalize,
    SolutionMetrics, SolutionVersions, Tagging, VersionSummary,
};

#[derive(Debug, Clone)]
pub struct PersonalizeClient {
    client: aws_sdk_personalize::Client,
    /// A bound on the calls' rate (none: unbounded).
    pace: Option<Arc<Pace>>,
}

impl PersonalizeClient {
    pub fn new(client: aws_sdk_personalize::Client) -> Self {
        Self { client, pace: None }
    }

    pub fn from_conf(config: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_personalize::Client::new(config))
    }

    /// The same client, starting at most `calls_per_second` calls a second
    /// (the SDK's retries of a call are not counted: they back off).
    pub fn paced(self, calls_per_second: u32) -> Self {
        Self {
            pace: Some(Arc::new(Pace::per_second(calls_per_second))),
            ..self
        }
    }

    /// The SDK client, once this call's turn has come.
    async fn call(&self) -> &aws_sdk_personalize::Client {
        self.turn().await;
        &self.client
    }

    /// Waits for the next call's turn (each page of a list is a call).
    async fn turn(&self) {
        if let Some(pace) = &self.pace {
            pace.turn().await;
        }
    }
}

impl Personalize for PersonalizeClient {
    async fn describe_campaign(&self, campaign_arn: &str) -> Result<Option<Campaign>, ApiError> {
        let result = self
            .call()
            .await
            .describe_campaign()
            .campaign_arn(campaign_arn)
            .send()
            .await;
        Ok(found(result.map_err(api_error))?.and_then(|out| out.campaign.map(campaign_from_sdk)))
    }

    async fn create_campaign(&self, campaign: &NewCampaign) -> Result<String, ApiError> {
        let tags = campaign
            .tags
            .iter()
            .map(tag_to_sdk)
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .call()
            .await
            .create_campaign()
            .name(&campaign.name)
            .solution_version_arn(&campaign.solution_version_arn)
            .min_provisioned_tps(campaign.min_provisioned_tps)
            .set_campaign_config(campaign.config.as_ref().map(config_to_sdk))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        Ok(out.campaign_arn.unwrap_or_default())
    }

    async fn update_campaign(&self, change: &CampaignChange) -> Result<(), ApiError> {
        self.call()
            .await
            .update_campaign()
            .campaign_arn(&change.campaign_arn)
            .solution_version_arn(&change.solution_version_arn)
            .set_min_provisioned_tps(change.min_provisioned_tps)
            .set_campaign_config(change.config.as_ref().map(config_to_sdk))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}

impl SolutionVersions for PersonalizeClient {
    async fn describe_solution_version(
        &self,
        solution_version_arn: &str,
    ) -> Result<Option<SolutionVersion>, ApiError> {
        let result = self
            .call()
            .await
            .describe_solution_version()
            .solution_version_arn(solution_version_arn)
            .send()
            .await;
        let described = found(result.map_err(api_error))?.and_then(|out| out.solution_version);
        Ok(described.map(|v| SolutionVersion {
            arn: v.solution_version_arn.unwrap_or_default(),
            status: TrainingStatus::parse(v.status.as_deref().unwrap_or("")),
            failure_reason: v.failure_reason,
            created_at: v.creation_date_time.as_ref().and_then(to_chrono),
            updated_at: v.last_updated_date_time.as_ref().and_then(to_chrono),
            training_hours: v.training_hours,
            training_mode: v.training_mode.map(|m| m.as_str().to_string()),
        }))
    }
}

impl SolutionMetrics for PersonalizeClient {
    async fn get_solution_metrics(
        &self,
        solution_version_arn: &str,
    ) -> Result<BTreeMap<String, f64>, ApiError> {
        let out = self
            .call()
            .await
            .get_solution_metrics()
            .solution_version_arn(solution_version_arn)
            .send()
            .await
            .map_err(api_error)?;
        Ok(out.metrics.unwrap_or_default().into_iter().collect())
    }
}

impl Catalog for PersonalizeClient {
    async fn list_campaigns(
        &self,
        solution_arn: Option<&str>,
    ) -> Result<Vec<CampaignSummary>, ApiError> {
        let mut pages = self
            .client
            .list_campaigns()
            .set_solution_arn(solution_arn.map(str::to_string))
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = {
            self.turn().await;
            pages.next().await
        } {
            let page = page.map_err(api_error)?;
            out.extend(
                page.campaigns
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| CampaignSummary {
                        name: c.name.unwrap_or_default(),
                        arn: c.campaign_arn.unwrap_or_default(),
                    }),
            );
        }
        Ok(out)
    }

    async fn list_tags(&self, resource_arn: &str) -> Result<Vec<Tag>, ApiError> {
        let out = self
            .call()
            .await
            .list_tags_for_resource()
            .resource_arn(resource_arn)
            .send()
            .await
            .map_err(api_error)?;
        Ok(out
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| Tag {
                tag_key: t.tag_key,
                tag_value: t.tag_value,
            })
            .collect())
    }

    async fn list_solution_versions(
        &self,
        solution_arn: &str,
    ) -> Result<Vec<VersionSummary>, ApiError> {
        let mut pages = self
            .client
            .list_solution_versions()
            .solution_arn(solution_arn)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = {
            self.turn().await;
            pages.next().await
        } {
            let page = page.map_err(api_error)?;
            out.extend(
                page.solution_versions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| VersionSummary {
                        arn: v.solution_version_arn.unwrap_or_default(),
                        status: TrainingStatus::parse(v.status.as_deref().unwrap_or("")),
                        training_mode: v.training_mode.map(|m| m.as_str().to_string()),
                        created_at: v.creation_date_time.as_ref().and_then(to_chrono),
                        updated_at: v.last_updated_date_time.as_ref().and_then(to_chrono),
                    }),
            );
        }
        Ok(out)
    }
}

impl Tagging for PersonalizeClient {
    async fn tag_resource(&self, resource_arn: &str, tags: &[Tag]) -> Result<(), ApiError> {
        let tags = tags.iter().map(tag_to_sdk).collect::<Result<Vec<_>, _>>()?;
        self.call()
            .await
            .tag_resource()
            .resource_arn(resource_arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag_resource(&self, resource_arn: &str, keys: &[String]) -> Result<(), ApiError> {
        self.call()
            .await
            .untag_resource()
            .resource_arn(resource_arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}

fn tag_to_sdk(tag: &Tag) -> Result<sdk::Tag, ApiError> {
    sdk::Tag::builder()
        .tag_key(&tag.tag_key)
        .tag_value(&tag.tag_value)
        .build()
        .map_err(|e| ApiError::new(ApiErrorKind::InvalidInput, "InvalidTag", e.to_string()))
}

pub(crate) fn config_to_sdk(config: &CampaignConfig) -> sdk::CampaignConfig {
    sdk::CampaignConfig::builder()
        .set_item_exploration_config(
            config
                .item_exploration_config
                .as_ref()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        )
        .set_enable_metadata_with_recommendations(config.enable_metadata_with_recommendations)
        .set_sync_with_latest_solution_version(config.sync_with_latest_solution_version)
        .set_ranking_influence(config.ranking_influence.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (sdk::RankingInfluenceType::from(k.as_str()), *v))
                .collect::<HashMap<_, _>>()
        }))
        .build()
}

pub(crate) fn config_from_sdk(config: sdk::CampaignConfig) -> CampaignConfig {
    CampaignConfig {
        item_exploration_config: config
            .item_exploration_config
            .map(|m| m.into_iter().collect::<BTreeMap<_, _>>()),
        enable_metadata_with_recommendations: config.enable_metadata_with_recommendations,
        sync_with_latest_solution_version: config.sync_with_latest_solution_version,
        ranking_influence: config.ranking_influence.map(|m| {
            m.into_iter()
                .map(|(k, v)| (k.as_str().to_string(), v))
                .collect::<BTreeMap<_, _>>()
        }),
    }
}

pub(crate) fn campaign_from_sdk(c: sdk::Campaign) -> Campaign {
    Campaign {
        name: c.name.unwrap_or_default(),
        arn: c.campaign_arn.unwrap_or_default(),
        solution_version_arn: c.solution_version_arn,
        min_provisioned_tps: c.min_provisioned_tps,
        config: c.campaign_config.map(config_from_sdk),
        status: Status::parse(c.status.as_deref().unwrap_or("")),
        failure_reason: c.failure_reason,
        created_at: c.creation_date_time.as_ref().and_then(to_chrono),
        updated_at: c.last_updated_date_time.as_ref().and_then(to_chrono),
        latest_update: c.latest_campaign_update.map(|u| CampaignUpdate {
            solution_version_arn: u.solution_version_arn,
            min_provisioned_tps: u.min_provisioned_tps,
            config: u.campaign_config.map(config_from_sdk),
            status: Status::parse(u.status.as_deref().unwrap_or("")),
            failure_reason: u.failure_reason,
            created_at: u.creation_date_time.as_ref().and_then(to_chrono),
            updated_at: u.last_updated_date_time.as_ref().and_then(to_chrono),
        }),
    }
}
