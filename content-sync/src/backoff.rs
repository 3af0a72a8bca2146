//! Retry timing as pure functions: capped exponential backoff with full jitter, and the
//! jittered poll interval.
//!
//! Protocol §5.3: before attempt *n* (0, 1, ...) wait a uniformly random time in
//! [0, min(cap, base × 2ⁿ)]; `Retry-After` sets a floor. The randomness comes in as a number
//! in [0, 1), so the functions are deterministic and table-tested, and the daemon passes
//! `rand`'s output.

use std::time::Duration;

/// How retries back off. The protocol's numbers are the default; tests inject short ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(300) }
    }
}

impl Backoff {
    /// The ceiling before attempt `attempt`: min(cap, base × 2^attempt).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.checked_mul(factor).map_or(self.cap, |d| d.min(self.cap))
    }

    /// The wait before attempt `attempt`, given `unit` uniformly drawn from [0, 1), never
    /// shorter than `floor` (a `Retry-After`).
    pub fn delay(&self, attempt: u32, unit: f64, floor: Option<Duration>) -> Duration {
        let jittered = self.ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0));
        jittered.max(floor.unwrap_or(Duration::ZERO))
    }
}

/// The poll interval ±20 %: `unit` uniformly drawn from [0, 1) maps onto [0.8, 1.2] × `interval`.
pub fn jittered_poll(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(0.8 + 0.4 * unit.clamp(0.0, 1.0))
}

/// A uniform number in [0, 1) from the thread's generator.
pub fn random_unit() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn ceilings_double_from_one_second_up_to_five_minutes() {
        let backoff = Backoff::default();
        let cases = [(0, S(1)), (1, S(2)), (2, S(4)), (5, S(32)), (8, S(256)), (9, S(300)), (40, S(300))];
        for (attempt, ceiling) in cases {
            assert_eq!(backoff.ceiling(attempt), ceiling, "attempt {attempt}");
        }
    }

    #[test]
    fn delays_are_full_jitter_under_the_ceiling_and_respect_retry_after() {
        let backoff = Backoff::default();
        let cases = [
            (0, 0.0, None, S(0)),
            (0, 0.5, None, Duration::from_millis(500)),
            (3, 0.25, None, S(2)),
            (20, 0.5, None, S(150)),
            (0, 0.1, Some(S(30)), S(30)),
            (9, 0.9, Some(S(30)), S(270)),
            (2, 1.5, None, S(4)),
        ];
        for (attempt, unit, floor, expected) in cases {
            assert_eq!(backoff.delay(attempt, unit, floor), expected, "{attempt} {unit} {floor:?}");
        }
    }

    #[test]
    fn a_seeded_run_stays_inside_the_bounds_and_spreads_out() {
        let backoff = Backoff::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempt in 0..12 {
            let delays: Vec<Duration> =
                (0..200).map(|_| backoff.delay(attempt, rng.random::<f64>(), None)).collect();
            let ceiling = backoff.ceiling(attempt);
            assert!(delays.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            let low = delays.iter().filter(|d| **d < ceiling / 2).count();
            assert!((50..150).contains(&low), "full jitter spreads evenly: {low} of 200 below half");
        }
    }

    #[test]
    fn polls_spread_between_48_and_72_seconds() {
        let cases = [(0.0, S(48)), (0.5, S(60)), (0.999_999_999, S(72)), (1.0, S(72))];
        for (unit, expected) in cases {
            let got = jittered_poll(S(60), unit);
            assert!(got.abs_diff(expected) < Duration::from_millis(1), "{unit}: {got:?}");
        }
    }
}
