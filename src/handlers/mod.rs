//! The Lambda handlers: each translates its event into domain calls.

pub mod deploy;
pub mod status;
pub mod trigger;
