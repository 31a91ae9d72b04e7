//! The Personalize operations: input reading, the documented errors in the
//! documented conditions, and the effects on the state.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::error::ApiError;
use crate::faults::Rng;
use crate::model::*;
use crate::validate;

type Result<T> = std::result::Result<T, ApiError>;

/// Reads the members of a request body.
pub struct Input<'a>(pub &'a Map<String, Value>);

impl<'a> Input<'a> {
    fn get(&self, member: &str) -> Option<&'a Value> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    fn missing(member: &str) -> ApiError {
        ApiError::invalid(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    pub fn string(&self, member: &str) -> Result<Option<&'a str>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::serialization(format!(
                "Expected a string for member '{member}'"
            ))),
        }
    }

    pub fn required_string(&self, member: &str) -> Result<&'a str> {
        self.string(member)?.ok_or_else(|| Self::missing(member))
    }

    pub fn integer(&self, member: &str) -> Result<Option<i64>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                ApiError::serialization(format!("Expected an integer for member '{member}'"))
            }),
            Some(_) => Err(ApiError::serialization(format!(
                "Expected an integer for member '{member}'"
            ))),
        }
    }

    pub fn boolean(&self, member: &str) -> Result<Option<bool>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::serialization(format!(
                "Expected a boolean for member '{member}'"
            ))),
        }
    }

    pub fn list(&self, member: &str) -> Result<Option<&'a Vec<Value>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(ApiError::serialization(format!(
                "Expected a list for member '{member}'"
            ))),
        }
    }

    pub fn campaign_config(&self) -> Result<Option<CampaignConfig>> {
        match self.get("campaignConfig") {
            None => Ok(None),
            Some(v @ Value::Object(_)) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| ApiError::serialization(format!("campaignConfig: {e}"))),
            Some(_) => Err(ApiError::serialization(
                "Expected a structure for member 'campaignConfig'",
            )),
        }
    }
}

/// The mutable part of the emulator, behind one lock.
pub struct World {
    pub state: State,
    pub now: f64,
    pub rng: Rng,
}

impl World {
    fn arn(&self, config: &Config, resource: &str) -> String {
        format!(
            "arn:{}:personalize:{}:{}:{resource}",
            config.partition, config.region, config.account
        )
    }

    fn check_tags_count(
        &self,
        arn: &str,
        adding: &[(String, String)],
        config: &Config,
    ) -> Result<()> {
        let existing = self.state.tags.get(arn);
        let total = adding
            .iter()
            .filter(|(k, _)| !existing.is_some_and(|t| t.contains_key(k)))
            .count()
            + existing.map_or(0, BTreeMap::len);
        if total > config.max_tags {
            return Err(ApiError::new(
                "TooManyTagsException",
                format!(
                    "The resource would have {total} tags; at most {} are allowed",
                    config.max_tags
                ),
            ));
        }
        Ok(())
    }

    fn resource_exists(&self, arn: &str) -> bool {
        self.state.campaigns.contains_key(arn)
            || self.state.solutions.contains_key(arn)
            || self.state.versions.contains_key(arn)
    }

