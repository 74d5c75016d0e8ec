//! The progress of a retention run on a terminal: one bar per table, drawn
//! on stderr (stdout holds only the result) and only when stderr is a
//! terminal, so that logs and pipes get no control characters.

use std::io::{self, IsTerminal};
use std::time::Duration;

use awesome_audit_log::retention::PruneProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How the bar looks once the rows are counted.
const COUNTED: &str = "{prefix} [{bar:30}] {pos}/{len} rows, {msg} ({elapsed})";
/// How it looks when they are not.
const UNCOUNTED: &str = "{prefix} {spinner} {pos} rows, {msg} ({elapsed})";

/// The bar of one table's run.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
    /// The rows counted before the run, if they were.
    known: Option<u64>,
}

impl Progress {
    /// A bar for `table`, hidden unless stderr is a terminal; `known`, the
    /// rows counted before the run, if they were.
    pub(crate) fn new(table: &str, known: Option<u64>) -> Self {
        let target = if io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target)
            .with_style(style(UNCOUNTED))
            .with_prefix(table.to_owned())
            .with_message("counting");
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar, known }
    }

    /// Shows where the run is.
    pub(crate) fn update(&self, progress: &PruneProgress) {
        self.show(progress.batches, progress.deleted, progress.total);
    }

    fn show(&self, batches: u64, deleted: u64, total: Option<u64>) {
        if let Some(total) = total.or(self.known) {
            // Rows logged during the run may add to the count.
            let length = total.max(deleted);
            if self.bar.length() != Some(length) {
                self.bar.set_style(style(COUNTED));
                self.bar.set_length(length);
            }
        }
        self.bar.set_position(deleted);
        self.bar.set_message(format!("{batches} batches"));
    }

    /// Takes the bar away: the result line says what was done.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants, checked by the test below.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_are_valid() {
        for template in [COUNTED, UNCOUNTED] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn the_bar_follows_the_run() {
        let progress = Progress {
            bar: ProgressBar::hidden(),
            known: None,
        };
        progress.show(0, 0, None);
        assert_eq!(progress.bar.length(), None);
        progress.show(0, 0, Some(25));
        assert_eq!(progress.bar.length(), Some(25));
        progress.show(2, 20, Some(25));
        assert_eq!(progress.bar.position(), 20);
        assert_eq!(progress.bar.message(), "2 batches");
        progress.show(3, 30, Some(25));
        assert_eq!(progress.bar.length(), Some(30));
    }

    #[test]
    fn rows_counted_before_the_run_give_the_bar_its_length() {
        let progress = Progress {
            bar: ProgressBar::hidden(),
            known: Some(40),
        };
        progress.show(1, 10, None);
        assert_eq!(progress.bar.length(), Some(40));
        assert_eq!(progress.bar.position(), 10);
    }
}
