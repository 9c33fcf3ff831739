//! Progress of long operations (root rotation, rewrap, backup, restore, migration): a bar with counts and rate
//! when standard error is a terminal, otherwise a log line every few seconds, and a last line either way.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often progress is logged when standard error is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Progress of one operation over `total` items (0 when unknown).
pub struct Progress {
    what: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    last_log: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts showing progress of `what` (e.g. "rewrapping project keys") over `total` items.
    pub fn start(what: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(what);
            bar
        });
        let now = Instant::now();
        Self {
            what,
            total,
            done: 0,
            started: now,
            last_log: now,
            bar,
        }
    }

    /// Counts `n` more items done.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if self.last_log.elapsed() >= LOG_EVERY {
            self.last_log = Instant::now();
            tracing::info!(
                what = self.what,
                done = self.done,
                total = self.total,
                per_second = self.rate(),
                "progress"
            );
        }
    }

    /// Items done so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    fn rate(&self) -> u64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            (self.done as f64 / secs) as u64
        } else {
            0
        }
    }

    /// Ends the display and logs the totals.
    pub fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        tracing::info!(
            what = self.what,
            done = self.done,
            seconds = self.started.elapsed().as_secs_f64(),
            per_second = self.rate(),
            "finished"
        );
    }
}
