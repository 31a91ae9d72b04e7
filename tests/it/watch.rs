//! The watch after a deployment and the rollback: what WatchAlarms decides
//! from the alarms and the campaign, how PollCampaign hands over to it and
//! follows a rollback, and what RollBack writes.

use chrono::{DateTime, Duration, Utc};
use personalize_deployer::domain::alarm::{AlarmValue, Verdict, WatchReport};
use personalize_deployer::domain::campaign::{Campaign, Status};
use personalize_deployer::domain::deploy::roll_back;
use personalize_deployer::domain::ending::measure;
use personalize_deployer::domain::execution::{
    Deployment, Execution, StatusReport, TaskInput, Then,
};
use personalize_deployer::domain::notification::DeploymentStatus;
use personalize_deployer::domain::outcome::{Operation, Outcome};
use personalize_deployer::domain::request::{CampaignConfig, Served};
use personalize_deployer::domain::schedule::PollPolicy;
use personalize_deployer::domain::status::poll;
use personalize_deployer::domain::watching::{WATCH_LOOK_SECONDS, watch};
use personalize_deployer::ports::ApiErrorKind;
use serde_json::{Value, json};

use crate::support::*;

pub(crate) const CTR: &str = "recs-movie-recs-ctr-drop";
const ERRORS: &str = "recs-movie-recs-5xx";

/// When the sample update (SV1 → SV2) became ACTIVE: the new version serves
/// from here.
fn served_at() -> DateTime<Utc> {
    "2026-11-22T10:42:00Z".parse().unwrap()
}

pub(crate) fn at(seconds: i64) -> DateTime<Utc> {
    served_at() + Duration::seconds(seconds)
}

/// What the campaign served before the sample update: SV1, TPS 1, its own
/// configuration (another exploration weight, and syncing off).
pub(crate) fn before() -> Served {
    Served {
        solution_version_arn: SV1.into(),
        min_provisioned_tps: 1,
        campaign_config: Some(CampaignConfig {
            item_exploration_config: Some(
                [("explorationWeight".to_string(), "0.1".to_string())].into(),
            ),
            ..CampaignConfig::default()
        }),
    }
}

/// The sample update's state, watched with the two alarms for `minutes`,
/// what it served before recorded, and `extra` members of the state.
pub(crate) fn watched_input(minutes: u64, extra: Value) -> TaskInput {
    let mut event = event("campaign-status-input.json");
    event["state"]["request"]["watch"] = json!({"alarms": [CTR, ERRORS], "minutes": minutes});
    event["state"]["deployment"]["servedBefore"] = serde_json::to_value(before()).unwrap();
    event["check"] = json!("watch");
    for (key, value) in extra.as_object().unwrap() {
        event["state"][key] = value.clone();
    }
    TaskInput::from_event(event).unwrap()
}

/// The campaign once the sample update is ACTIVE (at `served_at`).
fn serving_sv2() -> Campaign {
    let TaskInput {
        state: Execution::Accepted(accepted),
        ..
    } = watched_input(60, json!({}))
    else {
        unreachable!()
    };
    let mut c = active_campaign(&accepted.request);
    let mut update = update_record(SV2, 2, Status::Active);
    update.config = accepted.request.campaign_config().cloned();
    update.created_at = Some(at(-600));
    update.updated_at = Some(served_at());
    c.latest_update = Some(update);
    c
}

/// The campaign serving SV2, its latest update toward `version` (another
/// deployment's) in `status`, begun at `created` seconds.
fn updating_to(version: &str, tps: i32, status: Status, created: i64) -> Campaign {
    let mut c = serving_sv2();
    let mut update = update_record(version, tps, status);
    update.created_at = Some(at(created));
    c.latest_update = Some(update);
    c
}

/// The campaign serving SV2, a rollback's update toward what it served
/// before (SV1, TPS 1, its configuration) in `status`, begun at 16 s.
fn returning(status: Status) -> Campaign {
    let mut c = updating_to(SV1, 1, status, 16);
    c.latest_update.as_mut().unwrap().config = before().campaign_config;
    c
}

