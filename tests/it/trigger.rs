//! deploy-trigger: every accepted event shape from `events/`, rejections that
//! are still started (and so notified), idempotent redelivery, unknown shapes.

use crate::support::{
    FakeAlarms, FakePersonalize, FakeStore, FakeWorkflow, all_already_handled, api_error, event,
    event_bytes, services,
};
use personalize_deployer::Error;
use personalize_deployer::domain::execution::Execution;
use personalize_deployer::domain::field::FieldError;
use personalize_deployer::domain::intake::{
    CONCURRENT_REQUESTS, Handled, MANIFEST_MAX_BYTES, TriggerReport,
};
use personalize_deployer::domain::origin::Origin;
use personalize_deployer::domain::request::{DeploymentRequest, Scope};
use personalize_deployer::handlers::trigger;
use personalize_deployer::ports::{ApiError, ApiErrorKind, ObjectStore, Workflow};
use serde_json::{Value, json};

const BUCKET: &str = "personalize-deployer-manifests";

/// deploy-trigger of a stack that admits every request.
async fn handle<S: ObjectStore, W: Workflow>(
    store: &S,
    workflow: &W,
    event: &Value,
) -> Result<TriggerReport, Error> {
    let personalize = FakePersonalize::default();
    trigger::handle(
        &services(store, workflow),
        &personalize,
        &Scope::default(),
        event,
    )
    .await
}

/// deploy-trigger of a stack in account 111122223333 and us-east-1 that
/// deploys only the campaigns named `movie-*`.
async fn handle_scoped(workflow: &FakeWorkflow, event: &Value) -> TriggerReport {
    let scope = Scope {
        account: Some("111122223333".into()),
        region: Some("us-east-1".into()),
        campaign_name_prefix: "movie-".into(),
        ..Scope::default()
    };
    let personalize = FakePersonalize::default();
    trigger::handle(
        &services(&FakeStore::default(), workflow),
        &personalize,
        &scope,
        event,
    )
    .await
    .unwrap()
}

/// What an execution input says, read as the task Lambdas read it.
struct State {
    rejected: bool,
    campaign_name: Option<String>,
    campaign_arn: Option<String>,
    request: Option<DeploymentRequest>,
    errors: Vec<FieldError>,
    origin: Option<Origin>,
}

fn states(workflow: &FakeWorkflow) -> Vec<State> {
    workflow
        .inputs()
        .into_iter()
        .map(|v| {
            let execution: Execution = serde_json::from_value(v).unwrap();
            let accepted = execution.accepted();
            State {
                rejected: matches!(execution, Execution::Rejected(_)),
                campaign_name: execution.campaign_name(),
                campaign_arn: accepted.map(|a| a.request.campaign_arn()),
                request: accepted.map(|a| a.request.clone()),
                errors: match &execution {
                    Execution::Rejected(rejected) => rejected.errors.clone(),
                    _ => Vec::new(),
                },
                origin: execution.origin().cloned(),
            }
        })
        .collect()
}

/// A bucket holding the two manifests of `events/s3-notification.json`.
fn notification_store() -> FakeStore {
    FakeStore::with(&[
        (
            BUCKET,
            "manifests/movie recs=v2.json",
            &event_bytes("manifests/movie-recs.json"),
        ),
        (
            BUCKET,
            "manifests/news+feed.json",
            &event_bytes("manifests/news-feed-latest.json"),
        ),
    ])
}

#[tokio::test]
async fn an_s3_notification_with_two_records_starts_two_executions() {
    let store = notification_store();
    let workflow = FakeWorkflow::default();
    let report = handle(&store, &workflow, &event("s3-notification.json"))
        .await
        .unwrap();

    assert_eq!(report.executions.len(), 2);
    assert!(
        report
            .executions
            .iter()
            .all(|e| e.status == Handled::Started && !e.rejected)
    );
    // The decoded keys were read, at the exact version that was announced.
    let reads = store.reads.lock().unwrap().clone();
    assert_eq!(
        reads,
        vec![
            (
                BUCKET.into(),
                "manifests/movie recs=v2.json".into(),
                Some("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd".into())
            ),
            (
                BUCKET.into(),
                "manifests/news+feed.json".into(),
                Some("9pQ2lmN7Xs0e_tKz1aBcDeFgHiJkLm".into())
            ),
        ]
    );
    let states = states(&workflow);
    assert_eq!(states[0].campaign_name.as_deref(), Some("movie-recs"));
    assert_eq!(
        states[0].campaign_arn.as_deref(),
        Some("arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs")
    );
    assert_eq!(
        states[1].request.as_ref().unwrap().campaign_name().as_str(),
        "news-feed"
    );
    assert!(!states[0].rejected);
    let origin = serde_json::to_value(states[0].origin.as_ref().unwrap()).unwrap();
    assert_eq!(origin["key"], "manifests/movie recs=v2.json");
    assert_eq!(origin["via"], "s3-notification");
}

