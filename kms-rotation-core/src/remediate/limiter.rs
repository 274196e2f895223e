//! A client-side limit on write calls per account and region. KMS quotas are per account and
//! region (EnableKeyRotation 15/s, DisableKeyRotation 5/s) and shared with everything else
//! running there, so remediation spaces its writes evenly below them instead of bursting into
//! throttling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Evenly spaced permits, one schedule per `account/region`.
#[derive(Debug)]
pub(crate) struct WriteLimiter {
    interval: Duration,
    next: Mutex<HashMap<String, Instant>>,
}

impl WriteLimiter {
    /// `per_second` writes per account and region; 0 means no limit.
    pub(crate) fn new(per_second: u32) -> Arc<Self> {
        let interval = if per_second == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1) / per_second
        };
        Arc::new(WriteLimiter {
            interval,
            next: Mutex::new(HashMap::new()),
        })
    }

    /// Waits for the next write slot of `account_id` in `region`.
    pub(crate) async fn acquire(&self, account_id: &str, region: &str) {
        if self.interval.is_zero() {
            return;
        }
        // Reserve a slot under the lock, then sleep outside it: waiters queue in order of
        // arrival and never hold the lock while sleeping.
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let entry = next.entry(format!("{account_id}/{region}")).or_insert(now);
            let slot = (*entry).max(now);
            *entry = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_are_spaced_per_region_and_regions_do_not_wait_for_each_other() {
        let limiter = WriteLimiter::new(50);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire("111122223333", "us-east-1").await;
        }
        let spaced = start.elapsed();
        assert!(spaced >= Duration::from_millis(80), "{spaced:?}");
        let other = Instant::now();
        limiter.acquire("111122223333", "eu-west-1").await;
        assert!(other.elapsed() < Duration::from_millis(15));
    }
}
