//! CloudWatch's Embedded Metric Format: a deployment's measurements as one
//! JSON log line that CloudWatch Logs turns into metrics, with no API call.
//! The specification: a root member `_aws` with `Timestamp` (epoch
//! milliseconds) and `CloudWatchMetrics`, a list of directives, each a
//! `Namespace`, `Dimensions` (a list of dimension sets, each a list of root
//! member names whose values are strings) and `Metrics` (`Name`, `Unit`),
//! each naming a root member whose value is a number.

use serde_json::{Map, Value, json};

use crate::domain::metrics::DeploymentMetrics;
use crate::ports::MetricsSink;

/// Writes each record to standard output, where Lambda sends it to
/// CloudWatch Logs.
#[derive(Debug, Clone)]
pub struct EmfStdout {
    pub namespace: String,
}

impl MetricsSink for EmfStdout {
    fn record(&self, metrics: &DeploymentMetrics) {
        println!("{}", render(&self.namespace, metrics));
    }
}

/// The dimension sets: by outcome, and by campaign and outcome.
pub const DIMENSIONS: [&[&str]; 2] = [&["Outcome"], &["CampaignName", "Outcome"]];

/// The line for one finished deployment, in `namespace`. A metric without a
/// value (a duration not known, no wait for training) is left out of both
/// the directive and the record.
pub fn render(namespace: &str, m: &DeploymentMetrics) -> String {
    let mut root = Map::new();
    let mut metrics = Vec::new();
    let mut metric = |name: &str, unit: &str, value: Option<f64>| {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            metrics.push(json!({"Name": name, "Unit": unit}));
            root.insert(name.to_string(), json!(value));
        }
    };
    metric("Deployments", "Count", Some(1.0));
    metric("DeploymentDuration", "Seconds", m.duration_seconds);
    metric("Polls", "Count", Some(f64::from(m.polls)));
    metric("TrainingPolls", "Count", m.training_polls.map(f64::from));
    metric("TrainingWait", "Seconds", m.training_wait_seconds);
    metric("WatchDuration", "Seconds", m.watch_seconds);
    root.insert("Outcome".into(), json!(m.outcome.as_str()));
    // A dimension's value must be a string: a deployment with no campaign
    // name (a rejected body without one) is counted under "-".
    root.insert(
        "CampaignName".into(),
        json!(m.campaign_name.as_deref().unwrap_or("-")),
    );
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": m.ended_at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": DIMENSIONS,
                "Metrics": metrics,
            }],
        }),
    );
    // Properties for searching the logs (the deployment history), not
    // metrics.
    let history = &m.history;
    for (name, value) in [
        ("ExecutionArn", m.execution_arn.as_deref()),
        ("NotificationId", m.notification_id.as_deref()),
        ("Origin", history.origin),
        (
            "SolutionVersionArn",
            history.solution_version_arn.as_deref(),
        ),
        ("GateVerdict", history.gate_verdict),
        ("WatchVerdict", history.watch_verdict),
        ("RolledBackTo", history.rolled_back_to.as_deref()),
    ] {
        if let Some(value) = value {
            root.insert(name.into(), json!(value));
        }
    }
    Value::Object(root).to_string()
}
