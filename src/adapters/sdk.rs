//! What the adapters share about the SDK: the configuration loaded at
//! start-up, the classification of its errors into [`ApiError`]s, and its
//! timestamps.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::ports::{ApiError, ApiErrorKind};

/// Time limits of every SDK call, well under the functions' own (30 s for
/// deploy-campaign, 900 s for deploy-trigger and campaign-status, whose
/// holds end at least 15 s before it): a stalled connection becomes a retryable
/// `ServiceUnavailable` ("Timeout"), never a function time-out, in the usual
/// case of three calls in a row (describe, create or update, describe).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt of a call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);
/// A call with all its retries.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);

/// The shared SDK configuration (region, credentials, endpoint overrides such
/// as `AWS_ENDPOINT_URL_PERSONALIZE`, the time limits above), loaded once at
/// start-up.
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts())
        .load()
        .await
}

pub(crate) fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Whether an error message speaks of the request rate rather than of a
/// resource quota. Personalize answers both with `LimitExceededException`:
/// "The limit on the number of requests per second has been exceeded." for
/// the first, "More than 5 resources in ACTIVE state..." for the second.
fn speaks_of_request_rate(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "per second",
        "rate exceeded",
        "request rate",
        "throttl",
        "too many requests",
    ]
    .iter()
    .any(|words| message.contains(words))
}

fn kind_of_code(code: &str, message: &str) -> Option<ApiErrorKind> {
    Some(match code {
        "LimitExceededException" if speaks_of_request_rate(message) => ApiErrorKind::Throttled,
        "ResourceNotFoundException"
        | "NoSuchKey"
        | "NoSuchVersion"
        | "NoSuchBucket"
        | "NotFound"
        | "StateMachineDoesNotExist"
        | "ExecutionDoesNotExist" => ApiErrorKind::NotFound,
        "ResourceAlreadyExistsException" | "ExecutionAlreadyExists" => ApiErrorKind::AlreadyExists,
        "ResourceInUseException" => ApiErrorKind::InUse,
        "InvalidInputException"
        | "ValidationException"
        | "ValidationError"
        | "InvalidName"
        | "InvalidArn"
        | "InvalidExecutionInput"
        | "InvalidParameterValue"
        | "SerializationException"
        | "InvalidArgument" => ApiErrorKind::InvalidInput,
        "LimitExceededException"
        | "TooManyTagsException"
        | "TooManyTagKeysException"
        | "ExecutionLimitExceeded" => ApiErrorKind::LimitExceeded,
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "SlowDown"
        | "RequestLimitExceeded" => ApiErrorKind::Throttled,
        "InternalFailure" | "InternalServerError" | "InternalError" | "ServiceUnavailable" => {
            ApiErrorKind::Unavailable
        }
        // Another service's throttling, passed on (S3 reading an object
        // encrypted with a KMS key answers `KMS.ThrottlingException`).
        c if c.ends_with(".ThrottlingException") => ApiErrorKind::Throttled,
        _ => return None,
    })
}

/// Classifies an SDK error.
pub(crate) fn api_error<E>(err: SdkError<E, HttpResponse>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("").to_string();
            let message = e.message().unwrap_or("").to_string();
            let kind = kind_of_code(&code, &message).unwrap_or(match status {
                Some(404) => ApiErrorKind::NotFound,
                Some(429) => ApiErrorKind::Throttled,
                Some(s) if s >= 500 => ApiErrorKind::Unavailable,
                _ => ApiErrorKind::Other,
            });
            let code = if code.is_empty() {
                format!("HTTP {}", status.unwrap_or(0))
            } else {
                code
            };
            ApiError::new(kind, code, message)
        }
        SdkError::TimeoutError(_) => {
            ApiError::new(ApiErrorKind::Unavailable, "Timeout", display_chain(&err))
        }
        SdkError::DispatchFailure(_) => ApiError::new(
            ApiErrorKind::Unavailable,
            "DispatchFailure",
            display_chain(&err),
        ),
        SdkError::ResponseError(_) => ApiError::new(
            ApiErrorKind::Unavailable,
            "ResponseError",
            display_chain(&err),
        ),
        _ => ApiError::new(ApiErrorKind::Other, "SdkError", display_chain(&err)),
    }
}

/// A describe call's answer: `None` when the resource does not exist.
pub(crate) fn found<T>(result: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(answer) => Ok(Some(answer)),
        Err(e) if e.kind == ApiErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// An error and its sources on one line (SDK errors put the useful part in
/// the sources).
fn display_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}
