//! Where remediation writes: a small trait (read, enable, disable) with an in-memory
//! implementation for tests and embedding. The AWS implementation is in `aws.rs`.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::policy::RotationPeriod;
use crate::{Error, ErrorKind, Result};

/// A key's automatic rotation setting, as GetKeyRotationStatus shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationState {
    pub enabled: bool,
    /// Absent when rotation is off (AWS sends no period then) or the service does not report it.
    #[serde(default)]
    pub period_days: Option<u32>,
}

impl RotationState {
    pub const DISABLED: RotationState = RotationState {
        enabled: false,
        period_days: None,
    };

    pub fn enabled(period: RotationPeriod) -> Self {
        RotationState {
            enabled: true,
            period_days: Some(period.days()),
        }
    }

    /// The period in force: an unreported period is AWS's default, 365 days (as in `rule.md`).
    pub fn effective_period(&self) -> Option<u32> {
        self.enabled.then(|| {
            self.period_days
                .unwrap_or(RotationPeriod::AWS_DEFAULT.days())
        })
    }

    /// Whether `self` shows what `wanted` describes. A disabled key's period does not matter.
    pub fn shows(&self, wanted: &RotationState) -> bool {
        self.enabled == wanted.enabled && self.effective_period() == wanted.effective_period()
    }
}

/// What remediation needs from a KMS: read a key's rotation, turn it on with a period, turn it
/// off (rollback). Errors carry the AWS code in `Error::context().code`.
#[async_trait]
pub trait RemediationTarget: Send + Sync + Debug {
    /// GetKeyRotationStatus.
    async fn read_rotation(&self, arn: &str) -> Result<RotationState>;
    /// EnableKeyRotation with `RotationPeriodInDays`.
    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()>;
    /// DisableKeyRotation.
    async fn disable_rotation(&self, arn: &str) -> Result<()>;
}

#[async_trait]
impl<T: RemediationTarget + ?Sized> RemediationTarget for Arc<T> {
    async fn read_rotation(&self, arn: &str) -> Result<RotationState> {
        (**self).read_rotation(arn).await
    }
    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()> {
        (**self).enable_rotation(arn, period).await
    }
    async fn disable_rotation(&self, arn: &str) -> Result<()> {
        (**self).disable_rotation(arn).await
    }
}

#[async_trait]
impl<T: RemediationTarget + ?Sized> RemediationTarget for Box<T> {
    async fn read_rotation(&self, arn: &str) -> Result<RotationState> {
        (**self).read_rotation(arn).await
    }
    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()> {
        (**self).enable_rotation(arn, period).await
    }
    async fn disable_rotation(&self, arn: &str) -> Result<()> {
        (**self).disable_rotation(arn).await
    }
}

/// How a [`MemoryTarget`] answers writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Writes change the state.
    #[default]
    Apply,
    /// Writes succeed but change nothing: a fix that does not stick.
    Ignore,
    /// Every write fails with this AWS code.
    Fail(String),
}

#[derive(Debug, Default)]
struct MemoryState {
    keys: BTreeMap<String, RotationState>,
    writes: WriteMode,
    /// Per-key failures (any operation) with an AWS code.
    failing: BTreeMap<String, String>,
    /// Reads that still show the old state after a write, per key (eventual consistency).
    stale_reads: BTreeMap<String, (usize, RotationState)>,
    read_lag: usize,
    write_calls: Vec<WriteCall>,
    read_calls: usize,
}

/// A write a [`MemoryTarget`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteCall {
    pub arn: String,
    /// `Some(period)` for EnableKeyRotation, `None` for DisableKeyRotation.
    pub enable: Option<u32>,
    /// Whether it succeeded.
    pub ok: bool,
}

/// Rotation settings held in memory, with knobs for failures: for tests and for programs that
/// simulate a change before making it.
#[derive(Debug, Default)]
pub struct MemoryTarget {
    state: Mutex<MemoryState>,
}

