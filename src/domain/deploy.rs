//! Create-or-update: the decision of the DeployCampaign task and its execution
//! against the [`Personalize`] port.

use chrono::{DateTime, Utc};

use super::campaign::{Campaign, Status, merged_config};
use super::request::DeploymentRequest;
use super::workflow::{Deployment, Operation};
use crate::error::Error;
use crate::ports::{ApiErrorKind, CampaignChange, NewCampaign, Personalize};

/// What to do with a campaign, given what Personalize reports about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Create,
    Update {
        previous_solution_version_arn: Option<String>,
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
        previous_solution_version_arn: Option<String>,
    },
}

/// Decides create, update or nothing. Fails with `CampaignBusy` while another
/// create or update is under way and with `CampaignDeleting` while the campaign
/// is deleted. A create or update that already goes exactly where the request
/// wants is adopted rather than reported busy, so that a retried deployment
/// (a Lambda time-out after CreateCampaign succeeded, an SDK retry answered
/// with ResourceAlreadyExists) still reports what it did.
pub fn plan(request: &DeploymentRequest, current: Option<&Campaign>) -> Result<Plan, Error> {
    let Some(campaign) = current else {
        return Ok(Plan::Create);
    };
    if campaign.status.is_deleting() {
        return Err(Error::CampaignDeleting {
            campaign: campaign.name.clone(),
            status: campaign.status.to_string(),
        });
    }
    if campaign.status.is_creating() && campaign.differences(request).is_empty() {
        return Ok(Plan::Adopt {
            operation: Operation::Create,
            previous_solution_version_arn: None,
        });
    }
    if let Some(update) = &campaign.latest_update
        && update.status.is_creating()
        && update.differences(request).is_empty()
    {
        return Ok(Plan::Adopt {
            operation: Operation::Update,
            previous_solution_version_arn: campaign.solution_version_arn.clone(),
        });
    }
    if let Some(detail) = campaign.busy() {
        return Err(Error::CampaignBusy {
            campaign: campaign.name.clone(),
            detail,
        });
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
        previous_solution_version_arn: if failed {
            None
        } else {
            campaign.solution_version_arn.clone()
        },
        changes,
        change: CampaignChange {
            campaign_arn: campaign.arn.clone(),
            solution_version_arn: request.solution_version_arn.clone(),
            min_provisioned_tps: request.min_provisioned_tps,
            config: merged_config(campaign.config.as_ref(), request.campaign_config.as_ref()),
        },
    })
}

/// How many times a describe/act cycle is repeated when another writer wins a
/// race (ResourceAlreadyExists on create).
const MAX_ROUNDS: usize = 3;

/// Brings the campaign to the request: creates it when missing, updates it when
/// it differs, and otherwise does nothing.
pub async fn deploy<P: Personalize>(
    personalize: &P,
    request: &DeploymentRequest,
    default_min_tps: i32,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<Deployment, Error> {
    let errors = request.validate();
    if !errors.is_empty() {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(Error::InvalidRequest(text.join("; ")));
    }
    let campaign_arn = request.campaign_arn().map_err(Error::InvalidRequest)?;
    let deployment = |operation, previous, changes| Deployment {
        campaign_name: request.campaign_name.clone(),
        campaign_arn: campaign_arn.clone(),
        operation,
        target_solution_version_arn: request.solution_version_arn.clone(),
        previous_solution_version_arn: previous,
        started_at: now(),
        changes,
    };
    let mut last_race = String::new();
    for _ in 0..MAX_ROUNDS {
        let current = personalize.describe_campaign(&campaign_arn).await?;
        match plan(request, current.as_ref())? {
            Plan::Create => {
                let new = NewCampaign {
                    name: request.campaign_name.clone(),
                    solution_version_arn: request.solution_version_arn.clone(),
                    min_provisioned_tps: request.min_provisioned_tps.unwrap_or(default_min_tps),
                    config: request.campaign_config.clone(),
                    tags: request.tags.clone(),
                };
                match personalize.create_campaign(&new).await {
                    Ok(_) => return Ok(deployment(Operation::Create, None, Vec::new())),
                    // Someone created it between our describe and create (or an
                    // earlier attempt of ours did): look again.
                    Err(e) if e.kind == ApiErrorKind::AlreadyExists => last_race = e.to_string(),
                    Err(e) => return Err(e.into()),
                }
            }
            Plan::Update {
                previous_solution_version_arn,
                changes,
                change,
            } => {
                return match personalize.update_campaign(&change).await {
                    Ok(()) => Ok(deployment(
                        Operation::Update,
                        previous_solution_version_arn,
                        changes,
                    )),
                    Err(e) if e.kind == ApiErrorKind::InUse => Err(Error::CampaignBusy {
                        campaign: request.campaign_name.clone(),
                        detail: e.to_string(),
                    }),
                    Err(e) => Err(e.into()),
                };
            }
            Plan::Unchanged { serving } => {
                return Ok(deployment(Operation::None, serving, Vec::new()));
            }
            Plan::Adopt {
                operation,
                previous_solution_version_arn,
            } => {
                return Ok(deployment(
                    operation,
                    previous_solution_version_arn,
                    Vec::new(),
                ));
            }
        }
    }
    Err(Error::CampaignBusy {
        campaign: request.campaign_name.clone(),
        detail: format!("the campaign kept changing while it was being deployed ({last_race})"),
    })
}
