//! The product's domain: requests, their validation, campaigns, decisions and
//! notifications. It knows nothing of the AWS SDK.

pub mod alarm;
pub mod arn;
pub mod campaign;
pub mod deploy;
pub mod ending;
pub mod execution;
pub mod field;
pub mod follow;
pub mod gate;
pub mod intake;
pub mod metrics;
pub mod notification;
pub mod origin;
pub mod outcome;
pub mod record;
pub mod request;
pub mod revert;
pub mod schedule;
pub mod status;
pub mod training;
pub mod training_check;
pub mod watch;
pub mod watching;
