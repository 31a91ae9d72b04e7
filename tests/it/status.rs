//! campaign-status: the status decisions (create, update in progress, failed
//! update, deleted, timed out) and the notifications of final outcomes.

use crate::support::*;
use chrono::{DateTime, Utc};
use personalize_deployer::Error;
use personalize_deployer::config::StatusConfig;
use personalize_deployer::domain::campaign::Newer;
use personalize_deployer::domain::campaign::{Campaign, Status};
use personalize_deployer::domain::execution::{
    Accepted, DeployReport, Deployment, Execution, Rejected, StatusReport, TaskInput, Then,
};
use personalize_deployer::domain::notification::{DeploymentStatus, SUBJECT_MAX};
use personalize_deployer::domain::outcome::Outcome;
use personalize_deployer::domain::record::{
    LAST_WRITE_AT_TAG, LAST_WRITE_REQUESTED_AT_TAG, LAST_WRITE_VERSION_TAG,
};
use personalize_deployer::domain::request::DeploymentRequest;
use personalize_deployer::domain::schedule::{
    Basis, Expectation, MAX_HOLD_SECONDS, MAX_POLLS, PollPolicy, TRAINING_POLICY,
};
use personalize_deployer::domain::status::{Observation, observe, poll};
use personalize_deployer::handlers::status::{Report, handle};
use personalize_deployer::ports::{ApiError, ApiErrorKind};
use serde_json::json;

fn policy() -> PollPolicy {
    PollPolicy {
        initial_seconds: 30,
        max_seconds: 120,
        backoff_rate: 2.0,
        deadline_seconds: 3600,
        max_polls: MAX_POLLS,
        hold_seconds: 5,
        max_hold_seconds: MAX_HOLD_SECONDS,
        spaced_for: PollPolicy::default().spaced_for,
    }
}

/// The sample status input: an UPDATE from SV1 to SV2 started at 10:30:02,
/// after two polls.
fn update_input() -> TaskInput {
    serde_json::from_value(event("campaign-status-input.json")).unwrap()
}

/// The accepted request of a task input, to change.
fn accepted(input: &mut TaskInput) -> &mut Accepted {
    match &mut input.state {
        Execution::Accepted(accepted) => accepted,
        other => panic!("not an accepted request: {other:?}"),
    }
}

fn target() -> DeploymentRequest {
    accepted(&mut update_input()).request.clone()
}

fn deployment() -> DeployReport {
    started_mut(&mut update_input()).clone()
}

/// The create or update DeployCampaign reported in `input`.
fn started_mut(input: &mut TaskInput) -> &mut DeployReport {
    match accepted(input).deployment.as_mut() {
        Some(Deployment::Started(report)) => report,
        other => panic!("not a started deployment: {other:?}"),
    }
}

fn started() -> DateTime<Utc> {
    deployment().started_at
}

/// One poll at `now`, with no time to hold.
async fn poll_at(
    fake: &FakePersonalize,
    input: &TaskInput,
    now: DateTime<Utc>,
) -> Result<StatusReport, Error> {
    poll(fake, input, &policy(), &FakeClock::at(now), now).await
}

fn at(seconds_after_start: i64) -> impl Fn() -> DateTime<Utc> {
    move || started() + chrono::Duration::seconds(seconds_after_start)
}

/// The campaign before the update: ACTIVE on SV1.
fn before() -> Campaign {
    active_campaign(&patched(&target(), json!({"solutionVersionArn": SV1})))
}

fn updating(status: Status) -> Campaign {
    let mut c = before();
    let mut u = update_record(SV2, 2, status);
    u.config = target().campaign_config().cloned();
    u.created_at = Some(started() + chrono::Duration::milliseconds(300));
    c.latest_update = Some(u);
    c
}

fn promoted() -> Campaign {
    let mut c = active_campaign(&target());
    let mut u = update_record(SV2, 2, Status::Active);
    u.config = target().campaign_config().cloned();
    c.latest_update = Some(u);
    c
}

async fn poll_with(campaign: Option<Campaign>, now: impl Fn() -> DateTime<Utc>) -> StatusReport {
    let fake = FakePersonalize::describing(vec![Ok(campaign)]);
    poll_at(&fake, &update_input(), now()).await.unwrap()
}

#[test]
fn a_campaign_being_created_is_in_progress() {
    let mut c = active_campaign(&target());
    for status in [Status::CreatePending, Status::CreateInProgress] {
        c.status = status.clone();
        assert_eq!(
            observe(&target(), &deployment(), Some(&c)),
            Observation::InProgress(format!("campaign status is {status}"))
        );
    }
}

#[test]
fn an_active_campaign_serving_the_target_is_done() {
    assert_eq!(
        observe(&target(), &deployment(), Some(&active_campaign(&target()))),
        Observation::Done
    );
}

#[test]
fn a_failed_creation_is_failed_with_its_reason() {
    let mut c = active_campaign(&target());
    c.status = Status::CreateFailed;
    c.updated_at = Some(started() + chrono::Duration::seconds(600));
    c.failure_reason = Some("Insufficient capacity".into());
    assert_eq!(
        observe(&target(), &deployment(), Some(&c)),
        Observation::Failed("Insufficient capacity".into())
    );
    c.failure_reason = None;
    assert!(
        matches!(observe(&target(), &deployment(), Some(&c)), Observation::Failed(r) if r.contains("no reason given"))
    );
}

#[test]
fn a_missing_or_deleting_campaign_is_deleted() {
    assert!(
        matches!(observe(&target(), &deployment(), None), Observation::Deleted(r) if r.contains("no longer exists"))
    );
    let mut c = active_campaign(&target());
    c.status = Status::DeleteInProgress;
    assert!(
        matches!(observe(&target(), &deployment(), Some(&c)), Observation::Deleted(r) if r.contains("DELETE IN_PROGRESS"))
    );
}

#[test]
fn during_an_update_the_active_top_level_status_is_not_completion() {
    // Top-level ACTIVE, progress in latestCampaignUpdate.
    for status in [Status::CreatePending, Status::CreateInProgress] {
        let c = updating(status.clone());
        assert_eq!(c.status, Status::Active);
        assert_eq!(
            observe(&target(), &deployment(), Some(&c)),
            Observation::InProgress(format!("campaign update status is {status}"))
        );
    }
    // Before the update record shows up, the campaign still serves SV1.
    assert!(
        matches!(observe(&target(), &deployment(), Some(&before())), Observation::InProgress(r) if r.contains("does not serve the request yet"))
    );
    // Update ACTIVE but the top level not promoted yet: still waiting.
    assert!(matches!(
        observe(&target(), &deployment(), Some(&updating(Status::Active))),
        Observation::InProgress(_)
    ));
    assert_eq!(
        observe(&target(), &deployment(), Some(&promoted())),
        Observation::Done
    );
}