async fn watch_at(
    campaign: Vec<Campaign>,
    alarms: &FakeAlarms,
    input: &TaskInput,
    now: DateTime<Utc>,
    limit: DateTime<Utc>,
) -> (WatchReport, FakeClock) {
    let fake = FakePersonalize::describing(campaign.into_iter().map(|c| Ok(Some(c))).collect());
    let clock = FakeClock::at(now);
    let look_every = Duration::seconds(WATCH_LOOK_SECONDS);
    let report = watch(&fake, alarms, input, look_every, &clock, limit)
        .await
        .unwrap();
    (report, clock)
}

#[tokio::test]
async fn an_alarm_entering_alarm_after_the_version_serves_rolls_back_at_the_next_look() {
    let alarms = FakeAlarms::answering(vec![
        Ok(vec![
            alarm(CTR, AlarmValue::Ok, at(-3600)),
            alarm(ERRORS, AlarmValue::Ok, at(-3600)),
        ]),
        Ok(vec![
            alarm(CTR, AlarmValue::Alarm, at(12)),
            alarm(ERRORS, AlarmValue::Ok, at(-3600)),
        ]),
    ]);
    let input = watched_input(60, json!({}));
    let (report, clock) = watch_at(vec![serving_sv2()], &alarms, &input, at(5), at(245)).await;
    let Verdict::Alarm { alarm } = &report.verdict else {
        panic!("expected a rollback: {report:?}")
    };
    assert_eq!(alarm.name, CTR);
    assert_eq!(alarm.fired_at, Some(at(12)));
    assert_eq!(
        alarm.reason.as_deref(),
        Some("Threshold Crossed: recs-movie-recs-ctr-drop")
    );
    // Seen at the look after the change: 3 s after it (looks every 10 s).
    assert_eq!(report.ended_at, Some(at(15)));
    assert_eq!(clock.now(), at(15));
    assert_eq!((report.began_at, report.ends_at), (served_at(), at(3600)));
    assert_eq!(
        (report.reads, report.attempt, report.wait_seconds),
        (2, 1, 0)
    );
    let out = serde_json::to_value(&report).unwrap();
    assert_eq!(out["verdict"], "ALARM");
    assert_eq!(out["alarm"]["name"], CTR);
}

#[tokio::test]
async fn an_alarm_already_in_alarm_before_the_version_served_does_not_roll_back() {
    let alarms = FakeAlarms::with(vec![
        alarm(CTR, AlarmValue::Alarm, at(-60)),
        alarm(ERRORS, AlarmValue::Ok, at(-3600)),
    ]);
    let input = watched_input(60, json!({}));
    let (report, _) = watch_at(vec![serving_sv2()], &alarms, &input, at(5), at(245)).await;
    assert_eq!(report.verdict, Verdict::Watching);
    assert_eq!(report.already_in_alarm, vec![CTR.to_string()]);
    // The invocation's time was up: back at once, the watch's share of the
    // history allowing (⌈3600 / 198⌉ = 19 s, less the 240 s held).
    assert_eq!(report.wait_seconds, 1);
    // It leaves ALARM and enters it again, after the version served: that
    // transition rolls back, at the next invocation.
    let again = FakeAlarms::with(vec![alarm(CTR, AlarmValue::Alarm, at(400))]);
    let next = watched_input(60, json!({"watch": report}));
    let (report, _) = watch_at(vec![serving_sv2()], &again, &next, at(405), at(645)).await;
    assert!(
        matches!(report.verdict, Verdict::Alarm { .. }),
        "{report:?}"
    );
    assert_eq!(report.attempt, 2);
}

#[tokio::test]
async fn a_watch_that_passes_reports_its_alarms_without_data() {
    let alarms = FakeAlarms::with(vec![
        alarm(CTR, AlarmValue::InsufficientData, at(-60)),
        alarm(ERRORS, AlarmValue::Ok, at(-3600)),
    ]);
    let input = watched_input(1, json!({}));
    let (report, clock) = watch_at(vec![serving_sv2()], &alarms, &input, at(5), at(245)).await;
    assert_eq!(report.verdict, Verdict::Passed);
    assert_eq!(report.insufficient_data, vec![CTR.to_string()]);
    // Ends at the period's end, not later.
    assert_eq!(report.ended_at, Some(at(60)));
    assert_eq!(clock.now(), at(60));
}

