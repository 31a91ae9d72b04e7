//! The ports implemented with the AWS SDK for Rust: one adapter per service.
//! SDK calls use the SDK's standard retry (throttling, 5xx, time-outs and
//! connection errors, with exponential backoff and jitter); what outlasts it
//! is classified here into an [`ApiError`].

pub mod clock;
pub mod cloudwatch;
pub mod emf;
pub mod pace;
pub mod personalize;
pub mod s3;
mod sdk;
pub mod sfn;

pub use clock::SystemClock;
pub use cloudwatch::CloudWatchClient;
pub use emf::EmfStdout;
pub use personalize::PersonalizeClient;
pub use s3::S3Client;
pub use sdk::{ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, OPERATION_TIMEOUT, load_aws_config};
pub use sfn::StepFunctionsClient;
