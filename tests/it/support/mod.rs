//! Test support: in-memory implementations of the ports, and the sample events.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use personalize_deployer::domain::alarm::{AlarmState, AlarmValue};
use personalize_deployer::domain::campaign::{Campaign, CampaignUpdate, Status};
use personalize_deployer::domain::field::is_tag_text;
use personalize_deployer::domain::intake::{Handled, TriggerReport};
use personalize_deployer::domain::metrics::DeploymentMetrics;
use personalize_deployer::domain::request::{DeploymentRequest, Tag};
use personalize_deployer::domain::training::SolutionVersion;
use personalize_deployer::ports::{
    ApiError, ApiErrorKind, CampaignChange, CampaignSummary, Catalog, Clock, Fetched, MetricsSink,
    NewCampaign, ObjectStore, Personalize, SolutionMetrics, SolutionVersions, Started, Tagging,
    VersionSummary, Workflow,
};
use serde_json::Value;

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

pub fn event_bytes(name: &str) -> Vec<u8> {
    std::fs::read(events_dir().join(name)).unwrap_or_else(|e| panic!("events/{name}: {e}"))
}

pub fn event(name: &str) -> Value {
    serde_json::from_slice(&event_bytes(name)).unwrap_or_else(|e| panic!("events/{name}: {e}"))
}

pub fn manifest(name: &str) -> DeploymentRequest {
    DeploymentRequest::from_slice(&event_bytes(&format!("manifests/{name}")))
        .unwrap_or_else(|r| panic!("manifests/{name} is rejected: {r}"))
}

pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_000_000 + secs, 0).unwrap()
}

pub const SV1: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d";
pub const SV2: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies/5e6f7a8b";
pub const SV3: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies/9c0d1e2f";
pub const CAMPAIGN_ARN: &str = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs";

