//! deploy-campaign: the create / update / unchanged / busy decisions, and the
//! calls they lead to.

use std::collections::BTreeMap;

use crate::support::*;
use chrono::{DateTime, Utc};
use lambda_runtime::Diagnostic;
use personalize_deployer::Error;
use personalize_deployer::config::DeployConfig;
use personalize_deployer::domain::campaign::Newer;
use personalize_deployer::domain::campaign::Status;
use personalize_deployer::domain::deploy::{Plan, Turn, deploy, plan};
use personalize_deployer::domain::execution::{Deployment, MAX_WAITS, Waiting};
use personalize_deployer::domain::outcome::Operation;
use personalize_deployer::domain::record::{
    LAST_WRITE_AT_TAG, LAST_WRITE_REQUESTED_AT_TAG, LAST_WRITE_VERSION_TAG,
};
use personalize_deployer::domain::request::{CampaignConfig, DeploymentRequest, Served};
use personalize_deployer::domain::schedule::{Basis, Expectation};
use personalize_deployer::handlers::deploy::handle;
use personalize_deployer::ports::ApiErrorKind;
use serde_json::json;

fn request() -> DeploymentRequest {
    manifest("movie-recs.json")
}

fn request_for(version: &str) -> DeploymentRequest {
    patched(&request(), json!({"solutionVersionArn": version}))
}

/// DeployCampaign's run at `now` for a request made at `requested_at`,
/// after `waiting` (none the first time).
async fn deploy_turn(
    fake: &FakePersonalize,
    request: &DeploymentRequest,
    requested_at: DateTime<Utc>,
    waiting: Option<&Waiting>,
    now: DateTime<Utc>,
) -> Result<Deployment, Error> {
    let turn = Turn {
        requested_at: Some(requested_at),
        waiting,
        returns: false,
    };
    deploy(fake, fake, request, &turn, 1, &FakeClock::at(now)).await
}

#[test]
fn a_missing_campaign_is_created() {
    assert_eq!(plan(&request(), None, None).unwrap(), Plan::Create);
}

#[test]
fn a_campaign_serving_the_request_is_left_unchanged() {
    let r = request();
    let plan = plan(&r, Some(&active_campaign(&r)), None).unwrap();
    assert_eq!(
        plan,
        Plan::Unchanged {
            serving: Some(SV1.to_string())
        }
    );
}

#[test]
fn a_new_solution_version_is_an_update_that_remembers_the_previous_one() {
    let current = active_campaign(&request());
    let r = request_for(SV2);
    let Plan::Update {
        served_before,
        changes,
        change,
    } = plan(&r, Some(&current), None).unwrap()
    else {
        panic!("expected an update");
    };
    // What it served, all three: what a rollback returns to.
    assert_eq!(
        served_before,
        Some(Served {
            solution_version_arn: SV1.into(),
            min_provisioned_tps: 2,
            campaign_config: current.config.clone(),
        })
    );
    assert_eq!(changes, vec![format!("solutionVersionArn {SV1} -> {SV2}")]);
    assert_eq!(change.campaign_arn, CAMPAIGN_ARN);
    assert_eq!(change.solution_version_arn, SV2);
    assert_eq!(change.min_provisioned_tps, Some(2));
    assert_eq!(change.config.as_ref(), r.campaign_config());
}

#[test]
fn a_different_tps_or_config_is_an_update() {
    let current = active_campaign(&request());
    let r = patched(&request(), json!({"minProvisionedTPS": 5}));
    let Plan::Update { changes, .. } = plan(&r, Some(&current), None).unwrap() else {
        panic!()
    };
    assert_eq!(changes, vec!["minProvisionedTPS 2 -> 5"]);

    let mut config = request().campaign_config().cloned().unwrap();
    config.ranking_influence = Some(BTreeMap::from([("FRESHNESS".to_string(), 0.4)]));
    let r = patched(&request(), json!({"campaignConfig": config}));
    let Plan::Update { changes, .. } = plan(&r, Some(&current), None).unwrap() else {
        panic!()
    };
    assert_eq!(changes.len(), 1);
    assert!(changes[0].starts_with("rankingInfluence"), "{changes:?}");
}

