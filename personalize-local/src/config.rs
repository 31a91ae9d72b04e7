//! Start-up options (command line), with their defaults.

use std::path::PathBuf;

use crate::faults::{FailRule, Faults};
use crate::model::Timings;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub host: String,
    /// 0 picks any free port.
    pub port: u16,
    pub partition: String,
    pub region: String,
    pub account: String,
    /// Lifecycle durations before `speed` is applied.
    pub durations: Timings,
    /// Every duration is divided by this (600: a 10-minute creation in 1 s).
    pub speed: f64,
    pub max_active_campaigns: usize,
    pub max_tags: usize,
    /// Anchor the model's patterns at both ends (the model's own are search
    /// patterns and accept e.g. `a.b` as a name).
    pub strict: bool,
    /// Report campaign configurations as the service may (exploration
    /// defaults filled in, numbers reformatted) instead of echoing them.
    pub normalize_config: bool,
    pub faults: Faults,
    pub deploy_failures: Vec<FailRule>,
    pub seed_file: Option<PathBuf>,
    pub random_seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 4580,
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
            durations: Timings::default(),
            speed: 1.0,
            max_active_campaigns: 5,
            max_tags: 50,
            strict: false,
            normalize_config: false,
            faults: Faults::default(),
            deploy_failures: Vec::new(),
            seed_file: None,
            random_seed: 0x5eed,
        }
    }
}

impl Config {
    /// The durations in effect: the configured ones divided by `speed`.
    pub fn timings(&self) -> Timings {
        let d = &self.durations;
        let s = self.speed;
        Timings {
            campaign_pending: d.campaign_pending / s,
            campaign_create: d.campaign_create / s,
            campaign_update: d.campaign_update / s,
            campaign_delete: d.campaign_delete / s,
            solution_create: d.solution_create / s,
            solution_version_pending: d.solution_version_pending / s,
            solution_version_training: d.solution_version_training / s,
        }
    }

    /// A configuration for tests: any free port, everything 1000× faster.
    pub fn for_tests() -> Config {
        Config {
            port: 0,
            speed: 1000.0,
            ..Config::default()
        }
    }
}

pub const USAGE: &str = "\
personalize-local: an offline emulator of the Amazon Personalize control plane

USAGE: personalize-local [OPTIONS]

Server
  --host ADDR                        listen address (default 127.0.0.1)
  --port N                           listen port; 0 picks a free one (default 4580)
  --partition P --region R --account A
                                     ARNs of the resources it creates
                                     (default aws, us-east-1, 111122223333)
Time
  --speed X                          divide every duration by X (default 1)
  --campaign-pending-seconds S       CREATE/DELETE PENDING (default 5)
  --campaign-create-seconds S        campaign CREATE IN_PROGRESS (default 600)
  --campaign-update-seconds S        update CREATE IN_PROGRESS (default 300)
  --campaign-delete-seconds S        DELETE IN_PROGRESS (default 60)
  --solution-create-seconds S        solution CREATE PENDING (default 5)
  --solution-version-pending-seconds S   (default 5)
  --solution-version-training-seconds S  training (default 3600)
Rules
  --max-active-campaigns N           ACTIVE campaigns per dataset group (default 5)
  --strict                           anchor name and ARN patterns at both ends
  --normalize-config                 report campaignConfig as the service may: fill in
                                     the itemExplorationConfig defaults, write numbers
                                     in their shortest form (0.30 as 0.3)
Faults
  --throttle-rate P                  answer this share of requests with throttling (0-1)
  --throttle-error NAME              ThrottlingException (default) or LimitExceededException
  --error-rate P                     answer this share of requests with a 5xx (0-1)
  --error-status N                   500 (default) or 503
  --fail-deployments ARN=REASON      deployments of this solution version (or of any
                                     version of this solution ARN, or * for all) end
                                     CREATE FAILED with REASON; repeatable
  --random-seed N                    seed of the fault and id generator (default 24301)
Seeding
  --seed-file PATH                   start with the solutions, versions and campaigns
                                     in this JSON file (see the README)
  --help                             this text
";

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a valid number"))
}

fn seconds(flag: &str, value: &str) -> Result<f64, String> {
    let v: f64 = number(flag, value)?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{flag}: must be zero or more seconds, got {value}"))
    }
}

impl Config {
    /// Parses command-line arguments (without the program name). `Ok(None)`
    /// means `--help`.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Config>, String> {
        let mut c = Config::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            if flag == "--help" || flag == "-h" {
                return Ok(None);
            }
            if flag == "--strict" {
                c.strict = true;
                continue;
            }
            if flag == "--normalize-config" {
                c.normalize_config = true;
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("{flag}: a value is required"))?;
            let v = value.as_str();
            let d = &mut c.durations;
            match flag.as_str() {
                "--host" => c.host = value,
                "--port" => c.port = number(&flag, v)?,
                "--partition" => c.partition = value,
                "--region" => c.region = value,
                "--account" => c.account = value,
                "--speed" => {
                    c.speed = number(&flag, v)?;
                    if !(c.speed.is_finite() && c.speed > 0.0) {
                        return Err(format!("--speed: must be more than 0, got {v}"));
                    }
                }
                "--campaign-pending-seconds" => d.campaign_pending = seconds(&flag, v)?,
                "--campaign-create-seconds" => d.campaign_create = seconds(&flag, v)?,
                "--campaign-update-seconds" => d.campaign_update = seconds(&flag, v)?,
                "--campaign-delete-seconds" => d.campaign_delete = seconds(&flag, v)?,
                "--solution-create-seconds" => d.solution_create = seconds(&flag, v)?,
                "--solution-version-pending-seconds" => {
                    d.solution_version_pending = seconds(&flag, v)?
                }
                "--solution-version-training-seconds" => {
                    d.solution_version_training = seconds(&flag, v)?
                }
                "--max-active-campaigns" => c.max_active_campaigns = number(&flag, v)?,
                "--throttle-rate" => c.faults.throttle_rate = number(&flag, v)?,
                "--throttle-error" => c.faults.throttle_error = value,
                "--error-rate" => c.faults.error_rate = number(&flag, v)?,
                "--error-status" => c.faults.error_status = number(&flag, v)?,
                "--fail-deployments" => {
                    let (arn, reason) = v
                        .split_once('=')
                        .ok_or_else(|| format!("{flag}: expected ARN=REASON, got {v:?}"))?;
                    c.deploy_failures.push(FailRule {
                        solution_version_arn: arn.into(),
                        reason: reason.into(),
                    });
                }
                "--random-seed" => c.random_seed = number(&flag, v)?,
                "--seed-file" => c.seed_file = Some(PathBuf::from(value)),
                other => return Err(format!("unknown option {other}; see --help")),
            }
        }
        c.faults.check()?;
        Ok(Some(c))
    }
}
