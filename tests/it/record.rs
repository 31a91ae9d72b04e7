//! A campaign's record (its last known good, the version last rolled back
//! from) as the tasks write it, and the revert on request that reads it.

use chrono::{DateTime, Utc};
use personalize_deployer::config::DeployConfig;
use personalize_deployer::domain::alarm::AlarmValue;
use personalize_deployer::domain::execution::{Execution, StatusReport, TaskInput, Then};
use personalize_deployer::domain::intake::Services;
use personalize_deployer::domain::outcome::Outcome;
use personalize_deployer::domain::record::{
    self, GOOD_CONFIG_TAG, GOOD_SINCE_TAG, GOOD_TPS_TAG, GOOD_VERSION_TAG,
    LAST_WRITE_REQUESTED_AT_TAG, LAST_WRITE_VERSION_TAG, Noted, ROLLED_BACK_AT_TAG,
    ROLLED_BACK_VERSION_TAG, ROLLED_BACK_WHY_TAG, Record,
};
use personalize_deployer::domain::request::{Scope, Served, Tag};
use personalize_deployer::handlers::{deploy, trigger};
use personalize_deployer::ports::ApiErrorKind;
use serde_json::{Value, json};

use crate::support::*;
use crate::watch::{CTR, at, before, ended, rolling_back, watched_input};

/// campaign-status's final report of `input`, ending as `outcome`, with
/// what it wrote to the campaign's record.
async fn end(
    fake: &FakePersonalize,
    input: &TaskInput,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Noted {
    end_within(fake, input, outcome, now, &Scope::default()).await
}

/// [`end`], in a stack of this scope.
async fn end_within(
    fake: &FakePersonalize,
    input: &TaskInput,
    outcome: Outcome,
    now: DateTime<Utc>,
    scope: &Scope,
) -> Noted {
    let report = StatusReport {
        outcome,
        is_final: true,
        succeeded: outcome == Outcome::Active,
        wait_seconds: 0,
        attempt: 2,
        next: Then::Notify,
        campaign_status: None,
        update_status: None,
        failure_reason: None,
        notification: None,
    };
    record::at_end(fake, input, &report, scope, now).await
}

fn tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
    pairs
        .iter()
        .map(|(k, v)| Tag {
            tag_key: k.to_string(),
            tag_value: v.to_string(),
        })
        .collect()
}