#[test]
fn fields_the_request_leaves_out_are_kept_not_compared() {
    let mut current = active_campaign(&request());
    current.min_provisioned_tps = Some(10);
    current
        .config
        .as_mut()
        .unwrap()
        .enable_metadata_with_recommendations = Some(true);
    let r = patched(
        &request(),
        json!({"minProvisionedTPS": null, "campaignConfig": null}),
    );
    assert!(matches!(
        plan(&r, Some(&current), None).unwrap(),
        Plan::Unchanged { .. }
    ));

    // An update sends the full configuration: what the campaign has, with what
    // the request gives on top.
    let config = CampaignConfig {
        ranking_influence: Some(BTreeMap::from([("POPULARITY".to_string(), 0.9)])),
        ..CampaignConfig::default()
    };
    let r = patched(
        &request_for(SV2),
        json!({"minProvisionedTPS": null, "campaignConfig": config}),
    );
    let Plan::Update { change, .. } = plan(&r, Some(&current), None).unwrap() else {
        panic!()
    };
    assert_eq!(change.min_provisioned_tps, None);
    let config = change.config.unwrap();
    assert_eq!(config.enable_metadata_with_recommendations, Some(true));
    assert_eq!(config.ranking_influence.unwrap()["POPULARITY"], 0.9);
    assert_eq!(
        config.item_exploration_config.unwrap()["explorationWeight"],
        "0.3"
    );

    // Within the two maps too: the keys the request gives replace the
    // campaign's, the others keep their values.
    let config = CampaignConfig {
        item_exploration_config: Some(BTreeMap::from([(
            "explorationWeight".to_string(),
            "0.5".to_string(),
        )])),
        ..CampaignConfig::default()
    };
    let r = patched(&request_for(SV2), json!({"campaignConfig": config}));
    let Plan::Update {
        change, changes, ..
    } = plan(&r, Some(&current), None).unwrap()
    else {
        panic!()
    };
    assert!(
        changes.contains(&"itemExplorationConfig.explorationWeight \"0.3\" -> \"0.5\"".to_string()),
        "{changes:?}"
    );
    let exploration = change.config.unwrap().item_exploration_config.unwrap();
    assert_eq!(
        exploration,
        BTreeMap::from([
            ("explorationItemAgeCutOff".to_string(), "30".to_string()),
            ("explorationWeight".to_string(), "0.5".to_string()),
        ])
    );
}

#[test]
fn a_latest_request_is_served_by_any_version_of_its_solution() {
    let r = manifest("news-feed-latest.json");
    let mut current = active_campaign(&r);
    current.solution_version_arn =
        Some("arn:aws:personalize:us-east-1:111122223333:solution/news/0f0f0f0f".into());
    assert!(matches!(
        plan(&r, Some(&current), None).unwrap(),
        Plan::Unchanged { .. }
    ));
    current.solution_version_arn =
        Some("arn:aws:personalize:us-east-1:111122223333:solution/other/0f0f0f0f".into());
    assert!(matches!(
        plan(&r, Some(&current), None).unwrap(),
        Plan::Update { .. }
    ));
}

#[test]
fn a_campaign_being_created_for_another_version_is_waited_for() {
    let mut current = active_campaign(&request());
    current.status = Status::CreateInProgress;
    // Work older than the request (created at t(-3600)), or of unknown age.
    for requested_at in [Some(t(0)), None] {
        let plan = plan(&request_for(SV2), Some(&current), requested_at).unwrap();
        assert_eq!(
            plan,
            Plan::Wait("campaign status is CREATE IN_PROGRESS".into())
        );
    }
}

#[test]
fn an_update_in_progress_for_another_version_is_waited_for() {
    let mut current = active_campaign(&request());
    current.latest_update = Some(update_record(
        "arn:aws:personalize:us-east-1:111122223333:solution/movies/99999999",
        2,
        Status::CreatePending,
    ));
    assert_eq!(
        plan(&request_for(SV2), Some(&current), Some(t(1))).unwrap(),
        Plan::Wait("an update is in progress (CREATE PENDING)".into())
    );
}

