//! The errors of the domain and the handlers, each with the stable `errorType`
//! name that the state machine's Retry and Catch clauses match (the handlers
//! report it to Lambda).

use crate::ports::{ApiError, ApiErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The task input is not what the state machine sends.
    #[error("invalid task input: {0}")]
    InvalidTaskInput(String),
    /// The deployment request breaks a rule (only reachable when a request did
    /// not come through deploy-trigger).
    #[error("invalid deployment request: {0}")]
    InvalidRequest(String),
    /// A create or update of the campaign is already under way. Retryable.
    #[error("campaign {campaign} is busy: {detail}")]
    CampaignBusy { campaign: String, detail: String },
    /// The campaign is being deleted.
    #[error("campaign {campaign} is being deleted (status {status})")]
    CampaignDeleting { campaign: String, status: String },
    #[error("not found: {0}")]
    ResourceNotFound(ApiError),
    #[error("resource in use: {0}")]
    ResourceInUse(ApiError),
    #[error("rejected by the service: {0}")]
    InvalidInput(ApiError),
    #[error("limit exceeded: {0}")]
    LimitExceeded(ApiError),
    /// Throttling that outlasted the SDK's retries. Retryable.
    #[error("throttled: {0}")]
    Throttled(ApiError),
    /// 5xx, time-outs, connection failures that outlasted the SDK's retries.
    /// Retryable.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(ApiError),
    #[error("AWS error: {0}")]
    Aws(ApiError),
    /// deploy-trigger was invoked with an event it does not know.
    #[error("unsupported event: {0}")]
    UnsupportedEvent(String),
    /// deploy-trigger could not start every execution of an event; the others
    /// were started. Retrying the event is safe; it can help when one of the
    /// failures was transient (`retryable`).
    #[error("{failed} of {total} requests could not be started: {details}")]
    TriggerFailed {
        failed: usize,
        total: usize,
        details: String,
        retryable: bool,
    },
}

impl Error {
    /// The stable `errorType` reported to Lambda and matched by Step Functions.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::InvalidTaskInput(_) => "InvalidTaskInput",
            Error::InvalidRequest(_) => "InvalidRequest",
            Error::CampaignBusy { .. } => "CampaignBusy",
            Error::CampaignDeleting { .. } => "CampaignDeleting",
            Error::ResourceNotFound(_) => "ResourceNotFound",
            Error::ResourceInUse(_) => "ResourceInUse",
            Error::InvalidInput(_) => "InvalidInput",
            Error::LimitExceeded(_) => "LimitExceeded",
            Error::Throttled(_) => "Throttled",
            Error::ServiceUnavailable(_) => "ServiceUnavailable",
            Error::Aws(_) => "AwsError",
            Error::UnsupportedEvent(_) => "UnsupportedEvent",
            Error::TriggerFailed { .. } => "TriggerFailed",
        }
    }

    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::CampaignBusy { .. } | Error::Throttled(_) | Error::ServiceUnavailable(_) => true,
            Error::TriggerFailed { retryable, .. } => *retryable,
            _ => false,
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        match e.kind {
            ApiErrorKind::NotFound => Error::ResourceNotFound(e),
            ApiErrorKind::InUse => Error::ResourceInUse(e),
            ApiErrorKind::InvalidInput => Error::InvalidInput(e),
            ApiErrorKind::LimitExceeded => Error::LimitExceeded(e),
            ApiErrorKind::Throttled => Error::Throttled(e),
            ApiErrorKind::Unavailable => Error::ServiceUnavailable(e),
            ApiErrorKind::AlreadyExists | ApiErrorKind::Other => Error::Aws(e),
        }
    }
}