fn tagged(fake: FakePersonalize, pairs: &[(&str, &str)]) -> FakePersonalize {
    fake.tags.lock().unwrap().insert(
        CAMPAIGN_ARN.to_string(),
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    fake
}

/// SV1 at TPS 3 with an exploration weight, known good since 09:00.
const GOOD_SV1: &[(&str, &str)] = &[
    (GOOD_VERSION_TAG, SV1),
    (GOOD_TPS_TAG, "3"),
    (
        GOOD_CONFIG_TAG,
        "exploration.explorationWeight=0.1 metadata=false",
    ),
    (GOOD_SINCE_TAG, "2026-11-20T09:00:00Z"),
];

#[tokio::test]
async fn no_record_is_written_for_a_campaign_outside_the_stacks_scope() {
    // An execution for movie-recs, in a stack of the news-* campaigns.
    let scope = Scope {
        campaign_name_prefix: "news-".into(),
        ..Scope::default()
    };
    let fake = FakePersonalize::default();
    let noted = end_within(&fake, &rolling_back(), Outcome::RolledBack, at(310), &scope).await;
    assert_eq!(
        noted,
        Noted::Nothing("the campaign is outside this stack's scope")
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn a_rollback_records_what_it_returned_to_and_the_version_it_left() {
    let input = rolling_back();
    let fake = FakePersonalize::default();
    let noted = end(&fake, &input, Outcome::RolledBack, at(310)).await;
    assert_eq!(
        noted,
        Noted::Written {
            good: Some(SV1.into()),
            rolled_back: Some(SV2.into())
        }
    );
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(held[GOOD_VERSION_TAG], SV1);
    assert_eq!(held[GOOD_TPS_TAG], "1");
    assert_eq!(held[GOOD_CONFIG_TAG], "exploration.explorationWeight=0.1");
    assert_eq!(held[ROLLED_BACK_VERSION_TAG], SV2);
    assert_eq!(held[ROLLED_BACK_AT_TAG], "2026-11-22T10:47:10Z");
    assert_eq!(
        held[ROLLED_BACK_WHY_TAG],
        format!("alarm {CTR}: Threshold Crossed: 1 datapoint 0.8 below 0.9")
    );
    // It reads back as written: what a revert and following will see.
    let listed: Vec<Tag> = held
        .iter()
        .map(|(k, v)| Tag {
            tag_key: k.clone(),
            tag_value: v.clone(),
        })
        .collect();
    let record = Record::from_tags(&listed);
    let good = record.good.clone().unwrap().unwrap();
    assert_eq!(good.served, before());
    assert_eq!(good.since, at(310));
    assert!(record.rolled_back_from(SV2).is_some());
    assert!(record.rolled_back_from(SV1).is_none());
}

#[tokio::test]
async fn a_failed_rollback_marks_the_version_it_could_not_leave() {
    let input = rolling_back();
    let fake = FakePersonalize::default();
    let noted = end(&fake, &input, Outcome::RollbackFailed, at(310)).await;
    assert_eq!(
        noted,
        Noted::Written {
            good: None,
            rolled_back: Some(SV2.into())
        }
    );
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert!(!held.contains_key(GOOD_VERSION_TAG));
    assert!(
        held[ROLLED_BACK_WHY_TAG].ends_with("0.8 below 0.9 - the rollback failed"),
        "{held:?}"
    );
}

#[tokio::test]
async fn a_kept_or_unverified_deployment_leaves_the_record_as_it_is() {
    let passed = watched_input(
        60,
        json!({"watch": ended(json!({"verdict": "PASSED", "endedAt": at(3600), "attempt": 15, "reads": 360}))}),
    );
    let unverified = watched_input(
        60,
        json!({"watch": ended(json!({"verdict": "UNVERIFIED", "endedAt": at(3600), "attempt": 15, "reads": 0}))}),
    );
    for input in [passed, unverified] {
        let fake = tagged(FakePersonalize::default(), GOOD_SV1);
        let noted = end(&fake, &input, Outcome::Active, at(3600)).await;
        assert!(matches!(noted, Noted::Nothing(_)), "{noted:?}");
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    }
}

/// The campaign as it serves before the sample update: SV1, TPS 1, the
/// configuration of [`before`].
fn serving_sv1() -> personalize_deployer::domain::campaign::Campaign {
    let request = patched(
        &manifest("movie-recs.json"),
        json!({"solutionVersionArn": SV1, "minProvisionedTPS": 1,
               "campaignConfig": {"itemExplorationConfig": {"explorationWeight": "0.1"}}}),
    );
    active_campaign(&request)
}

async fn deploy_sample(fake: &FakePersonalize, input: Value) {
    let config = DeployConfig {
        default_min_provisioned_tps: 1,
        scope: Default::default(),
    };
    deploy::handle(fake, &FakeClock::at(t(0)), &config, input)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_update_records_what_the_campaign_served_as_its_last_known_good() {
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]);
    deploy_sample(&fake, event("deploy-campaign-input.json")).await;
    assert_eq!(fake.updated.lock().unwrap()[0].solution_version_arn, SV2);
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(held[GOOD_VERSION_TAG], SV1);
    assert_eq!(held[GOOD_TPS_TAG], "1");
    assert_eq!(held[GOOD_CONFIG_TAG], "exploration.explorationWeight=0.1");
    // Since the update started.
    assert_eq!(
        held[GOOD_SINCE_TAG],
        t(0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // And the write: for the request made at the execution's start.
    assert_eq!(held[LAST_WRITE_VERSION_TAG], SV2);
    assert_eq!(
        held[LAST_WRITE_REQUESTED_AT_TAG],
        "2026-11-22T10:30:01.250Z"
    );
    // Recorded once: a retried task, later, leaves the last known good as
    // it was.
    let fake = tagged(
        FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]),
        &held
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    let config = DeployConfig {
        default_min_provisioned_tps: 1,
        scope: Default::default(),
    };
    deploy::handle(
        &fake,
        &FakeClock::at(t(60)),
        &config,
        event("deploy-campaign-input.json"),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.tags_of(CAMPAIGN_ARN)[GOOD_SINCE_TAG],
        held[GOOD_SINCE_TAG]
    );
}

#[tokio::test]
async fn an_update_from_a_rolled_back_version_or_a_revert_keeps_the_last_known_good() {
    // SV1 serves, but it was rolled back from (a rollback that failed).
    let rolled_back = [
        GOOD_SV1,
        &[
            (ROLLED_BACK_VERSION_TAG, SV1),
            (ROLLED_BACK_AT_TAG, "2026-11-21T09:00:00Z"),
            (ROLLED_BACK_WHY_TAG, "alarm x"),
        ],
    ]
    .concat();
    let fake = tagged(
        FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]),
        &rolled_back,
    );
    deploy_sample(&fake, event("deploy-campaign-input.json")).await;
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(
        (
            held[GOOD_VERSION_TAG].as_str(),
            held[GOOD_SINCE_TAG].as_str()
        ),
        (SV1, "2026-11-20T09:00:00Z"),
        "as it was"
    );
    // A revert leaves a version that is not good.
    let mut revert = event("deploy-campaign-input.json");
    revert["state"]["origin"] = json!({"type": "rollback", "eventId": "e-1",
        "source": "personalize-deployer", "reason": "bad CTR"});
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]);
    deploy_sample(&fake, revert).await;
    assert_eq!(fake.updated.lock().unwrap().len(), 1);
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert!(!held.contains_key(GOOD_VERSION_TAG), "{held:?}");
    assert_eq!(held[LAST_WRITE_VERSION_TAG], SV2);
}

