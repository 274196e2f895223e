//! Fault injection: latency, per-operation quotas, random throttling, 5xx, held replies, malformed
//! and truncated bodies, connection resets, a server that stops answering, paging faults (short
//! pages, a region failing mid-listing, `Truncated` without a marker, a repeated marker), a region
//! whose ListKeys fails, and writes that fail or are silently dropped.
//!
//! Random choices come from a seeded generator, so a run with the same seed and the same order of
//! calls injects the same faults.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::wire::KmsError;

pub(crate) const THROTTLING_MESSAGE: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// Which calls a fault hits: every call of `operations`, plus a seeded random `fraction`
/// (0.0–1.0) of all calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub fraction: f64,
    pub operations: BTreeSet<String>,
}

impl Selection {
    /// A random share of all calls.
    pub fn fraction(fraction: f64) -> Self {
        Selection {
            fraction,
            ..Selection::default()
        }
    }

    /// Every call of one operation, e.g. `"DescribeKey"`.
    pub fn operation(operation: &str) -> Self {
        Selection {
            operations: BTreeSet::from([operation.to_owned()]),
            ..Selection::default()
        }
    }

    /// Draws from `rng` only when a fraction is set, so adding a listed operation does not shift
    /// the random sequence of other faults.
    fn hits(&self, operation: &str, rng: &mut SplitMix64) -> bool {
        let drawn = self.fraction > 0.0 && rng.next_f64() < self.fraction;
        drawn || self.operations.contains(operation)
    }
}

/// What EnableKeyRotation and DisableKeyRotation do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Writes {
    /// Validate and apply, as KMS does.
    #[default]
    Apply,
    /// Validate and answer as usual, but leave the state unchanged (a fix that does not stick).
    Ignore,
    /// Answer every write with this error code.
    Fail(String),
}

impl Writes {
    /// Every write fails with AccessDeniedException, which SDKs do not retry (tests stay quick).
    pub fn failing() -> Self {
        Writes::Fail("AccessDeniedException".to_owned())
    }
}

/// ListKeys in one region always fails with `code` (e.g. `AccessDeniedException`, or
/// `UnrecognizedClientException` as for an opt-in region that is not enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListKeysFailure {
    /// `None`: every account.
    pub account_id: Option<String>,
    pub region: String,
    pub code: String,
}

/// A fault in one list operation's paging, in one region, after some pages were served normally.
///
/// Pages are counted per operation, account and region across every caller (and every key, for
/// the per-key lists ListResourceTags and ListKeyRotations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingFault {
    /// `ListKeys`, `ListAliases`, `ListResourceTags` or `ListKeyRotations`.
    pub operation: String,
    pub region: String,
    /// Pages answered normally before the fault.
    pub after_pages: usize,
    pub kind: PagingFaultKind,
}

/// What goes wrong once [`PagingFault::after_pages`] pages were served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagingFaultKind {
    /// Every later call of the operation fails with this code: a region failing mid-pagination.
    Fail(String),
    /// The next page says `Truncated: true` and has no `NextMarker`.
    TruncatedWithoutMarker,
    /// The next page says `Truncated: true` and sends back the first marker this list issued,
    /// which the client has already followed: a marker cycle that is not the previous marker.
    RepeatMarker,
    /// The next page lists each of its items twice.
    DuplicateItems,
    /// The next page lists one more item, an empty object (a key with neither id nor ARN).
    BlankItem,
}

impl PagingFault {
    pub fn new(operation: &str, region: &str, after_pages: usize, kind: PagingFaultKind) -> Self {
        PagingFault {
            operation: operation.to_owned(),
            region: region.to_owned(),
            after_pages,
            kind,
        }
    }
}