    /// Resolves the `solutionVersionArn` of a Create/UpdateCampaign to an ACTIVE
    /// version: an existing version, or a solution's newest ACTIVE one for
    /// `<solution>/$LATEST`.
    fn deployable_version(&self, arn: &str) -> Result<String> {
        if let Some(solution_arn) = arn.strip_suffix("/$LATEST") {
            if !self.state.solutions.contains_key(solution_arn) {
                return Err(ApiError::not_found(format!(
                    "Could not find solution: {solution_arn}"
                )));
            }
            return self
                .state
                .latest_active_version(solution_arn)
                .map(|v| v.arn.clone())
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "The solution {solution_arn} has no ACTIVE solution version to deploy"
                    ))
                });
        }
        let Some(version) = self.state.versions.get(arn) else {
            return Err(ApiError::not_found(format!(
                "Could not find solution version: {arn}"
            )));
        };
        match version.status.as_str() {
            ACTIVE => Ok(version.arn.clone()),
            CREATE_PENDING | CREATE_IN_PROGRESS => Err(ApiError::in_use(format!(
                "Solution version {arn} is in {} state. Wait until it is ACTIVE.",
                version.status
            ))),
            other => Err(ApiError::invalid(format!(
                "Solution version {arn} is in {other} state and cannot be deployed"
            ))),
        }
    }

    /// One page of `items` (creation time, ARN, what is listed), newest
    /// first. The token names the last item answered, not a position: the
    /// next page starts after it, so a resource created or gone between two
    /// pages makes the listing neither skip nor repeat one.
    fn paginate(
        &self,
        mut items: Vec<(f64, String, Value)>,
        input: &Input,
        key: &str,
    ) -> Result<Value> {
        let max = match input.integer("maxResults")? {
            Some(n) => {
                validate::max_results(n)?;
                n as usize
            }
            None => 100,
        };
        let newest_first =
            |(ta, na): (f64, &str), (tb, nb): (f64, &str)| tb.total_cmp(&ta).then(na.cmp(nb));
        items.sort_by(|a, b| newest_first((a.0, &a.1), (b.0, &b.1)));
        let start = match input.string("nextToken")? {
            None => 0,
            Some(token) => {
                if token.chars().count() > 1500 || !token.is_ascii() {
                    return Err(validate::constraint(
                        token,
                        "nextToken",
                        "Member must have length less than or equal to 1500",
                    ));
                }
                let (time, arn) = read_token(token).ok_or_else(|| {
                    ApiError::new("InvalidNextTokenException", "The token is not valid.")
                })?;
                items
                    .iter()
                    .position(|(t, a, _)| newest_first((time, &arn), (*t, a)).is_lt())
                    .unwrap_or(items.len())
            }
        };
        let end = (start + max).min(items.len());
        let mut out = Map::new();
        let page = items[start..end]
            .iter()
            .map(|(_, _, v)| v.clone())
            .collect();
        out.insert(key.into(), Value::Array(page));
        if end < items.len() {
            let (time, arn, _) = &items[end - 1];
            out.insert("nextToken".into(), json!(write_token(*time, arn)));
        }
        Ok(Value::Object(out))
    }
}

/// A page token: `pl2.`, the creation time's bits and the ARN's bytes, in
/// hexadecimal (ASCII whatever the ARN).
fn write_token(time: f64, arn: &str) -> String {
    let hex: String = arn.bytes().map(|b| format!("{b:02x}")).collect();
    format!("pl2.{:016x}.{hex}", time.to_bits())
}

fn read_token(token: &str) -> Option<(f64, String)> {
    let (time, hex) = token.strip_prefix("pl2.")?.split_once('.')?;
    let time = f64::from_bits(u64::from_str_radix(time, 16).ok()?);
    if !time.is_finite() || hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some((time, String::from_utf8(bytes).ok()?))
}

fn sync_rule(version_arn: Option<&str>, sync: bool) -> Result<()> {
    if sync && !version_arn.is_some_and(|a| a.ends_with("/$LATEST")) {
        return Err(ApiError::invalid(
            "When syncWithLatestSolutionVersion is true, solutionVersionArn must be given as SolutionArn/$LATEST",
        ));
    }
    Ok(())
}

