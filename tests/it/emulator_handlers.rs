//! The project's handlers (library functions, through the real SDK over
//! HTTP) against personalize-local: every deployment path end to end.

use crate::support::local::{Local, SOLUTION, train};
use crate::support::{CAMPAIGN_ARN, SV1, SV2, manifest, patched};
use chrono::{DateTime, Utc};
use personalize_deployer::Error;
use personalize_deployer::adapters::SystemClock;
use personalize_deployer::domain::deploy::{Turn, deploy};
use personalize_deployer::domain::execution::{
    DeployReport, Deployment, Execution, StatusReport, TaskInput, Then,
};
use personalize_deployer::domain::origin::{Origin, Sent};
use personalize_deployer::domain::outcome::{Operation, Outcome};
use personalize_deployer::domain::request::DeploymentRequest;
use personalize_deployer::domain::schedule::PollPolicy;
use personalize_deployer::domain::status::poll;
use personalize_deployer::ports::Personalize;
use serde_json::json;

fn request(version: &str) -> DeploymentRequest {
    patched(
        &manifest("movie-recs.json"),
        json!({"solutionVersionArn": version}),
    )
}

/// One deployment as the state machine runs it: DeployCampaign, then
/// CampaignStatus polls.
struct Flow<'a> {
    local: &'a Local,
    input: TaskInput,
}

impl<'a> Flow<'a> {
    /// A request made now (on the emulator's clock) and DeployCampaign's
    /// first run for it.
    async fn start(
        local: &'a Local,
        request: DeploymentRequest,
    ) -> Result<(Flow<'a>, Deployment), Error> {
        Flow::start_at(local, request, local.now()).await
    }

    /// [`Flow::start`] for a request made at `requested_at`.
    async fn start_at(
        local: &'a Local,
        request: DeploymentRequest,
        requested_at: DateTime<Utc>,
    ) -> Result<(Flow<'a>, Deployment), Error> {
        let origin = Origin::Event(Sent {
            event_id: "test".into(),
            source: "tests".into(),
            account: None,
            region: None,
        });
        let state = Execution::accept(request, origin);
        let input = TaskInput {
            state,
            execution_arn: Some("arn:aws:states:us-east-1:111122223333:execution:sm:test".into()),
            execution_start_time: Some(requested_at),
            check: Default::default(),
            act: Default::default(),
        };
        let mut flow = Flow { local, input };
        let deployment = flow.run_deploy().await?;
        Ok((flow, deployment))
    }

    /// DeployCampaign, as the state machine runs it (again, after a wait).
    async fn run_deploy(&mut self) -> Result<Deployment, Error> {
        let Execution::Accepted(accepted) = &mut self.input.state else {
            unreachable!("a flow is an accepted request")
        };
        let turn = Turn::of(accepted, self.input.execution_start_time);
        let deployment = deploy(
            &self.local.personalize,
            &self.local.personalize,
            &accepted.request,
            &turn,
            1,
            &SystemClock,
        )
        .await?;
        accepted.deployment = Some(deployment.clone());
        Ok(deployment)
    }

    /// [`Flow::start`] for a deployment that starts a create or update (or
    /// does nothing).
    async fn deploy(
        local: &'a Local,
        request: DeploymentRequest,
    ) -> Result<(Flow<'a>, DeployReport), Error> {
        match Flow::start(local, request).await? {
            (flow, Deployment::Started(report)) => Ok((flow, *report)),
            (_, other) => panic!("expected a create, update or nothing: {other:?}"),
        }
    }

    async fn poll(&mut self) -> StatusReport {
        let report = poll(
            &self.local.personalize,
            &self.input,
            &PollPolicy::default(),
            &SystemClock,
            Utc::now(),
        )
        .await
        .expect("poll");
        if let Execution::Accepted(accepted) = &mut self.input.state {
            accepted.status = Some(report.clone());
        }
        report
    }
}