#[tokio::test]
async fn a_kept_revert_marks_the_version_it_left_with_the_reason() {
    let mut event = event("campaign-status-input.json");
    event["state"]["origin"] = json!({"type": "rollback", "eventId": "e-1",
        "source": "personalize-deployer", "reason": "CTR fell in review"});
    event["state"]["deployment"]["servedBefore"] = json!({"solutionVersionArn": SV1,
        "minProvisionedTPS": 1});
    let input = TaskInput::from_event(event).unwrap();
    let fake = FakePersonalize::default();
    end(&fake, &input, Outcome::Active, at(60)).await;
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(held[ROLLED_BACK_VERSION_TAG], SV1);
    assert_eq!(
        held[ROLLED_BACK_WHY_TAG],
        "reverted on request e-1: CTR fell in review"
    );
    assert!(!held.contains_key(GOOD_VERSION_TAG));
}

#[tokio::test]
async fn a_configuration_no_tag_can_hold_removes_the_old_record() {
    let mut input = rolling_back();
    let Execution::Accepted(accepted) = &mut input.state else {
        unreachable!()
    };
    let mut deployment = serde_json::to_value(accepted.deployment.as_ref().unwrap()).unwrap();
    deployment["servedBefore"]["campaignConfig"] =
        json!({"itemExplorationConfig": {"explorationWeight": "{0.1}"}});
    accepted.deployment = Some(serde_json::from_value(deployment).unwrap());
    let fake = tagged(FakePersonalize::default(), GOOD_SV1);
    let noted = end(&fake, &input, Outcome::RolledBack, at(310)).await;
    let Noted::Failed(why) = noted else {
        panic!("{noted:?}")
    };
    assert!(why.contains("no last known good recorded"), "{why}");
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert!(!held.contains_key(GOOD_VERSION_TAG), "{held:?}");
    assert_eq!(held[ROLLED_BACK_VERSION_TAG], SV2);
}

// ------------------------------------------------------------- the revert