#[tokio::test]
async fn the_same_event_delivered_twice_starts_one_execution_per_request() {
    let store = notification_store();
    let workflow = FakeWorkflow::default();
    let first = handle(&store, &workflow, &event("s3-notification.json"))
        .await
        .unwrap();
    let second = handle(&store, &workflow, &event("s3-notification.json"))
        .await
        .unwrap();
    assert_eq!(workflow.executions.lock().unwrap().len(), 2);
    assert!(all_already_handled(&second));
    let names = |r: &TriggerReport| -> Vec<String> {
        r.executions.iter().map(|e| e.name.clone()).collect()
    };
    assert_eq!(names(&first), names(&second));
}

#[tokio::test]
async fn an_eventbridge_object_created_event_reads_its_manifest() {
    let store = FakeStore::with(&[(
        BUCKET,
        "manifests/movie-recs.json",
        &event_bytes("manifests/movie-recs.json"),
    )]);
    let workflow = FakeWorkflow::default();
    let report = handle(
        &store,
        &workflow,
        &event("eventbridge-s3-object-created.json"),
    )
    .await
    .unwrap();
    assert_eq!(report.executions.len(), 1);
    assert_eq!(
        report.executions[0].campaign_name.as_deref(),
        Some("movie-recs")
    );
    let state = &states(&workflow)[0];
    let origin = serde_json::to_value(state.origin.as_ref().unwrap()).unwrap();
    assert_eq!(origin["via"], "eventbridge");
    assert_eq!(origin["versionId"], "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e");
    assert_eq!(
        state.request.as_ref().unwrap().min_provisioned_tps(),
        Some(2)
    );
}

#[tokio::test]
async fn an_eventbridge_key_is_read_as_given_then_decoded() {
    // As given: "a+b.json" is a key with a plus sign.
    let mut e = event("eventbridge-s3-object-created.json");
    e["detail"]["object"]["key"] = json!("manifests/a+b.json");
    let store = FakeStore::with(&[(
        BUCKET,
        "manifests/a+b.json",
        &event_bytes("manifests/movie-recs.json"),
    )]);
    let workflow = FakeWorkflow::default();
    let report = handle(&store, &workflow, &e).await.unwrap();
    assert!(!report.executions[0].rejected);
    let reads = store.keys_read();
    assert_eq!(reads, vec!["manifests/a+b.json"]);
    // URL-encoded, should it come so: the decoded key is tried next, and the
    // origin names the object that was read.
    e["detail"]["object"]["key"] = json!("manifests/a%20b.json");
    let store = FakeStore::with(&[(
        BUCKET,
        "manifests/a b.json",
        &event_bytes("manifests/movie-recs.json"),
    )]);
    let workflow = FakeWorkflow::default();
    let report = handle(&store, &workflow, &e).await.unwrap();
    assert!(!report.executions[0].rejected);
    let reads = store.keys_read();
    assert_eq!(reads, vec!["manifests/a%20b.json", "manifests/a b.json"]);
    let origin = serde_json::to_value(states(&workflow)[0].origin.as_ref().unwrap()).unwrap();
    assert_eq!(origin["key"], "manifests/a b.json");
}

