//! Following a solution: the campaigns that opted in (the
//! `personalize-deployer:follow` tag set to `true`) are deployed each new
//! version of the solution they serve, found either by the
//! CreateSolutionVersion call that started its training (a CloudTrail event)
//! or by a scheduled look at every such campaign (automatic training makes
//! no call). Both ways plan the same execution for a campaign and a version,
//! so a version found twice is deployed once. A version the campaign's
//! record says was rolled back is left alone (and reported so): only a
//! request deploys it again.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::arn::SolutionVersionRef;
use super::campaign::Campaign;
use super::field::FieldError;
use super::gate::{Gate, GateChoice, GateMember};
use super::intake::{CONCURRENT_REQUESTS, Intake, Source};
use super::origin::Origin;
use super::outcome::Outcome;
use super::record::Record;
use super::request::{DeploymentRequest, Scope, Tag};
use super::training::TrainingStatus;
use super::watch;
use super::watch::WatchChoice;
use crate::error::Error;
use crate::ports::{
    ApiError, ApiErrorKind, Catalog, Personalize, SolutionVersions, VersionSummary,
};

/// The tag that opts a campaign in, and the value that does.
pub const FOLLOW_TAG: &str = "personalize-deployer:follow";
pub const FOLLOW_VALUE: &str = "true";

/// How much earlier than the CloudTrail event's time (whole seconds) the
/// version it announces may have been created.
const EVENT_TIME_SLACK_SECONDS: i64 = 1;

/// What to look at.
#[derive(Debug, Clone, PartialEq)]
pub enum Look {
    /// A successful CreateSolutionVersion call: its solution, the new version
    /// when the event names it, and when the call was made.
    Trained {
        solution_arn: String,
        solution_version_arn: Option<String>,
        at: DateTime<Utc>,
    },
    /// The scheduled look at every campaign that follows its solution.
    Scheduled,
}

/// The executions a look plans (as intake sources), and what it found that
/// leads to none (in `ignored`: logged and reported, not errors).
pub async fn look<P: Personalize + Catalog>(
    personalize: &P,
    scope: &Scope,
    look: Look,
) -> Result<Intake, Error> {
    match look {
        Look::Trained {
            solution_arn,
            solution_version_arn,
            at,
        } => trained(personalize, scope, &solution_arn, solution_version_arn, at).await,
        Look::Scheduled => scheduled(personalize, scope).await,
    }
}

/// A campaign of the stack, as far as following goes.
enum Found {
    /// It follows its solution: the campaign as described, and its tags.
    Follows {
        campaign: Box<Campaign>,
        tags: Vec<Tag>,
    },
    /// Why it is left alone.
    Skipped(String),
    /// It no longer exists (deleted since it was listed).
    Gone,
}

/// Whether a campaign's tags opt it in (exactly `true`, as tags are
/// case-sensitive).
pub fn follows(tags: &[Tag]) -> bool {
    tags.iter()
        .any(|t| t.tag_key == FOLLOW_TAG && t.tag_value == FOLLOW_VALUE)
}

/// Reads a campaign: its tags first (a campaign that does not follow costs
/// one call), then the campaign.
async fn examine<P: Personalize + Catalog>(personalize: &P, arn: &str) -> Result<Found, ApiError> {
    let tags = match personalize.list_tags(arn).await {
        Ok(tags) => tags,
        // Deleted since it was listed.
        Err(e) if e.kind == ApiErrorKind::NotFound => return Ok(Found::Gone),
        Err(e) => return Err(e),
    };
    if !follows(&tags) {
        return Ok(Found::Skipped(format!(
            "{arn}: not following its solution (no tag {FOLLOW_TAG}={FOLLOW_VALUE})"
        )));
    }
    let Some(campaign) = personalize.describe_campaign(arn).await? else {
        return Ok(Found::Gone);
    };
    if campaign.status.is_deleting() {
        return Ok(Found::Skipped(format!("{arn}: being deleted")));
    }
    if syncs(&campaign) {
        return Ok(Found::Skipped(format!(
            "{arn}: syncs with the latest solution version by itself"
        )));
    }
    Ok(Found::Follows {
        campaign: Box::new(campaign),
        tags,
    })
}

/// Whether a campaign takes its solution's newest version by itself.
pub fn syncs(campaign: &Campaign) -> bool {
    campaign
        .config
        .as_ref()
        .and_then(|c| c.sync_with_latest_solution_version)
        .unwrap_or(false)
}

/// The version a campaign serves or is being updated to: what a new version
/// is compared with.
pub fn current_version(campaign: &Campaign) -> Option<&str> {
    campaign
        .latest_update
        .as_ref()
        .filter(|u| u.status.is_creating())
        .and_then(|u| u.solution_version_arn.as_deref())
        .or(campaign.solution_version_arn.as_deref())
}

