//! deploy-trigger: S3 event notifications, EventBridge "Object Created" events,
//! "Campaign Deployment Requested" events and "Campaign Rollback Requested"
//! events (a revert, resolved from the campaign's record), read as `aws_lambda_events`
//! types and translated into the [`Source`]s of the domain's intake, which
//! starts one execution per request; and, for the campaigns that follow
//! their solution, CloudTrail's CreateSolutionVersion calls and the scheduled
//! look, translated into a [`Look`]. Transport details end here: an S3
//! notification's URL-encoded key is decoded before the domain sees it.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_path_to_error::{Path, Segment};

use crate::domain::follow::{self, Look};
use crate::domain::intake::{self, Intake, Manifest, Services, Source, TriggerReport};
use crate::domain::notification::REQUEST_DETAIL_TYPE;
use crate::domain::origin::{ManifestObject, Origin, Sent, Via};
use crate::domain::request::Scope;
use crate::domain::revert::{self, ROLLBACK_DETAIL_TYPE, Revert};
use crate::error::Error;
use crate::ports::{Alarms, Catalog, ObjectStore, Personalize, Workflow};

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
         \"Object Created\" events from aws.s3, \"{REQUEST_DETAIL_TYPE}\" and \"{ROLLBACK_DETAIL_TYPE}\" events, and for \
         following solutions \"{API_CALL_DETAIL_TYPE}\" events from aws.personalize and \
         \"{SCHEDULED_DETAIL_TYPE}\" events",
        what.into()
    ))
}

/// What a deploy-trigger event asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Asked {
    /// The requests it carries or announces (none, with why, for an event
    /// that asks nothing: an S3 test event, an API call not followed).
    Requests(Intake),
    /// A look at the campaigns that follow their solution.
    Look(Look),
    /// A revert on request, to resolve from the campaign's record.
    Revert(Revert),
}

/// Handles one deploy-trigger event.
pub async fn handle<S: ObjectStore, A: Alarms, W: Workflow, P: Personalize + Catalog>(
    services: &Services<'_, S, A, W>,
    personalize: &P,
    scope: &Scope,
    event: &Value,
) -> Result<TriggerReport, Error> {
    let intake = match read_event(event)? {
        Asked::Look(look) => follow::look(personalize, scope, look).await?,
        Asked::Revert(revert) => revert::intake(personalize, scope, revert).await?,
        Asked::Requests(intake) => intake,
    };
    for note in &intake.ignored {
        tracing::info!(%note, "nothing to deploy");
    }
    intake::start_all(services, scope, intake).await
}

/// What an event asks for, or why it is not one deploy-trigger handles.
pub fn read_event(event: &Value) -> Result<Asked, Error> {
    let source = event.get("source").and_then(Value::as_str);
    let detail_type = event.get("detail-type").and_then(Value::as_str);
    match (source, detail_type) {
        (Some("aws.personalize"), Some(API_CALL_DETAIL_TYPE)) => api_call(event),
        (Some("aws.events"), Some(SCHEDULED_DETAIL_TYPE)) => Ok(Asked::Look(Look::Scheduled)),
        (_, Some(ROLLBACK_DETAIL_TYPE)) => rollback_request(event),
        _ => intake_of(event).map(Asked::Requests),
    }
}

/// An event that asks nothing, and why.
fn nothing(why: String) -> Asked {
    Asked::Requests(Intake {
        sources: Vec::new(),
        ignored: vec![why],
    })
}

fn api_call(event: &Value) -> Result<Asked, Error> {
    let envelope: EventBridgeEvent<ApiCall> = serde_path_to_error::deserialize(event)
        .map_err(|e| unsupported(format!("malformed CloudTrail event ({e})")))?;
    let call = envelope.detail;
    if call.event_name != "CreateSolutionVersion" {
        return Ok(nothing(format!(
            "{} calls are not followed",
            call.event_name
        )));
    }
    if let Some(code) = call.error_code {
        return Ok(nothing(format!(
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
    Ok(Asked::Look(Look::Trained {
        solution_arn,
        solution_version_arn: text(&call.response_elements, "solutionVersionArn"),
        at,
    }))
}

/// A "Campaign Rollback Requested" event. The detail is optional here so
/// that one without it is rejected (and notified) like any request.
fn rollback_request(event: &Value) -> Result<Asked, Error> {
    let envelope: EventBridgeEvent<Option<Value>> = serde_path_to_error::deserialize(event)
        .map_err(|e| unsupported(format!("malformed EventBridge event ({e})")))?;
    Ok(Asked::Revert(Revert {
        origin: Origin::Rollback {
            event: sent(&envelope)?,
            // The request's own, once read.
            reason: None,
        },
        detail: envelope.detail.unwrap_or_default(),
    }))
}

/// One of the project's own EventBridge events: its id (which names its
/// execution), source, account and region.
fn sent(envelope: &EventBridgeEvent<Option<Value>>) -> Result<Sent, Error> {
    let event_id = envelope
        .id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| unsupported("the EventBridge event has no id"))?;
    Ok(Sent {
        event_id,
        source: envelope.source.clone(),
        account: envelope.account.clone(),
        region: envelope.region.clone(),
    })
}

/// The requests an event announces.
fn intake_of(event: &Value) -> Result<Intake, Error> {
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
        out.sources.push(notified_manifest(object, size));
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
            bridged_manifest(object, detail.object.size)
        }
        (_, REQUEST_DETAIL_TYPE) => Source::Inline {
            origin: Origin::Event(sent(&envelope)?),
            detail: envelope.detail.unwrap_or_default(),
        },
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

/// Decodes an S3 event notification's key: `+` is a space and `%xx` an
/// escaped byte.
fn decode_s3_key(key: &str) -> Result<String, String> {
    let plus_decoded = key.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("object key {key:?} does not decode to UTF-8"))
}

/// A manifest announced by an S3 event notification, whose key is
/// URL-encoded: the decoded key is read. A key that does not decode is read
/// as given (and, if it does not exist, the request is rejected like any
/// missing manifest).
fn notified_manifest(object: ManifestObject, size: Option<u64>) -> Source {
    let key = decode_s3_key(&object.key).unwrap_or(object.key);
    Source::Manifest(Manifest {
        object: ManifestObject { key, ..object },
        via: Via::S3Notification,
        size,
        fallback_key: None,
    })
}

/// A manifest announced by EventBridge, which carries the key as it is
/// (events show raw characters such as ':'); in case it arrives URL-encoded
/// like a notification's, the decoded key is the fallback.
fn bridged_manifest(object: ManifestObject, size: Option<u64>) -> Source {
    let fallback_key = decode_s3_key(&object.key)
        .ok()
        .filter(|decoded| *decoded != object.key);
    Source::Manifest(Manifest {
        object,
        via: Via::EventBridge,
        size,
        fallback_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_keys_are_url_decoded() {
        assert_eq!(
            decode_s3_key("manifests/movie+recs%3Dv2.json").unwrap(),
            "manifests/movie recs=v2.json"
        );
        assert_eq!(decode_s3_key("a%2Bb+c").unwrap(), "a+b c");
        assert_eq!(decode_s3_key("caf%C3%A9.json").unwrap(), "café.json");
        assert_eq!(decode_s3_key("plain/key.json").unwrap(), "plain/key.json");
        assert!(decode_s3_key("bad%FF.json").is_err());
    }
}