async fn describe(local: &Local) -> personalize_deployer::domain::campaign::Campaign {
    local
        .personalize
        .describe_campaign(CAMPAIGN_ARN)
        .await
        .unwrap()
        .expect("campaign exists")
}

/// Creates movie-recs on `version` and lets it become ACTIVE.
async fn active_campaign(local: &Local, version: &str) {
    let (mut flow, d) = Flow::deploy(local, request(version)).await.unwrap();
    assert_eq!(d.operation, Operation::Create);
    local.advance(605.0).await;
    assert_eq!(flow.poll().await.outcome, Outcome::Active);
}

#[tokio::test]
async fn a_new_campaign_is_created_and_reported_active() {
    let local = Local::start().await;
    let (mut flow, d) = Flow::deploy(&local, request(SV1)).await.unwrap();
    assert_eq!(d.operation, Operation::Create);
    assert_eq!(d.previous_solution_version_arn, None);

    let r = flow.poll().await;
    assert_eq!(
        (r.outcome, r.campaign_status.as_deref()),
        (Outcome::InProgress, Some("CREATE PENDING"))
    );
    assert_eq!(r.wait_seconds, 30);
    local.advance(5.0).await;
    let r = flow.poll().await;
    assert_eq!(r.campaign_status.as_deref(), Some("CREATE IN_PROGRESS"));
    assert_eq!(r.wait_seconds, 60, "backoff grows");
    local.advance(600.0).await;
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::Active);
    let n = r.notification.unwrap();
    assert_eq!(n.detail_type, "Campaign Deployment Succeeded");
    assert_eq!(n.detail.operation, Some(Operation::Create));
    assert_eq!(n.detail.campaign_arn.as_deref(), Some(CAMPAIGN_ARN));

    // The campaign serves exactly the request, tags included.
    let c = describe(&local).await;
    assert_eq!(c.solution_version_arn.as_deref(), Some(SV1));
    assert_eq!(c.min_provisioned_tps, Some(2));
    assert_eq!(c.config.as_ref(), request(SV1).campaign_config());
    assert!(c.latest_update.is_none());
    let tags = local
        .sdk
        .list_tags_for_resource()
        .resource_arn(CAMPAIGN_ARN)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].tag_key(), "team");
}

#[tokio::test]
async fn an_unchanged_request_is_none() {
    let local = Local::start().await;
    active_campaign(&local, SV1).await;
    let (mut flow, d) = Flow::deploy(&local, request(SV1)).await.unwrap();
    assert_eq!(d.operation, Operation::None);
    assert_eq!(d.previous_solution_version_arn.as_deref(), Some(SV1));
    assert_eq!(flow.poll().await.outcome, Outcome::Unchanged);
    assert!(
        describe(&local).await.latest_update.is_none(),
        "no update was made"
    );
}

#[tokio::test]
async fn an_update_is_followed_in_latest_campaign_update_until_promoted() {
    let local = Local::start().await;
    active_campaign(&local, SV1).await;
    let (mut flow, d) = Flow::deploy(&local, request(SV2)).await.unwrap();
    assert_eq!(d.operation, Operation::Update);
    assert_eq!(d.previous_solution_version_arn.as_deref(), Some(SV1));

    // During the update the campaign stays ACTIVE and serves SV1.
    let c = describe(&local).await;
    assert_eq!(c.status.as_str(), "ACTIVE");
    assert_eq!(c.solution_version_arn.as_deref(), Some(SV1));
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::InProgress);
    assert_eq!(r.campaign_status.as_deref(), Some("ACTIVE"));
    assert_eq!(r.update_status.as_deref(), Some("CREATE PENDING"));
    local.advance(5.0).await;
    let r = flow.poll().await;
    assert_eq!(r.update_status.as_deref(), Some("CREATE IN_PROGRESS"));
    local.advance(300.0).await;
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::Active);
    assert_eq!(r.update_status.as_deref(), Some("ACTIVE"));
    let n = r.notification.unwrap();
    assert_eq!(n.detail.previous_solution_version_arn.as_deref(), Some(SV1));
    assert_eq!(n.detail.target_solution_version_arn.as_deref(), Some(SV2));
    let c = describe(&local).await;
    assert_eq!(
        c.solution_version_arn.as_deref(),
        Some(SV2),
        "promoted to the top level"
    );
}

