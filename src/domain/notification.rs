//! The notification of a finished deployment: the SNS subject and text for
//! people, and the EventBridge detail-type and detail for automation. All the
//! wording lives here.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::alarm::{Verdict, WatchReport};
use super::field::FieldError;
use super::gate::GateReport;
use super::origin::Origin;
use super::outcome::{Operation, Outcome};
use super::request::Served;
use super::schedule::human_duration;
use super::training::TrainingFacts;

/// The EventBridge `source` of every event the product publishes, and of the
/// deployment request event it accepts.
pub const EVENT_SOURCE: &str = "personalize-deployer";
/// `detail-type` of the event that asks for a deployment.
pub const REQUEST_DETAIL_TYPE: &str = "Campaign Deployment Requested";
/// Version of the [`NotificationDetail`] schema.
pub const SCHEMA_VERSION: &str = "1";
/// SNS requires subjects shorter than 100 characters.
pub const SUBJECT_MAX: usize = 99;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// SNS subject: ASCII, one line, at most 99 characters.
    pub subject: String,
    /// SNS message: plain text for people.
    pub message: String,
    /// EventBridge `detail-type`.
    pub detail_type: String,
    /// EventBridge `source`.
    pub source: String,
    /// EventBridge `detail`.
    pub detail: NotificationDetail,
}

/// The final status of a deployment, as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    Succeeded,
    Failed,
    Rejected,
    TimedOut,
    Unchanged,
    Superseded,
    Aborted,
    ExecutionTimedOut,
    ExecutionFailed,
    TrainingFailed,
    TrainingStopped,
    TrainingTimedOut,
    Gated,
    RolledBack,
    RollbackFailed,
}

impl DeploymentStatus {
    pub fn of(outcome: Outcome) -> DeploymentStatus {
        match outcome {
            Outcome::Active => DeploymentStatus::Succeeded,
            Outcome::Unchanged => DeploymentStatus::Unchanged,
            Outcome::Rejected => DeploymentStatus::Rejected,
            Outcome::TimedOut => DeploymentStatus::TimedOut,
            Outcome::Superseded => DeploymentStatus::Superseded,
            Outcome::Aborted => DeploymentStatus::Aborted,
            Outcome::ExecutionTimedOut => DeploymentStatus::ExecutionTimedOut,
            Outcome::ExecutionFailed => DeploymentStatus::ExecutionFailed,
            Outcome::TrainingFailed => DeploymentStatus::TrainingFailed,
            Outcome::TrainingStopped => DeploymentStatus::TrainingStopped,
            Outcome::TrainingTimedOut => DeploymentStatus::TrainingTimedOut,
            Outcome::Gated => DeploymentStatus::Gated,
            Outcome::RolledBack => DeploymentStatus::RolledBack,
            Outcome::RollbackFailed => DeploymentStatus::RollbackFailed,
            Outcome::Failed | Outcome::Deleted | Outcome::InProgress => DeploymentStatus::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Succeeded => "SUCCEEDED",
            DeploymentStatus::Failed => "FAILED",
            DeploymentStatus::Rejected => "REJECTED",
            DeploymentStatus::TimedOut => "TIMED_OUT",
            DeploymentStatus::Unchanged => "UNCHANGED",
            DeploymentStatus::Superseded => "SUPERSEDED",
            DeploymentStatus::Aborted => "ABORTED",
            DeploymentStatus::ExecutionTimedOut => "EXECUTION_TIMED_OUT",
            DeploymentStatus::ExecutionFailed => "EXECUTION_FAILED",
            DeploymentStatus::TrainingFailed => "TRAINING_FAILED",
            DeploymentStatus::TrainingStopped => "TRAINING_STOPPED",
            DeploymentStatus::TrainingTimedOut => "TRAINING_TIMED_OUT",
            DeploymentStatus::Gated => "GATED",
            DeploymentStatus::RolledBack => "ROLLED_BACK",
            DeploymentStatus::RollbackFailed => "ROLLBACK_FAILED",
        }
    }

