//! The journal of each run that changes the hub: what the run meant to do,
//! the state of every user before it was touched, and each outcome as it
//! landed, one JSON line at a time, so even a run killed with SIGKILL leaves
//! an exact record. `jhctl history` reads these files, `jhctl undo` plans
//! from them, and an interrupted `create --generate-passwords` is resumed
//! from them. Plain Rust: nothing here knows Rhai.

mod before_state;
mod pending_passwords;
mod record;
mod run_log;
mod undo_plan;
mod writer;

pub use before_state::before_states;
pub use pending_passwords::left_without_password;
pub use record::{Action, Record, UserBefore};
pub use run_log::{runs_of, RunLog};
pub use undo_plan::{UndoPlan, UndoStep};
pub use writer::{redact_command, Journal};

/// Where the journals are kept: `<state dir>/runs` (see [`crate::state::dir`]).
pub fn dir() -> Option<std::path::PathBuf> {
    Some(crate::state::dir()?.join("runs"))
}