/// Runs one operation.
pub fn dispatch(
    world: &mut World,
    config: &Config,
    op: &str,
    body: &Map<String, Value>,
) -> Result<Value> {
    let input = Input(body);
    match op {
        "CreateCampaign" => create_campaign(world, config, &input),
        "UpdateCampaign" => update_campaign(world, config, &input),
        "DescribeCampaign" => describe_campaign(world, config, &input),
        "ListCampaigns" => list_campaigns(world, config, &input),
        "DeleteCampaign" => delete_campaign(world, config, &input),
        "DescribeSolution" => describe_solution(world, config, &input),
        "DescribeSolutionVersion" => describe_solution_version(world, config, &input),
        "ListSolutionVersions" => list_solution_versions(world, config, &input),
        "GetSolutionMetrics" => get_solution_metrics(world, config, &input),
        "StopSolutionVersionCreation" => stop_solution_version_creation(world, config, &input),
        "CreateSolution" => create_solution(world, config, &input),
        "CreateSolutionVersion" => create_solution_version(world, config, &input),
        "TagResource" => tag_resource(world, config, &input),
        "UntagResource" => untag_resource(world, config, &input),
        "ListTagsForResource" => list_tags(world, config, &input),
        other => Err(ApiError::new(
            "UnknownOperationException",
            format!("personalize-local does not implement the operation {other}"),
        )),
    }
}

fn create_campaign(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let name = input.required_string("name")?;
    let version_arn = input.required_string("solutionVersionArn")?;
    let tps = input.integer("minProvisionedTPS")?;
    let campaign_config = input.campaign_config()?;
    let tags = input.list("tags")?;
    validate::name(name, "name", config.strict)?;
    validate::arn(version_arn, "solutionVersionArn", config.strict)?;
    if let Some(tps) = tps {
        validate::tps(tps, "minProvisionedTPS")?;
    }
    if let Some(c) = &campaign_config {
        validate::campaign_config(c)?;
    }
    let tags = match tags {
        Some(list) => validate::tags(list, usize::MAX)?,
        None => Vec::new(),
    };
    sync_rule(
        Some(version_arn),
        CampaignConfig::sync(campaign_config.as_ref()),
    )?;
    let resolved = w.deployable_version(version_arn)?;
    let arn = w.arn(config, &format!("campaign/{name}"));
    if w.state.campaigns.contains_key(&arn) {
        return Err(ApiError::already_exists(format!(
            "Campaign {arn} already exists"
        )));
    }
    let group = w
        .state
        .dataset_group_of_version(&resolved)
        .map(str::to_string);
    let active = w
        .state
        .campaigns
        .values()
        .filter(|c| {
            matches!(
                c.status.as_str(),
                ACTIVE | CREATE_PENDING | CREATE_IN_PROGRESS
            )
        })
        .filter(|c| {
            w.state
                .dataset_group_of_version(&c.solution_version_arn)
                .map(str::to_string)
                == group
        })
        .count();
    if active >= config.max_active_campaigns {
        return Err(ApiError::new(
            "LimitExceededException",
            format!(
                "Cannot create a campaign. More than {} resources in ACTIVE state. Please delete some and try again.",
                config.max_active_campaigns
            ),
        ));
    }
    w.check_tags_count(&arn, &tags, config)?;
    let now = w.now;
    let t = config.timings();
    w.state.campaigns.insert(
        arn.clone(),
        Campaign {
            name: name.to_string(),
            arn: arn.clone(),
            fail_with: w.state.deploy_failure(&resolved),
            solution_version_arn: resolved,
            min_provisioned_tps: tps.unwrap_or(1),
            config: reported(config, campaign_config),
            status: CREATE_PENDING.into(),
            failure_reason: None,
            created: now,
            updated: now,
            next: Some(now + t.campaign_pending),
            latest_update: None,
        },
    );
    if !tags.is_empty() {
        w.state.tags.insert(arn.clone(), tags.into_iter().collect());
    }
    Ok(json!({"campaignArn": arn}))
}

/// A configuration as the emulator keeps and reports it: as given, or as the
/// service may normalize it (`--normalize-config`).
fn reported(config: &Config, campaign_config: Option<CampaignConfig>) -> Option<CampaignConfig> {
    if config.normalize_config {
        campaign_config.map(CampaignConfig::normalized)
    } else {
        campaign_config
    }
}

fn campaign_arn_input<'a>(input: &Input<'a>, config: &Config) -> Result<&'a str> {
    let arn = input.required_string("campaignArn")?;
    validate::arn(arn, "campaignArn", config.strict)?;
    Ok(arn)
}