#[test]
fn work_begun_after_the_request_and_heading_elsewhere_supersedes_it() {
    let other = "arn:aws:personalize:us-east-1:111122223333:solution/movies/99999999";
    let mut current = active_campaign(&request());
    // The update record was created at t(0): after a request made at t(-1).
    for status in [Status::CreatePending, Status::Active, Status::CreateFailed] {
        current.latest_update = Some(update_record(other, 2, status.clone()));
        assert_eq!(
            plan(&request_for(SV2), Some(&current), Some(t(-1))).unwrap(),
            Plan::Superseded(Newer {
                solution_version_arn: other.into(),
                differences: vec![format!("solutionVersionArn {other} -> {SV2}")],
            }),
            "{status}"
        );
    }
    // The same work heading where the request goes is adopted, not a rival.
    let r = request_for(SV2);
    let mut update = update_record(SV2, 2, Status::CreateInProgress);
    update.config = r.campaign_config().cloned();
    current.latest_update = Some(update);
    assert!(matches!(
        plan(&r, Some(&current), Some(t(-1))).unwrap(),
        Plan::Adopt { .. }
    ));
    // A campaign created after the request, for another version, too.
    let mut created = active_campaign(&request());
    created.created_at = Some(t(5));
    assert!(matches!(
        plan(&request_for(SV2), Some(&created), Some(t(0))).unwrap(),
        Plan::Superseded(_)
    ));
}

#[tokio::test]
async fn a_busy_campaign_is_reported_waiting_and_the_wait_keeps_its_start() {
    let mut busy = active_campaign(&request());
    busy.status = Status::CreateInProgress;
    let fake = FakePersonalize::describing(vec![Ok(Some(busy.clone())), Ok(Some(busy))]);
    let r = request_for(SV2);
    let Deployment::Waiting(first) = deploy_turn(&fake, &r, t(0), None, t(10)).await.unwrap()
    else {
        panic!("expected a wait")
    };
    assert_eq!((first.since, first.round), (t(10), 1));
    // Busy again on the next run (a race after the campaign was seen free):
    // the wait goes on from its first start.
    let Deployment::Waiting(second) = deploy_turn(&fake, &r, t(0), Some(&first), t(500))
        .await
        .unwrap()
    else {
        panic!("expected a wait")
    };
    assert_eq!((second.since, second.round), (t(10), 2));
    assert!(fake.updated.lock().unwrap().is_empty(), "nothing written");
}

#[tokio::test]
async fn a_campaign_busy_again_after_the_most_waits_is_campaign_busy() {
    let mut busy = active_campaign(&request());
    busy.status = Status::CreateInProgress;
    let fake = FakePersonalize::describing(vec![Ok(Some(busy))]);
    let last = Waiting {
        waiting_for: "campaign status is CREATE IN_PROGRESS".into(),
        since: t(0),
        round: MAX_WAITS,
    };
    let err = deploy_turn(&fake, &request_for(SV2), t(0), Some(&last), t(900))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "CampaignBusy");
    assert!(!err.is_retryable(), "the waits were the retries");
    assert!(err.to_string().contains("again after 3 waits"), "{err}");
}

#[tokio::test]
async fn after_a_wait_the_update_records_since_when_it_waited() {
    let fake = FakePersonalize::describing(vec![Ok(Some(active_campaign(&request())))]);
    let waited = Waiting {
        waiting_for: "an update is in progress (CREATE IN_PROGRESS)".into(),
        since: t(100),
        round: 1,
    };
    let Deployment::Started(d) =
        deploy_turn(&fake, &request_for(SV2), t(0), Some(&waited), t(5400))
            .await
            .unwrap()
    else {
        panic!("expected the update")
    };
    assert_eq!(d.operation, Operation::Update);
    assert_eq!((d.started_at, d.waited_since), (t(5400), Some(t(100))));
    assert_eq!(d.first_tried_at(), t(100));
}