/// deploy-trigger of the sample stack (account 111122223333, us-east-1,
/// campaigns `movie-*`, a default watch) given `event`, `fake` holding the
/// campaigns' tags.
async fn revert(fake: &FakePersonalize, event: &Value) -> FakeWorkflow {
    revert_seeing(fake, &NO_ALARMS, event).await
}

/// [`revert`], with these alarms in CloudWatch.
async fn revert_seeing(fake: &FakePersonalize, alarms: &FakeAlarms, event: &Value) -> FakeWorkflow {
    revert_capped(fake, alarms, event, None).await
}

/// [`revert_seeing`], in a stack with this TPS cap.
async fn revert_capped(
    fake: &FakePersonalize,
    alarms: &FakeAlarms,
    event: &Value,
    cap: Option<i32>,
) -> FakeWorkflow {
    let scope = Scope {
        max_provisioned_tps: cap,
        account: Some("111122223333".into()),
        region: Some("us-east-1".into()),
        campaign_name_prefix: "movie-".into(),
        watch: personalize_deployer::domain::watch::WatchDefaults {
            alarms: vec!["recs-{campaign}-ctr".into()],
            minutes: 30,
        },
        ..Scope::default()
    };
    let workflow = FakeWorkflow::default();
    let services = Services {
        store: &FakeStore::default(),
        alarms,
        workflow: &workflow,
    };
    trigger::handle(&services, fake, &scope, event)
        .await
        .unwrap();
    workflow
}

fn started(workflow: &FakeWorkflow) -> Execution {
    let [input] = &workflow.inputs()[..] else {
        panic!("one execution: {:?}", workflow.inputs())
    };
    serde_json::from_value(input.clone()).unwrap()
}

fn rejections(execution: &Execution) -> Vec<String> {
    match execution {
        Execution::Rejected(rejected) => rejected.errors.iter().map(|e| e.to_string()).collect(),
        other => panic!("not rejected: {other:?}"),
    }
}

#[tokio::test]
async fn a_revert_returns_to_the_last_known_good_with_its_tps_and_configuration() {
    let fake = tagged(FakePersonalize::default(), GOOD_SV1);
    let execution = started(&revert(&fake, &event("rollback-requested.json")).await);
    let Execution::Accepted(accepted) = &execution else {
        panic!("{execution:?}")
    };
    let request = serde_json::to_value(&accepted.request).unwrap();
    assert_eq!(
        request,
        json!({"campaignName": "movie-recs", "solutionVersionArn": SV1, "minProvisionedTPS": 3,
               "campaignConfig": {"itemExplorationConfig": {"explorationWeight": "0.1"},
                                  "enableMetadataWithRecommendations": false}}),
        "no gate, and no watch (not even the stack's)"
    );
    assert_eq!(
        serde_json::to_value(accepted.origin.as_ref().unwrap()).unwrap(),
        json!({"type": "rollback", "eventId": "0b5c2f8e-3d41-4a57-9e2b-7c1f6d8a9e40",
               "source": "personalize-deployer", "account": "111122223333",
               "region": "us-east-1", "reason": "click-through fell 12% in the weekly review"})
    );
}

