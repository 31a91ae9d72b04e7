//! deploy-trigger following solutions, against personalize-local: the
//! CloudTrail event of a CreateSolutionVersion call and the scheduled look
//! each start one execution per campaign that opted in, and meet on the same
//! execution for the same version.

use crate::support::local::{Local, SOLUTION, train};
use crate::support::{FakeStore, FakeWorkflow, all_already_handled, api_error, event, services};
use chrono::Utc;
use personalize_deployer::adapters::SystemClock;
use personalize_deployer::domain::campaign::Campaign;
use personalize_deployer::domain::execution::{Check, Execution, TaskInput};
use personalize_deployer::domain::follow::FOLLOW_TAG;
use personalize_deployer::domain::gate::GateMember;
use personalize_deployer::domain::intake::{Handled, TriggerReport};
use personalize_deployer::domain::outcome::Outcome;
use personalize_deployer::domain::record::{
    ROLLED_BACK_AT_TAG, ROLLED_BACK_VERSION_TAG, ROLLED_BACK_WHY_TAG,
};
use personalize_deployer::domain::request::Scope;
use personalize_deployer::domain::request::Tag;
use personalize_deployer::domain::schedule::TRAINING_POLICY;
use personalize_deployer::domain::training_check;
use personalize_deployer::handlers::trigger;
use personalize_deployer::ports::{
    ApiError, ApiErrorKind, CampaignChange, CampaignSummary, Catalog, NewCampaign, Personalize,
    Tagging, VersionSummary,
};
use serde_json::{Value, json};

/// The newest version of the sample solution.
const SV2: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies/5e6f7a8b";

fn campaign(name: &str, tags: &[(&str, &str)]) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"tagKey": k, "tagValue": v}))
        .collect();
    json!({"name": name, "solutionVersionArn": SV2, "minProvisionedTPS": 3, "tags": tags})
}

/// movie-recs and movie-home follow movies; movie-side does not.
async fn start() -> Local {
    let local = Local::start().await;
    local
        .server
        .seed(json!({"campaigns": [
            campaign("movie-recs", &[(FOLLOW_TAG, "true")]),
            campaign("movie-home", &[(FOLLOW_TAG, "true"), (GateMember::Metric.names().tag, "coverage"),
                                     (GateMember::MinValue.names().tag, "0.1")]),
            campaign("movie-side", &[("team", "recs")]),
        ]}))
        .unwrap();
    local
}

fn scope() -> Scope {
    Scope {
        account: Some("111122223333".into()),
        region: Some("us-east-1".into()),
        ..Scope::default()
    }
}

async fn handle(local: &Local, workflow: &FakeWorkflow, event: &Value) -> TriggerReport {
    trigger::handle(
        &services(&FakeStore::default(), workflow),
        &local.personalize,
        &scope(),
        event,
    )
    .await
    .unwrap()
}

/// The CloudTrail event of training `version`, shaped like the sample.
fn trained(version: Option<&str>) -> Value {
    let mut e = event("cloudtrail-create-solution-version.json");
    e["detail"]["requestParameters"]["solutionArn"] = json!(SOLUTION);
    match version {
        Some(v) => e["detail"]["responseElements"]["solutionVersionArn"] = json!(v),
        None => e["detail"]["responseElements"] = Value::Null,
    }
    e["detail"]["eventTime"] = json!(chrono::Utc::now().to_rfc3339());
    e
}

