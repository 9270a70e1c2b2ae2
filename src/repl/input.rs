//! `Input`: where the REPL's inputs come from — the line editor on a
//! terminal, or standard input line by line — joined into whole inputs
//! while they are incomplete.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use super::helper::ReplHelper;

/// The prompt of a new input.
const PROMPT: &str = "jhctl> ";
/// The prompt of the lines that continue an input.
const CONTINUE: &str = "  ...> ";
/// Inputs kept in the history file.
const HISTORY_SIZE: usize = 1000;

/// What [`Input::read`] got.
pub enum Read {
    /// A whole input (one line or more, joined with `\n`).
    Entry(String),
    /// Ctrl-C: the input being typed was dropped.
    Cleared,
    /// Ctrl-D or the end of standard input.
    End,
}

/// The source of inputs.
pub enum Input {
    /// A person at a terminal.
    Terminal {
        editor: Box<Editor<ReplHelper, FileHistory>>,
        /// The history file, when there is a place for it.
        file: Option<PathBuf>,
        /// Whether saving the history failed already (said once).
        warned: bool,
        /// The lines after the first of a paste or a recalled multi-line
        /// input, read one by one like typed lines.
        queued: VecDeque<String>,
    },
    /// Standard input that is not a terminal.
    Piped {
        lines: std::io::Lines<std::io::StdinLock<'static>>,
        /// The inputs read so far, for `:history`.
        history: Vec<String>,
    },
}

impl Input {
    /// The line editor with `helper` and the history of earlier sessions.
    pub fn terminal(helper: ReplHelper) -> Input {
        let config = Config::builder()
            .auto_add_history(false)
            .max_history_size(HISTORY_SIZE)
            .and_then(|c| c.history_ignore_dups(true))
            .map(|c| c.history_ignore_space(true).completion_type(CompletionType::List))
            .map(|c| c.completion_show_all_if_ambiguous(true).build())
            .unwrap_or_default();
        let mut editor = match Editor::with_config(config) {
            Ok(editor) => editor,
            Err(e) => {
                eprintln!("warning: no line editing ({e}); reading lines as they come");
                return Input::piped();
            }
        };
        editor.set_helper(Some(helper));
        let file = history_file();
        if let Some(file) = &file {
            let _ = editor.load_history(file);
        }
        Input::Terminal { editor: Box::new(editor), file, warned: false, queued: VecDeque::new() }
    }

    /// Standard input, line by line.
    pub fn piped() -> Input {
        Input::Piped { lines: std::io::stdin().lock().lines(), history: Vec::new() }
    }

    /// The next whole input: lines are added while `complete` says the
    /// text so far is not.
    pub fn read(&mut self, complete: &dyn Fn(&str) -> bool) -> Read {
        let mut text = String::new();
        loop {
            let line = match self.line(if text.is_empty() { PROMPT } else { CONTINUE }) {
                Ok(Some(line)) => line,
                Ok(None) if text.is_empty() => return Read::End,
                // The end in the middle of an input: run it, to show what is missing.
                Ok(None) => return if self.is_terminal() { Read::End } else { Read::Entry(text) },
                Err(()) => return Read::Cleared,
            };
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&line);
            if text.trim().is_empty() || complete(&text) {
                return Read::Entry(text);
            }
        }
    }

    /// Remembers `entry` in the history (and the history file).
    pub fn remember(&mut self, entry: &str) {
        match self {
            Input::Terminal { editor, file, warned, .. } => {
                let _ = editor.add_history_entry(entry);
                let Some(file) = file else { return };
                let saved = match file.parent() {
                    Some(dir) => std::fs::create_dir_all(dir).map_err(ReadlineError::from),
                    None => Ok(()),
                }
                .and_then(|()| editor.append_history(file));
                if let Err(e) = saved {
                    if !*warned {
                        eprintln!("warning: cannot save the history to `{}`: {e}", file.display());
                        *warned = true;
                    }
                }
            }
            Input::Piped { history, .. } => history.push(entry.to_string()),
        }
    }

    /// The inputs remembered so far (on a terminal, also of earlier sessions).
    pub fn history(&self) -> Vec<String> {
        match self {
            Input::Terminal { editor, .. } => editor.history().iter().cloned().collect(),
            Input::Piped { history, .. } => history.clone(),
        }
    }

    fn is_terminal(&self) -> bool {
        matches!(self, Input::Terminal { .. })
    }

    /// One line: `Ok(None)` at the end, `Err(())` on Ctrl-C.
    fn line(&mut self, prompt: &str) -> Result<Option<String>, ()> {
        match self {
            Input::Terminal { queued, .. } if !queued.is_empty() => Ok(queued.pop_front()),
            Input::Terminal { editor, queued, .. } => match editor.readline(prompt) {
                Ok(text) => {
                    let mut lines = text.split('\n').map(str::to_string);
                    let first = lines.next().unwrap_or_default();
                    queued.extend(lines);
                    Ok(Some(first))
                }
                Err(ReadlineError::Interrupted | ReadlineError::Signal(_)) => {
                    queued.clear();
                    Err(())
                }
                Err(ReadlineError::Eof) => Ok(None),
                Err(e) => {
                    eprintln!("error: cannot read the terminal: {e}");
                    Ok(None)
                }
            },
            Input::Piped { lines, .. } => match lines.next() {
                Some(Ok(line)) => Ok(Some(line)),
                Some(Err(e)) => {
                    eprintln!("error: cannot read standard input: {e}");
                    Ok(None)
                }
                None => Ok(None),
            },
        }
    }
}

/// `$XDG_STATE_HOME/jhctl/history`, else `~/.local/state/jhctl/history`.
fn history_file() -> Option<PathBuf> {
    Some(crate::state::dir()?.join("history"))
}
