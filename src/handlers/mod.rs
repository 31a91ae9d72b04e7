//! The Lambda handlers: each translates its event into domain calls, and the
//! domain's errors into what Lambda reports.

pub mod deploy;
pub mod status;
mod task;
pub mod trigger;

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use lambda_runtime::Diagnostic;

use crate::error::{Error, ErrorType};

pub use task::TaskError;

/// A handler's error as Lambda reports it: `errorType` is the stable name
/// Step Functions matches, `errorMessage` the text.
impl From<Error> for Diagnostic {
    fn from(e: Error) -> Diagnostic {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

/// A handler's error, or its panic.
pub enum HandlerError<E> {
    Failed(E),
    /// The panic's message.
    Panicked(String),
}

/// As the runtime logs it: the handler's own error as that error says it
/// (a task's names its campaign and execution), a panic by its message.
impl<E: fmt::Debug> fmt::Debug for HandlerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::Failed(e) => fmt::Debug::fmt(e, f),
            HandlerError::Panicked(message) => write!(f, "the handler panicked: {message}"),
        }
    }
}

impl<E: Into<Diagnostic>> From<HandlerError<E>> for Diagnostic {
    fn from(e: HandlerError<E>) -> Diagnostic {
        match e {
            HandlerError::Failed(e) => e.into(),
            HandlerError::Panicked(message) => Diagnostic {
                error_type: ErrorType::HandlerPanicked.name().to_string(),
                error_message: format!("the handler panicked: {message}"),
            },
        }
    }
}

/// Runs a handler's future, reporting a panic in it as the error
/// `HandlerPanicked` (a bug: not retried by the state machine, caught and
/// notified as FAILED) with the panic's message (the runtime would name
/// the payload's Rust type instead); the process goes on serving.
pub async fn guarded<T, E>(
    handler: impl Future<Output = Result<T, E>>,
) -> Result<T, HandlerError<E>> {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result.map_err(HandlerError::Failed),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_string());
            Err(HandlerError::Panicked(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_reported_with_a_stable_error_type_and_its_message() {
        let e: Diagnostic = guarded(async {
            if true {
                panic!("index out of bounds: the len is 0 but the index is 3");
            }
            Ok::<(), Error>(())
        })
        .await
        .unwrap_err()
        .into();
        assert_eq!(e.error_type, "HandlerPanicked");
        assert_eq!(
            e.error_message,
            "the handler panicked: index out of bounds: the len is 0 but the index is 3"
        );
        let formatted: Diagnostic = guarded(async {
            let n = 7;
            if n > 0 {
                panic!("{n} polls");
            }
            Ok::<(), Error>(())
        })
        .await
        .unwrap_err()
        .into();
        assert_eq!(formatted.error_message, "the handler panicked: 7 polls");
        // Errors pass through with their own type.
        let e = guarded(async { Err::<(), _>(Error::InvalidTaskInput("x".into())) })
            .await
            .unwrap_err();
        assert_eq!(format!("{e:?}"), "InvalidTaskInput(\"x\")");
        let e: Diagnostic = e.into();
        assert_eq!(e.error_type, "InvalidTaskInput");
    }
}