#[tokio::test]
async fn newer_work_heading_elsewhere_is_reported_and_nothing_written() {
    let mut current = active_campaign(&request());
    current.latest_update = Some(update_record(SV1, 7, Status::CreateInProgress));
    let fake = FakePersonalize::describing(vec![Ok(Some(current))]);
    let d = deploy_turn(&fake, &request_for(SV2), t(-5), None, t(20))
        .await
        .unwrap();
    let Deployment::Overtaken(overtaken) = d else {
        panic!("expected to give way: {d:?}")
    };
    assert_eq!(overtaken.superseded_by.solution_version_arn, SV1);
    assert_eq!(overtaken.checked_at, t(20));
    assert!(fake.updated.lock().unwrap().is_empty(), "nothing written");
}

/// The campaign's record of this product's latest write: `version`, for a
/// request made at `requested_at`, recorded at `at`.
fn written_for(
    fake: FakePersonalize,
    version: &str,
    requested_at: i64,
    at: i64,
) -> FakePersonalize {
    let time = |s: i64| t(s).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    fake.tags.lock().unwrap().insert(
        CAMPAIGN_ARN.into(),
        [
            (LAST_WRITE_VERSION_TAG, version.to_string()),
            (LAST_WRITE_REQUESTED_AT_TAG, time(requested_at)),
            (LAST_WRITE_AT_TAG, time(at)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    );
    fake
}

#[tokio::test]
async fn work_written_late_for_an_older_request_is_waited_for_and_then_deployed_over() {
    // Two requests waited for the same campaign: SV1's (made at -100 s) saw
    // it free first and wrote at 0 s; SV2's was made at -5 s, before that
    // write. The write is older work: waited for, not given way to.
    let mut current = active_campaign(&request());
    current.latest_update = Some(update_record(SV1, 7, Status::CreateInProgress));
    let fake = written_for(
        FakePersonalize::describing(vec![Ok(Some(current.clone()))]),
        SV1,
        -100,
        1,
    );
    let d = deploy_turn(&fake, &request_for(SV2), t(-5), None, t(20))
        .await
        .unwrap();
    assert!(matches!(d, Deployment::Waiting(_)), "{d:?}");
    // Once it has ended, SV2 is deployed over it.
    current.latest_update = Some(update_record(SV1, 7, Status::Active));
    *fake.describes.lock().unwrap() = vec![Ok(Some(current.clone()))];
    let d = deploy_turn(&fake, &request_for(SV2), t(-5), None, t(600))
        .await
        .unwrap();
    assert_eq!(d.started().unwrap().operation, Operation::Update, "{d:?}");
    assert_eq!(fake.updated.lock().unwrap()[0].solution_version_arn, SV2);
    // Written for a request made after this one, or a record of another
    // write (another version, or long before the update): it gives way.
    for (version, requested_at, at) in [(SV1, 10, 1), (SV3, -100, 1), (SV1, -100, 900)] {
        let fake = written_for(
            FakePersonalize::describing(vec![Ok(Some(current.clone()))]),
            version,
            requested_at,
            at,
        );
        let d = deploy_turn(&fake, &request_for(SV2), t(-5), None, t(600))
            .await
            .unwrap();
        assert!(
            matches!(d, Deployment::Overtaken(_)),
            "{version} {requested_at} {at}: {d:?}"
        );
    }
    // A record that cannot be read: judged by time, it gives way.
    let fake = written_for(
        FakePersonalize::describing(vec![Ok(Some(current))]),
        SV1,
        -100,
        1,
    );
    *fake.list_tags_result.lock().unwrap() =
        Some(api_error(ApiErrorKind::Throttled, "ThrottlingException"));
    let d = deploy_turn(&fake, &request_for(SV2), t(-5), None, t(600))
        .await
        .unwrap();
    assert!(matches!(d, Deployment::Overtaken(_)), "{d:?}");
}

#[test]
fn work_already_heading_for_the_request_is_adopted_not_reported_busy() {
    let r = request_for(SV2);
    let mut creating = active_campaign(&r);
    creating.status = Status::CreatePending;
    assert_eq!(
        plan(&r, Some(&creating), None).unwrap(),
        Plan::Adopt {
            operation: Operation::Create,
            served_before: None,
            since: Some(t(-3600)),
        }
    );
    let mut updating = active_campaign(&request());
    let mut update = update_record(SV2, 2, Status::CreateInProgress);
    update.config = r.campaign_config().cloned();
    updating.latest_update = Some(update);
    assert_eq!(
        plan(&r, Some(&updating), None).unwrap(),
        Plan::Adopt {
            operation: Operation::Update,
            served_before: updating.served(),
            since: Some(t(0)),
        }
    );
    // An update of a failed campaign that is under way: it served nothing.
    updating.status = Status::CreatePending;
    assert_eq!(
        plan(&r, Some(&updating), None).unwrap(),
        Plan::Adopt {
            operation: Operation::Update,
            served_before: None,
            since: Some(t(0)),
        }
    );
}

#[tokio::test]
async fn adopted_work_keeps_its_own_start_time() {
    let r = request_for(SV2);
    let mut creating = active_campaign(&r);
    creating.status = Status::CreateInProgress;
    creating.created_at = Some(t(-90));
    let fake = FakePersonalize::describing(vec![Ok(Some(creating))]);
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!((d.operation, d.started_at), (Operation::Create, t(-90)));
}

#[tokio::test]
async fn an_update_refused_as_in_use_for_another_reason_is_resource_in_use() {
    // E.g. the new solution version is not ACTIVE: the campaign is not busy.
    let fake = FakePersonalize::describing(vec![Ok(Some(active_campaign(&request())))])
        .failing_update(api_error(ApiErrorKind::InUse, "ResourceInUseException"));
    let err = deployed(&fake, &request_for(SV2), 1, t(0))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ResourceInUse");
    assert!(!err.is_retryable());
}

#[test]
fn a_campaign_being_deleted_fails_with_its_own_name() {
    let mut current = active_campaign(&request());
    current.status = Status::DeletePending;
    let err = plan(&request(), Some(&current), None).unwrap_err();
    assert_eq!(err.error_type(), "CampaignDeleting");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("DELETE PENDING"));
}

#[test]
fn a_failed_campaign_is_updated_even_with_the_same_request() {
    let r = request();
    let mut current = active_campaign(&r);
    current.status = Status::CreateFailed;
    let Plan::Update {
        served_before,
        changes,
        ..
    } = plan(&r, Some(&current), None).unwrap()
    else {
        panic!("expected an update");
    };
    assert_eq!(served_before, None, "a failed campaign served nothing");
    assert!(changes[0].contains("CREATE FAILED"));
}

#[test]
fn a_failed_earlier_update_does_not_block_a_request_the_campaign_already_serves() {
    let r = request();
    let mut current = active_campaign(&r);
    current.latest_update = Some(update_record(SV2, 2, Status::CreateFailed));
    assert!(matches!(
        plan(&r, Some(&current), None).unwrap(),
        Plan::Unchanged { .. }
    ));
}

#[tokio::test]
async fn deploy_creates_with_tags_and_the_default_tps() {
    let fake = FakePersonalize::describing(vec![Ok(None)]);
    let r = patched(&request(), json!({"minProvisionedTPS": null}));
    let d = deployed(&fake, &r, 3, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::Create);
    assert_eq!(r.campaign_arn(), CAMPAIGN_ARN);
    assert_eq!(d.previous_solution_version_arn, None);
    assert_eq!(d.started_at, t(0));
    let created = fake.created.lock().unwrap()[0].clone();
    assert_eq!(created.min_provisioned_tps, 3);
    assert_eq!(created.tags, r.tags());
    assert_eq!(created.config.as_ref(), r.campaign_config());
    assert_eq!(
        fake.calls(),
        vec![
            format!("describe {CAMPAIGN_ARN}"),
            "create movie-recs".to_string()
        ]
    );
}

#[tokio::test]
async fn a_create_race_describes_again_and_adopts_the_campaign() {
    let r = request();
    let mut created_meanwhile = active_campaign(&r);
    created_meanwhile.status = Status::CreatePending;
    let fake = FakePersonalize::describing(vec![Ok(None), Ok(Some(created_meanwhile))])
        .failing_create(api_error(
            ApiErrorKind::AlreadyExists,
            "ResourceAlreadyExistsException",
        ));
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::Create);
    assert_eq!(fake.calls().len(), 3, "{:?}", fake.calls());
}

