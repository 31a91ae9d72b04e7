//! The deployment request: the body of an S3 manifest or the `detail` of the
//! project's own EventBridge event, its reading and its complete validation.
//!
//! Reading never stops at the first problem: every field is read on its own, and
//! every structural error (missing field, wrong JSON type, unknown field) and every
//! rule violation is collected, so that a rejected request tells its author
//! everything that is wrong with it at once.
//!
//! A [`DeploymentRequest`] is valid by construction: its fields are private
//! and the only ways to make one are this reader (from JSON, which is also
//! how it is deserialized from a task input) and [`DeploymentRequest::followed`]
//! (a followed campaign's new version), which check the same rules.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::arn::{CampaignName, SolutionVersionRef};
use super::field::{FieldError, Reader, fields_of, json_kind, quote};
use super::gate::{Gate, GateChoice};
use super::watch::{Watch, WatchChoice, WatchDefaults};

mod rules;

/// A validated request to deploy a solution version to a campaign.
///
/// It serializes with the Personalize API's field names (`CreateCampaign`),
/// in a fixed order: the same request always gives the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "Value")]
pub struct DeploymentRequest {
    campaign_name: CampaignName,
    #[serde(rename = "solutionVersionArn")]
    solution_version: SolutionVersionRef,
    #[serde(rename = "minProvisionedTPS", skip_serializing_if = "Option::is_none")]
    min_provisioned_tps: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_config: Option<CampaignConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
    /// The metric gate the new version must pass before it is deployed: the
    /// request's own, else the stack's default (none for `"gate": "none"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<Gate>,
    /// The alarms the deployed version is watched with, and for how long:
    /// the request's own, else the stack's (none for `"watch": "none"`),
    /// the campaign's name inserted.
    #[serde(skip_serializing_if = "Option::is_none")]
    watch: Option<Watch>,
}

/// `CampaignConfig` of the Personalize API. Every member is optional; a member
/// that is absent from a request means "keep what the campaign has". Its
/// fields are the ones a request's `campaignConfig` may have (the reader
/// takes them from here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    /// The configuration with its sync with the solution's latest version
    /// off (a version is returned to: kept on, the sync would redeploy the
    /// version left), and whether it was on.
    pub fn sync_off(mut self) -> (CampaignConfig, bool) {
        let synced = self.sync_with_latest_solution_version == Some(true);
        if synced {
            self.sync_with_latest_solution_version = Some(false);
        }
        (self, synced)
    }
}

/// What a campaign serves: a solution version, its TPS and configuration
/// (what a rollback returns to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    pub solution_version_arn: String,
    #[serde(rename = "minProvisionedTPS")]
    pub min_provisioned_tps: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_config: Option<CampaignConfig>,
}

