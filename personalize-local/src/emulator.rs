//! The emulator: the state behind one lock, the API and the admin endpoints,
//! answered as [`Reply`]s (the HTTP server is in `server`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::api::{self, World};
use crate::config::Config;
use crate::error::ApiError;
use crate::faults::{FailRule, Faults, Rng};
use crate::model::State;
use crate::seed;

/// Where the admin endpoints live.
pub const ADMIN_PREFIX: &str = "/_personalize-local";
const TARGET_PREFIX: &str = "AmazonPersonalize.";

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// Set on errors: the `X-Amzn-ErrorType` header.
    pub error_type: Option<String>,
    pub request_id: String,
}

struct Inner {
    world: World,
    faults: Faults,
    /// Seconds added to the wall clock (advanced through the admin endpoint).
    clock_offset: f64,
}

/// The emulator: configuration and state, safe to share between requests.
pub struct Emulator {
    config: Config,
    inner: Mutex<Inner>,
}

fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn json_reply(status: u16, value: &Value, request_id: String) -> Reply {
    Reply {
        status,
        body: serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
        error_type: None,
        request_id,
    }
}

pub(crate) fn error_reply(e: &ApiError, request_id: String) -> Reply {
    let mut reply = json_reply(
        e.status,
        &json!({"__type": e.code, "message": e.message}),
        request_id,
    );
    reply.error_type = Some(e.code.clone());
    reply
}

impl Emulator {
    pub fn new(config: Config) -> Result<Emulator, String> {
        config.faults.check()?;
        let mut world = World {
            state: State {
                deploy_failures: config.deploy_failures.clone(),
                ..State::default()
            },
            now: wall_clock(),
            rng: Rng::new(config.random_seed),
        };
        if let Some(path) = &config.seed_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--seed-file {}: {e}", path.display()))?;
            let seed = serde_json::from_str(&text)
                .map_err(|e| format!("--seed-file {}: {e}", path.display()))?;
            seed::apply(&mut world, &config, seed)
                .map_err(|e| format!("--seed-file {}: {e}", path.display()))?;
        }
        Ok(Emulator {
            inner: Mutex::new(Inner {
                world,
                faults: config.faults.clone(),
                clock_offset: 0.0,
            }),
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs `f` on the state brought up to date, under the lock. A panic is
    /// turned into an `InternalFailure`, never into a dead server.
    fn with_world<T>(&self, f: impl FnOnce(&mut Inner, &Config) -> T) -> Result<T, ApiError> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let now = wall_clock() + inner.clock_offset;
        inner.world.now = now;
        let timings = self.config.timings();
        catch_unwind(AssertUnwindSafe(|| {
            inner.world.state.advance(now, &timings);
            f(&mut inner, &self.config)
        }))
        .map_err(|_| {
            let mut e = ApiError::new("InternalFailure", "internal error in personalize-local");
            e.status = 500;
            e
        })
    }

    fn request_id(&self) -> String {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.world.rng.request_id()
    }

    /// Answers one API request: its `X-Amz-Target` header and body.
    pub fn api(&self, target: Option<&str>, body: &[u8]) -> Reply {
        let request_id = self.request_id();
        let result = (|| {
            let op = target
                .and_then(|t| t.strip_prefix(TARGET_PREFIX))
                .filter(|op| !op.is_empty())
                .ok_or_else(|| {
                    ApiError::new(
                        "UnknownOperationException",
                        match target {
                            None => "Missing X-Amz-Target header".to_string(),
                            Some(t) => format!("Unknown operation {t:?}"),
                        },
                    )
                })?;
            let trimmed = body.iter().all(u8::is_ascii_whitespace);
            let input: Map<String, Value> = if trimmed {
                Map::new()
            } else {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => map,
                    Ok(_) => {
                        return Err(ApiError::serialization(
                            "The request body must be a JSON object",
                        ));
                    }
                    Err(e) => {
                        return Err(ApiError::serialization(format!(
                            "The request body is not valid JSON: {e}"
                        )));
                    }
                }
            };
            self.with_world(|inner, config| {
                if let Some(fault) = inner.faults.draw(&mut inner.world.rng) {
                    return Err(fault);
                }
                api::dispatch(&mut inner.world, config, op, &input)
            })?
        })();
        match result {
            Ok(value) => json_reply(200, &value, request_id),
            Err(e) => error_reply(&e, request_id),
        }
    }

