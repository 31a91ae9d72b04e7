//! deploy-trigger: S3 event notifications, EventBridge "Object Created" events
//! and "Campaign Deployment Requested" events, read as `aws_lambda_events`
//! types and translated into the [`Source`]s of the domain's intake, which
//! starts one execution per request; and, for the campaigns that follow
//! their solution, CloudTrail's CreateSolutionVersion calls and the scheduled
//! look, translated into a [`Look`].

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_path_to_error::{Path, Segment};

use crate::domain::follow::{self, Look};
use crate::domain::intake::{self, Intake, Source, TriggerReport};
use crate::domain::notification::REQUEST_DETAIL_TYPE;
use crate::domain::origin::{ManifestObject, Origin};
use crate::domain::request::Scope;
use crate::error::Error;
use crate::ports::{Catalog, ObjectStore, Personalize, Workflow};

/// The detail of S3's "Object Created" EventBridge event (`aws_lambda_events`
/// has no type for it).
#[derive(Deserialize)]
struct ObjectCreated {
    bucket: Bucket,
    object: CreatedObject,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct CreatedObject {
    key: String,
    size: Option<u64>,
    etag: Option<String>,
    #[serde(rename = "version-id")]
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// The part of CloudTrail's record of an API call that following needs
/// (`aws_lambda_events`' `AWSAPICall` requires thirteen members a record
/// may lack, and cannot see `errorCode`).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiCall {
    event_name: String,
    event_time: Option<chrono::DateTime<chrono::Utc>>,
    error_code: Option<String>,
    #[serde(default)]
    request_parameters: Option<Value>,
    #[serde(default)]
    response_elements: Option<Value>,
}

/// CloudTrail's `detail-type` of an API call.
pub const API_CALL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// EventBridge's `detail-type` of a scheduled rule's event.
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";

fn unsupported(what: impl Into<String>) -> Error {
    Error::UnsupportedEvent(format!(
        "{}; deploy-trigger accepts S3 event notifications (\"Records\"), EventBridge \
         \"Object Created\" events from aws.s3, \"{REQUEST_DETAIL_TYPE}\" events, and for \
         following solutions \"{API_CALL_DETAIL_TYPE}\" events from aws.personalize and \
         \"{SCHEDULED_DETAIL_TYPE}\" events",
        what.into()
    ))
}

/// Handles one deploy-trigger event.
pub async fn handle<S: ObjectStore, W: Workflow, P: Personalize + Catalog>(
    store: &S,
    workflow: &W,
    personalize: &P,
    scope: &Scope,
    event: &Value,
) -> Result<TriggerReport, Error> {
    let intake = match look_of(event)? {
        Some(Ok(look)) => follow::look(personalize, scope, look).await?,
        Some(Err(ignored)) => Intake {
            sources: Vec::new(),
            ignored: vec![ignored],
        },
        None => intake_of(event)?,
    };
    for note in &intake.ignored {
        tracing::info!(%note, "nothing to deploy");
    }
    intake::start_all(store, workflow, scope, intake).await
}

/// What a following event asks to look at (an error: why it asks nothing);
/// none for other events.
pub fn look_of(event: &Value) -> Result<Option<Result<Look, String>>, Error> {
    let source = event.get("source").and_then(Value::as_str);
    let detail_type = event.get("detail-type").and_then(Value::as_str);
    match (source, detail_type) {
        (Some("aws.personalize"), Some(API_CALL_DETAIL_TYPE)) => api_call(event).map(Some),
        (Some("aws.events"), Some(SCHEDULED_DETAIL_TYPE)) => Ok(Some(Ok(Look::Scheduled))),
        _ => Ok(None),
    }
}

fn api_call(event: &Value) -> Result<Result<Look, String>, Error> {
    let envelope: EventBridgeEvent<ApiCall> = serde_path_to_error::deserialize(event)
        .map_err(|e| unsupported(format!("malformed CloudTrail event ({e})")))?;
    let call = envelope.detail;
    if call.event_name != "CreateSolutionVersion" {
        return Ok(Err(format!("{} calls are not followed", call.event_name)));
    }
    if let Some(code) = call.error_code {
        return Ok(Err(format!(
            "CreateSolutionVersion failed ({code}): nothing trains"
        )));
    }
    let text = |v: &Option<Value>, member: &str| {
        v.as_ref()
            .and_then(|v| v.get(member))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let solution_arn = text(&call.request_parameters, "solutionArn").ok_or_else(|| {
        unsupported("the CreateSolutionVersion event has no requestParameters.solutionArn")
    })?;
    let at = call
        .event_time
        .or(envelope.time)
        .ok_or_else(|| unsupported("the CreateSolutionVersion event has no eventTime"))?;
    Ok(Ok(Look::Trained {
        solution_arn,
        solution_version_arn: text(&call.response_elements, "solutionVersionArn"),
        at,
    }))
}

/// The requests an event announces.
pub fn intake_of(event: &Value) -> Result<Intake, Error> {
    let Some(obj) = event.as_object() else {
        return Err(unsupported("the event is not a JSON object"));
    };
    if obj.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Intake {
            sources: Vec::new(),
            ignored: vec!["s3:TestEvent".to_string()],
        });
    }
    if obj.contains_key("Records") {
        return s3_notification(event);
    }
    if obj.contains_key("detail-type") {
        return eventbridge(event);
    }
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    Err(unsupported(format!(
        "the event has an unknown shape (keys: {})",
        keys.join(", ")
    )))
}

