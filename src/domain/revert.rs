//! Reverting on request: a "Campaign Rollback Requested" event returns a
//! campaign to its last known good version (as its record holds it, with
//! that TPS and configuration) or to a version it names. It is an ordinary
//! execution of origin `rollback`: held to the stack's scope like any
//! request, with no gate, and no watch unless the event asks for one.
//!
//! ```json
//! {"campaignArn": "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs",
//!  "reason": "CTR fell in the weekly review"}
//! ```

use serde_json::{Map, Value, json};

use super::arn::CampaignName;
use super::execution::Accepted;
use super::field::{FieldError, Reader, quote};
use super::intake::{Intake, Source};
use super::origin::{Origin, Sent};
use super::record::{self, GOOD_VERSION_TAG, Record};
use super::request::{DeploymentRequest, Rejection, Scope, Served};
use crate::error::Error;
use crate::ports::{ApiErrorKind, Catalog};

/// The `detail-type` of a revert request.
pub const ROLLBACK_DETAIL_TYPE: &str = "Campaign Rollback Requested";

/// The members of a revert request.
pub const FIELDS: &[&str] = &[
    "campaignArn",
    "solutionVersionArn",
    "minProvisionedTPS",
    "campaignConfig",
    "watch",
    "reason",
];

/// What a revert without a usable last known good is told to do.
const NAME_IT: &str = "name the version to return to with solutionVersionArn";

/// The longest reason a revert request may give, in characters.
pub const MAX_REASON: usize = 1000;

/// A revert request as its event carries it: where it came from, and its
/// detail.
#[derive(Debug, Clone, PartialEq)]
pub struct Revert {
    pub origin: Origin,
    pub detail: Value,
}

/// The execution a revert request plans (as an intake source): the request
/// it makes, or why there is none. Only a record that cannot be read for a
/// while (throttling, 5xx) is an error (the event is delivered again).
pub async fn intake<C: Catalog>(
    catalog: &C,
    scope: &Scope,
    revert: Revert,
) -> Result<Intake, Error> {
    let request = request(catalog, scope, &revert).await?;
    let mut origin = revert.origin;
    if let Origin::Rollback { reason, .. } = &mut origin {
        *reason = reason_of(&revert.detail).ok().flatten();
    }
    Ok(Intake {
        sources: vec![Source::Made {
            origin,
            request: Box::new(request),
            trained: false,
        }],
        ignored: Vec::new(),
    })
}

/// The request's `reason` (none when it gives none), or what is wrong with
/// it.
fn reason_of(detail: &Value) -> Result<Option<String>, FieldError> {
    match detail.get("reason").filter(|r| !r.is_null()) {
        None => Ok(None),
        Some(Value::String(reason)) if reason.chars().count() <= MAX_REASON => {
            Ok(Some(reason.clone()))
        }
        Some(Value::String(_)) => Err(FieldError::new(
            "reason",
            format!("may be at most {MAX_REASON} characters"),
        )),
        Some(other) => Err(FieldError::new(
            "reason",
            format!("must be a string, not {}", super::field::json_kind(other)),
        )),
    }
}

/// A campaign ARN's parts: `arn:PARTITION:personalize:REGION:ACCOUNT:campaign/NAME`.
fn campaign_of(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("personalize"), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = resource.strip_prefix("campaign/")?;
    (!region.is_empty() && !account.is_empty() && !name.is_empty())
        .then_some((region, account, name))
}

