//! `RunLog`: a journal read back, for `history`, `undo` and resuming.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::record::{changed, Action, Record, UserBefore};

/// One run's journal, read back.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunLog {
    /// The run's id.
    pub run: String,
    /// The journal file.
    pub path: PathBuf,
    /// The hub's URL.
    pub hub: String,
    /// The command line (secrets left out).
    pub command: Vec<String>,
    /// When it started.
    pub started: String,
    /// When it ended; `None` when it was interrupted.
    pub finished: Option<String>,
    /// Its exit status, when it ended.
    pub exit: Option<i32>,
    /// Outcomes per status (`deleted: 5`).
    pub counts: BTreeMap<String, usize>,
    /// Outcomes that changed the hub.
    pub changes: usize,
    /// Before-states, in order (with the action and detail they were read for).
    #[serde(skip)]
    pub befores: Vec<(Action, Option<String>, UserBefore)>,
    /// Outcomes, in order: action, name, status, detail.
    #[serde(skip)]
    pub outcomes: Vec<(Action, String, String, Option<String>)>,
}

impl RunLog {
    /// Whether the run stopped without its `end` line (killed, crashed).
    pub fn interrupted(&self) -> bool {
        self.finished.is_none()
    }

    /// Reads a journal's text; lines that do not parse (a line cut short
    /// by a kill) are left out. `None` without a `start` line.
    pub fn parse(path: &Path, text: &str) -> Option<RunLog> {
        let mut log: Option<RunLog> = None;
        for line in text.lines() {
            let Ok(record) = serde_json::from_str::<Record>(line) else { continue };
            match (record, log.as_mut()) {
                (Record::Start { run, hub, command, started }, None) => {
                    log = Some(RunLog { run, path: path.to_path_buf(), hub, command, started, ..RunLog::default() });
                }
                (Record::Before { action, detail, user }, Some(log)) => log.befores.push((action, detail, user)),
                (Record::Outcome { action, name, status, detail, .. }, Some(log)) => {
                    *log.counts.entry(status.clone()).or_default() += 1;
                    log.changes += usize::from(changed(&status));
                    log.outcomes.push((action, name, status, detail));
                }
                (Record::End { finished, exit }, Some(log)) => {
                    log.finished = Some(finished);
                    log.exit = Some(exit);
                }
                _ => {}
            }
        }
        log
    }

    /// The first before-state of `name` in this run: how it was before the
    /// run touched it.
    pub fn before(&self, name: &str) -> Option<&UserBefore> {
        self.befores.iter().map(|(_, _, user)| user).find(|user| user.name == name)
    }
}

/// The runs against `hub` journaled in `dir`, oldest first (run ids start
/// with their start time).
pub fn runs_of(dir: &Path, hub: &str) -> Vec<RunLog> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut runs: Vec<RunLog> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .filter_map(|path| RunLog::parse(&path, &std::fs::read_to_string(&path).ok()?))
        .filter(|log| same_hub(&log.hub, hub))
        .collect();
    runs.sort_by(|a, b| a.run.cmp(&b.run));
    runs
}

fn same_hub(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_without_end_is_interrupted_and_a_cut_line_is_left_out() {
        let text = concat!(
            r#"{"kind":"start","run":"r1","hub":"http://h","command":["jhctl"],"started":"2026-01-01T00:00:00Z"}"#,
            "\n",
            r#"{"kind":"before","action":"delete","user":{"name":"a","exists":true,"admin":true}}"#,
            "\n",
            r#"{"kind":"outcome","action":"delete","name":"a","status":"deleted"}"#,
            "\n",
            r#"{"kind":"outcome","action":"delete","name":"b","sta"#,
        );
        let log = RunLog::parse(Path::new("r1.jsonl"), text).unwrap();
        assert!(log.interrupted());
        assert_eq!(log.changes, 1);
        assert_eq!(log.counts.get("deleted"), Some(&1));
        assert!(log.before("a").unwrap().admin);
        let ended = format!("{text}\n{}\n", r#"{"kind":"end","finished":"2026-01-01T00:00:01Z","exit":0}"#);
        assert!(!RunLog::parse(Path::new("r1.jsonl"), &ended).unwrap().interrupted());
    }
}
