//! Configuration, read once at start-up from environment variables. Each
//! variable is documented in docs/configuration.md; a missing or malformed value is an
//! error that names the variable and the rule. An empty value counts as unset.

use std::ops::RangeInclusive;

use crate::domain::arn::check_state_machine_arn;
use crate::domain::gate::{Gate, GateChoice};
use crate::domain::request::Scope;
use crate::domain::schedule::{PollPolicy, TRAINING_POLICY};
use crate::domain::watch::{
    DEFAULT_WATCH_MINUTES, MAX_WATCH_MINUTES, WatchChoice, WatchDefaults, check_alarms,
};
use crate::domain::watching::WATCH_LOOK_SECONDS;

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
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerConfig {
    /// `STATE_MACHINE_ARN` (required): the deployment state machine.
    pub state_machine_arn: String,
    /// `S3_FORCE_PATH_STYLE` (default false): path-style S3 addressing, for
    /// S3-compatible local endpoints.
    pub s3_force_path_style: bool,
    /// `ACCOUNT_ID` and `AWS_REGION` (each unchecked when unset),
    /// `CAMPAIGN_NAME_PREFIX` (default empty: every campaign) and
    /// `MAX_PROVISIONED_TPS` (default none): the requests this stack admits;
    /// and its default gate and watch.
    pub scope: Scope,
    /// `PERSONALIZE_CALLS_PER_SECOND` (1 to 100, default
    /// [`PERSONALIZE_CALLS_PER_SECOND`]): the most Personalize calls one
    /// invocation starts in a second (a look over a large account makes
    /// two per followed campaign).
    pub personalize_calls_per_second: u32,
}

/// deploy-trigger's default bound on its Personalize calls: Personalize
/// documents no control-plane rate; a look stays well below any an account
/// is likely to have, and leaves room for its other callers.
pub const PERSONALIZE_CALLS_PER_SECOND: u32 = 10;

/// deploy-campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployConfig {
    /// `DEFAULT_MIN_PROVISIONED_TPS` (default 1, at most
    /// `MAX_PROVISIONED_TPS`): used when a request that creates a campaign
    /// gives no `minProvisionedTPS`.
    pub default_min_provisioned_tps: i32,
    /// The stack's place and TPS cap, as deploy-trigger reads them: an
    /// execution is held to them again before anything is written.
    pub scope: Scope,
}

/// campaign-status.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusConfig {
    /// `POLL_INITIAL_SECONDS`, `POLL_MAX_SECONDS`, `POLL_BACKOFF_RATE`,
    /// `DEPLOYMENT_DEADLINE_SECONDS`, `POLL_HOLD_SECONDS` (default 5; 0 never
    /// holds around an expected end).
    pub poll: PollPolicy,
    /// `TRAINING_POLL_SECONDS` (default 600: the longest wait; the waits
    /// start at a minute and double up to it), `TRAINING_DEADLINE_SECONDS`
    /// (default 86400, counted from the execution's start).
    pub training: PollPolicy,
    /// `METRICS_NAMESPACE` (default `PersonalizeDeployer`): the CloudWatch
    /// namespace of the deployments' metrics.
    pub metrics_namespace: String,
    /// `WATCH_LOOK_SECONDS` (default 10, 1 to 30): how often a watch reads
    /// its alarms.
    pub watch_look_seconds: u64,
    /// The stack's place, as deploy-trigger reads it: a campaign's record is
    /// written only within it.
    pub scope: Scope,
}

/// The metrics' namespace when `METRICS_NAMESPACE` is unset.
pub const DEFAULT_METRICS_NAMESPACE: &str = "PersonalizeDeployer";

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

/// The stack's scope with its default gate and watch (deploy-trigger's).
fn scope(env: &impl Env) -> Result<Scope, ConfigError> {
    Ok(Scope {
        default_gate: default_gate(env)?,
        watch: watch_defaults(env)?,
        ..place(env)?
    })
}

