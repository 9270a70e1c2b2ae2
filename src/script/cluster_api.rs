//! The `cluster::` module: Kubernetes secrets, restarts and exec from
//! scripts, through the user's kubeconfig (or the pod's service account).

use std::collections::BTreeMap;
use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::error::thrown;
use super::runtime::{block_on, Context};
use crate::cluster::{Cluster, ClusterConfig, ClusterError};

/// Connects with the engine's `--context` and runs `job`.
fn with_cluster<T, F, Fut>(call: &NativeCallContext, job: F) -> Result<T, Box<EvalAltResult>>
where
    F: FnOnce(Cluster) -> Fut,
    Fut: std::future::Future<Output = Result<T, ClusterError>>,
{
    let config = ClusterConfig { context: Context::of(call).settings().context.clone() };
    block_on(async move { job(Cluster::connect(&config).await?).await })?.map_err(thrown)
}

/// Kubernetes primitives.
#[export_module]
pub mod cluster_module {
    use super::*;

    /// The keys of a secret, decoded to text.
    ///
    /// Throws when: the cluster cannot be reached, the secret or namespace
    /// does not exist, or reading it is forbidden (the API's reason is shown).
    ///
    /// ```rhai
    /// let creds = cluster::secret("jupyterhub", "jupyterhub-admin-credentials");
    /// print(creds["admin-password"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn secret(call: NativeCallContext, ns: &str, name: &str) -> Result<Map, Box<EvalAltResult>> {
        let (ns, name) = (ns.to_string(), name.to_string());
        let data = with_cluster(&call, |c| async move { c.secret(&ns, &name).await })?;
        Ok(data.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect())
    }

    /// Creates a secret from a map of text values; refuses when it exists.
    /// Returns `created`, or `planned` in a dry run (`--dry-run` or
    /// `hub.set_dry_run(true)`), which reads the secret and throws as the
    /// real run would.
    ///
    /// Throws when: the secret exists, or the cluster refuses.
    ///
    /// ```rhai
    /// cluster::create_secret("jupyterhub", "jupyterhub-admin-credentials",
    ///     #{ "api-token": token_hex(), "admin-password": password(16) });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create_secret(
        call: NativeCallContext,
        ns: &str,
        name: &str,
        data: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        create_secret_with(call, ns, name, data, Map::new())
    }

    /// Creates a secret with options: `#{overwrite: true}` replaces one that exists.
    /// Returns `created`, or `planned` in a dry run (nothing is written; a
    /// secret that exists without `overwrite` throws, as in a real run).
    ///
    /// Throws when: the secret exists and `overwrite` is not set, or the cluster refuses.
    ///
    /// ```rhai
    /// cluster::create_secret("jupyterhub", "demo", #{ key: "value" }, #{ overwrite: true });
    /// ```
    #[rhai_fn(name = "create_secret", return_raw)]
    pub fn create_secret_with(
        call: NativeCallContext,
        ns: &str,
        name: &str,
        data: Map,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        let overwrite = options.get("overwrite").and_then(|v| v.as_bool().ok()).unwrap_or(false);
        if Context::of(&call).dry_run() {
            let (ns, name) = (ns.to_string(), name.to_string());
            // Read only: what the real run would meet.
            with_cluster(&call, |c| async move {
                match c.secret(&ns, &name).await {
                    Ok(_) if !overwrite => Err(ClusterError::AlreadyExists { name, namespace: ns }),
                    Ok(_) | Err(ClusterError::NotFound { .. }) => Ok(()),
                    Err(e) => Err(e),
                }
            })?;
            return Ok("planned".into());
        }
        let data: BTreeMap<String, String> = data.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (ns, name) = (ns.to_string(), name.to_string());
        with_cluster(&call, |c| async move { c.create_secret(&ns, &name, &data, overwrite).await })?;
        Ok("created".into())
    }

    /// Restarts a deployment the way `kubectl rollout restart` does (the
    /// `kubectl.kubernetes.io/restartedAt` annotation). Returns `restarted`,
    /// or `planned` in a dry run (`--dry-run` or `hub.set_dry_run(true)`),
    /// which only checks that the deployment exists.
    ///
    /// Throws when: the deployment does not exist, or the cluster refuses.
    ///
    /// ```rhai
    /// cluster::rollout_restart("jupyterhub", "hub");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rollout_restart(call: NativeCallContext, ns: &str, deployment: &str) -> Result<String, Box<EvalAltResult>> {
        rollout_restart_with(call, ns, deployment, Map::new())
    }

    /// Restarts a deployment and, with `#{wait: SECONDS}`, waits until its
    /// new pods are ready.
    ///
    /// Throws when: as `rollout_restart`, or the pods are not ready in time.
    ///
    /// ```rhai
    /// cluster::rollout_restart("jupyterhub", "hub", #{ wait: 300 });
    /// ```
    #[rhai_fn(name = "rollout_restart", return_raw)]
    pub fn rollout_restart_with(
        call: NativeCallContext,
        ns: &str,
        deployment: &str,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        if Context::of(&call).dry_run() {
            let (ns, deployment) = (ns.to_string(), deployment.to_string());
            with_cluster(&call, |c| async move { c.deployment_pods(&ns, &deployment).await })?;
            return Ok("planned".into());
        }
        let wait = options.get("wait").and_then(|v| v.as_int().ok()).filter(|w| *w > 0);
        let (ns, deployment) = (ns.to_string(), deployment.to_string());
        with_cluster(&call, |c| async move {
            c.rollout_restart(&ns, &deployment).await?;
            if let Some(secs) = wait {
                c.wait_rollout(&ns, &deployment, Duration::from_secs(secs as u64)).await?;
            }
            Ok(())
        })?;
        Ok("restarted".into())
    }

    /// The pods of a deployment (through its selector), running ones first.
    ///
    /// Throws when: the deployment does not exist, or the cluster refuses.
    ///
    /// ```rhai
    /// print(cluster::pods("jupyterhub", "hub"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pods(call: NativeCallContext, ns: &str, deployment: &str) -> Result<Array, Box<EvalAltResult>> {
        let (ns, deployment) = (ns.to_string(), deployment.to_string());
        let pods = with_cluster(&call, |c| async move { c.deployment_pods(&ns, &deployment).await })?;
        Ok(pods.into_iter().map(Dynamic::from).collect())
    }

    /// Runs `command` (a list: program and arguments) in a running pod of
    /// `target` (`deployment/NAME`, `pod/NAME` or a pod name) with `stdin`
    /// as its input. Returns `#{stdout, stderr, code}`; a non-zero code is
    /// not an error.
    ///
    /// Throws when: the target or namespace does not exist, no pod is
    /// running, the cluster refuses, or the command cannot start.
    ///
    /// ```rhai
    /// let r = cluster::exec("jupyterhub", "deployment/hub", ["ls", "/srv/jupyterhub"], "");
    /// if r.code != 0 { print(r.stderr); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exec(
        call: NativeCallContext,
        ns: &str,
        target: &str,
        command: Array,
        stdin: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let command: Vec<String> = command.iter().map(|c| c.to_string()).collect();
        let (ns, target, stdin) = (ns.to_string(), target.to_string(), stdin.as_bytes().to_vec());
        let out = with_cluster(&call, |c| async move { c.exec(&ns, &target, &command, &stdin).await })?;
        let mut map = Map::new();
        map.insert("stdout".into(), Dynamic::from(String::from_utf8_lossy(&out.stdout).into_owned()));
        map.insert("stderr".into(), Dynamic::from(String::from_utf8_lossy(&out.stderr).into_owned()));
        map.insert("code".into(), Dynamic::from(out.code as i64));
        Ok(map)
    }
}
