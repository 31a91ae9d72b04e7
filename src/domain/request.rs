//! The deployment request: the body of an S3 manifest or the `detail` of the
//! project's own EventBridge event, its parsing and its complete validation.
//!
//! Parsing never stops at the first problem: every field is read on its own, and
//! every structural error (missing field, wrong JSON type, unknown field) and every
//! rule violation is collected, so that a rejected request tells its author
//! everything that is wrong with it at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::arn::SolutionVersionRef;
use super::gate::Gate;

mod rules;

/// Every rule a gate breaks, each named under `gate` (empty when it is
/// valid): for gates that come from elsewhere than a request (the stack's
/// default).
pub fn gate_errors(gate: &Gate) -> Vec<FieldError> {
    let mut out = Vec::new();
    rules::check_gate("gate", gate, &mut out);
    out
}

/// For an error of a request's gate, the member it is about, as an index
/// into `metric`, `maxDrop`, `maxRelativeDrop`, `minValue` (a gate with no
/// threshold is about its metric): so that a gate written elsewhere (the
/// stack's parameters, a campaign's tags) names its own place.
pub fn gate_member(field: &str) -> Option<usize> {
    if field == "gate" {
        return Some(0);
    }
    let member = field.strip_prefix("gate.")?;
    GATE_FIELDS.iter().position(|m| *m == member)
}

/// A validated request to deploy a solution version to a campaign.
///
/// Field names follow the Personalize API (`CreateCampaign`) exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentRequest {
    pub campaign_name: String,
    pub solution_version_arn: String,
    #[serde(
        rename = "minProvisionedTPS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub min_provisioned_tps: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_config: Option<CampaignConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The metric gate the new version must pass before it is deployed: the
    /// request's own, else the stack's default (none for `"gate": "none"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<Gate>,
}

/// The `gate` member of a request as written: thresholds, or `"none"` to
/// deploy without the stack's default gate.
#[derive(Debug, Clone, PartialEq)]
enum GateChoice {
    Skip,
    Given(Gate),
}

/// The word that turns the stack's default gate off for one request.
pub const NO_GATE: &str = "none";

/// `CampaignConfig` of the Personalize API. Every member is optional; a member
/// that is absent from a request means "keep what the campaign has".
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// One thing wrong with a request: the field (a JSON path such as
/// `tags[2].tagKey`) and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    pub rule: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
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
/// admits everything. Also the stack's default gate, given to requests that
/// name none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub account: Option<String>,
    pub region: Option<String>,
    /// Empty for every campaign.
    pub campaign_name_prefix: String,
    /// The gate of a request (for an explicit solution version) that gives
    /// none.
    pub default_gate: Option<Gate>,
}

