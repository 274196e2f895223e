//! A remediation target in memory: keys with rotation states, every write recorded, faults
//! injected on request. For tests and for programs that simulate a run.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::policy::RotationPeriod;
use crate::remediate::{KeyMetadata, RemediationTarget, RotationState};
use crate::{Error, ErrorKind, Result};

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
    /// Every write changes the state, then fails with this code: a reply lost after the service
    /// acted (`TimeoutError`, `DispatchFailure`), which the caller cannot tell from a refusal.
    ApplyThenFail(String),
}

#[derive(Debug, Default)]
struct MemoryState {
    keys: BTreeMap<String, RotationState>,
    /// DescribeKey answers; keys not here are customer managed symmetric `Enabled` keys.
    metadata: BTreeMap<String, KeyMetadata>,
    writes: WriteMode,
    /// Per-key failures (any operation) with an AWS code.
    failing: BTreeMap<String, String>,
    /// Reads that still show the old state after a write, per key (eventual consistency).
    stale_reads: BTreeMap<String, (usize, RotationState)>,
    read_lag: usize,
    write_calls: Vec<WriteCall>,
    read_calls: usize,
    describe_calls: usize,
}

/// A write a [`MemoryTarget`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteCall {
    /// The key written to.
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
    /// A target holding `keys` (ARN and rotation state); writes apply until told otherwise.
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

    /// What DescribeKey answers for `arn` from now on (an asymmetric, imported, disabled or
    /// replica key, say). Without it a key is customer managed, `SYMMETRIC_DEFAULT`, `AWS_KMS`,
    /// `Enabled` and not a replica.
    pub fn set_metadata(&self, arn: &str, metadata: KeyMetadata) {
        self.lock().metadata.insert(arn.to_owned(), metadata);
    }

    /// How writes are answered from now on.
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

    /// GetKeyRotationStatus calls received.
    pub fn read_calls(&self) -> usize {
        self.lock().read_calls
    }

    /// DescribeKey calls received.
    pub fn describe_calls(&self) -> usize {
        self.lock().describe_calls
    }

    fn write(&self, arn: &str, new: RotationState, operation: &str) -> Result<()> {
        let mut s = self.lock();
        let enable = new.enabled.then_some(new.period_days.unwrap_or(365));
        let mode = match s.failing.get(arn) {
            Some(code) => WriteMode::Fail(code.clone()),
            None => s.writes.clone(),
        };
        let outcome = match mode {
            WriteMode::Fail(code) => Err(aws_error(&code, arn, operation)),
            _ if !s.keys.contains_key(arn) => Err(not_found(arn, operation)),
            WriteMode::Ignore => Ok(()),
            WriteMode::Apply => {
                s.store(arn, new);
                Ok(())
            }
            WriteMode::ApplyThenFail(code) => {
                s.store(arn, new);
                Err(aws_error(&code, arn, operation))
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

impl MemoryState {
    /// A write that lands; with a read lag, reads show the old state for a while.
    fn store(&mut self, arn: &str, new: RotationState) {
        let lag = self.read_lag;
        if let Some(old) = self.keys.insert(arn.to_owned(), new)
            && lag > 0
        {
            self.stale_reads.insert(arn.to_owned(), (lag, old));
        }
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
    async fn describe_key(&self, arn: &str) -> Result<KeyMetadata> {
        let operation = "DescribeKey";
        let mut s = self.lock();
        s.describe_calls += 1;
        if let Some(code) = s.failing.get(arn) {
            return Err(aws_error(code, arn, operation));
        }
        if !s.keys.contains_key(arn) {
            return Err(not_found(arn, operation));
        }
        Ok(s.metadata
            .get(arn)
            .cloned()
            .unwrap_or_else(KeyMetadata::customer_symmetric))
    }

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
