//! campaign-status's training check: waits while the version trains, on its
//! own schedule and deadline; reports a failed, stopped, missing or overdue
//! training at once, and the notification that follows carries the facts.

use crate::support::*;
use chrono::{DateTime, Utc};
use personalize_deployer::domain::execution::{Accepted, Check, Execution, TaskInput};
use personalize_deployer::domain::notification::DeploymentStatus;
use personalize_deployer::domain::origin::{Origin, Sent};
use personalize_deployer::domain::outcome::Outcome;
use personalize_deployer::domain::schedule::{MAX_TRAINING_POLLS, PollPolicy, TRAINING_POLICY};
use personalize_deployer::domain::status::poll;
use personalize_deployer::domain::training::{SolutionVersion, TrainingReport, TrainingStatus};
use personalize_deployer::domain::training_check::check;
use personalize_deployer::ports::ApiErrorKind;
use serde_json::json;

fn version(status: &str, reason: Option<&str>, hours: Option<f64>) -> SolutionVersion {
    SolutionVersion {
        arn: SV2.into(),
        status: TrainingStatus::parse(status),
        failure_reason: reason.map(str::to_string),
        created_at: Some(t(-60)),
        updated_at: Some(t(-30)),
        training_hours: hours,
    }
}

fn input(version: &str, previous: Option<TrainingReport>) -> TaskInput {
    // A $LATEST version is valid only for a campaign that syncs with it.
    let patch = if version.ends_with("/$LATEST") {
        json!({"solutionVersionArn": version, "campaignConfig": {"syncWithLatestSolutionVersion": true}})
    } else {
        json!({"solutionVersionArn": version})
    };
    let request = patched(&manifest("movie-recs.json"), patch);
    let origin = Origin::Event(Sent {
        event_id: "e-1".into(),
        source: "personalize-deployer".into(),
        account: None,
        region: None,
    });
    TaskInput {
        state: Execution::Accepted(Box::new(Accepted {
            request,
            origin: Some(origin),
            training: previous,
            deployment: None,
            status: None,
            watch: None,
            rollback: None,
            error: None,
        })),
        execution_arn: Some("arn:aws:states:us-east-1:111122223333:execution:sm:x".into()),
        execution_start_time: Some(t(0)),
        check: Check::Training,
        act: Default::default(),
    }
}

fn fake(answers: Vec<SolutionVersion>) -> FakePersonalize {
    let fake = FakePersonalize::default();
    *fake.versions.lock().unwrap() = answers.into_iter().map(|v| Ok(Some(v))).collect();
    fake
}

