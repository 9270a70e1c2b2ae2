//! The Kubernetes side: secrets, rollout restart, pods of a deployment, exec.
//!
//! Plain async Rust over the `kube` client; nothing here knows about Rhai.
//! [`Cluster::connect`] finds the cluster like kubectl does (kubeconfig,
//! else the pod's service account), and every failure is a
//! [`ClusterError`] naming the object and the fix.

mod admin_token;
mod client;
mod cluster_config;
mod cluster_error;
mod exec;
mod pods;
mod rollout;
mod secrets;

pub use admin_token::{admin_token, ADMIN_PASSWORD_KEY, ADMIN_SECRET, API_TOKEN_KEY};
pub use client::Cluster;
pub use cluster_config::ClusterConfig;
pub use cluster_error::ClusterError;
pub use exec::{ExecEnd, ExecLimits, ExecOutput, ExecRun};
pub use rollout::RESTARTED_AT;
