//! Fault injection: throttling and server errors at a rate or for the next N
//! requests, deployments and trainings that fail, and a small deterministic
//! random generator.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A xorshift64* generator: deterministic for a given seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A request id shaped like a UUID.
    pub fn request_id(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// A failure rule: deployments (creates and updates), or trainings, of a
/// matching solution version end CREATE FAILED with `reason`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailRule {
    /// A solution version ARN, a solution ARN (any of its versions), or `*`.
    pub solution_version_arn: String,
    pub reason: String,
}

impl FailRule {
    pub fn matches(&self, version_arn: &str) -> bool {
        self.solution_version_arn == "*"
            || self.solution_version_arn == version_arn
            || version_arn
                .strip_prefix(self.solution_version_arn.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// What to inject. Rates are probabilities from 0 to 1 per API request; the
/// `*_next` counters fail exactly the next N requests (applied first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    pub throttle_rate: f64,
    pub throttle_next: u64,
    /// `ThrottlingException` or `LimitExceededException` (both HTTP 400).
    pub throttle_error: String,
    pub error_rate: f64,
    pub error_next: u64,
    /// 500 (`InternalFailure`) or 503 (`ServiceUnavailable`).
    pub error_status: u16,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            throttle_rate: 0.0,
            throttle_next: 0,
            throttle_error: "ThrottlingException".into(),
            error_rate: 0.0,
            error_next: 0,
            error_status: 500,
        }
    }
}

impl Faults {
    pub fn check(&self) -> Result<(), String> {
        for (name, rate) in [
            ("throttleRate", self.throttle_rate),
            ("errorRate", self.error_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be from 0 to 1, got {rate}"));
            }
        }
        if !matches!(
            self.throttle_error.as_str(),
            "ThrottlingException" | "LimitExceededException"
        ) {
            return Err(format!(
                "throttleError must be ThrottlingException or LimitExceededException, got {:?}",
                self.throttle_error
            ));
        }
        if !matches!(self.error_status, 500 | 503) {
            return Err(format!(
                "errorStatus must be 500 or 503, got {}",
                self.error_status
            ));
        }
        Ok(())
    }

    /// The fault to answer this request with, if any.
    pub fn draw(&mut self, rng: &mut Rng) -> Option<ApiError> {
        let throttle = if self.throttle_next > 0 {
            self.throttle_next -= 1;
            true
        } else {
            self.throttle_rate > 0.0 && rng.unit() < self.throttle_rate
        };
        if throttle {
            let message = if self.throttle_error == "LimitExceededException" {
                "The limit on the number of requests per second has been exceeded."
            } else {
                "Rate exceeded"
            };
            return Some(ApiError::new(&self.throttle_error, message));
        }
        let error = if self.error_next > 0 {
            self.error_next -= 1;
            true
        } else {
            self.error_rate > 0.0 && rng.unit() < self.error_rate
        };
        if error {
            let (code, message) = if self.error_status == 503 {
                (
                    "ServiceUnavailable",
                    "Service is unavailable (injected fault)",
                )
            } else {
                (
                    "InternalFailure",
                    "An internal error occurred (injected fault)",
                )
            };
            let mut e = ApiError::new(code, message);
            e.status = self.error_status;
            return Some(e);
        }
        None
    }
}
