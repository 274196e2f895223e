//! A loopback AWS KMS server for tests and benchmarks: the awsJson1_1 protocol, AWS's behaviour
//! per key state and type (`kms-api.md`), seeded from key records, with a call log and fault
//! injection (latency, quotas, throttle storms, 5xx, held replies, malformed and truncated bodies,
//! connection resets, a server that stops answering, paging faults, failing regions and writes).
//!
//! ```no_run
//! use kms_test_server::{Faults, KmsTestServer};
//! # async fn demo(records: Vec<kms_rotation::KeyRecord>) -> std::io::Result<()> {
//! let server = KmsTestServer::start(records, Faults::default().with_aws_quotas()).await?;
//! // Point an SDK client at it: `.endpoint_url(server.endpoint_url())`, dummy credentials.
//! let url = server.endpoint_url();
//! # let _ = url;
//! assert!(server.write_calls().is_empty());
//! server.shutdown().await
//! # }
//! ```

mod calls;
mod conn;
mod faults;
mod ops;
mod state;
mod sts;
mod wire;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kms_rotation::{InventorySource, KeyRecord};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use calls::Call;
pub use faults::{
    Faults, Injected, ListKeysFailure, PagingFault, PagingFaultKind, Selection, Writes,
};
pub use state::RotationState;

use conn::{Cut, CuttableListener};
use faults::FaultState;
use ops::{Ctx, Store};
use wire::{Input, KmsError};

/// A running server. Stops when dropped or on [`KmsTestServer::shutdown`].
pub struct KmsTestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<io::Result<()>>>,
}

/// What every request handler sees.
#[derive(Debug)]
struct Shared {
    store: Store,
    faults: Mutex<FaultState>,
    calls: Mutex<Vec<Call>>,
    request_ids: AtomicU64,
    stop: watch::Receiver<bool>,
}

impl KmsTestServer {
    /// Starts a server on 127.0.0.1 with a random port, seeded with `records`.
    pub async fn start(records: Vec<KeyRecord>, faults: Faults) -> io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), records, faults).await
    }

    /// Starts a server on `addr`. Fails on duplicate key ARNs or aliases, or a bad ARN.
    pub async fn start_on(
        addr: SocketAddr,
        records: Vec<KeyRecord>,
        faults: Faults,
    ) -> io::Result<Self> {
        let (catalog, rotations) = state::Catalog::build(records, Utc::now())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            store: Store {
                catalog,
                rotations: Mutex::new(rotations),
            },
            faults: Mutex::new(FaultState::new(faults)),
            calls: Mutex::new(Vec::new()),
            request_ids: AtomicU64::new(0),
            stop: stopped.clone(),
        });
        let listener = CuttableListener(tokio::net::TcpListener::bind(addr).await?);
        let addr = listener.0.local_addr()?;
        let app = Router::new()
            .fallback(handle)
            .with_state(shared.clone())
            .into_make_service_with_connect_info::<Cut>();
        let mut until_stopped = stopped;
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            // An error means the sender is gone, which also means stop.
            let _ = until_stopped.wait_for(|stop| *stop).await;
        });
        let task = tokio::spawn(serve.into_future());
        Ok(KmsTestServer {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, for an SDK's `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the faults from the next call on. The random sequence restarts from the new
    /// seed and quota buckets start full.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = FaultState::new(faults);
    }

    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).faults().clone()
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.shared.calls).clone()
    }

    /// The calls of one operation, e.g. `"DescribeKey"`.
    pub fn calls_for(&self, operation: &str) -> Vec<Call> {
        self.filter_calls(|c| c.operation == operation)
    }

    /// EnableKeyRotation and DisableKeyRotation calls, whatever their outcome.
    pub fn write_calls(&self) -> Vec<Call> {
        self.filter_calls(Call::is_write)
    }

    pub fn clear_calls(&self) {
        lock(&self.shared.calls).clear();
    }

    /// The current rotation setting of key `arn` (a replica's is its primary's), as stored:
    /// independent of key state, so a test can see that a write did or did not land.
    pub fn rotation_of(&self, arn: &str) -> Option<RotationState> {
        self.shared.store.rotation_of(arn)
    }

    /// Stops accepting, cuts held replies short, and waits for open requests to finish.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.stop.send_replace(true);
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }

    fn filter_calls(&self, keep: impl Fn(&Call) -> bool) -> Vec<Call> {
        lock(&self.shared.calls)
            .iter()
            .filter(|c| keep(c))
            .cloned()
            .collect()
    }
}

impl Drop for KmsTestServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

impl fmt::Debug for KmsTestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsTestServer")
            .field("endpoint_url", &self.endpoint_url())
            .finish_non_exhaustive()
    }
}

/// Reads and validates an inventory file (`formats.md`) into seed records.
pub fn load_inventory(path: impl AsRef<Path>) -> io::Result<Vec<KeyRecord>> {
    let source = InventorySource::from_path(path)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    Ok(source.records().to_vec())
}