#[tokio::test]
async fn a_revert_returns_to_its_recorded_tps_above_the_cap_but_may_not_ask_for_more() {
    // The last known good served at TPS 3; the cap is 2 now.
    let fake = tagged(FakePersonalize::default(), GOOD_SV1);
    let execution = started(
        &revert_capped(
            &fake,
            &NO_ALARMS,
            &event("rollback-requested.json"),
            Some(2),
        )
        .await,
    );
    let Execution::Accepted(accepted) = &execution else {
        panic!("{execution:?}")
    };
    assert_eq!(accepted.request.min_provisioned_tps(), Some(3));
    // A TPS the revert names is asked for: held to the cap.
    let mut e = event("rollback-requested.json");
    e["detail"]["solutionVersionArn"] = json!(SV3);
    e["detail"]["minProvisionedTPS"] = json!(3);
    let errors = rejections(&started(
        &revert_capped(&fake, &NO_ALARMS, &e, Some(2)).await,
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("minProvisionedTPS: is 3, above this stack's cap of 2"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_revert_to_a_named_version_may_ask_for_a_watch() {
    let mut e = event("rollback-requested.json");
    e["detail"]["solutionVersionArn"] = json!(SV3);
    e["detail"]["minProvisionedTPS"] = json!(2);
    e["detail"]["watch"] = json!({"alarms": ["recs-{campaign}-ctr"], "minutes": 10});
    let fake = FakePersonalize::default();
    let alarms = FakeAlarms::with(vec![alarm("recs-movie-recs-ctr", AlarmValue::Ok, t(0))]);
    let execution = started(&revert_seeing(&fake, &alarms, &e).await);
    let Execution::Accepted(accepted) = &execution else {
        panic!("{execution:?}")
    };
    let request = &accepted.request;
    assert_eq!(request.solution_version_arn(), SV3);
    assert_eq!(request.min_provisioned_tps(), Some(2));
    assert!(request.gate().is_none());
    let watch = request.watch().unwrap();
    assert_eq!(
        (watch.alarms.clone(), watch.minutes),
        (vec!["recs-movie-recs-ctr".to_string()], 10)
    );
    // The record was not needed.
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn a_revert_without_a_record_or_with_a_bad_request_is_rejected_and_notified() {
    let fake = FakePersonalize::default();
    let errors = rejections(&started(
        &revert(&fake, &event("rollback-requested.json")).await,
    ));
    assert_eq!(
        errors,
        vec![format!(
            "campaignArn: has no last known good version recorded (no tag {GOOD_VERSION_TAG}): \
             name the version to return to with solutionVersionArn"
        )]
    );

    let mut e = event("rollback-requested.json");
    e["detail"] = json!({"campaignArn": "arn:aws:personalize:us-east-1:111122223333:campaign/news-feed",
        "minProvisionedTPS": 4, "colour": "red"});
    let errors = rejections(&started(&revert(&fake, &e).await));
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with("colour: is not a known field"),
        "{errors:?}"
    );
    assert!(errors[1].starts_with("minProvisionedTPS: is the last known good version's own"));
    assert!(
        errors[2].starts_with("campaignArn: must start with \"movie-\""),
        "{errors:?}"
    );

    let mut e = event("rollback-requested.json");
    e["detail"] = json!({"campaignArn": "movie-recs"});
    let errors = rejections(&started(&revert(&fake, &e).await));
    assert!(
        errors[0].starts_with("campaignArn: must be a campaign ARN"),
        "{errors:?}"
    );

    let mut e = event("rollback-requested.json");
    e["account"] = json!("444455556666");
    e["detail"]["solutionVersionArn"] = json!(SV2.replace("us-east-1", "eu-west-1"));
    let errors = rejections(&started(&revert(&fake, &e).await));
    assert!(
        errors[0].starts_with("(event).account: is 444455556666"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("solutionVersionArn: is in region eu-west-1")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_revert_is_one_execution_however_often_its_event_is_delivered() {
    let fake = tagged(FakePersonalize::default(), GOOD_SV1);
    let first = revert(&fake, &event("rollback-requested.json")).await;
    let second = revert(&fake, &event("rollback-requested.json")).await;
    assert_eq!(first.names(), second.names());
    let mut other = event("rollback-requested.json");
    other["id"] = json!("another-event");
    assert_ne!(revert(&fake, &other).await.names(), first.names());
}

#[test]
fn the_record_reads_only_what_it_wrote() {
    let record = Record::from_tags(&tags(GOOD_SV1));
    let good = record.good.unwrap().unwrap();
    assert_eq!(
        good.served,
        Served {
            solution_version_arn: SV1.into(),
            min_provisioned_tps: 3,
            campaign_config: Some(
                serde_json::from_value(
                    json!({"itemExplorationConfig": {"explorationWeight": "0.1"},
                    "enableMetadataWithRecommendations": false})
                )
                .unwrap()
            ),
        }
    );
    let since: DateTime<Utc> = "2026-11-20T09:00:00Z".parse().unwrap();
    assert_eq!(good.since, since);
    let broken = Record::from_tags(&tags(&[(GOOD_VERSION_TAG, SV1), (GOOD_TPS_TAG, "many")]));
    assert!(broken.good.unwrap().unwrap_err().contains(GOOD_TPS_TAG));
    assert_eq!(Record::from_tags(&[]), Record::default());
}

#[tokio::test]
async fn a_rollback_to_the_version_last_rolled_back_from_does_not_make_it_good() {
    // SV1 was rolled back from before (its rollback failed, say) and served
    // when SV2 was deployed; SV2's alarm returns the campaign to SV1.
    let marked = [
        (GOOD_VERSION_TAG, SV3),
        (GOOD_TPS_TAG, "1"),
        (GOOD_CONFIG_TAG, ""),
        (GOOD_SINCE_TAG, "2026-11-01T09:00:00Z"),
        (ROLLED_BACK_VERSION_TAG, SV1),
        (ROLLED_BACK_AT_TAG, "2026-11-21T09:00:00Z"),
        (ROLLED_BACK_WHY_TAG, "alarm x"),
    ];
    let fake = tagged(FakePersonalize::default(), &marked);
    let noted = end(&fake, &rolling_back(), Outcome::RolledBack, at(310)).await;
    assert_eq!(
        noted,
        Noted::Written {
            good: None,
            rolled_back: Some(SV2.into())
        }
    );
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(held[GOOD_VERSION_TAG], SV3, "the good before both");
    assert_eq!(held[ROLLED_BACK_VERSION_TAG], SV2);
}

#[tokio::test]
async fn a_request_that_deploys_the_version_rolled_back_from_again_clears_its_mark() {
    let marked = [
        (ROLLED_BACK_VERSION_TAG, SV2),
        (ROLLED_BACK_AT_TAG, "2026-11-21T09:00:00Z"),
        (ROLLED_BACK_WHY_TAG, "alarm x"),
    ];
    // A followed campaign's execution does not (following never chooses
    // it; an execution started before the mark may still run).
    let mut followed = event("deploy-campaign-input.json");
    followed["state"]["origin"] = json!({"type": "follow", "campaignArn": CAMPAIGN_ARN,
        "solutionVersionArn": SV2});
    let fake = tagged(
        FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]),
        &marked,
    );
    deploy_sample(&fake, followed).await;
    assert_eq!(fake.tags_of(CAMPAIGN_ARN)[ROLLED_BACK_VERSION_TAG], SV2);
    // An operator's request does: SV2 is chosen again.
    let fake = tagged(
        FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]),
        &marked,
    );
    deploy_sample(&fake, event("deploy-campaign-input.json")).await;
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert!(!held.contains_key(ROLLED_BACK_VERSION_TAG), "{held:?}");
    assert_eq!(held[GOOD_VERSION_TAG], SV1);
}

#[tokio::test]
async fn a_record_a_tag_cannot_hold_or_that_cannot_be_written_never_fails_the_deployment() {
    // A request for the solution's $LATEST: "$" is no tag character, so the
    // write is not recorded; the last known good still is.
    let mut latest = event("deploy-campaign-input.json");
    latest["state"]["request"]["solutionVersionArn"] =
        json!("arn:aws:personalize:us-east-1:111122223333:solution/movies/$LATEST");
    latest["state"]["request"]["campaignConfig"]["syncWithLatestSolutionVersion"] = json!(true);
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]);
    deploy_sample(&fake, latest).await;
    assert_eq!(fake.updated.lock().unwrap().len(), 1);
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(held[GOOD_VERSION_TAG], SV1);
    assert!(!held.contains_key(LAST_WRITE_VERSION_TAG), "{held:?}");
    // TagResource refused (access denied, say): the deployment goes on.
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]);
    *fake.tag_result.lock().unwrap() = Some(api_error(
        personalize_deployer::ports::ApiErrorKind::Other,
        "AccessDeniedException",
    ));
    deploy_sample(&fake, event("deploy-campaign-input.json")).await;
    assert_eq!(fake.updated.lock().unwrap()[0].solution_version_arn, SV2);
    assert!(fake.tags_of(CAMPAIGN_ARN).is_empty());
}