#[tokio::test]
async fn a_create_race_with_another_version_waits() {
    let r = request();
    let mut other = active_campaign(&request_for(SV2));
    other.status = Status::CreateInProgress;
    let fake =
        FakePersonalize::describing(vec![Ok(None), Ok(Some(other))]).failing_create(api_error(
            ApiErrorKind::AlreadyExists,
            "ResourceAlreadyExistsException",
        ));
    let d = deploy_turn(&fake, &r, t(0), None, t(0)).await.unwrap();
    assert!(matches!(d, Deployment::Waiting(_)), "{d:?}");
}

#[tokio::test]
async fn deploy_updates_and_reports_the_previous_version() {
    let fake = FakePersonalize::describing(vec![Ok(Some(active_campaign(&request())))]);
    let d = deployed(&fake, &request_for(SV2), 1, t(5)).await.unwrap();
    assert_eq!(d.operation, Operation::Update);
    assert_eq!(d.previous_solution_version_arn.as_deref(), Some(SV1));
    let [updated] = &fake.updated.lock().unwrap()[..] else {
        panic!("one update")
    };
    assert_eq!(updated.solution_version_arn, SV2);
}

#[tokio::test]
async fn deploy_does_nothing_when_the_campaign_serves_the_request() {
    let fake = FakePersonalize::describing(vec![Ok(Some(active_campaign(&request())))]);
    let d = deployed(&fake, &request(), 1, t(5)).await.unwrap();
    assert_eq!(d.operation, Operation::None);
    assert_eq!(d.previous_solution_version_arn.as_deref(), Some(SV1));
    assert_eq!(fake.calls().len(), 1, "only a describe: {:?}", fake.calls());
}

