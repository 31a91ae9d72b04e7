//! Create-or-update: the decision of the DeployCampaign task and its execution
//! against the [`Personalize`] port.

use chrono::{DateTime, Utc};

use super::campaign::{Campaign, Deploying, Newer, Status, merged_config};
use super::execution::{
    Accepted, DeployReport, Deployment, MAX_WAITS, Overtaken, Restore, Waiting,
};
use super::gate::{Gate, GateReport, judge};
use super::origin::Origin;
use super::outcome::Operation;
use super::record;
use super::request::{DeploymentRequest, Served};
use super::schedule::Expectation;
use crate::error::Error;
use crate::ports::{
    ApiError, ApiErrorKind, CampaignChange, Catalog, Clock, NewCampaign, Personalize,
    SolutionMetrics,
};

/// What to do with a campaign, given what Personalize reports about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Create,
    Update {
        /// What the campaign served (none when its creation had failed).
        served_before: Option<Served>,
        changes: Vec<String>,
        change: CampaignChange,
    },
    Unchanged {
        serving: Option<String>,
    },
    /// A create or update toward exactly this request is already under way
    /// (an earlier attempt of this deployment started it): watch it.
    Adopt {
        operation: Operation,
        /// What the campaign served while the update runs (none for a
        /// create, or an update of a campaign that served nothing).
        served_before: Option<Served>,
        /// When that work began, as Personalize recorded it.
        since: Option<DateTime<Utc>>,
    },
    /// Another create or update, older than the request, is under way: wait
    /// for it to end (what it is).
    Wait(String),
    /// A create or update that began after the request heads elsewhere: the
    /// newer request decides what the campaign serves.
    Superseded(Newer),
}

/// Decides create, update, nothing, wait or give way, for a request made at
/// `requested_at` (the execution's start; none when unknown). Fails with
/// `CampaignDeleting` while the campaign is deleted.
///
/// - A create or update that already goes exactly where the request wants
///   is adopted, so that a retried deployment (a Lambda time-out after
///   CreateCampaign succeeded, an SDK retry answered with
///   ResourceAlreadyExists) still reports what it did.
/// - A create or update heading elsewhere that began after the request
///   (running, ended or failed) supersedes it: the latest request decides.
/// - Other work under way is older than the request: it is waited for.
pub fn plan(
    request: &DeploymentRequest,
    current: Option<&Campaign>,
    requested_at: Option<DateTime<Utc>>,
) -> Result<Plan, Error> {
    let Some(campaign) = current else {
        return Ok(Plan::Create);
    };
    if campaign.status.is_deleting() {
        return Err(Error::CampaignDeleting {
            campaign: campaign.name.clone(),
            status: campaign.status.to_string(),
        });
    }
    // An update in progress toward the request (checked first: an update of a
    // CREATE FAILED campaign also puts the campaign back in the create states).
    if let Some(update) = &campaign.latest_update
        && update.status.is_creating()
        && update.differences(request).is_empty()
    {
        return Ok(Plan::Adopt {
            operation: Operation::Update,
            served_before: if campaign.status == Status::Active {
                campaign.served()
            } else {
                None
            },
            since: update.created_at,
        });
    }
    if campaign.status.is_creating() && campaign.differences(request).is_empty() {
        return Ok(Plan::Adopt {
            operation: Operation::Create,
            served_before: None,
            since: campaign.created_at,
        });
    }
    if let Some(newer) = requested_at.and_then(|at| campaign.newer_than(request, at, false)) {
        return Ok(Plan::Superseded(newer));
    }
    if let Some(detail) = campaign.busy() {
        return Ok(Plan::Wait(detail));
    }
    let failed = campaign.status == Status::CreateFailed;
    let changes = campaign.differences(request);
    if changes.is_empty() && !failed {
        return Ok(Plan::Unchanged {
            serving: campaign.solution_version_arn.clone(),
        });
    }
    let changes = if failed && changes.is_empty() {
        vec!["campaign is CREATE FAILED: retrying the deployment".to_string()]
    } else {
        changes
    };
    Ok(Plan::Update {
        // A campaign whose creation failed never served anything.
        served_before: if failed { None } else { campaign.served() },
        changes,
        change: CampaignChange {
            campaign_arn: campaign.arn.clone(),
            solution_version_arn: request.solution_version_arn().to_string(),
            min_provisioned_tps: request.min_provisioned_tps(),
            config: merged_config(campaign.config.as_ref(), request.campaign_config()),
        },
    })
}

