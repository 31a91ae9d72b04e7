//! What Personalize reports about a campaign (DescribeCampaign), without SDK
//! types, and how it compares with a deployment request.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::request::{CampaignConfig, DeploymentRequest, Served};

/// A create or update of the campaign, other than the request's, that
/// decides what the campaign serves: the solution version it deploys and how
/// it differs from the request (e.g. `minProvisionedTPS 3 -> 2`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Newer {
    pub solution_version_arn: String,
    pub differences: Vec<String>,
}

/// A campaign or campaign-update status (API reference §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    CreatePending,
    CreateInProgress,
    Active,
    CreateFailed,
    DeletePending,
    DeleteInProgress,
    Other(String),
}

impl Status {
    pub fn parse(s: &str) -> Status {
        match s {
            "CREATE PENDING" => Status::CreatePending,
            "CREATE IN_PROGRESS" => Status::CreateInProgress,
            "ACTIVE" => Status::Active,
            "CREATE FAILED" => Status::CreateFailed,
            "DELETE PENDING" => Status::DeletePending,
            "DELETE IN_PROGRESS" => Status::DeleteInProgress,
            other => Status::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Status::CreatePending => "CREATE PENDING",
            Status::CreateInProgress => "CREATE IN_PROGRESS",
            Status::Active => "ACTIVE",
            Status::CreateFailed => "CREATE FAILED",
            Status::DeletePending => "DELETE PENDING",
            Status::DeleteInProgress => "DELETE IN_PROGRESS",
            Status::Other(s) => s,
        }
    }

    pub fn is_creating(&self) -> bool {
        matches!(self, Status::CreatePending | Status::CreateInProgress)
    }