/// The solution of an explicit version (none for `$LATEST`).
pub fn solution_of(version_arn: &str) -> Option<String> {
    let version = SolutionVersionRef::parse(version_arn).ok()?;
    (!version.is_latest()).then(|| version.solution_arn())
}

async fn trained<P: Personalize + Catalog>(
    personalize: &P,
    scope: &Scope,
    solution_arn: &str,
    version: Option<String>,
    at: DateTime<Utc>,
) -> Result<Intake, Error> {
    let mut intake = Intake::default();
    let versions = personalize.list_solution_versions(solution_arn).await?;
    let version = match version {
        Some(version) => version,
        None => {
            let since = at - Duration::seconds(EVENT_TIME_SLACK_SECONDS);
            let newest = versions
                .iter()
                .filter(|v| v.created_at.is_some_and(|c| c >= since))
                .max_by_key(|v| v.created_at);
            match newest {
                Some(v) => v.arn.clone(),
                None => {
                    intake.ignored.push(format!(
                        "{solution_arn}: no version created at or after {at}"
                    ));
                    return Ok(intake);
                }
            }
        }
    };
    let trained = versions
        .iter()
        .any(|v| v.arn == version && v.status == TrainingStatus::Active);
    let campaigns = in_scope(personalize.list_campaigns(Some(solution_arn)).await?, scope);
    let found: Vec<(String, Found)> = examine_all(personalize, campaigns).await?;
    for (arn, found) in found {
        match found {
            Found::Skipped(why) => intake.ignored.push(why),
            Found::Gone => intake.ignored.push(format!("{arn}: no longer exists")),
            Found::Follows { campaign, tags } => {
                let current = current_version(&campaign);
                let of_solution =
                    current.is_some_and(|v| solution_of(v).as_deref() == Some(solution_arn));
                if current == Some(version.as_str()) {
                    intake
                        .ignored
                        .push(format!("{arn}: serves {version} already"));
                } else if let Some(current) = current.filter(|c| newer(&versions, c, &version)) {
                    // Trainings that overlap may end in either order: a
                    // version older than the one served is not deployed
                    // over it.
                    intake
                        .ignored
                        .push(format!("{arn}: serves {current}, newer than {version}"));
                } else if !of_solution {
                    intake
                        .ignored
                        .push(format!("{arn}: serves no version of {solution_arn}"));
                } else if let Some(rolled_back) =
                    Record::from_tags(&tags).rolled_back_from(&version)
                {
                    intake
                        .ignored
                        .push(format!("{arn}: {}", rolled_back.describe()));
                } else {
                    intake
                        .sources
                        .push(source(&campaign, &tags, &version, trained, scope));
                }
            }
        }
    }
    if intake.sources.is_empty() {
        intake.ignored.push(format!(
            "{solution_arn}: no campaign of this stack follows it with a version to deploy"
        ));
    }
    Ok(intake)
}

async fn scheduled<P: Personalize + Catalog>(
    personalize: &P,
    scope: &Scope,
) -> Result<Intake, Error> {
    let mut intake = Intake::default();
    let campaigns = in_scope(personalize.list_campaigns(None).await?, scope);
    let found = examine_all(personalize, campaigns).await?;
    let mut versions: HashMap<String, Vec<VersionSummary>> = HashMap::new();
    for (arn, found) in found {
        let (campaign, tags) = match found {
            Found::Skipped(why) => {
                intake.ignored.push(why);
                continue;
            }
            Found::Gone => {
                intake.ignored.push(format!("{arn}: no longer exists"));
                continue;
            }
            Found::Follows { campaign, tags } => (campaign, tags),
        };
        let Some(current) = current_version(&campaign).map(str::to_string) else {
            intake.ignored.push(format!("{arn}: serves no version"));
            continue;
        };
        let Some(solution) = solution_of(&current) else {
            intake
                .ignored
                .push(format!("{arn}: serves {current}, not a version to follow"));
            continue;
        };
        if !versions.contains_key(&solution) {
            let listed = personalize.list_solution_versions(&solution).await?;
            versions.insert(solution.clone(), listed);
        }
        let newer = newer_than(&versions[&solution], &current);
        if newer.is_empty() {
            intake.ignored.push(format!(
                "{arn}: serves the newest ACTIVE version, {current}, and none newer is training"
            ));
        }
        let record = Record::from_tags(&tags);
        for newer in newer {
            match record.rolled_back_from(&newer.arn) {
                Some(rolled_back) => intake
                    .ignored
                    .push(format!("{arn}: {}", rolled_back.describe())),
                None => {
                    let trained = newer.status == TrainingStatus::Active;
                    let made = source(&campaign, &tags, &newer.arn, trained, scope);
                    intake.sources.push(made);
                }
            }
        }
    }
    Ok(intake)
}