fn missing_campaign(arn: &str) -> ApiError {
    ApiError::not_found(format!("Could not find campaign: {arn}"))
}

fn update_campaign(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let arn = campaign_arn_input(input, config)?;
    let version_arn = input.string("solutionVersionArn")?;
    let tps = input.integer("minProvisionedTPS")?;
    let new_config = input.campaign_config()?;
    if let Some(v) = version_arn {
        validate::arn(v, "solutionVersionArn", config.strict)?;
    }
    if let Some(tps) = tps {
        validate::tps(tps, "minProvisionedTPS")?;
    }
    if let Some(c) = &new_config {
        validate::campaign_config(c)?;
    }
    let Some(campaign) = w.state.campaigns.get(arn) else {
        return Err(missing_campaign(arn));
    };
    let effective_config = reported(config, new_config.clone()).or_else(|| campaign.config.clone());
    let sync = CampaignConfig::sync(effective_config.as_ref());
    let already_syncing = CampaignConfig::sync(campaign.config.as_ref());
    if version_arn.is_some() || !already_syncing {
        sync_rule(version_arn.or(Some(&campaign.solution_version_arn)), sync)?;
    }
    let resolved = match version_arn {
        Some(v) => w.deployable_version(v)?,
        None => campaign.solution_version_arn.clone(),
    };
    if campaign.status != ACTIVE && campaign.status != CREATE_FAILED {
        return Err(ApiError::in_use(format!(
            "Campaign {arn} is in {} state. It must be ACTIVE or CREATE FAILED to be updated.",
            campaign.status
        )));
    }
    if campaign.update_in_progress() {
        return Err(ApiError::in_use(format!(
            "Campaign {arn} has an update in progress. Wait until it finishes."
        )));
    }
    let fail_with = w.state.deploy_failure(&resolved);
    let now = w.now;
    let t = config.timings();
    let Some(campaign) = w.state.campaigns.get_mut(arn) else {
        return Err(missing_campaign(arn));
    };
    let tps = tps.unwrap_or(campaign.min_provisioned_tps);
    let mut update = Update {
        solution_version_arn: resolved.clone(),
        min_provisioned_tps: tps,
        config: effective_config.clone(),
        status: CREATE_PENDING.into(),
        failure_reason: None,
        created: now,
        updated: now,
        next: Some(now + t.campaign_pending),
        fail_with: fail_with.clone(),
    };
    if campaign.status == CREATE_FAILED {
        // The campaign itself goes through the create states again; the
        // update record follows it.
        campaign.solution_version_arn = resolved;
        campaign.min_provisioned_tps = tps;
        campaign.config = effective_config;
        campaign.status = CREATE_PENDING.into();
        campaign.failure_reason = None;
        campaign.updated = now;
        campaign.next = Some(now + t.campaign_pending);
        campaign.fail_with = fail_with;
        update.next = None;
        update.fail_with = None;
    }
    campaign.latest_update = Some(update);
    Ok(json!({"campaignArn": arn}))
}

fn describe_campaign(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let arn = campaign_arn_input(input, config)?;
    let campaign = w
        .state
        .campaigns
        .get(arn)
        .ok_or_else(|| missing_campaign(arn))?;
    Ok(json!({"campaign": campaign.to_json()}))
}

fn list_campaigns(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let solution = input.string("solutionArn")?;
    if let Some(s) = solution {
        validate::arn(s, "solutionArn", config.strict)?;
    }
    let campaigns = w
        .state
        .campaigns
        .values()
        .filter(|c| {
            solution.is_none_or(|s| {
                w.state
                    .versions
                    .get(&c.solution_version_arn)
                    .is_some_and(|v| v.solution_arn == s)
            })
        })
        .map(|c| (c.created, c.arn.clone(), c.summary_json()))
        .collect();
    w.paginate(campaigns, input, "campaigns")
}

