//! The errors of the domain and the handlers, each with the stable `errorType`
//! name that the state machine's Retry and Catch clauses match (the handlers
//! report it to Lambda).

use crate::listed::listed;
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
    /// The campaign was busy again after the most waits for it (see
    /// `MAX_WAITS`). Not retried: the waits were the retries.
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

listed! {
/// The stable names of [`Error`]s: the `errorType` a Lambda reports and
/// the state machine's Retry and Catch clauses match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidTaskInput,
    InvalidRequest,
    CampaignBusy,
    CampaignDeleting,
    ResourceNotFound,
    ResourceInUse,
    InvalidInput,
    LimitExceeded,
    Throttled,
    ServiceUnavailable,
    AwsError,
    UnsupportedEvent,
    TriggerFailed,
    /// A handler panicked (a bug): reported at the Lambda edge, never an
    /// [`Error`].
    HandlerPanicked,
}
}

/// Whether an error may go away if the same call is made again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Retry {
    Always,
    Never,
    /// It depends on the error's detail (deploy-trigger's `TriggerFailed`:
    /// when one of the failures was transient).
    Depends,
}

impl ErrorType {
    pub fn name(self) -> &'static str {
        match self {
            ErrorType::InvalidTaskInput => "InvalidTaskInput",
            ErrorType::InvalidRequest => "InvalidRequest",
            ErrorType::CampaignBusy => "CampaignBusy",
            ErrorType::CampaignDeleting => "CampaignDeleting",
            ErrorType::ResourceNotFound => "ResourceNotFound",
            ErrorType::ResourceInUse => "ResourceInUse",
            ErrorType::InvalidInput => "InvalidInput",
            ErrorType::LimitExceeded => "LimitExceeded",
            ErrorType::Throttled => "Throttled",
            ErrorType::ServiceUnavailable => "ServiceUnavailable",
            ErrorType::AwsError => "AwsError",
            ErrorType::UnsupportedEvent => "UnsupportedEvent",
            ErrorType::TriggerFailed => "TriggerFailed",
            ErrorType::HandlerPanicked => "HandlerPanicked",
        }
    }

    pub fn retry(self) -> Retry {
        match self {
            ErrorType::Throttled | ErrorType::ServiceUnavailable => Retry::Always,
            ErrorType::TriggerFailed => Retry::Depends,
            _ => Retry::Never,
        }
    }
}

impl Error {
    pub fn kind(&self) -> ErrorType {
        match self {
            Error::InvalidTaskInput(_) => ErrorType::InvalidTaskInput,
            Error::InvalidRequest(_) => ErrorType::InvalidRequest,
            Error::CampaignBusy { .. } => ErrorType::CampaignBusy,
            Error::CampaignDeleting { .. } => ErrorType::CampaignDeleting,
            Error::ResourceNotFound(_) => ErrorType::ResourceNotFound,
            Error::ResourceInUse(_) => ErrorType::ResourceInUse,
            Error::InvalidInput(_) => ErrorType::InvalidInput,
            Error::LimitExceeded(_) => ErrorType::LimitExceeded,
            Error::Throttled(_) => ErrorType::Throttled,
            Error::ServiceUnavailable(_) => ErrorType::ServiceUnavailable,
            Error::Aws(_) => ErrorType::AwsError,
            Error::UnsupportedEvent(_) => ErrorType::UnsupportedEvent,
            Error::TriggerFailed { .. } => ErrorType::TriggerFailed,
        }
    }

    /// The stable `errorType` reported to Lambda and matched by Step Functions.
    pub fn error_type(&self) -> &'static str {
        self.kind().name()
    }

    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(&self) -> bool {
        match (self, self.kind().retry()) {
            (Error::TriggerFailed { retryable, .. }, _) => *retryable,
            (_, retry) => retry == Retry::Always,
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
