//! A progress bar on stderr for long batches, shown only when stderr is a
//! terminal (never in pipes, logs or tests).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Batches smaller than this finish before a bar would help.
const MIN_ITEMS: usize = 50;

/// A bar for a batch of `len` items, or `None` when none should show.
pub(crate) fn bar(enabled: bool, len: usize, label: &str) -> Option<ProgressBar> {
    if !enabled || len < MIN_ITEMS || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(label.to_string());
    Some(bar)
}

/// Advances `bar` by `n`, if there is one.
pub(crate) fn advance(bar: &Option<ProgressBar>, n: usize) {
    if let Some(bar) = bar {
        bar.inc(n as u64);
    }
}

/// Removes the bar from the terminal.
pub(crate) fn finish(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