async fn request<C: Catalog>(
    catalog: &C,
    scope: &Scope,
    revert: &Revert,
) -> Result<Result<DeploymentRequest, Rejection>, Error> {
    let Some(obj) = revert.detail.as_object() else {
        return Ok(Err(Rejection::single(
            "(request)",
            format!(
                "must be a JSON object, not {}",
                super::field::json_kind(&revert.detail)
            ),
        )));
    };
    let mut reader = Reader::default();
    reader.unknown_fields("", obj, FIELDS);
    let arn = reader.required::<String>("", obj, "campaignArn", "a string");
    let mut errors = reader.errors;
    if let Origin::Rollback {
        event: Sent { account, .. },
        ..
    } = &revert.origin
        && let Some(refusal) = scope.refuses_event_from(account.as_deref())
    {
        errors.insert(0, refusal);
    }
    errors.extend(reason_of(&revert.detail).err());
    let campaign = arn.as_deref().and_then(|arn| {
        let parts = campaign_of(arn);
        if parts.is_none() {
            errors.push(FieldError::new(
                "campaignArn",
                format!(
                    "must be a campaign ARN, arn:aws:personalize:REGION:ACCOUNT:campaign/NAME; \
                     got {}",
                    quote(arn)
                ),
            ));
        }
        parts.map(|parts| (arn, parts))
    });
    let named = obj.get("solutionVersionArn").is_some_and(|v| !v.is_null());
    if !named {
        for member in ["minProvisionedTPS", "campaignConfig"] {
            if obj.get(member).is_some_and(|v| !v.is_null()) {
                errors.push(FieldError::new(
                    member,
                    "is the last known good version's own; give solutionVersionArn to set it \
                     for a version of your choice",
                ));
            }
        }
    }
    // The campaign is held to its name's rules and to the scope even when
    // something else is wrong, so that every reason is told at once (with a
    // version named, the request's reader tells the name's).
    if let Some((_, (region, account, name))) = campaign {
        let mut outside = Vec::new();
        if !named {
            match CampaignName::parse(name) {
                Ok(name) => scope.check(Some(&name), None, &mut outside),
                Err(rule) => outside.push(FieldError::new("campaignArn", rule)),
            }
        }
        scope.check_place("campaignArn", region, account, &mut outside);
        errors.extend(named_by_arn(outside));
    }
    let campaign_name = campaign.map(|(_, (_, _, name))| name.to_string());
    let rejected = |errors: Vec<FieldError>| {
        Ok(Err(Rejection {
            campaign_name: campaign_name.clone(),
            errors,
        }))
    };
    let Some((arn, (region, account, name))) = campaign else {
        return rejected(errors);
    };
    let mut body = Map::new();
    body.insert("campaignName".into(), json!(name));
    if named {
        for member in ["solutionVersionArn", "minProvisionedTPS", "campaignConfig"] {
            if let Some(value) = obj.get(member).filter(|v| !v.is_null()) {
                body.insert(member.into(), value.clone());
            }
        }
    } else if !errors.is_empty() {
        return rejected(errors);
    } else {
        let tags = match catalog.list_tags(arn).await {
            Ok(tags) => tags,
            Err(e) if e.kind == ApiErrorKind::NotFound => {
                return rejected(vec![FieldError::new(
                    "campaignArn",
                    format!("names no campaign: {arn} does not exist"),
                )]);
            }
            Err(e) if e.is_transient_for_a_read() => return Err(e.into()),
            Err(e) => {
                return rejected(vec![FieldError::new(
                    "campaignArn",
                    format!("its record (tags) could not be read: {e}"),
                )]);
            }
        };
        let Record {
            good, rolled_back, ..
        } = Record::from_tags(&tags);
        let good = match good {
            // Its own revert's watch rolled it back since.
            Some(Ok(good)) => {
                match rolled_back.filter(|r| r.version == good.served.solution_version_arn) {
                    Some(rolled_back) => Err(format!(
                        "its last known good version {} was rolled back since ({}): {NAME_IT}",
                        good.served.solution_version_arn, rolled_back.why
                    )),
                    None => Ok(good),
                }
            }
            Some(Err(why)) => Err(format!(
                "its last known good version cannot be read ({why}); {NAME_IT}"
            )),
            None => Err(format!(
                "has no last known good version recorded (no tag {GOOD_VERSION_TAG}): {NAME_IT}"
            )),
        };
        let good = match good {
            Ok(good) => good,
            Err(why) => return rejected(vec![FieldError::new("campaignArn", why)]),
        };
        // Its version, TPS and configuration; a version is returned to, not
        // the solution's latest.
        let served = Served {
            campaign_config: good.served.campaign_config.map(|c| c.sync_off().0),
            ..good.served
        };
        if let Value::Object(fields) = json!(served) {
            body.extend(fields);
        }
    }
    body.insert("gate".into(), json!("none"));
    body.insert(
        "watch".into(),
        obj.get("watch")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or(json!("none")),
    );
    // The last known good's TPS is returned to even above the cap (which
    // may have changed since); a TPS the revert names is held to it.
    let uncapped = scope.uncapped();
    let rules = if named { scope } else { &uncapped };
    let request =
        DeploymentRequest::from_value_within(&Value::Object(body), rules).map_err(|rejection| {
            Rejection {
                errors: named_by_arn(rejection.errors),
                ..rejection
            }
        });
    // The campaign a version names is in that version's region and account;
    // a revert returns to a version, never to the solution's latest.
    let request = request.and_then(|request| {
        let version = request.solution_version();
        if version.is_latest() {
            return Err(Rejection {
                campaign_name: Some(name.to_string()),
                errors: vec![FieldError::new(
                    "solutionVersionArn",
                    "ends in /$LATEST: a revert returns to a solution version; name one",
                )],
            });
        }
        if version.region() == region && version.account() == account {
            return Ok(request);
        }
        Err(Rejection {
            campaign_name: Some(name.to_string()),
            errors: vec![FieldError::new(
                "solutionVersionArn",
                format!(
                    "is in region {} of account {}; the campaign is in region {region} of \
                     account {account}",
                    version.region(),
                    version.account()
                ),
            )],
        })
    });
    // A named version's own errors come with the others.
    Ok(match request {
        _ if errors.is_empty() => request,
        Ok(_) => Err(Rejection {
            campaign_name,
            errors,
        }),
        Err(rejection) => Err(Rejection {
            campaign_name,
            errors: errors.into_iter().chain(rejection.errors).collect(),
        }),
    })
}