#[tokio::test]
async fn a_failed_creation_is_reported_failed_with_the_reason() {
    let local = Local::start().await;
    local
        .faults(json!({"deploymentFailures": [{"solutionVersionArn": SV1, "reason": "Insufficient capacity in us-east-1"}]}))
        .await;
    let (mut flow, _) = Flow::deploy(&local, request(SV1)).await.unwrap();
    local.advance(605.0).await;
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.campaign_status.as_deref(), Some("CREATE FAILED"));
    assert_eq!(
        r.failure_reason.as_deref(),
        Some("Insufficient capacity in us-east-1")
    );
    assert_eq!(
        r.notification.unwrap().detail_type,
        "Campaign Deployment Failed"
    );

    // Deploying again updates the failed campaign, which goes through the
    // create states again.
    local.faults(json!({"deploymentFailures": []})).await;
    let (mut flow, d) = Flow::deploy(&local, request(SV1)).await.unwrap();
    assert_eq!(d.operation, Operation::Update);
    assert_eq!(d.previous_solution_version_arn, None);
    assert_eq!(
        flow.poll().await.campaign_status.as_deref(),
        Some("CREATE PENDING")
    );
    local.advance(605.0).await;
    assert_eq!(flow.poll().await.outcome, Outcome::Active);
}

#[tokio::test]
async fn a_failed_update_is_failed_while_the_campaign_stays_active_on_the_old_version() {
    let local = Local::start().await;
    active_campaign(&local, SV1).await;
    local
        .faults(json!({"deploymentFailures": [{"solutionVersionArn": SV2, "reason": "Model artifacts are corrupt"}]}))
        .await;
    let (mut flow, _) = Flow::deploy(&local, request(SV2)).await.unwrap();
    local.advance(305.0).await;
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.campaign_status.as_deref(), Some("ACTIVE"));
    assert_eq!(r.update_status.as_deref(), Some("CREATE FAILED"));
    assert_eq!(
        r.failure_reason.as_deref(),
        Some(
            format!("Model artifacts are corrupt; the campaign is still ACTIVE on {SV1}").as_str()
        )
    );
    let c = describe(&local).await;
    assert_eq!(c.status.as_str(), "ACTIVE");
    assert_eq!(c.solution_version_arn.as_deref(), Some(SV1));
}

#[tokio::test]
async fn a_request_that_finds_its_campaign_busy_waits_for_it_then_deploys() {
    let local = Local::start().await;
    // Being created for SV1 (by an older request), a request for SV2 waits.
    let (_first, _) = Flow::deploy(&local, request(SV1)).await.unwrap();
    local.advance(1.0).await;
    let (mut flow, d) = Flow::start(&local, request(SV2)).await.unwrap();
    let Deployment::Waiting(waiting) = d else {
        panic!("expected a wait: {d:?}")
    };
    assert!(
        waiting.waiting_for.contains("CREATE PENDING"),
        "{waiting:?}"
    );
    assert_eq!(waiting.round, 1);
    // Polled, not retried: still busy, the usual wait (30 s, lengthened so
    // that the wait's polls stay within its share of the budget).
    let r = flow.poll().await;
    let first_wait = PollPolicy::default().busy_wait().wait(1);
    assert_eq!(
        (r.outcome, r.next, r.wait_seconds),
        (Outcome::InProgress, Then::Poll, first_wait)
    );
    assert_eq!(first_wait, 187, "⌈3 h / 58⌉");
    // Once the creation is ACTIVE, the poll says: deploy now.
    local.advance(605.0).await;
    let r = flow.poll().await;
    assert_eq!(
        (r.outcome, r.next, r.is_final),
        (Outcome::InProgress, Then::Deploy, false)
    );
    assert_eq!((r.wait_seconds, r.attempt), (first_wait, 2));
    let Deployment::Started(d) = flow.run_deploy().await.unwrap() else {
        panic!("expected the update")
    };
    assert_eq!(d.operation, Operation::Update);
    assert_eq!(d.previous_solution_version_arn.as_deref(), Some(SV1));
    assert_eq!(
        d.waited_since,
        Some(waiting.since),
        "its deadline counts from the wait"
    );
    local.advance(305.0).await;
    let r = flow.poll().await;
    assert_eq!((r.outcome, r.attempt), (Outcome::Active, 3));
    assert_eq!(
        describe(&local).await.solution_version_arn.as_deref(),
        Some(SV2)
    );
}

