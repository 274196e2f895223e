//! Progress bars on stderr for scan, apply and rollback, with counts, time and ETA: drawn only
//! when stderr is a terminal (never in CI logs or a redirected stderr) and not with `--quiet`.
//! While a bar is drawn, log lines and messages go through [`suspend`], so that they print
//! above the bar instead of through it.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kms_rotation::remediate::{RemediationProgress, RemediationProgressFn};
use kms_rotation::source::{ProgressFn, ProgressUpdate};

/// The bar on screen, if any: [`suspend`] needs it from the log writer.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A bar for one operation; dropping it clears it from the screen.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A scan's bar: keys read out of keys listed so far (the total grows while listing).
    pub fn scan(quiet: bool) -> Progress {
        Progress::show(quiet, "scanning", "keys read")
    }

    /// An apply's or a rollback's bar: keys done out of keys to do.
    pub fn remediation(quiet: bool, verb: &'static str) -> Progress {
        Progress::show(quiet, verb, "keys")
    }

    fn show(quiet: bool, verb: &str, unit: &str) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let template = format!(
            "{{spinner}} {verb}: {{pos}}/{{len}} {unit} [{{bar:30.cyan/blue}}] {{elapsed}}, ETA {{eta}}"
        );
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar =
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style);
        // The spinner shows life while a long call (a throttled region, say) reports nothing.
        bar.enable_steady_tick(Duration::from_millis(120));
        *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        Progress { bar: Some(bar) }
    }

    /// The callback of `ops::scan` and `ops::plan`.
    pub fn scan_callback(&self) -> Option<ProgressFn> {
        let bar = self.bar.clone()?;
        Some(Arc::new(move |update: ProgressUpdate| {
            bar.set_length(update.keys_listed as u64);
            bar.set_position(update.keys_read as u64);
        }))
    }

    /// The callback of `ops::apply` and `ops::rollback`.
    pub fn remediation_callback(&self) -> Option<RemediationProgressFn> {
        let bar = self.bar.clone()?;
        Some(Arc::new(move |update: RemediationProgress| {
            bar.set_length(update.total as u64);
            bar.set_position(update.done as u64);
        }))
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }
}

/// Runs `write` with the bar (if one is shown) lifted off the screen, then redraws it.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    let shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match shown {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}
