//! The emulator's state: solutions, solution versions and campaigns, their
//! tags, and the time-driven lifecycles that move them through their statuses.
//!
//! Time is evaluated lazily: every request first calls [`State::advance`],
//! which applies every transition whose time has come, in order, each at the
//! instant it was due (so timestamps are right however late the next request
//! arrives).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::faults::FailRule;

pub const CREATE_PENDING: &str = "CREATE PENDING";
pub const CREATE_IN_PROGRESS: &str = "CREATE IN_PROGRESS";
pub const ACTIVE: &str = "ACTIVE";
pub const CREATE_FAILED: &str = "CREATE FAILED";
pub const DELETE_PENDING: &str = "DELETE PENDING";
pub const DELETE_IN_PROGRESS: &str = "DELETE IN_PROGRESS";
pub const CREATE_STOPPING: &str = "CREATE STOPPING";
pub const CREATE_STOPPED: &str = "CREATE STOPPED";

/// How long each lifecycle phase lasts, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timings {
    /// CREATE PENDING of a campaign or an update, and DELETE PENDING.
    pub campaign_pending: f64,
    /// CREATE IN_PROGRESS of a new campaign.
    pub campaign_create: f64,
    /// CREATE IN_PROGRESS of a campaign update.
    pub campaign_update: f64,
    /// DELETE IN_PROGRESS.
    pub campaign_delete: f64,
    /// CREATE PENDING of a solution.
    pub solution_create: f64,
    /// CREATE PENDING of a solution version.
    pub solution_version_pending: f64,
    /// CREATE IN_PROGRESS (training) of a solution version.
    pub solution_version_training: f64,
}

impl Default for Timings {
    /// Durations of the same order as the real service's.
    fn default() -> Self {
        Timings {
            campaign_pending: 5.0,
            campaign_create: 600.0,
            campaign_update: 300.0,
            campaign_delete: 60.0,
            solution_create: 5.0,
            solution_version_pending: 5.0,
            solution_version_training: 3600.0,
        }
    }
}

/// `CampaignConfig`, kept as given so that it is echoed exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_exploration_config: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_metadata_with_recommendations: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_with_latest_solution_version: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking_influence: Option<BTreeMap<String, f64>>,
}

impl CampaignConfig {
    pub fn sync(config: Option<&CampaignConfig>) -> bool {
        config
            .and_then(|c| c.sync_with_latest_solution_version)
            .unwrap_or(false)
    }

    /// The configuration as the service may report it back (the API
    /// reference leaves it open; `--normalize-config`): the exploration
    /// defaults filled in and numbers in their shortest form (`"0.30"` as
    /// `"0.3"`, `"30.0"` as `"30"`).
    pub fn normalized(mut self) -> CampaignConfig {
        let exploration = self
            .item_exploration_config
            .get_or_insert_with(BTreeMap::new);
        for (key, default) in EXPLORATION_DEFAULTS {
            exploration
                .entry(key.to_string())
                .or_insert_with(|| default.to_string());
        }
        for value in exploration.values_mut() {
            if let Ok(number) = value.trim().parse::<f64>()
                && number.is_finite()
            {
                *value = number.to_string();
            }
        }
        self
    }
}

