//! personalize-local's own contract: the wire protocol, validation, the
//! documented errors, pagination, tagging, lifecycles, faults and robustness.

mod sdk;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aws_sdk_personalize::error::ProvideErrorMetadata;
use aws_sdk_personalize::types::{CampaignConfig, RankingInfluenceType, Tag};
use personalize_local::sample::{LATEST_VERSION as SV2, OLDER_VERSION as SV1, SOLUTION};
use personalize_local::{Config, Server};
use sdk::{client, train};
use serde_json::{Value, json};

const CAMPAIGN: &str = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs";

/// An emulator seeded with the `movies` sample, and an SDK client of it.
struct Local {
    server: Server,
    sdk: aws_sdk_personalize::Client,
}

impl Local {
    /// With realistic durations: time moves with `advance_clock`.
    async fn start() -> Local {
        Self::with(Config {
            port: 0,
            ..Config::default()
        })
        .await
    }

    async fn with(config: Config) -> Local {
        let (server, sdk) = sdk::seeded(config).await;
        Local { server, sdk }
    }
}

/// One raw HTTP/1.1 exchange: status, headers (lower-case names), body.
fn raw(
    addr: &str,
    method: &str,
    path: &str,
    target: Option<&str>,
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = target {
        head.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, response[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn call(local: &Local, op: &str, body: Value) -> (u16, Vec<(String, String)>, Value) {
    let addr = local.server.addr.to_string();
    let op = format!("AmazonPersonalize.{op}");
    let (status, headers, body) = tokio::task::spawn_blocking(move || {
        raw(&addr, "POST", "/", Some(&op), body.to_string().as_bytes())
    })
    .await
    .unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// Asserts an error's code (and, optionally, a part of its message).
#[track_caller]
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, aws_sdk_personalize::error::SdkError<E>>,
    expected: &str,
    message: &str,
) {
    let err = result.expect_err("an error");
    let e = err
        .as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {err:?}"));
    assert_eq!(e.code(), Some(expected), "{e:?}");
    assert!(
        e.message().unwrap_or("").contains(message),
        "{:?} lacks {message:?}",
        e.message()
    );
}

/// DescribeSolutionVersion of a version that exists.
async fn version(local: &Local, arn: &str) -> aws_sdk_personalize::types::SolutionVersion {
    local
        .sdk
        .describe_solution_version()
        .solution_version_arn(arn)
        .send()
        .await
        .unwrap()
        .solution_version
        .unwrap()
}

async fn create(local: &Local, name: &str, version: &str) -> Result<String, String> {
    local
        .sdk
        .create_campaign()
        .name(name)
        .solution_version_arn(version)
        .send()
        .await
        .map(|o| o.campaign_arn.unwrap())
        .map_err(|e| e.into_service_error().code().unwrap_or("?").to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_encoded_as_aws_json_1_1() {
    let local = Local::start().await;
    let (status, headers, body) = call(
        &local,
        "CreateCampaign",
        json!({"name": "-bad", "solutionVersionArn": SV1}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("InvalidInputException")
    );
    let id = header(&headers, "x-amzn-requestid").unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(body["__type"], "InvalidInputException");
    assert_eq!(
        body["message"],
        "1 validation error detected: Value '-bad' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn successes_carry_epoch_second_timestamps_and_a_request_id() {
    let local = Local::start().await;
    create(&local, "movie-recs", SV1).await.unwrap();
    let (status, headers, body) =
        call(&local, "DescribeCampaign", json!({"campaignArn": CAMPAIGN})).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "x-amzn-requestid").is_some());
    assert!(header(&headers, "x-amzn-errortype").is_none());
    let c = &body["campaign"];
    assert!(c["creationDateTime"].as_f64().unwrap() > 1.7e9);
    assert_eq!(c["status"], "CREATE PENDING");
    assert_eq!(c["minProvisionedTPS"], 1, "the documented default");
    assert!(
        c.get("latestCampaignUpdate").is_none(),
        "only after an update"
    );
    assert!(c.get("failureReason").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_gets_protocol_errors() {
    let local = Local::start().await;
    let addr = local.server.addr.to_string();
    // method, path, target, body, expected status and error type
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static [u8],
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/",
            Some("AmazonPersonalize.Nope"),
            b"{}",
            400,
            "UnknownOperationException",
        ),
        (
            "POST",
            "/",
            Some("Other.DescribeCampaign"),
            b"{}",
            400,
            "UnknownOperationException",
        ),
        ("POST", "/", None, b"{}", 400, "UnknownOperationException"),
        ("GET", "/", None, b"", 404, "UnknownOperationException"),
        (
            "POST",
            "/",
            Some("AmazonPersonalize.ListCampaigns"),
            b"{not json",
            400,
            "SerializationException",
        ),
        (
            "POST",
            "/",
            Some("AmazonPersonalize.ListCampaigns"),
            b"[1,2]",
            400,
            "SerializationException",
        ),
        (
            "POST",
            "/",
            Some("AmazonPersonalize.CreateCampaign"),
            br#"{"name": 5, "solutionVersionArn": "x"}"#,
            400,
            "SerializationException",
        ),
        (
            "POST",
            "/",
            Some("AmazonPersonalize.CreateCampaign"),
            br#"{"solutionVersionArn": "x"}"#,
            400,
            "InvalidInputException",
        ),
    ];
    for (method, path, target, body, status, expected) in cases {
        let (a, t) = (addr.clone(), target.map(str::to_string));
        let (s, h, b) =
            tokio::task::spawn_blocking(move || raw(&a, method, path, t.as_deref(), body))
                .await
                .unwrap();
        let b: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(
            (s, b["__type"].as_str()),
            (status, Some(expected)),
            "{method} {path} {target:?}: {b}"
        );
        assert_eq!(header(&h, "x-amzn-errortype"), Some(expected));
    }
    // An empty body is an empty input.
    let (s, _, b) = tokio::task::spawn_blocking(move || {
        raw(
            &addr,
            "POST",
            "/",
            Some("AmazonPersonalize.ListCampaigns"),
            b"",
        )
    })
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap(),
        json!({"campaigns": []})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn random_input_never_breaks_the_server() {
    let local = Local::start().await;
    let ops = [
        "CreateCampaign",
        "UpdateCampaign",
        "DescribeCampaign",
        "ListCampaigns",
        "DeleteCampaign",
        "DescribeSolution",
        "DescribeSolutionVersion",
        "ListSolutionVersions",
        "CreateSolution",
        "CreateSolutionVersion",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    ];
    let values = [
        json!(null),
        json!(-1),
        json!(0),
        json!(1e308),
        json!("a"),
        json!(""),
        json!("-"),
        json!([]),
        json!({}),
        json!([{"tagKey": 1}]),
        json!({"POPULARITY": "x"}),
        json!(SV1),
        json!(CAMPAIGN),
        json!(format!("{SOLUTION}/$LATEST")),
        json!("é".repeat(300)),
        json!(true),
    ];
    let members = [
        "name",
        "solutionVersionArn",
        "campaignArn",
        "minProvisionedTPS",
        "campaignConfig",
        "tags",
        "solutionArn",
        "nextToken",
        "maxResults",
        "resourceArn",
        "tagKeys",
        "datasetGroupArn",
        "trainingMode",
    ];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    for _ in 0..600 {
        let op = ops[next() % ops.len()];
        let mut body = serde_json::Map::new();
        for _ in 0..(next() % 5) {
            body.insert(
                members[next() % members.len()].into(),
                values[next() % values.len()].clone(),
            );
        }
        if next() % 7 == 0 {
            body.insert("campaignConfig".into(), json!({"itemExplorationConfig": {"explorationWeight": values[next() % values.len()]}}));
        }
        let (status, _, reply) = call(&local, op, Value::Object(body.clone())).await;
        assert!(
            status == 200 || (status == 400 && reply["__type"].is_string()),
            "{op} {body:?} -> {status} {reply}"
        );
    }
    let (status, _, _) = call(&local, "ListCampaigns", json!({})).await;
    assert_eq!(status, 200, "still serving");
}

#[tokio::test]
async fn validation_follows_the_model() {
    let local = Local::start().await;
    let c = |name: &str| {
        local
            .sdk
            .create_campaign()
            .name(name)
            .solution_version_arn(SV1)
    };
    code(
        c(&"a".repeat(64)).send().await,
        "InvalidInputException",
        "Member must have length less than or equal to 63",
    );
    code(
        c("-x").send().await,
        "InvalidInputException",
        "regular expression pattern",
    );
    // The model's pattern is only start-anchored: "a.b" passes it.
    assert!(c("a.b").send().await.is_ok());
    code(
        c("x").min_provisioned_tps(0).send().await,
        "InvalidInputException",
        "greater than or equal to 1",
    );
    code(
        local
            .sdk
            .create_campaign()
            .name("x")
            .solution_version_arn(format!("{SV1}{}", "a".repeat(256)))
            .send()
            .await,
        "InvalidInputException",
        "length less than or equal to 256",
    );
    code(
        local
            .sdk
            .create_campaign()
            .name("x")
            .solution_version_arn("arn:aws:personalize:::")
            .send()
            .await,
        "InvalidInputException",
        "pattern",
    );
    code(
        c("x")
            .campaign_config(
                CampaignConfig::builder()
                    .ranking_influence(RankingInfluenceType::from("NOVELTY"), 0.5)
                    .build(),
            )
            .send()
            .await,
        "InvalidInputException",
        "enum value set: [POPULARITY, FRESHNESS]",
    );
    code(
        c("x")
            .campaign_config(
                CampaignConfig::builder()
                    .ranking_influence(RankingInfluenceType::Popularity, 1.5)
                    .build(),
            )
            .send()
            .await,
        "InvalidInputException",
        "between 0 and 1",
    );
    code(
        c("x")
            .campaign_config(
                CampaignConfig::builder()
                    .item_exploration_config("explorationWeight", "2")
                    .build(),
            )
            .send()
            .await,
        "InvalidInputException",
        "explorationWeight",
    );
    code(
        c("x")
            .campaign_config(
                CampaignConfig::builder()
                    .sync_with_latest_solution_version(true)
                    .build(),
            )
            .send()
            .await,
        "InvalidInputException",
        "SolutionArn/$LATEST",
    );
    let tags: Vec<Tag> = (0..51)
        .map(|i| {
            Tag::builder()
                .tag_key(format!("k{i}"))
                .tag_value("v")
                .build()
                .unwrap()
        })
        .collect();
    code(
        c("x").set_tags(Some(tags)).send().await,
        "TooManyTagsException",
        "at most 50",
    );
    code(
        c("x")
            .tags(
                Tag::builder()
                    .tag_key("aws:x")
                    .tag_value("v")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "InvalidInputException",
        "reserved",
    );
    code(
        c("x")
            .tags(
                Tag::builder()
                    .tag_key("a<b")
                    .tag_value("v")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "InvalidInputException",
        "pattern",
    );
}

#[tokio::test]
async fn strict_mode_anchors_the_patterns() {
    let local = Local::with(Config {
        port: 0,
        strict: true,
        ..Config::default()
    })
    .await;
    code(
        local
            .sdk
            .create_campaign()
            .name("a.b")
            .solution_version_arn(SV1)
            .send()
            .await,
        "InvalidInputException",
        "pattern",
    );
}

#[tokio::test]
async fn create_campaign_errors_in_their_documented_conditions() {
    let local = Local::start().await;
    local
        .server
        .seed(json!({"solutionVersions": [
            {"solution": "movies", "id": "training1", "status": "CREATE IN_PROGRESS"},
            {"solution": "movies", "id": "failed01", "status": "CREATE FAILED"}
        ]}))
        .unwrap();
    assert_eq!(
        create(&local, "x", &format!("{SOLUTION}/deadbeef")).await,
        Err("ResourceNotFoundException".into())
    );
    assert_eq!(
        create(&local, "x", &format!("{SOLUTION}/training1")).await,
        Err("ResourceInUseException".into())
    );
    assert_eq!(
        create(&local, "x", &format!("{SOLUTION}/failed01")).await,
        Err("InvalidInputException".into())
    );
    assert_eq!(
        create(
            &local,
            "x",
            "arn:aws:personalize:us-east-1:111122223333:solution/nothing/$LATEST"
        )
        .await,
        Err("ResourceNotFoundException".into())
    );
    create(&local, "movie-recs", SV1).await.unwrap();
    assert_eq!(
        create(&local, "movie-recs", SV2).await,
        Err("ResourceAlreadyExistsException".into())
    );
    for i in 1..5 {
        create(&local, &format!("c{i}"), SV1).await.unwrap();
    }
    code(
        local
            .sdk
            .create_campaign()
            .name("sixth")
            .solution_version_arn(SV1)
            .send()
            .await,
        "LimitExceededException",
        "Cannot create a campaign. More than 5 resources in ACTIVE state. Please delete some and try again.",
    );
    code(
        local
            .sdk
            .describe_campaign()
            .campaign_arn(CAMPAIGN.replace("movie-recs", "nope"))
            .send()
            .await,
        "ResourceNotFoundException",
        "Could not find campaign",
    );
}

#[tokio::test]
async fn latest_without_sync_is_resolved_once() {
    let local = Local::start().await;
    create(&local, "movie-recs", &format!("{SOLUTION}/$LATEST"))
        .await
        .unwrap();
    let c = local
        .sdk
        .describe_campaign()
        .campaign_arn(CAMPAIGN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.campaign().unwrap().solution_version_arn(),
        Some(SV2),
        "the newest ACTIVE version"
    );
}

#[tokio::test]
async fn update_and_delete_respect_the_campaign_state() {
    let local = Local::start().await;
    create(&local, "movie-recs", SV1).await.unwrap();
    let update = || {
        local
            .sdk
            .update_campaign()
            .campaign_arn(CAMPAIGN)
            .solution_version_arn(SV2)
    };
    code(
        update().send().await,
        "ResourceInUseException",
        "CREATE PENDING",
    );
    code(
        local
            .sdk
            .delete_campaign()
            .campaign_arn(CAMPAIGN)
            .send()
            .await,
        "ResourceInUseException",
        "cannot be deleted",
    );
    local.server.advance_clock(605.0).unwrap();
    update().send().await.unwrap();
    code(
        update().send().await,
        "ResourceInUseException",
        "update in progress",
    );
    code(
        local
            .sdk
            .delete_campaign()
            .campaign_arn(CAMPAIGN)
            .send()
            .await,
        "ResourceInUseException",
        "update in progress",
    );
    let c = local
        .sdk
        .describe_campaign()
        .campaign_arn(CAMPAIGN)
        .send()
        .await
        .unwrap();
    let c = c.campaign().unwrap();
    assert_eq!(c.status(), Some("ACTIVE"));
    assert_eq!(c.solution_version_arn(), Some(SV1));
    assert_eq!(
        c.latest_campaign_update().unwrap().status(),
        Some("CREATE PENDING")
    );
    // An update of a missing campaign.
    code(
        local
            .sdk
            .update_campaign()
            .campaign_arn(CAMPAIGN.replace("movie-recs", "nope"))
            .send()
            .await,
        "ResourceNotFoundException",
        "",
    );
}

#[tokio::test]
async fn deletion_goes_through_its_states_and_frees_the_name() {
    let local = Local::start().await;
    create(&local, "movie-recs", SV1).await.unwrap();
    local.server.advance_clock(605.0).unwrap();
    local
        .sdk
        .delete_campaign()
        .campaign_arn(CAMPAIGN)
        .send()
        .await
        .unwrap();
    let status = || async {
        local
            .sdk
            .describe_campaign()
            .campaign_arn(CAMPAIGN)
            .send()
            .await
            .map(|o| o.campaign.unwrap().status.unwrap())
    };
    assert_eq!(status().await.unwrap(), "DELETE PENDING");
    assert_eq!(
        create(&local, "movie-recs", SV1).await,
        Err("ResourceAlreadyExistsException".into())
    );
    local.server.advance_clock(5.0).unwrap();
    assert_eq!(status().await.unwrap(), "DELETE IN_PROGRESS");
    local.server.advance_clock(60.0).unwrap();
    code(status().await, "ResourceNotFoundException", "");
    create(&local, "movie-recs", SV1).await.unwrap();
}

#[tokio::test]
async fn list_campaigns_pages_newest_first_and_filters_by_solution() {
    let local = Local::with(Config {
        port: 0,
        max_active_campaigns: 100,
        ..Config::default()
    })
    .await;
    local.server.seed(json!({"solutions": [{"name": "news"}], "solutionVersions": [{"solution": "news", "id": "00000001"}]})).unwrap();
    for i in 0..7 {
        create(&local, &format!("c{i}"), SV1).await.unwrap();
        local.server.advance_clock(1.0).unwrap();
    }
    create(
        &local,
        "news-1",
        "arn:aws:personalize:us-east-1:111122223333:solution/news/00000001",
    )
    .await
    .unwrap();
    let sdk = &local.sdk;
    let page = |token: Option<String>| async move {
        sdk.list_campaigns()
            .solution_arn(SOLUTION)
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap()
    };
    let mut names = Vec::new();
    let mut token = None;
    let mut sizes = Vec::new();
    loop {
        let out = page(token).await;
        sizes.push(out.campaigns().len());
        names.extend(
            out.campaigns()
                .iter()
                .map(|c| c.name().unwrap().to_string()),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(names, vec!["c6", "c5", "c4", "c3", "c2", "c1", "c0"]);
    let all = local.sdk.list_campaigns().send().await.unwrap();
    assert_eq!(all.campaigns().len(), 8);
    assert!(all.next_token().is_none());
    code(
        local
            .sdk
            .list_campaigns()
            .next_token("garbage")
            .send()
            .await,
        "InvalidNextTokenException",
        "",
    );
    code(
        local.sdk.list_campaigns().max_results(0).send().await,
        "InvalidInputException",
        "between 1 and 100",
    );
    code(
        local.sdk.list_campaigns().max_results(101).send().await,
        "InvalidInputException",
        "between 1 and 100",
    );
    let unknown = local
        .sdk
        .list_campaigns()
        .solution_arn(format!("{SOLUTION}x"))
        .send()
        .await
        .unwrap();
    assert!(
        unknown.campaigns().is_empty(),
        "an unknown solution lists nothing"
    );
}

#[tokio::test]
async fn solution_versions_train_and_are_listed() {
    let local = Local::start().await;
    let created = local
        .sdk
        .create_solution_version()
        .solution_arn(SOLUTION)
        .send()
        .await
        .unwrap();
    let arn = created.solution_version_arn().unwrap().to_string();
    assert!(
        arn.starts_with(&format!("{SOLUTION}/")) && arn.len() == SOLUTION.len() + 9,
        "{arn}"
    );
    let status = || version(&local, &arn);
    assert_eq!(status().await.status(), Some("CREATE PENDING"));
    local.server.advance_clock(5.0).unwrap();
    assert_eq!(status().await.status(), Some("CREATE IN_PROGRESS"));
    local.server.advance_clock(3600.0).unwrap();
    let v = status().await;
    assert_eq!(v.status(), Some("ACTIVE"));
    assert!(v.training_hours().unwrap() > 0.9);
    let solution = local
        .sdk
        .describe_solution()
        .solution_arn(SOLUTION)
        .send()
        .await
        .unwrap()
        .solution
        .unwrap();
    assert_eq!(
        solution
            .latest_solution_version()
            .unwrap()
            .solution_version_arn(),
        Some(arn.as_str())
    );
    let listed = local
        .sdk
        .list_solution_versions()
        .solution_arn(SOLUTION)
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.solution_versions().len(), 2);
    assert_eq!(
        listed.solution_versions()[0].solution_version_arn(),
        Some(arn.as_str()),
        "newest first"
    );
    assert!(listed.next_token().is_some());
    code(
        local
            .sdk
            .list_solution_versions()
            .solution_arn(format!("{SOLUTION}x"))
            .send()
            .await,
        "ResourceNotFoundException",
        "",
    );
    // A new solution, as CreateSolution makes it.
    let s = local
        .sdk
        .create_solution()
        .name("news")
        .dataset_group_arn("arn:aws:personalize:us-east-1:111122223333:dataset-group/news")
        .send()
        .await
        .unwrap();
    code(
        local
            .sdk
            .create_solution_version()
            .solution_arn(s.solution_arn().unwrap())
            .send()
            .await,
        "ResourceInUseException",
        "CREATE PENDING",
    );
    code(
        local
            .sdk
            .create_solution()
            .name("news")
            .dataset_group_arn("arn:aws:personalize:us-east-1:111122223333:dataset-group/news")
            .send()
            .await,
        "ResourceAlreadyExistsException",
        "",
    );
}

#[tokio::test]
async fn training_failures_can_be_injected() {
    let local = Local::start().await;
    local.server.set_faults(json!({"trainingFailures": [{"solutionVersionArn": SOLUTION, "reason": "Not enough interactions"}]})).unwrap();
    let arn = train(&local.sdk, SOLUTION).await;
    local.server.advance_clock(3605.0).unwrap();
    let v = version(&local, &arn).await;
    assert_eq!(v.status(), Some("CREATE FAILED"));
    assert_eq!(v.failure_reason(), Some("Not enough interactions"));
}

#[tokio::test]
async fn tags_are_merged_listed_removed_and_limited() {
    let local = Local::start().await;
    create(&local, "movie-recs", SV1).await.unwrap();
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    local
        .sdk
        .tag_resource()
        .resource_arn(CAMPAIGN)
        .tags(tag("team", "recs"))
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    local
        .sdk
        .tag_resource()
        .resource_arn(CAMPAIGN)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    let list = || async {
        local
            .sdk
            .list_tags_for_resource()
            .resource_arn(CAMPAIGN)
            .send()
            .await
            .unwrap()
    };
    let tags: Vec<(String, String)> = list()
        .await
        .tags()
        .iter()
        .map(|t| (t.tag_key().into(), t.tag_value().into()))
        .collect();
    assert_eq!(
        tags,
        vec![
            ("env".into(), "prod".into()),
            ("team".into(), "recs".into())
        ]
    );
    local
        .sdk
        .untag_resource()
        .resource_arn(CAMPAIGN)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    assert_eq!(list().await.tags().len(), 1);
    let many: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    code(
        local
            .sdk
            .tag_resource()
            .resource_arn(CAMPAIGN)
            .set_tags(Some(many))
            .send()
            .await,
        "TooManyTagsException",
        "51",
    );
    let keys: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    code(
        local
            .sdk
            .untag_resource()
            .resource_arn(CAMPAIGN)
            .set_tag_keys(Some(keys))
            .send()
            .await,
        "TooManyTagKeysException",
        "",
    );
    code(
        local
            .sdk
            .list_tags_for_resource()
            .resource_arn(format!("{CAMPAIGN}x"))
            .send()
            .await,
        "ResourceNotFoundException",
        "",
    );
    // Solutions and solution versions are taggable too.
    local
        .sdk
        .tag_resource()
        .resource_arn(SV1)
        .tags(tag("stage", "candidate"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        local
            .sdk
            .list_tags_for_resource()
            .resource_arn(SV1)
            .send()
            .await
            .unwrap()
            .tags()
            .len(),
        1
    );
}

#[tokio::test]
async fn time_can_be_sped_up() {
    let local = Local::with(Config {
        port: 0,
        speed: 600.0,
        ..Config::default()
    })
    .await;
    create(&local, "movie-recs", SV1).await.unwrap();
    // 5 s pending + 600 s creating at 600x: about a second.
    let started = std::time::Instant::now();
    loop {
        let c = local
            .sdk
            .describe_campaign()
            .campaign_arn(CAMPAIGN)
            .send()
            .await
            .unwrap();
        if c.campaign().unwrap().status() == Some("ACTIVE") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not ACTIVE in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn concurrent_creates_of_one_name_make_one_campaign() {
    let local = Local::start().await;
    let url = local.server.url();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let sdk = client(&url);
        tasks.push(tokio::spawn(async move {
            sdk.create_campaign()
                .name("movie-recs")
                .solution_version_arn(SV1)
                .send()
                .await
                .is_ok()
        }));
    }
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap());
    }
    assert_eq!(created, 1);
    assert_eq!(
        local
            .sdk
            .list_campaigns()
            .send()
            .await
            .unwrap()
            .campaigns()
            .len(),
        1
    );
}

#[tokio::test]
async fn faults_are_injected_and_reported_by_the_admin_endpoint() {
    let local = Local::start().await;
    let faults = local
        .server
        .set_faults(json!({"throttleRate": 1.0}))
        .unwrap();
    assert_eq!(faults["throttleRate"], 1.0);
    code(
        local.sdk.list_campaigns().send().await,
        "ThrottlingException",
        "Rate exceeded",
    );
    local
        .server
        .set_faults(json!({"throttleRate": 0.0, "errorRate": 1.0, "errorStatus": 503}))
        .unwrap();
    let err = local.sdk.list_campaigns().send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 503);
    local.server.set_faults(json!({"errorRate": 0.0})).unwrap();
    local.sdk.list_campaigns().send().await.unwrap();
    // Bad settings are refused and change nothing.
    let reply = local.server.emulator.admin(
        "POST",
        "/_personalize-local/faults",
        br#"{"throttleRate": 2}"#,
    );
    assert_eq!(reply.status, 400);
    let reply =
        local
            .server
            .emulator
            .admin("POST", "/_personalize-local/faults", br#"{"bogus": 1}"#);
    assert_eq!(reply.status, 400);
    local.sdk.list_campaigns().send().await.unwrap();
}

#[tokio::test]
async fn seeding_accepts_any_state_and_refuses_nonsense() {
    let local = Local::start().await;
    local.server.seed(json!({"campaigns": [
        {"name": "failed", "solutionVersionArn": SV1, "status": "CREATE FAILED", "failureReason": "capacity"},
        {"name": "creating", "solutionVersionArn": SV2, "status": "CREATE IN_PROGRESS", "minProvisionedTPS": 3,
         "tags": [{"tagKey": "team", "tagValue": "recs"}]}
    ]})).unwrap();
    let d = |name: &str| {
        local
            .sdk
            .describe_campaign()
            .campaign_arn(CAMPAIGN.replace("movie-recs", name))
            .send()
    };
    let failed = d("failed").await.unwrap().campaign.unwrap();
    assert_eq!(
        (failed.status(), failed.failure_reason()),
        (Some("CREATE FAILED"), Some("capacity"))
    );
    assert_eq!(
        d("creating")
            .await
            .unwrap()
            .campaign
            .unwrap()
            .min_provisioned_tps(),
        Some(3)
    );
    local.server.advance_clock(600.0).unwrap();
    assert_eq!(
        d("creating").await.unwrap().campaign.unwrap().status(),
        Some("ACTIVE")
    );
    for bad in [
        json!({"campaigns": [{"name": "x", "solutionVersionArn": format!("{SOLUTION}/nope")}]}),
        json!({"solutionVersions": [{"solution": "nope"}]}),
        json!({"solutions": [{"name": "s", "status": "SLEEPING"}]}),
        json!({"unknown": []}),
    ] {
        let reply = local.server.emulator.admin(
            "POST",
            "/_personalize-local/seed",
            bad.to_string().as_bytes(),
        );
        assert_eq!(reply.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn a_seed_file_is_loaded_at_start_up() {
    let dir = std::env::temp_dir().join(format!("pl-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seed.json");
    std::fs::write(&path, json!({"solutions": [{"name": "books"}], "solutionVersions": [{"solution": "books", "id": "abcd0123"}]}).to_string()).unwrap();
    let server = personalize_local::start(Config {
        port: 0,
        seed_file: Some(path.clone()),
        ..Config::default()
    })
    .await
    .unwrap();
    let sdk = client(&server.url());
    let v = sdk
        .describe_solution_version()
        .solution_version_arn("arn:aws:personalize:us-east-1:111122223333:solution/books/abcd0123")
        .send()
        .await
        .unwrap();
    assert_eq!(v.solution_version().unwrap().status(), Some("ACTIVE"));
    std::fs::write(&path, "{\"solutions\": 1}").unwrap();
    let err = personalize_local::start(Config {
        port: 0,
        seed_file: Some(path.clone()),
        ..Config::default()
    })
    .await
    .err()
    .unwrap();
    assert!(
        err.contains("--seed-file") && err.contains("seed.json"),
        "{err}"
    );
}

#[tokio::test]
async fn normalize_config_reports_the_configuration_as_the_service_may() {
    let exploration = |pairs: &[(&str, &str)]| {
        CampaignConfig::builder()
            .set_item_exploration_config(Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .build()
    };
    let reported = |local: Local, arn: String| async move {
        let campaign = local
            .sdk
            .describe_campaign()
            .campaign_arn(arn)
            .send()
            .await
            .unwrap()
            .campaign
            .unwrap();
        let mut pairs: Vec<(String, String)> = campaign
            .campaign_config
            .unwrap()
            .item_exploration_config
            .unwrap()
            .into_iter()
            .collect();
        pairs.sort();
        pairs
    };
    for (normalize, expected) in [
        (false, vec![("explorationWeight", "0.30")]),
        (
            true,
            vec![
                ("explorationItemAgeCutOff", "30"),
                ("explorationWeight", "0.3"),
            ],
        ),
    ] {
        let local = Local::with(Config {
            port: 0,
            normalize_config: normalize,
            ..Config::default()
        })
        .await;
        let arn = local
            .sdk
            .create_campaign()
            .name("normalized")
            .solution_version_arn(SV1)
            .campaign_config(exploration(&[("explorationWeight", "0.30")]))
            .send()
            .await
            .unwrap()
            .campaign_arn
            .unwrap();
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            reported(local, arn).await,
            expected,
            "normalize {normalize}"
        );
    }
    assert!(
        Config::from_args(["--normalize-config".to_string()])
            .unwrap()
            .unwrap()
            .normalize_config
    );
}

#[tokio::test]
async fn solution_metrics_are_given_or_derived_from_the_version_id() {
    let local = Local::start().await;
    let metrics = |arn: &str| {
        let sdk = local.sdk.clone();
        let arn = arn.to_string();
        async move {
            sdk.get_solution_metrics()
                .solution_version_arn(arn)
                .send()
                .await
                .map(|out| {
                    let mut m: Vec<(String, f64)> =
                        out.metrics.unwrap_or_default().into_iter().collect();
                    m.sort_by(|a, b| a.0.cmp(&b.0));
                    m
                })
        }
    };
    // Derived: the documented names, plausible values, the same every time
    // (and in another emulator), different for another version.
    let sv1 = metrics(SV1).await.unwrap();
    let names: Vec<&str> = sv1.iter().map(|(k, _)| k.as_str()).collect();
    let mut documented = personalize_local::model::METRIC_NAMES.to_vec();
    documented.sort();
    assert_eq!(names, documented);
    let value = |name: &str| sv1.iter().find(|(k, _)| k == name).unwrap().1;
    assert!((0.0..=1.0).contains(&value("coverage")));
    assert!(
        value("normalized_discounted_cumulative_gain_at_5")
            <= value("normalized_discounted_cumulative_gain_at_10")
    );
    assert!(value("precision_at_25") <= value("precision_at_5"));
    assert_eq!(metrics(SV1).await.unwrap(), sv1);
    assert_eq!(
        Local::start()
            .await
            .sdk
            .get_solution_metrics()
            .solution_version_arn(SV1)
            .send()
            .await
            .unwrap()
            .metrics
            .unwrap()
            .len(),
        8
    );
    assert_ne!(metrics(SV2).await.unwrap(), sv1);
    // Given, by the seed document and by the admin endpoint.
    local
        .server
        .seed(
            json!({"solutionVersions": [{"solution": "movies", "id": "0000feed",
                     "metrics": {"normalized_discounted_cumulative_gain_at_10": 0.3125}}]}),
        )
        .unwrap();
    let seeded = format!("{SOLUTION}/0000feed");
    assert_eq!(
        metrics(&seeded).await.unwrap(),
        vec![(
            "normalized_discounted_cumulative_gain_at_10".to_string(),
            0.3125
        )]
    );
    local
        .server
        .admin(
            "/metrics",
            json!({"solutionVersionArn": SV1, "metrics": {"coverage": 0.5}}),
        )
        .unwrap();
    assert_eq!(
        metrics(SV1).await.unwrap(),
        vec![("coverage".to_string(), 0.5)]
    );
    // Unknown version; a version still training has none yet (ResourceInUse,
    // the emulator's choice: the API reference leaves it open).
    code(
        metrics(&format!("{SOLUTION}/ffffffff")).await,
        "ResourceNotFoundException",
        "Could not find solution version",
    );
    let training = train(&local.sdk, SOLUTION).await;
    code(
        metrics(&training).await,
        "ResourceInUseException",
        "CREATE PENDING",
    );
}

#[tokio::test]
async fn training_can_be_stopped() {
    let local = Local::start().await;
    let status = |arn: String| {
        let local = &local;
        async move { version(local, &arn).await.status.unwrap() }
    };
    let stop = |arn: String| {
        let sdk = local.sdk.clone();
        async move {
            sdk.stop_solution_version_creation()
                .solution_version_arn(arn)
                .send()
                .await
        }
    };
    let arn = train(&local.sdk, SOLUTION).await;
    local.server.advance_clock(10.0).unwrap();
    assert_eq!(status(arn.clone()).await, "CREATE IN_PROGRESS");
    stop(arn.clone()).await.unwrap();
    assert_eq!(status(arn.clone()).await, "CREATE STOPPING");
    local.server.advance_clock(10.0).unwrap();
    assert_eq!(status(arn.clone()).await, "CREATE STOPPED");
    // Only while it trains; an unknown version is not found.
    code(stop(arn).await, "ResourceInUseException", "CREATE STOPPED");
    code(
        stop(SV1.to_string()).await,
        "ResourceInUseException",
        "ACTIVE",
    );
    code(
        stop(format!("{SOLUTION}/ffffffff")).await,
        "ResourceNotFoundException",
        "",
    );
}

#[tokio::test]
async fn automatic_training_makes_versions_by_itself() {
    let local = Local::start().await;
    // A campaign that follows the solution's newest version.
    local
        .sdk
        .create_campaign()
        .name("movie-recs")
        .solution_version_arn(format!("{SOLUTION}/$LATEST"))
        .campaign_config(
            CampaignConfig::builder()
                .sync_with_latest_solution_version(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    local.server.advance_clock(605.0).unwrap();

    let arn = local.server.auto_train(SOLUTION).unwrap();
    assert!(
        arn.starts_with(&format!("{SOLUTION}/")) && arn.len() == SOLUTION.len() + 9,
        "{arn}"
    );
    let v = version(&local, &arn).await;
    assert_eq!(v.status(), Some("CREATE PENDING"));
    assert_eq!(v.training_type().map(|t| t.as_str()), Some("AUTOMATIC"));
    assert_eq!(v.training_mode().map(|t| t.as_str()), Some("AUTOTRAIN"));
    assert_eq!(v.solution_arn(), Some(SOLUTION));
    let latest = local
        .sdk
        .describe_solution()
        .solution_arn(SOLUTION)
        .send()
        .await
        .unwrap()
        .solution
        .unwrap()
        .latest_solution_version
        .unwrap();
    assert_eq!(latest.solution_version_arn(), Some(arn.as_str()));
    assert_eq!(
        latest.training_type().map(|t| t.as_str()),
        Some("AUTOMATIC")
    );
    local.server.advance_clock(5.0).unwrap();
    assert_eq!(
        version(&local, &arn).await.status(),
        Some("CREATE IN_PROGRESS")
    );
    local.server.advance_clock(3600.0).unwrap();
    let v = version(&local, &arn).await;
    assert_eq!(v.status(), Some("ACTIVE"));
    assert!(v.training_hours().unwrap() > 0.9);
    // The following campaign starts deploying it, as after any training.
    let update = local
        .sdk
        .describe_campaign()
        .campaign_arn(CAMPAIGN)
        .send()
        .await
        .unwrap()
        .campaign
        .unwrap()
        .latest_campaign_update
        .expect("an automatic update");
    assert_eq!(update.solution_version_arn(), Some(arn.as_str()));

    // Training failures apply to it as to any version.
    local.server.set_faults(json!({"trainingFailures": [{"solutionVersionArn": SOLUTION, "reason": "Not enough new interactions"}]})).unwrap();
    let failed = local.server.auto_train(SOLUTION).unwrap();
    local.server.advance_clock(3605.0).unwrap();
    let v = version(&local, &failed).await;
    assert_eq!(
        (v.status(), v.failure_reason()),
        (Some("CREATE FAILED"), Some("Not enough new interactions"))
    );

    // Over HTTP, like the other admin endpoints.
    let addr = local.server.addr.to_string();
    let body = json!({"solutionArn": SOLUTION}).to_string();
    let (status, _, answer) = tokio::task::spawn_blocking(move || {
        raw(
            &addr,
            "POST",
            "/_personalize-local/auto-train",
            None,
            body.as_bytes(),
        )
    })
    .await
    .unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(status, 200, "{answer}");
    let over_http = answer["solutionVersionArn"].as_str().unwrap();
    assert_eq!(
        version(&local, over_http)
            .await
            .training_type()
            .map(|t| t.as_str()),
        Some("AUTOMATIC")
    );
}

#[tokio::test]
async fn automatic_training_is_refused_where_it_would_not_happen() {
    let local = Local::start().await;
    let refused = |body: Value| {
        let reply = local.server.emulator.admin(
            "POST",
            "/_personalize-local/auto-train",
            body.to_string().as_bytes(),
        );
        let answer: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(reply.status, 400, "{body} -> {answer}");
        (
            answer["__type"].as_str().unwrap().to_string(),
            answer["message"].as_str().unwrap().to_string(),
        )
    };
    // Automatic training off, as CreateSolution sets it.
    let manual = local
        .sdk
        .create_solution()
        .name("news")
        .dataset_group_arn("arn:aws:personalize:us-east-1:111122223333:dataset-group/news")
        .perform_auto_training(false)
        .send()
        .await
        .unwrap()
        .solution_arn
        .unwrap();
    local.server.advance_clock(5.0).unwrap();
    let (code, message) = refused(json!({"solutionArn": manual}));
    assert_eq!(code, "InvalidInputException");
    assert!(
        message.contains(&manual) && message.contains("performAutoTraining false"),
        "{message}"
    );
    let err = local.server.auto_train(&manual).unwrap_err();
    assert!(
        err.contains("HTTP 400") && err.contains("performAutoTraining"),
        "{err}"
    );
    // ... or as a seed document sets it.
    local
        .server
        .seed(json!({"solutions": [{"name": "books", "performAutoTraining": false}]}))
        .unwrap();
    let books = SOLUTION.replace("movies", "books");
    let solution = local
        .sdk
        .describe_solution()
        .solution_arn(&books)
        .send()
        .await
        .unwrap()
        .solution
        .unwrap();
    assert_eq!(solution.perform_auto_training(), Some(false));
    assert!(
        refused(json!({"solutionArn": books}))
            .1
            .contains("performAutoTraining false")
    );
    // A solution that is not ACTIVE yet, an unknown one, a bad body.
    let pending = local
        .sdk
        .create_solution()
        .name("music")
        .dataset_group_arn("arn:aws:personalize:us-east-1:111122223333:dataset-group/music")
        .send()
        .await
        .unwrap()
        .solution_arn
        .unwrap();
    let (code, message) = refused(json!({"solutionArn": pending}));
    assert_eq!(code, "ResourceInUseException");
    assert!(message.contains("CREATE PENDING"), "{message}");
    let (code, _) = refused(json!({"solutionArn": format!("{SOLUTION}x")}));
    assert_eq!(code, "ResourceNotFoundException");
    for bad in [
        json!({}),
        json!({"solutionArn": 1}),
        json!({"solution": SOLUTION}),
    ] {
        assert!(refused(bad).1.contains("solutionArn"));
    }
    // Nothing was made.
    let versions = local
        .sdk
        .list_solution_versions()
        .send()
        .await
        .unwrap()
        .solution_versions
        .unwrap();
    assert_eq!(versions.len(), 2, "the sample's two versions only");
}

#[tokio::test]
async fn seeded_versions_may_be_automatic() {
    let local = Local::start().await;
    local
        .server
        .seed(json!({"solutionVersions": [{"solution": "movies", "id": "0a0b0c0d", "trainingType": "AUTOMATIC", "trainingMode": "AUTOTRAIN"}]}))
        .unwrap();
    let v = version(&local, &format!("{SOLUTION}/0a0b0c0d")).await;
    assert_eq!(v.training_type().map(|t| t.as_str()), Some("AUTOMATIC"));
    assert_eq!(v.training_mode().map(|t| t.as_str()), Some("AUTOTRAIN"));
    for bad in [
        json!({"solutionVersions": [{"solution": "movies", "trainingType": "SCHEDULED"}]}),
        json!({"solutionVersions": [{"solution": "movies", "trainingMode": "PARTIAL"}]}),
        json!({"solutions": [{"name": "x", "performAutoTraining": "no"}]}),
    ] {
        let reply = local.server.emulator.admin(
            "POST",
            "/_personalize-local/seed",
            bad.to_string().as_bytes(),
        );
        assert_eq!(reply.status, 400, "{bad}");
    }
}

/// The member names of a JSON object, sorted.
fn members(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[tokio::test]
async fn list_campaigns_by_solution_answers_summaries_as_the_model_says() {
    let local = Local::start().await;
    local
        .server
        .seed(json!({"solutions": [{"name": "news"}],
                     "solutionVersions": [{"solution": "news", "id": "00000001"}],
                     "campaigns": [{"name": "failed", "solutionVersionArn": SV1,
                                    "status": "CREATE FAILED", "failureReason": "capacity"}]}))
        .unwrap();
    local.server.advance_clock(1.0).unwrap();
    create(&local, "latest", &format!("{SOLUTION}/$LATEST"))
        .await
        .unwrap();
    local.server.advance_clock(1.0).unwrap();
    create(
        &local,
        "news-1",
        "arn:aws:personalize:us-east-1:111122223333:solution/news/00000001",
    )
    .await
    .unwrap();
    let (status, _, listed) = call(&local, "ListCampaigns", json!({"solutionArn": SOLUTION})).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        members(&listed),
        vec!["campaigns"],
        "no nextToken on the last page"
    );
    let campaigns = listed["campaigns"].as_array().unwrap();
    let names: Vec<&str> = campaigns
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["latest", "failed"],
        "newest first, news-1 left out"
    );
    // CampaignSummary: no solution version nor configuration; failureReason
    // only on a failed one; timestamps as epoch seconds.
    assert_eq!(
        members(&campaigns[0]),
        vec![
            "campaignArn",
            "creationDateTime",
            "lastUpdatedDateTime",
            "name",
            "status"
        ]
    );
    assert_eq!(campaigns[0]["status"], "CREATE PENDING");
    assert_eq!(
        campaigns[0]["campaignArn"],
        CAMPAIGN.replace("movie-recs", "latest")
    );
    assert!(campaigns[0]["creationDateTime"].as_f64().unwrap() > 1.7e9);
    assert_eq!(
        (&campaigns[1]["status"], &campaigns[1]["failureReason"]),
        (&json!("CREATE FAILED"), &json!("capacity"))
    );
    // The same through the SDK's model.
    let out = local
        .sdk
        .list_campaigns()
        .solution_arn(SOLUTION)
        .send()
        .await
        .unwrap();
    let summary = &out.campaigns()[0];
    assert_eq!(summary.name(), Some("latest"));
    assert!(summary.creation_date_time().is_some() && summary.last_updated_date_time().is_some());
    // Validation of the filter.
    code(
        local
            .sdk
            .list_campaigns()
            .solution_arn("movies")
            .send()
            .await,
        "InvalidInputException",
        "solutionArn",
    );
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_when_campaigns_come_and_go() {
    let local = Local::with(Config {
        port: 0,
        max_active_campaigns: 100,
        ..Config::default()
    })
    .await;
    for i in 0..7 {
        create(&local, &format!("c{i}"), SV1).await.unwrap();
        local.server.advance_clock(1.0).unwrap();
    }
    local.server.advance_clock(605.0).unwrap();
    let page = |token: Option<String>| {
        let sdk = local.sdk.clone();
        async move {
            let out = sdk
                .list_campaigns()
                .solution_arn(SOLUTION)
                .max_results(3)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            let names: Vec<String> = out
                .campaigns()
                .iter()
                .map(|c| c.name().unwrap().to_string())
                .collect();
            (names, out.next_token().map(str::to_string))
        }
    };
    let delete = |name: &str| {
        let sdk = local.sdk.clone();
        let arn = CAMPAIGN.replace("movie-recs", name);
        async move {
            sdk.delete_campaign()
                .campaign_arn(arn)
                .send()
                .await
                .unwrap()
        }
    };
    // One of the first page is deleted and gone: the next page still starts
    // after the first.
    let (first, token) = page(None).await;
    assert_eq!(first, vec!["c6", "c5", "c4"]);
    delete("c5").await;
    local.server.advance_clock(70.0).unwrap();
    let (second, token) = page(token).await;
    assert_eq!(second, vec!["c3", "c2", "c1"]);
    let (third, token) = page(token).await;
    assert_eq!((third, token), (vec!["c0".to_string()], None));
    // A newer one is created: the next page repeats nothing.
    let (first, token) = page(None).await;
    assert_eq!(first, vec!["c6", "c4", "c3"]);
    create(&local, "c7", SV1).await.unwrap();
    let (second, _) = page(token).await;
    assert_eq!(second, vec!["c2", "c1", "c0"]);
    // A token whose campaign is gone still continues after it.
    local.server.advance_clock(605.0).unwrap();
    let (first, token) = page(None).await;
    assert_eq!(first, vec!["c7", "c6", "c4"]);
    delete("c4").await;
    delete("c3").await;
    local.server.advance_clock(70.0).unwrap();
    let (rest, _) = page(token).await;
    assert_eq!(rest, vec!["c2", "c1", "c0"]);
}

#[tokio::test]
async fn a_seeded_version_took_its_training_seconds_and_says_so_in_its_dates() {
    let local = Local::start().await;
    local
        .server
        .seed(json!({"solutionVersions": [
            {"solution": "movies", "id": "0a0a0a0a", "ageSeconds": 86400,
             "trainingSeconds": 3600, "trainingMode": "UPDATE"}]}))
        .unwrap();
    let arn = format!("{SOLUTION}/0a0a0a0a");
    let (status, _, listed) = call(
        &local,
        "ListSolutionVersions",
        json!({"solutionArn": SOLUTION}),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let v = listed["solutionVersions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["solutionVersionArn"] == json!(arn))
        .unwrap()
        .clone();
    let took = v["lastUpdatedDateTime"].as_f64().unwrap() - v["creationDateTime"].as_f64().unwrap();
    assert!((took - 3600.0).abs() < 1e-6, "{v}");
    assert_eq!(v["trainingMode"], json!("UPDATE"));
    let (_, _, described) = call(
        &local,
        "DescribeSolutionVersion",
        json!({"solutionVersionArn": arn}),
    )
    .await;
    assert_eq!(
        described["solutionVersion"]["lastUpdatedDateTime"],
        v["lastUpdatedDateTime"]
    );
    // Longer than its age, or for a training not ended: refused, naming it.
    for bad in [
        json!({"solution": "movies", "ageSeconds": 60, "trainingSeconds": 120}),
        json!({"solution": "movies", "status": "CREATE IN_PROGRESS", "trainingSeconds": 0}),
    ] {
        let e = local
            .server
            .seed(json!({"solutionVersions": [bad]}))
            .unwrap_err();
        assert!(e.to_string().contains("trainingSeconds"), "{e}");
    }
}

#[tokio::test]
async fn list_solution_versions_of_a_solution_newest_first_with_dates_and_statuses() {
    let local = Local::start().await;
    local
        .server
        .seed(json!({"solutions": [{"name": "news"}],
                     "solutionVersions": [
                        {"solution": "news", "id": "00000001"},
                        {"solution": "movies", "id": "0f0f0f0f", "ageSeconds": 86400,
                         "status": "CREATE FAILED", "failureReason": "Not enough data"}]}))
        .unwrap();
    local.server.advance_clock(1.0).unwrap();
    let training = train(&local.sdk, SOLUTION).await;
    local.server.advance_clock(1.0).unwrap();
    let auto = local.server.auto_train(SOLUTION).unwrap();
    local.server.advance_clock(10.0).unwrap();
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"solutionArn": SOLUTION, "maxResults": 2});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let (status, _, page) = call(&local, "ListSolutionVersions", body).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        listed.extend(page["solutionVersions"].as_array().unwrap().iter().cloned());
        token = page["nextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    let arns: Vec<&str> = listed
        .iter()
        .map(|v| v["solutionVersionArn"].as_str().unwrap())
        .collect();
    let failed = format!("{SOLUTION}/0f0f0f0f");
    assert_eq!(
        arns,
        vec![auto.as_str(), training.as_str(), SV2, SV1, failed.as_str()],
        "newest first, the other solution's left out"
    );
    let created: Vec<f64> = listed
        .iter()
        .map(|v| v["creationDateTime"].as_f64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] > w[1]), "{created:?}");
    let statuses: Vec<&str> = listed
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec![
            "CREATE IN_PROGRESS",
            "CREATE IN_PROGRESS",
            "ACTIVE",
            "ACTIVE",
            "CREATE FAILED"
        ]
    );
    // SolutionVersionSummary, failureReason only on a failed one.
    assert_eq!(
        members(&listed[0]),
        vec![
            "creationDateTime",
            "lastUpdatedDateTime",
            "solutionVersionArn",
            "status",
            "trainingMode",
            "trainingType"
        ]
    );
    assert_eq!(
        (&listed[0]["trainingType"], &listed[1]["trainingType"]),
        (&json!("AUTOMATIC"), &json!("MANUAL"))
    );
    assert_eq!(listed[4]["failureReason"], "Not enough data");
    // Through the SDK's model: dates and statuses read.
    let out = local
        .sdk
        .list_solution_versions()
        .solution_arn(SOLUTION)
        .send()
        .await
        .unwrap();
    let newest = &out.solution_versions()[0];
    assert_eq!(newest.solution_version_arn(), Some(auto.as_str()));
    assert_eq!(newest.status(), Some("CREATE IN_PROGRESS"));
    assert!(newest.creation_date_time().unwrap().secs() > 1_700_000_000);
    assert!(out.next_token().is_none());
}

#[tokio::test]
async fn tags_given_at_creation_are_listed_and_tagging_adds_to_them() {
    let local = Local::start().await;
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    local
        .sdk
        .create_campaign()
        .name("movie-recs")
        .solution_version_arn(SV2)
        .tags(tag("team", "recs"))
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap();
    let (status, _, listed) = call(
        &local,
        "ListTagsForResource",
        json!({"resourceArn": CAMPAIGN}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        listed,
        json!({"tags": [{"tagKey": "cost-center", "tagValue": "42"},
                        {"tagKey": "team", "tagValue": "recs"}]}),
        "no nextToken: not paginated"
    );
    // DescribeCampaign has no tags member.
    let (_, _, described) =
        call(&local, "DescribeCampaign", json!({"campaignArn": CAMPAIGN})).await;
    assert!(described["campaign"].get("tags").is_none(), "{described}");
    // TagResource merges into them, overwriting a key's value.
    local
        .sdk
        .tag_resource()
        .resource_arn(CAMPAIGN)
        .tags(tag("team", "discovery"))
        .tags(tag("deployed-by", "personalize-deployer"))
        .send()
        .await
        .unwrap();
    let tags: Vec<(String, String)> = local
        .sdk
        .list_tags_for_resource()
        .resource_arn(CAMPAIGN)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.tag_key().into(), t.tag_value().into()))
        .collect();
    assert_eq!(
        tags,
        vec![
            ("cost-center".into(), "42".into()),
            ("deployed-by".into(), "personalize-deployer".into()),
            ("team".into(), "discovery".into())
        ]
    );
    // The creation's tags count toward the 50; the answer is empty.
    let many: Vec<Tag> = (0..48).map(|i| tag(&format!("k{i}"), "v")).collect();
    code(
        local
            .sdk
            .tag_resource()
            .resource_arn(CAMPAIGN)
            .set_tags(Some(many.clone()))
            .send()
            .await,
        "TooManyTagsException",
        "51",
    );
    let (status, _, answer) = call(
        &local,
        "TagResource",
        json!({"resourceArn": CAMPAIGN, "tags": [{"tagKey": "k", "tagValue": ""}]}),
    )
    .await;
    assert_eq!((status, answer), (200, json!({})));
    // A campaign deleted and created again under its name starts untagged.
    local.server.advance_clock(605.0).unwrap();
    local
        .sdk
        .delete_campaign()
        .campaign_arn(CAMPAIGN)
        .send()
        .await
        .unwrap();
    local.server.advance_clock(65.0).unwrap();
    create(&local, "movie-recs", SV2).await.unwrap();
    let (_, _, listed) = call(
        &local,
        "ListTagsForResource",
        json!({"resourceArn": CAMPAIGN}),
    )
    .await;
    assert_eq!(listed, json!({"tags": []}));
}