/// Every request: faults first, then the operation, then the log, then the (delayed) reply.
async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(cut): ConnectInfo<Cut>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = format!(
        "00000000-0000-4000-8000-{:012x}",
        shared.request_ids.fetch_add(1, Ordering::Relaxed)
    );
    if method == Method::GET && uri.path() == CALL_LOG_PATH {
        return call_log(&shared);
    }
    if method != Method::POST || uri.path() != "/" {
        let err = KmsError::new("UnknownOperationException", "KMS serves POST / only");
        return reply(StatusCode::NOT_FOUND.as_u16(), &request_id, err.body());
    }
    let at = Utc::now();
    if wire::operation(&headers).is_none() && sts::is_sts(&body) {
        // Assumed roles for multi-account callers; no faults, no latency, not logged.
        let (status, content_type, body) = sts::answer(&body, at);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, [("content-type", content_type)], body).into_response();
    }
    let operation = wire::operation(&headers).unwrap_or_default();
    let (access_key, region) = wire::credential(&headers);
    let store = &shared.store;
    let account = store.catalog.account_for(access_key.as_deref());
    let decision = lock(&shared.faults).decide(&operation, &account, &region, Instant::now());
    let ctx = Ctx {
        op: &operation,
        account: &account,
        region: &region,
        now: at,
        apply_writes: decision.apply_writes,
        page_cap: decision.page_cap,
    };
    let input = Input::parse(&body);
    let key_id = input
        .as_ref()
        .ok()
        .and_then(|i| i.str("KeyId").ok().flatten())
        .map(str::to_owned);

    let (mut result, mut injected) = match decision.error {
        Some((err, injected)) => (Err(err), Some(injected)),
        None => (input.and_then(|i| store.dispatch(&ctx, &i)), None),
    };
    if let Ok(page) = &mut result {
        injected = lock(&shared.faults).page_served(&operation, &account, &region, page);
    }
    let (status, mut body) = match &result {
        Ok(value) if value.is_null() => (200, String::new()),
        Ok(value) => (200, value.to_string()),
        Err(err) => (err.status, err.body()),
    };
    let mut truncate = false;
    if status == 200 {
        if decision.malformed {
            // Cut the reply mid-document: what a proxy that drops the connection leaves behind.
            body = r#"{"KeyMetadata": {"KeyId": "#.to_owned();
            injected = Some(Injected::Malformed);
        } else if decision.truncated {
            truncate = true;
            injected = Some(Injected::Truncated);
        } else if !decision.apply_writes {
            injected = Some(Injected::WriteIgnored);
        }
    }
    if decision.reset {
        injected = Some(Injected::Reset);
    }
    if decision.held && injected.is_none() {
        injected = Some(Injected::Held);
    }
    if decision.stopped {
        injected = Some(Injected::Stopped);
    }
    lock(&shared.calls).push(Call {
        key_arn: key_id
            .as_deref()
            .and_then(|id| store.key_for_log(&ctx, id))
            .map(|k| k.arn().to_owned()),
        operation,
        account_id: account,
        region,
        key_id,
        status,
        error_code: result.err().map(|e| e.code),
        injected,
        at,
    });
    pause(&shared, decision.delay).await;
    if decision.reset {
        cut.reset();
    }
    if truncate {
        return truncated_reply(status, &request_id, body);
    }
    reply(status, &request_id, body)
}

/// A reply that announces its whole body but sends only the first half: the server then closes
/// the connection (hyper refuses a body shorter than its Content-Length), as when a connection
/// drops mid-reply.
fn truncated_reply(status: u16, request_id: &str, body: String) -> Response {
    let full = body.len();
    let half = Bytes::from(body).slice(..full / 2);
    let stream = futures::stream::iter([Ok::<_, io::Error>(half)]);
    let mut response = reply(status, request_id, String::new());
    *response.body_mut() = Body::from_stream(stream);
    response.headers_mut().insert(
        axum::http::header::CONTENT_LENGTH,
        axum::http::HeaderValue::from(full),
    );
    response
}

/// Sleeps (without holding a thread, so thousands of calls can wait at once), cut short by
/// shutdown so held replies do not keep a stopped server alive.
async fn pause(shared: &Shared, delay: Duration) {
    if delay.is_zero() {
        return;
    }
    let mut stop = shared.stop.clone();
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        _ = stop.wait_for(|stop| *stop) => {}
    }
}

fn reply(status: u16, request_id: &str, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = [
        ("content-type", wire::CONTENT_TYPE),
        ("x-amzn-requestid", request_id),
    ];
    (status, headers, body).into_response()
}

/// Where `GET` answers the call log as JSON, for tests in other languages than Rust. Not a KMS
/// operation, and not logged itself.
pub const CALL_LOG_PATH: &str = "/_calls";

/// The call log as a JSON array: `{operation, account_id, region, key_id, key_arn, status,
/// error_code, write}` per call, in arrival order.
fn call_log(shared: &Shared) -> Response {
    let calls: Vec<serde_json::Value> = lock(&shared.calls)
        .iter()
        .map(|c| {
            serde_json::json!({
                "operation": c.operation,
                "account_id": c.account_id,
                "region": c.region,
                "key_id": c.key_id,
                "key_arn": c.key_arn,
                "status": c.status,
                "error_code": c.error_code,
                "write": c.is_write(),
            })
        })
        .collect();
    let headers = [("content-type", "application/json")];
    (
        StatusCode::OK,
        headers,
        serde_json::Value::Array(calls).to_string(),
    )
        .into_response()
}

/// A poisoned lock only means another request panicked; the data is still consistent enough
/// for a test server, and failing every later request would hide the first error.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