/// `request` with the members of `patch` replaced (a `null` removes one),
/// read again as any request is.
pub fn patched(request: &DeploymentRequest, patch: Value) -> DeploymentRequest {
    let mut body = serde_json::to_value(request).unwrap();
    for (key, value) in patch.as_object().expect("a patch is an object") {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    DeploymentRequest::from_value(&body).unwrap_or_else(|r| panic!("{body} is rejected: {r}"))
}

/// An ACTIVE campaign serving exactly what `request` asks for.
pub fn active_campaign(request: &DeploymentRequest) -> Campaign {
    Campaign {
        name: request.campaign_name().to_string(),
        arn: request.campaign_arn(),
        solution_version_arn: Some(request.solution_version_arn().to_string()),
        min_provisioned_tps: Some(request.min_provisioned_tps().unwrap_or(1)),
        config: request.campaign_config().cloned(),
        status: Status::Active,
        failure_reason: None,
        created_at: Some(t(-3600)),
        updated_at: Some(t(-3600)),
        latest_update: None,
    }
}

pub fn update_record(solution_version_arn: &str, tps: i32, status: Status) -> CampaignUpdate {
    CampaignUpdate {
        solution_version_arn: Some(solution_version_arn.to_string()),
        min_provisioned_tps: Some(tps),
        config: None,
        status,
        failure_reason: None,
        created_at: Some(t(0)),
        updated_at: Some(t(10)),
    }
}

/// Whether every execution of a trigger's report was handled before (a
/// redelivery, or the other path to the same execution).
pub fn all_already_handled(report: &TriggerReport) -> bool {
    report
        .executions
        .iter()
        .all(|e| e.status == Handled::AlreadyHandled)
}

/// A clock that moves only when slept on, and remembers each pause.
pub struct FakeClock {
    pub now: Mutex<DateTime<Utc>>,
    pub pauses: Mutex<Vec<std::time::Duration>>,
}

impl FakeClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        FakeClock {
            now: Mutex::new(now),
            pauses: Mutex::new(Vec::new()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        FakeClock::now(self)
    }

    fn sleep(&self, duration: std::time::Duration) -> impl Future<Output = ()> + Send {
        *self.now.lock().unwrap() += chrono::Duration::from_std(duration).unwrap();
        self.pauses.lock().unwrap().push(duration);
        std::future::ready(())
    }
}

/// A metrics sink that keeps what it is given.
#[derive(Default)]
pub struct FakeMetrics {
    pub recorded: Mutex<Vec<DeploymentMetrics>>,
}

impl MetricsSink for FakeMetrics {
    fn record(&self, metrics: &DeploymentMetrics) {
        self.recorded.lock().unwrap().push(metrics.clone());
    }
}

/// A Personalize double: answers from a script and records every call.
#[derive(Default)]
pub struct FakePersonalize {
    /// Answers of DescribeCampaign, in order; the last one repeats.
    pub describes: Mutex<Vec<Result<Option<Campaign>, ApiError>>>,
    pub create_result: Mutex<Option<ApiError>>,
    pub update_result: Mutex<Option<ApiError>>,
    pub calls: Mutex<Vec<String>>,
    pub created: Mutex<Vec<NewCampaign>>,
    pub updated: Mutex<Vec<CampaignChange>>,
    /// GetSolutionMetrics answers by solution version (none: not found).
    pub metrics: Mutex<HashMap<String, BTreeMap<String, f64>>>,
    /// DescribeSolutionVersion answers, in order; the last one repeats
    /// (none: not found).
    pub versions: Mutex<Vec<Result<Option<SolutionVersion>, ApiError>>>,
    /// Tags by resource, as TagResource and UntagResource leave them.
    pub tags: Mutex<HashMap<String, BTreeMap<String, String>>>,
    /// The error TagResource answers with (none: it tags).
    pub tag_result: Mutex<Option<ApiError>>,
    /// The error ListTagsForResource answers with (none: the tags).
    pub list_tags_result: Mutex<Option<ApiError>>,
    /// What ListSolutionVersions answers (of any solution).
    pub history: Mutex<Vec<VersionSummary>>,
    /// The error ListSolutionVersions answers with (none: the history).
    pub history_result: Mutex<Option<ApiError>>,
}

impl FakePersonalize {
    pub fn describing(answers: Vec<Result<Option<Campaign>, ApiError>>) -> Self {
        FakePersonalize {
            describes: Mutex::new(answers),
            ..Default::default()
        }
    }

    pub fn failing_create(self, e: ApiError) -> Self {
        *self.create_result.lock().unwrap() = Some(e);
        self
    }

    pub fn failing_update(self, e: ApiError) -> Self {
        *self.update_result.lock().unwrap() = Some(e);
        self
    }

    /// GetSolutionMetrics of `version` answers `metrics`.
    pub fn with_metrics(self, version: &str, metrics: &[(&str, f64)]) -> Self {
        let metrics = metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        self.metrics
            .lock()
            .unwrap()
            .insert(version.to_string(), metrics);
        self
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// The tags of a resource, by key.
    pub fn tags_of(&self, arn: &str) -> BTreeMap<String, String> {
        self.tags
            .lock()
            .unwrap()
            .get(arn)
            .cloned()
            .unwrap_or_default()
    }
}

impl Tagging for FakePersonalize {
    async fn tag_resource(&self, arn: &str, tags: &[Tag]) -> Result<(), ApiError> {
        self.calls.lock().unwrap().push(format!("tag {arn}"));
        if let Some(e) = self.tag_result.lock().unwrap().clone() {
            return Err(e);
        }
        // The model's rules, as the service checks them.
        if let Some(bad) = tags
            .iter()
            .find(|t| t.tag_value.chars().count() > 256 || !is_tag_text(&t.tag_value))
        {
            return Err(api_error(
                ApiErrorKind::InvalidInput,
                &format!("InvalidInputException: {}", bad.tag_value),
            ));
        }
        let mut all = self.tags.lock().unwrap();
        let held = all.entry(arn.to_string()).or_default();
        for tag in tags {
            held.insert(tag.tag_key.clone(), tag.tag_value.clone());
        }
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), ApiError> {
        self.calls.lock().unwrap().push(format!("untag {arn}"));
        if let Some(held) = self.tags.lock().unwrap().get_mut(arn) {
            for key in keys {
                held.remove(key);
            }
        }
        Ok(())
    }
}

impl Personalize for FakePersonalize {
    async fn describe_campaign(&self, arn: &str) -> Result<Option<Campaign>, ApiError> {
        self.calls.lock().unwrap().push(format!("describe {arn}"));
        let mut answers = self.describes.lock().unwrap();
        if answers.len() > 1 {
            answers.remove(0)
        } else {
            answers.first().cloned().unwrap_or(Ok(None))
        }
    }

    async fn create_campaign(&self, c: &NewCampaign) -> Result<String, ApiError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("create {}", c.name));
        self.created.lock().unwrap().push(c.clone());
        match self.create_result.lock().unwrap().take() {
            Some(e) => Err(e),
            None => Ok(format!("arn:campaign/{}", c.name)),
        }
    }

    async fn update_campaign(&self, change: &CampaignChange) -> Result<(), ApiError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("update {}", change.campaign_arn));
        self.updated.lock().unwrap().push(change.clone());
        match self.update_result.lock().unwrap().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl SolutionVersions for FakePersonalize {
    async fn describe_solution_version(
        &self,
        arn: &str,
    ) -> Result<Option<SolutionVersion>, ApiError> {
        self.calls.lock().unwrap().push(format!("describe {arn}"));
        let mut answers = self.versions.lock().unwrap();
        if answers.len() > 1 {
            answers.remove(0)
        } else {
            answers.first().cloned().unwrap_or(Ok(None))
        }
    }
}

