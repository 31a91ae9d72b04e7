//! deploy-trigger following solutions, against personalize-local: the
//! CloudTrail event of a CreateSolutionVersion call and the scheduled look
//! each start one execution per campaign that opted in, and meet on the same
//! execution for the same version.

use crate::support::local::{Local, SOLUTION, train};
use crate::support::{FakeStore, FakeWorkflow, event};
use personalize_deployer::domain::follow::{FOLLOW_TAG, GATE_TAGS};
use personalize_deployer::domain::intake::{ExecutionStatus, TriggerReport};
use personalize_deployer::domain::request::Scope;
use personalize_deployer::handlers::trigger;
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
            campaign("movie-home", &[(FOLLOW_TAG, "true"), (GATE_TAGS[0].0, "coverage"),
                                     (GATE_TAGS[3].0, "0.1")]),
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
        &FakeStore::default(),
        workflow,
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
        .map(|i| i["campaignName"].as_str().unwrap().to_string())
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
            .all(|e| e.status == ExecutionStatus::Started && !e.rejected)
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
        // The new version, with the campaign's TPS; the gate of its tags.
        assert_eq!(request["solutionVersionArn"], json!(version));
        assert_eq!(request["minProvisionedTPS"], json!(3));
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
    assert!(
        again
            .executions
            .iter()
            .all(|e| e.status == ExecutionStatus::AlreadyHandled)
    );
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
    // Automatic training makes a version with no call; once ACTIVE the look
    // finds it.
    let automatic = local.server.auto_train(SOLUTION).unwrap();
    handle(&local, &workflow, &schedule).await;
    assert!(workflow.inputs().is_empty(), "not while it trains");
    local.advance(4.0 * 3600.0).await;
    handle(&local, &workflow, &schedule).await;
    assert_eq!(campaigns_of(&workflow), vec!["movie-home", "movie-recs"]);
    assert!(
        workflow
            .inputs()
            .iter()
            .all(|i| i["request"]["solutionVersionArn"] == json!(automatic))
    );
    // A version the CloudTrail path started is the same execution.
    let manual = train(&local.sdk, SOLUTION).await;
    let by_event = FakeWorkflow::default();
    handle(&local, &by_event, &trained(Some(&manual))).await;
    local.advance(4.0 * 3600.0).await;
    let names_by_event = by_event.names();
    let report = handle(&local, &by_event, &schedule).await;
    assert_eq!(by_event.names(), names_by_event, "nothing new");
    assert_eq!(report.executions.len(), 2);
    assert!(
        report
            .executions
            .iter()
            .all(|e| e.status == ExecutionStatus::AlreadyHandled)
    );
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
            (GATE_TAGS[0].0, "coverage"), (GATE_TAGS[1].0, "a lot"), (GATE_TAGS[2].0, "2")])]}),
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
