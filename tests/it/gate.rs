//! The metric gate: its validation in a request and in the stack's default,
//! and its check just before the create or update (nothing written when it
//! fails).

use crate::support::*;
use personalize_deployer::domain::gate::Gate;
use personalize_deployer::domain::outcome::Operation;
use personalize_deployer::domain::request::{DeploymentRequest, Scope};
use serde_json::{Value, json};

const NDCG: &str = "normalized_discounted_cumulative_gain_at_10";

fn request_with(gate: Value) -> Value {
    json!({"campaignName": "movie-recs", "solutionVersionArn": SV2, "gate": gate})
}

fn errors(v: &Value) -> Vec<(String, String)> {
    match DeploymentRequest::from_value(v) {
        Ok(_) => Vec::new(),
        Err(r) => r.errors.into_iter().map(|e| (e.field, e.rule)).collect(),
    }
}

fn default_gate() -> Gate {
    Gate {
        metric: "coverage".into(),
        max_drop: None,
        max_relative_drop: None,
        min_value: Some(0.1),
    }
}

#[test]
fn a_gate_names_a_metric_and_thresholds_and_every_mistake_is_named() {
    let ok = DeploymentRequest::from_value(&request_with(
        json!({"metric": NDCG, "maxDrop": 0.02, "maxRelativeDrop": 0.05, "minValue": 0.2}),
    ))
    .unwrap();
    let gate = ok.gate().unwrap();
    assert_eq!(
        (
            gate.metric.as_str(),
            gate.max_drop,
            gate.max_relative_drop,
            gate.min_value
        ),
        (NDCG, Some(0.02), Some(0.05), Some(0.2))
    );
    let e = errors(&request_with(
        json!({"metric": "", "maxDrop": -1, "maxRelativeDrop": 1.5, "threshold": 3}),
    ));
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "gate.threshold",
            "gate.metric",
            "gate.maxDrop",
            "gate.maxRelativeDrop"
        ],
        "{e:?}"
    );
    assert!(e[0].1.contains("not a known field"), "{e:?}");
    assert!(e[1].1.contains("1 to 256 characters"), "{e:?}");
    assert!(e[2].1.contains("0 or more"), "{e:?}");
    assert!(e[3].1.contains("from 0 to 1"), "{e:?}");
    // Wrong types, a gate without thresholds, a word other than "none".
    let e = errors(&request_with(json!({"metric": NDCG, "minValue": "high"})));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "gate.minValue");
    assert!(e[0].1.contains("must be a number, not the string \"high\""));
    let e = errors(&request_with(json!({"metric": NDCG})));
    assert_eq!(e[0].0, "gate");
    assert!(e[0].1.contains("at least one threshold"), "{e:?}");
    let e = errors(&request_with(json!("off")));
    assert_eq!(e[0].0, "gate");
    assert!(e[0].1.contains("or the string \"none\""), "{e:?}");
    let e = errors(&request_with(json!({"maxDrop": 0.1})));
    assert_eq!(e, vec![("gate.metric".into(), "is required".into())]);
}

#[test]
fn the_stack_default_applies_unless_the_request_has_its_own_or_says_none() {
    let scope = Scope {
        default_gate: Some(default_gate()),
        ..Scope::default()
    };
    let read = |v: Value| DeploymentRequest::from_value_within(&v, &scope).unwrap();
    let plain = json!({"campaignName": "movie-recs", "solutionVersionArn": SV2});
    assert_eq!(read(plain.clone()).gate(), Some(&default_gate()));
    let mut explicit_null = plain.clone();
    explicit_null["gate"] = Value::Null;
    assert_eq!(read(explicit_null).gate(), Some(&default_gate()));
    assert_eq!(read(request_with(json!("none"))).gate(), None);
    let own = read(request_with(json!({"metric": NDCG, "maxDrop": 0.0})));
    assert_eq!(own.gate().unwrap().metric, NDCG);
    // The effective gate is part of the execution's input.
    assert!(
        read(plain)
            .canonical_json()
            .contains("\"gate\":{\"metric\":\"coverage\"")
    );
    // A $LATEST request has no default gate, and may not carry one.
    let latest = json!({
        "campaignName": "movie-recs",
        "solutionVersionArn": "arn:aws:personalize:us-east-1:111122223333:solution/movies/$LATEST",
        "campaignConfig": {"syncWithLatestSolutionVersion": true}
    });
    assert_eq!(read(latest.clone()).gate(), None);
    let mut gated_latest = latest;
    gated_latest["gate"] = json!({"metric": NDCG, "minValue": 0.1});
    let e = errors(&gated_latest);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].1.contains("/$LATEST"), "{e:?}");
}

