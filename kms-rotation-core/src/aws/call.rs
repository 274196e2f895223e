//! One read call: the client-side rate, throttling absorbed within a time budget, unreadable
//! replies tried again, and a region that has stopped answering not called again.
//!
//! The SDK retries every retryable failure a few times (`max_attempts`). That is right for 5xx,
//! timeouts and dropped connections, but not for throttling: a throttle storm caused by other
//! callers sharing the account's quota can outlast any fixed number of attempts, and a key left as
//! `error` because the quota was busy is a scan that failed for nothing. So reads do not let the
//! SDK retry throttling ([`ThrottlingNotRetried`]): a throttled reply comes straight back here,
//! lowers the operation's adaptive rate (every throttle is seen, and no retry skips the rate), and
//! the call is tried again after an exponential backoff with full jitter, for as long as
//! [`AwsOptions::throttling_budget`](super::AwsOptions) allows: a storm slows the scan down
//! instead of failing keys.
//!
//! The SDK does not retry a 200 reply whose body it cannot parse (a proxy that cut it, a garbled
//! body). Reads are idempotent and such a reply says nothing about the key, so it is tried again,
//! `max_attempts` times in all.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::config::interceptors::InterceptorContext;
use aws_sdk_kms::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::retries::classifiers::{RetryClassifierPriority, RetryReason};
use aws_smithy_types::retry::ErrorKind as RetryErrorKind;

use super::errors::{RESPONSE_ERROR, TIMEOUT_ERROR, error_code, key_error};
use super::limits::{Op, RegionLimiter};
use crate::ErrorKind;
use crate::model::KeyError;

/// The code of a call that was not made because its region had stopped answering.
pub const REGION_UNRESPONSIVE: &str = "RegionUnresponsive";

/// Operation-level timeouts in a row (each after the SDK's own retries) after which a region is
/// taken to have stopped answering. One unlucky call must not write a region off; the calls in
/// flight when a region stops all time out together, so a few in a row is unambiguous.
const UNRESPONSIVE_AFTER: u32 = 3;

/// The longest single wait between throttled attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Exponential backoff with full jitter within a time budget: how a call that may pass later
/// (throttled, for reads; any retryable failure, for remediation) is tried again past the SDK's
/// own attempts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    /// The first wait's ceiling; each later one doubles, up to [`MAX_BACKOFF`].
    pub(crate) initial: Duration,
    /// The time a call may spend being retried, counted from its first attempt.
    pub(crate) budget: Duration,
}

impl Backoff {
    /// The wait before retry `retry` (0-based): uniform in [0, ceiling], where the ceiling
    /// doubles each time. Full jitter spreads callers that were throttled together.
    pub(crate) fn wait(&self, retry: u32, jitter: f64) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(2u32.saturating_pow(retry.min(30)))
            .min(MAX_BACKOFF.max(self.initial));
        ceiling.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// The wait before retry `retry` of a call first sent at `started`, or `None` when waiting
    /// would overrun the budget: then the call has failed.
    pub(crate) fn next(&self, started: Instant, retry: u32) -> Option<Duration> {
        let wait = self.wait(retry, jitter());
        (started.elapsed() + wait <= self.budget).then_some(wait)
    }
}

/// How read calls are retried past the SDK's own retries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadRetry {
    /// For throttled calls, within its budget.
    pub(crate) throttled: Backoff,
    /// Attempts in all for a call whose replies cannot be read.
    pub(crate) attempts: u32,
}

/// Tracks whether a region still answers: [`UNRESPONSIVE_AFTER`] operation-level timeouts in a
/// row, with no reply in between, open it; from then on calls fail at once.
#[derive(Debug, Default)]
pub(crate) struct Breaker {
    timeouts_in_a_row: AtomicU32,
    /// Set when open: the operation whose timeout opened it.
    opened_by: OnceLock<String>,
}

impl Breaker {
    pub(crate) fn is_open(&self) -> bool {
        self.opened_by.get().is_some()
    }

    /// The operation whose timeout opened the breaker, once open.
    pub(crate) fn opened_by(&self) -> Option<&str> {
        self.opened_by.get().map(String::as_str)
    }

    /// Why the region's read is incomplete, once open.
    pub(crate) fn message() -> String {
        format!(
            "the region stopped answering: {UNRESPONSIVE_AFTER} calls in a row timed out after \
             their retries; keys not read are `error` findings"
        )
    }

    /// Any reply, error replies included, shows the region answers.
    fn answered(&self) {
        self.timeouts_in_a_row.store(0, Ordering::Relaxed);
    }

    fn timed_out(&self, operation: &str) {
        if self.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed) + 1 >= UNRESPONSIVE_AFTER {
            // Only the first opening is kept.
            let _ = self.opened_by.set(operation.to_owned());
        }
    }

    fn refusal(operation: &str) -> KeyError {
        KeyError {
            operation: operation.to_owned(),
            code: REGION_UNRESPONSIVE.to_owned(),
            message: format!(
                "{operation} was not called: the region stopped answering \
                 ({UNRESPONSIVE_AFTER} calls in a row timed out after their retries)"
            ),
        }
    }
}

/// What a call needs from its region read.
pub(crate) struct CallContext<'a> {
    pub(crate) limiter: &'a RegionLimiter,
    pub(crate) breaker: &'a Breaker,
    pub(crate) retry: ReadRetry,
}

