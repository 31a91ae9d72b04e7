//! Intake: the deployment requests an event announces, read (a manifest from
//! S3, a request carried in the event, a followed campaign's new version),
//! planned as executions of the deployment state machine (a deterministic
//! name and an input that fits), and started, one per request.
//!
//! deploy-trigger's handler (and, for following, [`super::follow`]) turns
//! its event into [`Source`]s; everything after that happens here, behind
//! the [`ObjectStore`] and [`Workflow`] ports.

use std::fmt;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::execution::{Execution, MAX_REPORTED_NAME, Rejected};
use super::field::{FieldError, quote};
use super::origin::{ManifestObject, Origin, Sent, Via, execution_name};
use super::request::{DeploymentRequest, Rejection, Scope};
use crate::error::Error;
use crate::ports::{Alarms, ApiError, Fetched, ObjectStore, Started, Workflow};

/// What the intake reads and starts with: manifests, alarms (a watch's
/// must exist), the state machine.
pub struct Services<'a, S, A, W> {
    pub store: &'a S,
    pub alarms: &'a A,
    pub workflow: &'a W,
}

impl<S, A, W> Clone for Services<'_, S, A, W> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, A, W> Copy for Services<'_, S, A, W> {}

/// Manifests larger than this are rejected without being read.
pub const MANIFEST_MAX_BYTES: u64 = 256 * 1024;

/// Requests of one event handled at the same time (S3 may batch many records
/// into one event; each costs a GetObject and a StartExecution round trip).
pub const CONCURRENT_REQUESTS: usize = 8;

/// A request found in an event, before its body is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A manifest to read from S3.
    Manifest(Manifest),
    /// A request carried in the event itself.
    Inline { origin: Origin, detail: Value },
    /// A request the product made: for a followed campaign's new version,
    /// or for a revert (from the campaign's record); or why there is none.
    Made {
        origin: Origin,
        request: Box<Result<DeploymentRequest, Rejection>>,
        /// A followed version trained by now: an execution of the same name
        /// that gave up waiting for its training (TRAINING_TIMED_OUT) is
        /// tried once more, under another name. Never for a version still
        /// training, which that one more try would wait for (and might
        /// give up on) in vain.
        trained: bool,
    },
}

/// A manifest announced by an event: the object it names (its key as it is
/// to be read), how it was announced, the size the event gave, and a second
/// key to try when the object is not found under the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub object: ManifestObject,
    pub via: Via,
    pub size: Option<u64>,
    pub fallback_key: Option<String>,
}

/// The requests an event carries and the records it ignores (other S3 event
/// types, test events), as its handler found them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Intake {
    pub sources: Vec<Source>,
    pub ignored: Vec<String>,
}

/// What deploy-trigger did with an event (its Lambda response).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerReport {
    pub executions: Vec<ExecutionReport>,
    /// Records that are not requests (other S3 event types, test events).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// One request's execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionReport {
    pub name: String,
    pub status: Handled,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    pub rejected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_name: Option<String>,
    pub origin: String,
}

/// What StartExecution did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Handled {
    /// A new execution (or, for the same name and input, the running one).
    Started,
    /// An execution of that name exists: this request was handled already.
    AlreadyHandled,
}

impl fmt::Display for Handled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Handled::Started => "STARTED",
            Handled::AlreadyHandled => "ALREADY_HANDLED",
        })
    }
}

impl Source {
    /// Where the request comes from, as far as is known before reading it.
    pub fn origin(&self) -> Origin {
        match self {
            Source::Manifest(manifest) => Origin::S3 {
                object: manifest.object.clone(),
                via: manifest.via,
            },
            Source::Inline { origin, .. } | Source::Made { origin, .. } => origin.clone(),
        }
    }
}

/// A manifest as read: the key it was found under (or the first key tried)
/// and the request in it, or why there is none.
struct Read {
    key: String,
    parsed: Result<DeploymentRequest, Rejection>,
    /// The body as read, or the rejection's text: what names the execution.
    raw: Vec<u8>,
}

