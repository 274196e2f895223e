//! `scan`: a Promise over the core's `KeySourceExt::scan`, with the source chosen by the options
//! (records in memory, an inventory file, or AWS).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use kms_rotation::aws::{AwsOptions, AwsSource, RateLimits};
use kms_rotation::source::ProgressUpdate;
use kms_rotation::{
    Error, InventorySource, KeyRecord, KeySource, KeySourceExt, MemorySource, ScanRequest, Scope,
};
use napi::bindgen_prelude::{Either, JsValue, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

use crate::{convert, error};

/// Progress of a scan (cumulative counts), passed to `onProgress`.
#[napi(object)]
#[derive(Debug, Clone, Copy)]
pub struct ScanProgress {
    /// Keys found by listing so far.
    pub keys_listed: u32,
    /// Keys whose facts have all been read so far.
    pub keys_read: u32,
}

/// Client-side request rates per account, region and operation (requests per second). Unset
/// fields keep the core's defaults (about 80% of the KMS quotas).
#[napi(object)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsRateLimits {
    pub describe_key: Option<u32>,
    pub get_key_rotation_status: Option<u32>,
    pub list_keys: Option<u32>,
    pub list_aliases: Option<u32>,
    pub list_resource_tags: Option<u32>,
    pub list_key_rotations: Option<u32>,
}

/// The progress callback: called with a `ScanProgress`, its return value ignored.
type ProgressCallback = ThreadsafeFunction<ScanProgress, (), ScanProgress, Status, false>;

/// Options of `scan`. The source is `records` when given, else `inventory`, else AWS.
#[napi(object, object_to_js = false)]
pub struct ScanOptions<'env> {
    /// Key records in memory (formats.md shape): the `memory` source.
    #[napi(ts_type = "KeyRecord[]")]
    pub records: Option<Unknown<'env>>,
    /// An inventory file (JSON, or YAML by extension): the `inventory` source.
    pub inventory: Option<String>,
    /// The policy document (snake_case, the file's shape); the default policy when absent.
    #[napi(ts_type = "PolicyDocument")]
    pub policy: Option<Unknown<'env>>,
    /// Only these regions. Names are checked against the known AWS regions first (a typo would
    /// scan nothing and pass) unless `allowUnknownRegion`.
    pub regions: Option<Vec<String>>,
    /// Only these accounts.
    pub accounts: Option<Vec<String>>,
    /// Accept region names this release does not know (new regions, emulators).
    pub allow_unknown_region: Option<bool>,
    /// The evaluation time (`Date` or RFC 3339 string); the clock when absent.
    pub now: Option<Either<DateTime<Utc>, String>>,
    /// Read tags for every key, not only where they can decide something.
    pub all_tags: Option<bool>,
    /// Read the last rotation of every key (ListKeyRotations; its quota is only 100/s).
    pub rotation_history: Option<bool>,
    /// Called as the scan progresses, from the event loop; keep it quick.
    #[napi(ts_type = "(progress: ScanProgress) => void")]
    pub on_progress: Option<ProgressCallback>,

    // The AWS source (used when neither `records` nor `inventory` is given).
    /// Read every region enabled for each account (needs `account:ListRegions`).
    pub all_regions: Option<bool>,
    /// A named profile from the shared config files instead of the default chain.
    pub profile: Option<String>,
    /// Roles to assume, one per account.
    pub role_arns: Option<Vec<String>>,
    /// The external id the roles require.
    pub external_id: Option<String>,
    /// The role session name (default `kms-rotation`).
    pub session_name: Option<String>,
    /// Send every AWS call here (emulators). `AWS_ENDPOINT_URL(_KMS)` is honoured when unset.
    pub endpoint_url: Option<String>,
    /// Attempts per call, retries included (default 5).
    pub max_attempts: Option<u32>,
    /// The first retry's backoff ceiling in milliseconds (SDK default 1000).
    pub initial_backoff_ms: Option<u32>,
    /// Keys read at once per account and region (default 64).
    pub concurrency_per_region: Option<u32>,
    /// Account-region pairs read at once (default 32).
    pub max_concurrent_regions: Option<u32>,
    /// Client-side request rates per account, region and operation.
    pub rate_limits: Option<AwsRateLimits>,
    /// Connection timeout in milliseconds (SDK default 3100).
    pub connect_timeout_ms: Option<u32>,
    /// Limit on one call including retries, in milliseconds (default 120000).
    pub operation_timeout_ms: Option<u32>,
    /// Limit on one attempt of a call, in milliseconds (default 20000).
    pub operation_attempt_timeout_ms: Option<u32>,
}