async fn at(fake: &FakePersonalize, input: &TaskInput, now: DateTime<Utc>) -> TrainingReport {
    check(fake, input, &TRAINING_POLICY, &FakeClock::at(now))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_version_still_training_is_waited_for_on_the_training_schedule() {
    let f = fake(vec![version("CREATE IN_PROGRESS", None, None)]);
    let mut waits = Vec::new();
    let mut previous = None;
    for poll in 0..6 {
        let r = at(&f, &input(SV2, previous.clone()), t(poll * 60)).await;
        assert_eq!(
            (r.outcome, r.ready, r.is_final),
            (Outcome::InProgress, false, false)
        );
        assert_eq!(
            r.facts.as_ref().unwrap().status.as_deref(),
            Some("CREATE IN_PROGRESS")
        );
        waits.push(r.wait_seconds);
        previous = Some(r);
    }
    // At least the wait that keeps a day within the poll budget, growing to
    // ten minutes.
    let floor = TRAINING_POLICY.shortest_wait();
    assert_eq!(floor, 86_400u64.div_ceil(u64::from(MAX_TRAINING_POLLS - 2)));
    assert_eq!(waits, vec![floor, floor, floor, 480, 600, 600]);
}

#[tokio::test]
async fn a_trained_version_is_ready_with_its_training_hours() {
    let f = fake(vec![version("ACTIVE", None, Some(1.25))]);
    let r = at(&f, &input(SV2, None), t(10)).await;
    assert_eq!(
        (r.outcome, r.ready, r.is_final),
        (Outcome::Active, true, true)
    );
    assert_eq!(r.facts.unwrap().training_hours, Some(1.25));
    assert_eq!(f.calls(), vec![format!("describe {SV2}")]);
}

#[tokio::test]
async fn failed_stopped_and_missing_versions_end_at_once_with_the_reason() {
    let cases = [
        (
            Some(version(
                "CREATE FAILED",
                Some("Not enough interactions"),
                None,
            )),
            Outcome::TrainingFailed,
            "Not enough interactions".to_string(),
        ),
        (
            Some(version("CREATE STOPPED", None, None)),
            Outcome::TrainingStopped,
            "training was stopped (status CREATE STOPPED)".to_string(),
        ),
        (
            Some(version("CREATE STOPPING", None, None)),
            Outcome::TrainingStopped,
            "training was stopped (status CREATE STOPPING)".to_string(),
        ),
        (
            None,
            Outcome::Failed,
            format!("the solution version {SV2} does not exist"),
        ),
    ];
    for (answer, outcome, reason) in cases {
        let f = FakePersonalize::default();
        *f.versions.lock().unwrap() = vec![Ok(answer)];
        let r = at(&f, &input(SV2, None), t(10)).await;
        assert_eq!((r.outcome, r.ready, r.is_final), (outcome, false, true));
        assert_eq!(r.wait_seconds, 0);
        assert_eq!(r.reason.as_deref(), Some(reason.as_str()));
    }
}

#[tokio::test]
async fn training_past_its_deadline_times_out_and_the_last_wait_stops_at_it() {
    let f = fake(vec![version("CREATE IN_PROGRESS", None, None)]);
    let deadline = TRAINING_POLICY.deadline_seconds as i64;
    let r = at(&f, &input(SV2, None), t(deadline - 100)).await;
    assert_eq!((r.outcome, r.wait_seconds), (Outcome::InProgress, 100));
    let r = at(&f, &input(SV2, Some(r)), t(deadline)).await;
    assert_eq!((r.outcome, r.is_final), (Outcome::TrainingTimedOut, true));
    assert!(
        r.reason
            .unwrap()
            .starts_with("training not finished 24h 0m 0s after the deployment was requested"),
    );
}

#[tokio::test]
async fn an_unanswered_describe_is_waited_out_but_access_denied_is_an_error() {
    let f = FakePersonalize::default();
    *f.versions.lock().unwrap() = vec![Err(api_error(
        ApiErrorKind::Throttled,
        "ThrottlingException",
    ))];
    let r = at(&f, &input(SV2, None), t(0)).await;
    assert_eq!(r.outcome, Outcome::InProgress);
    assert!(r.wait_seconds > 0);
    *f.versions.lock().unwrap() =
        vec![Err(api_error(ApiErrorKind::Other, "AccessDeniedException"))];
    let e = check(
        &f,
        &input(SV2, None),
        &TRAINING_POLICY,
        &FakeClock::at(t(0)),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("AccessDeniedException"), "{e}");
}

#[tokio::test]
async fn a_latest_request_is_ready_without_a_call() {
    let latest = "arn:aws:personalize:us-east-1:111122223333:solution/movies/$LATEST";
    let f = FakePersonalize::default();
    let r = at(&f, &input(latest, None), t(0)).await;
    assert_eq!((r.outcome, r.ready, r.facts), (Outcome::Active, true, None));
    assert!(f.calls().is_empty());
}

#[tokio::test]
async fn an_ended_training_is_notified_with_its_facts_and_without_a_campaign_call() {
    let f = fake(vec![version(
        "CREATE FAILED",
        Some("Not enough interactions"),
        None,
    )]);
    let first = input(SV2, None);
    let mut input = input(SV2, Some(at(&f, &first, t(10)).await));
    input.check = Check::Campaign;
    let policy = PollPolicy::default();
    let later = t(20);
    let report = poll(&f, &input, &policy, &FakeClock::at(later), later)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::TrainingFailed);
    assert!(report.is_final && !report.succeeded);
    let n = report.notification.unwrap();
    assert_eq!(n.detail.status, DeploymentStatus::TrainingFailed);
    assert_eq!(n.detail_type, "Campaign Deployment Training Failed");
    assert_eq!(
        n.detail.failure_reason.as_deref(),
        Some("Not enough interactions")
    );
    let training = n.detail.training.clone().unwrap();
    assert_eq!(training.status.as_deref(), Some("CREATE FAILED"));
    assert_eq!(training.solution_version_arn, SV2);
    assert_eq!(n.detail.gate, None);
    assert!(
        n.message.contains("Training:         CREATE FAILED"),
        "{}",
        n.message
    );
    // Only the version was described; the campaign never was.
    assert_eq!(f.calls(), vec![format!("describe {SV2}")]);
    // Every notification has both keys, null when they do not apply.
    let detail = serde_json::to_value(&n.detail).unwrap();
    assert!(detail["gate"].is_null() && detail.get("gate").is_some());
}