#[tokio::test]
async fn a_revert_whose_record_does_not_read_or_whose_campaign_is_elsewhere_is_rejected() {
    let broken = [(GOOD_VERSION_TAG, SV1), (GOOD_TPS_TAG, "many")];
    let fake = tagged(FakePersonalize::default(), &broken);
    let errors = rejections(&started(
        &revert(&fake, &event("rollback-requested.json")).await,
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("campaignArn: its last known good version cannot be read (tag personalize-deployer:good-tps"),
        "{errors:?}"
    );
    let mut e = event("rollback-requested.json");
    e["detail"]["campaignArn"] =
        json!("arn:aws:personalize:eu-west-1:111122223333:campaign/movie-recs");
    let errors = rejections(&started(&revert(&fake, &e).await));
    assert_eq!(
        errors,
        vec![
            "campaignArn: is in region eu-west-1 of account 111122223333; this stack deploys \
             only in region us-east-1 of account 111122223333"
                .to_string()
        ]
    );
}

#[tokio::test]
async fn a_revert_sends_its_configuration_whole_like_a_rollback() {
    // The campaign serves the sample request (SV2, weight 0.3, cut-off 30);
    // the revert returns to SV1 with weight 0.1 and no cut-off.
    let serving_sv2 = active_campaign(&manifest("movie-recs.json"));
    let mut input = event("deploy-campaign-input.json");
    input["state"]["request"]["solutionVersionArn"] = json!(SV1);
    input["state"]["request"]["campaignConfig"] =
        json!({"itemExplorationConfig": {"explorationWeight": "0.1"}});
    let as_request = input.clone();
    input["state"]["origin"] = json!({"type": "rollback", "eventId": "e-1",
        "source": "personalize-deployer"});
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2.clone()))]);
    deploy_sample(&fake, input).await;
    let sent = fake.updated.lock().unwrap()[0].config.clone().unwrap();
    assert_eq!(
        serde_json::to_value(sent).unwrap(),
        json!({"itemExplorationConfig": {"explorationWeight": "0.1"}})
    );
    // Any other request's is merged into the campaign's (absent means keep).
    let fake = FakePersonalize::describing(vec![Ok(Some(serving_sv2))]);
    deploy_sample(&fake, as_request).await;
    let sent = fake.updated.lock().unwrap()[0].config.clone().unwrap();
    assert_eq!(
        sent.item_exploration_config.unwrap()["explorationItemAgeCutOff"],
        "30"
    );
}