#[tokio::test]
async fn a_deployment_requested_event_carries_its_request() {
    let store = FakeStore::default();
    let workflow = FakeWorkflow::default();
    let report = handle(&store, &workflow, &event("deployment-requested.json"))
        .await
        .unwrap();
    assert!(
        store.reads.lock().unwrap().is_empty(),
        "nothing is read from S3"
    );
    assert_eq!(report.executions.len(), 1);
    let state = &states(&workflow)[0];
    let request = state.request.as_ref().unwrap();
    assert_eq!(request.solution_version_arn(), crate::support::SV2);
    let origin = serde_json::to_value(state.origin.as_ref().unwrap()).unwrap();
    assert_eq!(
        origin,
        json!({
            "type": "event", "eventId": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "source": "personalize-deployer", "account": "111122223333", "region": "us-east-1"
        })
    );
}

#[tokio::test]
async fn an_invalid_manifest_still_starts_an_execution_marked_rejected_with_every_reason() {
    let mut e = event("eventbridge-s3-object-created.json");
    e["detail"]["object"]["key"] = json!("manifests/invalid.json");
    let store = FakeStore::with(&[(
        BUCKET,
        "manifests/invalid.json",
        &event_bytes("manifests/invalid.json"),
    )]);
    let workflow = FakeWorkflow::default();
    let report = handle(&store, &workflow, &e).await.unwrap();
    assert_eq!(report.executions.len(), 1);
    assert!(report.executions[0].rejected);
    let state = &states(&workflow)[0];
    assert!(state.rejected);
    assert!(state.request.is_none());
    assert_eq!(state.errors.len(), 10);
    assert_eq!(state.campaign_name.as_deref(), Some("-movie recs"));
    // The input the state machine's Choice reads always has `rejected`.
    assert_eq!(workflow.inputs()[0]["rejected"], json!(true));
}

#[tokio::test]
async fn an_invalid_request_event_is_rejected_not_dropped() {
    let mut e = event("deployment-requested.json");
    e["detail"] = json!({"campaignName": "movie-recs", "minProvisionedTPS": 0});
    let workflow = FakeWorkflow::default();
    handle(&FakeStore::default(), &workflow, &e).await.unwrap();
    let state = &states(&workflow)[0];
    assert!(state.rejected);
    let fields: Vec<&str> = state.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["solutionVersionArn", "minProvisionedTPS"]);
}

#[tokio::test]
async fn a_missing_manifest_is_rejected() {
    let workflow = FakeWorkflow::default();
    handle(
        &FakeStore::default(),
        &workflow,
        &event("eventbridge-s3-object-created.json"),
    )
    .await
    .unwrap();
    let state = &states(&workflow)[0];
    assert!(state.rejected);
    assert_eq!(state.errors[0].field, "manifest");
    assert!(
        state.errors[0].rule.contains("does not exist"),
        "{}",
        state.errors[0].rule
    );
}

#[tokio::test]
async fn a_manifest_over_256_kib_is_refused_without_reading_it() {
    let mut e = event("eventbridge-s3-object-created.json");
    e["detail"]["object"]["size"] = json!(MANIFEST_MAX_BYTES + 1);
    let store = FakeStore::default();
    let workflow = FakeWorkflow::default();
    handle(&store, &workflow, &e).await.unwrap();
    assert!(store.reads.lock().unwrap().is_empty());
    let state = &states(&workflow)[0];
    assert!(state.rejected);
    assert!(
        state.errors[0]
            .rule
            .contains("is 262145 bytes; a manifest may be at most 262144 bytes")
    );
}

#[tokio::test]
async fn a_manifest_larger_than_announced_is_refused_too() {
    let big = vec![b' '; MANIFEST_MAX_BYTES as usize + 10];
    let store = FakeStore::with(&[(BUCKET, "manifests/movie-recs.json", &big)]);
    let workflow = FakeWorkflow::default();
    handle(
        &store,
        &workflow,
        &event("eventbridge-s3-object-created.json"),
    )
    .await
    .unwrap();
    assert!(states(&workflow)[0].errors[0].rule.contains("262154 bytes"));
}

#[tokio::test]
async fn records_other_than_object_created_are_ignored() {
    let mut e = event("s3-notification.json");
    e["Records"][1]["eventName"] = json!("ObjectRemoved:Delete");
    let store = FakeStore::with(&[(
        BUCKET,
        "manifests/movie recs=v2.json",
        &event_bytes("manifests/movie-recs.json"),
    )]);
    let workflow = FakeWorkflow::default();
    let report = handle(&store, &workflow, &e).await.unwrap();
    assert_eq!(report.executions.len(), 1);
    assert_eq!(report.ignored.len(), 1);
    assert!(report.ignored[0].contains("ObjectRemoved:Delete"));
}

