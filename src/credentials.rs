//! Where the hub API token comes from: `--token`, then JUPYTERHUB_TOKEN
//! (clap folds both into one option), then the Kubernetes secret
//! `jupyterhub-admin-credentials` in the hub's namespace.

use crate::cluster::{self, ClusterConfig, ADMIN_SECRET};
use crate::hub::{HubError, Token};

/// Finds the token: the one given (flag or environment), else the
/// `api-token` key of the admin credentials secret, saying so in one line
/// on stderr. The error names all three places and why each failed.
/// Never puts the token in a message.
pub async fn resolve_token(given: Option<&Token>, namespace: &str, context: Option<&str>) -> Result<Token, HubError> {
    if let Some(token) = given {
        return Ok(token.clone());
    }
    let config = ClusterConfig { context: context.map(str::to_string) };
    match cluster::admin_token(&config, namespace).await {
        Ok(token) => {
            eprintln!("🔑 Using the API token from secret `{ADMIN_SECRET}` in namespace `{namespace}`");
            Ok(Token::new(token))
        }
        Err(e) => Err(HubError::NoToken(format!(
            "tried --token (not given), JUPYTERHUB_TOKEN (not set), and the Kubernetes secret `{ADMIN_SECRET}` \
             in namespace `{namespace}` ({e}); pass --token, export JUPYTERHUB_TOKEN, or point KUBECONFIG at the hub's cluster"
        ))),
    }
}
