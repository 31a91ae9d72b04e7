//! campaign-status's training check: waits while the version trains, on its
//! own schedule and deadline; reports a failed, stopped, missing or overdue
//! training at once, and the notification that follows carries the facts.

use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use personalize_deployer::domain::execution::{Accepted, Check, Execution, TaskInput};
use personalize_deployer::domain::notification::DeploymentStatus;
use personalize_deployer::domain::origin::{Origin, Sent};
use personalize_deployer::domain::outcome::Outcome;
use personalize_deployer::domain::schedule::{MAX_TRAINING_POLLS, PollPolicy, TRAINING_POLICY};
use personalize_deployer::domain::status::poll;
use personalize_deployer::domain::training::{
    SolutionVersion, TrainingExpectation, TrainingReport, TrainingStatus,
};
use personalize_deployer::domain::training_check::check;
use personalize_deployer::ports::{ApiErrorKind, VersionSummary};
use serde_json::json;

fn version(status: &str, reason: Option<&str>, hours: Option<f64>) -> SolutionVersion {
    SolutionVersion {
        arn: SV2.into(),
        status: TrainingStatus::parse(status),
        failure_reason: reason.map(str::to_string),
        created_at: Some(t(-60)),
        updated_at: Some(t(-30)),
        training_hours: hours,
        training_mode: Some("FULL".into()),
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
    held(fake, input, &FakeClock::at(now)).await
}

/// One poll on `clock`, which its holds move on; the invocation may hold
/// as long as the policy's longest hold, as campaign-status gives it.
async fn held(fake: &FakePersonalize, input: &TaskInput, clock: &FakeClock) -> TrainingReport {
    let limit = clock.now() + Duration::seconds(TRAINING_POLICY.max_hold_seconds as i64);
    check(fake, input, &TRAINING_POLICY, clock, limit)
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
        t(840),
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

/// An earlier version of the solution, trained in `mode` from `created` for
/// `seconds` (seconds since [`t`]'s origin), as ListSolutionVersions lists it.
fn trained(id: &str, status: &str, mode: &str, created: i64, seconds: i64) -> VersionSummary {
    VersionSummary {
        arn: format!("arn:aws:personalize:us-east-1:111122223333:solution/movies/{id}"),
        status: TrainingStatus::parse(status),
        training_mode: Some(mode.into()),
        created_at: Some(t(created)),
        updated_at: Some(t(created + seconds)),
    }
}

/// The version waited for: created at `t(0)`, training in `mode`.
fn training(mode: &str) -> SolutionVersion {
    SolutionVersion {
        created_at: Some(t(0)),
        updated_at: Some(t(0)),
        training_mode: Some(mode.into()),
        ..version("CREATE IN_PROGRESS", None, None)
    }
}

/// How many DescribeSolutionVersion calls were made.
fn describes(fake: &FakePersonalize) -> usize {
    fake.calls()
        .iter()
        .filter(|c| c.starts_with("describe"))
        .count()
}

/// Expected of the version waited for (created at `t(0)`).
fn expected(seconds: u64, mode: &str, trainings: u32) -> Option<TrainingExpectation> {
    Some(TrainingExpectation {
        seconds,
        training_mode: Some(mode.into()),
        trainings,
        started_at: t(0),
    })
}

#[test]
fn a_training_is_expected_to_take_the_median_of_the_same_modes_newest_trainings() {
    let day = 86_400;
    let history = vec![
        // FULL trainings, newest first: the five newest count.
        trained("f1", "ACTIVE", "FULL", -day, 3_700),
        trained("f2", "ACTIVE", "FULL", -2 * day, 3_500),
        trained("f3", "ACTIVE", "FULL", -3 * day, 4_100),
        trained("f4", "ACTIVE", "FULL", -4 * day, 3_600),
        trained("f5", "ACTIVE", "FULL", -5 * day, 3_900),
        // Too old to count (it would move the median).
        trained("f6", "ACTIVE", "FULL", -6 * day, 90_000),
        // How long failing or stopping took says nothing of training.
        trained("x1", "CREATE FAILED", "FULL", -day / 2, 60),
        trained("x2", "CREATE STOPPED", "FULL", -day / 3, 120),
        // Another training under way.
        trained("x3", "CREATE IN_PROGRESS", "FULL", -600, 10),
        // UPDATE trainings are much shorter.
        trained("u1", "ACTIVE", "UPDATE", -day / 4, 610),
        trained("u2", "ACTIVE", "UPDATE", -day / 5, 650),
    ];
    let full = training("FULL");
    assert_eq!(
        TrainingExpectation::of(&full, &history),
        expected(3_700, "FULL", 5)
    );
    // An even count: the mean of the two middle ones, rounded up.
    assert_eq!(
        TrainingExpectation::of(&training("UPDATE"), &history),
        expected(630, "UPDATE", 2)
    );
    // No training of that mode, or none at all: no expectation.
    assert_eq!(
        TrainingExpectation::of(&training("AUTOTRAIN"), &history),
        None
    );
    assert_eq!(TrainingExpectation::of(&full, &[]), None);
    // The version's own entry, and backward or missing times, do not count.
    let mut own = trained("self", "ACTIVE", "FULL", 0, 100);
    own.arn = full.arn.clone();
    let mut undated = trained("u", "ACTIVE", "FULL", -day, 100);
    undated.updated_at = None;
    let backward = trained("b", "ACTIVE", "FULL", -day, -100);
    assert_eq!(
        TrainingExpectation::of(&full, &[own, undated, backward]),
        None
    );
}

#[tokio::test]
async fn without_history_the_training_keeps_the_usual_schedule_and_says_so() {
    let f = fake(vec![training("FULL")]);
    // Only UPDATE trainings before this FULL one.
    *f.history.lock().unwrap() = vec![trained("u1", "ACTIVE", "UPDATE", -9_000, 600)];
    let clock = FakeClock::at(t(3_000));
    let r = held(&f, &input(SV2, None), &clock).await;
    assert_eq!((r.outcome, &r.expected), (Outcome::InProgress, &None));
    assert_eq!(r.wait_seconds, TRAINING_POLICY.shortest_wait());
    assert!(clock.pauses.lock().unwrap().is_empty(), "no hold");
    // Read again on the next poll, as long as there is none.
    let r = held(&f, &input(SV2, Some(r)), &clock).await;
    let lists = f
        .calls()
        .iter()
        .filter(|c| c.starts_with("list versions"))
        .count();
    assert_eq!((r.expected, lists), (None, 2));
}

#[tokio::test]
async fn around_the_expected_end_the_poll_stays_and_notices_the_end_within_seconds() {
    // Earlier FULL trainings took an hour; an UPDATE ten minutes.
    let history = vec![
        trained("f1", "ACTIVE", "FULL", -86_400, 3_600),
        trained("u1", "ACTIVE", "UPDATE", -43_200, 600),
    ];
    // Before the window (70 % of an hour = 2,520 s): the usual wait, cut
    // to end where the window begins, but never below the budget's floor.
    let f = fake(vec![training("FULL")]);
    *f.history.lock().unwrap() = history.clone();
    let r = at(&f, &input(SV2, None), t(2_000)).await;
    assert_eq!(r.expected, expected(3_600, "FULL", 1));
    assert_eq!(r.wait_seconds, TRAINING_POLICY.shortest_wait());
    let r = at(&f, &input(SV2, None), t(2_300)).await;
    assert_eq!(
        r.wait_seconds,
        TRAINING_POLICY.shortest_wait(),
        "the floor, though the window opens in 220 s"
    );
    // Inside it: the poll looks every 10 s and ends as soon as the training
    // does, here at the 6th look.
    let mut answers = vec![training("FULL"); 5];
    answers.push(SolutionVersion {
        status: TrainingStatus::Active,
        ..training("FULL")
    });
    let f = fake(answers);
    *f.history.lock().unwrap() = history.clone();
    let clock = FakeClock::at(t(3_400));
    let r = held(&f, &input(SV2, None), &clock).await;
    assert_eq!((r.outcome, r.ready), (Outcome::Active, true));
    assert_eq!(r.expected, expected(3_600, "FULL", 1));
    assert_eq!(
        *clock.pauses.lock().unwrap(),
        vec![std::time::Duration::from_secs(10); 5]
    );
    assert_eq!(describes(&f), 6);
    // An UPDATE is expected from the UPDATE trainings: at 500 s it is in
    // its window (420 to 780 s), where a FULL one would not be.
    let f = fake(vec![training("UPDATE")]);
    *f.history.lock().unwrap() = history;
    let clock = FakeClock::at(t(500));
    let r = held(&f, &input(SV2, None), &clock).await;
    assert_eq!(r.expected, expected(600, "UPDATE", 1));
    // Held to the window's end (780 s), then the usual schedule.
    assert_eq!(clock.now(), t(780));
    assert_eq!(r.outcome, Outcome::InProgress);
    assert_eq!(r.wait_seconds, TRAINING_POLICY.shortest_wait());
}

#[tokio::test]
async fn a_hold_ends_with_the_invocation_and_the_next_poll_comes_at_once() {
    let f = fake(vec![training("FULL")]);
    // Expected 10 h: the window is 7 h to 13 h.
    *f.history.lock().unwrap() = vec![trained("f1", "ACTIVE", "FULL", -86_400, 36_000)];
    let clock = FakeClock::at(t(30_000));
    let r = held(&f, &input(SV2, None), &clock).await;
    assert_eq!(r.outcome, Outcome::InProgress);
    // The whole of the invocation's longest hold, one look every 10 s.
    assert_eq!(clock.now(), t(30_000 + 840));
    assert_eq!(describes(&f), 85);
    assert_eq!(r.wait_seconds, 1);
    // The expectation is carried: the next poll does not read the history.
    let before = f.calls().len();
    let r = held(&f, &input(SV2, Some(r)), &clock).await;
    assert_eq!(r.expected, expected(36_000, "FULL", 1));
    assert!(
        !f.calls()[before..]
            .iter()
            .any(|c| c.starts_with("list versions"))
    );
}

#[tokio::test]
async fn an_overlong_expectation_keeps_the_deadline() {
    // Earlier trainings took 30 h, longer than the one-day deadline: the
    // window opens at 21 h and is held until the deadline, which ends it
    // in the same poll.
    let f = fake(vec![training("FULL")]);
    *f.history.lock().unwrap() = vec![trained("f1", "ACTIVE", "FULL", -200_000, 108_000)];
    let deadline = TRAINING_POLICY.deadline_seconds as i64;
    let clock = FakeClock::at(t(deadline - 300));
    let r = held(&f, &input(SV2, None), &clock).await;
    assert_eq!(r.expected, expected(108_000, "FULL", 1));
    assert_eq!(
        clock.now(),
        t(deadline),
        "held to the deadline, not past it"
    );
    assert_eq!((r.outcome, r.is_final), (Outcome::TrainingTimedOut, true));
    // One of 40 h opens its window after the deadline: the usual schedule
    // throughout, the same waits as without history.
    let f = fake(vec![training("FULL")]);
    *f.history.lock().unwrap() = vec![trained("f1", "ACTIVE", "FULL", -200_000, 144_000)];
    let none = fake(vec![training("FULL")]);
    for at_s in [0, 3_000, 50_000, deadline - 400] {
        let clock = FakeClock::at(t(at_s));
        let r = held(&f, &input(SV2, None), &clock).await;
        let usual = at(&none, &input(SV2, None), t(at_s)).await;
        assert_eq!(r.expected, expected(144_000, "FULL", 1));
        assert_eq!(r.wait_seconds, usual.wait_seconds, "at {at_s} s");
        assert!(clock.pauses.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn history_that_cannot_be_read_is_no_expectation_not_an_error() {
    let f = fake(vec![training("FULL")]);
    *f.history_result.lock().unwrap() =
        Some(api_error(ApiErrorKind::Other, "AccessDeniedException"));
    let r = at(&f, &input(SV2, None), t(3_000)).await;
    assert_eq!((r.outcome, r.expected), (Outcome::InProgress, None));
}

#[tokio::test]
async fn a_look_that_gets_no_answer_does_not_end_the_hold() {
    let history = vec![trained("f1", "ACTIVE", "FULL", -86_400, 3_600)];
    let throttled = || Err(api_error(ApiErrorKind::Throttled, "ThrottlingException"));
    let f = FakePersonalize::default();
    *f.versions.lock().unwrap() = vec![
        Ok(Some(training("FULL"))),
        throttled(),
        Ok(Some(training("FULL"))),
        Ok(Some(SolutionVersion {
            status: TrainingStatus::Active,
            ..training("FULL")
        })),
    ];
    *f.history.lock().unwrap() = history.clone();
    let clock = FakeClock::at(t(3_400));
    let r = held(&f, &input(SV2, None), &clock).await;
    assert_eq!((r.outcome, r.ready), (Outcome::Active, true));
    assert_eq!(clock.now(), t(3_430), "three pauses of 10 s");
    // The next invocation's first look gets no answer: the window is known
    // from the expectation it carries, and it holds on.
    let f = FakePersonalize::default();
    *f.versions.lock().unwrap() = vec![
        throttled(),
        Ok(Some(SolutionVersion {
            status: TrainingStatus::Active,
            ..training("FULL")
        })),
    ];
    let before = fake(vec![training("FULL")]);
    *before.history.lock().unwrap() = history;
    let earlier = at(&before, &input(SV2, None), t(3_000)).await;
    assert_eq!(earlier.expected, expected(3_600, "FULL", 1));
    let clock = FakeClock::at(t(3_400));
    let r = held(&f, &input(SV2, Some(earlier)), &clock).await;
    assert_eq!((r.outcome, clock.now()), (Outcome::Active, t(3_410)));
}