#[tokio::test]
async fn the_s3_test_event_is_ignored() {
    let e = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-22T10:00:00Z",
                   "Bucket": BUCKET, "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"});
    let workflow = FakeWorkflow::default();
    let report = handle(&FakeStore::default(), &workflow, &e).await.unwrap();
    assert!(report.executions.is_empty());
    assert_eq!(report.ignored, vec!["s3:TestEvent"]);
}

#[tokio::test]
async fn unknown_event_shapes_are_clear_errors() {
    let cases = [
        (json!({"hello": "world"}), "unknown shape (keys: hello)"),
        (json!([1, 2]), "not a JSON object"),
        (
            json!({"Records": "nope"}),
            "\"Records\" is not a list of records",
        ),
        (
            json!({"Records": [{"eventSource": "aws:sqs", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}),
            "Records[0] has eventSource \"aws:sqs\"",
        ),
        (
            json!({"Records": [{"eventSource": "aws:s3"}]}),
            "Records[0] is not an S3 event record",
        ),
        (
            json!({"Records": [null]}),
            "Records[0] is not an S3 event record (invalid type: null",
        ),
        (
            json!({"Records": [{"eventSource": 7}]}),
            "Records[0] has eventSource 7, not \"aws:s3\"",
        ),
        (
            json!({"id": "1", "detail-type": "Object Deleted", "source": "aws.s3", "detail": {}}),
            "from \"aws.s3\" with detail-type \"Object Deleted\" are not handled",
        ),
        (
            json!({"detail-type": "Campaign Deployment Requested", "source": "personalize-deployer", "detail": {}}),
            "has no id",
        ),
    ];
    for (e, expected) in cases {
        let err = handle(&FakeStore::default(), &FakeWorkflow::default(), &e)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnsupportedEvent(_)), "{err}");
        assert_eq!(err.error_type(), "UnsupportedEvent");
        let text = err.to_string();
        assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        assert!(text.contains("deploy-trigger accepts"), "{text}");
    }
}

#[tokio::test]
async fn a_record_without_what_s3_always_sends_is_refused_naming_it() {
    for (member, named) in [
        ("eventTime", "missing field `eventTime`"),
        ("userIdentity", "missing field `userIdentity`"),
        ("requestParameters", "missing field `requestParameters`"),
        ("s3", "missing field `s3`"),
    ] {
        let mut e = event("s3-notification.json");
        e["Records"][1].as_object_mut().unwrap().remove(member);
        let err = handle(&notification_store(), &FakeWorkflow::default(), &e)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "UnsupportedEvent");
        let text = err.to_string();
        assert!(
            text.contains(&format!("Records[1] is not an S3 event record ({named})")),
            "{text}"
        );
    }
    // Deeper down, the member is named by its path in the record.
    let mut e = event("s3-notification.json");
    e["Records"][0]["s3"]
        .as_object_mut()
        .unwrap()
        .remove("bucket");
    let err = handle(&notification_store(), &FakeWorkflow::default(), &e)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Records[0] is not an S3 event record (s3: missing field `bucket`)"),
        "{err}"
    );
    // The types leave the object key optional; a request needs it.
    let mut e = event("s3-notification.json");
    e["Records"][0]["s3"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("key");
    let err = handle(&notification_store(), &FakeWorkflow::default(), &e)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Records[0] names no object"),
        "{err}"
    );
}