impl Scope {
    fn check(
        &self,
        campaign_name: Option<&str>,
        version: Option<&SolutionVersionRef>,
        out: &mut Vec<FieldError>,
    ) {
        if let Some(name) = campaign_name
            && !name.starts_with(&self.campaign_name_prefix)
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
        let Some(version) = version else { return };
        let account_differs = self.account.as_ref().is_some_and(|a| *a != version.account);
        let region_differs = self.region.as_ref().is_some_and(|r| *r != version.region);
        if account_differs || region_differs {
            out.push(FieldError::new(
                "solutionVersionArn",
                format!(
                    "is in region {} of account {}; this stack deploys only in region {} of \
                     account {}",
                    version.region,
                    version.account,
                    self.region.as_deref().unwrap_or(&version.region),
                    self.account.as_deref().unwrap_or(&version.account),
                ),
            ));
        }
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

const TOP_FIELDS: &[&str] = &[
    "campaignName",
    "solutionVersionArn",
    "minProvisionedTPS",
    "campaignConfig",
    "tags",
    "gate",
];
const GATE_FIELDS: &[&str] = &["metric", "maxDrop", "maxRelativeDrop", "minValue"];
const CONFIG_FIELDS: &[&str] = &[
    "itemExplorationConfig",
    "enableMetadataWithRecommendations",
    "syncWithLatestSolutionVersion",
    "rankingInfluence",
];
const TAG_FIELDS: &[&str] = &["tagKey", "tagValue"];

impl DeploymentRequest {
    /// Parses and validates a request from raw JSON bytes (an S3 manifest).
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

    /// Parses and validates a request from a JSON value (an event `detail`).
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
        let draft = reader.draft(obj);
        let mut errors = reader.errors;
        errors.extend(draft.validate(scope));
        let campaign_name = draft.campaign_name.clone();
        match draft.into_request() {
            Some(mut request) if errors.is_empty() => {
                if obj.get("gate").is_none_or(Value::is_null) && !request.targets_latest() {
                    request.gate = scope.default_gate.clone();
                }
                Ok(request)
            }
            _ => Err(Rejection {
                campaign_name,
                errors,
            }),
        }
    }

    /// Every rule this request breaks (empty when it is valid).
    pub fn validate(&self) -> Vec<FieldError> {
        Draft::from(self).validate(&Scope::default())
    }

    /// The parsed solution version ARN. Only valid requests are constructed by
    /// the parser; for a hand-built invalid one this returns the parse error.
    pub fn solution_version(&self) -> Result<SolutionVersionRef, String> {
        SolutionVersionRef::parse(&self.solution_version_arn)
    }

    /// The campaign ARN: the campaign name in the partition, region and account
    /// of the solution version.
    pub fn campaign_arn(&self) -> Result<String, String> {
        Ok(self.solution_version()?.campaign_arn(&self.campaign_name))
    }

    /// Whether the request names the solution's `$LATEST` version.
    pub fn targets_latest(&self) -> bool {
        self.solution_version().is_ok_and(|v| v.is_latest())
    }

    /// Whether the request asks for automatic redeployment of new versions.
    pub fn sync_with_latest(&self) -> bool {
        self.campaign_config
            .as_ref()
            .and_then(|c| c.sync_with_latest_solution_version)
            .unwrap_or(false)
    }

    /// Canonical JSON: the same request always serializes to the same bytes
    /// (struct fields in declaration order, map keys sorted, no whitespace).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("a request always serializes")
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
    gate: Option<GateChoice>,
    /// false when a required field is missing or unreadable.
    complete: bool,
}

impl From<&DeploymentRequest> for Draft {
    fn from(r: &DeploymentRequest) -> Self {
        Draft {
            campaign_name: Some(r.campaign_name.clone()),
            solution_version_arn: Some(r.solution_version_arn.clone()),
            min_provisioned_tps: r.min_provisioned_tps.map(i64::from),
            campaign_config: r.campaign_config.clone(),
            tags: Some(r.tags.iter().cloned().enumerate().collect()),
            gate: r.gate.clone().map(GateChoice::Given),
            complete: true,
        }
    }
}

impl Draft {
    fn into_request(self) -> Option<DeploymentRequest> {
        if !self.complete {
            return None;
        }
        Some(DeploymentRequest {
            campaign_name: self.campaign_name?,
            solution_version_arn: self.solution_version_arn?,
            min_provisioned_tps: match self.min_provisioned_tps {
                Some(v) => Some(i32::try_from(v).ok()?),
                None => None,
            },
            campaign_config: self.campaign_config,
            tags: self
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|(_, tag)| tag)
                .collect(),
            gate: match self.gate {
                Some(GateChoice::Given(gate)) => Some(gate),
                Some(GateChoice::Skip) | None => None,
            },
        })
    }

    fn validate(&self, scope: &Scope) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let Some(name) = &self.campaign_name {
            rules::check_name("campaignName", name, &mut out);
        }
        let version = self.solution_version_arn.as_deref().and_then(|arn| {
            rules::check_arn("solutionVersionArn", arn, &mut out)?;
            match SolutionVersionRef::parse(arn) {
                Ok(v) => Some(v),
                Err(rule) => {
                    out.push(FieldError::new("solutionVersionArn", rule));
                    None
                }
            }
        });
        if let Some(tps) = self.min_provisioned_tps {
            rules::check_tps("minProvisionedTPS", tps, &mut out);
        }
        let config = self.campaign_config.as_ref();
        if let Some(config) = config {
            rules::check_campaign_config("campaignConfig", config, &mut out);
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
            rules::check_tags("tags", tags, &mut out);
        }
        if let Some(GateChoice::Given(gate)) = &self.gate {
            rules::check_gate("gate", gate, &mut out);
            if version.as_ref().is_some_and(SolutionVersionRef::is_latest) {
                out.push(FieldError::new(
                    "gate",
                    "cannot be used with a /$LATEST solution version: a campaign that syncs \
                     with the latest version takes every new one without a gate; name the \
                     version to deploy",
                ));
            }
        }
        // Only a well-formed name is held to the prefix (a malformed one has
        // its own reason).
        let named = self
            .campaign_name
            .as_deref()
            .filter(|_| !out.iter().any(|e| e.field == "campaignName"));
        scope.check(named, version.as_ref(), &mut out);
        out
    }
}

/// Reads a JSON object field by field, collecting every structural error.
#[derive(Default)]
struct Reader {
    errors: Vec<FieldError>,
}