#[tokio::test]
async fn a_request_that_finds_newer_work_on_its_campaign_gives_way_at_once() {
    let local = Local::start().await;
    active_campaign(&local, SV1).await;
    // A request made before the update below started (e.g. while its
    // version trained) must not undo it once that update is done.
    let requested_at = local.now();
    local.advance(1.0).await;
    let newer = patched(&request(SV1), json!({"minProvisionedTPS": 7}));
    let (_newer, _) = Flow::deploy(&local, newer).await.unwrap();
    local.advance(1.0).await;
    let (mut flow, d) = Flow::start_at(&local, request(SV1), requested_at)
        .await
        .unwrap();
    let Deployment::Overtaken(overtaken) = &d else {
        panic!("expected to give way: {d:?}")
    };
    assert_eq!(overtaken.superseded_by.solution_version_arn, SV1);
    assert_eq!(
        overtaken.superseded_by.differences,
        vec!["minProvisionedTPS 7 -> 2".to_string()]
    );
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::Superseded);
    assert!(
        r.failure_reason
            .as_deref()
            .unwrap()
            .contains("began after this request; nothing was written"),
        "{r:?}"
    );
    let campaign = describe(&local).await;
    assert_eq!(
        campaign.latest_update.unwrap().min_provisioned_tps,
        Some(7),
        "the newer update stands"
    );
}

#[tokio::test]
async fn a_retried_deployment_adopts_its_own_work() {
    let local = Local::start().await;
    let (_, first) = Flow::deploy(&local, request(SV1)).await.unwrap();
    assert_eq!(first.operation, Operation::Create);
    // The same request again (a retried task) while creating: not busy.
    let (_, again) = Flow::deploy(&local, request(SV1)).await.unwrap();
    assert_eq!(again.operation, Operation::Create);
}

#[tokio::test]
async fn a_campaign_deleted_while_waiting_is_reported_deleted() {
    let local = Local::start().await;
    active_campaign(&local, SV1).await;
    let (mut flow, _) = Flow::deploy(&local, request(SV2)).await.unwrap();
    local.advance(305.0).await;
    // Someone deletes the campaign before the poll sees the update finish.
    local
        .sdk
        .delete_campaign()
        .campaign_arn(CAMPAIGN_ARN)
        .send()
        .await
        .unwrap();
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::Deleted);
    assert_eq!(r.campaign_status.as_deref(), Some("DELETE PENDING"));
    local.advance(70.0).await;
    let r = flow.poll().await;
    assert_eq!(r.outcome, Outcome::Deleted);
    assert_eq!(
        r.failure_reason.as_deref(),
        Some("the campaign no longer exists")
    );
    assert_eq!(
        r.notification.unwrap().detail_type,
        "Campaign Deployment Failed"
    );
}

#[tokio::test]
async fn a_campaign_being_deleted_refuses_a_deployment() {
    let local = Local::start().await;
    active_campaign(&local, SV1).await;
    local
        .sdk
        .delete_campaign()
        .campaign_arn(CAMPAIGN_ARN)
        .send()
        .await
        .unwrap();
    let err = Flow::deploy(&local, request(SV2)).await.err().unwrap();
    assert_eq!(err.error_type(), "CampaignDeleting");
}

