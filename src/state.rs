//! jhctl's own state between runs, under `$XDG_STATE_HOME/jhctl` (else
//! `~/.local/state/jhctl`): the REPL's history, and the notes that are
//! said once rather than on every run.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory, when there is a place for it (an absolute
/// `XDG_STATE_HOME`, or a home directory).
pub fn dir() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| dirs::home_dir().map(|home| home.join(".local/state")))?;
    Some(state.join("jhctl"))
}

/// Whether the note `key` is said for the first time: true once, and
/// from then on false (the key is kept in the file `said`). When the
/// file cannot be read or written, true: a note said again is better than
/// one never said.
pub fn first_time(key: &str) -> bool {
    match dir() {
        Some(dir) => first_time_in(&dir.join("said"), key),
        None => true,
    }
}

/// [`first_time`] with the file `said`.
fn first_time_in(said: &Path, key: &str) -> bool {
    let key = key.replace(['\n', '\r'], " ");
    if let Ok(text) = std::fs::read_to_string(said) {
        if text.lines().any(|line| line == key) {
            return false;
        }
    }
    if let Some(parent) = said.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(said) {
        let _ = writeln!(file, "{key}");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_new_once_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let said = dir.path().join("jhctl/said");
        assert!(first_time_in(&said, "quota http://hub:404"));
        assert!(!first_time_in(&said, "quota http://hub:404"));
        assert!(first_time_in(&said, "quota http://hub:403"));
        assert!(!first_time_in(&said, "quota http://hub:403"));
        assert!(first_time_in(&said, "two\nlines"));
        assert!(!first_time_in(&said, "two\nlines"));
    }

    #[test]
    fn without_a_place_to_remember_the_note_is_said_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, "").unwrap();
        let said = blocked.join("said");
        assert!(first_time_in(&said, "k"));
        assert!(first_time_in(&said, "k"));
    }
}
