//! How core errors become Rhai errors, and how a script error carries the
//! exit status the user should see.
//!
//! A primitive that cannot run at all throws. The thrown value is a map
//! `#{message, exit}`: `exit` is 2 for bad usage or bad input (a roster
//! without a `username` column) and 1 otherwise. Scripts can catch it
//! (`catch (e) { print(e.message) }`); uncaught, the runner prints the
//! message and exits with that status.

use rhai::{Dynamic, EvalAltResult, Map, Position};

/// Exit status for "some items failed" or a runtime failure.
pub const EXIT_FAILED: i64 = 1;
/// Exit status for bad usage or bad input.
pub const EXIT_USAGE: i64 = 2;

/// A Rhai error that carries `message` and the exit status `exit`.
pub fn throw(message: impl Into<String>, exit: i64) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("message".into(), Dynamic::from(message.into()));
    map.insert("exit".into(), Dynamic::from(exit));
    Box::new(EvalAltResult::ErrorRuntime(map.into(), Position::NONE))
}

/// A runtime failure (exit status 1) from any displayable error.
pub fn failed(err: impl std::fmt::Display) -> Box<EvalAltResult> {
    throw(err.to_string(), EXIT_FAILED)
}

/// Bad input (exit status 2) from any displayable error.
pub fn bad_input(err: impl std::fmt::Display) -> Box<EvalAltResult> {
    throw(err.to_string(), EXIT_USAGE)
}

/// Stops the script with exit status `code`, printing nothing more.
pub fn exit(code: i64) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(Dynamic::from(code), Position::NONE))
}
