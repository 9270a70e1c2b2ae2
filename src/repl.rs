//! The interactive REPL (`jhctl repl`).

use std::path::Path;

/// Runs the REPL; returns the exit status.
pub fn run(_base: &Path) -> i32 {
    eprintln!("jhctl repl: not yet available in this version; use `jhctl eval` or `jhctl run`");
    2
}