fn delete_campaign(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let arn = campaign_arn_input(input, config)?;
    let now = w.now;
    let t = config.timings();
    let campaign = w
        .state
        .campaigns
        .get_mut(arn)
        .ok_or_else(|| missing_campaign(arn))?;
    if campaign.status != ACTIVE && campaign.status != CREATE_FAILED {
        return Err(ApiError::in_use(format!(
            "Campaign {arn} is in {} state and cannot be deleted now",
            campaign.status
        )));
    }
    if campaign.update_in_progress() {
        return Err(ApiError::in_use(format!(
            "Campaign {arn} has an update in progress and cannot be deleted now"
        )));
    }
    campaign.status = DELETE_PENDING.into();
    campaign.updated = now;
    campaign.next = Some(now + t.campaign_pending);
    Ok(json!({}))
}

fn describe_solution(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let arn = input.required_string("solutionArn")?;
    validate::arn(arn, "solutionArn", config.strict)?;
    let solution = w
        .state
        .solutions
        .get(arn)
        .ok_or_else(|| ApiError::not_found(format!("Could not find solution: {arn}")))?;
    Ok(json!({"solution": solution.to_json(w.state.latest_version(arn))}))
}

fn describe_solution_version(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let arn = input.required_string("solutionVersionArn")?;
    validate::arn(arn, "solutionVersionArn", config.strict)?;
    let version =
        w.state.versions.get(arn).ok_or_else(|| {
            ApiError::not_found(format!("Could not find solution version: {arn}"))
        })?;
    let solution = w.state.solutions.get(&version.solution_arn);
    Ok(json!({"solutionVersion": version.to_json(solution, config.speed)}))
}

fn solution_version_input<'a>(
    w: &'a mut World,
    config: &Config,
    input: &Input,
) -> Result<&'a mut SolutionVersion> {
    let arn = input.required_string("solutionVersionArn")?;
    validate::arn(arn, "solutionVersionArn", config.strict)?;
    w.state
        .versions
        .get_mut(arn)
        .ok_or_else(|| ApiError::not_found(format!("Could not find solution version: {arn}")))
}

/// GetSolutionMetrics. For a version that is not ACTIVE (undocumented) it
/// answers ResourceInUseException: there are no metrics before training ends.
fn get_solution_metrics(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let version = solution_version_input(w, config, input)?;
    if version.status != ACTIVE {
        return Err(ApiError::in_use(format!(
            "Solution version {} is in {} state. Metrics are available once it is ACTIVE.",
            version.arn, version.status
        )));
    }
    let metrics = version
        .metrics
        .clone()
        .unwrap_or_else(|| default_metrics(&version.arn));
    Ok(json!({"solutionVersionArn": version.arn, "metrics": metrics}))
}

/// StopSolutionVersionCreation: CREATE PENDING or CREATE IN_PROGRESS becomes
/// CREATE STOPPING, then CREATE STOPPED; any other state is in use.
fn stop_solution_version_creation(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let now = w.now;
    let stopping = config.timings().solution_version_pending;
    let version = solution_version_input(w, config, input)?;
    if version.status != CREATE_PENDING && version.status != CREATE_IN_PROGRESS {
        return Err(ApiError::in_use(format!(
            "Solution version {} is in {} state. Only a version in CREATE PENDING or CREATE IN_PROGRESS can be stopped.",
            version.arn, version.status
        )));
    }
    version.status = CREATE_STOPPING.into();
    version.updated = now;
    version.next = Some(now + stopping);
    version.fail_with = None;
    Ok(json!({}))
}

fn list_solution_versions(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let solution = input.string("solutionArn")?;
    if let Some(s) = solution {
        validate::arn(s, "solutionArn", config.strict)?;
        if !w.state.solutions.contains_key(s) {
            return Err(ApiError::not_found(format!("Could not find solution: {s}")));
        }
    }
    let versions = w
        .state
        .versions
        .values()
        .filter(|v| solution.is_none_or(|s| v.solution_arn == s))
        .map(|v| (v.created, v.arn.clone(), v.summary_json()))
        .collect();
    w.paginate(versions, input, "solutionVersions")
}