#[tokio::test]
async fn alarms_that_cannot_be_read_never_roll_back_and_never_pass_as_verified() {
    let throttled = || Err(api_error(ApiErrorKind::Throttled, "ThrottlingException"));
    let alarms = FakeAlarms::answering(vec![throttled()]);
    let input = watched_input(1, json!({}));
    let (report, _) = watch_at(vec![serving_sv2()], &alarms, &input, at(5), at(245)).await;
    assert_eq!(report.verdict, Verdict::Unverified);
    assert_eq!(report.reads, 0);
    assert!(
        report
            .unread
            .as_deref()
            .unwrap()
            .contains("ThrottlingException")
    );
    // Read once among failures: passed (the read saw no alarm).
    let alarms = FakeAlarms::answering(vec![
        throttled(),
        Ok(vec![alarm(CTR, AlarmValue::Ok, at(-60))]),
        throttled(),
    ]);
    let (report, _) = watch_at(vec![serving_sv2()], &alarms, &input, at(5), at(245)).await;
    assert_eq!((report.verdict.clone(), report.reads), (Verdict::Passed, 1));
    assert!(report.unread.is_some(), "the last read failed: {report:?}");
}

#[tokio::test]
async fn a_newer_deployment_during_the_watch_ends_it_without_a_rollback() {
    let input = watched_input(60, json!({}));
    // Begun after the deployment, heading elsewhere: the campaign's next
    // look (every 60 s) ends the watch, even with an alarm about to fire.
    let newer = updating_to(SV3, 2, Status::CreateInProgress, 30);
    let quiet = FakeAlarms::with(vec![alarm(CTR, AlarmValue::Ok, at(-60))]);
    // One look at the campaign as the watch begins, the next a minute on.
    let (report, _) = watch_at(vec![serving_sv2(), newer], &quiet, &input, at(25), at(265)).await;
    let Verdict::Superseded { superseded_by } = &report.verdict else {
        panic!("expected superseded: {report:?}")
    };
    assert_eq!(superseded_by.solution_version_arn, SV3);
    assert_eq!(report.ended_at, Some(at(85)));
}

#[tokio::test]
async fn a_watch_begins_when_the_update_became_active_as_personalize_recorded_it() {
    let quiet = FakeAlarms::with(vec![alarm(CTR, AlarmValue::Ok, at(-60))]);
    let input = watched_input(60, json!({}));
    let (report, _) = watch_at(vec![serving_sv2()], &quiet, &input, at(40), at(280)).await;
    assert_eq!(report.began_at, served_at());
    // A record that cannot be read: from the first look.
    let (report, _) = watch_at(Vec::new(), &quiet, &input, at(40), at(280)).await;
    assert_eq!(report.began_at, at(40));
}

/// The sample update's poll, watched (or not), the campaign ACTIVE on it.
#[tokio::test]
async fn an_update_with_a_watch_is_watched_once_active_not_reported() {
    let mut input = watched_input(60, json!({}));
    input.check = Default::default();
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2()))]);
    let clock = FakeClock::at(at(1));
    let r = poll(&fake, &input, &PollPolicy::default(), &clock, at(1))
        .await
        .unwrap();
    assert_eq!(
        (r.outcome, r.is_final, r.next),
        (Outcome::InProgress, false, Then::Watch)
    );
    assert!(r.notification.is_none());
    // Adopted work (a retried DeployCampaign) reports no changes: watched
    // all the same, by what the campaign served before.
    let mut adopted = input.clone();
    if let Execution::Accepted(a) = &mut adopted.state
        && let Some(Deployment::Started(d)) = a.deployment.as_mut()
    {
        d.changes = Vec::new();
    }
    let r = poll(&fake, &adopted, &PollPolicy::default(), &clock, at(1))
        .await
        .unwrap();
    assert_eq!(r.next, Then::Watch);
    // A change of TPS alone is not watched: reported at once.
    let mut tps_only = input.clone();
    if let Execution::Accepted(a) = &mut tps_only.state
        && let Some(Deployment::Started(d)) = a.deployment.as_mut()
    {
        let request = &a.request;
        d.served_before = Some(Served {
            solution_version_arn: SV2.into(),
            min_provisioned_tps: 1,
            campaign_config: request.campaign_config().cloned(),
        });
        d.changes = vec!["minProvisionedTPS 1 -> 2".into()];
    }
    let r = poll(&fake, &tps_only, &PollPolicy::default(), &clock, at(1))
        .await
        .unwrap();
    assert_eq!((r.outcome, r.next), (Outcome::Active, Then::Notify));
}

