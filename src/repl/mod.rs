//! The interactive REPL (`jhctl repl`): the primitives of `jhctl run`, one
//! line at a time, for one-off fixes and for trying things out.
//!
//! One engine ([`crate::script::build_engine`]) and one scope serve the
//! whole session: a variable, a function or an `import` of one input is
//! there in the next. `hub` connects on first use, so the REPL starts at
//! once and a hub that is down is an error on the first call, not at start.
//!
//! An input that is not complete yet (an open `{`, `(`, `[`, `#{`, a
//! backtick string or a block comment) goes on over the next lines, with a
//! continuation prompt on a terminal. A value is shown readably (a list of
//! maps as a table, a map as key/value lines) or as JSON after `:json`; an
//! error shows its line with a caret under the column, and the session goes
//! on. Lines starting with `:` are REPL commands: `:help` lists them.
//!
//! On a terminal: line editing, Tab completion (primitives, `roster::` and
//! `cluster::` functions, variables, map keys, usernames inside `hub` calls),
//! history kept in `$XDG_STATE_HOME/jhctl/history` (else
//! `~/.local/state/jhctl/history`) with Ctrl-R search. Ctrl-C clears the
//! input being typed, or stops the running input (also a hub call in flight)
//! and goes back to the prompt; Ctrl-D on an empty line ends the session.
//!
//! When standard input is not a terminal, the REPL reads it line by line
//! and runs each input as it completes: no prompts, values on stdout,
//! errors on stderr (placed by their line in the input stream, `<stdin>`),
//! nothing written to the history. An error does not stop it.
//!
//! Exit status: `exit(n)` ends the session at once with `n`. Otherwise a
//! terminal session ends with 0; a piped one with 0 when every input ran,
//! else the status of the last input that failed (2 for a syntax error or
//! bad input, 1 for any other error), so that a caller can tell.

mod commands;
mod helper;
mod incomplete;
mod input;
mod interrupt;
mod session;

use std::io::IsTerminal;
use std::path::Path;
use std::rc::Rc;

use crate::script::cli_spec::set_script;
use crate::script::runtime::Context;

use commands::is_command;
use helper::ReplHelper;
use incomplete::is_incomplete;
use input::{Input, Read};
use session::{Outcome, Session};

/// Runs the REPL on standard input; returns the exit status.
pub fn run(base: &Path, context: &Rc<Context>) -> i32 {
    set_script("repl", &[]);
    let terminal = std::io::stdin().is_terminal();
    let mut session = Session::new(base, if terminal { "<repl>" } else { "<stdin>" }, context);
    let mut input = if terminal {
        eprintln!("jhctl repl: hub {}; :help for help, Ctrl-D to quit", context.settings().url);
        let input = Input::terminal(ReplHelper::new(session.engine(), session.names()));
        // After the line editor, whose own SIGINT handler then comes second.
        interrupt::catch_ctrl_c();
        input
    } else {
        Input::piped()
    };
    let engine = session.engine();
    let complete = |text: &str| is_command(text) || !is_incomplete(&engine, text);
    let mut status = 0;
    loop {
        let entry = match input.read(&complete) {
            Read::Entry(entry) => entry,
            Read::Cleared => continue,
            Read::End => break,
        };
        if entry.trim().is_empty() {
            continue;
        }
        input.remember(&entry);
        let outcome = if is_command(&entry) {
            commands::execute(&entry, &mut session, &input.history())
        } else {
            session.eval(&entry)
        };
        match outcome {
            Outcome::Done => {}
            Outcome::Failed(code) => {
                if !terminal {
                    status = code;
                }
            }
            Outcome::Quit => break,
            Outcome::Exit(code) => {
                status = code;
                break;
            }
        }
    }
    // The session's changes are one run in the journal.
    context.finish_journal(status);
    status
}
