//! The Lambda handlers: each translates its event into domain calls, and the
//! domain's errors into what Lambda reports.

pub mod deploy;
pub mod status;
mod task;
pub mod trigger;

use lambda_runtime::Diagnostic;

use crate::error::Error;

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
