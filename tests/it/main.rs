//! The product's tests, in one binary (one link of the SDK): each module
//! covers one part, `support` holds the in-memory ports and the sample events
//! they share. Tests of pure functions live next to their code in `src/`;
//! personalize-local's own tests are in `personalize-local/tests/`.

mod adapters;
mod binaries;
mod contract;
mod deploy;
mod deployment_profile;
mod emulator_handlers;
mod execution;
mod follow;
mod gate;
mod metrics;
mod naming;
mod record;
mod status;
mod support;
mod training;
mod trigger;
mod validation;
mod watch;
