//! Client-side request rates. KMS counts its quotas per account, region and operation, and the
//! scanner shares them with production traffic, so each (account, region) gets its own adaptive
//! rate per operation ([`super::adaptive`]): at the quota while KMS lets it, lower for a while
//! after `ThrottlingException`. Each (account, region) also gets the SDK retry partition its reads
//! share (see [`read_partition`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_kms::config::retry::{RetryPartition, TokenBucket};

use super::adaptive::{AdaptiveRate, Permit};
use super::permissions::Action;
use crate::{Error, Result};

/// The most requests per second the AWS source allows itself, per account, region and operation.
///
/// The defaults are the default KMS request quotas (`kms-api.md` §4.1). Each is a cap: the source
/// starts there and slows down when KMS throttles it (the quota is shared with every other caller
/// in the account), then climbs back. A rate set lower is never exceeded, which leaves the rest of
/// the quota to others; accounts with raised quotas can set them higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// DescribeKey (quota 2000/s).
    pub describe_key: u32,
    /// GetKeyRotationStatus (quota 1000/s).
    pub get_key_rotation_status: u32,
    /// ListKeys (quota 500/s).
    pub list_keys: u32,
    /// ListAliases (quota 500/s).
    pub list_aliases: u32,
    /// ListResourceTags (quota 2000/s).
    pub list_resource_tags: u32,
    /// ListKeyRotations (quota 100/s).
    pub list_key_rotations: u32,
    /// GetKeyPolicy (quota 1000/s), for exposure.
    pub get_key_policy: u32,
    /// ListGrants (quota 100/s), for exposure.
    pub list_grants: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            describe_key: 2000,
            get_key_rotation_status: 1000,
            list_keys: 500,
            list_aliases: 500,
            list_resource_tags: 2000,
            list_key_rotations: 100,
            get_key_policy: 1000,
            list_grants: 100,
        }
    }
}

impl RateLimits {
    fn fields(&self) -> [(&'static str, u32); 8] {
        [
            ("describe_key", self.describe_key),
            ("get_key_rotation_status", self.get_key_rotation_status),
            ("list_keys", self.list_keys),
            ("list_aliases", self.list_aliases),
            ("list_resource_tags", self.list_resource_tags),
            ("list_key_rotations", self.list_key_rotations),
            ("get_key_policy", self.get_key_policy),
            ("list_grants", self.list_grants),
        ]
    }

    /// Every rate must be at least 1 request per second: 0 would stall the scan forever.
    pub fn validate(&self) -> Result<()> {
        for (name, rate) in self.fields() {
            if rate == 0 {
                return Err(
                    Error::invalid_input("must be at least 1 request per second")
                        .with_field(format!("rate_limits.{name}")),
                );
            }
        }
        Ok(())
    }
}

/// The one syntax for rate limits on every surface: `OPERATION=REQUESTS_PER_SECOND`, operations
/// in kebab-case as in the AWS CLI (`describe-key=1000`). Operations not named keep their
/// defaults.
pub(crate) mod syntax {
    use serde::{Deserialize, Deserializer};

    use super::RateLimits;
    use crate::{Error, Result};

    /// Sets the rate `rate` (`describe-key=1000`) names.
    pub fn set(limits: &mut RateLimits, rate: &str) -> Result<()> {
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "`{rate}`: {why}; expected OPERATION=REQUESTS_PER_SECOND, e.g. describe-key=1000"
            ))
        };
        let (operation, value) = rate.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let value: u32 = value
            .trim()
            .parse()
            .map_err(|_| bad("the rate is not a whole number"))?;
        let slot = match operation.trim() {
            "describe-key" => &mut limits.describe_key,
            "get-key-rotation-status" => &mut limits.get_key_rotation_status,
            "list-keys" => &mut limits.list_keys,
            "list-aliases" => &mut limits.list_aliases,
            "list-resource-tags" => &mut limits.list_resource_tags,
            "list-key-rotations" => &mut limits.list_key_rotations,
            "get-key-policy" => &mut limits.get_key_policy,
            "list-grants" => &mut limits.list_grants,
            _ => {
                return Err(bad(
                    "unknown operation (describe-key, get-key-rotation-status, list-keys, \
                     list-aliases, list-resource-tags, list-key-rotations, get-key-policy, \
                     list-grants)",
                ));
            }
        };
        *slot = value;
        Ok(())
    }

    /// The defaults with `rates` applied.
    pub fn parse(rates: &[String]) -> Result<RateLimits> {
        let mut limits = RateLimits::default();
        for (i, rate) in rates.iter().enumerate() {
            set(&mut limits, rate).map_err(|e| e.with_field(format!("rates[{i}]")))?;
        }
        Ok(limits)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<RateLimits, D::Error> {
        let rates = Vec::<String>::deserialize(deserializer)?;
        parse(&rates).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// The read operations that have a limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    DescribeKey,
    GetKeyRotationStatus,
    ListKeys,
    ListAliases,
    ListResourceTags,
    ListKeyRotations,
    GetKeyPolicy,
    ListGrants,
}

impl Op {
    /// The API action this operation calls (and the IAM permission it needs).
    pub(crate) fn action(self) -> Action {
        match self {
            Op::DescribeKey => Action::DescribeKey,
            Op::GetKeyRotationStatus => Action::GetKeyRotationStatus,
            Op::ListKeys => Action::ListKeys,
            Op::ListAliases => Action::ListAliases,
            Op::ListResourceTags => Action::ListResourceTags,
            Op::ListKeyRotations => Action::ListKeyRotations,
            Op::GetKeyPolicy => Action::GetKeyPolicy,
            Op::ListGrants => Action::ListGrants,
        }
    }

    /// The operation's AWS name, as errors and the model name it.
    pub(crate) fn name(self) -> &'static str {
        self.action().operation()
    }
}