    pub fn detail_type(self) -> &'static str {
        match self {
            DeploymentStatus::Succeeded => "Campaign Deployment Succeeded",
            DeploymentStatus::Failed => "Campaign Deployment Failed",
            DeploymentStatus::Rejected => "Campaign Deployment Rejected",
            DeploymentStatus::TimedOut => "Campaign Deployment Timed Out",
            DeploymentStatus::Unchanged => "Campaign Deployment Unchanged",
            DeploymentStatus::Superseded => "Campaign Deployment Superseded",
            DeploymentStatus::Aborted => "Campaign Deployment Aborted",
            DeploymentStatus::ExecutionTimedOut => "Campaign Deployment Execution Timed Out",
            DeploymentStatus::ExecutionFailed => "Campaign Deployment Execution Failed",
            DeploymentStatus::TrainingFailed => "Campaign Deployment Training Failed",
            DeploymentStatus::TrainingStopped => "Campaign Deployment Training Stopped",
            DeploymentStatus::TrainingTimedOut => "Campaign Deployment Training Timed Out",
            DeploymentStatus::Gated => "Campaign Deployment Skipped",
            DeploymentStatus::RolledBack => "Campaign Deployment Rolled Back",
            DeploymentStatus::RollbackFailed => "Campaign Deployment Rollback Failed",
        }
    }
}

/// The EventBridge detail (schema version 1). Every key is always present;
/// unknown values are `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDetail {
    pub schema_version: String,
    /// The same for every delivery of this notification, and for no other:
    /// `<executionArn>#<status>`. SNS and EventBridge deliver at least once;
    /// consumers deduplicate on it.
    pub notification_id: String,
    pub status: DeploymentStatus,
    /// The status handler's finer outcome (`ACTIVE`, `FAILED`, `DELETED`, ...).
    pub outcome: Outcome,
    pub campaign_name: Option<String>,
    pub campaign_arn: Option<String>,
    pub operation: Option<Operation>,
    pub target_solution_version_arn: Option<String>,
    pub previous_solution_version_arn: Option<String>,
    pub failure_reason: Option<String>,
    /// For a superseded deployment: the solution version the newer one
    /// deploys.
    pub superseded_by: Option<String>,
    /// For a rejected request: every rule it broke.
    pub errors: Vec<FieldError>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub duration_seconds: Option<f64>,
    pub execution_arn: Option<String>,
    pub origin: Option<Origin>,
    /// The requested version's training, when the execution waited for it
    /// (null for a rejected request or a `$LATEST` one).
    pub training: Option<TrainingFacts>,
    /// The metric gate's verdict (null without a gate, or when no new
    /// version was to be deployed).
    pub gate: Option<GateReport>,
    /// The watch after the deployment: its alarms and period, when it began
    /// and ended, its verdict and the alarm that fired (null when there was
    /// none: no watch asked, a create, or a deployment that did not become
    /// ACTIVE).
    pub watch: Option<WatchReport>,
    /// The rollback an alarm caused: from what, to what, and how it ended
    /// (null when there was none).
    pub rollback: Option<RollbackFacts>,
}

/// A rollback: what the campaign served and was returned from (the version
/// deployed), what it was returned to (what it served before), and how the
/// rollback ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackFacts {
    /// What the campaign served when the rollback began (none when the
    /// rollback did not get that far).
    pub from: Option<Served>,
    pub to: Served,
    /// Whether the rollback turned the campaign's sync with its solution's
    /// latest version off (it had it on, and would have redeployed the
    /// version rolled back from).
    pub sync_turned_off: bool,
    pub started_at: Option<DateTime<Utc>>,
    /// `ROLLED_BACK`, `ROLLBACK_FAILED`, or another end (e.g. `SUPERSEDED`).
    pub outcome: Outcome,
}

/// What is known about a finished deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub outcome: Outcome,
    pub campaign_name: Option<String>,
    pub campaign_arn: Option<String>,
    pub operation: Option<Operation>,
    pub target_solution_version_arn: Option<String>,
    pub previous_solution_version_arn: Option<String>,
    pub failure_reason: Option<String>,
    pub superseded_by: Option<String>,
    pub errors: Vec<FieldError>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub execution_arn: Option<String>,
    pub origin: Option<Origin>,
    pub training: Option<TrainingFacts>,
    pub gate: Option<GateReport>,
    pub watch: Option<WatchReport>,
    pub rollback: Option<RollbackFacts>,
}