/// An account with no campaigns and no solution versions (following is
/// tested against personalize-local); tags as written.
impl Catalog for FakePersonalize {
    async fn list_campaigns(&self, _: Option<&str>) -> Result<Vec<CampaignSummary>, ApiError> {
        self.calls.lock().unwrap().push("list campaigns".into());
        Ok(Vec::new())
    }

    async fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, ApiError> {
        self.calls.lock().unwrap().push(format!("list tags {arn}"));
        if let Some(e) = self.list_tags_result.lock().unwrap().clone() {
            return Err(e);
        }
        Ok(self
            .tags_of(arn)
            .into_iter()
            .map(|(tag_key, tag_value)| Tag { tag_key, tag_value })
            .collect())
    }

    async fn list_solution_versions(&self, arn: &str) -> Result<Vec<VersionSummary>, ApiError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("list versions {arn}"));
        if let Some(e) = self.history_result.lock().unwrap().clone() {
            return Err(e);
        }
        Ok(self.history.lock().unwrap().clone())
    }
}

impl SolutionMetrics for FakePersonalize {
    async fn get_solution_metrics(&self, arn: &str) -> Result<BTreeMap<String, f64>, ApiError> {
        self.calls.lock().unwrap().push(format!("metrics {arn}"));
        self.metrics
            .lock()
            .unwrap()
            .get(arn)
            .cloned()
            .ok_or_else(|| api_error(ApiErrorKind::NotFound, "ResourceNotFoundException"))
    }
}

pub fn api_error(kind: ApiErrorKind, code: &str) -> ApiError {
    ApiError::new(kind, code, format!("{code} from the test"))
}

/// An S3 double holding objects by (bucket, key).
#[derive(Default)]
pub struct FakeStore {
    pub objects: Mutex<HashMap<(String, String), Vec<u8>>>,
    pub reads: Mutex<Vec<(String, String, Option<String>)>>,
    pub fail_with: Mutex<Option<ApiError>>,
    /// Keys answered with S3's AccessDenied (as a missing key is, to a
    /// caller that may not list the bucket).
    pub denied_keys: Mutex<Vec<String>>,
}

impl FakeStore {
    pub fn with(objects: &[(&str, &str, &[u8])]) -> Self {
        let store = FakeStore::default();
        for (bucket, key, body) in objects {
            store
                .objects
                .lock()
                .unwrap()
                .insert((bucket.to_string(), key.to_string()), body.to_vec());
        }
        store
    }
}

impl FakeStore {
    /// The keys read, in order.
    pub fn keys_read(&self) -> Vec<String> {
        self.reads
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.1.clone())
            .collect()
    }
}

impl ObjectStore for FakeStore {
    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        max_bytes: u64,
    ) -> Result<Fetched, ApiError> {
        self.reads.lock().unwrap().push((
            bucket.to_string(),
            key.to_string(),
            version_id.map(str::to_string),
        ));
        if let Some(e) = self.fail_with.lock().unwrap().clone() {
            return Err(e);
        }
        if self.denied_keys.lock().unwrap().iter().any(|k| k == key) {
            return Err(ApiError::new(
                ApiErrorKind::Other,
                "AccessDenied",
                "Access Denied",
            ));
        }
        Ok(
            match self
                .objects
                .lock()
                .unwrap()
                .get(&(bucket.to_string(), key.to_string()))
            {
                None => Fetched::NotFound,
                Some(body) if body.len() as u64 > max_bytes => {
                    Fetched::TooLarge(Some(body.len() as u64))
                }
                Some(body) => Fetched::Body(body.clone()),
            },
        )
    }
}

