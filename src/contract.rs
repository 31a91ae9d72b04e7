//! The contract: the facts of the Rust side that the Python side (the tests
//! of the state machine definition, the benchmarks and the Python twin of
//! campaign-status) relies on, as one JSON document, `contract.json`.
//! `cargo run --example contract` writes it; a test fails when the file in
//! the repository is not what this code writes, so that a change here
//! cannot leave the Python side reading stale facts.
//!
//! Every fact is read from the code that acts on it (the error types and
//! their retry, the schedules, the outcomes, a notification and a metrics
//! line as they are built), never written down a second time.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::adapters::emf;
use crate::domain::alarm::WatchReport;
use crate::domain::execution::{MAX_WAITS, StatusReport, Then};
use crate::domain::intake::{MAX_INPUT_BYTES, MAX_REQUEST_BYTES, RETRIED_FAILURE};
use crate::domain::metrics::{DeploymentMetrics, History};
use crate::domain::notification::{
    DeploymentStatus, EVENT_SOURCE, Facts, Notification, REQUEST_DETAIL_TYPE, SCHEMA_VERSION,
    SUBJECT_MAX,
};
use crate::domain::outcome::Outcome;
use crate::domain::record::{
    GOOD_CONFIG_TAG, GOOD_SINCE_TAG, GOOD_TPS_TAG, GOOD_VERSION_TAG, LAST_WRITE_AT_TAG,
    LAST_WRITE_REQUESTED_AT_TAG, LAST_WRITE_VERSION_TAG, ROLLED_BACK_AT_TAG,
    ROLLED_BACK_VERSION_TAG, ROLLED_BACK_WHY_TAG,
};
use crate::domain::revert::ROLLBACK_DETAIL_TYPE;
use crate::domain::schedule::{
    DEPLOYMENT_DEADLINES, MAX_HOLD_SECONDS, MAX_POLLS, MAX_TRAINING_POLLS, MAX_WATCH_POLLS,
    PollPolicy, TRAINING_POLICY, WINDOW,
};
use crate::domain::status::CLOCK_SKEW_SECONDS;
use crate::domain::training::TrainingReport;
use crate::domain::watch::MAX_WATCH_MINUTES;
use crate::domain::watch::Watch;
use crate::domain::watching::{CAMPAIGN_LOOK_SECONDS, WATCH_LOOK_SECONDS};
use crate::error::ErrorType;
use crate::handlers::status::{HOLD_MARGIN, TRAINING_HOLD_MARGIN};

/// The contract, as JSON.
pub fn contract() -> Value {
    json!({
        "about": "Facts of the Rust side for the Python side. Written by `cargo run --example \
                  contract > contract.json`; a Rust test checks that this file is current.",
        "errors": errors(),
        "panicErrorType": ErrorType::HandlerPanicked.name(),
        "schedule": schedule(),
        "outcomes": outcomes(),
        "state": state(),
        "notification": notification(),
        "metrics": metrics(),
        "record": record(),
    })
}

/// The contract as the file holds it: pretty JSON and a final newline.
pub fn render() -> String {
    let mut text = serde_json::to_string_pretty(&contract()).expect("the contract serializes");
    text.push('\n');
    text
}

/// Every `errorType` a Lambda reports, and whether the same call may
/// succeed later.
fn errors() -> Value {
    let errors: Vec<Value> = ErrorType::ALL
        .iter()
        .map(|e| json!({"errorType": e.name(), "retry": e.retry()}))
        .collect();
    Value::Array(errors)
}

fn policy(p: &PollPolicy) -> Value {
    json!({
        "initialSeconds": p.initial_seconds,
        "maxSeconds": p.max_seconds,
        "backoffRate": p.backoff_rate,
        "deadlineSeconds": p.deadline_seconds,
        "maxPolls": p.max_polls,
        "holdSeconds": p.hold_seconds,
        "spacedFor": p.spaced_for,
        // Polls start at least this far apart (the budget's floor).
        "shortestWaitSeconds": p.shortest_wait(),
        "maxHoldSeconds": p.max_hold_seconds,
    })
}

/// The two poll loops' default schedules and budgets, the most waits for a
/// busy campaign, and the hold around an expected end.
fn schedule() -> Value {
    json!({
        "maxPolls": MAX_POLLS,
        "maxTrainingPolls": MAX_TRAINING_POLLS,
        // DeployCampaign runs once, and once more after each wait for the
        // campaign.
        "maxWaits": MAX_WAITS,
        "deploymentDeadlines": DEPLOYMENT_DEADLINES,
        "maxWatchPolls": MAX_WATCH_POLLS,
        "maxWatchMinutes": MAX_WATCH_MINUTES,
        "watchLookSeconds": WATCH_LOOK_SECONDS,
        "watchCampaignLookSeconds": CAMPAIGN_LOOK_SECONDS,
        "campaign": policy(&PollPolicy::default()),
        "training": policy(&TRAINING_POLICY),
        "window": WINDOW,
        "maxHoldSeconds": MAX_HOLD_SECONDS,
        "holdMarginSeconds": HOLD_MARGIN.num_seconds(),
        "trainingHoldMarginSeconds": TRAINING_HOLD_MARGIN.num_seconds(),
        "clockSkewSeconds": CLOCK_SKEW_SECONDS,
    })
}