impl Notification {
    pub fn build(facts: Facts) -> Notification {
        let status = DeploymentStatus::of(facts.outcome);
        let duration_seconds = facts.started_at.map(|start| {
            let ms = (facts.ended_at - start).num_milliseconds().max(0);
            ms as f64 / 1000.0
        });
        Notification {
            subject: subject(&facts),
            message: message(&facts, duration_seconds),
            detail_type: status.detail_type().to_string(),
            source: EVENT_SOURCE.to_string(),
            detail: NotificationDetail {
                schema_version: SCHEMA_VERSION.to_string(),
                notification_id: notification_id(facts.execution_arn.as_deref(), status),
                status,
                outcome: facts.outcome,
                campaign_name: facts.campaign_name,
                campaign_arn: facts.campaign_arn,
                operation: facts.operation,
                target_solution_version_arn: facts.target_solution_version_arn,
                previous_solution_version_arn: facts.previous_solution_version_arn,
                failure_reason: facts.failure_reason,
                superseded_by: facts.superseded_by,
                errors: facts.errors,
                started_at: facts.started_at,
                ended_at: facts.ended_at,
                duration_seconds,
                execution_arn: facts.execution_arn,
                origin: facts.origin,
                training: facts.training,
                gate: facts.gate,
                watch: facts.watch,
                rollback: facts.rollback,
            },
        }
    }
}

/// `<executionArn>#<status>`: one id per notification, the same on every
/// delivery (the fallback notification of the state machine builds it the
/// same way).
pub fn notification_id(execution_arn: Option<&str>, status: DeploymentStatus) -> String {
    format!(
        "{}#{}",
        execution_arn.unwrap_or("(no execution)"),
        status.as_str()
    )
}

fn headline(facts: &Facts) -> String {
    let op = facts
        .operation
        .filter(|op| *op != Operation::None)
        .map(|op| format!(" ({op})"))
        .unwrap_or_default();
    match facts.outcome {
        Outcome::Active => match facts.watch.as_ref().map(|w| &w.verdict) {
            Some(Verdict::Passed) => format!("deployment succeeded{op}, watch passed"),
            Some(Verdict::Unverified) => format!("deployment succeeded{op}, watch UNVERIFIED"),
            _ => format!("deployment succeeded{op}"),
        },
        Outcome::Failed | Outcome::InProgress => format!("deployment FAILED{op}"),
        Outcome::Deleted => format!("deployment FAILED{op}, campaign deleted"),
        Outcome::TimedOut => format!("deployment TIMED OUT{op}"),
        Outcome::Unchanged => "already up to date, nothing deployed".to_string(),
        Outcome::Rejected => "deployment request REJECTED".to_string(),
        Outcome::Superseded => format!("deployment SUPERSEDED{op} by a newer one"),
        Outcome::Aborted => "deployment ABORTED, execution stopped".to_string(),
        Outcome::ExecutionTimedOut => "deployment execution TIMED OUT (backstop)".to_string(),
        Outcome::ExecutionFailed => "deployment execution FAILED before it reported".to_string(),
        Outcome::TrainingFailed => "training FAILED, nothing deployed".to_string(),
        Outcome::TrainingStopped => "training STOPPED, nothing deployed".to_string(),
        Outcome::TrainingTimedOut => "training TIMED OUT, nothing deployed".to_string(),
        Outcome::Gated => "new version held back by the metric gate".to_string(),
        Outcome::RolledBack => match fired_alarm(facts) {
            Some(alarm) => format!("new version ROLLED BACK, alarm {alarm}"),
            None => "new version ROLLED BACK".to_string(),
        },
        Outcome::RollbackFailed => "new version's ROLLBACK FAILED".to_string(),
    }
}