/// Whether version `a` was created after version `b` (both listed).
pub fn newer(versions: &[VersionSummary], a: &str, b: &str) -> bool {
    let created = |arn: &str| {
        versions
            .iter()
            .find(|v| v.arn == arn)
            .and_then(|v| v.created_at)
    };
    matches!((created(a), created(b)), (Some(a), Some(b)) if a > b)
}

/// The versions newer than `current` (by creation time; a version not in
/// the list counts as older than every one that is) to deploy: the newest
/// ACTIVE one, and the newest still training (CREATE PENDING or CREATE
/// IN_PROGRESS) when it is newer still, whose execution waits for its
/// training as one a CloudTrail event starts does (and is the same
/// execution, by name).
fn newer_than<'a>(versions: &'a [VersionSummary], current: &str) -> Vec<&'a VersionSummary> {
    let current_created = versions
        .iter()
        .find(|v| v.arn == current)
        .and_then(|v| v.created_at);
    let newer = |v: &&VersionSummary| {
        v.arn != current
            && match (v.created_at, current_created) {
                (Some(n), Some(c)) => n > c,
                _ => true,
            }
    };
    let newest = |wanted: fn(&TrainingStatus) -> bool| {
        versions
            .iter()
            .filter(|v| wanted(&v.status))
            .max_by_key(|v| v.created_at)
            .filter(newer)
    };
    let active = newest(|s| *s == TrainingStatus::Active);
    let training = newest(TrainingStatus::is_training)
        .filter(|t| active.is_none_or(|a| t.created_at > a.created_at));
    active.into_iter().chain(training).collect()
}

fn in_scope(campaigns: Vec<crate::ports::CampaignSummary>, scope: &Scope) -> Vec<String> {
    campaigns
        .into_iter()
        .filter(|c| c.name.starts_with(&scope.campaign_name_prefix))
        .map(|c| c.arn)
        .collect()
}

async fn examine_all<P: Personalize + Catalog>(
    personalize: &P,
    campaigns: Vec<String>,
) -> Result<Vec<(String, Found)>, Error> {
    stream::iter(campaigns)
        .map(|arn| async move {
            // One campaign that cannot be read does not stop the others;
            // only an answer that may change (throttling, 5xx) fails the
            // event, so that it is delivered again.
            let found = match examine(personalize, &arn).await {
                Ok(found) => found,
                Err(e) if e.is_transient_for_a_read() => return Err(Error::from(e)),
                Err(e) => Found::Skipped(format!("{arn}: could not be read ({e})")),
            };
            Ok::<_, Error>((arn, found))
        })
        .buffered(CONCURRENT_REQUESTS)
        .try_collect()
        .await
}

/// Why a followed campaign's trained version is not deployed after all.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub outcome: Outcome,
    pub reason: String,
    pub superseded_by: Option<String>,
}

/// Looks again, once the version is trained and just before it would be
/// deployed, at a campaign that followed its solution when the execution
/// started (hours ago, maybe): it is left alone if it no longer exists, no
/// longer follows (the tag was removed, or it syncs with `$LATEST` by
/// itself), or serves (or is updating to) a newer version of the solution,
/// which overlapping trainings that ended in the other order would have
/// put there.
pub async fn recheck<P: Personalize + Catalog + SolutionVersions>(
    personalize: &P,
    campaign_arn: &str,
    version: &str,
    created_at: Option<DateTime<Utc>>,
) -> Result<Option<Stop>, ApiError> {
    let rejected = |reason: String| {
        Some(Stop {
            outcome: Outcome::Rejected,
            reason,
            superseded_by: None,
        })
    };
    let gone = || {
        rejected(format!(
            "{campaign_arn} no longer exists; following never creates a campaign"
        ))
    };
    let found = match examine(personalize, campaign_arn).await? {
        Found::Gone => return Ok(gone()),
        Found::Skipped(why) => return Ok(rejected(format!("no longer to be deployed: {why}"))),
        Found::Follows { campaign, .. } => campaign,
    };
    let Some(current) = current_version(&found).filter(|c| *c != version) else {
        return Ok(None);
    };
    let same_solution = solution_of(current).is_some_and(|s| Some(s) == solution_of(version));
    if !same_solution {
        return Ok(None);
    }
    let served = personalize.describe_solution_version(current).await?;
    let newer = matches!(
        (served.and_then(|v| v.created_at), created_at),
        (Some(served), Some(new)) if served > new
    );
    Ok(newer.then(|| Stop {
        outcome: Outcome::Superseded,
        reason: format!(
            "{campaign_arn} serves a newer version of the solution, {current}, than {version}"
        ),
        superseded_by: Some(current.to_string()),
    }))
}