impl Reader {
    fn draft(&mut self, obj: &Map<String, Value>) -> Draft {
        self.unknown_fields("", obj, TOP_FIELDS);
        let campaign_name = self.required::<String>("", obj, "campaignName", "a string");
        let solution_version_arn =
            self.required::<String>("", obj, "solutionVersionArn", "a string");
        let min_provisioned_tps =
            self.optional::<i64>("", obj, "minProvisionedTPS", "a whole number");
        let campaign_config = obj.get("campaignConfig").and_then(|v| self.config(v));
        let tags = obj.get("tags").and_then(|v| self.tags(v));
        let gate = obj
            .get("gate")
            .filter(|v| !v.is_null())
            .and_then(|v| self.gate(v));
        let required_ok = campaign_name.is_some() && solution_version_arn.is_some();
        Draft {
            complete: required_ok && self.errors.is_empty(),
            campaign_name,
            solution_version_arn,
            min_provisioned_tps,
            campaign_config,
            tags,
            gate,
        }
    }

    fn gate(&mut self, value: &Value) -> Option<GateChoice> {
        let path = "gate";
        if value.as_str() == Some(NO_GATE) {
            return Some(GateChoice::Skip);
        }
        let Some(obj) = value.as_object() else {
            self.wrong_type(
                path,
                &format!(
                    "an object {{\"metric\", \"maxDrop\", \"maxRelativeDrop\", \"minValue\"}} \
                     or the string \"{NO_GATE}\""
                ),
                value,
            );
            return None;
        };
        self.unknown_fields(path, obj, GATE_FIELDS);
        let before = self.errors.len();
        let metric = self.required::<String>(path, obj, "metric", "a string");
        let max_drop = self.optional(path, obj, "maxDrop", "a number");
        let max_relative_drop = self.optional(path, obj, "maxRelativeDrop", "a number");
        let min_value = self.optional(path, obj, "minValue", "a number");
        // A member that could not be read is reported as such, and the rules
        // are checked only on a gate read whole.
        if self.errors.len() > before {
            return None;
        }
        Some(GateChoice::Given(Gate {
            metric: metric?,
            max_drop,
            max_relative_drop,
            min_value,
        }))
    }

    fn config(&mut self, value: &Value) -> Option<CampaignConfig> {
        let path = "campaignConfig";
        let Some(obj) = value.as_object() else {
            self.wrong_type(path, "an object", value);
            return None;
        };
        self.unknown_fields(path, obj, CONFIG_FIELDS);
        Some(CampaignConfig {
            item_exploration_config: self.optional(
                path,
                obj,
                "itemExplorationConfig",
                "an object whose values are strings (e.g. {\"explorationWeight\": \"0.3\"})",
            ),
            enable_metadata_with_recommendations: self.optional(
                path,
                obj,
                "enableMetadataWithRecommendations",
                "a boolean",
            ),
            sync_with_latest_solution_version: self.optional(
                path,
                obj,
                "syncWithLatestSolutionVersion",
                "a boolean",
            ),
            ranking_influence: self.optional(
                path,
                obj,
                "rankingInfluence",
                "an object whose values are numbers",
            ),
        })
    }

    fn tags(&mut self, value: &Value) -> Option<Vec<(usize, Tag)>> {
        let Some(items) = value.as_array() else {
            self.wrong_type(
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
                self.wrong_type(&path, "an object with tagKey and tagValue", item);
                continue;
            };
            self.unknown_fields(&path, obj, TAG_FIELDS);
            let key = self.required::<String>(&path, obj, "tagKey", "a string");
            let value = self.required::<String>(&path, obj, "tagValue", "a string");
            if let (Some(tag_key), Some(tag_value)) = (key, value) {
                tags.push((i, Tag { tag_key, tag_value }));
            }
        }
        Some(tags)
    }

    fn required<T: DeserializeOwned>(
        &mut self,
        parent: &str,
        obj: &Map<String, Value>,
        name: &str,
        expected: &str,
    ) -> Option<T> {
        if obj.get(name).is_none_or(Value::is_null) {
            self.errors
                .push(FieldError::new(join(parent, name), "is required"));
            return None;
        }
        self.optional(parent, obj, name, expected)
    }

    fn optional<T: DeserializeOwned>(
        &mut self,
        parent: &str,
        obj: &Map<String, Value>,
        name: &str,
        expected: &str,
    ) -> Option<T> {
        let value = obj.get(name).filter(|v| !v.is_null())?;
        match T::deserialize(value) {
            Ok(v) => Some(v),
            Err(_) => {
                self.wrong_type(&join(parent, name), expected, value);
                None
            }
        }
    }

    fn wrong_type(&mut self, path: &str, expected: &str, value: &Value) {
        self.errors.push(FieldError::new(
            path,
            format!("must be {expected}, not {}", json_kind(value)),
        ));
    }

    fn unknown_fields(&mut self, parent: &str, obj: &Map<String, Value>, known: &[&str]) {
        let unknown: BTreeSet<&String> = obj
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        for key in unknown {
            self.errors.push(FieldError::new(
                rules::member_path(parent, key),
                format!("is not a known field; allowed: {}", known.join(", ")),
            ));
        }
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn json_kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", rules::quote(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
