//! A client-side limit on write calls per account and region. KMS quotas are per account and
//! region (EnableKeyRotation 15/s, DisableKeyRotation 5/s) and shared with everything else
//! running there, so remediation spaces its writes evenly below them instead of bursting into
//! throttling. The same rate limiter (governor) as the reads, keyed by account and region.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Evenly spaced permits (a burst of one), one schedule per `account/region`.
#[derive(Debug)]
pub(crate) struct WriteLimiter {
    /// `None`: no limit.
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl WriteLimiter {
    /// `per_second` writes per account and region; 0 means no limit.
    pub(crate) fn new(per_second: u32) -> Arc<Self> {
        let limiter = NonZeroU32::new(per_second)
            .map(|rate| RateLimiter::keyed(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)));
        Arc::new(WriteLimiter { limiter })
    }

    /// Waits for the next write slot of `account_id` in `region`.
    pub(crate) async fn acquire(&self, account_id: &str, region: &str) {
        if let Some(limiter) = &self.limiter {
            limiter
                .until_key_ready(&format!("{account_id}/{region}"))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn writes_are_spaced_per_region_and_regions_do_not_wait_for_each_other() {
        let limiter = WriteLimiter::new(50);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire("111122223333", "us-east-1").await;
        }
        let spaced = start.elapsed();
        assert!(spaced >= Duration::from_millis(75), "{spaced:?}");
        let other = Instant::now();
        limiter.acquire("111122223333", "eu-west-1").await;
        assert!(other.elapsed() < Duration::from_millis(15));
    }
}