/// `fake` whose ListTagsForResource answers `kind`.
fn unreadable(fake: FakePersonalize, kind: ApiErrorKind, code: &str) -> FakePersonalize {
    *fake.list_tags_result.lock().unwrap() = Some(api_error(kind, code));
    fake
}

#[tokio::test]
async fn a_record_that_cannot_be_read_still_gets_the_write_and_reverts_say_why() {
    // DeployCampaign: the last write is recorded before the read, and the
    // read's failure is logged, not the deployment's.
    let fake = unreadable(
        FakePersonalize::describing(vec![Ok(Some(serving_sv1()))]),
        ApiErrorKind::Other,
        "AccessDeniedException",
    );
    deploy_sample(&fake, event("deploy-campaign-input.json")).await;
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(held[LAST_WRITE_VERSION_TAG], SV2);
    assert!(!held.contains_key(GOOD_VERSION_TAG));
    // A revert whose campaign does not exist is rejected (and notified);
    // one whose record is throttled is the event's error (delivered again).
    let fake = unreadable(
        FakePersonalize::default(),
        ApiErrorKind::NotFound,
        "ResourceNotFoundException",
    );
    let errors = rejections(&started(
        &revert(&fake, &event("rollback-requested.json")).await,
    ));
    assert_eq!(
        errors,
        vec![format!(
            "campaignArn: names no campaign: {CAMPAIGN_ARN} does not exist"
        )]
    );
    let fake = unreadable(
        FakePersonalize::default(),
        ApiErrorKind::Throttled,
        "ThrottlingException",
    );
    let workflow = FakeWorkflow::default();
    let err = trigger::handle(
        &services(&FakeStore::default(), &workflow),
        &fake,
        &Scope::default(),
        &event("rollback-requested.json"),
    )
    .await
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(workflow.inputs().is_empty());
}