/// `Personalize campaign <name>: <headline>`, made safe for SNS: printable
/// ASCII only, one line, at most [`SUBJECT_MAX`] characters.
fn subject(facts: &Facts) -> String {
    let text = match &facts.campaign_name {
        Some(name) => format!("Personalize campaign {name}: {}", headline(facts)),
        None => format!("Personalize {}", headline(facts)),
    };
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if clean.len() <= SUBJECT_MAX {
        clean
    } else {
        format!("{}...", &clean[..SUBJECT_MAX - 3])
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn message(facts: &Facts, duration_seconds: Option<f64>) -> String {
    let mut out = String::new();
    let name = facts.campaign_name.as_deref().unwrap_or("(unknown)");
    let _ = writeln!(out, "Personalize campaign {name}: {}.", headline(facts));
    let _ = writeln!(out);
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "{label:<18}{value}");
    };
    line("Status:", DeploymentStatus::of(facts.outcome).as_str());
    if let Some(arn) = &facts.campaign_arn {
        line("Campaign ARN:", arn);
    }
    if let Some(op) = facts.operation {
        line("Operation:", &op.to_string());
    }
    if let Some(target) = &facts.target_solution_version_arn {
        line("Solution version:", target);
    }
    if let Some(previous) = &facts.previous_solution_version_arn {
        line("Previous version:", previous);
    }
    if let Some(reason) = &facts.failure_reason {
        line("Reason:", reason);
    }
    if let Some(newer) = &facts.superseded_by {
        line("Superseded by:", newer);
    }
    if let Some(training) = &facts.training {
        let hours = training
            .training_hours
            .map(|h| format!(", {h:.2} training hours"))
            .unwrap_or_default();
        let status = training.status.as_deref().unwrap_or("(no such version)");
        line("Training:", &format!("{status}{hours}"));
    }
    if let Some(gate) = &facts.gate {
        line("Metric gate:", &gate.summary());
    }
    if let Some(watch) = &facts.watch {
        line("Watch:", &watch_summary(watch));
    }
    if let Some(rollback) = &facts.rollback {
        if let Some(from) = &rollback.from {
            line("Rolled back from:", &served_summary(from));
        }
        line("Rolled back to:", &served_summary(&rollback.to));
        if rollback.sync_turned_off {
            line("", "(syncWithLatestSolutionVersion turned off)");
        }
    }
    if let Some(start) = &facts.started_at {
        line("Started:", &time(start));
    }
    let ended = match duration_seconds {
        Some(d) => format!("{} (took {})", time(&facts.ended_at), human_duration(d)),
        None => time(&facts.ended_at),
    };
    line("Ended:", &ended);
    if let Some(origin) = &facts.origin {
        line("Request:", &origin.to_string());
    }
    if let Some(arn) = &facts.execution_arn {
        line("Execution:", arn);
    }
    line(
        "Notification id:",
        &notification_id(
            facts.execution_arn.as_deref(),
            DeploymentStatus::of(facts.outcome),
        ),
    );
    if !facts.errors.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "The request was rejected for these reasons:");
        for e in &facts.errors {
            let _ = writeln!(out, "  - {e}");
        }
    }
    out
}

/// The alarm that fired, if the watch saw one.
fn fired_alarm(facts: &Facts) -> Option<&str> {
    match &facts.watch.as_ref()?.verdict {
        Verdict::Alarm { alarm } => Some(alarm.name.as_str()),
        _ => None,
    }
}

/// One line on a watch: its verdict, alarms and period, and what was odd.
fn watch_summary(watch: &WatchReport) -> String {
    let mut text = format!(
        "{} after {} of {} min, {} alarm(s): {}",
        watch.verdict.as_str(),
        human_duration(
            (watch.ended_at.unwrap_or(watch.ends_at) - watch.began_at).num_seconds() as f64
        ),
        watch.minutes,
        watch.alarms.len(),
        watch.alarms.join(", ")
    );
    match &watch.verdict {
        Verdict::Alarm { alarm } => {
            let _ = write!(text, "; {} entered ALARM", alarm.name);
            if let Some(at) = &alarm.fired_at {
                let _ = write!(text, " at {}", time(at));
            }
            if let Some(reason) = &alarm.reason {
                let _ = write!(text, " ({reason})");
            }
        }
        Verdict::Unverified => {
            let why = watch.unread.as_deref().unwrap_or("no answer");
            let _ = write!(text, "; the alarms could never be read ({why})");
        }
        Verdict::Superseded { superseded_by } => {
            let _ = write!(
                text,
                "; a newer deployment, to {}, began",
                superseded_by.solution_version_arn
            );
        }
        Verdict::Passed | Verdict::Watching => {}
    }
    for (what, names) in [
        ("already in ALARM before it served", &watch.already_in_alarm),
        ("INSUFFICIENT_DATA", &watch.insufficient_data),
        ("not found", &watch.missing),
    ] {
        if !names.is_empty() {
            let _ = write!(text, "; {what}: {}", names.join(", "));
        }
    }
    text
}

/// A version with its TPS (and whether it had a configuration).
fn served_summary(served: &Served) -> String {
    format!(
        "{} (minProvisionedTPS {}{})",
        served.solution_version_arn,
        served.min_provisioned_tps,
        if served.campaign_config.is_some() {
            ", with its configuration"
        } else {
            ""
        }
    )
}