#[test]
fn a_failed_update_is_a_failed_deployment_while_the_campaign_stays_active() {
    let mut c = updating(Status::CreateFailed);
    c.latest_update.as_mut().unwrap().failure_reason =
        Some("Solution version is not compatible".into());
    let Observation::Failed(reason) = observe(&target(), &deployment(), Some(&c)) else {
        panic!()
    };
    assert_eq!(
        reason,
        format!("Solution version is not compatible; the campaign is still ACTIVE on {SV1}")
    );
}

#[test]
fn failures_recorded_before_the_deployment_started_are_not_its_outcome() {
    // A failed update left by an earlier attempt, before this update shows up.
    let mut c = before();
    let mut old = update_record(SV2, 2, Status::CreateFailed);
    old.created_at = Some(started() - chrono::Duration::hours(2));
    c.latest_update = Some(old);
    assert!(
        matches!(observe(&target(), &deployment(), Some(&c)), Observation::InProgress(r) if r.contains("does not serve the request yet"))
    );
    // A campaign whose creation failed yesterday, updated just now: until the
    // update shows up, it is not this deployment's failure.
    let mut failed = before();
    failed.status = Status::CreateFailed;
    failed.failure_reason = Some("old failure".into());
    failed.updated_at = Some(started() - chrono::Duration::days(1));
    assert!(
        matches!(observe(&target(), &deployment(), Some(&failed)), Observation::InProgress(r) if r.contains("earlier attempt"))
    );
    // Within the clock-skew allowance it is this deployment's.
    failed.updated_at = Some(started() - chrono::Duration::seconds(30));
    assert_eq!(
        observe(&target(), &deployment(), Some(&failed)),
        Observation::Failed("old failure".into())
    );
}

#[test]
fn an_update_of_a_failed_campaign_is_followed_in_its_update_record() {
    let mut c = updating(Status::CreateInProgress);
    c.status = Status::CreateFailed;
    c.failure_reason = Some("old failure".into());
    c.updated_at = Some(started() - chrono::Duration::days(1));
    assert_eq!(
        observe(&target(), &deployment(), Some(&c)),
        Observation::InProgress("campaign update status is CREATE IN_PROGRESS".into())
    );
    let u = c.latest_update.as_mut().unwrap();
    u.status = Status::CreateFailed;
    u.failure_reason = Some("new failure".into());
    assert_eq!(
        observe(&target(), &deployment(), Some(&c)),
        Observation::Failed("new failure".into())
    );
}

#[tokio::test]
async fn an_update_in_progress_waits_with_backoff() {
    let report = poll_with(Some(updating(Status::CreateInProgress)), at(300)).await;
    assert_eq!(report.outcome, Outcome::InProgress);
    assert!(!report.is_final && !report.succeeded);
    assert_eq!(report.attempt, 3, "the sample input had two polls");
    assert_eq!(report.wait_seconds, 120);
    assert_eq!(report.campaign_status.as_deref(), Some("ACTIVE"));
    assert_eq!(report.update_status.as_deref(), Some("CREATE IN_PROGRESS"));
    assert!(report.notification.is_none());
    let out = serde_json::to_value(&report).unwrap();
    for key in ["outcome", "final", "succeeded", "waitSeconds", "attempt"] {
        assert!(out.get(key).is_some(), "{key} is always present: {out}");
    }
    assert_eq!(out["outcome"], "IN_PROGRESS");
}

#[tokio::test]
async fn the_last_wait_never_runs_far_past_the_deadline() {
    let report = poll_with(Some(updating(Status::CreateInProgress)), at(3600 - 45)).await;
    assert_eq!(report.wait_seconds, 45);
}

#[tokio::test]
async fn past_the_deadline_an_unfinished_deployment_is_timed_out() {
    let report = poll_with(Some(updating(Status::CreateInProgress)), at(3600)).await;
    assert_eq!(report.outcome, Outcome::TimedOut);
    assert!(report.is_final && !report.succeeded);
    assert_eq!(report.wait_seconds, 0);
    let reason = report.failure_reason.unwrap();
    assert!(
        reason.contains("not finished 1h 0m 0s after it started"),
        "{reason}"
    );
    assert!(
        reason.contains("campaign update status is CREATE IN_PROGRESS"),
        "{reason}"
    );
    let n = report.notification.unwrap();
    assert_eq!(n.detail_type, "Campaign Deployment Timed Out");
    assert_eq!(n.detail.status, DeploymentStatus::TimedOut);
}

#[tokio::test]
async fn a_finished_deployment_is_reported_even_after_the_deadline() {
    let report = poll_with(Some(promoted()), at(7200)).await;
    assert_eq!(report.outcome, Outcome::Active);
}

