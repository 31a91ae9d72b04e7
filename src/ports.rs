//! The small interfaces the domain needs from AWS. Adapters in
//! [`crate::adapters`] implement them with the SDK; tests implement them in
//! memory. Nothing here mentions an SDK type.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::alarm::AlarmState;
use crate::domain::campaign::Campaign;
use crate::domain::metrics::DeploymentMetrics;
use crate::domain::request::{CampaignConfig, Tag};
use crate::domain::training::{SolutionVersion, TrainingStatus};

/// How an AWS call failed, classified for the decisions the domain makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    NotFound,
    AlreadyExists,
    InUse,
    InvalidInput,
    /// A resource quota (e.g. active campaigns per dataset group).
    LimitExceeded,
    /// Request-rate throttling that outlasted the SDK's retries, including
    /// `LimitExceededException` that speaks of the request rate.
    Throttled,
    /// 5xx, time-outs and connection failures that outlasted the SDK's retries.
    Unavailable,
    /// Anything else (access denied, unexpected responses, ...).
    Other,
}

/// An AWS call that failed: its classification, the service's error code and
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ApiErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
        }
    }
}

impl ApiError {
    /// Whether a read that failed this way may succeed later: throttling
    /// (`LimitExceeded` included, since a read counts against no resource
    /// quota), 5xx, time-outs and connection failures.
    pub fn is_transient_for_a_read(&self) -> bool {
        matches!(
            self.kind,
            ApiErrorKind::Throttled | ApiErrorKind::LimitExceeded | ApiErrorKind::Unavailable
        )
    }

    /// An object that no retry will read: access denied (a bucket policy,
    /// the key policy of the KMS key that encrypts it), a KMS key disabled or
    /// gone, an archived object. Anything else may pass (credentials that
    /// expired, a role still being updated) and stays an error.
    pub fn denies_for_good(&self) -> bool {
        let code = self.code.as_str();
        matches!(
            code,
            "AccessDenied" | "AllAccessDisabled" | "InvalidObjectState"
        ) || (code.starts_with("KMS.") && !self.is_transient_for_a_read())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for ApiError {}

/// CreateCampaign arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    pub name: String,
    pub solution_version_arn: String,
    pub min_provisioned_tps: i32,
    pub config: Option<CampaignConfig>,
    pub tags: Vec<Tag>,
}

/// UpdateCampaign arguments. `None` members are left out of the call.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignChange {
    pub campaign_arn: String,
    pub solution_version_arn: String,
    pub min_provisioned_tps: Option<i32>,
    pub config: Option<CampaignConfig>,
}

/// The part of Amazon Personalize the product uses.
pub trait Personalize: Send + Sync {
    /// DescribeCampaign; `Ok(None)` when the campaign does not exist.
    fn describe_campaign(
        &self,
        campaign_arn: &str,
    ) -> impl Future<Output = Result<Option<Campaign>, ApiError>> + Send;

    /// CreateCampaign; returns the new campaign's ARN.
    fn create_campaign(
        &self,
        campaign: &NewCampaign,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;

    /// UpdateCampaign.
    fn update_campaign(
        &self,
        change: &CampaignChange,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// Reading solution versions' training.
pub trait SolutionVersions: Send + Sync {
    /// DescribeSolutionVersion; `Ok(None)` when the version does not exist.
    fn describe_solution_version(
        &self,
        solution_version_arn: &str,
    ) -> impl Future<Output = Result<Option<SolutionVersion>, ApiError>> + Send;
}

/// Reading a solution version's offline metrics.
pub trait SolutionMetrics: Send + Sync {
    /// GetSolutionMetrics: metric name to value.
    fn get_solution_metrics(
        &self,
        solution_version_arn: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, f64>, ApiError>> + Send;
}

/// A campaign as ListCampaigns names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSummary {
    pub name: String,
    pub arn: String,
}

/// A solution version as ListSolutionVersions summarizes it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionSummary {
    pub arn: String,
    pub status: TrainingStatus,
    /// `FULL`, `UPDATE` or `AUTOTRAIN`.
    pub training_mode: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Looking through the account's campaigns and solution versions, to follow
/// a solution's new versions. Every list is read whole (all its pages).
pub trait Catalog: Send + Sync {
    /// ListCampaigns: of one solution, or of the account.
    fn list_campaigns(
        &self,
        solution_arn: Option<&str>,
    ) -> impl Future<Output = Result<Vec<CampaignSummary>, ApiError>> + Send;

    /// ListTagsForResource.
    fn list_tags(
        &self,
        resource_arn: &str,
    ) -> impl Future<Output = Result<Vec<Tag>, ApiError>> + Send;

    /// ListSolutionVersions of a solution.
    fn list_solution_versions(
        &self,
        solution_arn: &str,
    ) -> impl Future<Output = Result<Vec<VersionSummary>, ApiError>> + Send;
}

/// Writing a resource's tags (a campaign's record).
pub trait Tagging: Send + Sync {
    /// TagResource: adds these tags, replacing the values of keys it has.
    fn tag_resource(
        &self,
        resource_arn: &str,
        tags: &[Tag],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// UntagResource.
    fn untag_resource(
        &self,
        resource_arn: &str,
        keys: &[String],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// Recording a finished deployment's measurements.
pub trait MetricsSink: Send + Sync {
    fn record(&self, metrics: &DeploymentMetrics);
}

/// Time: what it is now, and waiting (a status poll that holds around a
/// deployment's expected end).
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn sleep(&self, duration: std::time::Duration) -> impl Future<Output = ()> + Send;
}

/// The outcome of StartExecution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new execution (or the same running one, for identical input).
    New { execution_arn: String },
    /// `ExecutionAlreadyExists`: this request was handled already.
    AlreadyExists,
}

/// Starting executions of the deployment state machine.
pub trait Workflow: Send + Sync {
    fn start_execution(
        &self,
        name: &str,
        input: &str,
    ) -> impl Future<Output = Result<Started, ApiError>> + Send;

    /// DescribeExecution of the execution called `name`: the error it failed
    /// with (none while it runs, or when it ended otherwise or does not
    /// exist).
    fn failure_of(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, ApiError>> + Send;
}

/// The result of reading a manifest object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Body(Vec<u8>),
    NotFound,
    /// Larger than the limit: its size in bytes when the object's length was
    /// announced (the body was not read), none when reading passed the limit.
    TooLarge(Option<u64>),
}

/// Reading manifest objects.
pub trait ObjectStore: Send + Sync {
    /// Reads an object (the given version, if any), refusing anything larger
    /// than `max_bytes`.
    fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Fetched, ApiError>> + Send;
}

/// CloudWatch alarms.
pub trait Alarms: Send + Sync {
    /// The alarms of these names, metric and composite; a name no alarm has
    /// is left out of the answer.
    fn describe_alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmState>, ApiError>> + Send;
}