impl MemoryTarget {
    pub fn new(keys: impl IntoIterator<Item = (String, RotationState)>) -> Self {
        MemoryTarget {
            state: Mutex::new(MemoryState {
                keys: keys.into_iter().collect(),
                ..MemoryState::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        // A panic while holding the lock leaves plain data behind: still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored state of `arn` (what a read shows once writes have settled).
    pub fn state(&self, arn: &str) -> Option<RotationState> {
        self.lock().keys.get(arn).copied()
    }

    /// Sets a key's state directly, as someone else (the console, another tool) would.
    pub fn set_state(&self, arn: &str, state: RotationState) {
        let mut s = self.lock();
        s.stale_reads.remove(arn);
        s.keys.insert(arn.to_owned(), state);
    }

    pub fn set_write_mode(&self, mode: WriteMode) {
        self.lock().writes = mode;
    }

    /// Every call on `arn` fails with `code` (e.g. `AccessDeniedException`).
    pub fn fail_key(&self, arn: &str, code: &str) {
        self.lock().failing.insert(arn.to_owned(), code.to_owned());
    }

    /// After a write, the next `reads` reads of that key still show the old state.
    pub fn set_read_lag(&self, reads: usize) {
        self.lock().read_lag = reads;
    }

    /// Every write received, in order.
    pub fn write_calls(&self) -> Vec<WriteCall> {
        self.lock().write_calls.clone()
    }

    pub fn read_calls(&self) -> usize {
        self.lock().read_calls
    }

    fn write(&self, arn: &str, new: RotationState, operation: &str) -> Result<()> {
        let mut s = self.lock();
        let enable = new.enabled.then_some(new.period_days.unwrap_or(365));
        let outcome = match (s.failing.get(arn), &s.writes) {
            (Some(code), _) | (None, WriteMode::Fail(code)) => Err(aws_error(code, arn, operation)),
            _ if !s.keys.contains_key(arn) => Err(not_found(arn, operation)),
            (None, WriteMode::Ignore) => Ok(()),
            (None, WriteMode::Apply) => {
                let lag = s.read_lag;
                if let Some(old) = s.keys.insert(arn.to_owned(), new)
                    && lag > 0
                {
                    s.stale_reads.insert(arn.to_owned(), (lag, old));
                }
                Ok(())
            }
        };
        s.write_calls.push(WriteCall {
            arn: arn.to_owned(),
            enable,
            ok: outcome.is_ok(),
        });
        outcome
    }
}

fn aws_error(code: &str, arn: &str, operation: &str) -> Error {
    let kind = ErrorKind::from_aws_code(code);
    Error::new(kind, format!("{code} (injected by MemoryTarget)"))
        .with_code(code)
        .with_key_arn(arn)
        .with_operation(operation)
}

fn not_found(arn: &str, operation: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("Key '{arn}' does not exist"))
        .with_code("NotFoundException")
        .with_key_arn(arn)
        .with_operation(operation)
}

#[async_trait]
impl RemediationTarget for MemoryTarget {
    async fn read_rotation(&self, arn: &str) -> Result<RotationState> {
        let operation = "GetKeyRotationStatus";
        let mut s = self.lock();
        s.read_calls += 1;
        if let Some(code) = s.failing.get(arn) {
            return Err(aws_error(code, arn, operation));
        }
        if let Some((left, old)) = s.stale_reads.get_mut(arn) {
            let old = *old;
            *left -= 1;
            if *left == 0 {
                s.stale_reads.remove(arn);
            }
            return Ok(old);
        }
        s.keys
            .get(arn)
            .copied()
            .ok_or_else(|| not_found(arn, operation))
    }

    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()> {
        self.write(arn, RotationState::enabled(period), "EnableKeyRotation")
    }

    async fn disable_rotation(&self, arn: &str) -> Result<()> {
        // AWS keeps no period while rotation is off.
        self.write(arn, RotationState::DISABLED, "DisableKeyRotation")
    }
}
