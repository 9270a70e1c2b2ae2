//! Integration tests: the real jhctl binary against a real JupyterHub and a fake Kubernetes API server.

mod support;

// The test hub itself.
mod harness;

mod cluster;
mod cluster_core;
mod completions;
mod concurrency;
mod dry_run;
mod end_of_term;
mod error_kinds;
mod exec_store;
mod exit_codes;
mod guards;
mod hostile;
mod integrity;
mod interrupt;
mod journal;
mod lease;
mod names;
mod pagination;
mod panel;
mod passwords;
mod readme;
mod recheck;
mod repl;
mod second_pass;
mod secrets;
mod sheets;
mod spine;
mod stores;
mod tls;
mod versions;
mod workflows;
