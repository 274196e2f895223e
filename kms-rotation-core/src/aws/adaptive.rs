//! An adaptive request rate: additive increase, multiplicative decrease (AIMD), as TCP paces
//! itself. It starts at its cap (the documented quota, or the user's rate), is cut by
//! [`DECREASE`] when KMS answers `ThrottlingException` (other callers are using the account's
//! quota), and climbs back towards the cap by [`RECOVERY_PER_SECOND`] of it per second while calls
//! pass. So a scan runs at the quota when it has it to itself, and gives way when it does not,
//! instead of always leaving a fixed share unused.
//!
//! [`Aimd`] and [`Pacer`] are pure (the caller passes the time); [`AdaptiveRate`] puts them behind
//! a lock and sleeps.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The rate is multiplied by this on a throttled reply.
const DECREASE: f64 = 0.7;

/// While calls pass, the rate climbs by this share of its cap per second: from a cut to 70% back
/// to the cap in about 3 s.
const RECOVERY_PER_SECOND: f64 = 0.1;

/// The rate never falls below this share of its cap (nor below 1 call per second): throttling
/// that does not depend on our rate (a storm from others) must not stop the scan.
const FLOOR: f64 = 0.05;

/// Calls that may go at once after a pause: a tenth of a second's worth. A whole second's worth
/// followed by the steady rate would put twice the rate into one second, past the quota.
const BURST: Duration = Duration::from_millis(100);

/// The AIMD state of one rate. No clock: increases are per call that passed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aimd {
    cap: f64,
    floor: f64,
    rate: f64,
    /// Counts decreases. Calls sent before the last decrease carry an older epoch, and their
    /// throttled replies (which were answered to the old rate) do not cut the rate again: one
    /// burst of throttling is one decrease, not one per call in flight.
    epoch: u64,
}

impl Aimd {
    /// At `cap` requests per second (at least 1).
    pub(crate) fn new(cap: u32) -> Self {
        let cap = f64::from(cap.max(1));
        Aimd {
            cap,
            floor: (cap * FLOOR).max(1.0),
            rate: cap,
            epoch: 0,
        }
    }

    /// Requests per second now.
    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }

    /// The epoch a call sent now belongs to.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A call sent in epoch `sent` was throttled: cut the rate, once per epoch. Whether it did.
    pub(crate) fn throttled(&mut self, sent: u64) -> bool {
        if sent != self.epoch {
            return false;
        }
        self.rate = (self.rate * DECREASE).max(self.floor);
        self.epoch += 1;
        true
    }

    /// A call passed: climb towards the cap. Calls pass about `rate` times a second, so adding
    /// `step / rate` each time climbs by `step` per second, whatever the rate.
    pub(crate) fn passed(&mut self) {
        if self.rate < self.cap {
            self.rate = (self.rate + self.cap * RECOVERY_PER_SECOND / self.rate).min(self.cap);
        }
    }
}

/// Spaces calls `1 / rate` apart, with a burst of [`BURST`] after a pause (a virtual schedule:
/// each call takes the next free slot, and the schedule never lags `now` by more than the burst).
#[derive(Debug, Clone, Default)]
pub(crate) struct Pacer {
    next: Option<Instant>,
}

impl Pacer {
    /// The time the call asking at `now` may go, at `rate` requests per second.
    pub(crate) fn reserve(&mut self, now: Instant, rate: f64) -> Instant {
        let earliest = now.checked_sub(BURST).unwrap_or(now);
        let slot = self.next.map_or(earliest, |next| next.max(earliest));
        self.next = Some(slot + Duration::from_secs_f64(1.0 / rate.max(1.0)));
        slot.max(now)
    }
}

/// What a caller keeps between asking to send and hearing the reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Permit {
    epoch: u64,
}

/// One adaptive rate, shared by every call of one operation in one account and region.
#[derive(Debug)]
pub(crate) struct AdaptiveRate {
    state: Mutex<(Aimd, Pacer)>,
}