pub(crate) fn ended(verdict: Value) -> Value {
    let mut watch = json!({
        "alarms": [CTR, ERRORS], "minutes": 60,
        "beganAt": served_at(), "endsAt": at(3600), "endedAt": at(3600),
        "attempt": 16, "reads": 359, "waitSeconds": 0,
    });
    for (k, v) in verdict.as_object().unwrap() {
        watch[k] = v.clone();
    }
    watch
}

#[tokio::test]
async fn a_watch_that_passed_is_notified_as_a_success_with_its_facts() {
    let mut input = watched_input(60, json!({"watch": ended(json!({"verdict": "PASSED"}))}));
    input.check = Default::default();
    let fake = FakePersonalize::default();
    let r = poll(
        &fake,
        &input,
        &PollPolicy::default(),
        &FakeClock::at(at(3600)),
        at(3600),
    )
    .await
    .unwrap();
    assert_eq!((r.outcome, r.succeeded), (Outcome::Active, true));
    assert!(fake.calls().is_empty(), "decided from the state");
    let n = r.notification.unwrap();
    assert_eq!(
        n.subject,
        "Personalize campaign movie-recs: deployment succeeded (UPDATE), watch passed"
    );
    let detail = serde_json::to_value(&n.detail).unwrap();
    assert_eq!(detail["watch"]["verdict"], "PASSED");
    assert_eq!(detail["watch"]["alarms"], json!([CTR, ERRORS]));
    assert_eq!(detail["rollback"], Value::Null);
    assert!(
        n.message
            .contains("Watch:            PASSED after 1h 0m 0s of 60 min, 2 alarm(s)"),
        "{}",
        n.message
    );
    // Never read: a success, not a verified one.
    let mut input = watched_input(
        60,
        json!({"watch": ended(json!({"verdict": "UNVERIFIED", "reads": 0, "unread": "ThrottlingException: Rate exceeded"}))}),
    );
    input.check = Default::default();
    let r = poll(
        &fake,
        &input,
        &PollPolicy::default(),
        &FakeClock::at(at(3600)),
        at(3600),
    )
    .await
    .unwrap();
    let n = r.notification.unwrap();
    assert!(n.subject.ends_with("watch UNVERIFIED"), "{}", n.subject);
    assert!(
        n.message
            .contains("the alarms could never be read (ThrottlingException")
    );
}

#[tokio::test]
async fn a_watch_superseded_by_a_newer_deployment_ends_superseded_without_rollback() {
    let verdict = json!({"verdict": "SUPERSEDED",
        "supersededBy": {"solutionVersionArn": SV3, "differences": ["solutionVersionArn"]}});
    let mut input = watched_input(60, json!({"watch": ended(verdict)}));
    input.check = Default::default();
    let r = decided(&input, 90).await;
    assert_eq!(r.outcome, Outcome::Superseded);
    let n = r.notification.unwrap();
    assert_eq!(n.detail.superseded_by.as_deref(), Some(SV3));
    assert!(n.detail.rollback.is_none());
}

/// PollCampaign (or DescribeOutcome) at `seconds`, deciding from the state
/// alone: it has nothing to describe.
async fn decided(input: &TaskInput, seconds: i64) -> StatusReport {
    let fake = FakePersonalize::default();
    let report = poll(
        &fake,
        input,
        &PollPolicy::default(),
        &FakeClock::at(at(seconds)),
        at(seconds),
    )
    .await
    .unwrap();
    assert!(fake.calls().is_empty(), "decided from the state");
    report
}

