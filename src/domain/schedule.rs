//! When to look again: the schedules of the two poll loops (the training
//! check and the campaign poll), their deadlines and poll budgets, and the
//! schedule that predicts the end of a deployment from the campaign's own
//! history.
//!
//! Before the window around an expected end, the polls keep the usual
//! schedule, so a deployment that ends early is noticed as soon as without an
//! expectation. Inside it, one invocation of campaign-status stays and looks
//! every few seconds (a hold), so the end is noticed within seconds with fewer
//! polls than the usual schedule makes over the same time. After it, the usual
//! schedule again. benchmarks/polling_cost.py measures it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::campaign::{Campaign, Status};

/// The most status polls an execution makes. A Standard execution fails,
/// uncatchably and unannounced, at 25,000 history events; a poll costs 9 (Task,
/// Choice and Wait) plus 3 per retried attempt of its task, so this many polls
/// and [`MAX_TRAINING_POLLS`] training polls stay under the limit together
/// even if every poll used all of its retries (the test of the state machine
/// definition computes it, from the contract). Waits are lengthened so that a
/// deadline is reached first ([`PollPolicy::wait`]); the budget is the
/// guarantee.
pub const MAX_POLLS: u32 = 540;

/// The most training polls an execution makes (see [`MAX_POLLS`]).
pub const MAX_TRAINING_POLLS: u32 = 250;

/// The window around the expected end, as a fraction of the expected
/// duration on either side (±30 %).
pub const WINDOW: f64 = 0.3;

/// The longest hold of one invocation of campaign-status around a
/// deployment's expected end (and of a watch); a longer window is held by
/// the next invocation. Short, so that a hung invocation of PollCampaign is
/// noticed soon.
pub const MAX_HOLD_SECONDS: u64 = 240;

/// The longest hold of one invocation around a training's expected end
/// (campaign-status's function time-out is 900 s): a training's window is
/// hours wide, and each invocation is a poll of the training's budget, so
/// a hold lasts longer than the floor between polls
/// ([`PollPolicy::shortest_wait`], 349 s by default).
pub const MAX_TRAINING_HOLD_SECONDS: u64 = 840;

/// When to poll and when to give up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// Wait before the second poll.
    pub initial_seconds: u64,
    /// Longest wait between polls.
    pub max_seconds: u64,
    /// Each wait is the previous one times this (1 = fixed interval).
    pub backoff_rate: f64,
    /// Give up (TIMED_OUT) this long after the create or update started.
    pub deadline_seconds: u64,
    /// The most polls: waits are lengthened so that the deadline comes
    /// first ([`MAX_POLLS`] for the campaign, [`MAX_TRAINING_POLLS`] for
    /// the training).
    pub max_polls: u32,
    /// Around the expected end, look every this many seconds within one
    /// invocation; 0: never hold, always the schedule above.
    pub hold_seconds: u64,
    /// The longest hold of one invocation ([`MAX_HOLD_SECONDS`] for the
    /// campaign, [`MAX_TRAINING_HOLD_SECONDS`] for the training).
    pub max_hold_seconds: u64,
    /// The polls its waits are spaced for over one deadline (the floor,
    /// [`Self::shortest_wait`]): `max_polls` for the training; for the
    /// campaign, what the deployment leaves of it ([`MAX_POLLS`] less
    /// [`BUSY_WAIT_POLLS`], which are a wait's for a busy campaign).
    pub spaced_for: u32,
}

/// How many deployment deadlines one execution may spend: a wait for a
/// campaign busy with older work, its own create or update, and a rollback
/// (the execution's backstop outlasts them, the training deadline and the
/// longest watch).
pub const DEPLOYMENT_DEADLINES: u32 = 3;

/// The polls of a wait for a campaign busy with older work, out of
/// [`MAX_POLLS`]: the wait, the deployment and a rollback each have the
/// deployment deadline, and their polls together stay within the budget.
pub const BUSY_WAIT_POLLS: u32 = 60;

/// The polls of a rollback's update, out of [`MAX_POLLS`] (see
/// [`BUSY_WAIT_POLLS`]).
pub const ROLLBACK_POLLS: u32 = 60;

