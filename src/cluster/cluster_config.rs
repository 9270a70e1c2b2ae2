//! Which cluster to talk to: the user's kubeconfig (`KUBECONFIG` or
//! `~/.kube/config`, with an optional context), else the pod's service
//! account when jhctl runs inside the cluster.
//!
//! This is `kube::Config::infer` with two changes: the context can be
//! chosen, and a failure keeps both causes and says plainly whether a
//! kubeconfig was found at all.

use std::io;
use std::path::{Path, PathBuf};

use kube::config::{Config, KubeConfigOptions, Kubeconfig, KubeconfigError};

use super::ClusterError;

/// How to find the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The kubeconfig context to use (`--context`); `None` uses the
    /// kubeconfig's `current-context`.
    pub context: Option<String>,
}

impl ClusterConfig {
    /// Loads the client configuration: the kubeconfig from `KUBECONFIG` or
    /// `~/.kube/config`, else the in-cluster service account (only when no
    /// context was asked for).
    pub(crate) async fn load(&self) -> Result<Config, ClusterError> {
        let searched = searched_places();
        match Kubeconfig::read() {
            Ok(kubeconfig) => self.load_parsed(kubeconfig, true).await,
            Err(error) if is_missing(&error) => match &self.context {
                Some(context) => Err(ClusterError::NoConfigForContext { context: context.clone(), searched }),
                None => Config::incluster().map_err(|in_cluster| ClusterError::NoConfig { searched, in_cluster }),
            },
            Err(kubeconfig) => self.or_in_cluster(kubeconfig),
        }
    }

    /// Loads the client configuration from one kubeconfig file, ignoring
    /// `KUBECONFIG` and the in-cluster service account.
    pub(crate) async fn load_file(&self, path: &Path) -> Result<Config, ClusterError> {
        match Kubeconfig::read_from(path) {
            Ok(kubeconfig) => self.load_parsed(kubeconfig, false).await,
            Err(error) if is_missing(&error) => {
                Err(ClusterError::KubeconfigNotFound { path: path.display().to_string() })
            }
            Err(source) => Err(ClusterError::BadKubeconfig { source }),
        }
    }

    /// Picks the context from a parsed kubeconfig; when that fails and
    /// `fallback` is set, tries the in-cluster configuration.
    async fn load_parsed(&self, kubeconfig: Kubeconfig, fallback: bool) -> Result<Config, ClusterError> {
        let contexts: Vec<String> = kubeconfig.contexts.iter().map(|named| named.name.clone()).collect();
        let options = KubeConfigOptions { context: self.context.clone(), ..KubeConfigOptions::default() };
        match Config::from_custom_kubeconfig(kubeconfig, &options).await {
            Ok(config) => Ok(config),
            Err(KubeconfigError::LoadContext(context)) => Err(ClusterError::ContextNotFound {
                context,
                available: if contexts.is_empty() { "none".to_string() } else { contexts.join(", ") },
            }),
            Err(kubeconfig) if fallback => self.or_in_cluster(kubeconfig),
            Err(source) => Err(ClusterError::BadKubeconfig { source }),
        }
    }

    /// A kubeconfig exists but is unusable: try the service account, and
    /// keep both causes if that fails too. A chosen context rules out the
    /// service account.
    fn or_in_cluster(&self, kubeconfig: KubeconfigError) -> Result<Config, ClusterError> {
        if self.context.is_some() {
            return Err(ClusterError::BadKubeconfig { source: kubeconfig });
        }
        Config::incluster().map_err(|in_cluster| ClusterError::BadConfig { kubeconfig, in_cluster })
    }
}

/// True when the kubeconfig error only says that no file is there.
fn is_missing(error: &KubeconfigError) -> bool {
    match error {
        KubeconfigError::FindPath => true,
        KubeconfigError::ReadConfig(io_error, _) => io_error.kind() == io::ErrorKind::NotFound,
        _ => false,
    }
}

/// Where a kubeconfig is looked for, for error messages.
fn searched_places() -> String {
    let mut places = Vec::new();
    match std::env::var_os("KUBECONFIG") {
        Some(value) if !value.is_empty() => {
            places.push(format!("KUBECONFIG={}", value.to_string_lossy()));
        }
        _ => {
            places.push("KUBECONFIG not set".to_string());
            let home = dirs::home_dir()
                .map(|home| home.join(".kube").join("config"))
                .unwrap_or_else(|| PathBuf::from("~/.kube/config"));
            places.push(home.display().to_string());
        }
    }
    places.join(", ")
}