#[tokio::test]
async fn a_successful_update_is_notified_with_every_fact() {
    let report = poll_with(Some(promoted()), at(754)).await;
    assert_eq!(report.outcome, Outcome::Active);
    assert!(report.is_final && report.succeeded);
    let n = report.notification.unwrap();
    assert_eq!(
        n.subject,
        "Personalize campaign movie-recs: deployment succeeded (UPDATE)"
    );
    assert_eq!(n.detail_type, "Campaign Deployment Succeeded");
    assert_eq!(n.source, "personalize-deployer");
    let detail = serde_json::to_value(&n.detail).unwrap();
    assert_eq!(
        detail,
        json!({
            "schemaVersion": "1",
            "notificationId": "arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:movie-recs-9b1c0c1f2a3d4e5f60718293a4b5c6d7#SUCCEEDED",
            "status": "SUCCEEDED",
            "outcome": "ACTIVE",
            "campaignName": "movie-recs",
            "campaignArn": CAMPAIGN_ARN,
            "operation": "UPDATE",
            "targetSolutionVersionArn": SV2,
            "previousSolutionVersionArn": SV1,
            "failureReason": null,
            "supersededBy": null,
            "errors": [],
            "startedAt": "2026-11-22T10:30:01.250Z",
            "endedAt": "2026-11-22T10:42:36Z",
            "durationSeconds": 754.75,
            "executionArn": "arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:movie-recs-9b1c0c1f2a3d4e5f60718293a4b5c6d7",
            "origin": {"type": "event", "eventId": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
                       "source": "personalize-deployer", "account": "111122223333", "region": "us-east-1"},
            "training": {"solutionVersionArn": SV2, "status": "ACTIVE", "failureReason": null,
                         "trainingHours": 1.5},
            "gate": {"metric": "normalized_discounted_cumulative_gain_at_10", "candidate": 0.3121,
                     "current": 0.3087, "maxDrop": 0.02, "maxRelativeDrop": null, "minValue": null,
                     "passed": true, "reason": null},
            "watch": null,
            "rollback": null
        })
    );
    for line in [
        "Training:         ACTIVE, 1.50 training hours",
        "Metric gate:      normalized_discounted_cumulative_gain_at_10 new 0.3121 (served 0.3087): passed",
        "Personalize campaign movie-recs: deployment succeeded (UPDATE).",
        "Status:           SUCCEEDED",
        &format!("Solution version: {SV2}"),
        &format!("Previous version: {SV1}"),
        "Ended:            2026-11-22T10:42:36Z (took 12m 35s)",
        "Request:          EventBridge event 6a7e8feb-b491-4cf7-a9f1-bf3703467718 from personalize-deployer",
    ] {
        assert!(n.message.contains(line), "{line:?} not in\n{}", n.message);
    }
}

#[tokio::test]
async fn a_failed_update_is_notified_as_failed_with_the_reason() {
    let mut c = updating(Status::CreateFailed);
    c.latest_update.as_mut().unwrap().failure_reason = Some("Internal error".into());
    let report = poll_with(Some(c), at(100)).await;
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(report.campaign_status.as_deref(), Some("ACTIVE"));
    assert_eq!(report.update_status.as_deref(), Some("CREATE FAILED"));
    let n = report.notification.unwrap();
    assert_eq!(
        n.subject,
        "Personalize campaign movie-recs: deployment FAILED (UPDATE)"
    );
    assert_eq!(n.detail_type, "Campaign Deployment Failed");
    assert_eq!(
        n.detail.failure_reason.as_deref(),
        Some(format!("Internal error; the campaign is still ACTIVE on {SV1}").as_str())
    );
    assert!(
        n.message
            .contains("Reason:           Internal error; the campaign is still ACTIVE")
    );
}

#[tokio::test]
async fn a_campaign_deleted_while_waiting_is_a_failed_deployment() {
    let report = poll_with(None, at(100)).await;
    assert_eq!(report.outcome, Outcome::Deleted);
    let n = report.notification.unwrap();
    assert_eq!(n.detail_type, "Campaign Deployment Failed");
    assert_eq!(n.detail.outcome, Outcome::Deleted);
    assert!(
        n.subject
            .ends_with("deployment FAILED (UPDATE), campaign deleted"),
        "{}",
        n.subject
    );
}

#[tokio::test]
async fn an_unchanged_deployment_is_notified_without_describing() {
    let mut input = update_input();
    started_mut(&mut input).operation = personalize_deployer::domain::outcome::Operation::None;
    let fake = FakePersonalize::default();
    let report = poll_at(&fake, &input, at(1)()).await.unwrap();
    assert_eq!(report.outcome, Outcome::Unchanged);
    assert!(report.succeeded);
    assert!(fake.calls().is_empty());
    let n = report.notification.unwrap();
    assert_eq!(n.detail_type, "Campaign Deployment Unchanged");
    assert_eq!(
        n.subject,
        "Personalize campaign movie-recs: already up to date, nothing deployed"
    );
}

#[tokio::test]
async fn a_rejected_request_is_notified_with_every_reason() {
    let input: TaskInput =
        serde_json::from_value(event("campaign-status-rejected-input.json")).unwrap();
    let fake = FakePersonalize::default();
    let now = input.execution_start_time.unwrap() + chrono::Duration::milliseconds(400);
    let report = poll_at(&fake, &input, now).await.unwrap();
    assert_eq!(report.outcome, Outcome::Rejected);
    assert!(report.is_final && !report.succeeded);
    assert!(fake.calls().is_empty());
    let n = report.notification.unwrap();
    assert_eq!(n.detail_type, "Campaign Deployment Rejected");
    assert_eq!(
        n.subject,
        "Personalize campaign -movie recs: deployment request REJECTED"
    );
    assert_eq!(n.detail.errors.len(), 2);
    assert_eq!(n.detail.duration_seconds, Some(0.4));
    assert!(
        n.message
            .contains("The request was rejected for these reasons:\n  - campaignName: must start")
    );
    assert!(
        n.message
            .contains("  - minProvisionedTPS: must be a whole number from 1 to 2147483647 (got 0)")
    );
    assert!(n.message.contains("s3://personalize-deployer-manifests/manifests/movie recs=v2.json (version 3HL4kqtJlcpXroDTDmjVBH40Nrjfkd) via s3-notification"));
}

#[tokio::test]
async fn a_caught_task_error_is_notified_as_failed() {
    let input: TaskInput =
        serde_json::from_value(event("campaign-status-error-input.json")).unwrap();
    let fake = FakePersonalize::default();
    let report = poll_at(&fake, &input, t(0)).await.unwrap();
    assert_eq!(report.outcome, Outcome::Failed);
    assert!(fake.calls().is_empty());
    let reason = report.failure_reason.unwrap();
    assert!(
        reason.starts_with(
            "ResourceNotFound: not found: ResourceNotFoundException: solution version"
        ),
        "{reason}"
    );
    let n = report.notification.unwrap();
    assert_eq!(n.detail.campaign_name.as_deref(), Some("movie-recs"));
    assert_eq!(n.detail.target_solution_version_arn.as_deref(), Some(SV2));
    assert_eq!(n.detail.operation, None);
}

#[tokio::test]
async fn subjects_fit_sns_rules_whatever_the_input() {
    let mut input: TaskInput =
        serde_json::from_value(event("campaign-status-rejected-input.json")).unwrap();
    for name in [
        "x".repeat(300),
        "données-réseau\nnouvelle ligne".to_string(),
    ] {
        let Execution::Rejected(rejected) = &mut input.state else {
            panic!("a rejected request")
        };
        rejected.campaign_name = Some(name);
        let report = poll_at(&FakePersonalize::default(), &input, t(0))
            .await
            .unwrap();
        let subject = report.notification.unwrap().subject;
        assert!(subject.chars().count() <= SUBJECT_MAX, "{subject}");
        assert!(
            subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
            "{subject:?}"
        );
    }
}