#[tokio::test]
async fn throttling_and_server_errors_are_absorbed_by_the_sdk_retries() {
    let local = Local::start().await;
    // Two throttled answers, then two 500s: each call has 3 attempts.
    local.faults(json!({"throttleNext": 2})).await;
    let (mut flow, d) = Flow::deploy(&local, request(SV1)).await.unwrap();
    assert_eq!(d.operation, Operation::Create);
    local.faults(json!({"errorNext": 2})).await;
    assert_eq!(flow.poll().await.outcome, Outcome::InProgress);
    local
        .faults(json!({"throttleNext": 2, "throttleError": "LimitExceededException"}))
        .await;
    assert_eq!(flow.poll().await.outcome, Outcome::InProgress);
    // Beyond the SDK's retries a poll still does not end the deployment: it
    // polls again (the deployment goes on meanwhile).
    for faults in [
        json!({"throttleNext": 3, "throttleError": "ThrottlingException"}),
        json!({"throttleNext": 3, "throttleError": "LimitExceededException"}),
        json!({"errorNext": 3, "errorStatus": 503}),
    ] {
        local.faults(faults.clone()).await;
        let report = poll(
            &local.personalize,
            &flow.input,
            &PollPolicy::default(),
            &SystemClock,
            Utc::now(),
        )
        .await
        .unwrap();
        assert_eq!(report.outcome, Outcome::InProgress, "{faults}");
        assert!(report.wait_seconds > 0);
    }
    // The next poll reads the campaign again and sees it deployed.
    local.advance(700.0).await;
    assert_eq!(flow.poll().await.outcome, Outcome::Active);
}

#[tokio::test]
async fn permanent_service_errors_reach_the_handler_with_their_names() {
    let local = Local::start().await;
    let missing = format!("{SOLUTION}/deadbeef");
    let err = Flow::deploy(&local, request(&missing)).await.err().unwrap();
    assert_eq!(err.error_type(), "ResourceNotFound");
    assert!(
        err.to_string().contains("Could not find solution version"),
        "{err}"
    );

    // A version still training cannot be deployed yet.
    let training = train(&local.sdk, SOLUTION).await;
    let err = Flow::deploy(&local, request(&training))
        .await
        .err()
        .unwrap();
    assert_eq!(err.error_type(), "ResourceInUse");
}

#[tokio::test]
async fn a_latest_request_deploys_the_newest_active_version_and_follows_retraining() {
    let local = Local::start().await;
    let latest = DeploymentRequest::from_value(&json!({
        "campaignName": "movie-recs",
        "solutionVersionArn": format!("{SOLUTION}/$LATEST"),
        "campaignConfig": {"syncWithLatestSolutionVersion": true}
    }))
    .unwrap();
    let (mut flow, _) = Flow::deploy(&local, latest.clone()).await.unwrap();
    local.advance(605.0).await;
    assert_eq!(flow.poll().await.outcome, Outcome::Active);
    assert_eq!(
        describe(&local).await.solution_version_arn.as_deref(),
        Some(SV2),
        "the newest"
    );

    // A retraining: the synced campaign redeploys the new version by itself.
    let new = train(&local.sdk, SOLUTION).await;
    local.advance(3605.0).await;
    let c = describe(&local).await;
    assert_eq!(
        c.latest_update
            .as_ref()
            .unwrap()
            .solution_version_arn
            .as_deref(),
        Some(new.as_str())
    );
    local.advance(305.0).await;
    assert_eq!(
        describe(&local).await.solution_version_arn.as_deref(),
        Some(new.as_str())
    );
    // The same $LATEST request is then unchanged.
    let (_, d) = Flow::deploy(&local, latest).await.unwrap();
    assert_eq!(d.operation, Operation::None);
}