/// The gate a followed campaign's tags write (each [`GateMember`]'s tag; a
/// metric tag of `none` turns the stack's default off), or what is wrong
/// with them, each error naming its tag.
pub fn gate_of(tags: &[Tag]) -> Result<Option<GateChoice>, Vec<FieldError>> {
    let value = |member: GateMember| {
        let tag = member.names().tag;
        let found = tags.iter().find(|t| t.tag_key == tag)?;
        Some(found.tag_value.trim().to_string())
    };
    Gate::from_text(value, true).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| FieldError::new(format!("tags.{}", e.member_or_metric().names().tag), e.rule))
            .collect()
    })
}

/// A followed campaign's watch, as its tags write it
/// (`personalize-deployer:watch-alarms`, `…:watch-minutes`).
pub fn watch_of(tags: &[Tag]) -> Result<Option<WatchChoice>, Vec<FieldError>> {
    watch::from_tags(|key| {
        tags.iter()
            .find(|t| t.tag_key == key)
            .map(|t| t.tag_value.clone())
    })
}

/// The source of a followed campaign's new version (`trained`: ACTIVE
/// when listed): the request for it (see [`DeploymentRequest::followed`]) with the gate and
/// the watch of its tags (else the stack's defaults); tags that make no
/// gate or no watch reject it, naming the tag.
fn source(
    campaign: &Campaign,
    tags: &[Tag],
    version: &str,
    trained: bool,
    scope: &Scope,
) -> Source {
    Source::Made {
        trained,
        origin: Origin::Follow {
            campaign_arn: campaign.arn.clone(),
            solution_version_arn: version.to_string(),
        },
        request: Box::new(DeploymentRequest::followed(
            &campaign.name,
            version,
            gate_of(tags),
            watch_of(tags),
            scope,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(arn: &str, status: &str, minute: i64) -> VersionSummary {
        VersionSummary {
            arn: arn.into(),
            status: TrainingStatus::parse(status),
            training_mode: Some("FULL".into()),
            created_at: DateTime::from_timestamp(1_800_000_000 + minute * 60, 0),
            updated_at: None,
        }
    }

    #[test]
    fn the_newest_active_version_and_a_newer_training_are_followed() {
        let versions = [
            summary("s/a", "ACTIVE", 0),
            summary("s/b", "ACTIVE", 10),
            summary("s/c", "CREATE IN_PROGRESS", 20),
            summary("s/d", "CREATE FAILED", 30),
        ];
        let newer_than = |versions, current| -> Vec<String> {
            newer_than(versions, current)
                .into_iter()
                .map(|v| v.arn.clone())
                .collect()
        };
        // The newest ACTIVE one, and the one training after it.
        assert_eq!(newer_than(&versions, "s/a"), vec!["s/b", "s/c"]);
        assert_eq!(newer_than(&versions, "s/b"), vec!["s/c"]);
        assert_eq!(newer_than(&versions, "s/c"), Vec::<String>::new());
        // A version not listed (another solution's, say) is older.
        assert_eq!(newer_than(&versions, "x/z"), vec!["s/b", "s/c"]);
        // A failed training is never followed; one pending is.
        assert_eq!(newer_than(&versions[3..], "s/a"), Vec::<String>::new());
        let pending = [
            summary("s/a", "ACTIVE", 0),
            summary("s/e", "CREATE PENDING", 40),
            summary("s/f", "CREATE IN_PROGRESS", 30),
        ];
        assert_eq!(newer_than(&pending, "s/a"), vec!["s/e"]);
        // A training older than the newest ACTIVE version is left to its
        // own end: the newer one is deployed.
        let overtaken = [
            summary("s/a", "ACTIVE", 0),
            summary("s/g", "CREATE IN_PROGRESS", 10),
            summary("s/h", "ACTIVE", 20),
        ];
        assert_eq!(newer_than(&overtaken, "s/a"), vec!["s/h"]);
    }

    #[test]
    fn a_version_names_its_solution_unless_it_is_latest() {
        let arn = "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d";
        assert_eq!(
            solution_of(arn).as_deref(),
            Some("arn:aws:personalize:us-east-1:111122223333:solution/movies")
        );
        assert_eq!(
            solution_of("arn:aws:personalize:us-east-1:111122223333:solution/movies/$LATEST"),
            None
        );
    }
}