/// [`plan`], where work that looks newer (begun after the request, heading
/// elsewhere) was written by this product for an older request, as the
/// campaign's record says ([`record::Record::wrote_for_older_request`]): a request
/// that waited for the same campaign, or the rollback of a deployment
/// requested earlier. That work is waited for, or deployed over once it has
/// ended, like any older work. A record that cannot be read leaves the plan
/// as it is (the request gives way).
pub async fn plan_by_requests<C: Catalog>(
    catalog: &C,
    request: &DeploymentRequest,
    current: Option<&Campaign>,
    requested_at: Option<DateTime<Utc>>,
) -> Result<Plan, Error> {
    let planned = plan(request, current, requested_at)?;
    let (Plan::Superseded(_), Some(campaign), Some(at)) = (&planned, current, requested_at) else {
        return Ok(planned);
    };
    match record::read(catalog, &campaign.arn).await {
        Ok(record) if record.wrote_for_older_request(campaign, at) => plan(request, current, None),
        Ok(_) => Ok(planned),
        Err(e) => {
            let why = record::unreadable(&campaign.arn, &e);
            tracing::warn!(%why, "the newer-looking work is taken as newer");
            Ok(planned)
        }
    }
}

/// How many times a describe/act cycle is repeated when another writer wins a
/// race (ResourceAlreadyExists on create, ResourceInUse on update) before
/// the deployment waits for the campaign.
const MAX_ROUNDS: usize = 3;

/// Judges the request's gate for a deployment from `previous` (none for a
/// new campaign) to the requested version; none without a gate, or when the
/// version does not change (a configuration change is not gated).
async fn check_gate<M: SolutionMetrics>(
    metrics: &M,
    request: &DeploymentRequest,
    previous: Option<&str>,
) -> Result<Option<GateReport>, ApiError> {
    let Some(gate) = request.gate() else {
        return Ok(None);
    };
    let candidate = request.solution_version_arn();
    if previous == Some(candidate) {
        return Ok(None);
    }
    judge_versions(metrics, gate, candidate, previous)
        .await
        .map(Some)
}

async fn judge_versions<M: SolutionMetrics>(
    metrics: &M,
    gate: &Gate,
    candidate: &str,
    previous: Option<&str>,
) -> Result<GateReport, ApiError> {
    // Both at once: with DescribeCampaign and the write, three calls' time
    // at most, within the function's time-out.
    let served = async {
        match previous {
            Some(arn) => metrics.get_solution_metrics(arn).await.map(Some),
            None => Ok(None),
        }
    };
    let (new, served) = futures::try_join!(metrics.get_solution_metrics(candidate), served)?;
    Ok(GateReport::of(gate, &judge(gate, &new, served.as_ref())))
}

/// When DeployCampaign runs: when the request was made (the execution's
/// start; none when unknown), after a wait for the campaign, that wait; and
/// whether the request returns the campaign to a version (a revert), whose
/// configuration is then sent whole, as a rollback's is, not merged with the
/// campaign's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Turn<'a> {
    pub requested_at: Option<DateTime<Utc>>,
    pub waiting: Option<&'a Waiting>,
    pub returns: bool,
}

