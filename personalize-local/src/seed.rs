//! Seeding: solutions, solution versions (in any state) and campaigns to
//! start with, from JSON (a file at start-up, or the admin endpoint).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::api::World;
use crate::config::Config;
use crate::faults::FailRule;
use crate::model::*;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub solutions: Vec<SeedSolution>,
    #[serde(default)]
    pub solution_versions: Vec<SeedVersion>,
    #[serde(default)]
    pub campaigns: Vec<SeedCampaign>,
    /// Deployment failure rules, as with `--fail-deployments`.
    #[serde(default)]
    pub deployment_failures: Vec<FailRule>,
    /// Training failure rules for solution versions created later.
    #[serde(default)]
    pub training_failures: Vec<FailRule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSolution {
    pub name: String,
    pub dataset_group_arn: Option<String>,
    pub recipe_arn: Option<String>,
    pub event_type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Whether it trains new versions by itself (`POST /auto-train`);
    /// default true, as the service's default.
    pub perform_auto_training: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVersion {
    /// The solution's name or ARN.
    pub solution: String,
    /// The version id (the last ARN segment); random when absent.
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    pub failure_reason: Option<String>,
    pub training_mode: Option<String>,
    /// `MANUAL` (default) or `AUTOMATIC` (made by automatic training).
    pub training_type: Option<String>,
    /// Seconds before now it was created (orders `$LATEST`); default 0.
    #[serde(default)]
    pub age_seconds: f64,
    /// How long its training took (its last update is this long after its
    /// creation; at most `ageSeconds`); default 0. Only for a version whose
    /// training has ended.
    pub training_seconds: Option<f64>,
    /// What GetSolutionMetrics answers for it (default: plausible metrics
    /// derived from its id).
    pub metrics: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedCampaign {
    pub name: String,
    pub solution_version_arn: String,
    #[serde(rename = "minProvisionedTPS")]
    pub min_provisioned_tps: Option<i64>,
    pub campaign_config: Option<CampaignConfig>,
    #[serde(default)]
    pub status: Option<String>,
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub tags: Vec<Value>,
}

const STATUSES: &[&str] = &[
    CREATE_PENDING,
    CREATE_IN_PROGRESS,
    ACTIVE,
    CREATE_FAILED,
    CREATE_STOPPING,
    CREATE_STOPPED,
    DELETE_PENDING,
    DELETE_IN_PROGRESS,
];

fn status(given: Option<&str>, what: &str) -> Result<String, String> {
    let s = given.unwrap_or(ACTIVE);
    if STATUSES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{what}: unknown status {s:?}; use one of {STATUSES:?}"
        ))
    }
}

/// The given value, which must be one of `allowed`, or the first of them.
fn one_of(given: Option<&str>, allowed: &[&str], what: &str) -> Result<String, String> {
    match given {
        None => Ok(allowed[0].to_string()),
        Some(v) if allowed.contains(&v) => Ok(v.to_string()),
        Some(v) => Err(format!(
            "{what}: unknown value {v:?}; use one of {allowed:?}"
        )),
    }
}

