//! Configuration from environment variables: defaults, and clear errors that
//! name the variable and the rule.

use std::collections::HashMap;

use personalize_deployer::config::{DeployConfig, StatusConfig, TriggerConfig};
use personalize_deployer::domain::status::PollPolicy;

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
    let e =
        TriggerConfig::from_env(&env(&[("STATE_MACHINE_ARN", &format!("{ARN}:a:b"))])).unwrap_err();
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
        let e = DeployConfig::from_env(&env(&[("DEFAULT_MIN_PROVISIONED_TPS", bad)])).unwrap_err();
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
    ]))
    .unwrap();
    assert_eq!(
        c.poll,
        PollPolicy {
            initial_seconds: 10,
            max_seconds: 600,
            backoff_rate: 1.5,
            deadline_seconds: 7200
        }
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
