//! [`Cluster`]: one connection to a Kubernetes API server, and the
//! translation of the client's errors into [`ClusterError`]s that name the
//! object involved.
//!
//! The operations themselves live beside it, one concept per file
//! (secrets, rollout, pods, exec).

use std::fmt;
use std::path::Path;

use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, Client};

use super::cluster_error::Op;
use super::{ClusterConfig, ClusterError, ADMIN_SECRET};

/// A connection to a Kubernetes API server.
///
/// Cheap to clone; clones share the underlying HTTP connections.
#[derive(Clone)]
pub struct Cluster {
    /// The kube client.
    pub(crate) client: Client,
    /// The API server's URL, for error messages.
    pub(crate) url: String,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster").field("url", &self.url).finish()
    }
}

impl Cluster {
    /// Connects using the kubeconfig (`KUBECONFIG` or `~/.kube/config`, and
    /// the context in `cfg`), else the in-cluster service account.
    ///
    /// Nothing is sent yet: an unreachable server shows up as
    /// [`ClusterError::Unreachable`] on the first request.
    pub async fn connect(cfg: &ClusterConfig) -> Result<Cluster, ClusterError> {
        let config = cfg.load().await?;
        Self::from_config(config)
    }

    /// Connects using one kubeconfig file and an optional context, ignoring
    /// `KUBECONFIG` and the in-cluster service account.
    pub async fn from_kubeconfig(path: &Path, context: Option<&str>) -> Result<Cluster, ClusterError> {
        let cfg = ClusterConfig { context: context.map(str::to_string) };
        let config = cfg.load_file(path).await?;
        Self::from_config(config)
    }

    /// Builds the client from a loaded configuration.
    fn from_config(config: kube::Config) -> Result<Cluster, ClusterError> {
        let url = config.cluster_url.to_string().trim_end_matches('/').to_string();
        let client = Client::try_from(config)
            .map_err(|source| ClusterError::Client { url: url.clone(), source: Box::new(source) })?;
        Ok(Cluster { client, url })
    }

    /// The API server's URL, e.g. `https://10.0.0.1:6443`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Turns a kube error from `op` into a [`ClusterError`]. A 404 is
    /// checked against the namespace so that a missing namespace is named
    /// as such.
    pub(crate) async fn fail(&self, op: &Op<'_>, error: kube::Error) -> ClusterError {
        match error {
            kube::Error::Api(response) => {
                self.status_error(op, response.code, &response.reason, &response.message).await
            }
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                ClusterError::Unreachable { url: self.url.clone(), source: Box::new(error) }
            }
            kube::Error::Auth(_) => ClusterError::Client { url: self.url.clone(), source: Box::new(error) },
            error => ClusterError::BadResponse {
                verb: op.verb,
                kind: op.kind,
                name: op.name.to_string(),
                namespace: op.namespace.to_string(),
                source: Box::new(error),
            },
        }
    }

    /// Turns an HTTP status from the API server into a [`ClusterError`].
    pub(crate) async fn status_error(&self, op: &Op<'_>, code: u16, reason: &str, message: &str) -> ClusterError {
        match code {
            401 => ClusterError::Unauthorized { url: self.url.clone(), message: message.to_string() },
            403 => ClusterError::forbidden(op, message),
            404 if self.namespace_missing(op.namespace).await => {
                ClusterError::NamespaceNotFound { namespace: op.namespace.to_string() }
            }
            404 => ClusterError::NotFound {
                kind: op.kind,
                name: op.name.to_string(),
                namespace: op.namespace.to_string(),
                fix: not_found_fix(op),
            },
            _ => ClusterError::api(op, code, reason, message),
        }
    }

    /// True only when the API server says the namespace does not exist; a
    /// refusal to tell (403) or any other failure counts as "exists".
    async fn namespace_missing(&self, namespace: &str) -> bool {
        let api: Api<Namespace> = Api::all(self.client.clone());
        matches!(api.get_opt(namespace).await, Ok(None))
    }
}

/// What to do when an object is missing. The command for the admin secret
/// names the namespace unless it is jhctl's default, `jupyterhub`.
fn not_found_fix(op: &Op<'_>) -> String {
    if op.kind == "secret" && op.name == ADMIN_SECRET {
        let ns = if op.namespace == "jupyterhub" { String::new() } else { format!("-n {} ", op.namespace) };
        format!("create it with `jhctl {ns}credentials create`")
    } else {
        format!("check the name with `kubectl -n {} get {}s`", op.namespace, op.kind)
    }
}
