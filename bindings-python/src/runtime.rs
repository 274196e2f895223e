//! The one tokio runtime the binding owns, and the two ways Python waits on it.
//!
//! Security scanners run under `multiprocessing`, which forks. A forked child has the parent's
//! memory but none of its threads, so a runtime created before the fork would hang on its first
//! task. The runtime is therefore keyed by process id: a child builds its own on first use and
//! leaks the parent's (dropping it would wait for worker threads that do not exist).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Mutex;

use futures::FutureExt;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use tokio::runtime::Handle;

use crate::errors;

struct Owned {
    pid: u32,
    runtime: tokio::runtime::Runtime,
}

static RUNTIME: Mutex<Option<Owned>> = Mutex::new(None);

/// A handle on the runtime of this process, built on first use (and again in a forked child).
/// Only the slot owns the runtime: a handle dropped on a runtime thread cannot drop it there.
pub fn get() -> PyResult<Handle> {
    let pid = std::process::id();
    // A poisoned lock only means a panic elsewhere while it was held; the slot is still valid.
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(owned) = slot.as_ref()
        && owned.pid == pid
    {
        return Ok(owned.runtime.handle().clone());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kms-rotation")
        .build()
        .map_err(|e| errors::unexpected(format!("cannot start the async runtime: {e}")))?;
    let handle = runtime.handle().clone();
    if let Some(stale) = slot.replace(Owned { pid, runtime }) {
        // The parent's runtime: its threads are not in this process.
        std::mem::forget(stale);
    }
    Ok(handle)
}

/// Stops the runtime of this process, waiting (without the GIL) up to `timeout` for its tasks
/// to finish. Registered with `atexit`: a runtime thread still handing a result to Python while
/// the interpreter finalizes would abort the process.
pub fn shutdown(py: Python<'_>, timeout: std::time::Duration) {
    let owned = RUNTIME.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(owned) = owned else { return };
    if owned.pid != std::process::id() {
        std::mem::forget(owned);
        return;
    }
    py.detach(|| owned.runtime.shutdown_timeout(timeout));
}

/// Runs `fut` to completion on the owned runtime without holding the GIL. A core error becomes
/// its exception class; a panic becomes `UnexpectedError`.
pub fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = kms_rotation::Result<T>> + Send,
    T: Send,
{
    let runtime = get()?;
    let outcome =
        py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(fut))));
    errors::settle(py, outcome)
}

/// Runs CPU-bound `f` without holding the GIL, with the same error mapping as [`block_on`].
pub fn detached<F, T>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> kms_rotation::Result<T> + Send,
    T: Send,
{
    let outcome = py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(f)));
    errors::settle(py, outcome)
}

/// An asyncio awaitable for `fut`, run on the owned runtime, with the same error mapping as
/// [`block_on`].
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = kms_rotation::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    // Fail here, in the caller's frame, if the runtime cannot start.
    get()?;
    let guarded = async move {
        let outcome = AssertUnwindSafe(fut).catch_unwind().await;
        Python::attach(|py| errors::settle(py, outcome))
    };
    pyo3_async_runtimes::generic::future_into_py::<OwnedRuntime, _, T>(py, guarded)
}

tokio::task_local! {
    static TASK_LOCALS: TaskLocals;
}

/// pyo3-async-runtimes' view of the owned runtime. Its own tokio runtime is a process-wide
/// `OnceLock` that cannot be replaced after a fork, so the binding supplies this one instead.
#[derive(Debug)]
struct OwnedRuntime;

impl GenericRuntime for OwnedRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match get() {
            Ok(runtime) => runtime.spawn(fut),
            // `awaitable` has already built the runtime for this process; a failure here can
            // only be a second failure to start threads, which the caller sees as a panic.
            Err(_) => tokio::task::spawn(fut),
        }
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        match get() {
            Ok(runtime) => runtime.spawn_blocking(f),
            Err(_) => tokio::task::spawn_blocking(f),
        }
    }
}

impl ContextExt for OwnedRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(TASK_LOCALS.scope(locals, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(|locals| locals.clone()).ok()
    }
}
