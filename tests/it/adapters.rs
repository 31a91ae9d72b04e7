//! The SDK adapters, with aws-smithy-mocks: the exact requests they send, how
//! they read responses, how errors on the wire are classified, and that the
//! SDK's standard retry absorbs throttling and 5xx while permanent errors are
//! not retried.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::support::{CAMPAIGN_ARN, SV1, SV2, manifest};
use aws_sdk_personalize::operation::create_campaign::CreateCampaignOutput;
use aws_sdk_personalize::operation::describe_campaign::DescribeCampaignOutput;
use aws_sdk_personalize::operation::update_campaign::UpdateCampaignOutput;
use aws_sdk_personalize::primitives::DateTime as SdkTime;
use aws_sdk_personalize::types::{self as sdk, RankingInfluenceType};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::start_execution::StartExecutionOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::retry::RetryConfig;
use personalize_deployer::adapters::{PersonalizeClient, S3Client, StepFunctionsClient};
use personalize_deployer::domain::campaign::Status;
use personalize_deployer::domain::request::CampaignConfig;
use personalize_deployer::ports::{
    ApiErrorKind, CampaignChange, Fetched, NewCampaign, ObjectStore, Personalize, Started, Workflow,
};

const STATE_MACHINE: &str =
    "arn:aws:states:us-east-1:111122223333:stateMachine:personalize-deployer";

fn wire_error(code: &str) -> Option<String> {
    Some(format!(
        r#"{{"__type":"{code}","message":"{code} on the wire"}}"#
    ))
}

fn retrying(c: aws_sdk_personalize::config::Builder) -> aws_sdk_personalize::config::Builder {
    c.retry_config(
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1)),
    )
}

/// A client with the SDK's standard retry (3 attempts) and a short backoff.
fn retrying_client(rule: &Rule) -> PersonalizeClient {
    PersonalizeClient::new(mock_client!(
        aws_sdk_personalize,
        RuleMode::Sequential,
        [rule],
        retrying
    ))
}

/// A campaign with nothing optional, for tests of errors.
fn bare_campaign() -> NewCampaign {
    NewCampaign {
        name: "c".into(),
        solution_version_arn: SV1.into(),
        min_provisioned_tps: 1,
        config: None,
        tags: Vec::new(),
    }
}

fn sdk_config(config: &CampaignConfig) -> sdk::CampaignConfig {
    let mut b = sdk::CampaignConfig::builder();
    if let Some(m) = &config.item_exploration_config {
        b = b.set_item_exploration_config(Some(m.clone().into_iter().collect()));
    }
    if let Some(m) = &config.ranking_influence {
        for (k, v) in m {
            b = b.ranking_influence(RankingInfluenceType::from(k.as_str()), *v);
        }
    }
    b.set_enable_metadata_with_recommendations(config.enable_metadata_with_recommendations)
        .set_sync_with_latest_solution_version(config.sync_with_latest_solution_version)
        .build()
}

