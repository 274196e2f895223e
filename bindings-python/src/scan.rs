//! `scan` and `evaluate`, sync and async: argument conversion around the core's
//! `KeySourceExt::scan`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kms_rotation::source::{ProgressFn, ProgressUpdate};
use kms_rotation::{
    InventorySource, KeySource, KeySourceExt, MemorySource, Policy as CorePolicy, ScanRequest,
    Scope,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{from_py, from_py_at, now_arg};
use crate::errors;
use crate::runtime;
use crate::types::{KeyRecord, Policy, Progress, Report};

// -- evaluate ---------------------------------------------------------------------------------

/// The source `evaluate` reads: an inventory dict (`{"schema_version": 1, "keys": [...]}`) or an
/// iterable of dicts and `KeyRecord`s.
fn records_source(arg: &Bound<'_, PyAny>) -> kms_rotation::Result<Box<dyn KeySource>> {
    let py = arg.py();
    let is_inventory = arg
        .cast::<PyDict>()
        .is_ok_and(|d| d.contains(pyo3::intern!(py, "keys")).unwrap_or(false));
    if is_inventory {
        let inventory: kms_rotation::Inventory = from_py(arg, "inventory")?;
        return Ok(Box::new(InventorySource::from_inventory(inventory)?));
    }
    let invalid = |e: PyErr| {
        kms_rotation::Error::invalid_input(format!(
            "expected a list of key records (dicts or KeyRecord) or an inventory dict: {e}"
        ))
        .with_field("records")
    };
    let mut records = Vec::with_capacity(arg.len().unwrap_or(0));
    for (i, item) in arg.try_iter().map_err(invalid)?.enumerate() {
        let item = item.map_err(invalid)?;
        match item.cast::<KeyRecord>() {
            Ok(record) => records.push((*record.get().inner).clone()),
            Err(_) => records.push(from_py_at(&item, || format!("records[{i}]"))?),
        }
    }
    Ok(Box::new(MemorySource::new(records)))
}

struct Evaluation {
    source: Box<dyn KeySource>,
    request: ScanRequest,
}

impl Evaluation {
    fn new(
        records: &Bound<'_, PyAny>,
        policy: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = records.py();
        let policy = Policy::from_arg(policy)?;
        let now = now_arg(now).map_err(|e| errors::to_py(py, e))?;
        let source = records_source(records).map_err(|e| errors::to_py(py, e))?;
        Ok(Evaluation {
            source,
            request: ScanRequest {
                policy,
                now,
                ..ScanRequest::default()
            },
        })
    }

    async fn run(self) -> kms_rotation::Result<Report> {
        let report = self.source.scan(&self.request).await?;
        Ok(Report {
            inner: Arc::new(report),
        })
    }
}

/// Judges key records against a policy: no I/O. `records` is a list of dicts in the inventory
/// shape (or `KeyRecord`s), or a whole inventory dict.
#[pyfunction]
#[pyo3(signature = (records, policy = None, now = None))]
pub fn evaluate(
    py: Python<'_>,
    records: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<Report> {
    let evaluation = Evaluation::new(records, policy, now)?;
    runtime::block_on(py, evaluation.run())
}

/// `evaluate`, as an asyncio awaitable (the records are converted before it is returned).
#[pyfunction]
#[pyo3(signature = (records, policy = None, now = None))]
pub fn evaluate_async<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
    policy: Option<&Bound<'py, PyAny>>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let evaluation = Evaluation::new(records, policy, now)?;
    runtime::awaitable(py, evaluation.run())
}

// -- scan -------------------------------------------------------------------------------------

/// Where a scan reads keys from.
enum SourceSpec {
    Inventory(PathBuf),
    #[cfg(feature = "aws")]
    Aws(Box<kms_rotation::aws::AwsOptions>),
}

impl SourceSpec {
    async fn open(self) -> kms_rotation::Result<Box<dyn KeySource>> {
        match self {
            SourceSpec::Inventory(path) => Ok(Box::new(InventorySource::from_path(path)?)),
            #[cfg(feature = "aws")]
            SourceSpec::Aws(options) => {
                Ok(Box::new(kms_rotation::aws::AwsSource::new(*options).await?))
            }
        }
    }
}

/// The AWS options of `scan`, as given; checked by the core.
#[derive(Debug, Default)]
pub struct AwsArgs {
    pub all_regions: bool,
    pub profile: Option<String>,
    pub role_arns: Option<Vec<String>>,
    pub external_id: Option<String>,
    pub endpoint_url: Option<String>,
    pub max_attempts: Option<u32>,
    pub concurrency: Option<usize>,
    pub rate_limits: Option<Py<PyAny>>,
    pub connect_timeout: Option<f64>,
    pub operation_timeout: Option<f64>,
}

impl AwsArgs {
    fn given(&self) -> Option<&'static str> {
        [
            (self.all_regions, "all_regions"),
            (self.profile.is_some(), "profile"),
            (self.role_arns.is_some(), "role_arns"),
            (self.external_id.is_some(), "external_id"),
            (self.endpoint_url.is_some(), "endpoint_url"),
            (self.max_attempts.is_some(), "max_attempts"),
            (self.concurrency.is_some(), "concurrency"),
            (self.rate_limits.is_some(), "rate_limits"),
            (self.connect_timeout.is_some(), "connect_timeout"),
            (self.operation_timeout.is_some(), "operation_timeout"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }

    #[cfg(feature = "aws")]
    fn into_options(
        self,
        py: Python<'_>,
        regions: &[String],
    ) -> kms_rotation::Result<kms_rotation::aws::AwsOptions> {
        use kms_rotation::aws::{AwsOptions, RateLimits};
        let defaults = AwsOptions::default();
        let seconds = |value: Option<f64>, field: &str| {
            value
                .map(|s| {
                    std::time::Duration::try_from_secs_f64(s).map_err(|e| {
                        kms_rotation::Error::invalid_input(format!("{s} seconds: {e}"))
                            .with_field(field)
                    })
                })
                .transpose()
        };
        let rate_limits = match &self.rate_limits {
            None => RateLimits::default(),
            Some(rates) => rate_limits(rates.bind(py))?,
        };
        Ok(AwsOptions {
            regions: regions.to_vec(),
            all_regions: self.all_regions,
            profile: self.profile,
            role_arns: self.role_arns.unwrap_or_default(),
            external_id: self.external_id.map(Into::into),
            endpoint_url: self.endpoint_url,
            max_attempts: self.max_attempts.unwrap_or(defaults.max_attempts),
            concurrency_per_region: self.concurrency.unwrap_or(defaults.concurrency_per_region),
            rate_limits,
            connect_timeout: seconds(self.connect_timeout, "connect_timeout")?
                .or(defaults.connect_timeout),
            operation_timeout: seconds(self.operation_timeout, "operation_timeout")?
                .or(defaults.operation_timeout),
            ..defaults
        })
    }
}

/// `rate_limits={"describe_key": 100, ...}` (the CLI's `--rate`; kebab-case names accepted).
#[cfg(feature = "aws")]
fn rate_limits(rates: &Bound<'_, PyAny>) -> kms_rotation::Result<kms_rotation::aws::RateLimits> {
    let mut limits = kms_rotation::aws::RateLimits::default();
    let given: std::collections::BTreeMap<String, u32> = from_py(rates, "rate_limits")?;
    for (name, rate) in given {
        let slot = match name.replace('-', "_").as_str() {
            "describe_key" => &mut limits.describe_key,
            "get_key_rotation_status" => &mut limits.get_key_rotation_status,
            "list_keys" => &mut limits.list_keys,
            "list_aliases" => &mut limits.list_aliases,
            "list_resource_tags" => &mut limits.list_resource_tags,
            "list_key_rotations" => &mut limits.list_key_rotations,
            _ => {
                return Err(kms_rotation::Error::invalid_input(format!(
                    "unknown operation `{name}`; expected describe_key, get_key_rotation_status, \
                     list_keys, list_aliases, list_resource_tags or list_key_rotations"
                ))
                .with_field("rate_limits"));
            }
        };
        *slot = rate;
    }
    limits.validate()?;
    Ok(limits)
}

/// Calls the user's progress callback: directly (sync scans, from the runtime's threads, with
/// the GIL) or on the event loop's thread (async scans).
fn progress_fn(
    callback: Py<PyAny>,
    event_loop: Option<Py<PyAny>>,
    failure: Arc<Mutex<Option<PyErr>>>,
) -> ProgressFn {
    Arc::new(move |update: ProgressUpdate| {
        Python::attach(|py| {
            let progress = Progress {
                keys_listed: update.keys_listed,
                keys_read: update.keys_read,
            };
            let mut failed = failure.lock().unwrap_or_else(|e| e.into_inner());
            if failed.is_some() {
                return;
            }
            let called = match &event_loop {
                Some(event_loop) => event_loop
                    .call_method1(
                        py,
                        "call_soon_threadsafe",
                        (callback.clone_ref(py), progress),
                    )
                    .map(drop),
                None => callback.call1(py, (progress,)).map(drop),
            };
            if let Err(err) = called {
                *failed = Some(err);
            }
        });
    })
}

struct PreparedScan {
    spec: SourceSpec,
    request: ScanRequest,
    progress_failure: Arc<Mutex<Option<PyErr>>>,
}

impl PreparedScan {
    async fn run(self) -> kms_rotation::Result<Report> {
        let source = self.spec.open().await?;
        let report = source.scan(&self.request).await?;
        Ok(Report {
            inner: Arc::new(report),
        })
    }
}

/// `policy=` and `exceptions=` of `scan`, like the CLI's `--policy` and `--exceptions`.
fn scan_policy(
    py: Python<'_>,
    policy: Option<&Bound<'_, PyAny>>,
    exceptions: Option<&Bound<'_, PyAny>>,
) -> PyResult<CorePolicy> {
    let mut policy = Policy::from_arg(policy)?;
    let Some(exceptions) = exceptions.filter(|e| !e.is_none()) else {
        return Ok(policy);
    };
    let paths: Vec<PathBuf> = match exceptions.extract::<PathBuf>() {
        Ok(path) => vec![path],
        Err(_) => exceptions.extract()?,
    };
    runtime::detached(py, move || {
        for path in &paths {
            policy.add_exceptions_file(path)?;
        }
        Ok(policy)
    })
}

#[allow(clippy::too_many_arguments)]
fn prepare_scan(
    py: Python<'_>,
    inventory: Option<PathBuf>,
    policy: Option<&Bound<'_, PyAny>>,
    exceptions: Option<&Bound<'_, PyAny>>,
    regions: Option<Vec<String>>,
    accounts: Option<Vec<String>>,
    now: Option<&Bound<'_, PyAny>>,
    progress: Option<Py<PyAny>>,
    event_loop: Option<Py<PyAny>>,
    all_tags: bool,
    rotation_history: bool,
    allow_unknown_region: bool,
    aws: AwsArgs,
) -> PyResult<PreparedScan> {
    let core = |e| errors::to_py(py, e);
    // Every input is read and checked before the source is touched, as in the CLI.
    let policy = scan_policy(py, policy, exceptions)?;
    let regions = regions.unwrap_or_default();
    if !allow_unknown_region {
        kms_rotation::regions::check_known(&regions).map_err(core)?;
    }
    let now = now_arg(now).map_err(core)?;
    let spec = match inventory {
        Some(path) => {
            if let Some(option) = aws.given() {
                return Err(core(
                    kms_rotation::Error::invalid_input(
                        "AWS options do not apply to an inventory scan",
                    )
                    .with_field(option),
                ));
            }
            SourceSpec::Inventory(path)
        }
        #[cfg(feature = "aws")]
        None => SourceSpec::Aws(Box::new(aws.into_options(py, &regions).map_err(core)?)),
        #[cfg(not(feature = "aws"))]
        None => {
            drop(aws);
            return Err(core(kms_rotation::Error::new(
                kms_rotation::ErrorKind::Unsupported,
                "this build of kms_rotation has no AWS source: give inventory=PATH",
            )));
        }
    };
    let progress_failure = Arc::new(Mutex::new(None));
    let progress = progress
        .filter(|p| !p.is_none(py))
        .map(|callback| progress_fn(callback, event_loop, progress_failure.clone()));
    Ok(PreparedScan {
        spec,
        request: ScanRequest {
            scope: Scope {
                accounts: accounts.unwrap_or_default(),
                regions,
            },
            policy,
            now,
            all_tags,
            rotation_history,
            progress,
        },
        progress_failure,
    })
}

/// Lists keys (from AWS, or from an inventory file with `inventory=`), evaluates each against
/// the policy and returns the report. Waits without holding the GIL.
#[pyfunction]
#[pyo3(signature = (
    *,
    inventory = None,
    policy = None,
    exceptions = None,
    regions = None,
    accounts = None,
    now = None,
    progress = None,
    all_tags = false,
    rotation_history = false,
    allow_unknown_region = false,
    all_regions = false,
    profile = None,
    role_arns = None,
    external_id = None,
    endpoint_url = None,
    max_attempts = None,
    concurrency = None,
    rate_limits = None,
    connect_timeout = None,
    operation_timeout = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn scan(
    py: Python<'_>,
    inventory: Option<PathBuf>,
    policy: Option<&Bound<'_, PyAny>>,
    exceptions: Option<&Bound<'_, PyAny>>,
    regions: Option<Vec<String>>,
    accounts: Option<Vec<String>>,
    now: Option<&Bound<'_, PyAny>>,
    progress: Option<Py<PyAny>>,
    all_tags: bool,
    rotation_history: bool,
    allow_unknown_region: bool,
    all_regions: bool,
    profile: Option<String>,
    role_arns: Option<Vec<String>>,
    external_id: Option<String>,
    endpoint_url: Option<String>,
    max_attempts: Option<u32>,
    concurrency: Option<usize>,
    rate_limits: Option<Py<PyAny>>,
    connect_timeout: Option<f64>,
    operation_timeout: Option<f64>,
) -> PyResult<Report> {
    let aws = AwsArgs {
        all_regions,
        profile,
        role_arns,
        external_id,
        endpoint_url,
        max_attempts,
        concurrency,
        rate_limits,
        connect_timeout,
        operation_timeout,
    };
    let prepared = prepare_scan(
        py,
        inventory,
        policy,
        exceptions,
        regions,
        accounts,
        now,
        progress,
        None,
        all_tags,
        rotation_history,
        allow_unknown_region,
        aws,
    )?;
    let failure = prepared.progress_failure.clone();
    let report = runtime::block_on(py, prepared.run())?;
    // A callback that raised: its exception, not a report the caller did not watch complete.
    match failure.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(err) => Err(err),
        None => Ok(report),
    }
}

/// `scan`, as an asyncio awaitable. The progress callback runs on the event loop's thread.
#[pyfunction]
#[pyo3(signature = (
    *,
    inventory = None,
    policy = None,
    exceptions = None,
    regions = None,
    accounts = None,
    now = None,
    progress = None,
    all_tags = false,
    rotation_history = false,
    allow_unknown_region = false,
    all_regions = false,
    profile = None,
    role_arns = None,
    external_id = None,
    endpoint_url = None,
    max_attempts = None,
    concurrency = None,
    rate_limits = None,
    connect_timeout = None,
    operation_timeout = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn scan_async<'py>(
    py: Python<'py>,
    inventory: Option<PathBuf>,
    policy: Option<&Bound<'py, PyAny>>,
    exceptions: Option<&Bound<'py, PyAny>>,
    regions: Option<Vec<String>>,
    accounts: Option<Vec<String>>,
    now: Option<&Bound<'py, PyAny>>,
    progress: Option<Py<PyAny>>,
    all_tags: bool,
    rotation_history: bool,
    allow_unknown_region: bool,
    all_regions: bool,
    profile: Option<String>,
    role_arns: Option<Vec<String>>,
    external_id: Option<String>,
    endpoint_url: Option<String>,
    max_attempts: Option<u32>,
    concurrency: Option<usize>,
    rate_limits: Option<Py<PyAny>>,
    connect_timeout: Option<f64>,
    operation_timeout: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let event_loop = pyo3_async_runtimes::get_running_loop(py)?.unbind();
    let aws = AwsArgs {
        all_regions,
        profile,
        role_arns,
        external_id,
        endpoint_url,
        max_attempts,
        concurrency,
        rate_limits,
        connect_timeout,
        operation_timeout,
    };
    let prepared = prepare_scan(
        py,
        inventory,
        policy,
        exceptions,
        regions,
        accounts,
        now,
        progress,
        Some(event_loop),
        all_tags,
        rotation_history,
        allow_unknown_region,
        aws,
    )?;
    runtime::awaitable(py, prepared.run())
}