impl Manifest {
    /// Reads the manifest within [`MANIFEST_MAX_BYTES`], trying the fallback
    /// key when the first is not found or may not be read. A missing,
    /// oversized or unreadable ([`ApiError::denies_for_good`]) manifest is a
    /// rejected request; any other failure is an error, retried.
    async fn read<S: ObjectStore>(&self, store: &S, scope: &Scope) -> Result<Read, ApiError> {
        let ManifestObject {
            bucket,
            key,
            version_id,
            ..
        } = &self.object;
        let rejected = |key: &String, rule: String| Read {
            key: key.clone(),
            parsed: Err(Rejection::single("manifest", rule.clone())),
            raw: rule.into_bytes(),
        };
        if let Some(size) = self.size.filter(|size| *size > MANIFEST_MAX_BYTES) {
            return Ok(rejected(key, too_large(Some(size))));
        }
        // Access denied is remembered and the next key tried: without the
        // right to list the bucket, S3 answers a missing object with 403.
        let mut denied: Option<(&String, ApiError)> = None;
        for candidate in std::iter::once(key).chain(&self.fallback_key) {
            let fetched = store
                .get_object(bucket, candidate, version_id.as_deref(), MANIFEST_MAX_BYTES)
                .await;
            match fetched {
                Ok(Fetched::NotFound) => continue,
                Ok(Fetched::TooLarge(size)) => return Ok(rejected(candidate, too_large(size))),
                Ok(Fetched::Body(body)) => {
                    return Ok(Read {
                        key: candidate.clone(),
                        parsed: DeploymentRequest::from_slice_within(&body, scope),
                        raw: body,
                    });
                }
                Err(e) if e.denies_for_good() => {
                    denied.get_or_insert((candidate, e));
                }
                Err(e) => return Err(e),
            }
        }
        let tried = match &self.fallback_key {
            Some(alt) => format!("s3://{bucket}/{key} (or {alt})"),
            None => format!("s3://{bucket}/{key}"),
        };
        // A manifest that may not be read will not be with retries (a bucket
        // policy, the key policy of the KMS key that encrypts it): rejected
        // with the reason, and notified. The execution is named by the
        // error's code, not its message, which may differ between deliveries
        // of one event.
        if let Some((candidate, e)) = denied {
            return Ok(Read {
                key: candidate.clone(),
                parsed: Err(Rejection::single(
                    "manifest",
                    format!(
                        "{tried} could not be read: {e}; either it does not exist, or \
                         deploy-trigger may not read it (check the bucket policy, and the key \
                         policy of the KMS key that encrypts it)"
                    ),
                )),
                raw: format!("{tried} {}", e.code).into_bytes(),
            });
        }
        Ok(rejected(
            key,
            format!("{tried} could not be read: the object (or that version) does not exist"),
        ))
    }
}

fn too_large(size: Option<u64>) -> String {
    let size = match size {
        Some(size) => format!("is {size} bytes"),
        None => format!("is more than {MANIFEST_MAX_BYTES} bytes"),
    };
    format!("{size}; a manifest may be at most {MANIFEST_MAX_BYTES} bytes (256 KiB)")
}

/// A request whose watch names an alarm that does not exist is rejected,
/// each such alarm named: before anything is written. An alarm that cannot
/// be read is the event's error (tried again with the event).
async fn with_alarms<A: Alarms>(
    alarms: &A,
    scope: &Scope,
    parsed: Result<DeploymentRequest, Rejection>,
) -> Result<Result<DeploymentRequest, Rejection>, Error> {
    let Some(request) = parsed.as_ref().ok() else {
        return Ok(parsed);
    };
    let Some(watch) = request.watch() else {
        return Ok(parsed);
    };
    // The stack's own watch is the operator's, not the requester's: a
    // request is not refused for it (a create, which is never watched,
    // least of all). Its alarms that do not exist are reported by the
    // watch itself (`missing`).
    if scope
        .watch
        .for_campaign(request.campaign_name().as_str())
        .as_ref()
        == Some(watch)
    {
        return Ok(parsed);
    }
    let found = alarms.describe_alarms(&watch.alarms).await?;
    let errors: Vec<FieldError> = watch
        .alarms
        .iter()
        .enumerate()
        .filter(|(_, name)| !found.iter().any(|alarm| &alarm.name == *name))
        .map(|(i, name)| {
            FieldError::new(
                format!("watch.alarms[{i}]"),
                format!(
                    "names no CloudWatch alarm in this account and region: {} (the request's \
                     watch, or its campaign's watch tags)",
                    quote(name)
                ),
            )
        })
        .collect();
    Ok(match parsed {
        Ok(request) if !errors.is_empty() => Err(Rejection {
            campaign_name: Some(request.campaign_name().to_string()),
            errors,
        }),
        other => other,
    })
}