/// The most WatchAlarms invocations of an execution (a loop of its own,
/// beside the poll loop; see [`MAX_POLLS`]).
pub const MAX_WATCH_POLLS: u32 = 200;

/// The campaign poll's defaults: polls 30 s, 1 min, then 2 min apart, for
/// at most 3 hours, looking every 5 s around an expected end.
impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial_seconds: 30,
            max_seconds: 120,
            backoff_rate: 2.0,
            deadline_seconds: 3 * 60 * 60,
            max_polls: MAX_POLLS,
            hold_seconds: 5,
            max_hold_seconds: MAX_HOLD_SECONDS,
            spaced_for: MAX_POLLS - BUSY_WAIT_POLLS - ROLLBACK_POLLS,
        }
    }
}

/// The training schedule's defaults: polls 1, 2, 4, 8 minutes apart, then
/// every 10 minutes (never closer than the budget allows: 349 s), for at
/// most a day; around an expected end (from the solution's earlier
/// trainings), a look every 10 s, held up to 840 s per invocation.
pub const TRAINING_POLICY: PollPolicy = PollPolicy {
    initial_seconds: 60,
    max_seconds: 600,
    backoff_rate: 2.0,
    deadline_seconds: 24 * 60 * 60,
    max_polls: MAX_TRAINING_POLLS,
    hold_seconds: 10,
    max_hold_seconds: MAX_TRAINING_HOLD_SECONDS,
    spaced_for: MAX_TRAINING_POLLS,
};

/// What follows a look inside a hold ([`PollPolicy::in_hold`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Stay and look again after this pause.
    LookAgainIn(Duration),
    /// End the invocation; the state machine waits this many seconds.
    Over(u64),
}

/// What follows a poll that found the work unfinished, on the usual schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Poll again after this many seconds.
    Wait(u64),
    /// No more polls: the deadline has passed or the budget is spent (why:
    /// "not finished <deadline> after <since>: <what>").
    Overdue(String),
}

/// What follows a poll that found a deployment unfinished, around its
/// expected end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// End the invocation; the state machine waits this many seconds.
    Wait(u64),
    /// Stay in the invocation and look again every few seconds, until then.
    Hold { until: DateTime<Utc> },
    /// No more polls (see [`Next::Overdue`]).
    Overdue(String),
}

impl PollPolicy {
    /// The wait after poll number `attempt` (1-based): `initial × rate^(attempt-1)`,
    /// capped at `max`.
    pub fn backoff(&self, attempt: u32) -> u64 {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let wait = self.initial_seconds as f64 * self.backoff_rate.powi(exponent);
        if wait.is_finite() && wait < self.max_seconds as f64 {
            wait.round().max(1.0) as u64
        } else {
            self.max_seconds
        }
    }

    /// The wait after poll number `attempt`: the backoff, but never so short
    /// that the polls until the deadline would exceed `max_polls` (around
    /// an expected end, [`Self::around`] and [`Self::resume_after_hold`]
    /// keep the polls' starts at least [`Self::shortest_wait`] apart too).
    pub fn wait(&self, attempt: u32) -> u64 {
        self.backoff(attempt).max(self.shortest_wait())
    }

    /// The shortest wait that keeps the polls within `spaced_for` until
    /// the deadline (with two to spare: the first poll and the one after
    /// it).
    pub fn shortest_wait(&self) -> u64 {
        self.deadline_seconds
            .div_ceil(u64::from(self.spaced_for.max(3) - 2))
            .max(1)
    }

    /// The schedule of a wait for a campaign busy with older work: the same
    /// waits and deadline, spaced for [`BUSY_WAIT_POLLS`].
    pub fn busy_wait(&self) -> PollPolicy {
        PollPolicy {
            spaced_for: BUSY_WAIT_POLLS,
            hold_seconds: 0,
            max_hold_seconds: MAX_HOLD_SECONDS,
            ..*self
        }
    }

    /// The schedule of a rollback's update: the same waits, holds and
    /// deadline, spaced for [`ROLLBACK_POLLS`].
    pub fn rollback(&self) -> PollPolicy {
        PollPolicy {
            spaced_for: ROLLBACK_POLLS,
            ..*self
        }
    }