#[tokio::test]
async fn a_poll_that_cannot_read_the_campaign_polls_again_until_the_deadline() {
    // The poll only reads: throttling of either kind, a 5xx or a time-out says
    // nothing about the deployment, which may well be succeeding.
    for (kind, code) in [
        (ApiErrorKind::Throttled, "ThrottlingException"),
        (ApiErrorKind::Throttled, "LimitExceededException"),
        (ApiErrorKind::LimitExceeded, "LimitExceededException"),
        (ApiErrorKind::Unavailable, "ServiceUnavailable"),
        (ApiErrorKind::Unavailable, "Timeout"),
    ] {
        let fake = FakePersonalize::describing(vec![Err(api_error(kind, code))]);
        let report = poll_at(&fake, &update_input(), at(600)()).await.unwrap();
        assert_eq!(report.outcome, Outcome::InProgress, "{code}");
        assert!(!report.is_final && report.notification.is_none());
        // The sample input has made two polls: this is the third.
        assert_eq!((report.attempt, report.wait_seconds), (3, 120), "{code}");

        let fake = FakePersonalize::describing(vec![Err(api_error(kind, code))]);
        let report = poll_at(&fake, &update_input(), at(3600)()).await.unwrap();
        assert_eq!(report.outcome, Outcome::TimedOut, "{code}");
        let reason = report.failure_reason.unwrap();
        assert!(
            reason.contains(
                "not finished 1h 0m 0s after it started: DescribeCampaign did not answer"
            ),
            "{reason}"
        );
        assert!(reason.contains(code), "{reason}");
    }
    // An error that will not go away (access denied) is the task's error.
    let fake = FakePersonalize::describing(vec![Err(api_error(
        ApiErrorKind::Other,
        "AccessDeniedException",
    ))]);
    let err = poll_at(&fake, &update_input(), at(600)())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "AwsError");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn the_handler_reads_the_sample_input() {
    let fake = FakePersonalize::describing(vec![Ok(Some(promoted()))]);
    let config = StatusConfig {
        poll: policy(),
        training: TRAINING_POLICY,
        metrics_namespace: "PersonalizeDeployer".into(),
        watch_look_seconds: 10,
        scope: Default::default(),
    };
    let metrics = FakeMetrics::default();
    let report = handle(
        &fake,
        &NO_ALARMS,
        &metrics,
        &FakeClock::at(started()),
        &config,
        event("campaign-status-input.json"),
        0,
    )
    .await
    .unwrap();
    let Report::Campaign(report) = report else {
        panic!("a campaign check reports the campaign: {report:?}")
    };
    assert_eq!(report.outcome, Outcome::Active);
    // The final outcome is measured once.
    let [measured] = &metrics.recorded.lock().unwrap()[..] else {
        panic!("one record")
    };
    assert_eq!(measured.outcome, Outcome::Active);
    assert_eq!(measured.campaign_name.as_deref(), Some("movie-recs"));
    assert_eq!(measured.polls, 3);
    assert_eq!(measured.training_polls, Some(1));
    assert_eq!(
        measured.training_wait_seconds, None,
        "trained at the first check"
    );
    assert!(measured.duration_seconds.unwrap() > 0.0);
    assert_eq!(fake.calls(), vec![format!("describe {CAMPAIGN_ARN}")]);
}

/// The campaign as a newer deployment to `version` leaves it: its update
/// record in `status`, created `seconds` after ours started.
fn overtaken(version: &str, status: Status, seconds: i64) -> Campaign {
    let mut c = promoted();
    let mut u = update_record(version, 2, status);
    u.config = target().campaign_config().cloned();
    u.created_at = Some(started() + chrono::Duration::seconds(seconds));
    c.latest_update = Some(u);
    if c.latest_update.as_ref().unwrap().status == Status::Active {
        c.solution_version_arn = Some(version.into());
    }
    c
}

const SV3: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies/9c0d1e2f";

#[test]
fn a_newer_deployment_to_another_version_supersedes_this_one() {
    // The newer update runs (it started while ours ran, or just after ours
    // finished), or has already finished: either way ours is over.
    for (status, seconds) in [
        (Status::CreatePending, 400),
        (Status::CreateInProgress, 900),
        (Status::Active, 900),
        (Status::CreateFailed, 900),
    ] {
        assert_eq!(
            observe(
                &target(),
                &deployment(),
                Some(&overtaken(SV3, status.clone(), seconds))
            ),
            Observation::Superseded(Newer {
                solution_version_arn: SV3.into(),
                differences: vec![format!("solutionVersionArn {SV3} -> {SV2}")],
            }),
            "{status}"
        );
    }
}

#[test]
fn an_earlier_or_identical_deployment_does_not_supersede_this_one() {
    // An update to SV3 that ended before ours started is earlier work (ours
    // has not shown up yet).
    let earlier = overtaken(SV3, Status::Active, -600);
    assert!(matches!(
        observe(&target(), &deployment(), Some(&earlier)),
        Observation::InProgress(_)
    ));
    // A newer request for the same target is not another target.
    let same = overtaken(SV2, Status::CreateInProgress, 900);
    assert!(matches!(
        observe(&target(), &deployment(), Some(&same)),
        Observation::InProgress(_)
    ));
}

#[test]
fn our_own_record_leaving_members_out_does_not_supersede_us() {
    // Every member of a described campaign and update record is optional: one
    // the service does not report is no sign of another deployment.
    let mut own = updating(Status::CreateInProgress);
    let record = own.latest_update.as_mut().unwrap();
    record.config = None;
    record.min_provisioned_tps = None;
    assert_eq!(
        observe(&target(), &deployment(), Some(&own)),
        Observation::InProgress("campaign update status is CREATE IN_PROGRESS".into())
    );
    // A campaign being created (by us) that reports no configuration yet.
    let mut creating = active_campaign(&target());
    creating.status = Status::CreateInProgress;
    creating.config = None;
    creating.min_provisioned_tps = None;
    creating.created_at = Some(started() + chrono::Duration::seconds(1));
    assert!(matches!(
        observe(&target(), &deployment(), Some(&creating)),
        Observation::InProgress(_)
    ));
    // Only a member it reports differently counts: another TPS is another
    // deployment, even to our version.
    let mut tps = updating(Status::CreateInProgress);
    tps.latest_update.as_mut().unwrap().min_provisioned_tps = Some(7);
    assert_eq!(
        observe(&target(), &deployment(), Some(&tps)),
        Observation::Superseded(Newer {
            solution_version_arn: SV2.into(),
            differences: vec!["minProvisionedTPS 7 -> 2".into()],
        })
    );
}