/// A source's request as read (or why there is none), where it came from,
/// and the bytes that name its execution (none for a followed version,
/// which its origin names).
async fn read<S: ObjectStore>(
    store: &S,
    scope: &Scope,
    source: Source,
) -> Result<(Result<DeploymentRequest, Rejection>, Origin, Vec<u8>), Error> {
    match source {
        Source::Made {
            origin, request, ..
        } => Ok((*request, origin, Vec::new())),
        Source::Inline { origin, detail } => {
            let raw = serde_json::to_vec(&detail).unwrap_or_default();
            let mut parsed = DeploymentRequest::from_value_within(&detail, scope);
            if let Origin::Event(Sent { account, .. }) = &origin
                && let Some(refusal) = scope.refuses_event_from(account.as_deref())
            {
                parsed = Err(match parsed {
                    Ok(request) => Rejection {
                        campaign_name: Some(request.campaign_name().to_string()),
                        errors: vec![refusal],
                    },
                    Err(mut rejection) => {
                        rejection.errors.insert(0, refusal);
                        rejection
                    }
                });
            }
            Ok((parsed, origin, raw))
        }
        Source::Manifest(manifest) => {
            let read = manifest.read(store, scope).await?;
            let Manifest { object, via, .. } = manifest;
            let origin = Origin::S3 {
                object: ManifestObject {
                    key: read.key,
                    ..object
                },
                via,
            };
            Ok((read.parsed, origin, read.raw))
        }
    }
}

/// Reads a source's request, checks that its watch's alarms exist, and
/// plans its execution.
async fn plan<S: ObjectStore, A: Alarms>(
    store: &S,
    alarms: &A,
    scope: &Scope,
    source: Source,
) -> Result<PlannedExecution, Error> {
    let trained = matches!(source, Source::Made { trained: true, .. });
    let (parsed, origin, raw) = read(store, scope, source).await?;
    let parsed = with_alarms(alarms, scope, parsed).await?;
    let mut planned = PlannedExecution::new(parsed, origin, &raw);
    if !trained {
        planned.retry_name = None;
    }
    Ok(planned)
}

/// Plans one request and starts its execution.
async fn start<S: ObjectStore, A: Alarms, W: Workflow>(
    services: &Services<'_, S, A, W>,
    scope: &Scope,
    source: Source,
    origin: String,
) -> Result<ExecutionReport, Error> {
    let Services {
        store,
        alarms,
        workflow,
    } = *services;
    let planned = plan(store, alarms, scope, source).await?;
    let mut name = planned.name.clone();
    let mut started = workflow.start_execution(&name, &planned.input).await?;
    // A followed version whose training outlasted its deadline, found again
    // trained: once more.
    if let (Started::AlreadyExists, Some(retry)) = (&started, &planned.retry_name)
        && workflow.failure_of(&name).await?.as_deref() == Some(RETRIED_FAILURE)
    {
        name = retry.clone();
        started = workflow.start_execution(&name, &planned.input).await?;
    }
    let (status, execution_arn) = match started {
        Started::New { execution_arn } => (Handled::Started, Some(execution_arn)),
        Started::AlreadyExists => (Handled::AlreadyHandled, None),
    };
    Ok(ExecutionReport {
        name,
        status,
        execution_arn,
        rejected: planned.rejected,
        campaign_name: planned.campaign_name,
        origin,
    })
}