/// Makes one call (`send` builds and sends the request, and may run several times): waits for
/// the rate limiter before each attempt, retries throttling within the budget and unreadable
/// replies a few times, and keeps the breaker up to date. The error is the last attempt's, as a
/// [`KeyError`] of `op`.
pub(crate) async fn call<T, E, F, Fut>(
    ctx: &CallContext<'_>,
    op: Op,
    mut send: F,
) -> Result<T, KeyError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let operation = op.name();
    let started = Instant::now();
    let mut throttled = 0;
    let mut unreadable = 0;
    loop {
        if ctx.breaker.is_open() {
            return Err(Breaker::refusal(operation));
        }
        let permit = ctx.limiter.wait(op).await;
        let err = match send().await {
            Ok(out) => {
                ctx.breaker.answered();
                ctx.limiter.passed(op);
                return Ok(out);
            }
            Err(err) => err,
        };
        let code = error_code(&err);
        if code == TIMEOUT_ERROR {
            ctx.breaker.timed_out(operation);
        } else {
            ctx.breaker.answered();
        }
        if ErrorKind::from_aws_code(&code) == ErrorKind::Throttled {
            ctx.limiter.throttled(op, permit);
            if let Some(wait) = ctx.retry.throttled.next(started, throttled) {
                tracing::debug!(
                    operation,
                    throttled,
                    ?wait,
                    "throttled: retrying after a backoff"
                );
                throttled += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            tracing::warn!(
                operation,
                retries = throttled,
                budget = ?ctx.retry.throttled.budget,
                "still throttled when the throttling budget ran out"
            );
        } else if code == RESPONSE_ERROR
            // A transport-level ResponseError has had the SDK's retries already.
            && matches!(err, SdkError::ServiceError(_))
            && unreadable + 1 < ctx.retry.attempts
        {
            let wait = ctx.retry.throttled.wait(unreadable, jitter());
            tracing::debug!(
                operation,
                unreadable,
                ?wait,
                "unreadable reply: trying again"
            );
            unreadable += 1;
            tokio::time::sleep(wait).await;
            continue;
        }
        return Err(key_error(operation, &err));
    }
}

/// The read clients' retry classifier: a reply the SDK's classifiers would retry as throttling
/// is not retried by the SDK, so that [`call`] sees it (and lowers the rate). It runs after the
/// SDK's own classifiers and changes no other verdict: 5xx, timeouts and dropped connections are
/// still retried by the SDK.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThrottlingNotRetried;

impl ClassifyRetry for ThrottlingNotRetried {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        if is_throttling(previous) {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "kms-rotation: throttling is retried by the caller"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

fn is_throttling(action: &RetryAction) -> bool {
    matches!(
        action,
        RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: RetryErrorKind::ThrottlingError,
            ..
        })
    )
}

/// A number in [0, 1) for jitter. `RandomState` is randomly keyed per instance, which is random
/// enough to spread retries and needs no dependency.
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_scales_it() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            budget: Duration::from_secs(60),
        };
        assert_eq!(backoff.wait(0, 1.0), Duration::from_millis(100));
        assert_eq!(backoff.wait(3, 1.0), Duration::from_millis(800));
        assert_eq!(backoff.wait(3, 0.5), Duration::from_millis(400));
        assert_eq!(backoff.wait(60, 1.0), MAX_BACKOFF);
        assert_eq!(backoff.wait(5, 0.0), Duration::ZERO);
    }

    #[test]
    fn a_wait_past_the_budget_ends_the_retries() {
        let started = Instant::now();
        let none = Backoff {
            initial: Duration::from_millis(100),
            budget: Duration::ZERO,
        };
        // Jitter may draw a zero wait, which still fits a zero budget: try until it does not.
        assert!((0..64).any(|retry| none.next(started, retry).is_none()));
        let ample = Backoff {
            initial: Duration::from_millis(1),
            budget: Duration::from_secs(60),
        };
        assert!(ample.next(started, 0).is_some());
    }

    #[test]
    fn jitter_is_in_the_unit_interval_and_varies() {
        let draws: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn only_throttling_verdicts_are_turned_into_no_retry() {
        let ctx = InterceptorContext::new(
            aws_smithy_runtime_api::client::interceptors::context::Input::erase(()),
        );
        let classify =
            |previous: RetryAction| ThrottlingNotRetried.classify_retry_v2(&ctx, &previous);
        assert_eq!(
            classify(RetryAction::throttling_error()),
            RetryAction::RetryForbidden
        );
        for other in [
            RetryAction::transient_error(),
            RetryAction::server_error(),
            RetryAction::NoActionIndicated,
        ] {
            assert_eq!(classify(other), RetryAction::NoActionIndicated);
        }
    }

    #[test]
    fn the_breaker_opens_after_timeouts_in_a_row_only() {
        let breaker = Breaker::default();
        breaker.timed_out("ListKeys");
        breaker.timed_out("ListKeys");
        breaker.answered();
        breaker.timed_out("DescribeKey");
        breaker.timed_out("DescribeKey");
        assert!(!breaker.is_open());
        breaker.timed_out("GetKeyRotationStatus");
        assert_eq!(breaker.opened_by(), Some("GetKeyRotationStatus"));
        breaker.timed_out("DescribeKey");
        assert_eq!(breaker.opened_by(), Some("GetKeyRotationStatus"));
        assert_eq!(
            Breaker::refusal("DescribeKey").code,
            REGION_UNRESPONSIVE.to_owned()
        );
    }
}