/// Errors of the campaign's name, named by the field that gave it.
fn named_by_arn(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| match e.field.as_str() {
            "campaignName" => FieldError::new("campaignArn", e.rule),
            _ => e,
        })
        .collect()
}

/// What keeps DeployCampaign from deploying an execution's request, whoever
/// started the execution: outside the stack's place, or a TPS above its cap.
/// A revert's TPS above the cap passes only when it is the one its
/// campaign's record holds for that version as the last known good: a TPS
/// returned to (billed before; the cap may have changed since), not asked
/// for. A record that cannot be read for good refuses it; a read that may
/// pass (throttled, 5xx) is an error, retried.
pub async fn refusal<C: Catalog>(
    catalog: &C,
    scope: &Scope,
    accepted: &Accepted,
) -> Result<Option<Rejection>, Error> {
    let request = &accepted.request;
    if let Some(outside) = scope.refuses(request, false) {
        return Ok(Some(outside));
    }
    let Some(refused) = scope.refuses(request, true) else {
        return Ok(None);
    };
    if !matches!(accepted.origin, Some(Origin::Rollback { .. })) {
        return Ok(Some(refused));
    }
    let good = match record::read(catalog, &request.campaign_arn()).await {
        Ok(record) => record.good.and_then(Result::ok),
        Err(e) if e.is_transient_for_a_read() => return Err(e.into()),
        Err(_) => None,
    };
    let version = request.solution_version_arn();
    let tps = request.min_provisioned_tps();
    let returns = good.is_some_and(|good| {
        good.served.solution_version_arn == version && Some(good.served.min_provisioned_tps) == tps
    });
    Ok((!returns).then(|| Rejection {
        errors: vec![FieldError::new(
            "minProvisionedTPS",
            format!(
                "is {}, above this stack's cap of {} (MaxProvisionedTPS), and the campaign's \
                 record does not hold it as the last known good TPS of {version}: a revert \
                 returns above the cap only to what its campaign served",
                tps.unwrap_or_default(),
                scope.max_provisioned_tps.unwrap_or_default()
            ),
        )],
        ..refused
    }))
}