fn campaigns_of(workflow: &FakeWorkflow) -> Vec<String> {
    let mut names: Vec<String> = workflow
        .inputs()
        .iter()
        .map(|i| {
            // An accepted request's, or a rejected one's.
            let name = i["request"]["campaignName"].as_str();
            name.or(i["campaignName"].as_str()).unwrap().to_string()
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_new_version_starts_one_execution_per_campaign_that_opted_in() {
    let local = start().await;
    let version = train(&local.sdk, SOLUTION).await;
    let workflow = FakeWorkflow::default();
    let report = handle(&local, &workflow, &trained(Some(&version))).await;
    assert_eq!(campaigns_of(&workflow), vec!["movie-home", "movie-recs"]);
    assert!(
        report
            .executions
            .iter()
            .all(|e| e.status == Handled::Started && !e.rejected)
    );
    assert!(
        report
            .ignored
            .iter()
            .any(|n| n.contains("movie-side") && n.contains("not following")),
        "{report:?}"
    );
    for input in workflow.inputs() {
        let request = &input["request"];
        // The new version and the gate of its tags; TPS and configuration
        // left out, so that the campaign keeps what it has when the version
        // is deployed, hours later.
        assert_eq!(request["solutionVersionArn"], json!(version));
        assert!(request.get("minProvisionedTPS").is_none(), "{request}");
        assert!(request.get("campaignConfig").is_none(), "{request}");
        assert_eq!(input["origin"]["type"], json!("follow"));
        if request["campaignName"] == json!("movie-home") {
            assert_eq!(
                request["gate"],
                json!({"metric": "coverage", "minValue": 0.1})
            );
        } else {
            assert!(request.get("gate").is_none(), "{request}");
        }
    }
    // The same event again starts nothing new.
    let again = handle(&local, &workflow, &trained(Some(&version))).await;
    assert_eq!(workflow.executions.lock().unwrap().len(), 2);
    assert!(all_already_handled(&again));
}

#[tokio::test]
async fn without_the_version_in_the_event_the_newest_since_the_call_is_taken() {
    let local = start().await;
    let version = train(&local.sdk, SOLUTION).await;
    let workflow = FakeWorkflow::default();
    handle(&local, &workflow, &trained(None)).await;
    for input in workflow.inputs() {
        assert_eq!(input["request"]["solutionVersionArn"], json!(version));
    }
    assert_eq!(workflow.inputs().len(), 2);
}

#[tokio::test]
async fn the_scheduled_look_finds_an_automatic_version_and_meets_the_cloudtrail_path() {
    let local = start().await;
    let schedule = event("scheduled-follow.json");
    // Nothing newer than what they serve yet.
    let workflow = FakeWorkflow::default();
    let report = handle(&local, &workflow, &schedule).await;
    assert!(report.executions.is_empty(), "{report:?}");
    // Automatic training makes a version with no call; the look finds it
    // while it trains and starts its executions, which wait for it.
    let automatic = local.server.auto_train(SOLUTION).unwrap();
    let report = handle(&local, &workflow, &schedule).await;
    assert_eq!(campaigns_of(&workflow), vec!["movie-home", "movie-recs"]);
    assert!(
        report
            .executions
            .iter()
            .all(|e| e.status == Handled::Started && !e.rejected),
        "{report:?}"
    );
    assert!(
        workflow
            .inputs()
            .iter()
            .all(|i| i["request"]["solutionVersionArn"] == json!(automatic))
    );
    // Once it is ACTIVE, the next look finds the same executions.
    local.advance(4.0 * 3600.0).await;
    let names = workflow.names();
    let report = handle(&local, &workflow, &schedule).await;
    assert_eq!(workflow.names(), names, "nothing new");
    assert!(all_already_handled(&report), "{report:?}");
    // A version the CloudTrail path started is the same execution, while it
    // trains and once it is trained.
    // (The campaigns here still serve what they did: nothing deploys.)
    let manual = train(&local.sdk, SOLUTION).await;
    handle(&local, &workflow, &trained(Some(&manual))).await;
    let names = workflow.names();
    assert_eq!(names.len(), 4);
    // While it trains, the look names both versions; once it is trained,
    // only it (the newest ACTIVE).
    for found in [4, 2] {
        let report = handle(&local, &workflow, &schedule).await;
        assert_eq!(workflow.names(), names, "nothing new");
        assert_eq!(report.executions.len(), found, "{report:?}");
        assert!(all_already_handled(&report));
        local.advance(4.0 * 3600.0).await;
    }
}

#[tokio::test]
async fn a_version_rolled_back_from_is_left_alone_by_the_event_and_the_look() {
    let local = start().await;
    let version = train(&local.sdk, SOLUTION).await;
    local.advance(4.0 * 3600.0).await;
    // movie-recs went back from it (its record says so, as a rollback writes
    // it); movie-home did not.
    let recs = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs";
    let record = [
        (ROLLED_BACK_VERSION_TAG, version.as_str()),
        (ROLLED_BACK_AT_TAG, "2026-12-01T08:00:00Z"),
        (ROLLED_BACK_WHY_TAG, "alarm recs-ctr: Threshold Crossed"),
    ]
    .map(|(k, v)| Tag {
        tag_key: k.into(),
        tag_value: v.into(),
    });
    local.personalize.tag_resource(recs, &record).await.unwrap();
    let expected = format!(
        "{recs}: {version} was rolled back at 2026-12-01T08:00:00Z (alarm recs-ctr: Threshold \
         Crossed); a deployment request deploys it again"
    );
    // A redelivered CloudTrail event, and the scheduled look.
    for e in [trained(Some(&version)), event("scheduled-follow.json")] {
        let workflow = FakeWorkflow::default();
        let report = handle(&local, &workflow, &e).await;
        assert_eq!(campaigns_of(&workflow), vec!["movie-home"]);
        assert!(report.ignored.contains(&expected), "{:?}", report.ignored);
    }
}

#[tokio::test]
async fn a_solution_nobody_follows_is_reported_not_an_error_and_failed_calls_are_ignored() {
    let local = Local::start().await;
    let workflow = FakeWorkflow::default();
    let version = train(&local.sdk, SOLUTION).await;
    let report = handle(&local, &workflow, &trained(Some(&version))).await;
    assert!(report.executions.is_empty());
    assert!(
        report
            .ignored
            .iter()
            .any(|n| n.contains("no campaign of this stack follows it")),
        "{report:?}"
    );
    let mut failed = trained(Some(&version));
    failed["detail"]["errorCode"] = json!("LimitExceededException");
    let report = handle(&local, &workflow, &failed).await;
    assert!(report.executions.is_empty());
    assert_eq!(
        report.ignored,
        vec!["CreateSolutionVersion failed (LimitExceededException): nothing trains"]
    );
}

#[tokio::test]
async fn gate_tags_that_make_no_gate_reject_the_request_naming_the_tag() {
    let local = Local::start().await;
    local
        .server
        .seed(
            json!({"campaigns": [campaign("movie-recs", &[(FOLLOW_TAG, "true"),
            (GateMember::Metric.names().tag, "coverage"), (GateMember::MaxDrop.names().tag, "a lot"), (GateMember::MaxRelativeDrop.names().tag, "2")])]}),
        )
        .unwrap();
    let version = train(&local.sdk, SOLUTION).await;
    let workflow = FakeWorkflow::default();
    let report = handle(&local, &workflow, &trained(Some(&version))).await;
    assert!(report.executions[0].rejected);
    let [input] = &workflow.inputs()[..] else {
        panic!("one execution")
    };
    let fields: Vec<&str> = input["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "tags.personalize-deployer:gate-max-drop",
            "tags.personalize-deployer:gate-max-relative-drop"
        ]
    );
}

#[tokio::test]
async fn an_older_version_finishing_last_is_not_deployed_over_a_newer_one() {
    let local = Local::start().await;
    // Two trainings overlap; the campaign already serves the newer one.
    let older = train(&local.sdk, SOLUTION).await;
    local.advance(60.0).await;
    let newer = train(&local.sdk, SOLUTION).await;
    local.advance(4.0 * 3600.0).await;
    let mut serving_newer = campaign("movie-recs", &[(FOLLOW_TAG, "true")]);
    serving_newer["solutionVersionArn"] = json!(newer);
    local
        .server
        .seed(json!({"campaigns": [serving_newer]}))
        .unwrap();
    let workflow = FakeWorkflow::default();
    let report = handle(&local, &workflow, &trained(Some(&older))).await;
    assert!(report.executions.is_empty(), "{report:?}");
    assert!(
        report
            .ignored
            .iter()
            .any(|n| n.contains(&format!("serves {newer}, newer than {older}"))),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_gate_metric_tag_of_none_turns_the_stack_default_off() {
    let local = Local::start().await;
    local
        .server
        .seed(json!({"campaigns": [
            campaign("movie-recs", &[(FOLLOW_TAG, "true"), (GateMember::Metric.names().tag, "none")]),
            campaign("movie-home", &[(FOLLOW_TAG, "true")]),
        ]}))
        .unwrap();
    let version = train(&local.sdk, SOLUTION).await;
    let workflow = FakeWorkflow::default();
    let scope = Scope {
        default_gate: Some(personalize_deployer::domain::gate::Gate {
            metric: "coverage".into(),
            max_drop: None,
            max_relative_drop: None,
            min_value: Some(0.1),
        }),
        ..scope()
    };
    trigger::handle(
        &services(&FakeStore::default(), &workflow),
        &local.personalize,
        &scope,
        &trained(Some(&version)),
    )
    .await
    .unwrap();
    for input in workflow.inputs() {
        let request = &input["request"];
        match request["campaignName"].as_str().unwrap() {
            "movie-recs" => assert!(request.get("gate").is_none(), "{request}"),
            _ => assert_eq!(request["gate"]["metric"], json!("coverage")),
        }
    }
    assert_eq!(workflow.inputs().len(), 2);
}

#[tokio::test]
async fn only_campaigns_of_the_stack_that_say_true_and_do_not_sync_are_followed() {
    let local = Local::start().await;
    let mut syncing = campaign("movie-sync", &[(FOLLOW_TAG, "true")]);
    syncing["campaignConfig"] = json!({"syncWithLatestSolutionVersion": true});
    local
        .server
        .seed(json!({"campaigns": [
            campaign("movie-recs", &[(FOLLOW_TAG, "true")]),
            campaign("movie-no", &[(FOLLOW_TAG, "false")]),
            campaign("movie-caps", &[(FOLLOW_TAG, "TRUE")]),
            campaign("other-recs", &[(FOLLOW_TAG, "true")]),
            syncing,
        ]}))
        .unwrap();
    let version = train(&local.sdk, SOLUTION).await;
    let workflow = FakeWorkflow::default();
    let scope = Scope {
        campaign_name_prefix: "movie-".into(),
        ..scope()
    };
    let report = trigger::handle(
        &services(&FakeStore::default(), &workflow),
        &local.personalize,
        &scope,
        &trained(Some(&version)),
    )
    .await
    .unwrap();
    assert_eq!(campaigns_of(&workflow), vec!["movie-recs"]);
    let notes = report.ignored.join("\n");
    for skipped in [
        "movie-no: not following",
        "movie-caps: not following",
        "movie-sync: syncs",
    ] {
        assert!(notes.contains(skipped), "{skipped}: {notes}");
    }
    // Outside the prefix: not even looked at.
    assert!(!notes.contains("other-recs"), "{notes}");
}

/// The CheckTraining input of a followed campaign's execution for `version`.
fn followed(campaign_arn: &str, version: &str) -> TaskInput {
    let request = personalize_deployer::domain::request::DeploymentRequest::from_value(&json!({
        "campaignName": campaign_arn.rsplit('/').next().unwrap(),
        "solutionVersionArn": version,
    }))
    .unwrap();
    let origin = personalize_deployer::domain::origin::Origin::Follow {
        campaign_arn: campaign_arn.into(),
        solution_version_arn: version.into(),
    };
    TaskInput {
        state: Execution::accept(request, origin),
        execution_arn: Some("arn:aws:states:us-east-1:111122223333:execution:sm:f".into()),
        execution_start_time: Some(Utc::now()),
        check: Check::Training,
        act: Default::default(),
    }
}

/// The training check of a followed campaign's execution for `version`.
async fn check_followed(
    local: &Local,
    campaign_arn: &str,
    version: &str,
) -> personalize_deployer::domain::training::TrainingReport {
    training_check::check(
        &local.personalize,
        &followed(campaign_arn, version),
        &TRAINING_POLICY,
        &SystemClock,
        // No hold: one look.
        chrono::Utc::now(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_campaign_that_stopped_following_while_the_model_trained_is_not_touched() {
    let local = start().await;
    let version = train(&local.sdk, SOLUTION).await;
    let arn = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs";
    local
        .sdk
        .untag_resource()
        .resource_arn(arn)
        .tag_keys(FOLLOW_TAG)
        .send()
        .await
        .unwrap();
    local.advance(4.0 * 3600.0).await;
    let report = check_followed(&local, arn, &version).await;
    assert_eq!(
        (report.outcome, report.ready, report.is_final),
        (Outcome::Rejected, false, true)
    );
    assert!(report.reason.unwrap().contains("not following"));
    // A campaign deleted meanwhile is not created again either.
    let gone = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-gone";
    let report = check_followed(&local, gone, &version).await;
    assert_eq!(report.outcome, Outcome::Rejected);
    assert!(
        report
            .reason
            .unwrap()
            .contains("following never creates a campaign")
    );
    // Still following: deploy it.
    let home = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-home";
    let report = check_followed(&local, home, &version).await;
    assert!(report.ready);
}

#[tokio::test]
async fn an_older_version_whose_training_ends_last_does_not_replace_a_newer_one() {
    let local = start().await;
    let older = train(&local.sdk, SOLUTION).await;
    local.advance(60.0).await;
    let newer = train(&local.sdk, SOLUTION).await;
    local.advance(4.0 * 3600.0).await;
    // The newer one was deployed first (its execution noticed it sooner).
    let arn = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs";
    local
        .sdk
        .update_campaign()
        .campaign_arn(arn)
        .solution_version_arn(&newer)
        .send()
        .await
        .unwrap();
    let report = check_followed(&local, arn, &older).await;
    assert_eq!(
        (report.outcome, report.is_final),
        (Outcome::Superseded, true)
    );
    assert_eq!(report.superseded_by.as_deref(), Some(newer.as_str()));
    // The newer one's own execution goes on.
    let report = check_followed(&local, arn, &newer).await;
    assert!(report.ready);
}

#[tokio::test]
async fn a_version_whose_training_outlasted_its_deadline_is_tried_once_more_when_found_trained() {
    let local = start().await;
    let version = train(&local.sdk, SOLUTION).await;
    let workflow = FakeWorkflow::default();
    handle(&local, &workflow, &trained(Some(&version))).await;
    let first = workflow.names();
    assert_eq!(first.len(), 2);
    // Both executions ended TRAINING_TIMED_OUT; then the training ended.
    for name in &first {
        workflow
            .failures
            .lock()
            .unwrap()
            .insert(name.clone(), "TrainingTimedOut".into());
    }
    local.advance(4.0 * 3600.0).await;
    let look = event("scheduled-follow.json");
    let report = handle(&local, &workflow, &look).await;
    let retried: Vec<&str> = report.executions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(retried.len(), 2);
    assert!(
        retried.iter().all(|n| !first.contains(&n.to_string())),
        "{retried:?}"
    );
    assert!(
        report
            .executions
            .iter()
            .all(|e| e.status == Handled::Started)
    );
    // Once only: the next look meets the retries.
    let report = handle(&local, &workflow, &look).await;
    assert!(all_already_handled(&report));
    assert_eq!(workflow.names().len(), 4);
    // Any other end is not tried again.
    let other = start().await;
    let version = train(&other.sdk, SOLUTION).await;
    let workflow = FakeWorkflow::default();
    handle(&other, &workflow, &trained(Some(&version))).await;
    for name in workflow.names() {
        workflow
            .failures
            .lock()
            .unwrap()
            .insert(name, "DeploymentFailed".into());
    }
    other.advance(4.0 * 3600.0).await;
    let report = handle(&other, &workflow, &look).await;
    assert!(all_already_handled(&report));
    assert_eq!(workflow.names().len(), 2);
}

/// personalize-local, except that the tags of one campaign cannot be read
/// (`kind`).
struct Unreadable<'a> {
    local: &'a Local,
    campaign: &'a str,
    kind: ApiErrorKind,
}

impl Personalize for Unreadable<'_> {
    async fn describe_campaign(&self, arn: &str) -> Result<Option<Campaign>, ApiError> {
        self.local.personalize.describe_campaign(arn).await
    }
    async fn create_campaign(&self, c: &NewCampaign) -> Result<String, ApiError> {
        self.local.personalize.create_campaign(c).await
    }
    async fn update_campaign(&self, c: &CampaignChange) -> Result<(), ApiError> {
        self.local.personalize.update_campaign(c).await
    }
}

impl Catalog for Unreadable<'_> {
    async fn list_campaigns(
        &self,
        solution: Option<&str>,
    ) -> Result<Vec<CampaignSummary>, ApiError> {
        self.local.personalize.list_campaigns(solution).await
    }
    async fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, ApiError> {
        if arn.ends_with(self.campaign) {
            return Err(api_error(self.kind, "AccessDeniedException"));
        }
        self.local.personalize.list_tags(arn).await
    }
    async fn list_solution_versions(
        &self,
        solution: &str,
    ) -> Result<Vec<VersionSummary>, ApiError> {
        self.local
            .personalize
            .list_solution_versions(solution)
            .await
    }
}

#[tokio::test]
async fn a_campaign_that_cannot_be_read_does_not_stop_the_others_unless_it_may_be_read_later() {
    let local = start().await;
    let version = train(&local.sdk, SOLUTION).await;
    let denied = Unreadable {
        local: &local,
        campaign: "/movie-home",
        kind: ApiErrorKind::Other,
    };
    let workflow = FakeWorkflow::default();
    let report = trigger::handle(
        &services(&FakeStore::default(), &workflow),
        &denied,
        &scope(),
        &trained(Some(&version)),
    )
    .await
    .unwrap();
    assert_eq!(campaigns_of(&workflow), vec!["movie-recs"]);
    assert!(
        report
            .ignored
            .iter()
            .any(|n| n.contains("movie-home: could not be read (AccessDeniedException")),
        "{report:?}"
    );
    // Throttled: the event fails, to be delivered again (nothing lost).
    let throttled = Unreadable {
        kind: ApiErrorKind::Throttled,
        ..denied
    };
    let err = trigger::handle(
        &services(&FakeStore::default(), &FakeWorkflow::default()),
        &throttled,
        &scope(),
        &trained(Some(&version)),
    )
    .await
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}