fn gated(gate: Value) -> DeploymentRequest {
    DeploymentRequest::from_value(&json!({
        "campaignName": "movie-recs", "solutionVersionArn": SV2, "minProvisionedTPS": 2,
        "gate": gate
    }))
    .unwrap()
}

#[tokio::test]
async fn a_worse_model_is_not_written_and_the_verdict_says_why() {
    let served = active_campaign(&request_for_version(SV1));
    let fake = FakePersonalize::describing(vec![Ok(Some(served))])
        .with_metrics(SV1, &[(NDCG, 0.30), ("coverage", 0.5)])
        .with_metrics(SV2, &[(NDCG, 0.25), ("coverage", 0.6)]);
    let r = gated(json!({"metric": NDCG, "maxDrop": 0.02}));
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::None);
    assert!(d.gated());
    let gate = d.gate.unwrap();
    assert_eq!((gate.candidate, gate.current), (Some(0.25), Some(0.30)));
    assert_eq!(gate.max_drop, Some(0.02));
    assert!(
        gate.reason
            .as_deref()
            .unwrap()
            .contains("dropped by 0.05 from 0.3"),
        "{gate:?}"
    );
    assert_eq!(d.previous_solution_version_arn.as_deref(), Some(SV1));
    assert!(
        fake.calls().iter().all(|c| !c.starts_with("update")),
        "{:?}",
        fake.calls()
    );
    assert!(fake.updated.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_model_within_the_gate_is_deployed_with_both_values_reported() {
    let served = active_campaign(&request_for_version(SV1));
    let fake = FakePersonalize::describing(vec![Ok(Some(served))])
        .with_metrics(SV1, &[(NDCG, 0.30)])
        .with_metrics(SV2, &[(NDCG, 0.29)]);
    let r = gated(json!({"metric": NDCG, "maxDrop": 0.02}));
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::Update);
    let gate = d.gate.unwrap();
    assert!(gate.passed && gate.reason.is_none());
    assert_eq!((gate.candidate, gate.current), (Some(0.29), Some(0.30)));
    assert_eq!(fake.updated.lock().unwrap().len(), 1);
    // The gate is checked before the write.
    let calls = fake.calls();
    let metrics = calls.iter().position(|c| c.starts_with("metrics")).unwrap();
    let update = calls.iter().position(|c| c.starts_with("update")).unwrap();
    assert!(metrics < update, "{calls:?}");
}

#[tokio::test]
async fn a_new_campaign_is_held_to_the_minimum_only() {
    let fake = FakePersonalize::describing(vec![Ok(None)]).with_metrics(SV2, &[(NDCG, 0.1)]);
    let r = gated(json!({"metric": NDCG, "maxDrop": 0.0, "minValue": 0.2}));
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::None);
    let gate = d.gate.unwrap();
    assert_eq!((gate.candidate, gate.current), (Some(0.1), None));
    assert!(gate.reason.unwrap().contains("below the minimum 0.2"));
    assert!(fake.created.lock().unwrap().is_empty());

    let fake = FakePersonalize::describing(vec![Ok(None)]).with_metrics(SV2, &[(NDCG, 0.21)]);
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::Create);
    assert!(d.gate.unwrap().passed);
}

#[tokio::test]
async fn a_metric_a_version_lacks_holds_it_back_naming_those_that_exist() {
    let served = active_campaign(&request_for_version(SV1));
    let fake = FakePersonalize::describing(vec![Ok(Some(served))])
        .with_metrics(SV1, &[("coverage", 0.5)])
        .with_metrics(SV2, &[(NDCG, 0.3), ("coverage", 0.6)]);
    let r = gated(json!({"metric": NDCG, "maxRelativeDrop": 0.1}));
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::None);
    let gate = d.gate.unwrap();
    // The candidate's value is still shown.
    assert_eq!((gate.candidate, gate.current), (Some(0.3), None));
    assert_eq!(
        gate.reason.as_deref().unwrap(),
        format!("the current version reports no metric {NDCG:?}; it reports: coverage")
    );
}

#[tokio::test]
async fn a_configuration_change_of_the_served_version_is_not_gated() {
    let mut served = active_campaign(&request_for_version(SV2));
    served.min_provisioned_tps = Some(1);
    let fake = FakePersonalize::describing(vec![Ok(Some(served))]);
    let r = gated(json!({"metric": NDCG, "minValue": 0.99}));
    let d = deployed(&fake, &r, 1, t(0)).await.unwrap();
    assert_eq!(d.operation, Operation::Update);
    assert_eq!(d.gate, None);
    assert!(fake.calls().iter().all(|c| !c.starts_with("metrics")));
}

fn request_for_version(version: &str) -> DeploymentRequest {
    patched(
        &gated(json!("none")),
        json!({"solutionVersionArn": version}),
    )
}