#[test]
fn a_recent_failure_heading_elsewhere_is_not_ours() {
    // Another deployment's update to SV3 failed 30 s before ours started (and
    // ours is not visible yet): not our failure.
    let mut c = before();
    let mut failed = update_record(SV3, 2, Status::CreateFailed);
    failed.created_at = Some(started() - chrono::Duration::seconds(30));
    failed.failure_reason = Some("someone else's failure".into());
    c.latest_update = Some(failed);
    assert!(matches!(
        observe(&target(), &deployment(), Some(&c)),
        Observation::InProgress(_)
    ));
    // Our own failure, reported without its configuration, is ours.
    let mut own = updating(Status::CreateFailed);
    let record = own.latest_update.as_mut().unwrap();
    record.config = None;
    record.failure_reason = Some("Insufficient capacity".into());
    assert!(matches!(
        observe(&target(), &deployment(), Some(&own)),
        Observation::Failed(reason) if reason.starts_with("Insufficient capacity")
    ));
}

#[tokio::test]
async fn a_superseded_deployment_ends_at_once_naming_the_newer_target() {
    let report = poll_with(Some(overtaken(SV3, Status::CreateInProgress, 400)), at(420)).await;
    assert_eq!(report.outcome, Outcome::Superseded);
    assert!(report.is_final && !report.succeeded);
    let n = report.notification.unwrap();
    assert_eq!(n.detail_type, "Campaign Deployment Superseded");
    assert_eq!(n.detail.status, DeploymentStatus::Superseded);
    assert_eq!(n.detail.superseded_by.as_deref(), Some(SV3));
    assert_eq!(
        n.subject,
        "Personalize campaign movie-recs: deployment SUPERSEDED (UPDATE) by a newer one"
    );
    assert!(
        n.message.contains(&format!("Superseded by:    {SV3}")),
        "{}",
        n.message
    );
}

