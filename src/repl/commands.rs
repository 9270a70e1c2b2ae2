//! The REPL's own commands: lines that start with `:`.

use std::io::Write;
use std::path::Path;

use super::session::{Outcome, Session};
use crate::script::doc;
use crate::script::error::EXIT_USAGE;

/// Every command with its help line.
pub const COMMANDS: [(&str, &str); 8] = [
    (":help", "this list"),
    (":doc", "NAME  a primitive's signature and doc text (`:doc` alone lists them all)"),
    (":vars", "the variables in scope, with their type"),
    (":load", "FILE  run a script file in this session"),
    (":save", "FILE  write the inputs that ran without error as a script"),
    (":history", "the inputs entered so far"),
    (":json", "show values as JSON, or readably again"),
    (":quit", "end the session (also Ctrl-D)"),
];

/// Whether `entry` is a command rather than code.
pub fn is_command(entry: &str) -> bool {
    entry.trim_start().starts_with(':')
}

/// Runs the command `entry`; `history` is what `:history` lists.
pub fn execute(entry: &str, session: &mut Session, history: &[String]) -> Outcome {
    let entry = entry.trim();
    let (command, argument) = entry.split_once(char::is_whitespace).unwrap_or((entry, ""));
    let argument = argument.trim();
    let mut out = std::io::stdout().lock();
    match (command, argument) {
        (":help" | ":h" | ":?", _) => {
            let _ = writeln!(out, "Type Rhai code to run it; `hub`, `roster::` and `cluster::` are ready. Commands:");
            for (name, help) in COMMANDS {
                let (args, help) = help.split_once("  ").unwrap_or(("", help));
                let _ = writeln!(out, "  {:16}{help}", format!("{name} {args}"));
            }
            let _ = writeln!(
                out,
                "An open bracket or string goes on in the next line. Tab completes, Ctrl-R searches the history,\n\
                 Ctrl-C clears the input or stops the running one. `jhctl doc` lists every primitive."
            );
            Outcome::Done
        }
        (":doc", name) => {
            let engine = session.engine();
            let wanted = (!name.is_empty()).then_some(name);
            match doc::render(&engine, wanted) {
                Some(text) => {
                    let _ = write!(out, "{text}");
                    Outcome::Done
                }
                None => {
                    eprintln!("error: no primitive called `{name}`");
                    let hints = doc::suggest(&engine, name);
                    if !hints.is_empty() {
                        eprintln!("did you mean: {}", hints.join(", "));
                    }
                    eprintln!("`:doc` lists them all");
                    Outcome::Failed(EXIT_USAGE as i32)
                }
            }
        }
        (":vars", "") => {
            let _ = write!(out, "{}", session.vars());
            Outcome::Done
        }
        (":load", file) if !file.is_empty() => {
            drop(out);
            session.load(file)
        }
        (":save", file) if !file.is_empty() => match session.save(Path::new(file)) {
            Ok(count) => {
                eprintln!("saved {count} input{} to `{file}`", if count == 1 { "" } else { "s" });
                Outcome::Done
            }
            Err(e) => {
                eprintln!("error: cannot write `{file}`: {e}");
                Outcome::Failed(EXIT_USAGE as i32)
            }
        },
        (":history", "") => {
            for (i, input) in history.iter().enumerate() {
                let _ = writeln!(out, "{:4}  {}", i + 1, input.replace('\n', "\n      "));
            }
            Outcome::Done
        }
        (":json", "") => {
            let on = session.toggle_json();
            eprintln!("values show as {}", if on { "JSON" } else { "text" });
            Outcome::Done
        }
        (":quit" | ":q" | ":exit", "") => Outcome::Quit,
        (":load" | ":save", _) => usage(&format!("`{command}` needs a file: `{command} FILE`")),
        _ if COMMANDS.iter().any(|(name, _)| *name == command) => usage(&format!("`{command}` takes no argument")),
        _ => usage(&format!("unknown command `{command}`; `:help` lists the commands")),
    }
}

fn usage(message: &str) -> Outcome {
    eprintln!("error: {message}");
    Outcome::Failed(EXIT_USAGE as i32)
}
