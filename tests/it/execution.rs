//! What an execution is, read from the state the state machine carries: only
//! possible states are read, contradictions are refused with a reason, and
//! executions started by the previous version still read.

use crate::support::*;
use personalize_deployer::domain::execution::{Execution, TaskInput};
use personalize_deployer::domain::origin::{Origin, Sent};
use serde_json::{Value, json};

fn read(state: Value) -> Result<TaskInput, personalize_deployer::Error> {
    TaskInput::from_event(json!({"state": state, "executionArn": "arn:x"}))
}

fn sample_state(name: &str) -> Value {
    event(name)["state"].clone()
}

#[test]
fn the_sample_inputs_are_what_they_say() {
    let accepted = read(sample_state("campaign-status-input.json")).unwrap();
    let Execution::Accepted(a) = &accepted.state else {
        panic!("an accepted request: {accepted:?}")
    };
    assert_eq!(a.request.campaign_arn(), CAMPAIGN_ARN);
    assert_eq!(a.polls(), 2);
    assert_eq!(a.training_polls(), 1);
    let rejected = read(sample_state("campaign-status-rejected-input.json")).unwrap();
    assert!(matches!(&rejected.state, Execution::Rejected(r) if r.errors.len() == 2));
    assert_eq!(
        rejected.state.campaign_name().as_deref(),
        Some("-movie recs")
    );
    let ended = json!({"ended": event("execution-aborted.json")["detail"]});
    let announcement = read(ended).unwrap();
    assert!(matches!(announcement.state, Execution::Announcement(_)));
    // The announced execution's campaign, read from its input.
    assert_eq!(
        announcement.state.campaign_name().as_deref(),
        Some("movie-recs")
    );
}

#[test]
fn contradictions_are_refused_naming_what_contradicts() {
    let request = sample_state("deploy-campaign-input.json")["request"].clone();
    for (state, says) in [
        (
            json!({"ended": {"executionArn": "arn:x", "status": "ABORTED"}, "request": request}),
            "an announcement (ended) carries nothing else",
        ),
        (
            json!({"rejected": true, "request": request}),
            "a rejected request (rejected: true) has no request",
        ),
        (
            json!({"request": request, "errors": [{"field": "f", "rule": "r"}]}),
            "errors are given, but rejected is not true",
        ),
        (json!({"Comment": "x"}), "state.request is missing"),
    ] {
        let e = read(state.clone()).unwrap_err();
        assert_eq!(e.error_type(), "InvalidTaskInput", "{state}");
        assert!(e.to_string().contains(says), "{state}: {e}");
    }
}

#[test]
fn a_request_that_breaks_a_rule_is_refused_as_such() {
    let mut state = sample_state("deploy-campaign-input.json");
    state["request"]["minProvisionedTPS"] = json!(0);
    let e = read(state).unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(
        e.to_string()
            .contains("minProvisionedTPS: must be a whole number"),
        "{e}"
    );
}

#[test]
fn an_input_a_task_failed_on_is_still_told_with_that_error() {
    let error = json!({"Error": "InvalidTaskInput", "Cause": "{\"errorMessage\": \"x\"}"});
    for state in [
        json!({"Comment": "x", "error": error}),
        json!({"request": {"campaignName": "bad name"}, "error": error}),
    ] {
        let input = read(state.clone()).unwrap();
        let Execution::Unrecognized(failure) = &input.state else {
            panic!("{state}: {input:?}")
        };
        assert_eq!(failure.reason(), "InvalidTaskInput: x");
        assert_eq!(input.state.campaign_name(), None);
    }
}

#[test]
fn an_execution_the_previous_version_started_still_reads() {
    // Its input named the campaign and its ARN next to the request, and
    // DeployCampaign's report named them and the target again.
    let mut state = sample_state("campaign-status-input.json");
    state["campaignName"] = json!("movie-recs");
    state["campaignArn"] = json!(CAMPAIGN_ARN);
    state["deployment"]["campaignName"] = json!("movie-recs");
    state["deployment"]["campaignArn"] = json!(CAMPAIGN_ARN);
    state["deployment"]["targetSolutionVersionArn"] = json!(SV2);
    let read_old = read(state).unwrap();
    let read_new = read(sample_state("campaign-status-input.json")).unwrap();
    assert_eq!(read_old.state, read_new.state);
}

#[test]
fn an_accepted_request_is_written_as_the_definition_reads_it() {
    let origin = Origin::Event(Sent {
        event_id: "e".into(),
        source: "s".into(),
        account: None,
        region: None,
    });
    let execution = Execution::accept(manifest("movie-recs.json"), origin);
    let text = serde_json::to_string(&execution).unwrap();
    // `rejected` first: the announcement rule tells an announcement's input
    // (`{"ended"`) from these by its start.
    assert!(
        text.starts_with(r#"{"rejected":false,"request":{"campaignName":"movie-recs""#),
        "{text}"
    );
    let back: Execution = serde_json::from_str(&text).unwrap();
    assert_eq!(back, execution);
}
