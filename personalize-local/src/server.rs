//! The HTTP/1.1 server, and in-process calls of the admin endpoints.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::Config;
use crate::emulator::{ADMIN_PREFIX, Emulator, Reply, error_reply};
use crate::error::ApiError;

/// Requests larger than this are refused.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A running emulator.
pub struct Server {
    pub addr: SocketAddr,
    pub emulator: Arc<Emulator>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// `http://<addr>`: the endpoint URL to give clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// POSTs `body` to the admin endpoint `path` (below [`ADMIN_PREFIX`],
    /// e.g. `/seed`), in process, and returns the answer. Anything but a 200
    /// is an error that names the endpoint, the status and the answer.
    pub fn admin(&self, path: &str, body: Value) -> Result<Value, String> {
        let reply = self.emulator.admin(
            "POST",
            &format!("{ADMIN_PREFIX}{path}"),
            body.to_string().as_bytes(),
        );
        let answer = String::from_utf8_lossy(&reply.body);
        if reply.status != 200 {
            return Err(format!("POST {path}: HTTP {}: {answer}", reply.status));
        }
        serde_json::from_str(&answer).map_err(|e| format!("POST {path}: {e}: {answer}"))
    }

    /// Moves the emulator's clock forward (`POST /clock`).
    pub fn advance_clock(&self, seconds: f64) -> Result<Value, String> {
        self.admin("/clock", json!({"advanceSeconds": seconds}))
    }

    /// Changes the injected faults (`POST /faults`); answers all of them.
    pub fn set_faults(&self, faults: Value) -> Result<Value, String> {
        self.admin("/faults", faults)
    }

    /// Adds resources from a seed document (`POST /seed`).
    pub fn seed(&self, seed: Value) -> Result<Value, String> {
        self.admin("/seed", seed)
    }

    /// Makes a new version of a solution as its automatic training would
    /// (`POST /auto-train`); the version's ARN.
    pub fn auto_train(&self, solution_arn: &str) -> Result<String, String> {
        let answer = self.admin("/auto-train", json!({"solutionArn": solution_arn}))?;
        answer["solutionVersionArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("POST /auto-train: no solutionVersionArn in {answer}"))
    }

    /// Stops accepting connections.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Binds the configured address and serves until stopped.
pub async fn start(config: Config) -> Result<Server, String> {
    let address = format!("{}:{}", config.host, config.port);
    let emulator = Arc::new(Emulator::new(config)?);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let (tx, mut rx) = oneshot::channel();
    let shared = emulator.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let emulator = shared.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let emulator = emulator.clone();
                            async move { Ok::<_, Infallible>(handle(&emulator, req).await) }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    });
    Ok(Server {
        addr,
        emulator,
        shutdown: Some(tx),
        task,
    })
}

async fn handle(emulator: &Emulator, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = ApiError::serialization(format!(
                "the request body could not be read or is larger than {MAX_BODY} bytes"
            ));
            return to_response(error_reply(&e, "0".into()));
        }
    };
    let reply = if path.starts_with(ADMIN_PREFIX) {
        emulator.admin(&method, &path, &body)
    } else if method == "POST" && path == "/" {
        emulator.api(target.as_deref(), &body)
    } else {
        let e = ApiError::new(
            "UnknownOperationException",
            format!("personalize-local serves POST / (got {method} {path})"),
        );
        let mut reply = error_reply(&e, "0".into());
        reply.status = 404;
        reply
    };
    to_response(reply)
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(reply.status)
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("x-amzn-RequestId", reply.request_id.as_str());
    if let Some(t) = &reply.error_type {
        builder = builder.header("X-Amzn-ErrorType", t.as_str());
    }
    builder
        .body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
