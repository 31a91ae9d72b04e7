//! personalize-deployer: deploys Amazon Personalize campaigns automatically
//! whenever a model is retrained.
//!
//! - [`domain`]: requests, validation, decisions and notifications (no SDK).
//! - [`ports`]: the small interfaces the domain needs from AWS.
//! - [`adapters`]: those interfaces implemented with the AWS SDK for Rust.
//! - [`handlers`]: the three Lambda handlers, translating events to domain calls.
//! - [`config`]: environment configuration, read once at start-up.
//! - [`contract`]: the facts the Python side reads (`contract.json`).

pub mod adapters;
pub mod config;
pub mod contract;
pub mod domain;
pub mod error;
pub mod handlers;
mod listed;
pub mod ports;

pub use error::Error;
