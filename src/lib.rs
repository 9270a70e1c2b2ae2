//! jhctl: automate a JupyterHub with Rhai scripts.
//!
//! The core knows nothing of Rhai: [`hub`] talks to the JupyterHub REST API
//! and the hub's admin API, [`roster`] reads and writes roster files, and
//! [`cluster`] reaches Kubernetes. [`script`] turns them into documented
//! primitives for Rhai scripts; [`cli`] and [`run`] are the command line.

pub mod cli;
pub mod cluster;
pub mod credentials;
pub mod hub;
pub mod journal;
pub mod pod_passwords;
pub mod repl;
pub mod roster;
pub mod run;
pub mod script;
pub mod secret_text;
pub mod state;
pub mod username;