#[tokio::test]
async fn an_update_of_tps_alone_keeps_the_version_to_return_to() {
    // The campaign serves SV2 (kept after SV1); a request changes its TPS.
    let mut serving_sv2 = serving_sv1();
    serving_sv2.solution_version_arn = Some(SV2.into());
    let fake = tagged(
        FakePersonalize::describing(vec![Ok(Some(serving_sv2))]),
        GOOD_SV1,
    );
    deploy_sample(&fake, event("deploy-campaign-input.json")).await;
    assert_eq!(fake.updated.lock().unwrap().len(), 1, "the TPS changes");
    let held = fake.tags_of(CAMPAIGN_ARN);
    assert_eq!(
        (held[GOOD_VERSION_TAG].as_str(), held[GOOD_TPS_TAG].as_str()),
        (SV1, "3")
    );
}

#[tokio::test]
async fn a_revert_never_goes_to_a_rolled_back_good_nor_latest_nor_creates_a_campaign() {
    // Its own revert's watch rolled SV1 back since it was recorded good.
    let marked = [
        GOOD_SV1,
        &[
            (ROLLED_BACK_VERSION_TAG, SV1),
            (ROLLED_BACK_AT_TAG, "2026-11-25T09:00:00Z"),
            (
                ROLLED_BACK_WHY_TAG,
                "alarm recs-movie-recs-5xx: Threshold Crossed",
            ),
        ],
    ]
    .concat();
    let fake = tagged(FakePersonalize::default(), &marked);
    let errors = rejections(&started(
        &revert(&fake, &event("rollback-requested.json")).await,
    ));
    assert_eq!(
        errors,
        vec![format!(
            "campaignArn: its last known good version {SV1} was rolled back since (alarm \
             recs-movie-recs-5xx: Threshold Crossed): name the version to return to with \
             solutionVersionArn"
        )]
    );
    // The solution's latest is no version to return to.
    let mut e = event("rollback-requested.json");
    e["detail"]["solutionVersionArn"] =
        json!("arn:aws:personalize:us-east-1:111122223333:solution/movies/$LATEST");
    e["detail"]["campaignConfig"] = json!({"syncWithLatestSolutionVersion": true});
    let errors = rejections(&started(&revert(&fake, &e).await));
    assert!(
        errors[0].starts_with("solutionVersionArn: ends in /$LATEST: a revert returns"),
        "{errors:?}"
    );
    // A malformed name is named as such.
    let mut e = event("rollback-requested.json");
    e["detail"]["campaignArn"] =
        json!("arn:aws:personalize:us-east-1:111122223333:campaign/movie recs");
    let errors = rejections(&started(&revert(&fake, &e).await));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("campaignArn: "), "{errors:?}");
    // A named version for a campaign that no longer exists: the revert
    // fails; it never creates one.
    let mut input = event("deploy-campaign-input.json");
    input["state"]["origin"] = json!({"type": "rollback", "eventId": "e-1",
        "source": "personalize-deployer"});
    let fake = FakePersonalize::describing(vec![Ok(None)]);
    let config = DeployConfig {
        default_min_provisioned_tps: 1,
        scope: Default::default(),
    };
    let err = deploy::handle(&fake, &FakeClock::at(t(0)), &config, input)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ResourceNotFound");
    assert!(
        err.to_string()
            .contains("a revert never creates a campaign"),
        "{err}"
    );
    assert!(fake.created.lock().unwrap().is_empty());
}
