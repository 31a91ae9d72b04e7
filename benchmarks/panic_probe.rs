//! A Lambda whose handler panics, built with the deployment profile and run
//! through the same guard as the product's Lambdas: the benchmark checks
//! that the panic comes back as an invocation error with the stable
//! `errorType` `HandlerPanicked` and the panic's message, and that the
//! process keeps serving, which `panic = "abort"` would not allow (the
//! process would die and Lambda would report `Runtime.ExitError` and start a
//! new instance, a cold start).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use personalize_deployer::handlers::guarded;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        guarded(async move {
            if event.payload.get("panic").is_some() {
                panic!("deliberate panic from the benchmark's probe");
            }
            Ok::<Value, personalize_deployer::Error>(event.payload)
        })
    }))
    .await
}