/// The record index a deserialization error path starts with (`Records[i]`).
fn record_index(path: &Path) -> Option<usize> {
    match path.iter().nth(1) {
        Some(Segment::Seq { index }) => Some(*index),
        _ => None,
    }
}

fn not_from_s3(i: usize, event_source: Option<&Value>) -> Error {
    let source = event_source.map_or("(none)".to_string(), Value::to_string);
    unsupported(format!(
        "Records[{i}] has eventSource {source}, not \"aws:s3\""
    ))
}

fn s3_notification(event: &Value) -> Result<Intake, Error> {
    // A record of another service is named as such before its shape is read.
    for (i, record) in event["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(record) = record.as_object() {
            let source = record.get("eventSource");
            if source.and_then(Value::as_str) != Some("aws:s3") {
                return Err(not_from_s3(i, source));
            }
        }
    }
    let notification: S3Event = serde_path_to_error::deserialize(event).map_err(|e| {
        let Some(i) = record_index(e.path()) else {
            return unsupported(format!(
                "\"Records\" is not a list of records ({})",
                e.inner()
            ));
        };
        let path = e.path().to_string();
        let member = path
            .strip_prefix(&format!("Records[{i}]"))
            .unwrap_or(&path)
            .trim_start_matches('.');
        let at = if member.is_empty() {
            String::new()
        } else {
            format!("{member}: ")
        };
        unsupported(format!(
            "Records[{i}] is not an S3 event record ({at}{})",
            e.inner()
        ))
    })?;
    let mut out = Intake::default();
    for (i, record) in notification.records.into_iter().enumerate() {
        let (Some(bucket), Some(key)) = (record.s3.bucket.name, record.s3.object.key) else {
            return Err(unsupported(format!(
                "Records[{i}] names no object (s3.bucket.name and s3.object.key are required)"
            )));
        };
        let event_name = record.event_name.unwrap_or_default();
        if !event_name.starts_with("ObjectCreated:") {
            out.ignored.push(format!(
                "Records[{i}]: {event_name} for s3://{bucket}/{key}"
            ));
            continue;
        }
        let object = ManifestObject {
            bucket,
            key,
            version_id: record.s3.object.version_id.filter(|v| !v.is_empty()),
            etag: record.s3.object.e_tag,
            sequencer: record.s3.object.sequencer,
        };
        let size = record.s3.object.size.and_then(|s| u64::try_from(s).ok());
        out.sources.push(Source::notified_manifest(object, size));
    }
    Ok(out)
}

fn eventbridge(event: &Value) -> Result<Intake, Error> {
    // The detail is optional here so that a request event without one is
    // rejected (and notified) like any other invalid request.
    let envelope: EventBridgeEvent<Option<Value>> = serde_path_to_error::deserialize(event)
        .map_err(|e| unsupported(format!("malformed EventBridge event ({e})")))?;
    let source = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.s3", "Object Created") => {
            let detail: ObjectCreated =
                serde_path_to_error::deserialize(envelope.detail.unwrap_or_default())
                    .map_err(|e| unsupported(format!("malformed Object Created detail ({e})")))?;
            let object = ManifestObject {
                bucket: detail.bucket.name,
                key: detail.object.key,
                version_id: detail.object.version_id.filter(|v| !v.is_empty()),
                etag: detail.object.etag,
                sequencer: detail.object.sequencer,
            };
            Source::bridged_manifest(object, detail.object.size)
        }
        (source, REQUEST_DETAIL_TYPE) => {
            let event_id = envelope
                .id
                .filter(|id| !id.is_empty())
                .ok_or_else(|| unsupported("the EventBridge event has no id"))?;
            Source::Inline {
                origin: Origin::Event {
                    event_id,
                    source: source.to_string(),
                    account: envelope.account,
                    region: envelope.region,
                },
                detail: envelope.detail.unwrap_or_default(),
            }
        }
        (source, detail_type) => {
            return Err(unsupported(format!(
                "EventBridge events from {source:?} with detail-type {detail_type:?} are not handled"
            )));
        }
    };
    Ok(Intake {
        sources: vec![source],
        ignored: Vec::new(),
    })
}
