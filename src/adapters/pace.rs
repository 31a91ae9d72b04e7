//! A bound on the rate of one client's calls: calls start at least a
//! period apart, in the order they asked, however many run at once (a
//! look over a large account keeps its Personalize calls below a stated
//! rate, since Personalize documents none of its own).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct Pace {
    period: Duration,
    /// When the next call may start.
    next: Mutex<Option<Instant>>,
}

impl Pace {
    /// At most `calls_per_second` calls start in any second (at least 1).
    pub fn per_second(calls_per_second: u32) -> Pace {
        Pace {
            period: Duration::from_secs(1) / calls_per_second.max(1),
            next: Mutex::new(None),
        }
    }

    /// Waits until this call may start: at once after a pause, else a
    /// period after the call before it.
    pub async fn turn(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.period);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;

    #[tokio::test(start_paused = true)]
    async fn calls_start_a_period_apart_however_many_ask_at_once() {
        let pace = Pace::per_second(5);
        let begin = Instant::now();
        let starts = join_all((0..10).map(|_| async {
            pace.turn().await;
            Instant::now() - begin
        }))
        .await;
        let expected: Vec<Duration> = (0..10).map(|k| Duration::from_millis(200 * k)).collect();
        assert_eq!(starts, expected);
        // After a pause longer than a period, the next call starts at once.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let before = Instant::now();
        pace.turn().await;
        assert_eq!(Instant::now(), before);
        pace.turn().await;
        assert_eq!(Instant::now() - before, Duration::from_millis(200));
    }
}