/// A tag; its fields are the ones a request's tags may have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// A request that could not be accepted, with every reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The campaign name, when the body carried one as a string (even an invalid
    /// one), so that the rejection can be attributed in notifications.
    pub campaign_name: Option<String>,
    pub errors: Vec<FieldError>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl Rejection {
    pub fn single(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            campaign_name: None,
            errors: vec![FieldError::new(field, rule)],
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where a stack deploys: its account and region, and the prefix its
/// campaigns' names start with. A request outside it is rejected up front,
/// instead of running and failing late with access denied. The default
/// admits everything. Also the stack's default gate and watch, given to
/// requests that name none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub account: Option<String>,
    pub region: Option<String>,
    /// Empty for every campaign.
    pub campaign_name_prefix: String,
    /// The gate of a request (for an explicit solution version) that gives
    /// none.
    pub default_gate: Option<Gate>,
    /// The stack's watch: the alarms of a request that names none, and the
    /// period of one that names no period.
    pub watch: WatchDefaults,
    /// The most `minProvisionedTPS` a request may ask for (none: no cap).
    /// It sets the campaign's minimum billing.
    pub max_provisioned_tps: Option<i32>,
}

impl Scope {
    /// Adds to `out` what puts a campaign name or a solution version
    /// outside the scope.
    pub(crate) fn check(
        &self,
        campaign_name: Option<&CampaignName>,
        version: Option<&SolutionVersionRef>,
        out: &mut Vec<FieldError>,
    ) {
        if let Some(name) = campaign_name
            && !name.as_str().starts_with(&self.campaign_name_prefix)
        {
            out.push(FieldError::new(
                "campaignName",
                format!(
                    "must start with {:?}: this stack deploys only the campaigns whose names \
                     start with it",
                    self.campaign_name_prefix
                ),
            ));
        }
        if let Some(version) = version {
            self.check_place(
                "solutionVersionArn",
                version.region(),
                version.account(),
                out,
            );
        }
    }

    /// Adds to `out` that `field` names a resource in another region or
    /// account than the stack's, if it does.
    pub(crate) fn check_place(
        &self,
        field: &str,
        region: &str,
        account: &str,
        out: &mut Vec<FieldError>,
    ) {
        let account_differs = self.account.as_ref().is_some_and(|a| a != account);
        let region_differs = self.region.as_ref().is_some_and(|r| r != region);
        if account_differs || region_differs {
            out.push(FieldError::new(
                field,
                format!(
                    "is in region {region} of account {account}; this stack deploys only in \
                     region {} of account {}",
                    self.region.as_deref().unwrap_or(region),
                    self.account.as_deref().unwrap_or(account),
                ),
            ));
        }
    }

    /// Adds to `out` that `tps` is above the stack's cap, if it is.
    pub(crate) fn check_tps(&self, field: &str, tps: i64, out: &mut Vec<FieldError>) {
        if let Some(cap) = self.max_provisioned_tps
            && tps > i64::from(cap)
        {
            out.push(FieldError::new(
                field,
                format!(
                    "is {tps}, above this stack's cap of {cap} (MaxProvisionedTPS): \
                     minProvisionedTPS sets the campaign's minimum billing; ask for at most \
                     {cap}, or raise the cap"
                ),
            ));
        }
    }

    /// The same scope without its TPS cap: for a TPS restored from a
    /// campaign's record, which the cap does not hold back.
    pub fn uncapped(&self) -> Scope {
        Scope {
            max_provisioned_tps: None,
            ..self.clone()
        }
    }

    /// What puts a request read from an execution's state outside the scope
    /// (its campaign's name, its version's place and, when `capped`, its
    /// TPS): the task Lambdas hold an execution to it again, so that one
    /// started by hand cannot deploy where deploy-trigger would not.
    pub fn refuses(&self, request: &DeploymentRequest, capped: bool) -> Option<Rejection> {
        let mut errors = Vec::new();
        self.check(
            Some(request.campaign_name()),
            Some(request.solution_version()),
            &mut errors,
        );
        if capped && let Some(tps) = request.min_provisioned_tps() {
            self.check_tps("minProvisionedTPS", i64::from(tps), &mut errors);
        }
        (!errors.is_empty()).then(|| Rejection {
            campaign_name: Some(request.campaign_name().to_string()),
            errors,
        })
    }

    /// Why an event from `account` is not accepted, if it is not: requests
    /// come only from the stack's own account.
    pub fn refuses_event_from(&self, account: Option<&str>) -> Option<FieldError> {
        let own = self.account.as_deref()?;
        match account {
            Some(account) if account == own => None,
            other => Some(FieldError::new(
                "(event).account",
                format!(
                    "is {}; this stack accepts deployment requests only from its own account {own}",
                    other.unwrap_or("(none)")
                ),
            )),
        }
    }
}

/// The members of a request (the request itself is read by [`read`], not by
/// a derived `Deserialize`).
const TOP_FIELDS: &[&str] = &[
    "campaignName",
    "solutionVersionArn",
    "minProvisionedTPS",
    "campaignConfig",
    "tags",
    "gate",
    "watch",
];

impl DeploymentRequest {
    /// Reads and validates a request from raw JSON bytes (an S3 manifest).
    /// A UTF-8 byte order mark, which several editors write, is skipped.
    pub fn from_slice(body: &[u8]) -> Result<Self, Rejection> {
        Self::from_slice_within(body, &Scope::default())
    }

    /// [`Self::from_slice`], admitting only requests within `scope`.
    pub fn from_slice_within(body: &[u8], scope: &Scope) -> Result<Self, Rejection> {
        let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => Self::from_value_within(&value, scope),
            Err(e) => Err(Rejection::single(
                "(request)",
                format!("must be a JSON object; the body is not valid JSON ({e})"),
            )),
        }
    }

    /// Reads and validates a request from a JSON value (an event `detail`).
    pub fn from_value(value: &Value) -> Result<Self, Rejection> {
        Self::from_value_within(value, &Scope::default())
    }

    /// [`Self::from_value`], admitting only requests within `scope`.
    pub fn from_value_within(value: &Value, scope: &Scope) -> Result<Self, Rejection> {
        let Some(obj) = value.as_object() else {
            return Err(Rejection::single(
                "(request)",
                format!("must be a JSON object, not {}", json_kind(value)),
            ));
        };
        let mut reader = Reader::default();
        let draft = read(&mut reader, obj);
        draft.accept(reader.errors, scope)
    }

    /// The request for a followed campaign's new version: its gate and
    /// watch as its tags write them (`Err`: what is wrong with them, reported
    /// first), TPS and configuration left out (the campaign keeps what it
    /// has when the version is deployed), held to the same rules as any
    /// request.
    pub fn followed(
        campaign_name: &str,
        solution_version_arn: &str,
        gate: Result<Option<GateChoice>, Vec<FieldError>>,
        watch: Result<Option<WatchChoice>, Vec<FieldError>>,
        scope: &Scope,
    ) -> Result<Self, Rejection> {
        let mut errors = Vec::new();
        let gate = gate.unwrap_or_else(|e| {
            errors.extend(e);
            None
        });
        let watch = watch.unwrap_or_else(|e| {
            errors.extend(e);
            None
        });
        let draft = Draft {
            campaign_name: Some(campaign_name.to_string()),
            solution_version_arn: Some(solution_version_arn.to_string()),
            gate,
            watch,
            ..Draft::default()
        };
        draft.accept(errors, scope)
    }

    pub fn campaign_name(&self) -> &CampaignName {
        &self.campaign_name
    }

    pub fn solution_version(&self) -> &SolutionVersionRef {
        &self.solution_version
    }

    /// The solution version ARN as written.
    pub fn solution_version_arn(&self) -> &str {
        self.solution_version.as_str()
    }

    pub fn min_provisioned_tps(&self) -> Option<i32> {
        self.min_provisioned_tps
    }

    pub fn campaign_config(&self) -> Option<&CampaignConfig> {
        self.campaign_config.as_ref()
    }

    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    pub fn gate(&self) -> Option<&Gate> {
        self.gate.as_ref()
    }

    pub fn watch(&self) -> Option<&Watch> {
        self.watch.as_ref()
    }

    /// The campaign ARN: the campaign name in the partition, region and account
    /// of the solution version.
    pub fn campaign_arn(&self) -> String {
        self.solution_version.campaign_arn(&self.campaign_name)
    }

    /// Whether the request names the solution's `$LATEST` version.
    pub fn targets_latest(&self) -> bool {
        self.solution_version.is_latest()
    }

    /// Whether the request asks for automatic redeployment of new versions.
    pub fn sync_with_latest(&self) -> bool {
        self.campaign_config
            .as_ref()
            .and_then(|c| c.sync_with_latest_solution_version)
            .unwrap_or(false)
    }

    /// The request that returns this request's campaign to what it served
    /// (a rollback): that version, TPS and configuration, with the sync with
    /// the solution's latest version off (kept on, it would redeploy the
    /// version rolled back from); no tags, gate or watch. And whether the
    /// sync was turned off. `Err`: a version that is no solution version ARN.
    pub fn restoring(&self, served: &Served) -> Result<(DeploymentRequest, bool), String> {
        let solution_version = SolutionVersionRef::parse(&served.solution_version_arn)?;
        let (config, synced) = match served.campaign_config.clone().map(CampaignConfig::sync_off) {
            Some((config, synced)) => (Some(config), synced),
            None => (None, false),
        };
        let request = DeploymentRequest {
            campaign_name: self.campaign_name.clone(),
            solution_version,
            min_provisioned_tps: Some(served.min_provisioned_tps),
            campaign_config: config,
            tags: Vec::new(),
            gate: None,
            watch: None,
        };
        Ok((request, synced))
    }

    /// Canonical JSON: the same request always serializes to the same bytes
    /// (struct fields in declaration order, map keys sorted, no whitespace).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("a request always serializes")
    }
}

