//! Cumulative progress across every account and region of one read, reported a few times a
//! second at most: a callback per key would cost more than the key at 2,000 keys a second.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::source::{ProgressFn, ProgressUpdate};

const INTERVAL: Duration = Duration::from_millis(200);

pub(crate) struct Progress {
    callback: Option<ProgressFn>,
    listed: AtomicUsize,
    read: AtomicUsize,
    last_report: Mutex<Option<Instant>>,
}

impl Progress {
    pub(crate) fn new(callback: Option<ProgressFn>) -> Self {
        Progress {
            callback,
            listed: AtomicUsize::new(0),
            read: AtomicUsize::new(0),
            last_report: Mutex::new(None),
        }
    }

    pub(crate) fn listed(&self, keys: usize) {
        self.listed.fetch_add(keys, Ordering::Relaxed);
        self.report(false);
    }

    pub(crate) fn read_one(&self) {
        self.read.fetch_add(1, Ordering::Relaxed);
        self.report(false);
    }

    /// The last report: the final counts, whatever the interval.
    pub(crate) fn finish(&self) {
        self.report(true);
    }

    fn report(&self, force: bool) {
        let Some(callback) = &self.callback else {
            return;
        };
        // The counts are loaded and reported under the lock, so reports never go backwards.
        let mut last = self.last_report.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if !force && last.is_some_and(|at| now.duration_since(at) < INTERVAL) {
            return;
        }
        *last = Some(now);
        callback(ProgressUpdate {
            keys_listed: self.listed.load(Ordering::Relaxed),
            keys_read: self.read.load(Ordering::Relaxed),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn reports_are_throttled_but_the_last_one_is_complete() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let progress = Progress::new(Some(Arc::new(move |u: ProgressUpdate| {
            sink.lock().unwrap().push(u)
        })));
        progress.listed(3);
        for _ in 0..3 {
            progress.read_one();
        }
        progress.finish();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(
            seen.last(),
            Some(&ProgressUpdate {
                keys_listed: 3,
                keys_read: 3
            })
        );
    }
}