pub(crate) fn alarmed() -> Value {
    ended(
        json!({"verdict": "ALARM", "endedAt": at(15), "attempt": 1, "reads": 2,
        "alarm": {"name": CTR, "reason": "Threshold Crossed: 1 datapoint [0.8] < 0.9", "firedAt": at(12)}}),
    )
}

#[tokio::test]
async fn a_rollback_is_not_held_again_to_a_cap_or_scope_changed_since() {
    // The stack was updated during the watch: a cap below the new version's
    // TPS (2), a prefix movie-recs no longer has. The alarmed version must
    // not keep serving for it: the rollback returns to what served before.
    let mut event = event("campaign-status-input.json");
    event["state"]["request"]["watch"] = json!({"alarms": [CTR, ERRORS], "minutes": 60});
    event["state"]["deployment"]["servedBefore"] = serde_json::to_value(before()).unwrap();
    event["state"]["watch"] = alarmed();
    event["act"] = json!("rollback");
    let config = personalize_deployer::config::DeployConfig {
        default_min_provisioned_tps: 1,
        scope: personalize_deployer::domain::request::Scope {
            campaign_name_prefix: "news-".into(),
            max_provisioned_tps: Some(1),
            ..Default::default()
        },
    };
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2()))]);
    personalize_deployer::handlers::deploy::handle(&fake, &FakeClock::at(at(16)), &config, event)
        .await
        .unwrap();
    let [change] = &fake.updated.lock().unwrap()[..] else {
        panic!("one update")
    };
    assert_eq!(change.solution_version_arn, SV1);
}

#[tokio::test]
async fn the_rollback_returns_version_tps_and_configuration_exactly() {
    let input = watched_input(60, json!({"watch": alarmed()}));
    let Execution::Accepted(accepted) = &input.state else {
        unreachable!()
    };
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2()))]);
    let d = roll_back(&fake, accepted, &FakeClock::at(at(16)))
        .await
        .unwrap();
    let Deployment::Started(report) = d else {
        panic!("expected the rollback's update: {d:?}")
    };
    assert_eq!(report.operation, Operation::Update);
    assert_eq!(report.previous_solution_version_arn.as_deref(), Some(SV2));
    assert_eq!(report.started_at, at(16));
    let [change] = &fake.updated.lock().unwrap()[..] else {
        panic!("one update")
    };
    assert_eq!(change.solution_version_arn, SV1);
    assert_eq!(change.min_provisioned_tps, Some(1));
    // The whole configuration as it was, not merged with the request's.
    assert_eq!(change.config, before().campaign_config);
}

#[tokio::test]
async fn a_rollback_turns_off_a_sync_that_would_redeploy_the_version_rolled_back_from() {
    let mut input = watched_input(60, json!({"watch": alarmed()}));
    let mut synced = before();
    synced
        .campaign_config
        .as_mut()
        .unwrap()
        .sync_with_latest_solution_version = Some(true);
    if let Execution::Accepted(a) = &mut input.state
        && let Some(Deployment::Started(d)) = a.deployment.as_mut()
    {
        d.served_before = Some(synced);
    }
    let Execution::Accepted(accepted) = &input.state else {
        unreachable!()
    };
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2()))]);
    roll_back(&fake, accepted, &FakeClock::at(at(16)))
        .await
        .unwrap();
    let change = fake.updated.lock().unwrap()[0].clone();
    assert_eq!(
        change.config.unwrap().sync_with_latest_solution_version,
        Some(false)
    );
}

#[tokio::test]
async fn a_rollback_gives_way_to_a_newer_deployment() {
    let input = watched_input(60, json!({"watch": alarmed()}));
    let Execution::Accepted(accepted) = &input.state else {
        unreachable!()
    };
    let newer = updating_to(SV3, 2, Status::CreatePending, 14);
    let fake = FakePersonalize::describing(vec![Ok(Some(newer))]);
    let d = roll_back(&fake, accepted, &FakeClock::at(at(16)))
        .await
        .unwrap();
    assert!(matches!(d, Deployment::Overtaken(_)), "{d:?}");
    assert!(fake.updated.lock().unwrap().is_empty());
}