#[tokio::test]
async fn a_versions_training_is_read_through_the_real_api() {
    use personalize_deployer::domain::training::{Training, observe};
    use personalize_deployer::ports::SolutionVersions;

    let local = Local::start().await;
    let training = |arn: String| {
        let personalize = local.personalize.clone();
        async move {
            observe(
                personalize
                    .describe_solution_version(&arn)
                    .await
                    .unwrap()
                    .as_ref(),
            )
        }
    };
    assert_eq!(training(SV1.into()).await, Training::Ready);
    assert_eq!(
        training(format!("{SOLUTION}/ffffffff")).await,
        Training::Missing
    );
    // Trains, then is ready, with its training hours.
    let trained = train(&local.sdk, SOLUTION).await;
    assert_eq!(
        training(trained.clone()).await,
        Training::InProgress("CREATE PENDING".into())
    );
    local.advance(10.0).await;
    assert_eq!(
        training(trained.clone()).await,
        Training::InProgress("CREATE IN_PROGRESS".into())
    );
    local.advance(3600.0).await;
    assert_eq!(training(trained.clone()).await, Training::Ready);
    let described = local
        .personalize
        .describe_solution_version(&trained)
        .await
        .unwrap()
        .unwrap();
    assert!(described.training_hours.is_some_and(|h| h > 0.0));
    assert!(described.created_at.is_some());
    // Stopped.
    let stopped = train(&local.sdk, SOLUTION).await;
    local
        .sdk
        .stop_solution_version_creation()
        .solution_version_arn(&stopped)
        .send()
        .await
        .unwrap();
    assert!(matches!(
        training(stopped.clone()).await,
        Training::Stopped(_)
    ));
    // Failed, with the service's reason.
    local
        .faults(json!({"trainingFailures": [{"solutionVersionArn": SOLUTION, "reason": "Not enough interactions"}]}))
        .await;
    let failed = train(&local.sdk, SOLUTION).await;
    local.advance(3700.0).await;
    assert_eq!(
        training(failed).await,
        Training::Failed("Not enough interactions".into())
    );
}

#[tokio::test]
async fn the_gate_judges_metrics_read_through_the_real_api() {
    use personalize_deployer::domain::gate::{Gate, judge};
    use personalize_deployer::ports::{ApiErrorKind, SolutionMetrics};

    let local = Local::start().await;
    local
        .server
        .admin(
            "/metrics",
            json!({"solutionVersionArn": SV1, "metrics": {"normalized_discounted_cumulative_gain_at_10": 0.30, "coverage": 0.6}}),
        )
        .unwrap();
    local
        .server
        .admin(
            "/metrics",
            json!({"solutionVersionArn": SV2, "metrics": {"normalized_discounted_cumulative_gain_at_10": 0.27, "coverage": 0.7}}),
        )
        .unwrap();
    let served = local.personalize.get_solution_metrics(SV1).await.unwrap();
    let candidate = local.personalize.get_solution_metrics(SV2).await.unwrap();
    assert_eq!(served["normalized_discounted_cumulative_gain_at_10"], 0.30);
    let gate = Gate {
        metric: "normalized_discounted_cumulative_gain_at_10".into(),
        max_drop: Some(0.02),
        max_relative_drop: None,
        min_value: None,
    };
    let verdict = judge(&gate, &candidate, Some(&served)).unwrap();
    assert!(!verdict.passed());
    assert_eq!((verdict.candidate, verdict.current), (0.27, Some(0.30)));
    let coverage = Gate {
        metric: "coverage".into(),
        ..gate
    };
    assert!(
        judge(&coverage, &candidate, Some(&served))
            .unwrap()
            .passed()
    );
    // A version still training has no metrics yet.
    let training = train(&local.sdk, SOLUTION).await;
    let e = local
        .personalize
        .get_solution_metrics(&training)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::InUse);
}
