//! Integration tests: the real jhctl binary against a real JupyterHub and a fake Kubernetes API server.

mod support;

// The test hub itself.
mod harness;

mod cluster;
mod cluster_core;
mod exec_store;
mod panel;
mod passwords;
mod readme;
mod repl;
mod spine;
mod workflows;