/// A request in a task input (the execution's state) is read by the same
/// reader as a manifest, within the default scope (the state holds the
/// stack's default gate already, if any).
impl TryFrom<Value> for DeploymentRequest {
    type Error = Rejection;

    fn try_from(value: Value) -> Result<Self, Rejection> {
        Self::from_value(&value)
    }
}

/// A request as far as it could be read: every field that had the right JSON
/// type, so that the rules can be checked on all of them even when others are
/// missing or malformed.
#[derive(Debug, Default)]
struct Draft {
    campaign_name: Option<String>,
    solution_version_arn: Option<String>,
    min_provisioned_tps: Option<i64>,
    campaign_config: Option<CampaignConfig>,
    /// The readable tags, each with its index in the request's list.
    tags: Option<Vec<(usize, Tag)>>,
    /// The gate as written (none when it is not).
    gate: Option<GateChoice>,
    /// The watch as written (none when it is not).
    watch: Option<WatchChoice>,
}

impl Draft {
    /// The request, if the draft was read whole (`errors`: what could not
    /// be read, reported first) and keeps every rule within `scope`; else
    /// every reason why not.
    fn accept(
        self,
        mut errors: Vec<FieldError>,
        scope: &Scope,
    ) -> Result<DeploymentRequest, Rejection> {
        let checked = self.validate(scope, &mut errors);
        let Some((campaign_name, solution_version)) = checked.filter(|_| errors.is_empty()) else {
            return Err(Rejection {
                campaign_name: self.campaign_name,
                errors,
            });
        };
        let latest = solution_version.is_latest();
        let watch = match self.watch {
            Some(choice) => choice.resolve(&scope.watch, campaign_name.as_str()),
            None if latest => None,
            None => scope.watch.for_campaign(campaign_name.as_str()),
        };
        // Names that repeat only once the campaign's name is put in.
        if let Some(watch) = &watch
            && let Some(i) =
                (1..watch.alarms.len()).find(|&i| watch.alarms[..i].contains(&watch.alarms[i]))
        {
            return Err(Rejection {
                campaign_name: Some(campaign_name.to_string()),
                errors: vec![FieldError::new(
                    format!("watch.alarms[{i}]"),
                    format!(
                        "repeats {} once the campaign's name is put in",
                        quote(&watch.alarms[i])
                    ),
                )],
            });
        }
        Ok(DeploymentRequest {
            campaign_name,
            solution_version,
            min_provisioned_tps: self.min_provisioned_tps.map(|tps| tps as i32),
            campaign_config: self.campaign_config,
            tags: self
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|(_, tag)| tag)
                .collect(),
            gate: match self.gate {
                Some(choice) => choice.into_gate(),
                None if latest => None,
                None => scope.default_gate.clone(),
            },
            // A campaign that syncs with its solution's latest version cannot
            // be rolled back to one: it gets no watch of the stack's.
            watch,
        })
    }

    /// Checks every rule, adding what is broken to `out`; the name and the
    /// version, when both were read and keep their own rules.
    fn validate(
        &self,
        scope: &Scope,
        out: &mut Vec<FieldError>,
    ) -> Option<(CampaignName, SolutionVersionRef)> {
        let name = self
            .campaign_name
            .as_deref()
            .and_then(|name| rules::check_name("campaignName", name, out));
        let version = self.solution_version_arn.as_deref().and_then(|arn| {
            rules::check_arn("solutionVersionArn", arn, out)?;
            SolutionVersionRef::parse(arn)
                .map_err(|rule| out.push(FieldError::new("solutionVersionArn", rule)))
                .ok()
        });
        if let Some(tps) = self.min_provisioned_tps {
            let before = out.len();
            rules::check_tps("minProvisionedTPS", tps, out);
            if out.len() == before {
                scope.check_tps("minProvisionedTPS", tps, out);
            }
        }
        let config = self.campaign_config.as_ref();
        if let Some(config) = config {
            rules::check_campaign_config("campaignConfig", config, out);
        }
        let sync = config
            .and_then(|c| c.sync_with_latest_solution_version)
            .unwrap_or(false);
        if let Some(version) = &version {
            let latest = version.is_latest();
            if latest && !sync {
                out.push(FieldError::new(
                    "solutionVersionArn",
                    "ends in /$LATEST, which is allowed only with \
                     campaignConfig.syncWithLatestSolutionVersion set to true; \
                     give an explicit solution version ARN or turn sync on",
                ));
            }
            if sync && !latest {
                out.push(FieldError::new(
                    "campaignConfig.syncWithLatestSolutionVersion",
                    "is true, which requires solutionVersionArn to be the solution ARN \
                     followed by /$LATEST",
                ));
            }
        }
        if let Some(tags) = &self.tags {
            rules::check_tags("tags", tags, out);
        }
        if let Some(GateChoice::Given(gate)) = &self.gate {
            for e in gate.check() {
                out.push(FieldError::new(Gate::json_path("gate", &e), e.rule));
            }
            if version.as_ref().is_some_and(SolutionVersionRef::is_latest) {
                out.push(FieldError::new(
                    "gate",
                    "cannot be used with a /$LATEST solution version: a campaign that syncs \
                     with the latest version takes every new one without a gate; name the \
                     version to deploy",
                ));
            }
        }
        if let Some(watch) = &self.watch {
            watch.check("watch", out);
            if matches!(watch, WatchChoice::Given { .. })
                && version.as_ref().is_some_and(SolutionVersionRef::is_latest)
            {
                out.push(FieldError::new(
                    "watch",
                    "cannot be used with a /$LATEST solution version: a campaign that syncs with \
                     the latest version would redeploy it after a rollback; name the version to \
                     deploy, or give \"watch\": \"none\"",
                ));
            }
        }
        // Only a well-formed name is held to the prefix (a malformed one has
        // its own reason).
        scope.check(name.as_ref(), version.as_ref(), out);
        Some((name?, version?))
    }
}