#[test]
fn served_means_the_members_the_request_gives_equal_as_the_service_reports_them() {
    // The request gives explorationWeight "0.3" and explorationItemAgeCutOff "30".
    let mut c = active_campaign(&target());
    let reported = |pairs: &[(&str, &str)]| {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    c.config.as_mut().unwrap().item_exploration_config = reported(&[
        ("explorationWeight", "0.30"),
        ("explorationItemAgeCutOff", "30.0"),
        ("aDefaultTheServiceAdds", "1"),
    ]);
    assert_eq!(
        observe(&target(), &deployment(), Some(&c)),
        Observation::Done
    );
    c.config.as_mut().unwrap().item_exploration_config = reported(&[
        ("explorationWeight", "0.35"),
        ("explorationItemAgeCutOff", "30"),
    ]);
    assert_eq!(
        observe(&target(), &deployment(), Some(&c)),
        Observation::InProgress(
            "the campaign is ACTIVE but does not serve the request yet \
             (itemExplorationConfig.explorationWeight \"0.35\" -> \"0.3\")"
                .into()
        )
    );
    c.config.as_mut().unwrap().item_exploration_config = reported(&[("explorationWeight", "0.3")]);
    assert!(matches!(
        observe(&target(), &deployment(), Some(&c)),
        Observation::InProgress(what) if what.contains("itemExplorationConfig.explorationItemAgeCutOff (none) -> \"30\"")
    ));
}

#[test]
fn no_allowed_parameters_let_an_execution_poll_more_than_its_budget() {
    // The densest schedule the parameters allow, with the longest deadline,
    // for a wait for a busy campaign and then the deployment (each has the
    // deadline): the waits are lengthened so that the deadlines come first.
    for deadline_seconds in [60, 3600, 10_800, 43_200] {
        let policy = PollPolicy {
            initial_seconds: 1,
            max_seconds: 1,
            backoff_rate: 1.0,
            deadline_seconds,
            ..PollPolicy::default()
        };
        let mut polls = 0u32;
        for phase in [policy.busy_wait(), policy] {
            let mut elapsed = 0u64;
            while elapsed < deadline_seconds {
                polls += 1;
                elapsed += phase.wait(polls);
            }
            polls += 1; // the poll at the deadline, which times out (or deploys)
        }
        assert!(polls <= MAX_POLLS, "{deadline_seconds} s: {polls} polls");
    }
    // The default schedule is not touched.
    let default = PollPolicy::default();
    assert_eq!(
        (1..=4).map(|a| default.wait(a)).collect::<Vec<_>>(),
        vec![30, 60, 120, 120]
    );
}

#[tokio::test]
async fn the_poll_budget_ends_a_deployment_as_timed_out_even_before_its_deadline() {
    let mut input = update_input();
    accepted(&mut input).status.as_mut().unwrap().attempt = MAX_POLLS - 1;
    let fake = FakePersonalize::describing(vec![Ok(Some(updating(Status::CreateInProgress)))]);
    let report = poll_at(&fake, &input, at(600)()).await.unwrap();
    assert_eq!(report.outcome, Outcome::TimedOut);
    assert!(
        report
            .failure_reason
            .unwrap()
            .contains(&format!("not finished after {MAX_POLLS} polls")),
    );
}

#[tokio::test]
async fn an_execution_that_ended_without_reporting_is_announced_from_its_event() {
    // What the AnnounceUnreportedEnds rule starts: {"ended": <the event's detail>}.
    let event = event("execution-aborted.json");
    let announcer = "arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:0b3c";
    let announcement = |status: &str, error: serde_json::Value| {
        let mut ended = event["detail"].clone();
        ended["status"] = json!(status);
        ended["error"] = error;
        serde_json::from_value::<TaskInput>(json!({
            "state": {"ended": ended},
            "executionArn": announcer,
            "executionStartTime": "2026-11-22T11:02:41Z",
        }))
        .unwrap()
    };
    let fake = FakePersonalize::default();
    for (status, error, outcome, detail_type) in [
        (
            "ABORTED",
            json!(null),
            Outcome::Aborted,
            "Campaign Deployment Aborted",
        ),
        (
            "TIMED_OUT",
            json!(null),
            Outcome::ExecutionTimedOut,
            "Campaign Deployment Execution Timed Out",
        ),
        (
            "FAILED",
            json!("States.Runtime"),
            Outcome::ExecutionFailed,
            "Campaign Deployment Execution Failed",
        ),
    ] {
        let report = poll_at(&fake, &announcement(status, error), Utc::now())
            .await
            .unwrap();
        assert_eq!(report.outcome, outcome);
        assert!(report.is_final && !report.succeeded);
        let n = report.notification.unwrap();
        assert_eq!(n.detail_type, detail_type);
        let d = &n.detail;
        // As if the ended execution had sent it.
        let ended = event["detail"]["executionArn"].as_str().unwrap();
        assert_eq!(d.execution_arn.as_deref(), Some(ended));
        assert_eq!(d.notification_id, format!("{ended}#{}", d.status.as_str()));
        assert_eq!(d.campaign_name.as_deref(), Some("movie-recs"));
        assert_eq!(d.target_solution_version_arn.as_deref(), Some(SV2));
        assert_eq!(
            d.started_at.unwrap().to_rfc3339(),
            "2026-11-22T10:30:01.250+00:00"
        );
        assert_eq!(d.ended_at.to_rfc3339(), "2026-11-22T11:02:40+00:00");
        assert!(d.origin.is_some());
        let reason = d.failure_reason.as_deref().unwrap();
        assert!(
            reason.ends_with("the campaign may still be changing"),
            "{reason}"
        );
        if status == "FAILED" {
            assert!(reason.contains("(States.Runtime)"), "{reason}");
        }
    }
    assert!(fake.calls().is_empty(), "an announcement calls no AWS API");
}

// Polling that predicts the end: the hold around the expected end.

/// The sample update, expected to take 20 minutes (its window: 14 to 26
/// minutes after it started).
fn expected_update() -> TaskInput {
    expecting(1200)
}

/// The sample update, expected to take `seconds`.
fn expecting(seconds: u64) -> TaskInput {
    let mut input = update_input();
    let deployment = started_mut(&mut input);
    deployment.expected = Some(Expectation {
        seconds,
        basis: Basis::LastUpdate,
    });
    input
}

async fn hold(
    answers: Vec<Result<Option<Campaign>, ApiError>>,
    policy: &PollPolicy,
    from: i64,
    limit: i64,
) -> (StatusReport, FakePersonalize, FakeClock) {
    hold_input(&expected_update(), answers, policy, from, limit).await
}

/// One poll of `input` that may hold, at `from` seconds after the start and
/// with its invocation's time up at `limit`.
async fn hold_input(
    input: &TaskInput,
    answers: Vec<Result<Option<Campaign>, ApiError>>,
    policy: &PollPolicy,
    from: i64,
    limit: i64,
) -> (StatusReport, FakePersonalize, FakeClock) {
    let fake = FakePersonalize::describing(answers);
    let clock = FakeClock::at(at(from)());
    let report = poll(&fake, input, policy, &clock, at(limit)())
        .await
        .unwrap();
    (report, fake, clock)
}

fn looks(fake: &FakePersonalize) -> usize {
    fake.calls.lock().unwrap().len()
}

#[tokio::test]
async fn inside_the_window_one_poll_looks_every_few_seconds_until_the_end() {
    let mut answers = vec![Ok(Some(updating(Status::CreateInProgress))); 4];
    answers.push(Ok(Some(promoted())));
    let (report, fake, clock) = hold(answers, &policy(), 840, 1080).await;
    assert_eq!(report.outcome, Outcome::Active);
    assert!(report.notification.is_some());
    assert_eq!(report.attempt, 3, "one poll, however many looks");
    assert_eq!(looks(&fake), 5);
    assert_eq!(clock.pauses.lock().unwrap().len(), 4);
    assert!(
        clock
            .pauses
            .lock()
            .unwrap()
            .iter()
            .all(|p| p.as_secs() == 5)
    );
    assert_eq!(clock.now(), at(860)(), "seen at the fifth look, 20 s in");
}

#[tokio::test]
async fn a_look_that_gets_no_answer_does_not_end_the_hold() {
    let answers = vec![
        Ok(Some(updating(Status::CreateInProgress))),
        Err(api_error(ApiErrorKind::Throttled, "ThrottlingException")),
        Ok(Some(promoted())),
    ];
    let (report, fake, _) = hold(answers, &policy(), 900, 1140).await;
    assert_eq!(report.outcome, Outcome::Active);
    assert_eq!(looks(&fake), 3);
}

#[tokio::test]
async fn the_hold_ends_with_the_window_and_the_usual_wait_follows() {
    let answers = vec![Ok(Some(updating(Status::CreateInProgress)))];
    let (report, fake, clock) = hold(answers, &policy(), 1500, 1740).await;
    assert_eq!(report.outcome, Outcome::InProgress);
    assert_eq!(clock.now(), at(1560)(), "the window closes at 26 minutes");
    assert_eq!(looks(&fake), 13);
    assert_eq!(report.wait_seconds, 120, "the usual schedule after it");
}

#[tokio::test]
async fn the_hold_ends_with_the_invocations_time_and_the_next_poll_comes_at_once() {
    let answers = vec![Ok(Some(updating(Status::CreateInProgress)))];
    let (report, fake, clock) = hold(answers, &policy(), 840, 870).await;
    assert_eq!(report.outcome, Outcome::InProgress);
    assert_eq!(clock.now(), at(870)());
    assert_eq!(looks(&fake), 7);
    assert_eq!(report.wait_seconds, 1);
}

#[tokio::test]
async fn before_the_window_a_poll_does_not_stay_and_waits_at_most_until_it() {
    let answers = vec![Ok(Some(updating(Status::CreateInProgress)))];
    let (report, fake, clock) = hold(answers.clone(), &policy(), 600, 840).await;
    assert_eq!((report.wait_seconds, looks(&fake)), (120, 1));
    assert!(clock.pauses.lock().unwrap().is_empty());
    let (report, _, _) = hold(answers.clone(), &policy(), 810, 1050).await;
    assert_eq!(
        report.wait_seconds, 30,
        "the poll after lands on the window"
    );
    // Holding turned off: the usual schedule throughout.
    let off = PollPolicy {
        hold_seconds: 0,
        max_hold_seconds: MAX_HOLD_SECONDS,
        ..policy()
    };
    let (report, fake, _) = hold(answers, &off, 900, 1140).await;
    assert_eq!((report.wait_seconds, looks(&fake)), (120, 1));
}

#[tokio::test]
async fn a_hold_never_outlasts_the_deadline() {
    // A one-hour deadline inside the window of a 50-minute expectation.
    let answers = vec![Ok(Some(updating(Status::CreateInProgress)))];
    let (report, _, clock) = hold_input(&expecting(3000), answers, &policy(), 3590, 3830).await;
    assert_eq!(report.outcome, Outcome::TimedOut);
    assert_eq!(clock.now(), at(3600)());
}

#[tokio::test]
async fn the_handler_holds_no_longer_than_its_invocation_may_run() {
    let fake = FakePersonalize::describing(vec![Ok(Some(updating(Status::CreateInProgress)))]);
    let config = StatusConfig {
        poll: policy(),
        training: TRAINING_POLICY,
        metrics_namespace: "PersonalizeDeployer".into(),
        watch_look_seconds: 10,
        scope: Default::default(),
    };
    let mut input = event("campaign-status-input.json");
    input["state"]["deployment"]["expected"] = json!({"seconds": 1200, "basis": "LAST_UPDATE"});
    let hold = |deadline: Option<i64>| {
        let (fake, config, input) = (&fake, &config, input.clone());
        async move {
            let clock = FakeClock::at(at(840)());
            // The Lambda context's deadline: milliseconds since the epoch.
            let deadline = deadline.map_or(0, |s| at(840 + s)().timestamp_millis() as u64);
            let report = handle(
                fake,
                &NO_ALARMS,
                &FakeMetrics::default(),
                &clock,
                config,
                input,
                deadline,
            )
            .await
            .unwrap();
            let Report::Campaign(report) = report else {
                panic!("a campaign check: {report:?}")
            };
            (report.wait_seconds, (clock.now() - at(840)()).num_seconds())
        }
    };
    // 15 s before the function's own time-out, 40 s away.
    assert_eq!(hold(Some(40)).await, (1, 25));
    // At most 240 s, however long the function may run.
    assert_eq!(hold(Some(900)).await, (1, 240));
    assert_eq!(hold(None).await, (1, 240));
}

#[tokio::test]
async fn a_hold_with_no_time_left_does_not_bring_the_next_poll_sooner_than_the_budget_allows() {
    let answers = vec![Ok(Some(updating(Status::CreateInProgress)))];
    let (report, fake, clock) = hold(answers, &policy(), 840, 840).await;
    assert_eq!(report.outcome, Outcome::InProgress);
    assert_eq!(looks(&fake), 1);
    assert!(clock.pauses.lock().unwrap().is_empty());
    // ⌈3600 / 418⌉: the shortest wait of a one-hour deadline (with the
    // polls of a wait for a busy campaign kept aside), not 1 s.
    assert_eq!(report.wait_seconds, policy().shortest_wait());
    assert_eq!(report.wait_seconds, 9);
}

#[tokio::test]
async fn a_deployment_already_decided_by_its_state_makes_no_look_inside_the_window() {
    let mut input = expected_update();
    input.state = Execution::Rejected(Rejected {
        campaign_name: Some("movie-recs".into()),
        errors: Vec::new(),
        origin: None,
    });
    let answers = vec![Ok(Some(updating(Status::CreateInProgress)))];
    let (report, fake, clock) = hold_input(&input, answers, &policy(), 900, 1140).await;
    assert_eq!(report.outcome, Outcome::Rejected);
    assert_eq!(looks(&fake), 0);
    assert!(clock.pauses.lock().unwrap().is_empty());
}

#[tokio::test]
async fn with_holds_too_an_execution_reaches_its_deadline_within_its_poll_budget() {
    // The densest schedule, deadlines the template allows and a week (the
    // variable allows more), and expectations before, around and past the
    // deadline.
    for deadline_seconds in [60, 3600, 10_800, 43_200, 604_800] {
        let policy = PollPolicy {
            initial_seconds: 1,
            max_seconds: 1,
            backoff_rate: 1.0,
            deadline_seconds,
            ..policy()
        };
        for seconds in [
            1,
            deadline_seconds / 2,
            deadline_seconds,
            10 * deadline_seconds,
        ] {
            let mut input = expecting(seconds);
            accepted(&mut input).status = None;
            let fake =
                FakePersonalize::describing(vec![Ok(Some(updating(Status::CreateInProgress)))]);
            let clock = FakeClock::at(started());
            let report = loop {
                let limit = clock.now() + chrono::Duration::seconds(240);
                let report = poll(&fake, &input, &policy, &clock, limit).await.unwrap();
                if report.is_final {
                    break report;
                }
                *clock.now.lock().unwrap() += chrono::Duration::seconds(report.wait_seconds as i64);
                accepted(&mut input).status = Some(report);
            };
            let case = format!("deadline {deadline_seconds} s, expected {seconds} s");
            assert_eq!(report.outcome, Outcome::TimedOut, "{case}");
            assert!(
                report.attempt <= MAX_POLLS,
                "{case}: {} polls",
                report.attempt
            );
            let reason = report.failure_reason.unwrap_or_default();
            assert!(reason.contains("after it started"), "{case}: {reason}");
            // Noticed at the deadline, not long after it.
            let late = clock.now() - started() - chrono::Duration::seconds(deadline_seconds as i64);
            assert!(late <= chrono::Duration::seconds(1), "{case}: {late}");
        }
    }
}

/// The sample state of a request waiting for its busy campaign (requested
/// at 10:30:01, found it busy at 10:30:02, polled twice).
fn waiting_input() -> TaskInput {
    serde_json::from_value(event("campaign-status-waiting-input.json")).unwrap()
}

/// `seconds` after the waiting sample first found its campaign busy.
fn waited(seconds: i64) -> DateTime<Utc> {
    match &waiting_input().state {
        Execution::Accepted(a) => {
            a.deployment.as_ref().unwrap().waiting().unwrap().since
                + chrono::Duration::seconds(seconds)
        }
        other => panic!("{other:?}"),
    }
}

/// The campaign, busy with an update to another version that began before
/// the waiting request (at `began`, seconds after it first found it busy).
fn busy_since(began: i64) -> Campaign {
    let mut c = before();
    let mut u = update_record(
        "arn:aws:personalize:us-east-1:111122223333:solution/movies/99999999",
        2,
        Status::CreateInProgress,
    );
    u.created_at = Some(waited(began));
    c.latest_update = Some(u);
    c
}

#[tokio::test]
async fn a_waiting_request_polls_its_busy_campaign_on_the_usual_schedule() {
    let fake = FakePersonalize::describing(vec![Ok(Some(busy_since(-60)))]);
    let r = poll_at(&fake, &waiting_input(), waited(600)).await.unwrap();
    assert_eq!(
        (r.outcome, r.is_final, r.next),
        (Outcome::InProgress, false, Then::Poll)
    );
    // Third poll: 30 × 2² = 120 s, the cap.
    assert_eq!((r.attempt, r.wait_seconds), (3, 120));
    // The first: 30 s, lengthened to the wait's floor (⌈3600 / 58⌉ = 63 s:
    // it keeps BUSY_WAIT_POLLS polls until the deadline).
    let mut first = waiting_input();
    accepted(&mut first).status = None;
    let r = poll_at(&fake, &first, waited(10)).await.unwrap();
    assert_eq!((r.attempt, r.wait_seconds), (1, 63));
    assert_eq!(r.update_status.as_deref(), Some("CREATE IN_PROGRESS"));
}

#[tokio::test]
async fn a_waiting_request_deploys_as_soon_as_its_campaign_is_free() {
    let mut free = busy_since(-60);
    free.latest_update.as_mut().unwrap().status = Status::Active;
    let fake = FakePersonalize::describing(vec![Ok(Some(free))]);
    let r = poll_at(&fake, &waiting_input(), waited(1800))
        .await
        .unwrap();
    // DEPLOY: the definition goes to DeployCampaign at once. The usual wait
    // goes with it (120 s at the third poll) for a definition that cannot.
    assert_eq!(
        (r.outcome, r.is_final, r.next, r.wait_seconds),
        (Outcome::InProgress, false, Then::Deploy, 120)
    );
    assert!(r.notification.is_none());
    // Free just past the wait's deadline: the wait is over, it deploys.
    let r = poll_at(&fake, &waiting_input(), waited(3700))
        .await
        .unwrap();
    assert_eq!(r.next, Then::Deploy);
    // A definition that polls again instead of deploying (an execution begun
    // before the stack's update) ends within its poll budget, saying what to
    // do, not at the history limit.
    let mut looping = waiting_input();
    accepted(&mut looping).status.as_mut().unwrap().attempt = MAX_POLLS - 1;
    let r = poll_at(&fake, &looping, waited(3700)).await.unwrap();
    assert_eq!(r.outcome, Outcome::TimedOut);
    assert!(
        r.failure_reason
            .unwrap()
            .contains("request the deployment again"),
    );
}

#[tokio::test]
async fn a_waiting_request_gives_way_to_newer_work_at_once() {
    // An update that began after the request (another request's) heads
    // elsewhere: the request is superseded, not deployed over it.
    let fake = FakePersonalize::describing(vec![Ok(Some(busy_since(30)))]);
    let r = poll_at(&fake, &waiting_input(), waited(60)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Superseded);
    let detail = &r.notification.unwrap().detail;
    assert_eq!(
        detail.superseded_by.as_deref(),
        Some("arn:aws:personalize:us-east-1:111122223333:solution/movies/99999999")
    );
    assert!(
        detail
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("began after this request; nothing was written"),
        "{detail:?}"
    );
}

#[tokio::test]
async fn a_waiting_request_waits_for_a_rollback_of_an_older_deployment() {
    // The update that began after the request is the rollback of a
    // deployment requested before it (the campaign's record says so): older
    // work, waited for; the request deploys once it has ended.
    let rollback = busy_since(30);
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let record = [
        (
            LAST_WRITE_VERSION_TAG,
            "arn:aws:personalize:us-east-1:111122223333:solution/movies/99999999".to_string(),
        ),
        (
            LAST_WRITE_REQUESTED_AT_TAG,
            "2026-11-22T09:00:00Z".to_string(),
        ),
        (LAST_WRITE_AT_TAG, time(waited(31))),
    ];
    let fake = FakePersonalize::describing(vec![Ok(Some(rollback.clone()))]);
    fake.tags.lock().unwrap().insert(
        CAMPAIGN_ARN.into(),
        record
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    );
    let r = poll_at(&fake, &waiting_input(), waited(60)).await.unwrap();
    assert_eq!((r.outcome, r.next), (Outcome::InProgress, Then::Poll));
    let mut ended = rollback;
    ended.latest_update.as_mut().unwrap().status = Status::Active;
    *fake.describes.lock().unwrap() = vec![Ok(Some(ended))];
    let r = poll_at(&fake, &waiting_input(), waited(300)).await.unwrap();
    assert_eq!((r.outcome, r.next), (Outcome::InProgress, Then::Deploy));
}

#[tokio::test]
async fn a_wait_past_the_deployment_deadline_times_out_naming_what_it_waited_for() {
    let fake = FakePersonalize::describing(vec![Ok(Some(busy_since(-60)))]);
    // The deadline (3600 s here) counts from when it first found it busy.
    let r = poll_at(&fake, &waiting_input(), waited(3600))
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::TimedOut);
    let reason = r.failure_reason.unwrap();
    assert!(
        reason.contains("after it first found the campaign busy")
            && reason.contains("the campaign is still busy: an update is in progress"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_campaign_deleted_while_a_request_waits_for_it_is_deleted() {
    let mut deleting = busy_since(-60);
    deleting.status = Status::DeletePending;
    let fake = FakePersonalize::describing(vec![Ok(Some(deleting))]);
    let r = poll_at(&fake, &waiting_input(), waited(60)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Deleted);
}

#[tokio::test]
async fn a_throttled_look_at_a_busy_campaign_waits_and_looks_again() {
    let fake = FakePersonalize::describing(vec![Err(api_error(
        ApiErrorKind::Throttled,
        "ThrottlingException",
    ))]);
    let r = poll_at(&fake, &waiting_input(), waited(60)).await.unwrap();
    assert_eq!((r.outcome, r.next), (Outcome::InProgress, Then::Poll));
    assert!(r.wait_seconds > 0);
}
