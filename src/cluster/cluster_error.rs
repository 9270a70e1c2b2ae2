//! Everything that can go wrong when jhctl talks to Kubernetes, each case
//! worded so the user knows which object was involved and what to do next.
//!
//! The Kubernetes API's own explanation (the `message` of its `Status`) is
//! kept in every API error: RBAC denials in particular name the user and the
//! missing permission there.

use std::time::Duration;

use kube::config::{InClusterError, KubeconfigError};

/// An error from the cluster layer.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Neither a kubeconfig file nor an in-cluster service account was found.
    #[error(
        "no kubeconfig found ({searched}) and not running in a pod ({}); \
         set KUBECONFIG or create ~/.kube/config (e.g. with your cloud's `get-credentials` command)",
        in_cluster_reason(.in_cluster)
    )]
    NoConfig {
        /// Where a kubeconfig was looked for, e.g. `KUBECONFIG=/a, ~/.kube/config`.
        searched: String,
        /// Why the in-cluster configuration could not be used.
        #[source]
        in_cluster: InClusterError,
    },

    /// A context was asked for but there is no kubeconfig to find it in.
    #[error(
        "kube context `{context}` was given but no kubeconfig was found ({searched}); \
         set KUBECONFIG or drop `--context`"
    )]
    NoConfigForContext {
        /// The context asked for.
        context: String,
        /// Where a kubeconfig was looked for.
        searched: String,
    },

    /// The kubeconfig has no context of the name asked for.
    #[error(
        "kube context `{context}` not found in the kubeconfig; available contexts: {available}; \
         pick one with `--context`"
    )]
    ContextNotFound {
        /// The context asked for.
        context: String,
        /// The contexts the kubeconfig does have, comma-separated.
        available: String,
    },

    /// A kubeconfig was found but cannot be used, and the in-cluster
    /// configuration failed too.
    #[error(
        "cannot use the kubeconfig: {kubeconfig}; the in-cluster configuration failed too \
         ({}); fix the kubeconfig or choose another one with KUBECONFIG",
        in_cluster_reason(.in_cluster)
    )]
    BadConfig {
        /// What is wrong with the kubeconfig.
        #[source]
        kubeconfig: KubeconfigError,
        /// Why the in-cluster configuration could not be used.
        in_cluster: InClusterError,
    },

    /// A kubeconfig cannot be used and the in-cluster configuration is not
    /// an option (a context was asked for, or one file was named).
    #[error("cannot use the kubeconfig: {source}; fix it or choose another one with KUBECONFIG")]
    BadKubeconfig {
        /// What is wrong with the kubeconfig.
        #[source]
        source: KubeconfigError,
    },

    /// A kubeconfig file named explicitly does not exist.
    #[error("kubeconfig `{path}` not found; check the path")]
    KubeconfigNotFound {
        /// The path given.
        path: String,
    },

    /// The configuration was read but no client could be built from it
    /// (for example an unreadable certificate).
    #[error(
        "cannot set up a Kubernetes client for {url}: {source}; check the kubeconfig's certificates and credentials"
    )]
    Client {
        /// The API server's URL.
        url: String,
        /// What the client reported.
        #[source]
        source: Box<kube::Error>,
    },

    /// The API server did not answer: connection refused, DNS failure,
    /// timeout or TLS failure.
    #[error(
        "cannot reach the Kubernetes API server at {url}: {}; check that the cluster is \
         running and that the kubeconfig points at it",
        root_cause(.source)
    )]
    Unreachable {
        /// The API server's URL.
        url: String,
        /// The transport error.
        #[source]
        source: Box<kube::Error>,
    },

    /// The API server rejected the credentials (HTTP 401).
    #[error(
        "the Kubernetes API server at {url} rejected the credentials: {message}; log in again \
         or choose another context with `--context`"
    )]
    Unauthorized {
        /// The API server's URL.
        url: String,
        /// The API's own message.
        message: String,
    },

    /// RBAC denied the request (HTTP 403).
    #[error(
        "no permission to {verb} {kind} `{name}` in namespace `{namespace}`: {message}; \
         ask a cluster admin for access or choose another context with `--context`"
    )]
    Forbidden {
        /// What was attempted: `get`, `list`, `create`, `update`, `patch`.
        verb: &'static str,
        /// The kind of object, e.g. `secret` or `pods/exec`.
        kind: &'static str,
        /// The object's name (or `*` for a list).
        name: String,
        /// The namespace.
        namespace: String,
        /// The API's own message, e.g. `secrets "x" is forbidden: User ... cannot get ...`.
        message: String,
    },

    /// The namespace does not exist.
    #[error(
        "namespace `{namespace}` does not exist; check `-n/--namespace` \
         (`kubectl get namespaces` lists them)"
    )]
    NamespaceNotFound {
        /// The namespace asked for.
        namespace: String,
    },

    /// The object does not exist in an existing namespace (HTTP 404).
    #[error("{kind} `{name}` not found in namespace `{namespace}`; {fix}")]
    NotFound {
        /// The kind of object, e.g. `secret`.
        kind: &'static str,
        /// The object's name.
        name: String,
        /// The namespace.
        namespace: String,
        /// What to do about it.
        fix: String,
    },

    /// A secret to be created exists already and overwriting was not asked for.
    #[error(
        "secret `{name}` already exists in namespace `{namespace}`; ask to overwrite it, \
         or delete it first with `kubectl -n {namespace} delete secret {name}`"
    )]
    AlreadyExists {
        /// The secret's name.
        name: String,
        /// The namespace.
        namespace: String,
    },

    /// A secret lacks a key that jhctl needs.
    #[error("secret `{name}` in namespace `{namespace}` has no key `{key}`; {fix}")]
    MissingKey {
        /// The secret's name.
        name: String,
        /// The namespace.
        namespace: String,
        /// The missing key.
        key: String,
        /// What to do about it.
        fix: String,
    },

    /// Any other refusal by the API server.
    #[error("cannot {verb} {kind} `{name}` in namespace `{namespace}`: {message}")]
    Api {
        /// What was attempted.
        verb: &'static str,
        /// The kind of object.
        kind: &'static str,
        /// The object's name.
        name: String,
        /// The namespace.
        namespace: String,
        /// The HTTP status code.
        code: u16,
        /// The API's own message, followed by the code and the API's
        /// machine-readable reason, e.g. `... (409 Conflict)`.
        message: String,
    },

    /// The API server's answer could not be understood.
    #[error(
        "cannot {verb} {kind} `{name}` in namespace `{namespace}`: unexpected answer from the API server: {source}"
    )]
    BadResponse {
        /// What was attempted.
        verb: &'static str,
        /// The kind of object.
        kind: &'static str,
        /// The object's name.
        name: String,
        /// The namespace.
        namespace: String,
        /// The decoding or protocol error.
        #[source]
        source: Box<kube::Error>,
    },

    /// A rollout did not finish in time.
    #[error(
        "deployment `{name}` in namespace `{namespace}` did not finish rolling out within {}s \
         ({progress}); check its pods with `kubectl -n {namespace} get pods`",
        timeout.as_secs()
    )]
    RolloutTimeout {
        /// The deployment.
        name: String,
        /// The namespace.
        namespace: String,
        /// How long jhctl waited.
        timeout: Duration,
        /// The last state seen, e.g. `1 of 2 updated replicas are available`.
        progress: String,
    },

    /// The deployment reported that its rollout failed (progress deadline exceeded).
    #[error(
        "deployment `{name}` in namespace `{namespace}` failed to roll out: {message}; \
         check its pods with `kubectl -n {namespace} describe deployment {name}`"
    )]
    RolloutFailed {
        /// The deployment.
        name: String,
        /// The namespace.
        namespace: String,
        /// The deployment condition's message.
        message: String,
    },

    /// An exec target is not `deployment/NAME`, `pod/NAME` or a pod name.
    #[error("exec target `{target}` is not `deployment/NAME`, `pod/NAME` or a pod name")]
    BadTarget {
        /// The target as given.
        target: String,
    },

    /// A deployment has no running pod to exec into.
    #[error(
        "deployment `{name}` in namespace `{namespace}` has no running pod; check it with \
         `kubectl -n {namespace} get pods` and retry when a pod is running"
    )]
    NoRunningPod {
        /// The deployment.
        name: String,
        /// The namespace.
        namespace: String,
    },

    /// A pod named for exec is not running.
    #[error(
        "pod `{name}` in namespace `{namespace}` is not running (phase `{phase}`); \
         wait for it or pick another pod"
    )]
    PodNotRunning {
        /// The pod.
        name: String,
        /// The namespace.
        namespace: String,
        /// The pod's phase, e.g. `Pending`.
        phase: String,
    },

    /// RBAC refused the exec: `create` on `pods/exec` is missing.
    #[error(
        "no permission to exec in pod `{pod}` of namespace `{namespace}`: {message}; this needs RBAC \
         `create` on `pods/exec` in namespace `{namespace}` (check with `kubectl auth can-i create \
         pods/exec -n {namespace}`): ask a cluster admin for it, or choose another context with `--context`"
    )]
    ExecForbidden {
        /// The pod.
        pod: String,
        /// The namespace.
        namespace: String,
        /// The API server's own message, e.g. `pods "hub-1" is forbidden: User ... cannot create resource "pods/exec" ...`.
        message: String,
    },

    /// The exec session failed: the command could not be started, the
    /// WebSocket broke, or no exit status arrived.
    #[error("exec in pod `{pod}` of namespace `{namespace}` failed: {message}")]
    Exec {
        /// The pod.
        pod: String,
        /// The namespace.
        namespace: String,
        /// What went wrong, with the API's own message where there is one.
        message: String,
    },
}

