//! personalize-local: an offline emulator of the Amazon Personalize control
//! plane, for the operations personalize-deployer uses (and that a retraining
//! needs): campaigns, solutions, solution versions and tags.
//!
//! It speaks awsJson1.1 like the service (`POST /`,
//! `X-Amz-Target: AmazonPersonalize.<Operation>`), validates inputs with the
//! model's constraints, answers the documented errors, and moves resources
//! through their status lifecycles as time passes (time can be sped up and
//! advanced). Faults can be injected. Admin endpoints live under
//! [`ADMIN_PREFIX`], a path the real API never uses.

pub mod api;
pub mod config;
mod emulator;
pub mod error;
pub mod faults;
pub mod model;
pub mod sample;
pub mod seed;
mod server;
mod validate;

pub use config::Config;
pub use emulator::{ADMIN_PREFIX, Emulator, Reply};
pub use server::{Server, start};
