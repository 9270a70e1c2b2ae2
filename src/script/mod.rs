//! The Rhai host: engine setup, the bindings of each family of primitives,
//! the module resolver, script-declared command lines, and the bundled
//! scripts and stdlib embedded in the binary.

pub mod bundled;
pub mod cli_module;
pub mod cli_spec;
pub mod cluster_api;
pub mod completions;
pub mod convert;
pub mod doc;
pub mod engine;
pub mod error;
pub mod helpers;
pub mod hub_admin_api;
pub mod hub_api;
mod hub_journal_api;
mod hub_lease_api;
mod hub_sync_api;
mod hub_term_api;
pub mod items;
pub mod journaling;
pub mod resolver;
pub mod roster_api;
pub mod runner;
pub mod runtime;
pub mod show;
pub mod table;
pub mod terminal_text;
pub mod user_table;

pub use engine::build_engine;