/// Adds a seed to the world. Everything is checked before anything is added.
pub fn apply(world: &mut World, config: &Config, seed: Seed) -> Result<Value, String> {
    let now = world.now;
    let t = config.timings();
    let prefix = format!(
        "arn:{}:personalize:{}:{}",
        config.partition, config.region, config.account
    );
    let mut solutions = Vec::new();
    for s in &seed.solutions {
        crate::validate::name(&s.name, "name", true).map_err(|e| e.message)?;
        let status = status(s.status.as_deref(), &format!("solution {}", s.name))?;
        let arn = format!("{prefix}:solution/{}", s.name);
        solutions.push(Solution {
            name: s.name.clone(),
            arn,
            dataset_group_arn: s
                .dataset_group_arn
                .clone()
                .unwrap_or_else(|| format!("{prefix}:dataset-group/default")),
            recipe_arn: s.recipe_arn.clone(),
            event_type: s.event_type.clone(),
            perform_hpo: false,
            perform_auto_ml: false,
            perform_auto_training: s.perform_auto_training.unwrap_or(true),
            next: (status == CREATE_PENDING).then_some(now + t.solution_create),
            status,
            created: now,
            updated: now,
        });
    }
    let known_solution = |name_or_arn: &str| -> Option<String> {
        let arn = if name_or_arn.starts_with("arn:") {
            name_or_arn.to_string()
        } else {
            format!("{prefix}:solution/{name_or_arn}")
        };
        (solutions.iter().any(|s| s.arn == arn) || world.state.solutions.contains_key(&arn))
            .then_some(arn)
    };
    let mut versions = Vec::new();
    for (i, v) in seed.solution_versions.iter().enumerate() {
        let solution_arn = known_solution(&v.solution)
            .ok_or_else(|| format!("solutionVersions[{i}]: unknown solution {:?}", v.solution))?;
        let status = status(v.status.as_deref(), &format!("solutionVersions[{i}]"))?;
        let id = match &v.id {
            Some(id) if !id.is_empty() && !id.contains('/') => id.clone(),
            Some(id) => return Err(format!("solutionVersions[{i}]: bad id {id:?}")),
            None => format!("{:08x}", world.rng.next_u64() as u32),
        };
        let training_mode = one_of(
            v.training_mode.as_deref(),
            &["FULL", "UPDATE", "AUTOTRAIN"],
            &format!("solutionVersions[{i}].trainingMode"),
        )?;
        let training_type = one_of(
            v.training_type.as_deref(),
            &["MANUAL", "AUTOMATIC"],
            &format!("solutionVersions[{i}].trainingType"),
        )?;
        let created = now - v.age_seconds.max(0.0);
        let next = match status.as_str() {
            CREATE_PENDING => Some(now + t.solution_version_pending),
            CREATE_IN_PROGRESS => Some(now + t.solution_version_training),
            CREATE_STOPPING => Some(now + t.solution_version_pending),
            _ => None,
        };
        let updated = match v.training_seconds {
            None => created,
            Some(took) if next.is_none() && (0.0..=v.age_seconds).contains(&took) => created + took,
            Some(took) => {
                return Err(format!(
                    "solutionVersions[{i}].trainingSeconds: {took} must be at most ageSeconds \
                     ({}), and only for a version whose training has ended",
                    v.age_seconds
                ));
            }
        };
        versions.push(SolutionVersion {
            arn: format!("{solution_arn}/{id}"),
            name: None,
            solution_arn,
            training_mode,
            training_type,
            failure_reason: (status == CREATE_FAILED).then(|| {
                v.failure_reason
                    .clone()
                    .unwrap_or_else(|| "Training failed (seeded)".into())
            }),
            status,
            created,
            updated,
            next,
            fail_with: None,
            metrics: v.metrics.clone(),
        });
    }
    let mut campaigns = Vec::new();
    for c in &seed.campaigns {
        crate::validate::name(&c.name, "name", true).map_err(|e| e.message)?;
        let known = versions.iter().any(|v| v.arn == c.solution_version_arn)
            || world.state.versions.contains_key(&c.solution_version_arn);
        if !known {
            return Err(format!(
                "campaign {}: unknown solution version {}",
                c.name, c.solution_version_arn
            ));
        }
        let status = status(c.status.as_deref(), &format!("campaign {}", c.name))?;
        let arn = format!("{prefix}:campaign/{}", c.name);
        if world.state.campaigns.contains_key(&arn)
            || campaigns
                .iter()
                .any(|(x, _): &(Campaign, Vec<(String, String)>)| x.arn == arn)
        {
            return Err(format!("campaign {} exists already", c.name));
        }
        let tags = crate::validate::tags(&c.tags, config.max_tags).map_err(|e| e.message)?;
        let next = match status.as_str() {
            CREATE_PENDING | DELETE_PENDING => Some(now + t.campaign_pending),
            CREATE_IN_PROGRESS => Some(now + t.campaign_create),
            DELETE_IN_PROGRESS => Some(now + t.campaign_delete),
            _ => None,
        };
        campaigns.push((
            Campaign {
                name: c.name.clone(),
                arn,
                solution_version_arn: c.solution_version_arn.clone(),
                min_provisioned_tps: c.min_provisioned_tps.unwrap_or(1),
                config: c.campaign_config.clone(),
                failure_reason: (status == CREATE_FAILED).then(|| {
                    c.failure_reason
                        .clone()
                        .unwrap_or_else(|| "Campaign creation failed (seeded)".into())
                }),
                status,
                created: now,
                updated: now,
                next,
                fail_with: None,
                latest_update: None,
            },
            tags,
        ));
    }
    let counts = serde_json::json!({
        "solutions": solutions.len(),
        "solutionVersions": versions.len(),
        "campaigns": campaigns.len(),
    });
    for s in solutions {
        world.state.solutions.insert(s.arn.clone(), s);
    }
    for v in versions {
        world.state.versions.insert(v.arn.clone(), v);
    }
    for (c, tags) in campaigns {
        if !tags.is_empty() {
            world
                .state
                .tags
                .insert(c.arn.clone(), tags.into_iter().collect());
        }
        world.state.campaigns.insert(c.arn.clone(), c);
    }
    world.state.deploy_failures.extend(seed.deployment_failures);
    world.state.training_failures.extend(seed.training_failures);
    Ok(counts)
}
