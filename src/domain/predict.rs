//! Polling that predicts the end of a deployment: how long this campaign's
//! deployments take, read from its own history in DescribeCampaign, and where
//! the status polls go around that expected end.
//!
//! Before the window around the expected end, the polls keep the usual
//! schedule, so a deployment that ends early is noticed as soon as without an
//! expectation. Inside it, one invocation of campaign-status stays and looks
//! every few seconds (a hold), so the end is noticed within seconds with fewer
//! polls than the usual schedule makes over the same time. After it, the usual
//! schedule again. benchmarks/polling_cost.py measures it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::campaign::{Campaign, Status};

/// The window around the expected end, as a fraction of the expected
/// duration on either side (±30 %).
pub const WINDOW: f64 = 0.3;

/// The longest hold of one invocation of campaign-status (its function
/// time-out is 300 s); a longer window is held by the next invocation.
pub const MAX_HOLD_SECONDS: u64 = 240;

/// Where an expected duration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Basis {
    /// The campaign's last update (`latestCampaignUpdate`), which succeeded.
    LastUpdate,
    /// The campaign's creation, when it has never been updated.
    Creation,
}

/// How long the create or update a deployment starts is expected to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expectation {
    pub seconds: u64,
    pub basis: Basis,
}

impl Expectation {
    /// From the campaign as it was described before the write: the duration
    /// of its last update (record created → last updated) when that update
    /// succeeded, or of its creation when it was never updated. None for
    /// anything else (a failed update or creation says how long failing
    /// took, not deploying), and for missing or backward timestamps.
    pub fn of(campaign: &Campaign) -> Option<Expectation> {
        let (created, updated, basis) = match &campaign.latest_update {
            Some(update) if update.status == Status::Active => {
                (update.created_at, update.updated_at, Basis::LastUpdate)
            }
            Some(_) => return None,
            None if campaign.status == Status::Active => {
                (campaign.created_at, campaign.updated_at, Basis::Creation)
            }
            None => return None,
        };
        let seconds = whole_seconds(updated? - created?);
        (seconds > 0).then_some(Expectation { seconds, basis })
    }

    /// The window around the expected end of work started at `started_at`:
    /// from 70 % to 130 % of the expected duration.
    /// An expectation too long to count in dates has its window at the end
    /// of time (never reached: no hold).
    pub fn window(&self, started_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |fraction: f64| {
            Duration::try_milliseconds((self.seconds as f64 * fraction * 1000.0) as i64)
                .and_then(|offset| started_at.checked_add_signed(offset))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        (at(1.0 - WINDOW), at(1.0 + WINDOW))
    }
}

/// A span in whole seconds, rounded up (0 for a negative one).
pub fn whole_seconds(span: Duration) -> u64 {
    (span.num_milliseconds().max(0) as u64).div_ceil(1000)
}

/// What a status poll that found the deployment unfinished does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// End the invocation; the state machine waits this many seconds.
    Wait(u64),
    /// Stay in the invocation and look again every few seconds, until then.
    Hold { until: DateTime<Utc> },
}

/// The next step after a poll at `now` of work started at `started_at`,
/// given `wait`, the usual schedule's wait after this poll: that wait,
/// shortened to end where the window begins; a hold to the window's end
/// inside it; and the usual wait again after it.
pub fn next(
    wait: u64,
    expected: Option<&Expectation>,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Next {
    let Some(expected) = expected else {
        return Next::Wait(wait);
    };
    let (opens, closes) = expected.window(started_at);
    if now < opens {
        Next::Wait(wait.min(whole_seconds(opens - now)).max(1))
    } else if now < closes {
        Next::Hold { until: closes }
    } else {
        Next::Wait(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::CampaignUpdate;
    use chrono::TimeZone;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_795_000_000 + seconds, 0).unwrap()
    }

    fn campaign(status: Status, created: i64, updated: i64) -> Campaign {
        Campaign {
            name: "movie-recs".into(),
            arn: "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs".into(),
            solution_version_arn: None,
            min_provisioned_tps: Some(1),
            config: None,
            status,
            failure_reason: None,
            created_at: Some(t(created)),
            updated_at: Some(t(updated)),
            latest_update: None,
        }
    }

    fn updated(status: Status, created: i64, updated: i64) -> Campaign {
        Campaign {
            latest_update: Some(CampaignUpdate {
                solution_version_arn: None,
                min_provisioned_tps: Some(1),
                config: None,
                status,
                failure_reason: None,
                created_at: Some(t(created)),
                updated_at: Some(t(updated)),
            }),
            // The campaign itself was created long before, in 30 minutes.
            ..campaign(Status::Active, -10_000, -8_200)
        }
    }

    fn expected(seconds: u64, basis: Basis) -> Option<Expectation> {
        Some(Expectation { seconds, basis })
    }

    #[test]
    fn the_expectation_is_the_last_successful_deployment_of_the_campaign() {
        // Never updated: its creation (pending included), 14 min 3 s.
        assert_eq!(
            Expectation::of(&campaign(Status::Active, 0, 843)),
            expected(843, Basis::Creation)
        );
        // Updated: the last update, not the creation.
        assert_eq!(
            Expectation::of(&updated(Status::Active, 0, 600)),
            expected(600, Basis::LastUpdate)
        );
        // Fractions of a second round up.
        let mut c = updated(Status::Active, 0, 600);
        c.latest_update.as_mut().unwrap().updated_at = Some(t(599) + Duration::milliseconds(1));
        assert_eq!(Expectation::of(&c), expected(600, Basis::LastUpdate));
    }

    #[test]
    fn no_expectation_from_failures_work_in_progress_or_odd_timestamps() {
        for c in [
            // How long failing took says nothing of deploying.
            updated(Status::CreateFailed, 0, 60),
            campaign(Status::CreateFailed, 0, 60),
            // Still being created or updated: no end yet.
            campaign(Status::CreateInProgress, 0, 10),
            updated(Status::CreateInProgress, 0, 10),
            // Backward or equal timestamps.
            campaign(Status::Active, 100, 40),
            updated(Status::Active, 100, 100),
        ] {
            assert_eq!(Expectation::of(&c), None, "{c:?}");
        }
        let mut c = campaign(Status::Active, 0, 600);
        c.updated_at = None;
        assert_eq!(Expectation::of(&c), None, "a missing timestamp");
    }

    #[test]
    fn the_usual_waits_until_the_window_a_hold_inside_it_the_usual_after() {
        // Expected 20 minutes: the window is 14 to 26 minutes after the start.
        let e = Expectation {
            seconds: 1200,
            basis: Basis::LastUpdate,
        };
        let start = t(0);
        let next = |wait, at| next(wait, Some(&e), start, t(at));
        assert_eq!(next(30, 0), Next::Wait(30), "the usual schedule at first");
        assert_eq!(next(120, 690), Next::Wait(120));
        assert_eq!(next(120, 810), Next::Wait(30), "shortened to the window");
        assert_eq!(next(120, 839), Next::Wait(1));
        assert_eq!(next(120, 840), Next::Hold { until: t(1560) });
        assert_eq!(next(120, 1559), Next::Hold { until: t(1560) });
        assert_eq!(next(120, 1560), Next::Wait(120), "the usual after it");
        // Without an expectation: always the usual wait.
        assert_eq!(super::next(120, None, start, t(1000)), Next::Wait(120));
        // One too long to count in dates (from a hand-made state) never holds.
        let endless = Expectation {
            seconds: u64::MAX,
            basis: Basis::Creation,
        };
        assert_eq!(
            super::next(120, Some(&endless), start, t(1000)),
            Next::Wait(120)
        );
    }
}