/// A Step Functions double with StartExecution's idempotency: a name seen
/// before is `ExecutionAlreadyExists`.
#[derive(Default)]
pub struct FakeWorkflow {
    pub executions: Mutex<Vec<(String, String)>>,
    pub fail_names_containing: Mutex<Option<String>>,
    /// The error each ended execution failed with, by name.
    pub failures: Mutex<HashMap<String, String>>,
}

impl FakeWorkflow {
    pub fn inputs(&self) -> Vec<Value> {
        self.executions
            .lock()
            .unwrap()
            .iter()
            .map(|(_, input)| serde_json::from_str(input).unwrap())
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.executions
            .lock()
            .unwrap()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }
}

impl Workflow for FakeWorkflow {
    async fn start_execution(&self, name: &str, input: &str) -> Result<Started, ApiError> {
        if let Some(part) = self.fail_names_containing.lock().unwrap().as_deref()
            && name.contains(part)
        {
            return Err(api_error(ApiErrorKind::Unavailable, "ServiceUnavailable"));
        }
        let mut executions = self.executions.lock().unwrap();
        if executions.iter().any(|(n, _)| n == name) {
            return Ok(Started::AlreadyExists);
        }
        executions.push((name.to_string(), input.to_string()));
        Ok(Started::New {
            execution_arn: format!(
                "arn:aws:states:us-east-1:111122223333:execution:personalize-deployer:{name}"
            ),
        })
    }

    async fn failure_of(&self, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self.failures.lock().unwrap().get(name).cloned())
    }
}
pub mod local;

/// DeployCampaign's first run at `now`, for a request of unknown time,
/// expected to start a create or update (or do nothing).
pub async fn deployed(
    fake: &FakePersonalize,
    request: &DeploymentRequest,
    default_tps: i32,
    now: DateTime<Utc>,
) -> Result<personalize_deployer::domain::execution::DeployReport, personalize_deployer::Error> {
    let turn = personalize_deployer::domain::deploy::Turn::default();
    match personalize_deployer::domain::deploy::deploy(
        fake,
        fake,
        request,
        &turn,
        default_tps,
        &FakeClock::at(now),
    )
    .await?
    {
        personalize_deployer::domain::execution::Deployment::Started(report) => Ok(*report),
        other => panic!("expected a create, update or nothing: {other:?}"),
    }
}

/// CloudWatch answering DescribeAlarms from a list of answers, in order
/// (the last one repeats; none: no alarm at all), each filtered by the
/// names asked.
#[derive(Default)]
pub struct FakeAlarms {
    pub answers: Mutex<Vec<Result<Vec<AlarmState>, ApiError>>>,
    pub calls: Mutex<Vec<Vec<String>>>,
}

impl FakeAlarms {
    pub const fn none() -> FakeAlarms {
        FakeAlarms {
            answers: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// These alarms, at every call.
    pub fn with(alarms: Vec<AlarmState>) -> FakeAlarms {
        FakeAlarms::answering(vec![Ok(alarms)])
    }

    pub fn answering(answers: Vec<Result<Vec<AlarmState>, ApiError>>) -> FakeAlarms {
        FakeAlarms {
            answers: Mutex::new(answers),
            ..FakeAlarms::default()
        }
    }
}

impl personalize_deployer::ports::Alarms for FakeAlarms {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, ApiError> {
        self.calls.lock().unwrap().push(names.to_vec());
        let mut answers = self.answers.lock().unwrap();
        let answer = match answers.len() {
            0 => Ok(Vec::new()),
            1 => answers[0].clone(),
            _ => answers.remove(0),
        };
        answer.map(|alarms| {
            alarms
                .into_iter()
                .filter(|a| names.contains(&a.name))
                .collect()
        })
    }
}

/// An alarm in `value` since `changed_at`.
pub fn alarm(name: &str, value: AlarmValue, changed_at: DateTime<Utc>) -> AlarmState {
    AlarmState {
        name: name.into(),
        value,
        reason: Some(format!("Threshold Crossed: {name}")),
        changed_at: Some(changed_at),
    }
}

/// A stack with no alarms.
pub static NO_ALARMS: FakeAlarms = FakeAlarms::none();

/// The intake's services: `store` and `workflow`, and CloudWatch with no
/// alarms.
pub fn services<'a, S, W>(
    store: &'a S,
    workflow: &'a W,
) -> personalize_deployer::domain::intake::Services<'a, S, FakeAlarms, W> {
    personalize_deployer::domain::intake::Services {
        store,
        alarms: &NO_ALARMS,
        workflow,
    }
}