/// The documented defaults of `itemExplorationConfig`.
pub const EXPLORATION_DEFAULTS: [(&str, &str); 2] = [
    ("explorationWeight", "0.3"),
    ("explorationItemAgeCutOff", "30"),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub name: String,
    pub arn: String,
    pub dataset_group_arn: String,
    pub recipe_arn: Option<String>,
    pub event_type: Option<String>,
    pub perform_hpo: bool,
    pub perform_auto_ml: bool,
    pub perform_auto_training: bool,
    pub status: String,
    pub created: f64,
    pub updated: f64,
    pub next: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SolutionVersion {
    pub arn: String,
    pub name: Option<String>,
    pub solution_arn: String,
    pub training_mode: String,
    pub training_type: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub created: f64,
    pub updated: f64,
    pub next: Option<f64>,
    /// Why training will fail, decided when it starts.
    pub fail_with: Option<String>,
    /// What GetSolutionMetrics answers once it is ACTIVE; when none were
    /// given, [`default_metrics`] of its id.
    pub metrics: Option<BTreeMap<String, f64>>,
}

/// The metrics GetSolutionMetrics reports for User-Personalization and
/// similar recipes (API reference 10.1).
pub const METRIC_NAMES: [&str; 8] = [
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
];

/// Plausible metrics for a version that was given none, the same for the
/// same version id every time: coverage 0.3-0.8, MRR 0.05-0.25, NDCG growing
/// with k from about 0.1 to 0.45, precision falling with k from about 0.1 to
/// 0.02. Rounded to four decimals, as the console shows them.
pub fn default_metrics(version_arn: &str) -> BTreeMap<String, f64> {
    let id = version_arn.rsplit('/').next().unwrap_or(version_arn);
    // FNV-1a of the id seeds the generator.
    let seed = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = crate::faults::Rng::new(seed);
    let mut draw = |low: f64, high: f64| {
        let v = low + (high - low) * rng.unit();
        (v * 10_000.0).round() / 10_000.0
    };
    let ndcg_5 = draw(0.10, 0.30);
    let precision_5 = draw(0.05, 0.10);
    let values = [
        draw(0.30, 0.80),
        draw(0.05, 0.25),
        ndcg_5,
        ((ndcg_5 + draw(0.01, 0.06)) * 10_000.0).round() / 10_000.0,
        ((ndcg_5 + draw(0.06, 0.15)) * 10_000.0).round() / 10_000.0,
        precision_5,
        ((precision_5 * draw(0.6, 0.8)) * 10_000.0).round() / 10_000.0,
        ((precision_5 * draw(0.3, 0.5)) * 10_000.0).round() / 10_000.0,
    ];
    METRIC_NAMES
        .iter()
        .zip(values)
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// A campaign update record (`latestCampaignUpdate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub solution_version_arn: String,
    pub min_provisioned_tps: i64,
    pub config: Option<CampaignConfig>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub created: f64,
    pub updated: f64,
    pub next: Option<f64>,
    pub fail_with: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub name: String,
    pub arn: String,
    /// The concrete solution version served (a `$LATEST` request resolved).
    pub solution_version_arn: String,
    pub min_provisioned_tps: i64,
    pub config: Option<CampaignConfig>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub created: f64,
    pub updated: f64,
    pub next: Option<f64>,
    pub fail_with: Option<String>,
    pub latest_update: Option<Update>,
}

impl Campaign {
    pub fn update_in_progress(&self) -> bool {
        self.latest_update
            .as_ref()
            .is_some_and(|u| u.status == CREATE_PENDING || u.status == CREATE_IN_PROGRESS)
    }
}

#[derive(Debug, Default)]
pub struct State {
    pub solutions: BTreeMap<String, Solution>,
    pub versions: BTreeMap<String, SolutionVersion>,
    pub campaigns: BTreeMap<String, Campaign>,
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    pub deploy_failures: Vec<FailRule>,
    pub training_failures: Vec<FailRule>,
}

fn failure_for(rules: &[FailRule], version_arn: &str) -> Option<String> {
    rules
        .iter()
        .rev()
        .find(|r| r.matches(version_arn))
        .map(|r| r.reason.clone())
}

impl State {
    pub fn deploy_failure(&self, version_arn: &str) -> Option<String> {
        failure_for(&self.deploy_failures, version_arn)
    }

    pub fn training_failure(&self, version_arn: &str) -> Option<String> {
        failure_for(&self.training_failures, version_arn)
    }

    /// The newest ACTIVE version of a solution.
    pub fn latest_active_version(&self, solution_arn: &str) -> Option<&SolutionVersion> {
        self.versions
            .values()
            .filter(|v| v.solution_arn == solution_arn && v.status == ACTIVE)
            .max_by(|a, b| a.created.total_cmp(&b.created).then(a.arn.cmp(&b.arn)))
    }

    /// The newest version of a solution, whatever its status.
    pub fn latest_version(&self, solution_arn: &str) -> Option<&SolutionVersion> {
        self.versions
            .values()
            .filter(|v| v.solution_arn == solution_arn)
            .max_by(|a, b| a.created.total_cmp(&b.created).then(a.arn.cmp(&b.arn)))
    }

    pub fn dataset_group_of_version(&self, version_arn: &str) -> Option<&str> {
        let version = self.versions.get(version_arn)?;
        self.solutions
            .get(&version.solution_arn)
            .map(|s| s.dataset_group_arn.as_str())
    }

    /// Applies every transition due at or before `now`.
    pub fn advance(&mut self, now: f64, t: &Timings) {
        for s in self.solutions.values_mut() {
            while let Some(at) = s.next.filter(|at| *at <= now) {
                s.updated = at;
                s.next = None;
                if s.status == CREATE_PENDING {
                    s.status = ACTIVE.into();
                }
            }
        }
        let mut newly_active: Vec<(String, f64)> = Vec::new();
        for v in self.versions.values_mut() {
            while let Some(at) = v.next.filter(|at| *at <= now) {
                v.updated = at;
                v.next = None;
                if v.status == CREATE_STOPPING {
                    v.status = CREATE_STOPPED.into();
                } else if create_step(
                    &mut v.status,
                    &mut v.failure_reason,
                    &mut v.fail_with,
                    &mut v.next,
                    at,
                    t.solution_version_training,
                ) {
                    newly_active.push((v.solution_arn.clone(), at));
                }
            }
        }
        for (solution_arn, at) in newly_active {
            self.sync_campaigns(&solution_arn, at, t);
        }
        let mut gone = Vec::new();
        for c in self.campaigns.values_mut() {
            advance_campaign(c, now, t);
            if c.status == DELETE_IN_PROGRESS && c.next.is_none() {
                gone.push(c.arn.clone());
            }
        }
        for arn in gone {
            self.campaigns.remove(&arn);
            self.tags.remove(&arn);
        }
    }

    /// Campaigns with `syncWithLatestSolutionVersion` redeploy a solution's
    /// newest ACTIVE version, as an update.
    fn sync_campaigns(&mut self, solution_arn: &str, at: f64, t: &Timings) {
        let Some(latest) = self
            .latest_active_version(solution_arn)
            .map(|v| v.arn.clone())
        else {
            return;
        };
        let fail_with = self.deploy_failure(&latest);
        for c in self.campaigns.values_mut() {
            let of_solution = self
                .versions
                .get(&c.solution_version_arn)
                .is_some_and(|v| v.solution_arn == solution_arn);
            if of_solution
                && CampaignConfig::sync(c.config.as_ref())
                && c.status == ACTIVE
                && !c.update_in_progress()
                && c.solution_version_arn != latest
            {
                c.latest_update = Some(Update {
                    solution_version_arn: latest.clone(),
                    min_provisioned_tps: c.min_provisioned_tps,
                    config: c.config.clone(),
                    status: CREATE_PENDING.into(),
                    failure_reason: None,
                    created: at,
                    updated: at,
                    next: Some(at + t.campaign_pending),
                    fail_with: fail_with.clone(),
                });
            }
        }
    }
}

/// One step, due at `at`, of the create path that campaigns, campaign updates
/// and solution versions share: CREATE PENDING → CREATE IN_PROGRESS (lasting
/// `in_progress` seconds) → ACTIVE, or CREATE FAILED when a failure was
/// decided. Returns whether it just became ACTIVE.
fn create_step(
    status: &mut String,
    failure_reason: &mut Option<String>,
    fail_with: &mut Option<String>,
    next: &mut Option<f64>,
    at: f64,
    in_progress: f64,
) -> bool {
    match status.as_str() {
        CREATE_PENDING => {
            *status = CREATE_IN_PROGRESS.into();
            *next = Some(at + in_progress);
            false
        }
        CREATE_IN_PROGRESS => match fail_with.take() {
            Some(reason) => {
                *status = CREATE_FAILED.into();
                *failure_reason = Some(reason);
                false
            }
            None => {
                *status = ACTIVE.into();
                true
            }
        },
        _ => false,
    }
}

/// Marks the campaign as deleted (DELETE IN_PROGRESS with no next step); the
/// caller removes it.
fn advance_campaign(c: &mut Campaign, now: f64, t: &Timings) {
    while let Some(at) = c.next.filter(|at| *at <= now) {
        c.updated = at;
        c.next = None;
        match c.status.as_str() {
            DELETE_PENDING => {
                c.status = DELETE_IN_PROGRESS.into();
                c.next = Some(at + t.campaign_delete);
            }
            DELETE_IN_PROGRESS => return,
            _ => {
                create_step(
                    &mut c.status,
                    &mut c.failure_reason,
                    &mut c.fail_with,
                    &mut c.next,
                    at,
                    t.campaign_create,
                );
            }
        }
        // An update record created with the campaign (update of a CREATE
        // FAILED campaign) follows the campaign's own states.
        if let Some(u) = c.latest_update.as_mut()
            && u.next.is_none()
            && (u.status == CREATE_PENDING || u.status == CREATE_IN_PROGRESS)
        {
            u.status = c.status.clone();
            u.failure_reason = c.failure_reason.clone();
            u.updated = at;
        }
    }
    let Some(u) = c.latest_update.as_mut() else {
        return;
    };
    while let Some(at) = u.next.filter(|at| *at <= now) {
        u.updated = at;
        u.next = None;
        let became_active = create_step(
            &mut u.status,
            &mut u.failure_reason,
            &mut u.fail_with,
            &mut u.next,
            at,
            t.campaign_update,
        );
        if became_active {
            // The new values become the ones served.
            c.solution_version_arn = u.solution_version_arn.clone();
            c.min_provisioned_tps = u.min_provisioned_tps;
            c.config = u.config.clone();
            c.updated = at;
        }
    }
}

pub fn put<K: Into<String>>(obj: &mut Map<String, Value>, key: K, value: Option<Value>) {
    if let Some(v) = value {
        obj.insert(key.into(), v);
    }
}

pub fn config_json(config: &Option<CampaignConfig>) -> Option<Value> {
    config
        .as_ref()
        .map(|c| serde_json::to_value(c).unwrap_or_else(|_| json!({})))
}

impl Campaign {
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("name".into(), json!(self.name));
        obj.insert("campaignArn".into(), json!(self.arn));
        obj.insert(
            "solutionVersionArn".into(),
            json!(self.solution_version_arn),
        );
        obj.insert("minProvisionedTPS".into(), json!(self.min_provisioned_tps));
        put(&mut obj, "campaignConfig", config_json(&self.config));
        obj.insert("status".into(), json!(self.status));
        if self.status == CREATE_FAILED {
            put(
                &mut obj,
                "failureReason",
                self.failure_reason.clone().map(Value::from),
            );
        }
        obj.insert("creationDateTime".into(), json!(self.created));
        obj.insert("lastUpdatedDateTime".into(), json!(self.updated));
        if let Some(u) = &self.latest_update {
            let mut lu = Map::new();
            lu.insert("solutionVersionArn".into(), json!(u.solution_version_arn));
            lu.insert("minProvisionedTPS".into(), json!(u.min_provisioned_tps));
            put(&mut lu, "campaignConfig", config_json(&u.config));
            lu.insert("status".into(), json!(u.status));
            if u.status == CREATE_FAILED {
                put(
                    &mut lu,
                    "failureReason",
                    u.failure_reason.clone().map(Value::from),
                );
            }
            lu.insert("creationDateTime".into(), json!(u.created));
            lu.insert("lastUpdatedDateTime".into(), json!(u.updated));
            obj.insert("latestCampaignUpdate".into(), Value::Object(lu));
        }
        Value::Object(obj)
    }

    pub fn summary_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("name".into(), json!(self.name));
        obj.insert("campaignArn".into(), json!(self.arn));
        obj.insert("status".into(), json!(self.status));
        obj.insert("creationDateTime".into(), json!(self.created));
        obj.insert("lastUpdatedDateTime".into(), json!(self.updated));
        if self.status == CREATE_FAILED {
            put(
                &mut obj,
                "failureReason",
                self.failure_reason.clone().map(Value::from),
            );
        }
        Value::Object(obj)
    }
}

