//! Configuration, read once at start-up from environment variables. Each
//! variable is documented in the README; a missing or malformed value is an
//! error that names the variable and the rule. An empty value counts as unset.

use std::ops::RangeInclusive;

use crate::domain::arn::check_state_machine_arn;
use crate::domain::status::PollPolicy;

#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable} {rule}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub rule: String,
}

/// The message itself: a binary's `main` that fails at start-up prints its
/// error with `Debug`, and that is what the operator reads.
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// deploy-trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerConfig {
    /// `STATE_MACHINE_ARN` (required): the deployment state machine.
    pub state_machine_arn: String,
    /// `S3_FORCE_PATH_STYLE` (default false): path-style S3 addressing, for
    /// S3-compatible local endpoints.
    pub s3_force_path_style: bool,
}

/// deploy-campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployConfig {
    /// `DEFAULT_MIN_PROVISIONED_TPS` (default 1): used when a request that
    /// creates a campaign gives no `minProvisionedTPS`.
    pub default_min_provisioned_tps: i32,
}

/// campaign-status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusConfig {
    /// `POLL_INITIAL_SECONDS`, `POLL_MAX_SECONDS`, `POLL_BACKOFF_RATE`,
    /// `DEPLOYMENT_DEADLINE_SECONDS`.
    pub poll: PollPolicy,
}

/// A source of variables: the process environment, or a map in tests.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

fn value(env: &impl Env, name: &str) -> Option<String> {
    env.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn integer(
    env: &impl Env,
    variable: &'static str,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(raw) = value(env, variable) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(ConfigError {
            variable,
            rule: format!(
                "must be a whole number from {} to {}, got {raw:?}",
                range.start(),
                range.end()
            ),
        }),
    }
}

fn boolean(env: &impl Env, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
    match value(env, variable)
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(ConfigError {
            variable,
            rule: format!("must be true or false, got {other:?}"),
        }),
    }
}

impl TriggerConfig {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let variable = "STATE_MACHINE_ARN";
        let arn = value(env, variable).ok_or(ConfigError {
            variable,
            rule: "is required: the ARN of the deployment state machine".to_string(),
        })?;
        check_state_machine_arn(&arn).map_err(|rule| ConfigError {
            variable,
            rule: format!("{rule}, got {arn:?}"),
        })?;
        Ok(TriggerConfig {
            state_machine_arn: arn,
            s3_force_path_style: boolean(env, "S3_FORCE_PATH_STYLE", false)?,
        })
    }
}

impl DeployConfig {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let tps = integer(env, "DEFAULT_MIN_PROVISIONED_TPS", 1, 1..=i32::MAX as u64)?;
        Ok(DeployConfig {
            default_min_provisioned_tps: tps as i32,
        })
    }
}

/// The longest wait a Step Functions Wait state allows is a year; a day is
/// plenty between two polls.
const MAX_POLL_SECONDS: u64 = 24 * 60 * 60;
/// Step Functions standard executions last at most a year.
const MAX_DEADLINE_SECONDS: u64 = 365 * 24 * 60 * 60;

impl StatusConfig {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let defaults = PollPolicy::default();
        let initial = integer(
            env,
            "POLL_INITIAL_SECONDS",
            defaults.initial_seconds,
            1..=MAX_POLL_SECONDS,
        )?;
        let max = integer(
            env,
            "POLL_MAX_SECONDS",
            defaults.max_seconds.max(initial),
            1..=MAX_POLL_SECONDS,
        )?;
        // A cap below the first wait would make every wait the cap: take the
        // first wait as the cap rather than refuse to run (the template cannot
        // enforce the order of its two parameters).
        let max = if max < initial {
            tracing::warn!(
                POLL_MAX_SECONDS = max,
                POLL_INITIAL_SECONDS = initial,
                "POLL_MAX_SECONDS is below POLL_INITIAL_SECONDS; using {initial} for both"
            );
            initial
        } else {
            max
        };
        let variable = "POLL_BACKOFF_RATE";
        let backoff_rate = match value(env, variable) {
            None => defaults.backoff_rate,
            Some(raw) => match raw.parse::<f64>() {
                Ok(v) if (1.0..=10.0).contains(&v) => v,
                _ => {
                    return Err(ConfigError {
                        variable,
                        rule: format!("must be a number from 1 to 10, got {raw:?}"),
                    });
                }
            },
        };
        let deadline = integer(
            env,
            "DEPLOYMENT_DEADLINE_SECONDS",
            defaults.deadline_seconds,
            1..=MAX_DEADLINE_SECONDS,
        )?;
        Ok(StatusConfig {
            poll: PollPolicy {
                initial_seconds: initial,
                max_seconds: max,
                backoff_rate,
                deadline_seconds: deadline,
            },
        })
    }
}
