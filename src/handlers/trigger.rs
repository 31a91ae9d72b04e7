//! deploy-trigger: turns S3 event notifications, EventBridge "Object Created"
//! events and "Campaign Deployment Requested" events into executions of the
//! deployment state machine, one per request.

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::notification::REQUEST_DETAIL_TYPE;
use crate::domain::origin::Origin;
use crate::domain::request::{DeploymentRequest, Rejection};
use crate::domain::workflow::PlannedExecution;
use crate::error::Error;
use crate::ports::{Fetched, ObjectStore, Started, Workflow};

/// Manifests larger than this are rejected without being read.
pub const MANIFEST_MAX_BYTES: u64 = 256 * 1024;

/// What deploy-trigger did with an event (its Lambda response).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerReport {
    pub executions: Vec<ExecutionReport>,
    /// Records that are not requests (other S3 event types, test events).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionReport {
    pub name: String,
    /// `STARTED`, or `ALREADY_HANDLED` when an execution of that name exists.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    pub rejected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_name: Option<String>,
    pub origin: String,
}

/// A request found in an event, before its body is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A manifest object to read. `alternative_key` is the key as it appeared in
    /// the event when decoding changed it, tried if the decoded key is missing.
    Manifest {
        origin: Origin,
        size: Option<u64>,
        alternative_key: Option<String>,
    },
    /// A request carried in the event itself.
    Inline { origin: Origin, detail: Value },
}

/// The requests an event carries and the records it ignores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classified {
    pub sources: Vec<Source>,
    pub ignored: Vec<String>,
}

#[derive(Deserialize)]
struct S3Notification {
    #[serde(rename = "Records")]
    records: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    event_source: Option<String>,
    event_name: Option<String>,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object {
    key: String,
    size: Option<u64>,
    #[serde(rename = "eTag")]
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

#[derive(Deserialize)]
struct EventBridgeEnvelope {
    id: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    account: Option<String>,
    region: Option<String>,
    #[serde(default)]
    detail: Value,
}

#[derive(Deserialize)]
struct ObjectCreatedDetail {
    bucket: S3Bucket,
    object: ObjectCreatedObject,
}

#[derive(Deserialize)]
struct ObjectCreatedObject {
    key: String,
    size: Option<u64>,
    etag: Option<String>,
    #[serde(rename = "version-id")]
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// Decodes an S3 event key: `+` is a space and `%xx` an escaped byte.
pub fn decode_s3_key(key: &str) -> Result<String, String> {
    let plus_decoded = key.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("object key {key:?} does not decode to UTF-8"))
}

fn unsupported(what: impl Into<String>) -> Error {
    Error::UnsupportedEvent(format!(
        "{}; deploy-trigger accepts S3 event notifications (\"Records\"), EventBridge \
         \"Object Created\" events from aws.s3, and \"{REQUEST_DETAIL_TYPE}\" events",
        what.into()
    ))
}

/// Finds the requests in an event.
pub fn classify(event: &Value) -> Result<Classified, Error> {
    let Some(obj) = event.as_object() else {
        return Err(unsupported("the event is not a JSON object"));
    };
    if obj.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Classified {
            sources: Vec::new(),
            ignored: vec!["s3:TestEvent".to_string()],
        });
    }
    if obj.contains_key("Records") {
        return classify_s3_notification(event);
    }
    if obj.contains_key("detail-type") {
        return classify_eventbridge(event);
    }
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    Err(unsupported(format!(
        "the event has an unknown shape (keys: {})",
        keys.join(", ")
    )))
}