#[tokio::test]
async fn an_update_refused_as_in_use_waits_for_the_campaign() {
    // The campaign became busy between our describe and our update.
    let mut busy = active_campaign(&request());
    busy.latest_update = Some(update_record(
        "arn:aws:personalize:us-east-1:111122223333:solution/movies/99999999",
        2,
        Status::CreatePending,
    ));
    let fake = FakePersonalize::describing(vec![
        Ok(Some(active_campaign(&request()))),
        Ok(Some(busy.clone())),
        Ok(Some(busy)),
    ])
    .failing_update(api_error(ApiErrorKind::InUse, "ResourceInUseException"));
    let d = deploy_turn(&fake, &request_for(SV2), t(1), None, t(2))
        .await
        .unwrap();
    assert_eq!(
        d,
        Deployment::Waiting(Waiting {
            waiting_for: "an update is in progress (CREATE PENDING)".into(),
            since: t(2),
            round: 1,
        })
    );
}

#[tokio::test]
async fn permanent_service_errors_keep_their_names_and_are_not_retryable() {
    for (kind, code, name) in [
        (
            ApiErrorKind::NotFound,
            "ResourceNotFoundException",
            "ResourceNotFound",
        ),
        (
            ApiErrorKind::LimitExceeded,
            "LimitExceededException",
            "LimitExceeded",
        ),
        (
            ApiErrorKind::InvalidInput,
            "InvalidInputException",
            "InvalidInput",
        ),
    ] {
        let fake =
            FakePersonalize::describing(vec![Ok(None)]).failing_create(api_error(kind, code));
        let err = deployed(&fake, &request(), 1, t(0)).await.unwrap_err();
        assert_eq!(err.error_type(), name);
        assert!(!err.is_retryable(), "{name}");
        assert!(err.to_string().contains(code), "{err}");
    }
    for (kind, name) in [
        (ApiErrorKind::Throttled, "Throttled"),
        (ApiErrorKind::Unavailable, "ServiceUnavailable"),
    ] {
        let fake = FakePersonalize::describing(vec![Err(api_error(kind, "X"))]);
        let err = deployed(&fake, &request(), 1, t(0)).await.unwrap_err();
        assert_eq!(err.error_type(), name);
        assert!(err.is_retryable(), "{name}");
    }
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_any_call() {
    // A request cannot be made invalid: one in a task input that did not come
    // through deploy-trigger is refused as it is read.
    let fake = FakePersonalize::default();
    let mut input = event("deploy-campaign-input.json");
    input["state"]["request"]["campaignName"] = json!("bad name");
    let config = DeployConfig {
        default_min_provisioned_tps: 1,
        scope: Default::default(),
    };
    let err = handle(&fake, &FakeClock::at(t(0)), &config, input)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidRequest");
    assert!(err.to_string().contains("campaignName"), "{err}");
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn an_execution_started_by_hand_is_held_to_the_stacks_scope_before_any_call() {
    // The sample input is for movie-recs, TPS 2, in us-east-1 of 111122223333.
    let scoped = |prefix: &str, account: &str, cap: Option<i32>| DeployConfig {
        default_min_provisioned_tps: 1,
        scope: personalize_deployer::domain::request::Scope {
            account: Some(account.into()),
            region: Some("us-east-1".into()),
            campaign_name_prefix: prefix.into(),
            max_provisioned_tps: cap,
            ..Default::default()
        },
    };
    for (config, field, rule) in [
        (
            scoped("news-", "111122223333", None),
            "campaignName",
            "must start with \"news-\"",
        ),
        (
            scoped("", "444455556666", None),
            "solutionVersionArn",
            "this stack deploys only in region us-east-1 of account 444455556666",
        ),
        (
            scoped("movie-", "111122223333", Some(1)),
            "minProvisionedTPS",
            "is 2, above this stack's cap of 1",
        ),
    ] {
        let fake = FakePersonalize::default();
        let err = handle(
            &fake,
            &FakeClock::at(t(0)),
            &config,
            event("deploy-campaign-input.json"),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "InvalidRequest");
        let message = err.to_string();
        assert!(message.contains("outside this stack's scope"), "{message}");
        assert!(
            message.contains(field) && message.contains(rule),
            "{message}"
        );
        assert!(
            fake.calls().is_empty(),
            "nothing is read or written: {:?}",
            fake.calls()
        );
    }
    // Within the scope, it deploys.
    let fake = FakePersonalize::describing(vec![Ok(Some(active_campaign(&request())))]);
    handle(
        &fake,
        &FakeClock::at(t(0)),
        &scoped("movie-", "111122223333", Some(2)),
        event("deploy-campaign-input.json"),
    )
    .await
    .unwrap();
    assert_eq!(fake.updated.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_revert_above_the_cap_passes_only_back_to_the_tps_its_record_holds() {
    use personalize_deployer::domain::record::{GOOD_SINCE_TAG, GOOD_TPS_TAG, GOOD_VERSION_TAG};
    // A revert of movie-recs to SV2 at TPS 2, with a cap of 1.
    let mut input = event("deploy-campaign-input.json");
    input["state"]["origin"] = json!({"type": "rollback", "eventId": "e-1", "source": "personalize-deployer",
                                      "account": "111122223333", "region": "us-east-1", "reason": "bad model"});
    let config = DeployConfig {
        default_min_provisioned_tps: 1,
        scope: personalize_deployer::domain::request::Scope {
            max_provisioned_tps: Some(1),
            ..Default::default()
        },
    };
    let arn = request().campaign_arn();
    let recorded = |version: &str, tps: &str| {
        let fake = FakePersonalize::describing(vec![Ok(Some(active_campaign(&request())))]);
        fake.tags.lock().unwrap().insert(
            arn.clone(),
            [
                (GOOD_VERSION_TAG, version),
                (GOOD_TPS_TAG, tps),
                (GOOD_SINCE_TAG, "2026-11-20T09:00:00Z"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        fake
    };
    // The campaign served SV2 at TPS 2 before: returned to, above the cap.
    let fake = recorded(SV2, "2");
    handle(&fake, &FakeClock::at(t(0)), &config, input.clone())
        .await
        .unwrap();
    {
        let updated = fake.updated.lock().unwrap();
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].min_provisioned_tps, Some(2));
    }
    // Another TPS or version recorded, or no record: asked for, so capped.
    for fake in [
        recorded(SV2, "1"),
        recorded(SV1, "2"),
        FakePersonalize::default(),
    ] {
        let err = handle(&fake, &FakeClock::at(t(0)), &config, input.clone())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidRequest");
        assert!(
            err.to_string().contains("above this stack's cap of 1"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("record does not hold it as the last known good TPS"),
            "{err}"
        );
        assert!(fake.updated.lock().unwrap().is_empty());
    }
    // A record that could not be read this time is read again (retried).
    let fake = recorded(SV2, "2");
    *fake.list_tags_result.lock().unwrap() =
        Some(api_error(ApiErrorKind::Throttled, "ThrottlingException"));
    let err = handle(&fake, &FakeClock::at(t(0)), &config, input.clone())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Throttled");
    assert!(fake.updated.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_handler_reads_the_sample_task_input() {
    let fake = FakePersonalize::describing(vec![Ok(Some(active_campaign(&request())))]);
    let config = DeployConfig {
        default_min_provisioned_tps: 1,
        scope: Default::default(),
    };
    let d = handle(
        &fake,
        &FakeClock::at(t(0)),
        &config,
        event("deploy-campaign-input.json"),
    )
    .await
    .unwrap();
    assert_eq!(d.started().unwrap().operation, Operation::Update);
    assert_eq!(fake.updated.lock().unwrap()[0].solution_version_arn, SV2);
    let out = serde_json::to_value(&d).unwrap();
    assert_eq!(out["operation"], "UPDATE");
    assert_eq!(out["previousSolutionVersionArn"], SV1);
    assert!(out["startedAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_malformed_task_input_is_named() {
    let config = DeployConfig {
        default_min_provisioned_tps: 1,
        scope: Default::default(),
    };
    let err = handle(
        &FakePersonalize::default(),
        &FakeClock::at(t(0)),
        &config,
        serde_json::json!({"request": {}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "InvalidTaskInput");
    let mut rejected = event("campaign-status-rejected-input.json");
    rejected["state"]["rejected"] = true.into();
    let err = handle(
        &FakePersonalize::default(),
        &FakeClock::at(t(0)),
        &config,
        rejected,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("state.request is missing"),
        "{err}"
    );
}

#[test]
fn errors_become_lambda_diagnostics_with_stable_names() {
    let d: Diagnostic = Error::CampaignBusy {
        campaign: "c".into(),
        detail: "d".into(),
    }
    .into();
    assert_eq!(d.error_type, "CampaignBusy");
    assert_eq!(d.error_message, "campaign c is busy: d");
    let d: Diagnostic = Error::from(api_error(
        ApiErrorKind::NotFound,
        "ResourceNotFoundException",
    ))
    .into();
    assert_eq!(d.error_type, "ResourceNotFound");
}

#[tokio::test]
async fn an_update_records_how_long_the_campaigns_last_deployment_took() {
    let r = request_for(SV2);
    // Created in 12 minutes, never updated: the update is expected to take
    // as long.
    let mut created = active_campaign(&request_for(SV1));
    created.updated_at = Some(t(-3600 + 720));
    let fake = FakePersonalize::describing(vec![Ok(Some(created.clone()))]);
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::Update);
    assert_eq!(
        d.expected,
        Some(Expectation {
            seconds: 720,
            basis: Basis::Creation
        })
    );
    // Updated since in 9 minutes: that is what the next one is held to.
    let mut updated = created;
    let mut u = update_record(SV1, 1, Status::Active);
    u.created_at = Some(t(-1000));
    u.updated_at = Some(t(-460));
    updated.latest_update = Some(u);
    let fake = FakePersonalize::describing(vec![Ok(Some(updated))]);
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(
        d.expected.map(|e| (e.seconds, e.basis)),
        Some((540, Basis::LastUpdate))
    );
    // A new campaign has no history.
    let fake = FakePersonalize::describing(vec![Ok(None)]);
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!((d.operation, d.expected), (Operation::Create, None));
    // How long failing took is no measure of deploying.
    let mut failed = active_campaign(&request_for(SV1));
    failed.latest_update = Some(update_record(SV2, 1, Status::CreateFailed));
    let fake = FakePersonalize::describing(vec![Ok(Some(failed))]);
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!((d.operation, d.expected), (Operation::Update, None));
    // Work already under way toward the request is adopted, unmeasured.
    let mut creating = active_campaign(&r);
    creating.status = Status::CreateInProgress;
    let fake = FakePersonalize::describing(vec![Ok(Some(creating))]);
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!((d.operation, d.expected), (Operation::Create, None));
}