/// The faults to inject. `Faults::default()` injects none.
///
/// ```
/// use std::time::Duration;
/// use kms_test_server::{Faults, Selection};
/// let faults = Faults {
///     latency: Duration::from_millis(25),
///     server_errors: Selection::fraction(0.01),
///     ..Faults::default()
/// }
/// .with_aws_quotas();
/// assert_eq!(faults.quotas["EnableKeyRotation"], 15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Seeds every random choice.
    pub seed: u64,
    /// Added to every reply.
    pub latency: Duration,
    /// Requests per second per operation, per account and region; calls past it get
    /// ThrottlingException. Operations not listed are unlimited.
    pub quotas: BTreeMap<String, u32>,
    /// Calls answered ThrottlingException whatever the rate (a throttle storm caused by others
    /// sharing the account's quota).
    pub throttles: Selection,
    /// Calls answered `server_error_status` with KMSInternalException.
    pub server_errors: Selection,
    /// 500 (KMSInternalException's status) or 503.
    pub server_error_status: u16,
    /// Calls whose reply is held for `timeout_hold` (on top of `latency`), so the client times out.
    pub timeouts: Selection,
    pub timeout_hold: Duration,
    /// Successful calls answered 200 with a body that is not valid JSON.
    pub malformed: Selection,
    /// Successful calls whose reply announces its full length but stops halfway, and whose
    /// connection is then closed.
    pub truncated: Selection,
    /// Calls whose connection is reset (TCP RST) instead of answered. The operation still runs,
    /// as when a reply is lost on the way back.
    pub resets: Selection,
    /// After this many calls the server stops answering: every later call is held until shutdown.
    pub stop_after: Option<usize>,
    /// The most items any list page holds, whatever `Limit` asks (AWS may return fewer).
    pub page_cap: Option<usize>,
    pub paging_faults: Vec<PagingFault>,
    pub list_keys_failures: Vec<ListKeysFailure>,
    pub writes: Writes,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            seed: 0,
            latency: Duration::ZERO,
            quotas: BTreeMap::new(),
            throttles: Selection::default(),
            server_errors: Selection::default(),
            server_error_status: 500,
            timeouts: Selection::default(),
            timeout_hold: Duration::from_secs(60),
            malformed: Selection::default(),
            truncated: Selection::default(),
            resets: Selection::default(),
            stop_after: None,
            page_cap: None,
            paging_faults: Vec::new(),
            list_keys_failures: Vec::new(),
            writes: Writes::Apply,
        }
    }
}

impl Faults {
    /// AWS's default request quotas (kms-api.md §4.1) for the operations this server speaks.
    pub fn aws_default_quotas() -> BTreeMap<String, u32> {
        [
            ("DescribeKey", 2000),
            ("GetKeyRotationStatus", 1000),
            ("ListKeys", 500),
            ("ListAliases", 500),
            ("ListResourceTags", 2000),
            ("ListKeyRotations", 100),
            ("GetKeyPolicy", 1000),
            ("ListGrants", 100),
            ("EnableKeyRotation", 15),
            ("DisableKeyRotation", 5),
        ]
        .into_iter()
        .map(|(op, rps)| (op.to_owned(), rps))
        .collect()
    }

    /// These faults with AWS's default quotas added.
    pub fn with_aws_quotas(mut self) -> Self {
        self.quotas.extend(Faults::aws_default_quotas());
        self
    }
}

/// A fault the server injected into a call, as recorded in the call log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Injected {
    Throttled,
    ServerError,
    /// The reply was held for `timeout_hold`.
    Held,
    Malformed,
    /// The reply stopped halfway and the connection was closed.
    Truncated,
    /// The connection was reset instead of answered.
    Reset,
    /// The server had stopped answering: the call was held until shutdown.
    Stopped,
    /// A [`PagingFaultKind::Fail`] answered the call.
    PagingFailure,
    /// The page said `Truncated` without a `NextMarker`.
    TruncatedWithoutMarker,
    /// The page sent back a marker the list had already issued.
    RepeatedMarker,
    /// The page listed its items twice.
    DuplicateItems,
    /// The page listed an empty item.
    BlankItem,
    ListKeysFailure,
    WriteFailed,
    WriteIgnored,
}

/// What the faults make of one call.
#[derive(Debug)]
pub(crate) struct Decision {
    /// How long to wait before replying.
    pub delay: Duration,
    pub held: bool,
    /// Answer this instead of running the operation.
    pub error: Option<(KmsError, Injected)>,
    pub malformed: bool,
    pub truncated: bool,
    pub reset: bool,
    /// Held until shutdown: the server has stopped answering.
    pub stopped: bool,
    pub page_cap: Option<usize>,
    pub apply_writes: bool,
}