/// Starts one execution per request of an event (a request outside `scope`
/// is rejected, and notified like any other), up to
/// [`CONCURRENT_REQUESTS`] at a time, reported in the event's order. A request
/// that cannot be started does not stop the others; the error reported at the
/// end makes Lambda retry the event, which is safe because execution names
/// are deterministic.
pub async fn start_all<S: ObjectStore, A: Alarms, W: Workflow>(
    services: &Services<'_, S, A, W>,
    scope: &Scope,
    intake: Intake,
) -> Result<TriggerReport, Error> {
    let total = intake.sources.len();
    let mut report = TriggerReport {
        executions: Vec::with_capacity(total),
        ignored: intake.ignored,
    };
    // Each request logs its outcome as soon as it has one (a time-out part
    // way through keeps the log of what was started); the report keeps the
    // event's order.
    let mut outcomes: Vec<_> = stream::iter(intake.sources.into_iter().enumerate())
        .map(|(index, source)| async move {
            let origin = source.origin().to_string();
            let outcome = start(services, scope, source, origin.clone()).await;
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

/// A StartExecution to make: its deterministic name and input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedExecution {
    pub name: String,
    pub input: String,
    pub rejected: bool,
    pub campaign_name: Option<String>,
    /// For a followed version: the name of the one more execution made if
    /// the first ended [`RETRIED_FAILURE`] (its training outlasted its
    /// deadline) and the version is found again, trained.
    pub retry_name: Option<String>,
}

/// The error of the execution of a followed version that is tried once more
/// when the version is found again: its training outlasted the deadline,
/// but has ended since.
pub const RETRIED_FAILURE: &str = "TrainingTimedOut";

/// The most errors a rejected request reports.
pub const MAX_REPORTED_ERRORS: usize = 50;

/// Step Functions' limit on an execution input, and on the state passed
/// between two states, in UTF-8 bytes.
pub const MAX_INPUT_BYTES: usize = 262_144;

/// The largest execution input deploy-trigger starts: a quarter of
/// [`MAX_INPUT_BYTES`], which leaves room for what every step adds to the
/// state (the training, gate, deployment, watch and rollback reports and the
/// notification), so that no request that is accepted fails later with
/// `States.DataLimitExceeded`, which no Catch sees.
pub const MAX_REQUEST_BYTES: usize = MAX_INPUT_BYTES / 4;

impl PlannedExecution {
    /// Turns a read (or rejected) request from `origin` into an execution.
    /// `raw` is the request as received; it names a rejected request, whose
    /// canonical form does not exist.
    pub fn new(
        parsed: Result<DeploymentRequest, Rejection>,
        origin: Origin,
        raw: &[u8],
    ) -> PlannedExecution {
        let (campaign_name, content) = match &parsed {
            Ok(request) => (
                Some(request.campaign_name().to_string()),
                request.canonical_json().into_bytes(),
            ),
            Err(rejection) => (reported_name(rejection), raw.to_vec()),
        };
        let content = if origin.names_itself() {
            Vec::new()
        } else {
            content
        };
        let name = execution_name(campaign_name.as_deref(), &origin, &content);
        let retry_name = origin.names_itself().then(|| {
            execution_name(
                campaign_name.as_deref(),
                &origin,
                RETRIED_FAILURE.as_bytes(),
            )
        });
        let execution = fit(parsed, origin);
        PlannedExecution {
            name,
            input: to_json(&execution),
            rejected: matches!(execution, Execution::Rejected(_)),
            campaign_name: execution.campaign_name(),
            retry_name,
        }
    }
}

/// A rejected request's name as reported: cut to [`MAX_REPORTED_NAME`].
fn reported_name(rejection: &Rejection) -> Option<String> {
    let name = rejection.campaign_name.as_ref()?;
    Some(name.chars().take(MAX_REPORTED_NAME).collect())
}

/// Struct fields serialize in declaration order and maps sorted, so the
/// same request always gives the same bytes.
fn to_json(execution: &Execution) -> String {
    serde_json::to_string(execution).unwrap_or_else(|_| "{}".to_string())
}

/// The execution of a request, as an input that fits: a rejected request
/// carries every reason, up to [`MAX_REPORTED_ERRORS`] (a manifest with
/// thousands of unknown fields must still fit [`MAX_REQUEST_BYTES`]
/// and SNS's message limit); a request too large for an input becomes a
/// rejection that fits ([`shrink`]).
fn fit(parsed: Result<DeploymentRequest, Rejection>, origin: Origin) -> Execution {
    let rejected = match parsed {
        Ok(request) => {
            let campaign_name = request.campaign_name().to_string();
            let execution = Execution::accept(request, origin.clone());
            let size = to_json(&execution).len();
            if size <= MAX_REQUEST_BYTES {
                return execution;
            }
            Rejected {
                campaign_name: Some(campaign_name),
                errors: vec![FieldError::new(
                    "(request)",
                    format!(
                        "is {size} bytes as an execution input; this stack accepts at most \
                         {MAX_REQUEST_BYTES}, which leaves room within Step Functions' \
                         {MAX_INPUT_BYTES} for what each step of the deployment adds"
                    ),
                )],
                origin: Some(origin),
            }
        }
        Err(rejection) => {
            let campaign_name = reported_name(&rejection);
            let mut errors = rejection.errors;
            if errors.len() > MAX_REPORTED_ERRORS {
                let more = errors.len() - (MAX_REPORTED_ERRORS - 1);
                errors.truncate(MAX_REPORTED_ERRORS - 1);
                errors.push(FieldError::new(
                    "(request)",
                    format!("has {more} more errors, not listed"),
                ));
            }
            Rejected {
                campaign_name,
                errors,
                origin: Some(origin),
            }
        }
    };
    Execution::Rejected(shrink(rejected))
}

/// A rejection too large for an execution input is cut until it fits:
/// reasons first, then the campaign name.
fn shrink(mut rejected: Rejected) -> Rejected {
    let size = |r: &Rejected| to_json(&Execution::Rejected(r.clone())).len();
    let total = rejected.errors.len();
    while size(&rejected) > MAX_REQUEST_BYTES && rejected.errors.len() > 1 {
        let keep = rejected.errors.len() / 2;
        rejected.errors.truncate(keep);
    }
    if rejected.errors.len() < total {
        rejected.errors.push(FieldError::new(
            "(request)",
            format!(
                "has {} more errors, not listed (too large to report)",
                total - rejected.errors.len()
            ),
        ));
    }
    if size(&rejected) > MAX_REQUEST_BYTES {
        rejected.campaign_name = None;
        rejected.errors = vec![FieldError::new(
            "(request)",
            "was rejected; its errors are too large to report",
        )];
    }
    rejected
}