#[tokio::test]
async fn describe_campaign_sends_the_arn_and_reads_the_update_record() {
    let request = manifest("movie-recs.json");
    let config = request.campaign_config().cloned().unwrap();
    let wire_config = sdk_config(&config);
    let rule = mock!(aws_sdk_personalize::Client::describe_campaign)
        .match_requests(|r| r.campaign_arn() == Some(CAMPAIGN_ARN))
        .then_output(move || {
            DescribeCampaignOutput::builder()
                .campaign(
                    sdk::Campaign::builder()
                        .name("movie-recs")
                        .campaign_arn(CAMPAIGN_ARN)
                        .solution_version_arn(SV1)
                        .min_provisioned_tps(2)
                        .campaign_config(wire_config.clone())
                        .status("ACTIVE")
                        .creation_date_time(SdkTime::from_secs(1_700_000_000))
                        .latest_campaign_update(
                            sdk::CampaignUpdateSummary::builder()
                                .solution_version_arn(SV2)
                                .min_provisioned_tps(3)
                                .status("CREATE FAILED")
                                .failure_reason("bad version")
                                .creation_date_time(SdkTime::from_fractional_secs(
                                    1_700_000_600,
                                    0.5,
                                ))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let client = PersonalizeClient::new(mock_client!(aws_sdk_personalize, [&rule]));
    let c = client
        .describe_campaign(CAMPAIGN_ARN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(c.name, "movie-recs");
    assert_eq!(c.status, Status::Active);
    assert_eq!(c.solution_version_arn.as_deref(), Some(SV1));
    assert_eq!(c.config.as_ref(), Some(&config));
    assert_eq!(c.created_at.unwrap().timestamp(), 1_700_000_000);
    let u = c.latest_update.unwrap();
    assert_eq!(u.status, Status::CreateFailed);
    assert_eq!(u.failure_reason.as_deref(), Some("bad version"));
    assert_eq!(u.min_provisioned_tps, Some(3));
    assert_eq!(u.created_at.unwrap().timestamp_millis(), 1_700_000_600_500);
}

#[tokio::test]
async fn a_missing_campaign_is_none_not_an_error() {
    let rule = mock!(aws_sdk_personalize::Client::describe_campaign)
        .sequence()
        .http_status(400, wire_error("ResourceNotFoundException"))
        .build();
    let client = PersonalizeClient::new(mock_client!(aws_sdk_personalize, [&rule]));
    assert_eq!(client.describe_campaign(CAMPAIGN_ARN).await.unwrap(), None);
}

#[tokio::test]
async fn create_campaign_sends_every_member_exactly() {
    let request = manifest("movie-recs.json");
    let rule = mock!(aws_sdk_personalize::Client::create_campaign)
        .match_requests(|r| {
            let config = r.campaign_config().unwrap();
            let tags = r.tags();
            r.name() == Some("movie-recs")
                && r.solution_version_arn() == Some(SV1)
                && r.min_provisioned_tps() == Some(2)
                && config.item_exploration_config()
                    == Some(&HashMap::from([
                        ("explorationWeight".to_string(), "0.3".to_string()),
                        ("explorationItemAgeCutOff".to_string(), "30".to_string()),
                    ]))
                && config.ranking_influence()
                    == Some(&HashMap::from([(RankingInfluenceType::Popularity, 0.2)]))
                && config.enable_metadata_with_recommendations() == Some(false)
                && config.sync_with_latest_solution_version() == Some(false)
                && tags.len() == 1
                && tags[0].tag_key() == "team"
                && tags[0].tag_value() == "recs"
        })
        .then_output(|| {
            CreateCampaignOutput::builder()
                .campaign_arn(CAMPAIGN_ARN)
                .build()
        });
    let client = PersonalizeClient::new(mock_client!(aws_sdk_personalize, [&rule]));
    let arn = client
        .create_campaign(&NewCampaign {
            name: request.campaign_name().to_string(),
            solution_version_arn: request.solution_version_arn().to_string(),
            min_provisioned_tps: 2,
            config: request.campaign_config().cloned(),
            tags: request.tags().to_vec(),
        })
        .await
        .unwrap();
    assert_eq!(arn, CAMPAIGN_ARN);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn create_campaign_without_optional_members_leaves_them_out() {
    let rule = mock!(aws_sdk_personalize::Client::create_campaign)
        .match_requests(|r| {
            r.campaign_config().is_none() && r.tags.is_none() && r.min_provisioned_tps() == Some(1)
        })
        .then_output(|| {
            CreateCampaignOutput::builder()
                .campaign_arn(CAMPAIGN_ARN)
                .build()
        });
    let client = PersonalizeClient::new(mock_client!(aws_sdk_personalize, [&rule]));
    client
        .create_campaign(&NewCampaign {
            name: "movie-recs".into(),
            solution_version_arn: SV1.into(),
            min_provisioned_tps: 1,
            config: None,
            tags: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn update_campaign_sends_the_full_config_and_omits_unset_tps() {
    let config = CampaignConfig {
        enable_metadata_with_recommendations: Some(true),
        ranking_influence: Some(BTreeMap::from([("FRESHNESS".to_string(), 0.7)])),
        ..CampaignConfig::default()
    };
    let rule = mock!(aws_sdk_personalize::Client::update_campaign)
        .match_requests(|r| {
            let c = r.campaign_config().unwrap();
            r.campaign_arn() == Some(CAMPAIGN_ARN)
                && r.solution_version_arn() == Some(SV2)
                && r.min_provisioned_tps().is_none()
                && c.enable_metadata_with_recommendations() == Some(true)
                && c.ranking_influence()
                    == Some(&HashMap::from([(RankingInfluenceType::Freshness, 0.7)]))
                && c.item_exploration_config().is_none()
        })
        .then_output(|| {
            UpdateCampaignOutput::builder()
                .campaign_arn(CAMPAIGN_ARN)
                .build()
        });
    let client = PersonalizeClient::new(mock_client!(aws_sdk_personalize, [&rule]));
    client
        .update_campaign(&CampaignChange {
            campaign_arn: CAMPAIGN_ARN.into(),
            solution_version_arn: SV2.into(),
            min_provisioned_tps: None,
            config: Some(config),
        })
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn wire_errors_are_classified_by_their_type() {
    for (code, kind) in [
        (
            "ResourceAlreadyExistsException",
            ApiErrorKind::AlreadyExists,
        ),
        ("ResourceInUseException", ApiErrorKind::InUse),
        ("InvalidInputException", ApiErrorKind::InvalidInput),
        ("TooManyTagsException", ApiErrorKind::LimitExceeded),
        ("ResourceNotFoundException", ApiErrorKind::NotFound),
        ("AccessDeniedException", ApiErrorKind::Other),
        // As S3 passes them on for an object a KMS key encrypts: a
        // throttle retried, a refusal for good.
        ("KMS.ThrottlingException", ApiErrorKind::Throttled),
        ("KMS.DisabledException", ApiErrorKind::Other),
        ("AccessDenied", ApiErrorKind::Other),
        ("ExpiredToken", ApiErrorKind::Other),
    ] {
        let rule = mock!(aws_sdk_personalize::Client::create_campaign)
            .sequence()
            .http_status(400, wire_error(code))
            .build();
        let client = PersonalizeClient::new(mock_client!(aws_sdk_personalize, [&rule]));
        let e = client.create_campaign(&bare_campaign()).await.unwrap_err();
        assert_eq!((e.kind, e.code.as_str()), (kind, code));
        assert_eq!(e.message, format!("{code} on the wire"));
        // Only these are an object that no retry will read.
        assert_eq!(
            e.denies_for_good(),
            matches!(code, "KMS.DisabledException" | "AccessDenied"),
            "{code}"
        );
    }
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_by_the_sdk() {
    let rule = mock!(aws_sdk_personalize::Client::describe_campaign)
        .sequence()
        .http_status(400, wire_error("ThrottlingException"))
        .http_status(503, None)
        .output(|| {
            DescribeCampaignOutput::builder()
                .campaign(
                    sdk::Campaign::builder()
                        .name("movie-recs")
                        .status("ACTIVE")
                        .build(),
                )
                .build()
        })
        .build();
    let client = retrying_client(&rule);
    let c = client
        .describe_campaign(CAMPAIGN_ARN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.name, "movie-recs");
    assert_eq!(rule.num_calls(), 3, "two failures absorbed by retries");
}

#[tokio::test]
async fn failures_that_outlast_the_retries_are_classified() {
    for (status, body, kind) in [
        (
            400,
            wire_error("ThrottlingException"),
            ApiErrorKind::Throttled,
        ),
        (500, None, ApiErrorKind::Unavailable),
    ] {
        let rule = mock!(aws_sdk_personalize::Client::describe_campaign)
            .sequence()
            .http_status(status, body)
            .times(3)
            .build();
        let client = retrying_client(&rule);
        let e = client.describe_campaign(CAMPAIGN_ARN).await.unwrap_err();
        assert_eq!(e.kind, kind);
        assert_eq!(rule.num_calls(), 3, "three attempts");
    }
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    let rule = mock!(aws_sdk_personalize::Client::update_campaign)
        .sequence()
        .http_status(400, wire_error("InvalidInputException"))
        .output(|| UpdateCampaignOutput::builder().build())
        .build();
    let client = retrying_client(&rule);
    let e = client
        .update_campaign(&CampaignChange {
            campaign_arn: CAMPAIGN_ARN.into(),
            solution_version_arn: SV2.into(),
            min_provisioned_tps: None,
            config: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::InvalidInput);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn start_execution_sends_state_machine_name_and_input() {
    let rule = mock!(aws_sdk_sfn::Client::start_execution)
        .match_requests(|r| {
            r.state_machine_arn() == Some(STATE_MACHINE)
                && r.name() == Some("movie-recs-0123")
                && r.input() == Some(r#"{"rejected":false}"#)
        })
        .then_output(|| {
            StartExecutionOutput::builder()
                .execution_arn("arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:movie-recs-0123")
                .start_date(aws_sdk_sfn::primitives::DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap()
        });
    let sfn = StepFunctionsClient::new(mock_client!(aws_sdk_sfn, [&rule]), STATE_MACHINE);
    let started = sfn
        .start_execution("movie-recs-0123", r#"{"rejected":false}"#)
        .await
        .unwrap();
    assert_eq!(
        started,
        Started::New {
            execution_arn: "arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:movie-recs-0123".into()
        }
    );
}

#[tokio::test]
async fn execution_already_exists_means_already_handled() {
    // awsJson1.0 servers may send the full shape id.
    let rule = mock!(aws_sdk_sfn::Client::start_execution)
        .sequence()
        .http_status(
            400,
            wire_error("com.amazonaws.stepfunctions#ExecutionAlreadyExists"),
        )
        .build();
    let sfn = StepFunctionsClient::new(mock_client!(aws_sdk_sfn, [&rule]), STATE_MACHINE);
    assert_eq!(
        sfn.start_execution("n", "{}").await.unwrap(),
        Started::AlreadyExists
    );

    let rule = mock!(aws_sdk_sfn::Client::start_execution)
        .sequence()
        .http_status(400, wire_error("InvalidName"))
        .build();
    let sfn = StepFunctionsClient::new(mock_client!(aws_sdk_sfn, [&rule]), STATE_MACHINE);
    let e = sfn.start_execution("bad name", "{}").await.unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_qualified_state_machine_finds_its_executions_failures_by_their_unqualified_arn() {
    // A version or alias qualifier names what runs, not the execution: Step
    // Functions' execution ARNs never carry it.
    let execution =
        "arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:movie-recs-0123";
    for qualified in [
        format!("{STATE_MACHINE}:3"),
        format!("{STATE_MACHINE}:live"),
    ] {
        let rule = mock!(aws_sdk_sfn::Client::describe_execution)
            .match_requests(move |r| r.execution_arn() == Some(execution))
            .then_output(|| {
                DescribeExecutionOutput::builder()
                    .execution_arn(
                        "arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:movie-recs-0123",
                    )
                    .state_machine_arn(STATE_MACHINE)
                    .status(aws_sdk_sfn::types::ExecutionStatus::Failed)
                    .error("TrainingTimedOut")
                    .start_date(aws_sdk_sfn::primitives::DateTime::from_secs(1_700_000_000))
                    .build()
                    .unwrap()
            });
        let sfn = StepFunctionsClient::new(mock_client!(aws_sdk_sfn, [&rule]), qualified.clone());
        assert_eq!(
            sfn.failure_of("movie-recs-0123").await.unwrap().as_deref(),
            Some("TrainingTimedOut"),
            "{qualified}"
        );
        assert_eq!(rule.num_calls(), 1);
    }
}

#[tokio::test]
async fn get_object_reads_the_announced_version() {
    let rule = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| {
            r.bucket() == Some("manifests")
                && r.key() == Some("dir/movie recs.json")
                && r.version_id() == Some("v1")
        })
        .then_output(|| {
            GetObjectOutput::builder()
                .content_length(2)
                .body(ByteStream::from_static(b"{}"))
                .build()
        });
    let s3 = S3Client::new(mock_client!(aws_sdk_s3, [&rule]));
    let fetched = s3
        .get_object("manifests", "dir/movie recs.json", Some("v1"), 1024)
        .await
        .unwrap();
    assert_eq!(fetched, Fetched::Body(b"{}".to_vec()));
}

#[tokio::test]
async fn get_object_refuses_a_large_object_and_reports_a_missing_one() {
    let rule = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .content_length(5000)
            .body(ByteStream::from_static(b"ignored"))
            .build()
    });
    let s3 = S3Client::new(mock_client!(aws_sdk_s3, [&rule]));
    assert_eq!(
        s3.get_object("b", "k", None, 1024).await.unwrap(),
        Fetched::TooLarge(Some(5000))
    );

    let rule = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .http_status(
            404,
            Some("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>".into()),
        )
        .build();
    let s3 = S3Client::new(mock_client!(aws_sdk_s3, [&rule]));
    assert_eq!(
        s3.get_object("b", "k", None, 1024).await.unwrap(),
        Fetched::NotFound
    );
}

#[tokio::test]
async fn the_deployed_configuration_uses_the_standard_retry_mode() {
    let config = personalize_deployer::adapters::load_aws_config().await;
    let retry = config.retry_config().expect("a retry configuration");
    assert_eq!(retry.mode(), aws_smithy_types::retry::RetryMode::Standard);
    assert_eq!(
        retry.max_attempts(),
        3,
        "the tests above use the same number of attempts"
    );
}

#[tokio::test]
async fn a_rate_limit_is_throttling_and_only_a_quota_is_a_limit() {
    // Personalize answers both with LimitExceededException; the message tells
    // them apart.
    let answer = |message: &str| {
        Some(format!(
            r#"{{"__type":"LimitExceededException","message":"{message}"}}"#
        ))
    };
    for (message, kind, error_type) in [
        (
            "The limit on the number of requests per second has been exceeded.",
            ApiErrorKind::Throttled,
            "Throttled",
        ),
        (
            "Cannot create a campaign. More than 5 resources in ACTIVE state. Please delete some and try again.",
            ApiErrorKind::LimitExceeded,
            "LimitExceeded",
        ),
    ] {
        let rule = mock!(aws_sdk_personalize::Client::create_campaign)
            .sequence()
            .http_status(400, answer(message))
            .times(3)
            .build();
        let e = retrying_client(&rule)
            .create_campaign(&bare_campaign())
            .await
            .unwrap_err();
        // The SDK retries both (it cannot tell them apart) ...
        assert_eq!(rule.num_calls(), 3, "{message}");
        // ... and what outlasts its retries is told apart by the message.
        assert_eq!(e.kind, kind, "{message}");
        let error = personalize_deployer::Error::from(e);
        assert_eq!(error.error_type(), error_type);
        assert_eq!(error.is_retryable(), kind == ApiErrorKind::Throttled);
    }
}

#[tokio::test]
async fn get_object_stops_past_the_limit_when_no_length_is_announced() {
    let rule = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .body(ByteStream::from(vec![b' '; 5000]))
            .build()
    });
    let s3 = S3Client::new(mock_client!(aws_sdk_s3, [&rule]));
    assert_eq!(
        s3.get_object("b", "k", None, 1024).await.unwrap(),
        Fetched::TooLarge(None)
    );
    let rule = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .body(ByteStream::from_static(b"{}"))
            .build()
    });
    let s3 = S3Client::new(mock_client!(aws_sdk_s3, [&rule]));
    assert_eq!(
        s3.get_object("b", "k", None, 1024).await.unwrap(),
        Fetched::Body(b"{}".to_vec())
    );
}

#[tokio::test]
async fn every_call_has_time_limits_well_under_the_functions_timeout() {
    use personalize_deployer::adapters::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT};
    let config = personalize_deployer::adapters::load_aws_config().await;
    let timeouts = config.timeout_config().expect("time limits");
    assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
    assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    assert!(timeouts.connect_timeout().is_some());
    // DeployCampaign's usual three calls in a row fit in its 30 s.
    assert!(OPERATION_TIMEOUT * 3 < Duration::from_secs(30));
}

#[tokio::test]
async fn a_stalled_connection_is_a_retryable_time_out_not_a_hang() {
    // A server that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let config = aws_sdk_personalize::Config::builder()
        .behavior_version(aws_sdk_personalize::config::BehaviorVersion::latest())
        .region(aws_sdk_personalize::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_personalize::config::Credentials::for_tests())
        .endpoint_url(format!("http://{address}"))
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(200))
                .operation_timeout(Duration::from_millis(500))
                .build(),
        )
        .build();
    let client = PersonalizeClient::new(aws_sdk_personalize::Client::from_conf(config));
    let e = client.describe_campaign(CAMPAIGN_ARN).await.unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ApiErrorKind::Unavailable, "Timeout")
    );
    let error = personalize_deployer::Error::from(e);
    assert_eq!(error.error_type(), "ServiceUnavailable");
    assert!(error.is_retryable());
    held.abort();
}

#[tokio::test]
async fn describe_alarms_asks_for_metric_and_composite_alarms_and_reads_both() {
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::primitives::DateTime as CwTime;
    use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm, StateValue};
    use personalize_deployer::adapters::CloudWatchClient;
    use personalize_deployer::domain::alarm::{AlarmState, AlarmValue};
    use personalize_deployer::ports::Alarms;
    let names = ["recs-ctr".to_string(), "recs-health".to_string()];
    let rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| {
            r.alarm_names() == ["recs-ctr", "recs-health"]
                && r.alarm_types() == [AlarmType::MetricAlarm, AlarmType::CompositeAlarm]
        })
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(
                    MetricAlarm::builder()
                        .alarm_name("recs-ctr")
                        .state_value(StateValue::Ok)
                        .state_reason("fine")
                        .state_updated_timestamp(CwTime::from_secs(1_700_000_500))
                        .state_transitioned_timestamp(CwTime::from_secs(1_700_000_000))
                        .build(),
                )
                .composite_alarms(
                    CompositeAlarm::builder()
                        .alarm_name("recs-health")
                        .state_value(StateValue::Alarm)
                        .state_reason("ALARM(recs-5xx)")
                        .state_updated_timestamp(CwTime::from_secs(1_700_000_900))
                        .build(),
                )
                .build()
        });
    let client = CloudWatchClient::new(mock_client!(aws_sdk_cloudwatch, [&rule]));
    let alarms = client.describe_alarms(&names).await.unwrap();
    let t = |s| chrono::DateTime::from_timestamp(s, 0);
    assert_eq!(
        alarms,
        vec![
            // The transition's time, not the last update's.
            AlarmState {
                name: "recs-ctr".into(),
                value: AlarmValue::Ok,
                reason: Some("fine".into()),
                changed_at: t(1_700_000_000),
            },
            // A composite alarm like any other; without a transition time,
            // the last update's.
            AlarmState {
                name: "recs-health".into(),
                value: AlarmValue::Alarm,
                reason: Some("ALARM(recs-5xx)".into()),
                changed_at: t(1_700_000_900),
            },
        ]
    );
}

#[tokio::test]
async fn describe_alarms_errors_are_classified_like_any_call() {
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError;
    use aws_smithy_types::error::ErrorMetadata;
    use personalize_deployer::adapters::CloudWatchClient;
    use personalize_deployer::ports::Alarms;
    // CloudWatch's throttling code; and a 5xx without a body.
    let rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_error(|| {
        DescribeAlarmsError::generic(
            ErrorMetadata::builder()
                .code("Throttling")
                .message("Rate exceeded")
                .build(),
        )
    });
    let client = CloudWatchClient::new(mock_client!(aws_sdk_cloudwatch, [&rule]));
    let err = client
        .describe_alarms(&["a".to_string()])
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ApiErrorKind::Throttled, "Throttling")
    );
    // (The SDK's standard retry tries three times.)
    let rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .sequence()
        .http_status(503, None)
        .times(3)
        .build();
    let client = CloudWatchClient::new(mock_client!(aws_sdk_cloudwatch, [&rule]));
    let err = client
        .describe_alarms(&["a".to_string()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::Unavailable, "{err:?}");
}