/// The current faults plus the state they need: the random generator and the quota buckets.
#[derive(Debug)]
pub(crate) struct FaultState {
    faults: Faults,
    rng: SplitMix64,
    /// (operation, account, region) to bucket.
    buckets: HashMap<(String, String, String), Bucket>,
    calls: usize,
    /// Pages served and the first marker issued, per (operation, account, region).
    pages: HashMap<(String, String, String), Pages>,
}

#[derive(Debug, Default)]
struct Pages {
    served: usize,
    first_marker: Option<String>,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        FaultState {
            rng: SplitMix64(faults.seed),
            faults,
            buckets: HashMap::new(),
            calls: 0,
            pages: HashMap::new(),
        }
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn decide(
        &mut self,
        operation: &str,
        account: &str,
        region: &str,
        now: Instant,
    ) -> Decision {
        let f = &self.faults;
        self.calls += 1;
        let stopped = f.stop_after.is_some_and(|n| self.calls > n);
        // Every selection draws in the same order for every call, so one seed gives one sequence.
        // Selections added later draw last, so that older seeds keep their sequences.
        let held = f.timeouts.hits(operation, &mut self.rng);
        let server_error = f.server_errors.hits(operation, &mut self.rng);
        let malformed = f.malformed.hits(operation, &mut self.rng);
        let storm = f.throttles.hits(operation, &mut self.rng);
        let truncated = f.truncated.hits(operation, &mut self.rng);
        let reset = f.resets.hits(operation, &mut self.rng);
        let is_write = matches!(operation, "EnableKeyRotation" | "DisableKeyRotation");

        let throttled = f.quotas.get(operation).is_some_and(|&rps| {
            let key = (operation.to_owned(), account.to_owned(), region.to_owned());
            let bucket = self.buckets.entry(key).or_insert(Bucket {
                tokens: f64::from(rps),
                last: now,
            });
            !bucket.take(f64::from(rps), now)
        }) || storm;
        let list_keys_failure = (operation == "ListKeys")
            .then(|| {
                f.list_keys_failures.iter().find(|lf| {
                    lf.region == region && lf.account_id.as_deref().is_none_or(|a| a == account)
                })
            })
            .flatten();

        let error = if throttled {
            Some((
                KmsError::new("ThrottlingException", THROTTLING_MESSAGE),
                Injected::Throttled,
            ))
        } else if server_error {
            let mut err = KmsError::new(
                "KMSInternalException",
                "The request was rejected because an internal exception occurred.",
            );
            err.status = f.server_error_status;
            Some((err, Injected::ServerError))
        } else if let Some(code) = self.failing_page(operation, account, region) {
            Some((denial(&code, operation, account), Injected::PagingFailure))
        } else if let Some(lf) = list_keys_failure {
            Some((
                denial(&lf.code, operation, account),
                Injected::ListKeysFailure,
            ))
        } else if let (true, Writes::Fail(code)) = (is_write, &f.writes) {
            Some((denial(code, operation, account), Injected::WriteFailed))
        } else {
            None
        };
        let hold = if stopped {
            STOPPED_HOLD
        } else if held {
            f.timeout_hold
        } else {
            Duration::ZERO
        };
        Decision {
            delay: f.latency + hold,
            held,
            error,
            malformed,
            truncated,
            reset,
            stopped,
            page_cap: f.page_cap,
            apply_writes: !(is_write && f.writes == Writes::Ignore),
        }
    }

    /// The code a [`PagingFaultKind::Fail`] answers this call with, once its pages are served.
    fn failing_page(&self, operation: &str, account: &str, region: &str) -> Option<String> {
        let served = self.served(operation, account, region);
        self.faults
            .paging_faults
            .iter()
            .find_map(|pf| match &pf.kind {
                PagingFaultKind::Fail(code)
                    if pf.operation == operation
                        && pf.region == region
                        && served >= pf.after_pages =>
                {
                    Some(code.clone())
                }
                _ => None,
            })
    }

    fn served(&self, operation: &str, account: &str, region: &str) -> usize {
        let key = (operation.to_owned(), account.to_owned(), region.to_owned());
        self.pages.get(&key).map_or(0, |p| p.served)
    }

