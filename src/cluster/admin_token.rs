//! The hub's admin API token, kept in the Kubernetes secret
//! `jupyterhub-admin-credentials` (key `api-token`). jhctl falls back to it
//! when neither `--token` nor `JUPYTERHUB_TOKEN` is given.

use super::{Cluster, ClusterConfig, ClusterError};

/// The secret holding the hub's admin credentials.
pub const ADMIN_SECRET: &str = "jupyterhub-admin-credentials";

/// The key of [`ADMIN_SECRET`] holding the API token.
pub const API_TOKEN_KEY: &str = "api-token";

/// The key of [`ADMIN_SECRET`] holding the admin password.
pub const ADMIN_PASSWORD_KEY: &str = "admin-password";

impl Cluster {
    /// Reads the API token from secret [`ADMIN_SECRET`] in namespace `ns`,
    /// trimmed of surrounding white space.
    pub async fn admin_token(&self, ns: &str) -> Result<String, ClusterError> {
        let secret = self.secret(ns, ADMIN_SECRET).await?;
        match secret.get(API_TOKEN_KEY).map(|token| token.trim()) {
            Some(token) if !token.is_empty() => Ok(token.to_string()),
            _ => Err(ClusterError::MissingKey {
                name: ADMIN_SECRET.to_string(),
                namespace: ns.to_string(),
                key: API_TOKEN_KEY.to_string(),
                fix: "add it, or delete the secret and create it again with `jhctl credentials create`".to_string(),
            }),
        }
    }
}

/// Connects with `cfg` and reads the API token from secret
/// [`ADMIN_SECRET`] in namespace `ns`.
pub async fn admin_token(cfg: &ClusterConfig, ns: &str) -> Result<String, ClusterError> {
    Cluster::connect(cfg).await?.admin_token(ns).await
}