/// Why the in-cluster configuration failed, in words for a user.
fn in_cluster_reason(error: &InClusterError) -> String {
    match error {
        InClusterError::ReadEnvironmentVariable(_) => "KUBERNETES_SERVICE_HOST is not set".to_string(),
        other => other.to_string(),
    }
}

/// The innermost two causes of a transport error, e.g. `tcp connect error:
/// Connection refused (os error 111)`; the outer layers only repeat
/// "client error".
fn root_cause(error: &kube::Error) -> String {
    let top = error.to_string();
    let top = ["ServiceError: ", "HyperError: "]
        .iter()
        .find_map(|prefix| top.strip_prefix(prefix))
        .unwrap_or(&top)
        .to_string();
    let mut chain = vec![top];
    let mut next = std::error::Error::source(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !chain.last().is_some_and(|last| last.contains(&text)) {
            chain.push(text);
        }
        next = cause.source();
    }
    let keep = chain.len().min(2);
    chain.split_off(chain.len() - keep).join(": ")
}

/// What a request was doing, to name the object in an error.
#[derive(Debug, Clone)]
pub(crate) struct Op<'a> {
    /// `get`, `list`, `create`, `update`, `patch`.
    pub verb: &'static str,
    /// The kind of object, singular (`secret`, `deployment`, `pod`).
    pub kind: &'static str,
    /// The object's name (`*` for a list).
    pub name: &'a str,
    /// The namespace.
    pub namespace: &'a str,
}

impl ClusterError {
    /// An API refusal that is neither 401, 403, 404 nor a transport error.
    pub(crate) fn api(op: &Op<'_>, code: u16, reason: &str, message: &str) -> Self {
        ClusterError::Api {
            verb: op.verb,
            kind: op.kind,
            name: op.name.to_string(),
            namespace: op.namespace.to_string(),
            code,
            message: format!("{message} ({code} {reason})"),
        }
    }

    /// A 403 for this operation.
    pub(crate) fn forbidden(op: &Op<'_>, message: &str) -> Self {
        ClusterError::Forbidden {
            verb: op.verb,
            kind: op.kind,
            name: op.name.to_string(),
            namespace: op.namespace.to_string(),
            message: message.to_string(),
        }
    }
}