    pub fn deadline(&self, started_at: DateTime<Utc>) -> DateTime<Utc> {
        started_at + Duration::seconds(self.deadline_seconds.min(i64::MAX as u64) as i64)
    }

    /// After poll number `attempt` of work started at `started_at` found it
    /// unfinished at `now` (`what`: in what state): the wait before the next
    /// poll, never far past the deadline, so that the poll after it reports
    /// the time-out promptly; or, once the deadline has passed or the poll
    /// budget is spent, why there is none.
    pub fn next(
        &self,
        attempt: u32,
        started_at: DateTime<Utc>,
        since: &str,
        what: &str,
        now: DateTime<Utc>,
    ) -> Next {
        let deadline = self.deadline(started_at);
        if now >= deadline {
            return Next::Overdue(format!(
                "not finished {} after {since}: {what}",
                human_duration(self.deadline_seconds as f64)
            ));
        }
        if attempt >= self.max_polls {
            return Next::Overdue(format!(
                "not finished after {attempt} polls, the most an execution makes: {what}"
            ));
        }
        let remaining = (deadline - now).num_seconds().max(1) as u64;
        Next::Wait(self.wait(attempt).min(remaining))
    }

    /// [`Self::next`] for a deployment that may have an expected duration
    /// (`window`: the window around its expected end, see
    /// [`Expectation::window`]): the usual wait, shortened to end where the
    /// window begins (but never below [`Self::shortest_wait`]: polls start
    /// that far apart at least); a hold to the window's end (or the
    /// deadline) inside it; the usual wait again after it. The deadline
    /// counts from `started_at`.
    pub fn around(
        &self,
        attempt: u32,
        started_at: DateTime<Utc>,
        window: Option<(DateTime<Utc>, DateTime<Utc>)>,
        since: &str,
        what: &str,
        now: DateTime<Utc>,
    ) -> Step {
        let wait = match self.next(attempt, started_at, since, what, now) {
            Next::Wait(wait) => wait,
            Next::Overdue(why) => return Step::Overdue(why),
        };
        let Some((opens, closes)) = window.filter(|_| self.hold_seconds > 0) else {
            return Step::Wait(wait);
        };
        if now < opens {
            let to_window = whole_seconds(opens - now).max(self.shortest_wait());
            Step::Wait(wait.min(to_window))
        } else if now < closes {
            Step::Hold {
                until: closes.min(self.deadline(started_at)),
            }
        } else {
            Step::Wait(wait)
        }
    }

    /// How often a hold looks: every `hold_seconds`, at least a second,
    /// at most the longest hold.
    pub fn look_every(&self) -> Duration {
        let longest = self.max_hold_seconds.max(1);
        Duration::seconds(self.hold_seconds.clamp(1, longest).min(i64::MAX as u64) as i64)
    }

    /// After look number `looks` of a hold that began at `began` found the
    /// work unfinished at `now`, inside a window that ends at `until`: look
    /// again after a pause, or end the invocation (the window is over, or
    /// the invocation's `limit` came, or it looked as often as a look a
    /// second for the longest hold allows: bounded even if the clock stood
    /// still) with the wait before the next poll.
    pub fn in_hold(
        &self,
        began: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: DateTime<Utc>,
        looks: u64,
        now: DateTime<Utc>,
    ) -> Held {
        let end = until.min(limit);
        if now >= end || looks > self.max_hold_seconds {
            Held::Over(self.resume_after_hold(began, now, until))
        } else {
            Held::LookAgainIn(self.look_every().min(end - now))
        }
    }

    /// The wait after a hold that began at `began` and was cut short at
    /// `now` (its invocation's time was up) before the window's end: the
    /// next poll comes at once, but never sooner after this one began than
    /// [`Self::shortest_wait`], however little it held (the poll budget
    /// stays a guarantee), and never after the window.
    pub fn resume_after_hold(
        &self,
        began: DateTime<Utc>,
        now: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> u64 {
        let held = whole_seconds(now - began);
        let left = whole_seconds(window_end - now).max(1);
        self.shortest_wait().saturating_sub(held).clamp(1, left)
    }
}

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
        let seconds = took(created?, updated?)?;
        Some(Expectation { seconds, basis })
    }

    /// The window around the expected end of work started at `started_at`
    /// ([`window`]).
    pub fn window(&self, started_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        window(self.seconds, started_at)
    }
}