fn classify_s3_notification(event: &Value) -> Result<Classified, Error> {
    let notification: S3Notification = serde_json::from_value(event.clone())
        .map_err(|e| unsupported(format!("\"Records\" is not a list of records ({e})")))?;
    let mut out = Classified::default();
    for (i, raw) in notification.records.iter().enumerate() {
        let record: S3Record = serde_json::from_value(raw.clone())
            .map_err(|e| unsupported(format!("Records[{i}] is not an S3 event record ({e})")))?;
        if record.event_source.as_deref() != Some("aws:s3") {
            return Err(unsupported(format!(
                "Records[{i}] has eventSource {:?}, not \"aws:s3\"",
                record.event_source.as_deref().unwrap_or("(none)")
            )));
        }
        let event_name = record.event_name.unwrap_or_default();
        let raw_key = record.s3.object.key;
        if !event_name.starts_with("ObjectCreated:") {
            out.ignored.push(format!(
                "Records[{i}]: {event_name} for s3://{}/{raw_key}",
                record.s3.bucket.name
            ));
            continue;
        }
        // A key that does not decode is used as given (and, if it does not
        // exist, the request is rejected like any missing manifest).
        let key = decode_s3_key(&raw_key).unwrap_or_else(|_| raw_key.clone());
        out.sources.push(Source::Manifest {
            origin: Origin::S3 {
                bucket: record.s3.bucket.name,
                key,
                version_id: record.s3.object.version_id.filter(|v| !v.is_empty()),
                etag: record.s3.object.e_tag,
                sequencer: record.s3.object.sequencer,
                via: "s3-notification".to_string(),
            },
            size: record.s3.object.size,
            alternative_key: None,
        });
    }
    Ok(out)
}

fn classify_eventbridge(event: &Value) -> Result<Classified, Error> {
    let envelope: EventBridgeEnvelope = serde_json::from_value(event.clone())
        .map_err(|e| unsupported(format!("malformed EventBridge event ({e})")))?;
    let source = Source::from_eventbridge(envelope)?;
    Ok(Classified {
        sources: vec![source],
        ignored: Vec::new(),
    })
}

impl Source {
    fn from_eventbridge(envelope: EventBridgeEnvelope) -> Result<Source, Error> {
        match (envelope.source.as_str(), envelope.detail_type.as_str()) {
            ("aws.s3", "Object Created") => {
                let detail: ObjectCreatedDetail = serde_json::from_value(envelope.detail)
                    .map_err(|e| unsupported(format!("malformed Object Created detail ({e})")))?;
                // EventBridge carries the key as it is (events show raw
                // characters such as ':'); in case it arrives URL-encoded like
                // a notification's, the decoded form is the fallback.
                let key = detail.object.key;
                let alternative_key = decode_s3_key(&key).ok().filter(|decoded| *decoded != key);
                Ok(Source::Manifest {
                    origin: Origin::S3 {
                        bucket: detail.bucket.name,
                        key,
                        version_id: detail.object.version_id.filter(|v| !v.is_empty()),
                        etag: detail.object.etag,
                        sequencer: detail.object.sequencer,
                        via: "eventbridge".to_string(),
                    },
                    size: detail.object.size,
                    alternative_key,
                })
            }
            (source, REQUEST_DETAIL_TYPE) => {
                let id = envelope
                    .id
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| unsupported("the EventBridge event has no id"))?;
                Ok(Source::Inline {
                    origin: Origin::Event {
                        event_id: id,
                        source: source.to_string(),
                        account: envelope.account,
                        region: envelope.region,
                    },
                    detail: envelope.detail,
                })
            }
            (source, detail_type) => Err(unsupported(format!(
                "EventBridge events from {source:?} with detail-type {detail_type:?} are not handled"
            ))),
        }
    }
}

/// Reads a source's request and plans its execution. Only transient read
/// failures are errors; everything else becomes a rejected request.
async fn plan<S: ObjectStore>(store: &S, source: Source) -> Result<PlannedExecution, Error> {
    match source {
        Source::Inline { origin, detail } => {
            let raw = serde_json::to_vec(&detail).unwrap_or_default();
            Ok(PlannedExecution::new(
                DeploymentRequest::from_value(&detail),
                origin,
                &raw,
            ))
        }
        Source::Manifest {
            origin,
            size,
            alternative_key,
        } => {
            let Origin::S3 {
                bucket,
                key,
                version_id,
                ..
            } = &origin
            else {
                return Err(unsupported("a manifest source without an S3 origin"));
            };
            let mut fetched_key = None;
            let fetched = match size {
                Some(size) if size > MANIFEST_MAX_BYTES => Fetched::TooLarge(size),
                _ => {
                    let first = store
                        .get_object(bucket, key, version_id.as_deref(), MANIFEST_MAX_BYTES)
                        .await?;
                    match (first, &alternative_key) {
                        (Fetched::NotFound, Some(alt)) => {
                            let second = store
                                .get_object(bucket, alt, version_id.as_deref(), MANIFEST_MAX_BYTES)
                                .await?;
                            if second != Fetched::NotFound {
                                fetched_key = Some(alt.clone());
                            }
                            second
                        }
                        (first, _) => first,
                    }
                }
            };
            let (parsed, raw) = match fetched {
                Fetched::Body(body) => (DeploymentRequest::from_slice(&body), body),
                Fetched::NotFound => {
                    let tried = match &alternative_key {
                        Some(alt) => format!("s3://{bucket}/{key} (or {alt})"),
                        None => format!("s3://{bucket}/{key}"),
                    };
                    let rule = format!(
                        "{tried} could not be read: the object (or that version) does not exist"
                    );
                    (
                        Err(Rejection::single("manifest", rule.clone())),
                        rule.into_bytes(),
                    )
                }
                Fetched::TooLarge(size) => {
                    let rule = format!(
                        "is {size} bytes; a manifest may be at most {MANIFEST_MAX_BYTES} bytes (256 KiB)"
                    );
                    (
                        Err(Rejection::single("manifest", rule.clone())),
                        rule.into_bytes(),
                    )
                }
            };
            let mut origin = origin;
            if let (Some(fetched), Origin::S3 { key, .. }) = (fetched_key, &mut origin) {
                *key = fetched;
            }
            Ok(PlannedExecution::new(parsed, origin, &raw))
        }
    }
}

