//! Running personalize-local in the test process and talking to it over HTTP
//! with the real SDK.

use std::time::Duration;

use aws_sdk_personalize::config::{Credentials, Region};
use aws_smithy_types::retry::RetryConfig;
use personalize_deployer::adapters::PersonalizeClient;
use personalize_local::{ADMIN_PREFIX, Config, Server};
use serde_json::{Value, json};

pub const SOLUTION: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies";

pub struct Local {
    pub server: Server,
    pub sdk: aws_sdk_personalize::Client,
    pub personalize: PersonalizeClient,
}

/// The SDK's standard retry mode (as deployed), with a short backoff so that
/// tests of retries stay fast.
pub fn client(url: &str) -> aws_sdk_personalize::Client {
    let config = aws_sdk_personalize::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(url)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    aws_sdk_personalize::Client::from_conf(config)
}

impl Local {
    /// An emulator with realistic durations (time moves with `advance`), the
    /// `movies` solution and its versions 1a2b3c4d (older) and 5e6f7a8b.
    pub async fn start() -> Local {
        Self::with(Config {
            port: 0,
            ..Config::default()
        })
        .await
    }

    pub async fn with(config: Config) -> Local {
        let server = personalize_local::start(config)
            .await
            .expect("emulator starts");
        let sdk = client(&server.url());
        let local = Local {
            personalize: PersonalizeClient::new(sdk.clone()),
            sdk,
            server,
        };
        local
            .admin(
                "/seed",
                json!({
                    "solutions": [{"name": "movies"}],
                    "solutionVersions": [
                        {"solution": "movies", "id": "1a2b3c4d", "ageSeconds": 7200},
                        {"solution": "movies", "id": "5e6f7a8b", "ageSeconds": 60}
                    ]
                }),
            )
            .await;
        local
    }

    /// Calls an admin endpoint (POST), asserting success.
    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let reply = self.server.emulator.admin(
            "POST",
            &format!("{ADMIN_PREFIX}{path}"),
            body.to_string().as_bytes(),
        );
        let value: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(reply.status, 200, "{path}: {value}");
        value
    }

    /// Moves the emulator's clock forward.
    pub async fn advance(&self, seconds: f64) {
        self.admin("/clock", json!({"advanceSeconds": seconds}))
            .await;
    }

    pub async fn faults(&self, faults: Value) {
        self.admin("/faults", faults).await;
    }
}
