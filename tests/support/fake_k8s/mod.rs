//! A fake Kubernetes API server for tests, speaking the real wire format so
//! the unchanged kube client (in the library or in the `jhctl` binary)
//! works against it through a generated kubeconfig: plain HTTP on
//! 127.0.0.1, a bearer token, context `fake`.
//!
//! It serves discovery (`/version`, `/api`, `/apis`), namespaces (get,
//! list), secrets (get, list, create, replace, merge and strategic-merge
//! patch, delete; `stringData` folded into `data`), deployments (get, list,
//! merge and strategic-merge patch; a change of the pod template starts a
//! short "rollout" visible in the status), pods (get, list with
//! `labelSelector`) and exec over WebSocket (`v5.channel.k8s.io` and
//! `v4.channel.k8s.io`), which runs the command as a local process in the
//! pod's scratch folder with the pod's environment, and can break the
//! session mid-way. Errors are `Status` objects like the real ones
//! (NotFound, AlreadyExists, Conflict, Forbidden, Unauthorized).
//!
//! Known simplifications: strategic merge patches are applied as JSON merge
//! patches (lists are replaced, `$` directives ignored); no watch; pods keep
//! their names across restarts.
//!
//! ```ignore
//! let k8s = FakeCluster::start();
//! k8s.put_secret("jupyterhub", "jupyterhub-admin-credentials", &[("api-token", "abc")]);
//! let pods = k8s.add_deployment("jupyterhub", "hub", 1);
//! // run jhctl with KUBECONFIG=k8s.kubeconfig_path() ...
//! assert_eq!(k8s.restarts("jupyterhub", "hub").len(), 1);
//! ```

#![allow(dead_code)]

mod exec;
mod router;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::background::Background;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;

pub use state::DeploymentPatch;

use router::{lock, Shared};
use state::State;

/// The context (and cluster and user) name in the generated kubeconfig.
pub const CONTEXT: &str = "fake";

/// A running fake API server. Dropping it stops the server, ends open exec
/// sessions (killing their processes) and deletes its folder.
pub struct FakeCluster {
    state: Shared,
    addr: SocketAddr,
    token: String,
    kubeconfig: PathBuf,
    _server: Background,
    dir: tempfile::TempDir,
}

impl FakeCluster {
    /// Starts a server on a free port of 127.0.0.1, on its own thread and
    /// runtime, and writes its kubeconfig. No namespace exists yet.
    pub fn start() -> FakeCluster {
        let dir = tempfile::tempdir().expect("create the fake cluster's folder");
        let token = format!("fake-token-{:016x}", rand::random::<u64>());
        let state: Shared = Arc::new(Mutex::new(State::new(dir.path().join("pods"))));
        let (thread_state, thread_token) = (state.clone(), Arc::new(token.clone()));
        let server = Background::start("fake-k8s", move |listener| serve(listener, thread_state, thread_token));
        let addr = server.addr();
        let kubeconfig = dir.path().join("kubeconfig");
        write_kubeconfig(&kubeconfig, &format!("http://{addr}"), &token, CONTEXT);
        FakeCluster { state, addr, token, kubeconfig, _server: server, dir }
    }

    /// The kubeconfig file to use (`KUBECONFIG=...`); its context is [`CONTEXT`].
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The context name in the kubeconfig, for `--context`.
    pub fn context(&self) -> &str {
        CONTEXT
    }

    /// The server's URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Creates a namespace (idempotent).
    pub fn add_namespace(&self, ns: &str) {
        lock(&self.state).namespaces.insert(ns.to_string());
    }

    /// Creates or replaces an `Opaque` secret (creating the namespace too).
    pub fn put_secret(&self, ns: &str, name: &str, data: &[(&str, &str)]) {
        let mut state = lock(&self.state);
        state.namespaces.insert(ns.to_string());
        let mut secret = Secret {
            metadata: ObjectMeta { name: Some(name.to_string()), ..ObjectMeta::default() },
            type_: Some("Opaque".to_string()),
            data: Some(
                data.iter().map(|(key, value)| (key.to_string(), ByteString(value.as_bytes().to_vec()))).collect(),
            ),
            ..Secret::default()
        };
        state.stamp(&mut secret.metadata, ns);
        state.store_secret(ns, secret);
    }

    /// The secret's data decoded (lossy UTF-8), or `None` when it does not exist.
    pub fn secret(&self, ns: &str, name: &str) -> Option<BTreeMap<String, String>> {
        let state = lock(&self.state);
        let secret = state.secrets.get(&(ns.to_string(), name.to_string()))?;
        Some(
            secret
                .data
                .iter()
                .flatten()
                .map(|(key, value)| (key.clone(), String::from_utf8_lossy(&value.0).into_owned()))
                .collect(),
        )
    }

    /// The secret's `type` and labels, or `None` when it does not exist.
    pub fn secret_object(&self, ns: &str, name: &str) -> Option<Secret> {
        lock(&self.state).secrets.get(&(ns.to_string(), name.to_string())).cloned()
    }

    /// Adds deployment `name` with `pods` running pods selected by labels
    /// `app=jupyterhub,component=NAME` (creating the namespace too); each pod
    /// has one container named `name` and its own scratch folder. Returns
    /// the pod names, e.g. `hub-7d4b9c8f6-bbbbb`.
    pub fn add_deployment(&self, ns: &str, name: &str, pods: usize) -> Vec<String> {
        lock(&self.state).add_deployment(ns, name, pods)
    }