/// The state after RollBack started its update at 16 s.
pub(crate) fn rolling_back() -> TaskInput {
    let started = json!({"operation": "UPDATE", "previousSolutionVersionArn": SV2,
        "startedAt": at(16), "changes": [format!("solutionVersionArn {SV2} -> {SV1}")],
        "servedBefore": {"solutionVersionArn": SV2, "minProvisionedTPS": 2}});
    let mut input = watched_input(60, json!({"watch": alarmed(), "rollback": started}));
    input.check = Default::default();
    input
}

/// PollCampaign following the rollback of `rolling_back`, at 310 s.
async fn poll_rollback(fake: &FakePersonalize) -> StatusReport {
    poll(
        fake,
        &rolling_back(),
        &PollPolicy::default(),
        &FakeClock::at(at(310)),
        at(310),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_rollback_followed_to_its_end_is_rolled_back_naming_the_alarm() {
    let mut back = returning(Status::Active);
    back.solution_version_arn = Some(SV1.into());
    back.min_provisioned_tps = Some(1);
    back.config = before().campaign_config;
    back.latest_update.as_mut().unwrap().updated_at = Some(at(300));
    let fake = FakePersonalize::describing(vec![Ok(Some(back))]);
    let r = poll_rollback(&fake).await;
    assert_eq!((r.outcome, r.succeeded), (Outcome::RolledBack, false));
    let n = r.notification.clone().unwrap();
    assert_eq!(n.detail.status, DeploymentStatus::RolledBack);
    assert_eq!(n.detail_type, "Campaign Deployment Rolled Back");
    assert_eq!(
        n.subject,
        "Personalize campaign movie-recs: new version ROLLED BACK, alarm recs-movie-recs-ctr-drop"
    );
    let detail = serde_json::to_value(&n.detail).unwrap();
    assert_eq!(
        detail["rollback"]["to"],
        serde_json::to_value(before()).unwrap()
    );
    assert_eq!(detail["rollback"]["from"]["solutionVersionArn"], SV2);
    assert_eq!(detail["rollback"]["outcome"], "ROLLED_BACK");
    assert_eq!(detail["watch"]["alarm"]["firedAt"], json!(at(12)));
    // The history line: what was deployed, what the watch made of it, where
    // it went back to.
    let measured = measure(&rolling_back(), &r).unwrap();
    assert_eq!(
        (
            measured.history.watch_verdict,
            measured.history.rolled_back_to.as_deref()
        ),
        (Some("ALARM"), Some(SV1))
    );
    assert!(measured.watch_seconds.unwrap() > 0.0);
    assert!(
        n.message.contains(&format!(
            "Rolled back to:   {SV1} (minProvisionedTPS 1, with its configuration)"
        )),
        "{}",
        n.message
    );
}

#[tokio::test]
async fn a_failed_rollback_is_rollback_failed_saying_what_the_campaign_serves() {
    let mut failed = returning(Status::CreateFailed);
    failed.latest_update.as_mut().unwrap().failure_reason = Some("internal error".into());
    let fake = FakePersonalize::describing(vec![Ok(Some(failed))]);
    let r = poll_rollback(&fake).await;
    assert_eq!(r.outcome, Outcome::RollbackFailed);
    let reason = r.failure_reason.unwrap();
    assert!(
        reason.contains("the rollback's update failed: internal error")
            && reason.contains(&format!("still ACTIVE on {SV2}")),
        "{reason}"
    );
    assert_eq!(
        r.notification.unwrap().detail_type,
        "Campaign Deployment Rollback Failed"
    );
}

#[tokio::test]
async fn a_rollback_task_that_failed_is_rollback_failed() {
    let mut input = watched_input(
        60,
        json!({"watch": alarmed(),
        "error": {"Error": "ResourceInUse", "Cause": "{\"errorMessage\": \"in use\"}"}}),
    );
    input.check = Default::default();
    let r = decided(&input, 20).await;
    assert_eq!(r.outcome, Outcome::RollbackFailed);
    let detail = serde_json::to_value(r.notification.unwrap().detail).unwrap();
    assert_eq!(detail["rollback"]["from"], Value::Null);
    assert_eq!(detail["rollback"]["to"]["solutionVersionArn"], SV1);
}

#[tokio::test]
async fn a_retried_rollback_adopts_its_own_update_and_writes_nothing_more() {
    let input = watched_input(60, json!({"watch": alarmed()}));
    let Execution::Accepted(accepted) = &input.state else {
        unreachable!()
    };
    // The first attempt's update, begun after the version served, heads
    // where the rollback goes.
    let rolling = returning(Status::CreateInProgress);
    let fake = FakePersonalize::describing(vec![Ok(Some(rolling))]);
    let d = roll_back(&fake, accepted, &FakeClock::at(at(50)))
        .await
        .unwrap();
    let Deployment::Started(report) = d else {
        panic!("expected the adopted update: {d:?}")
    };
    assert_eq!(
        (report.operation, report.started_at),
        (Operation::Update, at(16))
    );
    assert!(fake.updated.lock().unwrap().is_empty(), "no second update");
}

#[tokio::test]
async fn a_rollback_whose_update_was_accepted_but_answered_in_use_adopts_it() {
    // The SDK retried UpdateCampaign after a lost answer: the service had
    // taken the first, and answers the retry ResourceInUse.
    let input = watched_input(60, json!({"watch": alarmed()}));
    let Execution::Accepted(accepted) = &input.state else {
        unreachable!()
    };
    let rolling = returning(Status::CreatePending);
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2())), Ok(Some(rolling))])
        .failing_update(api_error(ApiErrorKind::InUse, "ResourceInUseException"));
    let d = roll_back(&fake, accepted, &FakeClock::at(at(16)))
        .await
        .unwrap();
    let Deployment::Started(report) = d else {
        panic!("expected the adopted update: {d:?}")
    };
    assert_eq!(
        (report.operation, report.started_at),
        (Operation::Update, at(16))
    );
    // In use for another reason (another update, heading elsewhere): the
    // task's error, which the definition catches (ROLLBACK_FAILED).
    let other = updating_to(SV3, 2, Status::CreatePending, -700);
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2())), Ok(Some(other))])
        .failing_update(api_error(ApiErrorKind::InUse, "ResourceInUseException"));
    let err = roll_back(&fake, accepted, &FakeClock::at(at(16)))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ResourceInUse");
}