/// Every outcome: whether it is final and a success, the status and
/// detail-type it is published with, the end state it leads to.
fn outcomes() -> Value {
    let outcomes: Vec<Value> = Outcome::ALL
        .iter()
        .map(|o| {
            let status = DeploymentStatus::of(*o);
            json!({
                "outcome": o.as_str(),
                "final": o.is_final(),
                "succeeded": o.is_success(),
                "status": status.as_str(),
                "detailType": status.detail_type(),
                "endState": o.end_state(),
            })
        })
        .collect();
    json!({
        "list": outcomes,
        // A followed version's execution that ends in this error is tried
        // once more when its version is found trained (deploy-trigger).
        "retriedFailure": RETRIED_FAILURE,
    })
}

/// The members of an object that are always there, as serialized.
fn keys(value: Value) -> Vec<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The members the state machine's Choice states may read unguarded: those
/// every report of the Rust side carries, found by serializing the emptiest
/// of each. (The execution input has none: the announcement rule writes
/// one too.)
fn state() -> Value {
    let training = TrainingReport {
        outcome: Outcome::InProgress,
        ready: false,
        is_final: false,
        wait_seconds: 0,
        attempt: 0,
        reason: None,
        facts: None,
        superseded_by: None,
        expected: None,
    };
    let status = StatusReport {
        outcome: Outcome::InProgress,
        is_final: false,
        succeeded: false,
        wait_seconds: 0,
        attempt: 0,
        next: Then::Poll,
        campaign_status: None,
        update_status: None,
        failure_reason: None,
        notification: None,
    };
    let none = Watch {
        alarms: Vec::new(),
        minutes: 0,
    };
    let watch = WatchReport::begun(&none, DateTime::<Utc>::UNIX_EPOCH);
    json!({
        "maxInputBytes": MAX_INPUT_BYTES,
        "maxRequestBytes": MAX_REQUEST_BYTES,
        "alwaysPresent": {
            "training": keys(serde_json::to_value(training).unwrap_or_default()),
            "status": keys(serde_json::to_value(status).unwrap_or_default()),
            "watch": keys(serde_json::to_value(watch).unwrap_or_default()),
        },
    })
}

/// What a notification carries: its source, schema version, the limit on
/// its subject, and the keys of its detail (every one always present).
fn notification() -> Value {
    let built = Notification::build(Facts {
        outcome: Outcome::Failed,
        campaign_name: None,
        campaign_arn: None,
        operation: None,
        target_solution_version_arn: None,
        previous_solution_version_arn: None,
        failure_reason: None,
        superseded_by: None,
        errors: Vec::new(),
        started_at: None,
        ended_at: DateTime::<Utc>::UNIX_EPOCH,
        execution_arn: None,
        origin: None,
        training: None,
        gate: None,
        watch: None,
        rollback: None,
    });
    json!({
        "source": EVENT_SOURCE,
        "requestDetailType": REQUEST_DETAIL_TYPE,
        "rollbackDetailType": ROLLBACK_DETAIL_TYPE,
        "schemaVersion": SCHEMA_VERSION,
        "subjectMax": SUBJECT_MAX,
        "detailKeys": keys(serde_json::to_value(&built.detail).unwrap_or_default()),
    })
}

/// A campaign's record: the tags that hold it.
fn record() -> Value {
    json!({
        "goodVersionTag": GOOD_VERSION_TAG,
        "goodTpsTag": GOOD_TPS_TAG,
        "goodConfigTag": GOOD_CONFIG_TAG,
        "goodSinceTag": GOOD_SINCE_TAG,
        "rolledBackVersionTag": ROLLED_BACK_VERSION_TAG,
        "rolledBackAtTag": ROLLED_BACK_AT_TAG,
        "rolledBackWhyTag": ROLLED_BACK_WHY_TAG,
        "lastWriteVersionTag": LAST_WRITE_VERSION_TAG,
        "lastWriteRequestedAtTag": LAST_WRITE_REQUESTED_AT_TAG,
        "lastWriteAtTag": LAST_WRITE_AT_TAG,
    })
}

/// The metrics of a finished deployment, as the embedded-metrics line of
/// one with every measurement declares them: names, units, dimension sets;
/// and the other members of the line, for searching the logs (the
/// deployment history).
fn metrics() -> Value {
    let some = || Some("x".to_string());
    let line = emf::render(
        "contract",
        &DeploymentMetrics {
            outcome: Outcome::Active,
            campaign_name: some(),
            duration_seconds: Some(1.0),
            polls: 1,
            training_polls: Some(1),
            training_wait_seconds: Some(1.0),
            watch_seconds: Some(1.0),
            execution_arn: some(),
            notification_id: some(),
            ended_at: DateTime::<Utc>::UNIX_EPOCH,
            history: History {
                origin: Some("rollback"),
                solution_version_arn: some(),
                gate_verdict: Some("PASSED"),
                watch_verdict: Some("PASSED"),
                rolled_back_to: some(),
            },
        },
    );
    let root: Value = serde_json::from_str(&line).unwrap_or_default();
    let directive = &root["_aws"]["CloudWatchMetrics"][0];
    let declared: Vec<&str> = directive["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["Name"].as_str())
        .chain(
            directive["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str),
        )
        .collect();
    let properties: Vec<String> = keys(root.clone())
        .into_iter()
        .filter(|k| k != "_aws" && !declared.contains(&k.as_str()))
        .collect();
    let mut out = Map::new();
    out.insert("metrics".into(), directive["Metrics"].clone());
    out.insert("dimensions".into(), directive["Dimensions"].clone());
    out.insert("properties".into(), json!(properties));
    Value::Object(out)
}