    /// Adds a stand-alone running pod with these labels and one container
    /// `main`; returns its scratch folder.
    pub fn add_pod(&self, ns: &str, name: &str, labels: &[(&str, &str)]) -> PathBuf {
        let labels = labels.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        let mut state = lock(&self.state);
        state.add_pod(ns, name, labels, "main");
        state.pods[&(ns.to_string(), name.to_string())].dir.clone()
    }

    /// Sets a pod's phase, e.g. `Pending` or `Failed` (panics if the pod does not exist).
    pub fn set_pod_phase(&self, ns: &str, pod: &str, phase: &str) {
        let mut state = lock(&self.state);
        let entry = state
            .pods
            .get_mut(&(ns.to_string(), pod.to_string()))
            .unwrap_or_else(|| panic!("no pod `{pod}` in namespace `{ns}`"));
        if let Some(status) = entry.object.status.as_mut() {
            status.phase = Some(phase.to_string());
            if phase != "Running" {
                status.conditions = None;
            }
        }
    }

    /// The names of the pods of `deployment`, in name order.
    pub fn pods(&self, ns: &str, deployment: &str) -> Vec<String> {
        let prefix = format!("{deployment}-");
        lock(&self.state)
            .pods
            .keys()
            .filter(|(namespace, name)| namespace == ns && name.starts_with(&prefix))
            .map(|(_, name)| name.clone())
            .collect()
    }

    /// The scratch folder of a pod: the working directory of commands exec'd in it.
    pub fn pod_dir(&self, ns: &str, pod: &str) -> PathBuf {
        self.dir.path().join("pods").join(ns).join(pod)
    }

    /// The `kubectl.kubernetes.io/restartedAt` values of every patch of the
    /// deployment, oldest first.
    pub fn restarts(&self, ns: &str, deployment: &str) -> Vec<String> {
        lock(&self.state).restarts.get(&(ns.to_string(), deployment.to_string())).cloned().unwrap_or_default()
    }

    /// Every patch of the deployment (content type and body), oldest first.
    pub fn deployment_patches(&self, ns: &str, deployment: &str) -> Vec<DeploymentPatch> {
        lock(&self.state).patches.get(&(ns.to_string(), deployment.to_string())).cloned().unwrap_or_default()
    }

    /// How long a rollout takes after the pod template changes (default
    /// 300 ms); until then the deployment reports 0 updated replicas.
    pub fn set_rollout_delay(&self, delay: Duration) {
        lock(&self.state).rollout_delay = delay;
    }

    /// Sets environment variables for every command exec'd in `pod` (a
    /// hub image's `PYTHONPATH`, say); panics if the pod does not exist.
    pub fn set_pod_env(&self, ns: &str, pod: &str, env: &[(&str, &str)]) {
        let mut state = lock(&self.state);
        let entry = state
            .pods
            .get_mut(&(ns.to_string(), pod.to_string()))
            .unwrap_or_else(|| panic!("no pod `{pod}` in namespace `{ns}`"));
        entry.env = env.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
    }

    /// Breaks every later exec session once `lines` lines of stdout have
    /// reached the client: the process is killed and the connection
    /// dropped, with no exit status (a broken link mid-batch).
    pub fn break_exec_after_lines(&self, lines: usize) {
        lock(&self.state).exec_break_after_lines = Some(lines);
    }

    /// How many exec sessions were started.
    pub fn exec_count(&self) -> usize {
        lock(&self.state).exec_count
    }

    /// `METHOD /path?query` of every request so far, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }

    /// Answers `verb` (`get`, `list`, `create`, `update`, `patch`, `delete`)
    /// on `resource` (`secrets`, `deployments`, `pods`, `namespaces`,
    /// `pods/exec`) with 403 Forbidden, worded like RBAC. An exec is denied
    /// by `create` or `get` on `pods/exec`.
    pub fn deny(&self, verb: &str, resource: &str) {
        lock(&self.state).denied.insert((verb.to_string(), resource.to_string()));
    }

    /// Lifts every [`FakeCluster::deny`].
    pub fn allow_all(&self) {
        lock(&self.state).denied.clear();
    }
}

/// Accepts connections until the runtime stops.
async fn serve(listener: tokio::net::TcpListener, state: Shared, token: Arc<String>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| router::handle(state.clone(), token.clone(), req));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades().await;
        });
    }
}

/// Writes a kubeconfig with one cluster, user and context, all named
/// `context`, pointing at `server` with bearer `token`; it is the current
/// context, with default namespace `jupyterhub`.
pub fn write_kubeconfig(path: &Path, server: &str, token: &str, context: &str) {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: {server}
users:
- name: {context}
  user:
    token: {token}
contexts:
- name: {context}
  context:
    cluster: {context}
    user: {context}
    namespace: jupyterhub
current-context: {context}
"
    );
    std::fs::write(path, text).expect("write the kubeconfig");
}

/// A kubeconfig pointing at a port of 127.0.0.1 that nothing listens on.
pub fn unreachable_kubeconfig(path: &Path) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    write_kubeconfig(path, &format!("http://127.0.0.1:{port}"), "unused-token", CONTEXT);
}
