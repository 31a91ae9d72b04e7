//! Execution names and inputs: deterministic, within Step Functions' rules,
//! distinct for distinct requests.

use std::collections::HashSet;

use crate::support::{manifest, patched};
use personalize_deployer::domain::intake::PlannedExecution;
use personalize_deployer::domain::origin::{ManifestObject, Origin, Sent, Via, execution_name};
use personalize_deployer::domain::request::DeploymentRequest;

fn s3(key: &str, version: Option<&str>, etag: &str, via: Via) -> Origin {
    Origin::S3 {
        object: ManifestObject {
            bucket: "manifests".into(),
            key: key.into(),
            version_id: version.map(str::to_string),
            etag: Some(etag.into()),
            sequencer: Some("0055AED6DCD90281E5".into()),
        },
        via,
    }
}

fn event(id: &str) -> Origin {
    Origin::Event(Sent {
        event_id: id.into(),
        source: "personalize-deployer".into(),
        account: None,
        region: None,
    })
}

fn valid_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[test]
fn the_same_request_always_gets_the_same_name_and_input() {
    let request = manifest("movie-recs.json");
    let origin = s3("m.json", Some("v1"), "e1", Via::S3Notification);
    let a = PlannedExecution::new(Ok(request.clone()), origin.clone(), b"");
    let b = PlannedExecution::new(Ok(request), origin, b"");
    assert_eq!(a, b);
    assert!(a.name.starts_with("movie-recs-"), "{}", a.name);
}

#[test]
fn key_order_and_whitespace_of_the_manifest_do_not_change_name_or_input() {
    let one = br#"{"campaignName":"c1","solutionVersionArn":"arn:aws:personalize:us-east-1:111122223333:solution/s/1a2b3c4d","tags":[{"tagKey":"a","tagValue":"b"}]}"#;
    let two = br#"{ "tags": [ {"tagValue": "b", "tagKey": "a"} ],
                   "solutionVersionArn": "arn:aws:personalize:us-east-1:111122223333:solution/s/1a2b3c4d",
                   "campaignName": "c1" }"#;
    let origin = event("id-1");
    let a = PlannedExecution::new(DeploymentRequest::from_slice(one), origin.clone(), one);
    let b = PlannedExecution::new(DeploymentRequest::from_slice(two), origin, two);
    assert_eq!(a.name, b.name);
    assert_eq!(a.input, b.input);
}

#[test]
fn names_respect_the_charset_and_length_for_any_campaign_name() {
    let long = "x".repeat(63);
    let names = [
        Some("movie-recs"),
        Some(long.as_str()),
        Some("movies with spaces/and:colons"),
        Some("éèà-数据"),
        Some(""),
        None,
    ];
    for campaign in names {
        let name = execution_name(campaign, &event("e"), b"content");
        assert!(valid_name(&name), "{name:?} from {campaign:?}");
    }
    let name = execution_name(Some(&"y".repeat(200)), &event("e"), b"c");
    assert_eq!(name.len(), 80);
    assert_eq!(
        execution_name(None, &event("e"), b"c").split('-').next(),
        Some("request")
    );
}

#[test]
fn distinct_requests_get_distinct_names() {
    let request = manifest("movie-recs.json");
    let other_tps = patched(&request, serde_json::json!({"minProvisionedTPS": 3}));
    let plans = [
        PlannedExecution::new(
            Ok(request.clone()),
            s3("m.json", Some("v1"), "e1", Via::S3Notification),
            b"",
        ),
        PlannedExecution::new(
            Ok(request.clone()),
            s3("m.json", Some("v2"), "e1", Via::S3Notification),
            b"",
        ),
        PlannedExecution::new(
            Ok(request.clone()),
            s3("m.json", None, "e2", Via::S3Notification),
            b"",
        ),
        PlannedExecution::new(
            Ok(request.clone()),
            s3("n.json", Some("v1"), "e1", Via::S3Notification),
            b"",
        ),
        PlannedExecution::new(
            Ok(other_tps.clone()),
            s3("m.json", Some("v1"), "e1", Via::S3Notification),
            b"",
        ),
        PlannedExecution::new(Ok(request.clone()), event("id-1"), b""),
        PlannedExecution::new(Ok(request), event("id-2"), b""),
        PlannedExecution::new(Ok(other_tps), event("id-1"), b""),
    ];
    let names: HashSet<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), plans.len(), "{names:#?}");
}