fn create_solution(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let name = input.required_string("name")?;
    let group = input.required_string("datasetGroupArn")?;
    let recipe = input.string("recipeArn")?;
    let event_type = input.string("eventType")?;
    let perform_hpo = input.boolean("performHPO")?.unwrap_or(false);
    let perform_auto_ml = input.boolean("performAutoML")?.unwrap_or(false);
    let perform_auto_training = input.boolean("performAutoTraining")?.unwrap_or(true);
    let tags = input.list("tags")?;
    validate::name(name, "name", config.strict)?;
    validate::arn(group, "datasetGroupArn", config.strict)?;
    if let Some(r) = recipe {
        validate::arn(r, "recipeArn", config.strict)?;
    }
    let tags = match tags {
        Some(list) => validate::tags(list, usize::MAX)?,
        None => Vec::new(),
    };
    let arn = w.arn(config, &format!("solution/{name}"));
    if w.state.solutions.contains_key(&arn) {
        return Err(ApiError::already_exists(format!(
            "Solution {arn} already exists"
        )));
    }
    w.check_tags_count(&arn, &tags, config)?;
    let now = w.now;
    let t = config.timings();
    w.state.solutions.insert(
        arn.clone(),
        Solution {
            name: name.into(),
            arn: arn.clone(),
            dataset_group_arn: group.into(),
            recipe_arn: recipe.map(str::to_string),
            event_type: event_type.map(str::to_string),
            perform_hpo,
            perform_auto_ml,
            perform_auto_training,
            status: CREATE_PENDING.into(),
            created: now,
            updated: now,
            next: Some(now + t.solution_create),
        },
    );
    if !tags.is_empty() {
        w.state.tags.insert(arn.clone(), tags.into_iter().collect());
    }
    Ok(json!({"solutionArn": arn}))
}

fn create_solution_version(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let solution_arn = input.required_string("solutionArn")?;
    let name = input.string("name")?;
    let mode = input.string("trainingMode")?.unwrap_or("FULL");
    let tags = input.list("tags")?;
    validate::arn(solution_arn, "solutionArn", config.strict)?;
    if let Some(n) = name {
        validate::name(n, "name", config.strict)?;
    }
    if !matches!(mode, "FULL" | "UPDATE" | "AUTOTRAIN") {
        return Err(validate::constraint(
            mode,
            "trainingMode",
            "Member must satisfy enum value set: [FULL, UPDATE, AUTOTRAIN]",
        ));
    }
    let tags = match tags {
        Some(list) => validate::tags(list, usize::MAX)?,
        None => Vec::new(),
    };
    let arn = start_training(w, config, solution_arn, name, mode, "MANUAL", &tags)?;
    if !tags.is_empty() {
        w.state.tags.insert(arn.clone(), tags.into_iter().collect());
    }
    Ok(json!({"solutionVersionArn": arn, "trainingMode": mode}))
}

/// What automatic training (`performAutoTraining`) does by itself, without
/// an API call: a new version of the solution, `trainingType` AUTOMATIC and
/// `trainingMode` AUTOTRAIN, trained like any other (the same durations,
/// limits and training failures). Refused for a solution whose automatic
/// training is off. Answers the new version's ARN.
pub fn auto_train(w: &mut World, config: &Config, solution_arn: &str) -> Result<String> {
    let automatic = w
        .state
        .solutions
        .get(solution_arn)
        .map(|s| s.perform_auto_training);
    if automatic == Some(false) {
        return Err(ApiError::invalid(format!(
            "Solution {solution_arn} has performAutoTraining false: only a solution with automatic training on (performAutoTraining true, the default) trains new versions by itself"
        )));
    }
    start_training(w, config, solution_arn, None, "AUTOTRAIN", "AUTOMATIC", &[])
}