impl Op {
    /// Every operation, in the order of [`RateLimits::fields`].
    const ALL: [Op; 8] = [
        Op::DescribeKey,
        Op::GetKeyRotationStatus,
        Op::ListKeys,
        Op::ListAliases,
        Op::ListResourceTags,
        Op::ListKeyRotations,
        Op::GetKeyPolicy,
        Op::ListGrants,
    ];
}

/// The adaptive rates of one account and region, one per operation.
#[derive(Debug)]
pub(crate) struct RegionLimiter {
    /// In the order of [`Op::ALL`].
    rates: [AdaptiveRate; 8],
    /// The SDK retry state of these reads.
    pub(crate) partition: RetryPartition,
}

impl RegionLimiter {
    fn new(caps: &RateLimits, account: &str, region: &str) -> Self {
        let caps = caps.fields();
        RegionLimiter {
            partition: read_partition(account, region),
            rates: std::array::from_fn(|i| AdaptiveRate::new(caps[i].1)),
        }
    }

    fn rate(&self, op: Op) -> &AdaptiveRate {
        // `Op::ALL` lists every variant once, so the position is always found.
        let i = Op::ALL.iter().position(|o| *o == op).unwrap_or(0);
        &self.rates[i]
    }

    /// Waits until one more `op` request fits the rate; the permit goes back with the reply.
    pub(crate) async fn wait(&self, op: Op) -> Permit {
        self.rate(op).acquire().await
    }

    /// The `op` request of `permit` was throttled: slow down.
    pub(crate) fn throttled(&self, op: Op, permit: Permit) {
        self.rate(op).throttled(permit);
    }

    /// An `op` request passed: climb back towards the cap.
    pub(crate) fn passed(&self, op: Op) {
        self.rate(op).passed();
    }
}

/// The SDK retry partition of the reads of one account in one region: KMS quotas are per account
/// and region, so the adaptive rate limiter (which slows down after throttling) is too.
///
/// Its retry quota (token bucket) charges nothing for throttling retries: throttling is absorbed
/// by the adaptive rate limiter and by [`super::call`]'s time budget, and a throttle storm must not
/// drain the quota that 5xx, timeouts and dropped connections are retried from. Custom partitions
/// are not shared by name, which is why each (account, region) keeps its own here.
fn read_partition(account: &str, region: &str) -> RetryPartition {
    RetryPartition::custom(format!("kms-rotation-read-{account}-{region}"))
        .token_bucket(TokenBucket::builder().throttling_retry_cost(0).build())
        .build()
}

/// The limiters of every (account, region) a source has read, shared by concurrent reads of the
/// same source so that two scans at once still stay under one quota.
#[derive(Debug)]
pub(crate) struct Limits {
    rates: RateLimits,
    regions: Mutex<HashMap<(String, String), Arc<RegionLimiter>>>,
}

impl Limits {
    pub(crate) fn new(rates: RateLimits) -> Self {
        Limits {
            rates,
            regions: Mutex::new(HashMap::new()),
        }
    }

    /// The limiter of `account` (an id, or a label when the account is not known yet) in `region`.
    pub(crate) fn region(&self, account: &str, region: &str) -> Arc<RegionLimiter> {
        // A poisoned lock only means another thread panicked while inserting: the map is intact.
        let mut regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        regions
            .entry((account.to_owned(), region.to_owned()))
            .or_insert_with(|| Arc::new(RegionLimiter::new(&self.rates, account, region)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rates_are_rejected_by_name() {
        let rates = RateLimits {
            list_key_rotations: 0,
            ..RateLimits::default()
        };
        let err = rates.validate().unwrap_err();
        assert_eq!(
            err.context().field.as_deref(),
            Some("rate_limits.list_key_rotations")
        );
        assert!(RateLimits::default().validate().is_ok());
    }

    #[test]
    fn each_operation_has_its_own_rate_starting_at_its_cap() {
        let caps = RateLimits {
            list_grants: 7,
            ..RateLimits::default()
        };
        let region = Limits::new(caps).region("111111111111", "eu-west-1");
        assert_eq!(region.rate(Op::ListGrants).rate(), 7.0);
        assert_eq!(region.rate(Op::GetKeyRotationStatus).rate(), 1000.0);
        for op in Op::ALL {
            let field = caps
                .fields()
                .into_iter()
                .find(|(name, _)| op.name() == pascal(name))
                .map(|(_, cap)| cap);
            assert_eq!(Some(region.rate(op).rate()), field.map(f64::from), "{op:?}");
        }
    }

    fn pascal(snake: &str) -> String {
        snake
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect()
    }

    #[test]
    fn one_limiter_per_account_and_region() {
        let limits = Limits::new(RateLimits::default());
        let a = limits.region("111111111111", "eu-west-1");
        let b = limits.region("111111111111", "eu-west-1");
        let c = limits.region("222222222222", "eu-west-1");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