/// The window around the expected end of work expected to take `seconds`
/// from `started_at`: from 70 % to 130 % of it. One too long to count in
/// dates has its window at the end of time (never reached: no hold).
pub fn window(seconds: u64, started_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |fraction: f64| {
        Duration::try_milliseconds((seconds as f64 * fraction * 1000.0) as i64)
            .and_then(|offset| started_at.checked_add_signed(offset))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    (at(1.0 - WINDOW), at(1.0 + WINDOW))
}

/// A span as people read it: `1h 2m 3s`, `4m 5s`, `6s`.
pub fn human_duration(seconds: f64) -> String {
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// How long work that began at `created` and was last updated at
/// `updated` took, in whole seconds; none for backward or equal times.
pub fn took(created: DateTime<Utc>, updated: DateTime<Utc>) -> Option<u64> {
    let seconds = whole_seconds(updated - created);
    (seconds > 0).then_some(seconds)
}

/// A span in whole seconds, rounded up (0 for a negative one).
pub fn whole_seconds(span: Duration) -> u64 {
    (span.num_milliseconds().max(0) as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::CampaignUpdate;
    use chrono::TimeZone;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_795_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        let p = PollPolicy {
            initial_seconds: 30,
            max_seconds: 120,
            backoff_rate: 2.0,
            deadline_seconds: 3600,
            max_polls: MAX_POLLS,
            hold_seconds: 5,
            max_hold_seconds: MAX_HOLD_SECONDS,
            spaced_for: MAX_POLLS,
        };
        let waits: Vec<u64> = (1..=6).map(|a| p.backoff(a)).collect();
        assert_eq!(waits, vec![30, 60, 120, 120, 120, 120]);
        let fixed = PollPolicy {
            backoff_rate: 1.0,
            ..p
        };
        assert_eq!(fixed.backoff(9), 30);
        let gentle = PollPolicy {
            initial_seconds: 10,
            max_seconds: 300,
            backoff_rate: 1.5,
            ..p
        };
        assert_eq!(
            (1..=4).map(|a| gentle.backoff(a)).collect::<Vec<_>>(),
            vec![10, 15, 23, 34]
        );
        assert_eq!(
            p.backoff(10_000),
            120,
            "no overflow on very long deployments"
        );
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
        // A floor of a second, so that only the window shapes the waits.
        let policy = PollPolicy {
            initial_seconds: 30,
            max_seconds: 120,
            deadline_seconds: 86_400,
            max_polls: 86_402,
            spaced_for: 86_402,
            ..PollPolicy::default()
        };
        let start = t(0);
        let window = Some(e.window(start));
        let next = |attempt, at| policy.around(attempt, start, window, "", "", t(at));
        assert_eq!(next(1, 0), Step::Wait(30), "the usual schedule at first");
        assert_eq!(next(3, 690), Step::Wait(120));
        assert_eq!(next(3, 810), Step::Wait(30), "shortened to the window");
        assert_eq!(next(3, 839), Step::Wait(1));
        assert_eq!(next(3, 840), Step::Hold { until: t(1560) });
        assert_eq!(next(3, 1559), Step::Hold { until: t(1560) });
        assert_eq!(next(3, 1560), Step::Wait(120), "the usual after it");
        // Without an expectation: always the usual wait.
        assert_eq!(
            policy.around(3, start, None, "", "", t(1000)),
            Step::Wait(120)
        );
        // One too long to count in dates (from a hand-made state) never holds.
        let endless = Expectation {
            seconds: u64::MAX,
            basis: Basis::Creation,
        };
        assert_eq!(
            policy.around(3, start, Some(endless.window(start)), "", "", t(1000)),
            Step::Wait(120)
        );
    }
}