/// A new solution version of an ACTIVE solution, CREATE PENDING, then
/// training; its training fails if a training failure rule matches it.
fn start_training(
    w: &mut World,
    config: &Config,
    solution_arn: &str,
    name: Option<&str>,
    mode: &str,
    training_type: &str,
    tags: &[(String, String)],
) -> Result<String> {
    let solution =
        w.state.solutions.get(solution_arn).ok_or_else(|| {
            ApiError::not_found(format!("Could not find solution: {solution_arn}"))
        })?;
    if solution.status != ACTIVE {
        return Err(ApiError::in_use(format!(
            "Solution {solution_arn} is in {} state. Wait until it is ACTIVE.",
            solution.status
        )));
    }
    let training = w
        .state
        .versions
        .values()
        .filter(|v| v.status == CREATE_PENDING || v.status == CREATE_IN_PROGRESS)
        .count();
    if training >= 20 {
        return Err(ApiError::new(
            "LimitExceededException",
            "More than 20 solution versions are pending or in progress",
        ));
    }
    let arn = loop {
        let candidate = format!("{solution_arn}/{:08x}", w.rng.next_u64() as u32);
        if !w.state.versions.contains_key(&candidate) {
            break candidate;
        }
    };
    w.check_tags_count(&arn, tags, config)?;
    let now = w.now;
    let t = config.timings();
    w.state.versions.insert(
        arn.clone(),
        SolutionVersion {
            arn: arn.clone(),
            name: name.map(str::to_string),
            solution_arn: solution_arn.into(),
            training_mode: mode.into(),
            training_type: training_type.into(),
            status: CREATE_PENDING.into(),
            failure_reason: None,
            created: now,
            updated: now,
            next: Some(now + t.solution_version_pending),
            fail_with: w.state.training_failure(&arn),
            metrics: None,
        },
    );
    Ok(arn)
}

fn resource_arn<'a>(w: &World, config: &Config, input: &Input<'a>) -> Result<&'a str> {
    let arn = input.required_string("resourceArn")?;
    validate::arn(arn, "resourceArn", config.strict)?;
    if !w.resource_exists(arn) {
        return Err(ApiError::not_found(format!(
            "Could not find resource: {arn}"
        )));
    }
    Ok(arn)
}

fn tag_resource(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let tags = input.list("tags")?.ok_or_else(|| Input::missing("tags"))?;
    let tags = validate::tags(tags, usize::MAX)?;
    let arn = resource_arn(w, config, input)?;
    w.check_tags_count(arn, &tags, config)?;
    w.state
        .tags
        .entry(arn.to_string())
        .or_default()
        .extend(tags);
    Ok(json!({}))
}

fn untag_resource(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let keys = input
        .list("tagKeys")?
        .ok_or_else(|| Input::missing("tagKeys"))?;
    let mut names = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let key = key
            .as_str()
            .ok_or_else(|| ApiError::serialization(format!("tagKeys[{i}] must be a string")))?;
        validate::tag_key(key, i)?;
        names.push(key.to_string());
    }
    if names.len() > config.max_tags {
        return Err(ApiError::new(
            "TooManyTagKeysException",
            format!(
                "The request contains {} tag keys; at most {} are allowed",
                names.len(),
                config.max_tags
            ),
        ));
    }
    let arn = resource_arn(w, config, input)?;
    if let Some(tags) = w.state.tags.get_mut(arn) {
        for key in names {
            tags.remove(&key);
        }
    }
    Ok(json!({}))
}

fn list_tags(w: &mut World, config: &Config, input: &Input) -> Result<Value> {
    let arn = resource_arn(w, config, input)?;
    let tags: Vec<Value> = w
        .state
        .tags
        .get(arn)
        .map(|t| {
            t.iter()
                .map(|(k, v)| json!({"tagKey": k, "tagValue": v}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({"tags": tags}))
}
