//! Running personalize-local in the test process and talking to it over HTTP
//! with the real SDK.

use personalize_deployer::adapters::PersonalizeClient;
use personalize_local::{Config, Server, sample};
use sdk::seeded;
pub use sdk::train;
use serde_json::Value;

pub const SOLUTION: &str = sample::SOLUTION;

#[path = "../../../personalize-local/tests/sdk/mod.rs"]
mod sdk;

pub struct Local {
    pub server: Server,
    pub sdk: aws_sdk_personalize::Client,
    pub personalize: PersonalizeClient,
    /// Seconds the emulator's clock was moved forward.
    advanced: std::sync::Mutex<f64>,
}

impl Local {
    /// An emulator with realistic durations (time moves with `advance`), the
    /// `movies` solution and its versions 1a2b3c4d (older) and 5e6f7a8b.
    pub async fn start() -> Local {
        let (server, sdk) = seeded(Config {
            port: 0,
            ..Config::default()
        })
        .await;
        Local {
            personalize: PersonalizeClient::new(sdk.clone()),
            sdk,
            server,
            advanced: std::sync::Mutex::new(0.0),
        }
    }

    /// Moves the emulator's clock forward.
    pub async fn advance(&self, seconds: f64) {
        self.server.advance_clock(seconds).unwrap();
        *self.advanced.lock().unwrap() += seconds;
    }

    /// The emulator's clock: the wall clock and what it was moved forward.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let advanced = *self.advanced.lock().unwrap();
        chrono::Utc::now() + chrono::Duration::milliseconds((advanced * 1000.0) as i64)
    }

    pub async fn faults(&self, faults: Value) {
        self.server.set_faults(faults).unwrap();
    }
}
