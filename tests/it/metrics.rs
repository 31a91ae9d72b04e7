//! The deployments' metrics in CloudWatch's Embedded Metric Format, checked
//! against the format's specification: a root `_aws` member with an integer
//! `Timestamp` (epoch milliseconds) and `CloudWatchMetrics` directives; each
//! directive's `Namespace`, `Dimensions` (sets of at most 30 root members
//! whose values are strings) and `Metrics` (at most 100, each a `Name` whose
//! root member is a number, and a `Unit` CloudWatch knows).

use chrono::{TimeZone, Utc};
use personalize_deployer::adapters::emf::{DIMENSIONS, render};
use personalize_deployer::domain::metrics::{DeploymentMetrics, History};
use personalize_deployer::domain::outcome::Outcome;
use serde_json::Value;

/// CloudWatch's units (StandardUnit).
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Every rule of the specification a line must follow; the line, parsed.
fn valid(line: &str) -> Value {
    assert!(!line.contains('\n'), "one line: {line}");
    let root: Value = serde_json::from_str(line).expect("a JSON object");
    let aws = &root["_aws"];
    let timestamp = aws["Timestamp"].as_i64().expect("an integer Timestamp");
    assert!(timestamp > 1_600_000_000_000, "milliseconds: {timestamp}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    assert!(!directives.is_empty());
    for directive in directives {
        let namespace = directive["Namespace"].as_str().expect("a Namespace");
        assert!((1..=255).contains(&namespace.len()) && !namespace.starts_with("AWS/"));
        for set in directive["Dimensions"].as_array().expect("Dimensions") {
            let set = set.as_array().expect("a dimension set");
            assert!(set.len() <= 30);
            for name in set {
                let name = name.as_str().unwrap();
                assert!(root[name].is_string(), "dimension {name} is a root string");
            }
        }
        let metrics = directive["Metrics"].as_array().expect("Metrics");
        assert!(!metrics.is_empty() && metrics.len() <= 100);
        for metric in metrics {
            let name = metric["Name"].as_str().expect("a Name");
            assert!((1..=255).contains(&name.len()));
            assert!(root[name].is_number(), "metric {name} is a root number");
            assert!(
                UNITS.contains(&metric["Unit"].as_str().unwrap()),
                "{metric}"
            );
        }
    }
    root
}

fn metrics() -> DeploymentMetrics {
    DeploymentMetrics {
        outcome: Outcome::Active,
        campaign_name: Some("movie-recs".into()),
        duration_seconds: Some(4331.5),
        polls: 6,
        training_polls: Some(9),
        training_wait_seconds: Some(3600.25),
        watch_seconds: Some(3600.0),
        execution_arn: Some("arn:aws:states:us-east-1:111122223333:execution:sm:x".into()),
        notification_id: Some(
            "arn:aws:states:us-east-1:111122223333:execution:sm:x#SUCCEEDED".into(),
        ),
        ended_at: Utc.timestamp_opt(1_795_000_000, 0).unwrap(),
        history: Default::default(),
    }
}

fn declared(root: &Value) -> Vec<(String, String)> {
    root["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().into(),
                m["Unit"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn a_finished_deployment_is_one_line_of_six_metrics_by_outcome_and_campaign() {
    let root = valid(&render("PersonalizeDeployer/prod", &metrics()));
    assert_eq!(root["_aws"]["Timestamp"], 1_795_000_000_000i64);
    assert_eq!(
        root["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "PersonalizeDeployer/prod"
    );
    let expected = [
        ("Deployments", "Count"),
        ("DeploymentDuration", "Seconds"),
        ("Polls", "Count"),
        ("TrainingPolls", "Count"),
        ("TrainingWait", "Seconds"),
        ("WatchDuration", "Seconds"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(n, u)| (n.to_string(), u.to_string()))
        .collect();
    assert_eq!(declared(&root), expected);
    assert_eq!(
        (
            root["Deployments"].as_f64(),
            root["DeploymentDuration"].as_f64()
        ),
        (Some(1.0), Some(4331.5))
    );
    assert_eq!(
        (
            root["Polls"].as_f64(),
            root["TrainingPolls"].as_f64(),
            root["TrainingWait"].as_f64()
        ),
        (Some(6.0), Some(9.0), Some(3600.25))
    );
    assert_eq!(
        (root["Outcome"].as_str(), root["CampaignName"].as_str()),
        (Some("ACTIVE"), Some("movie-recs"))
    );
    let sets: Vec<Vec<&str>> = DIMENSIONS.iter().map(|s| s.to_vec()).collect();
    assert_eq!(
        root["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!(sets)
    );
    // Searchable in the logs, not metrics.
    assert!(root["ExecutionArn"].is_string() && root["NotificationId"].is_string());
}

#[test]
fn a_metric_without_a_value_is_left_out_and_a_missing_name_is_still_a_string() {
    let m = DeploymentMetrics {
        outcome: Outcome::Rejected,
        campaign_name: None,
        duration_seconds: None,
        training_polls: None,
        training_wait_seconds: None,
        watch_seconds: None,
        execution_arn: None,
        notification_id: None,
        ..metrics()
    };
    let root = valid(&render("PersonalizeDeployer", &m));
    let names: Vec<String> = declared(&root).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["Deployments", "Polls"]);
    assert!(root.get("TrainingWait").is_none() && root.get("DeploymentDuration").is_none());
    assert_eq!(root["CampaignName"], "-");
    assert_eq!(root["Outcome"], "REJECTED");
}

#[test]
fn the_deployment_history_rides_on_the_line_as_properties_not_metrics() {
    let m = DeploymentMetrics {
        outcome: Outcome::RolledBack,
        history: History {
            origin: Some("follow"),
            solution_version_arn: Some(
                "arn:aws:personalize:us-east-1:111122223333:solution/movies/5e6f7a8b".into(),
            ),
            gate_verdict: Some("PASSED"),
            watch_verdict: Some("ALARM"),
            rolled_back_to: Some(
                "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d".into(),
            ),
        },
        ..metrics()
    };
    let root = valid(&render("PersonalizeDeployer/prod", &m));
    assert_eq!(root["Outcome"], "ROLLED_BACK");
    assert_eq!(root["GateVerdict"], "PASSED");
    assert_eq!(root["WatchVerdict"], "ALARM");
    assert_eq!(root["Origin"], "follow");
    assert!(
        root["RolledBackTo"]
            .as_str()
            .unwrap()
            .ends_with("/1a2b3c4d")
    );
    assert!(
        root["SolutionVersionArn"]
            .as_str()
            .unwrap()
            .ends_with("/5e6f7a8b")
    );
    let names: Vec<String> = declared(&root).into_iter().map(|(n, _)| n).collect();
    for property in [
        "Origin",
        "GateVerdict",
        "WatchVerdict",
        "RolledBackTo",
        "SolutionVersionArn",
    ] {
        assert!(
            !names.contains(&property.to_string()),
            "{property} is no metric"
        );
    }
}