impl AdaptiveRate {
    pub(crate) fn new(cap: u32) -> Self {
        AdaptiveRate {
            state: Mutex::new((Aimd::new(cap), Pacer::default())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Aimd, Pacer)> {
        // A poisoned lock only means a panic elsewhere: the numbers are still numbers.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the next slot at the current rate.
    pub(crate) async fn acquire(&self) -> Permit {
        let (slot, epoch) = {
            let mut state = self.lock();
            let (aimd, pacer) = &mut *state;
            (pacer.reserve(Instant::now(), aimd.rate()), aimd.epoch())
        };
        tokio::time::sleep_until(slot.into()).await;
        Permit { epoch }
    }

    /// The call of `permit` was throttled.
    pub(crate) fn throttled(&self, permit: Permit) {
        if self.lock().0.throttled(permit.epoch) {
            tracing::debug!(rate = self.rate(), "throttled: rate lowered");
        }
    }

    /// A call passed.
    pub(crate) fn passed(&self) {
        self.lock().0.passed();
    }

    /// Requests per second now.
    pub(crate) fn rate(&self) -> f64 {
        self.lock().0.rate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_cap_and_a_throttle_cuts_it() {
        let mut aimd = Aimd::new(1000);
        assert_eq!(aimd.rate(), 1000.0);
        assert!(aimd.throttled(aimd.epoch()));
        assert_eq!(aimd.rate(), 700.0);
    }

    #[test]
    fn throttles_of_calls_sent_before_a_cut_do_not_cut_again() {
        let mut aimd = Aimd::new(1000);
        let sent = aimd.epoch();
        assert!(aimd.throttled(sent));
        assert!(!aimd.throttled(sent));
        assert_eq!(aimd.rate(), 700.0);
        // A call sent after the cut that is throttled too: the rate was still too high.
        assert!(aimd.throttled(aimd.epoch()));
        assert!((aimd.rate() - 490.0).abs() < 1e-9, "{}", aimd.rate());
    }

    #[test]
    fn passing_calls_climb_back_to_the_cap_and_no_further() {
        let mut aimd = Aimd::new(1000);
        aimd.throttled(aimd.epoch());
        // About one second of calls at 700/s climbs about 100/s.
        for _ in 0..700 {
            aimd.passed();
        }
        assert!((790.0..=810.0).contains(&aimd.rate()), "{}", aimd.rate());
        for _ in 0..100_000 {
            aimd.passed();
        }
        assert_eq!(aimd.rate(), 1000.0);
    }

    #[test]
    fn the_rate_has_a_floor() {
        let mut aimd = Aimd::new(1000);
        for _ in 0..100 {
            aimd.throttled(aimd.epoch());
        }
        assert_eq!(aimd.rate(), 50.0);
        // Never below one call per second, even for a cap of 1.
        let mut tiny = Aimd::new(1);
        tiny.throttled(tiny.epoch());
        assert_eq!(tiny.rate(), 1.0);
        assert_eq!(Aimd::new(0).rate(), 1.0);
    }

    #[test]
    fn the_pacer_spaces_calls_after_a_burst_of_a_tenth_of_a_second() {
        let now = Instant::now() + Duration::from_secs(1);
        let mut pacer = Pacer::default();
        // At 100/s: 10 ms apart, after the 100 ms' worth (and the call due now) that go at once.
        let slots: Vec<Instant> = (0..12).map(|_| pacer.reserve(now, 100.0)).collect();
        assert!(slots[..11].iter().all(|s| *s == now));
        assert_eq!(slots[11] - now, Duration::from_millis(10));
        // The rate set at the next call is the one it is spaced at.
        let slot = pacer.reserve(now, 50.0);
        assert_eq!(slot - now, Duration::from_millis(20));
        // After a long pause the schedule starts again from the burst.
        let later = now + Duration::from_secs(10);
        assert_eq!(pacer.reserve(later, 100.0), later);
    }
}