    /// Answers an admin request (path below [`ADMIN_PREFIX`]).
    pub fn admin(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        let request_id = self.request_id();
        let input = || -> Result<Value, ApiError> {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(json!({}));
            }
            serde_json::from_slice(body)
                .map_err(|e| ApiError::serialization(format!("invalid JSON: {e}")))
        };
        let route = path.strip_prefix(ADMIN_PREFIX).unwrap_or(path);
        let result: Result<Value, ApiError> = match (method, route) {
            ("GET", "/health") => {
                self.with_world(|i, _| json!({"status": "ok", "now": i.world.now}))
            }
            ("GET", "/faults") => self.with_world(|i, _| faults_json(i)),
            ("POST", "/faults") => input().and_then(|v| {
                self.with_world(|i, _| {
                    let mut merged = serde_json::to_value(&i.faults).unwrap_or_default();
                    let Value::Object(changes) = &v else {
                        return Err(ApiError::invalid("expected a JSON object"));
                    };
                    let mut failures = None;
                    for (k, val) in changes {
                        if k == "deploymentFailures" || k == "trainingFailures" {
                            let rules: Vec<FailRule> = serde_json::from_value(val.clone())
                                .map_err(|e| ApiError::invalid(format!("{k}: {e}")))?;
                            failures
                                .get_or_insert_with(Vec::new)
                                .push((k.clone(), rules));
                        } else {
                            merged[k] = val.clone();
                        }
                    }
                    let faults: Faults = serde_json::from_value(merged)
                        .map_err(|e| ApiError::invalid(e.to_string()))?;
                    faults.check().map_err(ApiError::invalid)?;
                    i.faults = faults;
                    for (k, rules) in failures.unwrap_or_default() {
                        if k == "deploymentFailures" {
                            i.world.state.deploy_failures = rules;
                        } else {
                            i.world.state.training_failures = rules;
                        }
                    }
                    Ok(faults_json(i))
                })?
            }),
            ("POST", "/clock") => input().and_then(|v| {
                let seconds = v
                    .get("advanceSeconds")
                    .and_then(Value::as_f64)
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| {
                        ApiError::invalid("expected {\"advanceSeconds\": <seconds, 0 or more>}")
                    })?;
                {
                    let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
                    inner.clock_offset += seconds;
                }
                self.with_world(|i, _| json!({"now": i.world.now, "offsetSeconds": i.clock_offset}))
            }),
            ("POST", "/seed") => input().and_then(|v| {
                let seed: seed::Seed = serde_json::from_value(v)
                    .map_err(|e| ApiError::invalid(format!("seed: {e}")))?;
                self.with_world(|i, config| {
                    seed::apply(&mut i.world, config, seed).map_err(ApiError::invalid)
                })?
            }),
            ("POST", "/metrics") => input().and_then(|v| {
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "camelCase", deny_unknown_fields)]
                struct SetMetrics {
                    solution_version_arn: String,
                    metrics: std::collections::BTreeMap<String, f64>,
                }
                let set: SetMetrics = serde_json::from_value(v).map_err(|e| {
                    ApiError::invalid(format!(
                        "expected {{\"solutionVersionArn\": ..., \"metrics\": {{name: number}}}}: {e}"
                    ))
                })?;
                self.with_world(|i, _| {
                    let version = i
                        .world
                        .state
                        .versions
                        .get_mut(&set.solution_version_arn)
                        .ok_or_else(|| {
                            ApiError::not_found(format!(
                                "no solution version {}",
                                set.solution_version_arn
                            ))
                        })?;
                    version.metrics = Some(set.metrics);
                    Ok(json!({"solutionVersionArn": version.arn, "metrics": version.metrics}))
                })?
            }),
            ("POST", "/auto-train") => input().and_then(|v| {
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "camelCase", deny_unknown_fields)]
                struct AutoTrain {
                    solution_arn: String,
                }
                let auto: AutoTrain = serde_json::from_value(v).map_err(|e| {
                    ApiError::invalid(format!("expected {{\"solutionArn\": ...}}: {e}"))
                })?;
                self.with_world(|i, config| {
                    api::auto_train(&mut i.world, config, &auto.solution_arn)
                        .map(|arn| json!({"solutionVersionArn": arn}))
                })?
            }),
            ("POST", "/reset") => self.with_world(|i, config| {
                i.world.state = State::default();
                i.world.state.deploy_failures = config.deploy_failures.clone();
                i.faults = config.faults.clone();
                i.clock_offset = 0.0;
                json!({"status": "reset"})
            }),
            ("GET", "/state") => {
                self.with_world(|i, config| state_json(&i.world.state, config.speed))
            }
            _ => Err(ApiError::not_found(format!(
                "no admin endpoint {method} {path}; see the README"
            ))),
        };
        match result {
            Ok(value) => json_reply(200, &value, request_id),
            Err(e) => error_reply(&e, request_id),
        }
    }
}

fn faults_json(i: &Inner) -> Value {
    let mut v = serde_json::to_value(&i.faults).unwrap_or_default();
    v["deploymentFailures"] =
        serde_json::to_value(&i.world.state.deploy_failures).unwrap_or_default();
    v["trainingFailures"] =
        serde_json::to_value(&i.world.state.training_failures).unwrap_or_default();
    v
}

fn state_json(state: &State, speed: f64) -> Value {
    json!({
        "solutions": state.solutions.values()
            .map(|s| s.to_json(state.latest_version(&s.arn))).collect::<Vec<_>>(),
        "solutionVersions": state.versions.values()
            .map(|v| v.to_json(state.solutions.get(&v.solution_arn), speed)).collect::<Vec<_>>(),
        "campaigns": state.campaigns.values().map(|c| c.to_json()).collect::<Vec<_>>(),
        "tags": state.tags,
    })
}
