//! An emulator seeded with the `movies` sample and an SDK client of it, for
//! these tests and the product's (its `tests/it/support/local.rs` includes
//! this file).

use std::time::Duration;

use aws_sdk_personalize::config::{Credentials, Region};
use aws_smithy_types::retry::RetryConfig;
use personalize_local::{Config, Server, sample};

/// An emulator started in this process with `config` (on the port it gives;
/// 0 for a free one), seeded with the `movies` sample, and a client of it.
pub async fn seeded(config: Config) -> (Server, aws_sdk_personalize::Client) {
    let server = personalize_local::start(config)
        .await
        .expect("emulator starts");
    server.seed(sample::seed()).unwrap();
    let sdk = client(&server.url());
    (server, sdk)
}

/// The SDK's standard retry mode (as deployed), with a short backoff so that
/// tests of retries stay fast.
pub fn client(url: &str) -> aws_sdk_personalize::Client {
    let retry = RetryConfig::standard().with_max_attempts(3);
    let config = aws_sdk_personalize::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(url)
        .retry_config(retry.with_initial_backoff(Duration::from_millis(5)))
        .build();
    aws_sdk_personalize::Client::from_conf(config)
}

/// Starts training a new version of `solution`; its ARN.
pub async fn train(sdk: &aws_sdk_personalize::Client, solution: &str) -> String {
    sdk.create_solution_version()
        .solution_arn(solution)
        .send()
        .await
        .expect("CreateSolutionVersion")
        .solution_version_arn
        .expect("a solution version ARN")
}
