//! A small failure counter per key (a client address, an account), so nobody can probe
//! enrolment codes or guess passwords: after too many failures in a window, the key gets 429
//! with `Retry-After` until the window ends. Successes cost nothing. In memory, per process.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked addresses, finished windows are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug)]
pub(crate) struct FailureLimiter<K> {
    max_failures: u32,
    window: Duration,
    counts: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq> FailureLimiter<K> {
    pub(crate) fn new(max_failures: u32, window: Duration) -> FailureLimiter<K> {
        FailureLimiter { max_failures, window, counts: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` when the key has used up its failures.
    pub(crate) fn check(&self, key: &K, now: Instant) -> Result<(), u64> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        match counts.get(key) {
            Some(&(start, failures)) if failures >= self.max_failures && now < start + self.window => {
                Err((start + self.window - now).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn record_failure(&self, key: K, now: Instant) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() > SWEEP_ABOVE {
            let window = self.window;
            counts.retain(|_, (start, _)| now < *start + window);
        }
        let entry = counts.entry(key).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_failures_until_the_window_ends() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        let addr: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        assert!(limiter.check(&addr, t0).is_ok());
        limiter.record_failure(addr, t0);
        limiter.record_failure(addr, t0);
        assert_eq!(limiter.check(&addr, t0 + Duration::from_secs(10)), Err(50));
        assert!(limiter.check(&"127.0.0.2".parse().unwrap(), t0).is_ok());
        assert!(limiter.check(&addr, t0 + Duration::from_secs(60)).is_ok());
    }
}
