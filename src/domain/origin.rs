//! Where a deployment request came from, and the deterministic execution name
//! derived from that identity and the request's content.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An S3 object that holds a manifest: the bucket and key it was read from,
/// and the version, ETag and sequencer the event announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestObject {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
}

/// How a manifest was announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    /// An S3 event notification (keys URL-encoded).
    #[serde(rename = "s3-notification")]
    S3Notification,
    /// An EventBridge "Object Created" event from S3 (keys as they are).
    #[serde(rename = "eventbridge")]
    EventBridge,
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Via::S3Notification => "s3-notification",
            Via::EventBridge => "eventbridge",
        })
    }
}

/// One of the project's own EventBridge events: its id (the request's
/// identity), its source, and the account and region it was sent in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub event_id: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The source of a deployment request. Its identity (all but `via`) names
/// the execution, so a redelivered event maps to the same execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Origin {
    /// A manifest object in S3, announced by an S3 event notification or by
    /// EventBridge.
    #[serde(rename = "s3")]
    S3 {
        #[serde(flatten)]
        object: ManifestObject,
        via: Via,
    },
    /// The project's own EventBridge "Campaign Deployment Requested" event.
    #[serde(rename = "event")]
    Event(Sent),
    /// The project's own EventBridge "Campaign Rollback Requested" event: a
    /// revert on request, to the campaign's last known good version or to a
    /// version it names, with the requester's reason.
    #[serde(rename = "rollback", rename_all = "camelCase")]
    Rollback {
        #[serde(flatten)]
        event: Sent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A campaign that follows its solution (the `personalize-deployer:follow`
    /// tag), and the solution's new version it is to serve, found by a
    /// CreateSolutionVersion call or by the scheduled look: both find the
    /// same origin, so that one version is one execution.
    #[serde(rename = "follow", rename_all = "camelCase")]
    Follow {
        campaign_arn: String,
        solution_version_arn: String,
    },
}

impl Origin {
    /// Whether the origin alone names the execution: a followed version is
    /// deployed once, whatever the campaign's configuration when it was
    /// found.
    pub fn names_itself(&self) -> bool {
        matches!(self, Origin::Follow { .. })
    }

    /// What kind of origin it is: its `type` on the wire (`s3`, `event`,
    /// `rollback`, `follow`).
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::S3 { .. } => "s3",
            Origin::Event(_) => "event",
            Origin::Rollback { .. } => "rollback",
            Origin::Follow { .. } => "follow",
        }
    }

    /// The identity of the request, independent of how it was delivered.
    fn identity(&self) -> String {
        match self {
            Origin::S3 { object, via: _ } => format!(
                "s3\n{}\n{}\n{}\n{}\n{}",
                object.bucket,
                object.key,
                object.version_id.as_deref().unwrap_or(""),
                object.etag.as_deref().unwrap_or("").trim_matches('"'),
                object.sequencer.as_deref().unwrap_or("")
            ),
            Origin::Event(Sent {
                event_id, source, ..
            }) => format!("event\n{source}\n{event_id}"),
            Origin::Rollback {
                event: Sent {
                    event_id, source, ..
                },
                ..
            } => format!("rollback\n{source}\n{event_id}"),
            Origin::Follow {
                campaign_arn,
                solution_version_arn,
            } => format!("follow\n{campaign_arn}\n{solution_version_arn}"),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::S3 { object, via } => {
                write!(f, "s3://{}/{}", object.bucket, object.key)?;
                if let Some(v) = &object.version_id {
                    write!(f, " (version {v})")?;
                }
                write!(f, " via {via}")
            }
            Origin::Event(Sent {
                event_id, source, ..
            }) => write!(f, "EventBridge event {event_id} from {source}"),
            Origin::Rollback {
                event: Sent {
                    event_id, source, ..
                },
                ..
            } => write!(
                f,
                "rollback requested by EventBridge event {event_id} from {source}"
            ),
            Origin::Follow {
                solution_version_arn,
                ..
            } => write!(
                f,
                "following the solution: new version {solution_version_arn}"
            ),
        }
    }
}

/// Longest campaign-name prefix kept in an execution name: prefix, `-` and 32
/// hex digits make at most 80 characters.
const NAME_PREFIX_MAX: usize = 80 - 1 - HASH_HEX_LEN;
const HASH_HEX_LEN: usize = 32;

/// The execution name for a request: a readable prefix (the campaign name, or
/// `request` when it has none usable) and 128 bits of SHA-256 over the origin's
/// identity and the content. Always 1–80 characters of `0-9A-Za-z_-`.
pub fn execution_name(campaign_name: Option<&str>, origin: &Origin, content: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(origin.identity().as_bytes());
    hasher.update([0u8]);
    hasher.update(content);
    let digest = hasher.finalize();
    let hex: String = digest
        .iter()
        .take(HASH_HEX_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    let prefix: String = campaign_name
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(NAME_PREFIX_MAX)
        .collect();
    let prefix = if prefix.is_empty() {
        "request"
    } else {
        &prefix
    };
    format!("{prefix}-{hex}")
}