/// Plans one request and starts its execution.
async fn start<S: ObjectStore, W: Workflow>(
    store: &S,
    workflow: &W,
    source: Source,
    origin: String,
) -> Result<ExecutionReport, Error> {
    let planned = plan(store, source).await?;
    let started = workflow
        .start_execution(&planned.name, &planned.input)
        .await?;
    let (status, execution_arn) = match started {
        Started::New { execution_arn } => ("STARTED", Some(execution_arn)),
        Started::AlreadyExists => ("ALREADY_HANDLED", None),
    };
    Ok(ExecutionReport {
        name: planned.name,
        status: status.to_string(),
        execution_arn,
        rejected: planned.rejected,
        campaign_name: planned.campaign_name,
        origin,
    })
}

/// Requests of one event handled at the same time (S3 may batch many records
/// into one event; each costs a GetObject and a StartExecution round trip).
pub const CONCURRENT_REQUESTS: usize = 8;

/// Handles one deploy-trigger event: one execution per request found in it,
/// up to [`CONCURRENT_REQUESTS`] at a time, reported in the event's order.
/// A request that cannot be started does not stop the others; the error
/// reported at the end makes Lambda retry the event, which is safe because
/// execution names are deterministic.
pub async fn handle<S: ObjectStore, W: Workflow>(
    store: &S,
    workflow: &W,
    event: &Value,
) -> Result<TriggerReport, Error> {
    let classified = classify(event)?;
    let total = classified.sources.len();
    let mut report = TriggerReport {
        executions: Vec::with_capacity(total),
        ignored: classified.ignored,
    };
    // Each request logs its outcome as soon as it has one (a time-out part
    // way through keeps the log of what was started); the report keeps the
    // event's order.
    let mut outcomes: Vec<_> = stream::iter(classified.sources.into_iter().enumerate())
        .map(|(index, source)| async move {
            let origin = match &source {
                Source::Manifest { origin, .. } | Source::Inline { origin, .. } => {
                    origin.to_string()
                }
            };
            let outcome = start(store, workflow, source, origin.clone()).await;
            match &outcome {
                Ok(execution) => tracing::info!(
                    execution = %execution.name,
                    status = %execution.status,
                    rejected = execution.rejected,
                    %origin,
                    "deployment request handled"
                ),
                Err(e) => tracing::error!(error = %e, %origin, "could not start the deployment"),
            }
            (index, origin, outcome)
        })
        .buffer_unordered(CONCURRENT_REQUESTS)
        .collect()
        .await;
    outcomes.sort_by_key(|(index, _, _)| *index);
    let mut failures = Vec::new();
    let mut retryable = false;
    for (_, origin, outcome) in outcomes {
        match outcome {
            Ok(execution) => report.executions.push(execution),
            Err(e) => {
                retryable |= e.is_retryable();
                failures.push(format!("{origin}: {e}"));
            }
        }
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(Error::TriggerFailed {
            failed: failures.len(),
            total,
            details: failures.join("; "),
            retryable,
        })
    }
}
