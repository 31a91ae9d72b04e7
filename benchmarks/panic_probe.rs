//! A Lambda whose handler panics, built with the deployment profile: the
//! benchmark checks that the runtime turns the panic into an invocation
//! error and keeps serving, which `panic = "abort"` would not allow (the
//! process would die and Lambda would report `Runtime.ExitError` and start a
//! new instance, a cold start).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        if event.payload.get("panic").is_some() {
            panic!("deliberate panic from the benchmark's probe");
        }
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