/// Scans keys and returns a Promise of the report (formats.md shape, the same JSON as the
/// CLI's `--format json`).
///
/// The source is `records` (memory) when given, else `inventory` (a file), else AWS (the default
/// credential chain, or `profile` / `roleArns`; `endpointUrl` for emulators). Everything is
/// validated before any call. Per-key failures are `error` findings and regions that could not
/// be listed are `scope_errors`: the Promise rejects only when the scan cannot run at all, with
/// an `Error` whose `code` is the error kind.
#[napi(catch_unwind, ts_return_type = "Promise<Report>")]
pub fn scan<'env>(
    env: &'env Env,
    options: Option<ScanOptions<'env>>,
) -> napi::Result<Unknown<'env>> {
    let prepared = match prepare(env, options.unwrap_or_else(empty))? {
        Ok(prepared) => prepared,
        // Bad options reject the Promise like any other failure: callers `await` one path.
        Err(e) => {
            return spawn(env, async move { Err::<(), _>(e) }, |env, ()| {
                env_undefined(env)
            });
        }
    };
    spawn(
        env,
        async move {
            let source: Box<dyn KeySource> = match prepared.source {
                Source::Records(records) => Box::new(MemorySource::new(records)),
                Source::Inventory(path) => Box::new(InventorySource::from_path(path)?),
                Source::Aws(options) => Box::new(AwsSource::new(*options).await?),
            };
            source.scan(&prepared.request).await
        },
        |env, report| convert::to_js(env, &report),
    )
}

impl std::fmt::Debug for ScanOptions<'_> {
    // The callback and the records say nothing useful in a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanOptions")
            .field("inventory", &self.inventory)
            .field("regions", &self.regions)
            .field("accounts", &self.accounts)
            .field("endpoint_url", &self.endpoint_url)
            .finish_non_exhaustive()
    }
}

fn env_undefined(env: &Env) -> napi::Result<Unknown<'_>> {
    napi::bindgen_prelude::ToNapiValue::into_unknown((), env)
}

fn empty<'env>() -> ScanOptions<'env> {
    ScanOptions {
        records: None,
        inventory: None,
        policy: None,
        regions: None,
        accounts: None,
        allow_unknown_region: None,
        now: None,
        all_tags: None,
        rotation_history: None,
        on_progress: None,
        all_regions: None,
        profile: None,
        role_arns: None,
        external_id: None,
        session_name: None,
        endpoint_url: None,
        max_attempts: None,
        initial_backoff_ms: None,
        concurrency_per_region: None,
        max_concurrent_regions: None,
        rate_limits: None,
        connect_timeout_ms: None,
        operation_timeout_ms: None,
        operation_attempt_timeout_ms: None,
    }
}

enum Source {
    Records(Vec<KeyRecord>),
    Inventory(String),
    Aws(Box<AwsOptions>),
}

struct Prepared {
    source: Source,
    request: ScanRequest,
}

/// Options to the core's types. Everything the caller gave is checked here or by the core
/// before any call.
fn prepare(env: &Env, o: ScanOptions) -> napi::Result<Result<Prepared, Error>> {
    // Records and the policy cross as JSON (see convert.rs), checked by the core's reader.
    let policy = match convert::policy(env, o.policy)? {
        Ok(policy) => policy,
        Err(e) => return Ok(Err(e)),
    };
    let records = match o.records.filter(|r| !convert::is_nullish(r)) {
        Some(records) => match convert::from_js::<Vec<KeyRecord>>(env, records, "records")? {
            Ok(records) => Some(records),
            Err(e) => return Ok(Err(e)),
        },
        None => None,
    };
    Ok(prepare_checked(o, policy, records))
}