/// Where the stack deploys and its TPS cap, which every function reads
/// alike: `ACCOUNT_ID`, `AWS_REGION`, `CAMPAIGN_NAME_PREFIX`,
/// `MAX_PROVISIONED_TPS`.
fn place(env: &impl Env) -> Result<Scope, ConfigError> {
    let variable = "ACCOUNT_ID";
    let account = value(env, variable);
    if let Some(account) = &account
        && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ConfigError {
            variable,
            rule: format!("must be a 12-digit AWS account id, got {account:?}"),
        });
    }
    let variable = "CAMPAIGN_NAME_PREFIX";
    let prefix = value(env, variable).unwrap_or_default();
    let allowed = |(i, c): (usize, char)| c.is_ascii_alphanumeric() || (i > 0 && "-_".contains(c));
    if prefix.len() > 63 || !prefix.chars().enumerate().all(allowed) {
        return Err(ConfigError {
            variable,
            rule: format!(
                "must be the start of a campaign name (at most 63 letters, digits, - and _, \
                 starting with a letter or digit), got {prefix:?}"
            ),
        });
    }
    let variable = "MAX_PROVISIONED_TPS";
    let max_tps = match value(env, variable) {
        Some(_) => Some(integer(env, variable, 1, 1..=i32::MAX as u64)? as i32),
        None => None,
    };
    Ok(Scope {
        account,
        region: value(env, "AWS_REGION"),
        campaign_name_prefix: prefix,
        max_provisioned_tps: max_tps,
        ..Scope::default()
    })
}

/// The stack's watch: `WATCH_ALARMS` (alarm names separated by commas,
/// `{campaign}` standing for the campaign's name; none when empty) and
/// `WATCH_MINUTES` (the period, default 60), held to the rules of a
/// request's watch.
fn watch_defaults(env: &impl Env) -> Result<WatchDefaults, ConfigError> {
    let minutes = integer(
        env,
        "WATCH_MINUTES",
        DEFAULT_WATCH_MINUTES,
        1..=MAX_WATCH_MINUTES,
    )?;
    let variable = "WATCH_ALARMS";
    let alarms = match WatchChoice::from_text(value(env, variable).as_deref(), None, variable, "") {
        Ok(Some(WatchChoice::Given { alarms, .. })) => alarms,
        Ok(_) => Vec::new(),
        Err(errors) => {
            return Err(ConfigError {
                variable,
                rule: errors[0].rule.clone(),
            });
        }
    };
    let mut errors = Vec::new();
    if !alarms.is_empty() {
        check_alarms(&alarms, variable, &mut errors);
    }
    if let Some(e) = errors.first() {
        return Err(ConfigError {
            variable,
            rule: format!("{}: {}", e.field, e.rule),
        });
    }
    Ok(WatchDefaults { alarms, minutes })
}

/// `METRICS_NAMESPACE`: 1 to 255 characters, CloudWatch's limit on a
/// namespace, not starting with `AWS/` (reserved for AWS's own).
fn namespace(env: &impl Env) -> Result<String, ConfigError> {
    let variable = "METRICS_NAMESPACE";
    let Some(namespace) = value(env, variable) else {
        return Ok(DEFAULT_METRICS_NAMESPACE.to_string());
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#:".contains(c);
    if namespace.len() > 255 || !namespace.chars().all(allowed) || namespace.starts_with("AWS/") {
        return Err(ConfigError {
            variable,
            rule: format!(
                "must be 1 to 255 letters, digits and . - _ / # :, not starting with AWS/, got \
                 {namespace:?}"
            ),
        });
    }
    Ok(namespace)
}

/// The stack's default gate: each gate member's variable
/// (`DEFAULT_GATE_METRIC`, none when empty, and its thresholds
/// `DEFAULT_GATE_MAX_DROP`, `DEFAULT_GATE_MAX_RELATIVE_DROP`,
/// `DEFAULT_GATE_MIN_VALUE`), held to the rules of a request's gate.
fn default_gate(env: &impl Env) -> Result<Option<Gate>, ConfigError> {
    let read = Gate::from_text(|member| value(env, member.names().variable), false);
    match read {
        Ok(choice) => Ok(choice.and_then(GateChoice::into_gate)),
        Err(errors) => {
            let e = &errors[0];
            Err(ConfigError {
                variable: e.member_or_metric().names().variable,
                rule: e.rule.clone(),
            })
        }
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
            scope: scope(env)?,
            personalize_calls_per_second: integer(
                env,
                "PERSONALIZE_CALLS_PER_SECOND",
                u64::from(PERSONALIZE_CALLS_PER_SECOND),
                1..=100,
            )? as u32,
        })
    }
}