impl SolutionVersion {
    pub fn summary_json(&self) -> Value {
        Value::Object(self.summary_map())
    }

    fn summary_map(&self) -> Map<String, Value> {
        let mut obj = Map::new();
        obj.insert("solutionVersionArn".into(), json!(self.arn));
        obj.insert("status".into(), json!(self.status));
        obj.insert("trainingMode".into(), json!(self.training_mode));
        obj.insert("trainingType".into(), json!(self.training_type));
        obj.insert("creationDateTime".into(), json!(self.created));
        obj.insert("lastUpdatedDateTime".into(), json!(self.updated));
        if self.status == CREATE_FAILED {
            put(
                &mut obj,
                "failureReason",
                self.failure_reason.clone().map(Value::from),
            );
        }
        obj
    }

    /// DescribeSolutionVersion's `solutionVersion`; `speed` turns the time it
    /// trained into the hours it stands for.
    pub fn to_json(&self, solution: Option<&Solution>, speed: f64) -> Value {
        let mut obj = self.summary_map();
        put(&mut obj, "name", self.name.clone().map(Value::from));
        obj.insert("solutionArn".into(), json!(self.solution_arn));
        if let Some(s) = solution {
            obj.insert("performHPO".into(), json!(s.perform_hpo));
            obj.insert("performAutoML".into(), json!(s.perform_auto_ml));
            put(&mut obj, "recipeArn", s.recipe_arn.clone().map(Value::from));
            put(&mut obj, "eventType", s.event_type.clone().map(Value::from));
            obj.insert("datasetGroupArn".into(), json!(s.dataset_group_arn));
        }
        if self.status == ACTIVE {
            obj.insert(
                "trainingHours".into(),
                json!(((self.updated - self.created) * speed / 3600.0).max(0.0)),
            );
        }
        Value::Object(obj)
    }
}

impl Solution {
    pub fn to_json(&self, latest: Option<&SolutionVersion>) -> Value {
        let mut obj = Map::new();
        obj.insert("name".into(), json!(self.name));
        obj.insert("solutionArn".into(), json!(self.arn));
        obj.insert("performHPO".into(), json!(self.perform_hpo));
        obj.insert("performAutoML".into(), json!(self.perform_auto_ml));
        obj.insert(
            "performAutoTraining".into(),
            json!(self.perform_auto_training),
        );
        put(
            &mut obj,
            "recipeArn",
            self.recipe_arn.clone().map(Value::from),
        );
        obj.insert("datasetGroupArn".into(), json!(self.dataset_group_arn));
        put(
            &mut obj,
            "eventType",
            self.event_type.clone().map(Value::from),
        );
        obj.insert("status".into(), json!(self.status));
        obj.insert("creationDateTime".into(), json!(self.created));
        obj.insert("lastUpdatedDateTime".into(), json!(self.updated));
        put(
            &mut obj,
            "latestSolutionVersion",
            latest.map(SolutionVersion::summary_json),
        );
        Value::Object(obj)
    }
}