    pub fn is_deleting(&self) -> bool {
        matches!(self, Status::DeletePending | Status::DeleteInProgress)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Campaign` of DescribeCampaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub name: String,
    pub arn: String,
    pub solution_version_arn: Option<String>,
    pub min_provisioned_tps: Option<i32>,
    pub config: Option<CampaignConfig>,
    pub status: Status,
    pub failure_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Present only once the campaign has had an UpdateCampaign.
    pub latest_update: Option<CampaignUpdate>,
}

/// `CampaignUpdateSummary` (`latestCampaignUpdate`).
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignUpdate {
    pub solution_version_arn: Option<String>,
    pub min_provisioned_tps: Option<i32>,
    pub config: Option<CampaignConfig>,
    pub status: Status,
    pub failure_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Campaign {
    /// Whether a create or an update of this campaign is under way.
    pub fn busy(&self) -> Option<String> {
        if self.status.is_creating() {
            return Some(format!("campaign status is {}", self.status));
        }
        match &self.latest_update {
            Some(u) if u.status.is_creating() => {
                Some(format!("an update is in progress ({})", u.status))
            }
            _ => None,
        }
    }
}

impl Campaign {
    /// What the campaign serves, by its top-level fields (during an update:
    /// the previous version, which it keeps serving until the update is
    /// ACTIVE); none when it reports no version. A TPS it leaves out is the
    /// API's default, 1.
    pub fn served(&self) -> Option<Served> {
        Some(Served {
            solution_version_arn: self.solution_version_arn.clone()?,
            min_provisioned_tps: self.min_provisioned_tps.unwrap_or(1),
            campaign_config: self.config.clone(),
        })
    }

    /// The campaign's latest create or update, when it heads elsewhere than
    /// the request and is newer than `since`: still in progress (when
    /// `in_progress_counts`), or created after `since`. Only the members the
    /// record reports count: a member the service leaves out is not a
    /// difference.
    pub fn newer_than(
        &self,
        request: &DeploymentRequest,
        since: DateTime<Utc>,
        in_progress_counts: bool,
    ) -> Option<Newer> {
        let (in_progress, created_at, target, differences) = match &self.latest_update {
            Some(update) => (
                update.status.is_creating(),
                update.created_at,
                update.solution_version_arn.as_deref(),
                update.reported_differences(request),
            ),
            None => (
                self.status.is_creating(),
                self.created_at,
                self.solution_version_arn.as_deref(),
                self.reported_differences(request),
            ),
        };
        let newer = (in_progress && in_progress_counts) || created_at.is_some_and(|at| at > since);
        (newer && !differences.is_empty()).then(|| Newer {
            solution_version_arn: target.unwrap_or("(not reported)").to_string(),
            differences,
        })
    }
}

/// A campaign (what it serves) or an update record (what it deploys),
/// compared with a request.
pub trait Deploying {
    fn deploys(&self) -> Deploys<'_>;

    /// How it differs from what the request asks for; empty when it is
    /// exactly that.
    fn differences(&self, request: &DeploymentRequest) -> Vec<String> {
        self.deploys().differences(request, Unreported::AsDefault)
    }

    /// [`Self::differences`] in the members the service reports only: what
    /// certainly heads elsewhere.
    fn reported_differences(&self, request: &DeploymentRequest) -> Vec<String> {
        self.deploys().differences(request, Unreported::Skipped)
    }
}

impl Deploying for Campaign {
    fn deploys(&self) -> Deploys<'_> {
        Deploys {
            version: self.solution_version_arn.as_deref(),
            tps: self.min_provisioned_tps,
            config: self.config.as_ref(),
        }
    }
}

impl Deploying for CampaignUpdate {
    fn deploys(&self) -> Deploys<'_> {
        Deploys {
            version: self.solution_version_arn.as_deref(),
            tps: self.min_provisioned_tps,
            config: self.config.as_ref(),
        }
    }
}

impl Deploying for Served {
    fn deploys(&self) -> Deploys<'_> {
        Deploys {
            version: Some(self.solution_version_arn.as_str()),
            tps: Some(self.min_provisioned_tps),
            config: self.campaign_config.as_ref(),
        }
    }
}

impl Served {
    /// Whether the request changes what this serves beyond its TPS: the
    /// solution version, or a member of the configuration the request gives.
    pub fn changes_what_is_served(&self, request: &DeploymentRequest) -> bool {
        if !serves_version(request, Some(&self.solution_version_arn)) {
            return true;
        }
        let Some(desired) = request.campaign_config() else {
            return false;
        };
        let mut out = Vec::new();
        let current = self.campaign_config.clone().unwrap_or_default();
        config_differences(desired, &current, Unreported::AsDefault, &mut out);
        !out.is_empty()
    }
}

/// What a campaign serves, or an update record deploys, as described.
pub struct Deploys<'a> {
    version: Option<&'a str>,
    tps: Option<i32>,
    config: Option<&'a CampaignConfig>,
}

impl Deploys<'_> {
    fn differences(&self, request: &DeploymentRequest, unreported: Unreported) -> Vec<String> {
        differences(request, self.version, self.tps, self.config, unreported)
    }
}

/// What a member the service does not report counts as. Every member of a
/// described campaign or update record is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unreported {
    /// Its default (TPS 1, no configuration): to decide whether a campaign
    /// serves the request.
    AsDefault,
    /// Not compared: to decide whether a record certainly heads elsewhere.
    Skipped,
}

impl Unreported {
    /// Whether a member is compared, given whether the service reported it.
    fn compares(self, reported: bool) -> bool {
        reported || self == Unreported::AsDefault
    }
}

/// How a solution version, TPS and configuration differ from a request. Fields
/// the request leaves out are not compared: they mean "keep what the campaign
/// has".
fn differences(
    request: &DeploymentRequest,
    version: Option<&str>,
    tps: Option<i32>,
    config: Option<&CampaignConfig>,
    unreported: Unreported,
) -> Vec<String> {
    let compared = |reported| unreported.compares(reported);
    let mut out = Vec::new();
    if compared(version.is_some()) && !serves_version(request, version) {
        out.push(format!(
            "solutionVersionArn {} -> {}",
            version.unwrap_or("(none)"),
            request.solution_version_arn()
        ));
    }
    if let Some(want) = request.min_provisioned_tps()
        && compared(tps.is_some())
    {
        let have = tps.unwrap_or(1);
        if have != want {
            out.push(format!("minProvisionedTPS {have} -> {want}"));
        }
    }
    if let Some(desired) = request.campaign_config()
        && compared(config.is_some())
    {
        let current = config.cloned().unwrap_or_default();
        config_differences(desired, &current, unreported, &mut out);
    }
    out
}

/// Whether `serving` satisfies the request's solution version: the same ARN, or,
/// for `<solution>/$LATEST`, any version of that solution (Personalize may
/// report the resolved version).
fn serves_version(request: &DeploymentRequest, serving: Option<&str>) -> bool {
    let Some(serving) = serving else {
        return false;
    };
    let version = request.solution_version();
    serving == version.as_str()
        || (version.is_latest() && version.is_version_of_same_solution(serving))
}

fn config_differences(
    desired: &CampaignConfig,
    current: &CampaignConfig,
    unreported: Unreported,
    out: &mut Vec<String>,
) {
    let compared = |reported| unreported.compares(reported);
    if let Some(want) = &desired.item_exploration_config {
        map_differences(
            "itemExplorationConfig",
            want,
            current.item_exploration_config.as_ref(),
            |want, have| same_number_or_text(want, have),
            unreported,
            out,
        );
    }
    if let Some(want) = desired.enable_metadata_with_recommendations
        && compared(current.enable_metadata_with_recommendations.is_some())
    {
        let have = current
            .enable_metadata_with_recommendations
            .unwrap_or(false);
        if have != want {
            out.push(format!(
                "enableMetadataWithRecommendations {have} -> {want}"
            ));
        }
    }
    if let Some(want) = desired.sync_with_latest_solution_version
        && compared(current.sync_with_latest_solution_version.is_some())
    {
        let have = current.sync_with_latest_solution_version.unwrap_or(false);
        if have != want {
            out.push(format!("syncWithLatestSolutionVersion {have} -> {want}"));
        }
    }
    if let Some(want) = &desired.ranking_influence {
        map_differences(
            "rankingInfluence",
            want,
            current.ranking_influence.as_ref(),
            |want, have| want == have,
            unreported,
            out,
        );
    }
}

/// The members of a map the request gives that the campaign does not have
/// with an equal value. Members the request leaves out are not compared: the
/// service may fill in defaults of its own.
fn map_differences<V: PartialEq + fmt::Debug>(
    name: &str,
    want: &BTreeMap<String, V>,
    have: Option<&BTreeMap<String, V>>,
    equal: impl Fn(&V, &V) -> bool,
    unreported: Unreported,
    out: &mut Vec<String>,
) {
    for (key, want) in want {
        match have.and_then(|have| have.get(key)) {
            Some(have) if equal(want, have) => {}
            Some(have) => out.push(format!("{name}.{key} {have:?} -> {want:?}")),
            None if !unreported.compares(false) => {}
            None => out.push(format!("{name}.{key} (none) -> {want:?}")),
        }
    }
}

/// Whether two configuration values are the same: equal text, or numbers
/// that are equal as numbers (the service may write `"0.30"` as `"0.3"`).
pub fn same_number_or_text(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.is_finite() && x == y,
        _ => false,
    }
}

/// The full configuration to send with UpdateCampaign: what the campaign has,
/// with every member the request gives replacing the current one (for the
/// two maps, every key it gives; the others keep their values). Sending the
/// full configuration avoids depending on the service's undocumented
/// merge-or-replace behaviour for a partial one. `None` when the request gives
/// no configuration (the campaign keeps its own).
pub fn merged_config(
    current: Option<&CampaignConfig>,
    desired: Option<&CampaignConfig>,
) -> Option<CampaignConfig> {
    let desired = desired?;
    let mut merged = current.cloned().unwrap_or_default();
    if let Some(want) = &desired.item_exploration_config {
        merged
            .item_exploration_config
            .get_or_insert_with(BTreeMap::new)
            .extend(want.clone());
    }
    if desired.enable_metadata_with_recommendations.is_some() {
        merged.enable_metadata_with_recommendations = desired.enable_metadata_with_recommendations;
    }
    if desired.sync_with_latest_solution_version.is_some() {
        merged.sync_with_latest_solution_version = desired.sync_with_latest_solution_version;
    }
    if let Some(want) = &desired.ranking_influence {
        merged
            .ranking_influence
            .get_or_insert_with(BTreeMap::new)
            .extend(want.clone());
    }
    Some(merged)
}