#[tokio::test]
async fn a_failing_record_does_not_stop_the_others_and_the_event_fails_for_a_retry() {
    let store = notification_store();
    let workflow = FakeWorkflow::default();
    *workflow.fail_names_containing.lock().unwrap() = Some("movie-recs".into());
    let err = handle(&store, &workflow, &event("s3-notification.json"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::TriggerFailed {
                failed: 1,
                total: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retryable());
    assert_eq!(workflow.names().len(), 1, "the other request was started");
    // The retry starts the missing one and finds the other already handled.
    *workflow.fail_names_containing.lock().unwrap() = None;
    let report = handle(&store, &workflow, &event("s3-notification.json"))
        .await
        .unwrap();
    let statuses: Vec<Handled> = report.executions.iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![Handled::Started, Handled::AlreadyHandled]);
}

#[tokio::test]
async fn a_transient_s3_failure_is_an_error_not_a_rejection() {
    let store = FakeStore::default();
    *store.fail_with.lock().unwrap() = Some(api_error(ApiErrorKind::Unavailable, "InternalError"));
    let workflow = FakeWorkflow::default();
    let err = handle(
        &store,
        &workflow,
        &event("eventbridge-s3-object-created.json"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("InternalError"), "{err}");
    assert!(workflow.names().is_empty());
}

#[tokio::test]
async fn a_manifest_that_may_not_be_read_is_a_rejected_request_not_a_dead_letter() {
    // A customer-managed KMS key whose policy leaves deploy-trigger out: S3
    // answers AccessDenied, which no retry passes.
    let store = FakeStore::default();
    *store.fail_with.lock().unwrap() = Some(ApiError::new(
        ApiErrorKind::Other,
        "AccessDenied",
        "User is not authorized to perform: kms:Decrypt (request 1)",
    ));
    let workflow = FakeWorkflow::default();
    let e = event("eventbridge-s3-object-created.json");
    handle(&store, &workflow, &e).await.unwrap();
    let state = &states(&workflow)[0];
    assert!(state.rejected);
    assert_eq!(state.errors[0].field, "manifest");
    let rule = &state.errors[0].rule;
    assert!(rule.contains("could not be read: AccessDenied"), "{rule}");
    assert!(rule.contains("kms:Decrypt"), "{rule}");
    assert!(rule.contains("key policy"), "{rule}");
    // Delivered again, with another request id in the message: the same
    // execution, so one notification.
    *store.fail_with.lock().unwrap() = Some(ApiError::new(
        ApiErrorKind::Other,
        "AccessDenied",
        "User is not authorized to perform: kms:Decrypt (request 2)",
    ));
    let report = handle(&store, &workflow, &e).await.unwrap();
    assert_eq!(report.executions[0].status, Handled::AlreadyHandled);
    assert_eq!(workflow.names().len(), 1);
    // What may pass is retried, not rejected: KMS throttling passed on by
    // S3, credentials that expired.
    for (kind, code) in [
        (ApiErrorKind::Throttled, "KMS.ThrottlingException"),
        (ApiErrorKind::Other, "ExpiredToken"),
    ] {
        *store.fail_with.lock().unwrap() = Some(ApiError::new(kind, code, "try again"));
        let other = FakeWorkflow::default();
        assert!(handle(&store, &other, &e).await.is_err(), "{code}");
        assert!(other.names().is_empty(), "{code}");
    }
}

#[tokio::test]
async fn a_key_denied_as_given_is_read_decoded_before_anything_is_rejected() {
    // Without the right to list the bucket, S3 answers a missing key 403:
    // the URL-encoded key is denied, the decoded one is read.
    let mut e = event("eventbridge-s3-object-created.json");
    e["detail"]["object"]["key"] = json!("manifests/a%20b.json");
    let store = FakeStore::with(&[(
        BUCKET,
        "manifests/a b.json",
        &event_bytes("manifests/movie-recs.json"),
    )]);
    store
        .denied_keys
        .lock()
        .unwrap()
        .push("manifests/a%20b.json".into());
    let workflow = FakeWorkflow::default();
    let report = handle(&store, &workflow, &e).await.unwrap();
    assert!(!report.executions[0].rejected);
    assert_eq!(
        store.keys_read(),
        vec!["manifests/a%20b.json", "manifests/a b.json"]
    );
    // Both denied: rejected, saying it may be missing or unreadable.
    let store = FakeStore::default();
    store
        .denied_keys
        .lock()
        .unwrap()
        .extend(["manifests/a%20b.json".into(), "manifests/a b.json".into()]);
    let workflow = FakeWorkflow::default();
    handle(&store, &workflow, &e).await.unwrap();
    let state = &states(&workflow)[0];
    assert!(state.rejected);
    let rule = &state.errors[0].rule;
    assert!(
        rule.contains("(or manifests/a b.json) could not be read: AccessDenied"),
        "{rule}"
    );
    assert!(
        rule.contains("either it does not exist, or deploy-trigger may not read it"),
        "{rule}"
    );
}

#[tokio::test]
async fn a_huge_invalid_manifest_still_fits_an_execution_input() {
    let mut body = serde_json::Map::new();
    body.insert("campaignName".into(), json!("n".repeat(100_000)));
    for i in 0..5_000 {
        body.insert(format!("unknownField{i}"), json!(i));
    }
    let body = serde_json::to_vec(&body).unwrap();
    assert!(body.len() as u64 <= MANIFEST_MAX_BYTES);
    let store = FakeStore::with(&[(BUCKET, "manifests/movie-recs.json", &body)]);
    let workflow = FakeWorkflow::default();
    handle(
        &store,
        &workflow,
        &event("eventbridge-s3-object-created.json"),
    )
    .await
    .unwrap();
    let (name, input) = workflow.executions.lock().unwrap()[0].clone();
    assert!(input.len() < 64 * 1024, "input is {} bytes", input.len());
    assert!(name.len() <= 80);
    let state = &states(&workflow)[0];
    assert_eq!(state.errors.len(), 50);
    assert_eq!(state.errors[49].rule, "has 4953 more errors, not listed");
    assert_eq!(state.campaign_name.as_ref().unwrap().len(), 100);
}

#[tokio::test]
async fn a_key_that_does_not_decode_is_used_as_given_and_does_not_stop_the_others() {
    let mut e = event("s3-notification.json");
    e["Records"][0]["s3"]["object"]["key"] = json!("manifests/bad%FF.json");
    let workflow = FakeWorkflow::default();
    let report = handle(&notification_store(), &workflow, &e).await.unwrap();
    assert_eq!(report.executions.len(), 2);
    let states = states(&workflow);
    assert!(states[0].rejected);
    assert!(
        states[0].errors[0].rule.contains(
            "s3://personalize-deployer-manifests/manifests/bad%FF.json could not be read"
        )
    );
    assert!(!states[1].rejected);
}

#[tokio::test]
async fn the_same_upload_announced_by_s3_and_by_eventbridge_is_one_execution() {
    let mut notification = event("s3-notification.json");
    let bridge = event("eventbridge-s3-object-created.json");
    let records = notification["Records"].as_array_mut().unwrap();
    records.truncate(1);
    let object = &mut records[0]["s3"]["object"];
    object["key"] = bridge["detail"]["object"]["key"].clone();
    object["eTag"] = bridge["detail"]["object"]["etag"].clone();
    object["versionId"] = bridge["detail"]["object"]["version-id"].clone();
    object["sequencer"] = bridge["detail"]["object"]["sequencer"].clone();
    let store = FakeStore::with(&[(
        BUCKET,
        "manifests/movie-recs.json",
        &event_bytes("manifests/movie-recs.json"),
    )]);
    let workflow = FakeWorkflow::default();
    let first = handle(&store, &workflow, &notification).await.unwrap();
    let second = handle(&store, &workflow, &bridge).await.unwrap();
    assert_eq!(first.executions[0].name, second.executions[0].name);
    assert_eq!(second.executions[0].status, Handled::AlreadyHandled);
}

#[tokio::test]
async fn permanent_start_failures_are_not_worth_retrying() {
    struct Refusing;
    impl personalize_deployer::ports::Workflow for Refusing {
        async fn start_execution(
            &self,
            _: &str,
            _: &str,
        ) -> Result<personalize_deployer::ports::Started, personalize_deployer::ports::ApiError>
        {
            Err(api_error(
                ApiErrorKind::NotFound,
                "StateMachineDoesNotExist",
            ))
        }

        async fn failure_of(
            &self,
            _: &str,
        ) -> Result<Option<String>, personalize_deployer::ports::ApiError> {
            Ok(None)
        }
    }
    let err = handle(
        &FakeStore::default(),
        &Refusing,
        &event("deployment-requested.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "TriggerFailed");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("StateMachineDoesNotExist"),
        "{err}"
    );
}

/// A Step Functions fake whose StartExecution takes a while, counting how
/// many calls are in flight at once.
#[derive(Default)]
struct SlowWorkflow {
    inner: FakeWorkflow,
    in_flight: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

impl personalize_deployer::ports::Workflow for SlowWorkflow {
    async fn start_execution(
        &self,
        name: &str,
        input: &str,
    ) -> Result<personalize_deployer::ports::Started, personalize_deployer::ports::ApiError> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.peak.fetch_max(now, SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.in_flight.fetch_sub(1, SeqCst);
        self.inner.start_execution(name, input).await
    }

    async fn failure_of(
        &self,
        name: &str,
    ) -> Result<Option<String>, personalize_deployer::ports::ApiError> {
        self.inner.failure_of(name).await
    }
}

#[tokio::test]
async fn the_records_of_a_large_event_are_started_concurrently_and_reported_in_order() {
    let names: Vec<String> = (0..30).map(|n| format!("recs-{n:02}")).collect();
    let manifests: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|name| {
            let mut body: serde_json::Value =
                serde_json::from_slice(&event_bytes("manifests/movie-recs.json")).unwrap();
            body["campaignName"] = json!(name);
            (
                format!("manifests/{name}.json"),
                body.to_string().into_bytes(),
            )
        })
        .collect();
    let objects: Vec<(&str, &str, &[u8])> = manifests
        .iter()
        .map(|(key, body)| (BUCKET, key.as_str(), body.as_slice()))
        .collect();
    let store = FakeStore::with(&objects);
    let sample = event("s3-notification.json");
    let records: Vec<serde_json::Value> = names
        .iter()
        .map(|name| {
            let mut record = sample["Records"][0].clone();
            record["s3"]["object"]["key"] = json!(format!("manifests/{name}.json"));
            record["s3"]["object"]
                .as_object_mut()
                .unwrap()
                .remove("versionId");
            record
        })
        .collect();
    let workflow = SlowWorkflow::default();

    let report = handle(&store, &workflow, &json!({ "Records": records }))
        .await
        .unwrap();

    let reported: Vec<_> = report
        .executions
        .iter()
        .map(|e| e.campaign_name.clone().unwrap())
        .collect();
    assert_eq!(reported, names, "reported in the event's order");
    assert!(
        report
            .executions
            .iter()
            .all(|e| e.status == Handled::Started)
    );
    assert_eq!(workflow.inner.executions.lock().unwrap().len(), 30);
    assert_eq!(
        workflow.peak.load(std::sync::atomic::Ordering::SeqCst),
        CONCURRENT_REQUESTS,
        "at most {CONCURRENT_REQUESTS} requests in flight, and that many used"
    );
}

#[tokio::test]
async fn requests_outside_the_stack_are_rejected_up_front_naming_why() {
    let workflow = FakeWorkflow::default();
    // Within the scope: started as a deployment.
    let report = handle_scoped(&workflow, &event("deployment-requested.json")).await;
    assert!(!report.executions[0].rejected);

    let mut other = event("deployment-requested.json");
    other["id"] = json!("b0b0b0b0-0000-4000-8000-000000000001");
    other["detail"]["campaignName"] = json!("news-feed");
    other["detail"]["solutionVersionArn"] =
        json!("arn:aws:personalize:eu-west-1:444455556666:solution/movies/5e6f7a8b");
    let report = handle_scoped(&workflow, &other).await;
    assert!(report.executions[0].rejected);

    let mut foreign = event("deployment-requested.json");
    foreign["id"] = json!("b0b0b0b0-0000-4000-8000-000000000002");
    foreign["account"] = json!("999988887777");
    let report = handle_scoped(&workflow, &foreign).await;
    assert!(report.executions[0].rejected);

    let states = states(&workflow);
    let reasons = |state: &State| {
        state
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        reasons(&states[1]),
        vec![
            "campaignName: must start with \"movie-\": this stack deploys only the campaigns \
             whose names start with it",
            "solutionVersionArn: is in region eu-west-1 of account 444455556666; this stack \
             deploys only in region us-east-1 of account 111122223333",
        ]
    );
    // Still attributed, so that the rejection is notified for the campaign.
    assert_eq!(states[1].campaign_name.as_deref(), Some("news-feed"));
    assert_eq!(
        reasons(&states[2]),
        vec![
            "(event).account: is 999988887777; this stack accepts deployment requests only \
             from its own account 111122223333"
        ]
    );
}

#[tokio::test]
async fn a_request_whose_watch_names_a_missing_alarm_is_rejected_naming_it() {
    use personalize_deployer::domain::alarm::AlarmValue;
    use personalize_deployer::domain::intake::Services;
    let workflow = FakeWorkflow::default();
    let alarms = FakeAlarms::with(vec![crate::support::alarm(
        "recs-ctr",
        AlarmValue::Ok,
        crate::support::t(0),
    )]);
    let mut event = event("deployment-requested.json");
    event["detail"]["watch"] = json!({"alarms": ["recs-ctr", "recs-{campaign}-5xx"]});
    let services = Services {
        store: &FakeStore::default(),
        alarms: &alarms,
        workflow: &workflow,
    };
    let personalize = FakePersonalize::default();
    let report = trigger::handle(&services, &personalize, &Scope::default(), &event)
        .await
        .unwrap();
    assert!(report.executions[0].rejected);
    let [state] = &states(&workflow)[..] else {
        panic!("one execution")
    };
    assert_eq!(
        state.errors,
        vec![FieldError::new(
            "watch.alarms[1]",
            "names no CloudWatch alarm in this account and region: \"recs-movie-recs-5xx\" \
             (the request's watch, or its campaign's watch tags)"
        )]
    );
    assert_eq!(
        alarms.calls.lock().unwrap()[0],
        vec!["recs-ctr".to_string(), "recs-movie-recs-5xx".to_string()]
    );
    // When every alarm exists, the request is accepted, its watch in the
    // execution's input.
    let workflow = FakeWorkflow::default();
    let alarms = FakeAlarms::with(vec![
        crate::support::alarm("recs-ctr", AlarmValue::Ok, crate::support::t(0)),
        crate::support::alarm(
            "recs-movie-recs-5xx",
            AlarmValue::Alarm,
            crate::support::t(0),
        ),
    ]);
    let services = Services {
        store: &FakeStore::default(),
        alarms: &alarms,
        workflow: &workflow,
    };
    let report = trigger::handle(&services, &personalize, &Scope::default(), &event)
        .await
        .unwrap();
    assert!(!report.executions[0].rejected);
}

#[tokio::test]
async fn alarms_that_cannot_be_read_fail_the_event_for_a_retry_not_the_request() {
    use personalize_deployer::domain::intake::Services;
    let workflow = FakeWorkflow::default();
    let alarms = FakeAlarms::answering(vec![Err(api_error(
        ApiErrorKind::Unavailable,
        "InternalFailure",
    ))]);
    let mut event = event("deployment-requested.json");
    event["detail"]["watch"] = json!({"alarms": ["recs-ctr"]});
    let services = Services {
        store: &FakeStore::default(),
        alarms: &alarms,
        workflow: &workflow,
    };
    let err = trigger::handle(
        &services,
        &FakePersonalize::default(),
        &Scope::default(),
        &event,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "TriggerFailed");
    assert!(err.is_retryable());
    assert!(states(&workflow).is_empty(), "nothing started");
}

#[tokio::test]
async fn the_stacks_own_watch_does_not_refuse_a_request_whose_alarm_does_not_exist() {
    use personalize_deployer::domain::intake::Services;
    use personalize_deployer::domain::watch::WatchDefaults;
    // E.g. a create, which is never watched: its campaign's alarm is made
    // with it. The watch itself reports alarms it cannot find.
    let workflow = FakeWorkflow::default();
    let alarms = FakeAlarms::default();
    let scope = Scope {
        watch: WatchDefaults {
            alarms: vec!["recs-{campaign}-5xx".into()],
            minutes: 60,
        },
        ..Scope::default()
    };
    let services = Services {
        store: &FakeStore::default(),
        alarms: &alarms,
        workflow: &workflow,
    };
    let event = event("deployment-requested.json");
    let report = trigger::handle(&services, &FakePersonalize::default(), &scope, &event)
        .await
        .unwrap();
    assert!(!report.executions[0].rejected);
    assert!(alarms.calls.lock().unwrap().is_empty(), "not read");
    let [state] = &states(&workflow)[..] else {
        panic!("one execution")
    };
    let watch = state.request.as_ref().unwrap().watch().unwrap();
    assert_eq!(watch.alarms, vec!["recs-movie-recs-5xx".to_string()]);
}