fn prepare_checked(
    o: ScanOptions,
    policy: kms_rotation::Policy,
    records: Option<Vec<KeyRecord>>,
) -> Result<Prepared, Error> {
    let regions = o.regions.unwrap_or_default();
    if !o.allow_unknown_region.unwrap_or(false) {
        kms_rotation::regions::check_known(&regions).map_err(|e| error::under("regions", e))?;
    }
    let now = convert::now(o.now)?;
    let progress = o.on_progress.map(|callback| {
        let callback = Arc::new(callback);
        Arc::new(move |update: ProgressUpdate| {
            // NonBlocking: the source's tasks must never wait on the event loop.
            callback.call(
                ScanProgress {
                    keys_listed: saturate(update.keys_listed),
                    keys_read: saturate(update.keys_read),
                },
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }) as kms_rotation::source::ProgressFn
    });
    let source = if let Some(records) = records {
        Source::Records(records)
    } else if let Some(path) = o.inventory {
        Source::Inventory(path)
    } else {
        let defaults = AwsOptions::default();
        let limits = o.rate_limits.unwrap_or_default();
        let d = defaults.rate_limits;
        let ms = |v: Option<u32>| v.map(|ms| Duration::from_millis(ms.into()));
        Source::Aws(Box::new(AwsOptions {
            // The AWS source reads these regions; the scope below stays empty so the two agree.
            regions: regions.clone(),
            all_regions: o.all_regions.unwrap_or(defaults.all_regions),
            profile: o.profile,
            role_arns: o.role_arns.unwrap_or_default(),
            external_id: o.external_id.map(Into::into),
            external_id_file: None,
            session_name: o.session_name.unwrap_or(defaults.session_name),
            endpoint_url: o.endpoint_url,
            max_attempts: o.max_attempts.unwrap_or(defaults.max_attempts),
            initial_backoff: ms(o.initial_backoff_ms).or(defaults.initial_backoff),
            concurrency_per_region: o
                .concurrency_per_region
                .map_or(defaults.concurrency_per_region, |n| n as usize),
            max_concurrent_regions: o
                .max_concurrent_regions
                .map_or(defaults.max_concurrent_regions, |n| n as usize),
            rate_limits: RateLimits {
                describe_key: limits.describe_key.unwrap_or(d.describe_key),
                get_key_rotation_status: limits
                    .get_key_rotation_status
                    .unwrap_or(d.get_key_rotation_status),
                list_keys: limits.list_keys.unwrap_or(d.list_keys),
                list_aliases: limits.list_aliases.unwrap_or(d.list_aliases),
                list_resource_tags: limits.list_resource_tags.unwrap_or(d.list_resource_tags),
                list_key_rotations: limits.list_key_rotations.unwrap_or(d.list_key_rotations),
            },
            connect_timeout: ms(o.connect_timeout_ms).or(defaults.connect_timeout),
            operation_timeout: ms(o.operation_timeout_ms).or(defaults.operation_timeout),
            operation_attempt_timeout: ms(o.operation_attempt_timeout_ms)
                .or(defaults.operation_attempt_timeout),
            throttling_budget: defaults.throttling_budget,
        }))
    };
    let scope_regions = match source {
        Source::Aws(_) => Vec::new(),
        _ => regions,
    };
    Ok(Prepared {
        source,
        request: ScanRequest {
            scope: Scope {
                accounts: o.accounts.unwrap_or_default(),
                regions: scope_regions,
            },
            policy,
            now,
            all_tags: o.all_tags.unwrap_or(false),
            rotation_history: o.rotation_history.unwrap_or(false),
            progress,
        },
    })
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Runs `work` on napi's tokio runtime and returns its Promise. The Promise resolves with
/// `resolve`'s value, or rejects with the core error as a JS `Error` (see `error.rs`); a panic in
/// `work` rejects it with an `Unexpected` error.
pub(crate) fn spawn<'env, T, F, R>(
    env: &'env Env,
    work: F,
    resolve: R,
) -> napi::Result<Unknown<'env>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
    R: FnOnce(&'env Env, T) -> napi::Result<Unknown<'env>> + 'static,
{
    let work = std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .map(|outcome| Ok(outcome.unwrap_or_else(|p| Err(error::from_panic(p)))));
    let promise = env.spawn_future_with_callback(work, move |env, outcome| match outcome {
        Ok(value) => resolve(env, value),
        Err(e) => Err(error::to_js(env, &e)),
    })?;
    Ok(promise.to_unknown())
}
