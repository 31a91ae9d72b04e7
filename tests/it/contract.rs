//! The contract the Python side reads is the one this code writes.

use personalize_deployer::contract;

#[test]
fn contract_json_is_what_the_rust_side_writes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract.json");
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == contract::render(),
        "contract.json is not current: run `cargo run --example contract > contract.json` \
         and commit it"
    );
}

#[test]
fn the_contract_lists_every_error_outcome_and_schedule_fact() {
    let c = contract::contract();
    let errors: Vec<&str> = c["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errorType"].as_str().unwrap())
        .collect();
    for name in [
        "CampaignBusy",
        "Throttled",
        "InvalidRequest",
        "HandlerPanicked",
    ] {
        assert!(errors.contains(&name), "{errors:?}");
    }
    assert_eq!(
        c["errors"][2]["retry"], "never",
        "CampaignBusy comes after the waits for the campaign: not retried"
    );
    let outcomes = c["outcomes"]["list"].as_array().unwrap();
    assert_eq!(outcomes.len(), 17);
    let gated = outcomes.iter().find(|o| o["outcome"] == "GATED").unwrap();
    assert_eq!(gated["detailType"], "Campaign Deployment Skipped");
    assert_eq!(gated["endState"]["name"], "Gated");
    assert_eq!(c["schedule"]["maxPolls"], 540);
    assert_eq!(c["schedule"]["maxWaits"], 3);
    assert_eq!(c["schedule"]["campaign"]["initialSeconds"], 30);
    assert_eq!(c["schedule"]["training"]["deadlineSeconds"], 86_400);
    let always = &c["state"]["alwaysPresent"];
    // The announcement rule writes an input too, without `rejected`: no
    // member of the input is promised.
    assert!(always.get("input").is_none(), "{always}");
    for member in ["outcome", "final", "succeeded", "waitSeconds", "attempt"] {
        assert!(
            always["status"]
                .as_array()
                .unwrap()
                .contains(&member.into()),
            "{member}"
        );
    }
    let names: Vec<&str> = c["metrics"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "Deployments",
            "DeploymentDuration",
            "Polls",
            "TrainingPolls",
            "TrainingWait",
            "WatchDuration"
        ]
    );
}