/// Reads a request object field by field into a draft.
fn read(reader: &mut Reader, obj: &Map<String, Value>) -> Draft {
    reader.unknown_fields("", obj, TOP_FIELDS);
    let campaign_name = reader.required::<String>("", obj, "campaignName", "a string");
    let solution_version_arn = reader.required::<String>("", obj, "solutionVersionArn", "a string");
    let min_provisioned_tps =
        reader.optional::<i64>("", obj, "minProvisionedTPS", "a whole number");
    let campaign_config = obj.get("campaignConfig").and_then(|v| config(reader, v));
    let tags = obj.get("tags").and_then(|v| tags(reader, v));
    let gate = obj
        .get("gate")
        .filter(|v| !v.is_null())
        .and_then(|v| Gate::read_json(reader, "gate", v));
    let watch = obj
        .get("watch")
        .filter(|v| !v.is_null())
        .and_then(|v| WatchChoice::read_json(reader, "watch", v));
    Draft {
        campaign_name,
        solution_version_arn,
        min_provisioned_tps,
        campaign_config,
        tags,
        gate,
        watch,
    }
}

fn config(reader: &mut Reader, value: &Value) -> Option<CampaignConfig> {
    let path = "campaignConfig";
    let Some(obj) = value.as_object() else {
        reader.wrong_type(path, "an object", value);
        return None;
    };
    reader.unknown_fields(path, obj, fields_of::<CampaignConfig>());
    Some(CampaignConfig {
        item_exploration_config: reader.optional(
            path,
            obj,
            "itemExplorationConfig",
            "an object whose values are strings (e.g. {\"explorationWeight\": \"0.3\"})",
        ),
        enable_metadata_with_recommendations: reader.optional(
            path,
            obj,
            "enableMetadataWithRecommendations",
            "a boolean",
        ),
        sync_with_latest_solution_version: reader.optional(
            path,
            obj,
            "syncWithLatestSolutionVersion",
            "a boolean",
        ),
        ranking_influence: reader.optional(
            path,
            obj,
            "rankingInfluence",
            "an object whose values are numbers",
        ),
    })
}

fn tags(reader: &mut Reader, value: &Value) -> Option<Vec<(usize, Tag)>> {
    let Some(items) = value.as_array() else {
        reader.wrong_type(
            "tags",
            "an array of {\"tagKey\", \"tagValue\"} objects",
            value,
        );
        return None;
    };
    let mut tags = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("tags[{i}]");
        let Some(obj) = item.as_object() else {
            reader.wrong_type(&path, "an object with tagKey and tagValue", item);
            continue;
        };
        reader.unknown_fields(&path, obj, fields_of::<Tag>());
        let key = reader.required::<String>(&path, obj, "tagKey", "a string");
        let value = reader.required::<String>(&path, obj, "tagValue", "a string");
        if let (Some(tag_key), Some(tag_value)) = (key, value) {
            tags.push((i, Tag { tag_key, tag_value }));
        }
    }
    Some(tags)
}