#[tokio::test]
async fn a_watch_its_task_could_not_go_on_with_keeps_the_version_unverified() {
    // WatchAlarms failed (its retries spent, or access denied), its error
    // caught: the new version serves, so the execution says so, unverified.
    let watching = ended(json!({"verdict": "WATCHING", "endedAt": null, "reads": 30}));
    let mut input = watched_input(
        60,
        json!({"watch": watching,
        "error": {"Error": "AwsError", "Cause": "{\"errorMessage\": \"access denied\"}"}}),
    );
    input.check = Default::default();
    let r = decided(&input, 900).await;
    assert_eq!((r.outcome, r.succeeded), (Outcome::Active, true));
    let n = r.notification.unwrap();
    assert!(n.subject.ends_with("watch UNVERIFIED"), "{}", n.subject);
    let detail = serde_json::to_value(&n.detail).unwrap();
    assert_eq!(detail["watch"]["verdict"], "UNVERIFIED");
    assert!(
        detail["watch"]["unread"]
            .as_str()
            .unwrap()
            .contains("the watch could not go on (AwsError: access denied)"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_watch_whose_alarms_no_longer_exist_is_unverified() {
    let none = FakeAlarms::default();
    let input = watched_input(1, json!({}));
    let (report, _) = watch_at(vec![serving_sv2()], &none, &input, at(5), at(245)).await;
    assert_eq!(
        (report.verdict.clone(), report.reads),
        (Verdict::Unverified, 0)
    );
    assert_eq!(report.missing, vec![CTR.to_string(), ERRORS.to_string()]);
}