    /// Counts a list page that is about to be answered and applies any paging fault due to it.
    /// `page` is the reply (`Truncated`, `NextMarker`); other replies are left alone.
    pub fn page_served(
        &mut self,
        operation: &str,
        account: &str,
        region: &str,
        page: &mut Value,
    ) -> Option<Injected> {
        let Value::Object(fields) = page else {
            return None;
        };
        if !fields.contains_key("Truncated") {
            return None;
        }
        let key = (operation.to_owned(), account.to_owned(), region.to_owned());
        let pages = self.pages.entry(key).or_default();
        let index = pages.served;
        pages.served += 1;
        if pages.first_marker.is_none()
            && let Some(Value::String(marker)) = fields.get("NextMarker")
        {
            pages.first_marker = Some(marker.clone());
        }
        let fault = self.faults.paging_faults.iter().find(|pf| {
            pf.operation == operation && pf.region == region && pf.after_pages == index
        })?;
        match &fault.kind {
            PagingFaultKind::Fail(_) => None,
            PagingFaultKind::TruncatedWithoutMarker => {
                fields.insert("Truncated".to_owned(), Value::Bool(true));
                fields.remove("NextMarker");
                Some(Injected::TruncatedWithoutMarker)
            }
            PagingFaultKind::RepeatMarker => {
                let marker = pages.first_marker.clone()?;
                fields.insert("Truncated".to_owned(), Value::Bool(true));
                fields.insert("NextMarker".to_owned(), Value::String(marker));
                Some(Injected::RepeatedMarker)
            }
            PagingFaultKind::DuplicateItems => {
                let items = fields.values_mut().find_map(Value::as_array_mut)?;
                let copy = items.clone();
                items.extend(copy);
                Some(Injected::DuplicateItems)
            }
            PagingFaultKind::BlankItem => {
                let items = fields.values_mut().find_map(Value::as_array_mut)?;
                items.push(Value::Object(serde_json::Map::new()));
                Some(Injected::BlankItem)
            }
        }
    }
}

/// How long a call is held once the server has stopped answering: longer than any test, and
/// cut short by shutdown.
const STOPPED_HOLD: Duration = Duration::from_secs(3600);

/// An error with the message AWS gives for that code, where it is a well-known one.
fn denial(code: &str, operation: &str, account: &str) -> KmsError {
    let message = match code {
        "AccessDeniedException" => format!(
            "User: arn:aws:iam::{account}:user/test is not authorized to perform: kms:{operation} \
             because no identity-based policy allows the kms:{operation} action"
        ),
        "UnrecognizedClientException" => {
            "The security token included in the request is invalid.".to_owned()
        }
        _ => format!("Injected {code} for {operation}"),
    };
    KmsError::new(code, message)
}

/// A token bucket holding one second of calls, so a burst up to the quota passes and the rate
/// past it is the quota.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, rate: f64, now: Instant) -> bool {
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * rate;
        self.tokens = (self.tokens + refill).min(rate);
        self.last = now;
        let ok = self.tokens >= 1.0;
        if ok {
            self.tokens -= 1.0;
        }
        ok
    }
}

/// SplitMix64: tiny, and its sequence for a seed never changes with a dependency upgrade.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_passes_a_burst_up_to_the_quota_then_refills() {
        let start = Instant::now();
        let mut bucket = Bucket {
            tokens: 10.0,
            last: start,
        };
        let passed = (0..25).filter(|_| bucket.take(10.0, start)).count();
        assert_eq!(passed, 10);
        assert!(bucket.take(10.0, start + Duration::from_millis(100)));
        assert!(!bucket.take(10.0, start + Duration::from_millis(100)));
    }

    #[test]
    fn same_seed_same_faults() {
        let faults = Faults {
            seed: 42,
            server_errors: Selection::fraction(0.3),
            ..Faults::default()
        };
        let run = |faults: Faults| {
            let mut state = FaultState::new(faults);
            (0..200)
                .map(|_| {
                    state
                        .decide("DescribeKey", "a", "r", Instant::now())
                        .error
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        let first = run(faults.clone());
        assert_eq!(first, run(faults));
        let hits = first.iter().filter(|h| **h).count();
        assert!((30..=90).contains(&hits), "{hits}");
    }
}