#[test]
fn the_same_object_announced_by_s3_and_by_eventbridge_gets_one_name() {
    let request = manifest("movie-recs.json");
    let a = PlannedExecution::new(
        Ok(request.clone()),
        s3("m.json", Some("v1"), "e1", Via::S3Notification),
        b"",
    );
    let b = PlannedExecution::new(
        Ok(request),
        s3("m.json", Some("v1"), "\"e1\"", Via::EventBridge),
        b"",
    );
    assert_eq!(a.name, b.name);
}

#[test]
fn rejected_requests_are_named_by_their_raw_content() {
    let origin = event("id-9");
    let bad1 = br#"{"campaignName": "c1"}"#;
    let bad2 = br#"{"campaignName": "c1", "x": 1}"#;
    let a = PlannedExecution::new(DeploymentRequest::from_slice(bad1), origin.clone(), bad1);
    let b = PlannedExecution::new(DeploymentRequest::from_slice(bad2), origin.clone(), bad2);
    let again = PlannedExecution::new(DeploymentRequest::from_slice(bad1), origin, bad1);
    assert!(a.rejected && b.rejected);
    assert_ne!(a.name, b.name);
    assert_eq!(a, again);
    assert!(valid_name(&a.name));
}

#[test]
fn every_planned_input_fits_step_functions_limit() {
    use personalize_deployer::domain::intake::MAX_REQUEST_BYTES;
    let origin = event("id-big");
    // One huge unknown field: its name is cut in the error path.
    let huge_key = format!(r#"{{"{}": 1}}"#, "k".repeat(261_000));
    let p = PlannedExecution::new(
        DeploymentRequest::from_slice(huge_key.as_bytes()),
        origin.clone(),
        huge_key.as_bytes(),
    );
    assert!(p.rejected);
    assert!(p.input.len() < 4096, "{} bytes", p.input.len());
    // Thousands of long, quoted keys in a map.
    let mut map = serde_json::Map::new();
    for i in 0..2_000 {
        map.insert(
            format!("{i}{}", "é".repeat(60)),
            serde_json::json!("x".repeat(40)),
        );
    }
    let body = serde_json::json!({"campaignName": "c", "solutionVersionArn": "arn:aws:personalize:us-east-1:111122223333:solution/s/1a2b3c4d",
                                  "campaignConfig": {"itemExplorationConfig": map}});
    let raw = serde_json::to_vec(&body).unwrap();
    let p = PlannedExecution::new(DeploymentRequest::from_slice(&raw), origin.clone(), &raw);
    assert!(p.rejected && p.input.len() <= MAX_REQUEST_BYTES);
    // A valid request whose input would leave no room for the steps is
    // rejected, not lost: 50 tags of the longest keys and values, in 4-byte
    // characters.
    let tags: Vec<_> = (0..50)
        .map(|i| serde_json::json!({"tagKey": format!("{i:0>2}{}", "𠀀".repeat(126)), "tagValue": "𠀀".repeat(256)}))
        .collect();
    let valid = DeploymentRequest::from_value(&serde_json::json!({
        "campaignName": "c", "solutionVersionArn": "arn:aws:personalize:us-east-1:111122223333:solution/s/1a2b3c4d",
        "tags": tags
    })).unwrap();
    let p = PlannedExecution::new(Ok(valid), origin, b"");
    assert!(p.rejected, "too large to run");
    assert!(p.input.len() <= MAX_REQUEST_BYTES);
    let state: serde_json::Value = serde_json::from_str(&p.input).unwrap();
    assert!(
        state["errors"][0]["rule"]
            .as_str()
            .unwrap()
            .contains("this stack accepts at most 65536"),
        "{state}"
    );
    assert_eq!(state["campaignName"], "c");
}