impl<'a> Turn<'a> {
    /// DeployCampaign's turn for an accepted request made at `requested_at`.
    pub fn of(accepted: &'a Accepted, requested_at: Option<DateTime<Utc>>) -> Turn<'a> {
        Turn {
            requested_at,
            waiting: accepted.deployment.as_ref().and_then(Deployment::waiting),
            returns: matches!(accepted.origin, Some(Origin::Rollback { .. })),
        }
    }

    /// The report of a campaign found busy at `now` with older work.
    fn wait(
        &self,
        campaign: &str,
        waiting_for: String,
        now: DateTime<Utc>,
    ) -> Result<Deployment, Error> {
        let round = self.waiting.map_or(0, |w| w.round) + 1;
        if round > MAX_WAITS {
            return Err(Error::CampaignBusy {
                campaign: campaign.to_string(),
                detail: format!(
                    "{waiting_for}, again after {MAX_WAITS} waits for the campaign to be free"
                ),
            });
        }
        Ok(Deployment::Waiting(Waiting {
            waiting_for,
            since: self.waiting.map_or(now, |w| w.since),
            round,
        }))
    }
}

/// Brings the campaign to the request: creates it when missing, updates it when
/// it differs, and otherwise does nothing; or, while older work runs on the
/// campaign, reports that it waits, and when newer work heads elsewhere,
/// that it gives way ([`plan`]). A request with a gate is judged just before
/// the create or update (see [`check_gate`]); a version the gate holds back
/// is not written, and the deployment says so (`operation` NONE,
/// `gate.passed` false). `startedAt` is taken before the create or update
/// call, so that the records Personalize makes for it are never older than
/// it; for adopted work it is when that work began.
pub async fn deploy<P: Personalize + Catalog, M: SolutionMetrics, C: Clock>(
    personalize: &P,
    metrics: &M,
    request: &DeploymentRequest,
    turn: &Turn<'_>,
    default_min_tps: i32,
    clock: &C,
) -> Result<Deployment, Error> {
    let campaign_arn = request.campaign_arn();
    let campaign_name = request.campaign_name().as_str();
    let waited_since = turn.waiting.map(|w| w.since);
    let deployment = |operation, served_before: Option<Served>, changes, started_at, gate| {
        Deployment::Started(Box::new(DeployReport {
            operation,
            previous_solution_version_arn: served_before
                .as_ref()
                .map(|s| s.solution_version_arn.clone()),
            started_at,
            changes,
            gate,
            expected: None,
            waited_since,
            served_before,
        }))
    };
    let mut last_race = String::new();
    for _ in 0..MAX_ROUNDS {
        let current = personalize.describe_campaign(&campaign_arn).await?;
        let started_at = clock.now();
        match plan_by_requests(personalize, request, current.as_ref(), turn.requested_at).await? {
            Plan::Wait(busy) => return turn.wait(campaign_name, busy, started_at),
            Plan::Superseded(newer) => {
                return Ok(Deployment::Overtaken(Overtaken {
                    superseded_by: newer,
                    checked_at: started_at,
                }));
            }
            Plan::Create if turn.returns => {
                return Err(Error::ResourceNotFound(ApiError::new(
                    ApiErrorKind::NotFound,
                    "ResourceNotFoundException",
                    format!("{campaign_arn} does not exist; a revert never creates a campaign"),
                )));
            }
            Plan::Create => {
                let gate = check_gate(metrics, request, None).await?;
                if gate.as_ref().is_some_and(|g| !g.passed) {
                    return Ok(deployment(
                        Operation::None,
                        None,
                        Vec::new(),
                        started_at,
                        gate,
                    ));
                }
                let new = NewCampaign {
                    name: campaign_name.to_string(),
                    solution_version_arn: request.solution_version_arn().to_string(),
                    min_provisioned_tps: request.min_provisioned_tps().unwrap_or(default_min_tps),
                    config: request.campaign_config().cloned(),
                    tags: request.tags().to_vec(),
                };
                match personalize.create_campaign(&new).await {
                    Ok(_) => {
                        return Ok(deployment(
                            Operation::Create,
                            None,
                            Vec::new(),
                            started_at,
                            gate,
                        ));
                    }
                    // Someone created it between our describe and create (or an
                    // earlier attempt of ours did): look again.
                    Err(e) if e.kind == ApiErrorKind::AlreadyExists => last_race = e.to_string(),
                    Err(e) => return Err(e.into()),
                }
            }
            Plan::Update {
                served_before,
                changes,
                mut change,
            } => {
                if turn.returns && request.campaign_config().is_some() {
                    change.config = request.campaign_config().cloned();
                }
                let previous = served_before
                    .as_ref()
                    .map(|s| s.solution_version_arn.as_str());
                let gate = check_gate(metrics, request, previous).await?;
                if gate.as_ref().is_some_and(|g| !g.passed) {
                    let mut report =
                        deployment(Operation::None, served_before, changes, started_at, gate);
                    if let Deployment::Started(report) = &mut report {
                        // Nothing was written: nothing to return to.
                        report.served_before = None;
                    }
                    return Ok(report);
                }
                match personalize.update_campaign(&change).await {
                    Ok(()) => {
                        let mut report =
                            deployment(Operation::Update, served_before, changes, started_at, gate);
                        if let Deployment::Started(report) = &mut report {
                            // How long its last update (or its creation) took.
                            report.expected = current.as_ref().and_then(Expectation::of);
                        }
                        return Ok(report);
                    }
                    // In use: the campaign became busy since we looked (look
                    // again), or something else (the new version) is not
                    // ready.
                    Err(e) if e.kind == ApiErrorKind::InUse => {
                        match personalize.describe_campaign(&campaign_arn).await? {
                            Some(c) if c.busy().is_some() => last_race = e.to_string(),
                            _ => return Err(Error::ResourceInUse(e)),
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Plan::Unchanged { serving } => {
                let mut report = deployment(Operation::None, None, Vec::new(), started_at, None);
                if let Deployment::Started(report) = &mut report {
                    report.previous_solution_version_arn = serving;
                }
                return Ok(report);
            }
            Plan::Adopt {
                operation,
                served_before,
                since,
            } => {
                // The write passed the gate in an earlier attempt: judged
                // again for the report only, and only a verdict that agrees
                // is reported (work someone else started goes on regardless).
                let previous = served_before
                    .as_ref()
                    .map(|s| s.solution_version_arn.as_str());
                let gate = check_gate(metrics, request, previous)
                    .await
                    .ok()
                    .flatten()
                    .filter(|g| g.passed);
                return Ok(deployment(
                    operation,
                    served_before,
                    Vec::new(),
                    since.unwrap_or(started_at),
                    gate,
                ));
            }
        }
    }
    // Another writer won every round: wait for the campaign like for any
    // other work on it.
    turn.wait(
        campaign_name,
        format!("the campaign kept changing while it was being deployed ({last_race})"),
        clock.now(),
    )
}

/// RollBack: returns the campaign to what it served before the deployment
/// (its version, TPS and configuration, exactly: the configuration is sent
/// whole, not merged), with no gate. The sync with the solution's latest
/// version is turned off if it was on (it would redeploy the version rolled
/// back from). Gives way to a newer deployment of the campaign (running, or
/// begun after this one, heading elsewhere); adopts its own update when the
/// task is tried again.
pub async fn roll_back<P: Personalize, C: Clock>(
    personalize: &P,
    accepted: &Accepted,
    clock: &C,
) -> Result<Deployment, Error> {
    let request = &accepted.request;
    let deployment = accepted
        .deployment
        .as_ref()
        .and_then(Deployment::started)
        .ok_or_else(|| Error::InvalidTaskInput("state.deployment: nothing was deployed".into()))?;
    let Restore {
        served,
        request: restore,
        ..
    } = accepted.restore()?;
    let campaign_arn = request.campaign_arn();
    let campaign = personalize
        .describe_campaign(&campaign_arn)
        .await?
        .ok_or_else(|| Error::CampaignDeleting {
            campaign: request.campaign_name().to_string(),
            status: "(no longer exists)".into(),
        })?;
    if campaign.status.is_deleting() {
        return Err(Error::CampaignDeleting {
            campaign: campaign.name.clone(),
            status: campaign.status.to_string(),
        });
    }
    let started_at = clock.now();
    let report = |operation, started_at| {
        Deployment::Started(Box::new(DeployReport {
            operation,
            previous_solution_version_arn: campaign.solution_version_arn.clone(),
            started_at,
            changes: campaign.differences(&restore),
            gate: None,
            // How long its last update (the deployment) took.
            expected: Expectation::of(&campaign),
            waited_since: None,
            served_before: campaign.served(),
        }))
    };
    // Its own update, from an earlier attempt of this task: begun after the
    // deployment served (when the watch began), heading to what it served
    // before.
    let watched_since = accepted
        .watch
        .as_ref()
        .map_or(deployment.started_at, |w| w.began_at);
    if let Some(update) = &campaign.latest_update
        && update.created_at.is_some_and(|at| at > watched_since)
        && update.reported_differences(&restore).is_empty()
    {
        return Ok(report(
            Operation::Update,
            update.created_at.unwrap_or(started_at),
        ));
    }
    if let Some(newer) = campaign.newer_than(request, deployment.started_at, true) {
        return Ok(Deployment::Overtaken(Overtaken {
            superseded_by: newer,
            checked_at: started_at,
        }));
    }
    if campaign.differences(&restore).is_empty() {
        return Ok(report(Operation::None, started_at));
    }
    let change = CampaignChange {
        campaign_arn: campaign_arn.clone(),
        solution_version_arn: served.solution_version_arn.clone(),
        min_provisioned_tps: Some(served.min_provisioned_tps),
        config: restore.campaign_config().cloned(),
    };
    match personalize.update_campaign(&change).await {
        Ok(()) => Ok(report(Operation::Update, started_at)),
        // In use: the SDK retried an update the service had accepted (its
        // answer lost), or another update began since the look. Its own
        // update is adopted; anything else is the task's error.
        Err(e) if e.kind == ApiErrorKind::InUse => {
            match personalize.describe_campaign(&campaign_arn).await? {
                Some(now) => match &now.latest_update {
                    Some(update)
                        if update.status.is_creating()
                            && update.reported_differences(&restore).is_empty() =>
                    {
                        Ok(report(
                            Operation::Update,
                            update.created_at.unwrap_or(started_at),
                        ))
                    }
                    _ => Err(Error::ResourceInUse(e)),
                },
                None => Err(Error::ResourceInUse(e)),
            }
        }
        Err(e) => Err(e.into()),
    }
}