impl DeployConfig {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let scope = place(env)?;
        let cap = scope.max_provisioned_tps.unwrap_or(i32::MAX);
        let tps =
            integer(env, "DEFAULT_MIN_PROVISIONED_TPS", 1, 1..=cap as u64).map_err(
                |e| match scope.max_provisioned_tps {
                    Some(cap) => ConfigError {
                        rule: format!(
                            "{}: it may not be above MAX_PROVISIONED_TPS ({cap})",
                            e.rule
                        ),
                        ..e
                    },
                    None => e,
                },
            )?;
        Ok(DeployConfig {
            default_min_provisioned_tps: tps as i32,
            scope,
        })
    }
}

/// The longest wait a Step Functions Wait state allows is a year; a day is
/// plenty between two polls.
const MAX_POLL_SECONDS: u64 = 24 * 60 * 60;
/// The longest interval of the looks of a hold (a hold lasts at most
/// [`crate::domain::schedule::MAX_HOLD_SECONDS`]).
const MAX_HOLD_LOOK_SECONDS: u64 = 60;
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
        let hold = integer(
            env,
            "POLL_HOLD_SECONDS",
            defaults.hold_seconds,
            0..=MAX_HOLD_LOOK_SECONDS,
        )?;
        let training_max = integer(
            env,
            "TRAINING_POLL_SECONDS",
            TRAINING_POLICY.max_seconds,
            1..=MAX_POLL_SECONDS,
        )?;
        let training_deadline = integer(
            env,
            "TRAINING_DEADLINE_SECONDS",
            TRAINING_POLICY.deadline_seconds,
            1..=MAX_DEADLINE_SECONDS,
        )?;
        let training_hold = integer(
            env,
            "TRAINING_HOLD_SECONDS",
            TRAINING_POLICY.hold_seconds,
            0..=MAX_HOLD_LOOK_SECONDS,
        )?;
        Ok(StatusConfig {
            poll: PollPolicy {
                initial_seconds: initial,
                max_seconds: max,
                backoff_rate,
                deadline_seconds: deadline,
                hold_seconds: hold,
                ..defaults
            },
            training: PollPolicy {
                initial_seconds: TRAINING_POLICY.initial_seconds.min(training_max),
                max_seconds: training_max,
                deadline_seconds: training_deadline,
                hold_seconds: training_hold,
                ..TRAINING_POLICY
            },
            metrics_namespace: namespace(env)?,
            watch_look_seconds: integer(
                env,
                "WATCH_LOOK_SECONDS",
                WATCH_LOOK_SECONDS as u64,
                1..=30,
            )?,
            scope: place(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    //! Defaults, and clear errors that name the variable and the rule.

    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const ARN: &str = "arn:aws:states:us-east-1:111122223333:stateMachine:personalize-deployer";

    #[test]
    fn trigger_needs_a_state_machine_arn() {
        let c = TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", ARN)])).unwrap();
        assert_eq!(c.state_machine_arn, ARN);
        assert!(!c.s3_force_path_style);
        let e = TriggerConfig::from_env(&env(&[])).unwrap_err();
        assert_eq!(e.variable, "STATE_MACHINE_ARN");
        assert_eq!(
            e.to_string(),
            "configuration error: STATE_MACHINE_ARN is required: the ARN of the deployment state machine"
        );
        let e = TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", "  ")])).unwrap_err();
        assert!(e.rule.contains("is required"));
        let e = TriggerConfig::from_env(&env(&[(
            "STATE_MACHINE_ARN",
            "arn:aws:lambda:us-east-1:111122223333:function:x",
        )]))
        .unwrap_err();
        assert!(e.rule.contains("must be a state machine ARN"), "{e}");
        // Version- and alias-qualified ARNs are accepted, as StartExecution does.
        for qualified in [format!("{ARN}:3"), format!("{ARN}:live")] {
            assert!(
                TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", &qualified)])).is_ok(),
                "{qualified}"
            );
        }
        let e = TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", &format!("{ARN}:a:b"))]))
            .unwrap_err();
        assert!(e.rule.contains("must be a state machine ARN"), "{e}");
    }

    #[test]
    fn trigger_path_style_is_a_boolean() {
        let c = TriggerConfig::from_env(&env(&[
            ("STATE_MACHINE_ARN", ARN),
            ("S3_FORCE_PATH_STYLE", "TRUE"),
        ]))
        .unwrap();
        assert!(c.s3_force_path_style);
        let e = TriggerConfig::from_env(&env(&[
            ("STATE_MACHINE_ARN", ARN),
            ("S3_FORCE_PATH_STYLE", "maybe"),
        ]))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration error: S3_FORCE_PATH_STYLE must be true or false, got \"maybe\""
        );
    }

    #[test]
    fn trigger_paces_its_personalize_calls_at_10_a_second_unless_told() {
        let c = TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", ARN)])).unwrap();
        assert_eq!(c.personalize_calls_per_second, 10);
        let c = TriggerConfig::from_env(&env(&[
            ("STATE_MACHINE_ARN", ARN),
            ("PERSONALIZE_CALLS_PER_SECOND", "100"),
        ]))
        .unwrap();
        assert_eq!(c.personalize_calls_per_second, 100);
        for bad in ["0", "101", "fast"] {
            let e = TriggerConfig::from_env(&env(&[
                ("STATE_MACHINE_ARN", ARN),
                ("PERSONALIZE_CALLS_PER_SECOND", bad),
            ]))
            .unwrap_err();
            assert!(
                e.to_string().contains("PERSONALIZE_CALLS_PER_SECOND"),
                "{e}"
            );
            assert!(e.to_string().contains("from 1 to 100"), "{e}");
        }
    }

    #[test]
    fn trigger_scope_is_the_account_region_and_campaign_name_prefix() {
        let c = TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", ARN)])).unwrap();
        assert_eq!(c.scope, Scope::default(), "unset: every request");
        let c = TriggerConfig::from_env(&env(&[
            ("STATE_MACHINE_ARN", ARN),
            ("ACCOUNT_ID", "111122223333"),
            ("AWS_REGION", "us-east-1"),
            ("CAMPAIGN_NAME_PREFIX", "team-a-"),
            ("MAX_PROVISIONED_TPS", "10"),
        ]))
        .unwrap();
        assert_eq!(
            c.scope,
            Scope {
                account: Some("111122223333".into()),
                region: Some("us-east-1".into()),
                campaign_name_prefix: "team-a-".into(),
                default_gate: None,
                watch: WatchDefaults::default(),
                max_provisioned_tps: Some(10),
            }
        );
        for (variable, value, rule) in [
            ("ACCOUNT_ID", "12345", "12-digit"),
            ("MAX_PROVISIONED_TPS", "0", "from 1 to"),
            ("CAMPAIGN_NAME_PREFIX", "-team", "start of a campaign name"),
            ("CAMPAIGN_NAME_PREFIX", "team a", "start of a campaign name"),
        ] {
            let e = TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", ARN), (variable, value)]))
                .unwrap_err();
            assert_eq!(e.variable, variable);
            assert!(e.rule.contains(rule), "{}", e.rule);
        }
    }

    #[test]
    fn the_task_functions_read_the_same_place_and_cap_as_deploy_trigger() {
        let vars = [
            ("ACCOUNT_ID", "111122223333"),
            ("AWS_REGION", "us-east-1"),
            ("CAMPAIGN_NAME_PREFIX", "team-a-"),
            ("MAX_PROVISIONED_TPS", "10"),
            ("WATCH_ALARMS", "recs-ctr"),
        ];
        let mut trigger = vec![("STATE_MACHINE_ARN", ARN)];
        trigger.extend_from_slice(&vars);
        let place = Scope {
            watch: WatchDefaults::default(),
            ..TriggerConfig::from_env(&env(&trigger)).unwrap().scope
        };
        assert_eq!(DeployConfig::from_env(&env(&vars)).unwrap().scope, place);
        assert_eq!(StatusConfig::from_env(&env(&vars)).unwrap().scope, place);
    }

    #[test]
    fn the_default_tps_of_a_new_campaign_may_not_pass_the_cap() {
        let within = DeployConfig::from_env(&env(&[
            ("MAX_PROVISIONED_TPS", "10"),
            ("DEFAULT_MIN_PROVISIONED_TPS", "10"),
        ]))
        .unwrap();
        assert_eq!(within.default_min_provisioned_tps, 10);
        let e = DeployConfig::from_env(&env(&[
            ("MAX_PROVISIONED_TPS", "10"),
            ("DEFAULT_MIN_PROVISIONED_TPS", "11"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "DEFAULT_MIN_PROVISIONED_TPS");
        assert!(
            e.rule.contains("may not be above MAX_PROVISIONED_TPS (10)"),
            "{}",
            e.rule
        );
    }

    #[test]
    fn the_stacks_watch_is_read_and_checked_naming_its_variable() {
        let watch = |vars: &[(&str, &str)]| {
            let mut all = vec![("STATE_MACHINE_ARN", ARN)];
            all.extend_from_slice(vars);
            TriggerConfig::from_env(&env(&all)).map(|c| c.scope.watch)
        };
        assert_eq!(watch(&[]).unwrap(), WatchDefaults::default());
        assert_eq!(
            watch(&[
                ("WATCH_ALARMS", "recs-{campaign}-5xx, recs-ctr"),
                ("WATCH_MINUTES", "90")
            ])
            .unwrap(),
            WatchDefaults {
                alarms: vec!["recs-{campaign}-5xx".into(), "recs-ctr".into()],
                minutes: 90,
            }
        );
        let e = watch(&[("WATCH_MINUTES", "721")]).unwrap_err();
        assert_eq!(e.variable, "WATCH_MINUTES");
        let e = watch(&[("WATCH_ALARMS", "a,,a")]).unwrap_err();
        assert_eq!(e.variable, "WATCH_ALARMS");
        assert!(e.rule.contains("must not be empty"), "{e:?}");
    }

    #[test]
    fn the_default_gate_is_read_and_checked_naming_its_variable() {
        let gate = |pairs: &[(&str, &str)]| {
            let mut vars = vec![("STATE_MACHINE_ARN", ARN)];
            vars.extend_from_slice(pairs);
            TriggerConfig::from_env(&env(&vars)).map(|c| c.scope.default_gate)
        };
        assert_eq!(gate(&[]).unwrap(), None, "none by default");
        assert_eq!(
            gate(&[
                ("DEFAULT_GATE_METRIC", "coverage"),
                ("DEFAULT_GATE_MIN_VALUE", "0.1"),
                ("DEFAULT_GATE_MAX_DROP", " "),
            ])
            .unwrap(),
            Some(Gate {
                metric: "coverage".into(),
                max_drop: None,
                max_relative_drop: None,
                min_value: Some(0.1),
            }),
            "an empty variable is unset"
        );
        for (pairs, variable, rule) in [
            (
                vec![
                    ("DEFAULT_GATE_METRIC", "coverage"),
                    ("DEFAULT_GATE_MAX_DROP", "a lot"),
                ],
                "DEFAULT_GATE_MAX_DROP",
                "must be a number, got \"a lot\"",
            ),
            (
                vec![("DEFAULT_GATE_MIN_VALUE", "0.1")],
                "DEFAULT_GATE_METRIC",
                "is required when a gate threshold is set",
            ),
            (
                vec![("DEFAULT_GATE_METRIC", "coverage")],
                "DEFAULT_GATE_METRIC",
                "must give at least one threshold",
            ),
            (
                vec![
                    ("DEFAULT_GATE_METRIC", "coverage"),
                    ("DEFAULT_GATE_MAX_RELATIVE_DROP", "2"),
                ],
                "DEFAULT_GATE_MAX_RELATIVE_DROP",
                "must be a fraction from 0 to 1",
            ),
        ] {
            let e = gate(&pairs).unwrap_err();
            assert_eq!(e.variable, variable, "{pairs:?}");
            assert!(e.rule.contains(rule), "{pairs:?}: {e}");
        }
    }

    #[test]
    fn deploy_default_tps() {
        assert_eq!(
            DeployConfig::from_env(&env(&[]))
                .unwrap()
                .default_min_provisioned_tps,
            1
        );
        assert_eq!(
            DeployConfig::from_env(&env(&[("DEFAULT_MIN_PROVISIONED_TPS", "5")]))
                .unwrap()
                .default_min_provisioned_tps,
            5
        );
        for bad in ["0", "-1", "two", "2147483648", "1.5"] {
            let e =
                DeployConfig::from_env(&env(&[("DEFAULT_MIN_PROVISIONED_TPS", bad)])).unwrap_err();
            assert_eq!(e.variable, "DEFAULT_MIN_PROVISIONED_TPS");
            assert!(
                e.rule
                    .contains("must be a whole number from 1 to 2147483647"),
                "{e}"
            );
        }
    }

    #[test]
    fn status_defaults_and_overrides() {
        assert_eq!(
            StatusConfig::from_env(&env(&[])).unwrap().poll,
            PollPolicy::default()
        );
        let c = StatusConfig::from_env(&env(&[
            ("POLL_INITIAL_SECONDS", "10"),
            ("POLL_MAX_SECONDS", "600"),
            ("POLL_BACKOFF_RATE", "1.5"),
            ("DEPLOYMENT_DEADLINE_SECONDS", "7200"),
            ("POLL_HOLD_SECONDS", "0"),
        ]))
        .unwrap();
        assert_eq!(
            c.poll,
            PollPolicy {
                initial_seconds: 10,
                max_seconds: 600,
                backoff_rate: 1.5,
                deadline_seconds: 7200,
                max_polls: crate::domain::schedule::MAX_POLLS,
                hold_seconds: 0,
                max_hold_seconds: crate::domain::schedule::MAX_HOLD_SECONDS,
                spaced_for: PollPolicy::default().spaced_for,
            }
        );
        assert_eq!(c.training, TRAINING_POLICY);
        let c = StatusConfig::from_env(&env(&[
            ("TRAINING_POLL_SECONDS", "30"),
            ("TRAINING_DEADLINE_SECONDS", "600"),
            ("TRAINING_HOLD_SECONDS", "0"),
        ]))
        .unwrap();
        assert_eq!(
            (
                c.training.initial_seconds,
                c.training.max_seconds,
                c.training.deadline_seconds,
                c.training.max_polls,
                c.training.hold_seconds,
            ),
            (30, 30, 600, crate::domain::schedule::MAX_TRAINING_POLLS, 0)
        );
        // An initial wait above the default cap raises the cap with it.
        let c = StatusConfig::from_env(&env(&[("POLL_INITIAL_SECONDS", "300")])).unwrap();
        assert_eq!(c.poll.max_seconds, 300);
    }

    #[test]
    fn status_rejects_malformed_values() {
        let cases = [
            ("POLL_INITIAL_SECONDS", "0", "from 1 to 86400"),
            ("POLL_MAX_SECONDS", "abc", "from 1 to 86400"),
            ("POLL_BACKOFF_RATE", "0.5", "from 1 to 10"),
            ("POLL_BACKOFF_RATE", "fast", "from 1 to 10"),
            ("DEPLOYMENT_DEADLINE_SECONDS", "0", "from 1 to 31536000"),
            ("POLL_HOLD_SECONDS", "61", "from 0 to 60"),
            ("TRAINING_POLL_SECONDS", "0", "from 1 to 86400"),
            ("TRAINING_DEADLINE_SECONDS", "soon", "from 1 to 31536000"),
            ("TRAINING_HOLD_SECONDS", "61", "from 0 to 60"),
        ];
        for (variable, value, rule) in cases {
            let e = StatusConfig::from_env(&env(&[(variable, value)])).unwrap_err();
            assert_eq!(e.variable, variable);
            assert!(e.rule.contains(rule), "{e}");
            assert!(e.rule.contains(value), "the bad value is shown: {e}");
        }
        // A cap below the first wait is raised to it rather than stopping the function.
        let c = StatusConfig::from_env(&env(&[
            ("POLL_INITIAL_SECONDS", "60"),
            ("POLL_MAX_SECONDS", "30"),
        ]))
        .unwrap();
        assert_eq!((c.poll.initial_seconds, c.poll.max_seconds), (60, 60));
    }
}
