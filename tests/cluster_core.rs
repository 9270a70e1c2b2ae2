//! The cluster core (`jhctl::cluster::Cluster`) against the fake
//! Kubernetes API server: secrets, rollout restart, pods, exec, and the
//! error for each way a request can fail.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jhctl::cluster::{Cluster, ClusterError, ADMIN_SECRET};

use crate::support::fake_k8s::{unreachable_kubeconfig, write_kubeconfig, FakeCluster};

const NS: &str = "jupyterhub";

/// A client of `k8s` through its kubeconfig and context.
async fn connect(k8s: &FakeCluster) -> Cluster {
    Cluster::from_kubeconfig(k8s.kubeconfig_path(), Some(k8s.context())).await.expect("connect to the fake cluster")
}

fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

#[tokio::test]
async fn reads_a_secret_and_the_admin_token() {
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, ADMIN_SECRET, &[("api-token", "abc123\n"), ("admin-password", "pw")]);
    let cluster = connect(&k8s).await;

    let secret = cluster.secret(NS, ADMIN_SECRET).await.unwrap();
    assert_eq!(secret, strings(&[("api-token", "abc123\n"), ("admin-password", "pw")]));
    assert_eq!(cluster.admin_token(NS).await.unwrap(), "abc123");
}

#[tokio::test]
async fn missing_token_key_names_the_secret_and_the_key() {
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, ADMIN_SECRET, &[("admin-password", "pw")]);
    let error = connect(&k8s).await.admin_token(NS).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "secret `jupyterhub-admin-credentials` in namespace `jupyterhub` has no key `api-token`; \
         add it, or delete the secret and create it again with `jhctl credentials create`"
    );
}

#[tokio::test]
async fn creates_a_secret_refuses_to_overwrite_then_overwrites() {
    let k8s = FakeCluster::start();
    k8s.add_namespace(NS);
    let cluster = connect(&k8s).await;
    let first = strings(&[("api-token", "one"), ("admin-password", "p1")]);
    let second = strings(&[("api-token", "two")]);

    cluster.create_secret(NS, ADMIN_SECRET, &first, false).await.unwrap();
    assert_eq!(k8s.secret(NS, ADMIN_SECRET), Some(first.clone()));
    let stored = k8s.secret_object(NS, ADMIN_SECRET).unwrap();
    assert_eq!(stored.type_.as_deref(), Some("Opaque"));

    let error = cluster.create_secret(NS, ADMIN_SECRET, &second, false).await.unwrap_err();
    assert!(matches!(error, ClusterError::AlreadyExists { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "secret `jupyterhub-admin-credentials` already exists in namespace `jupyterhub`; \
         ask to overwrite it, or delete it first with \
         `kubectl -n jupyterhub delete secret jupyterhub-admin-credentials`"
    );
    assert_eq!(k8s.secret(NS, ADMIN_SECRET), Some(first));

    cluster.create_secret(NS, ADMIN_SECRET, &second, true).await.unwrap();
    assert_eq!(k8s.secret(NS, ADMIN_SECRET), Some(second.clone()));
    assert_eq!(cluster.secret(NS, ADMIN_SECRET).await.unwrap(), second);
}

#[tokio::test]
async fn missing_secret_says_how_to_create_it() {
    let k8s = FakeCluster::start();
    k8s.add_namespace(NS);
    let cluster = connect(&k8s).await;

    let error = cluster.secret(NS, ADMIN_SECRET).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "secret `jupyterhub-admin-credentials` not found in namespace `jupyterhub`; \
         create it with `jhctl credentials create`"
    );
    let error = cluster.secret(NS, "other").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "secret `other` not found in namespace `jupyterhub`; \
         check the name with `kubectl -n jupyterhub get secrets`"
    );
}

#[tokio::test]
async fn missing_namespace_is_named() {
    let k8s = FakeCluster::start();
    k8s.add_namespace(NS);
    let cluster = connect(&k8s).await;
    let expected = "namespace `nope` does not exist; check `-n/--namespace` \
                    (`kubectl get namespaces` lists them)";

    let error = cluster.secret("nope", ADMIN_SECRET).await.unwrap_err();
    assert!(matches!(error, ClusterError::NamespaceNotFound { .. }), "{error:?}");
    assert_eq!(error.to_string(), expected);

    let data = strings(&[("api-token", "x")]);
    let error = cluster.create_secret("nope", ADMIN_SECRET, &data, false).await.unwrap_err();
    assert_eq!(error.to_string(), expected);

    let error = cluster.rollout_restart("nope", "hub").await.unwrap_err();
    assert_eq!(error.to_string(), expected);
}

#[tokio::test]
async fn rollout_restart_sends_what_kubectl_sends_and_waits() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 2);
    k8s.set_rollout_delay(Duration::from_millis(700));
    let cluster = connect(&k8s).await;

    let before = chrono::Utc::now() - chrono::Duration::seconds(2);
    cluster.rollout_restart(NS, "hub").await.unwrap();
    let restarts = k8s.restarts(NS, "hub");
    assert_eq!(restarts.len(), 1);
    let at = chrono::DateTime::parse_from_rfc3339(&restarts[0]).expect("RFC 3339");
    assert!(at >= before && at <= chrono::Utc::now(), "{at}");
    assert!(!restarts[0].contains('.'), "no fractional seconds: {}", restarts[0]);

    let patches = k8s.deployment_patches(NS, "hub");
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].content_type, "application/strategic-merge-patch+json");
    assert_eq!(
        patches[0].body,
        serde_json::json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": restarts[0]
        }}}}})
    );

    let started = Instant::now();
    cluster.wait_rollout(NS, "hub", Duration::from_secs(20)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "waited for the rollout");
}

#[tokio::test]
async fn wait_rollout_times_out_with_progress() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    k8s.set_rollout_delay(Duration::from_secs(3600));
    let cluster = connect(&k8s).await;

    cluster.rollout_restart(NS, "hub").await.unwrap();
    let error = cluster.wait_rollout(NS, "hub", Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "deployment `hub` in namespace `jupyterhub` did not finish rolling out within 1s \
         (0 of 1 replicas are updated); check its pods with `kubectl -n jupyterhub get pods`"
    );
}

#[tokio::test]
async fn missing_deployment_is_named() {
    let k8s = FakeCluster::start();
    k8s.add_namespace(NS);
    let cluster = connect(&k8s).await;
    let expected = "deployment `hub` not found in namespace `jupyterhub`; \
                    check the name with `kubectl -n jupyterhub get deployments`";

    let error = cluster.rollout_restart(NS, "hub").await.unwrap_err();
    assert!(matches!(error, ClusterError::NotFound { .. }), "{error:?}");
    assert_eq!(error.to_string(), expected);
    let error = cluster.wait_rollout(NS, "hub", Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(error.to_string(), expected);
    let error = cluster.deployment_pods(NS, "hub").await.unwrap_err();
    assert_eq!(error.to_string(), expected);
    let error = cluster.exec(NS, "deployment/hub", &args(&["true"]), b"").await.unwrap_err();
    assert_eq!(error.to_string(), expected);
}

#[tokio::test]
async fn deployment_pods_lists_running_pods_first() {
    let k8s = FakeCluster::start();
    let pods = k8s.add_deployment(NS, "hub", 3);
    k8s.add_deployment(NS, "proxy", 1);
    k8s.add_pod(NS, "stray", &[("app", "jupyterhub")]);
    k8s.set_pod_phase(NS, &pods[0], "Pending");
    let cluster = connect(&k8s).await;

    let listed = cluster.deployment_pods(NS, "hub").await.unwrap();
    assert_eq!(listed, vec![pods[1].clone(), pods[2].clone(), pods[0].clone()]);
    assert!(k8s.requests().iter().any(|request| request.contains("labelSelector=app%3Djupyterhub%2Ccomponent%3Dhub")));
}

#[tokio::test]
async fn exec_pipes_stdin_and_collects_output_and_exit_code() {
    let k8s = FakeCluster::start();
    let pods = k8s.add_deployment(NS, "hub", 1);
    let cluster = connect(&k8s).await;

    let command = args(&["sh", "-c", "cat; echo err >&2; exit 3"]);
    let output = cluster.exec(NS, "deployment/hub", &command, b"hello\nworld\n").await.unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hello\nworld\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "err\n");
    assert_eq!(output.code, 3);
    assert_eq!(k8s.exec_count(), 1);

    // The command runs in the pod's own folder; targets may name the pod.
    let command = args(&["sh", "-c", "echo made > here.txt"]);
    for target in [format!("pod/{}", pods[0]), pods[0].clone()] {
        let output = cluster.exec(NS, &target, &command, b"").await.unwrap();
        assert_eq!(output.code, 0, "{output:?}");
        assert!(output.stdout.is_empty() && output.stderr.is_empty());
    }
    let made = std::fs::read_to_string(k8s.pod_dir(NS, &pods[0]).join("here.txt")).unwrap();
    assert_eq!(made, "made\n");
    assert_eq!(k8s.exec_count(), 3);
}

#[tokio::test]
async fn exec_moves_a_megabyte_both_ways() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    let cluster = connect(&k8s).await;

    let input: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let output = cluster.exec(NS, "deployment/hub", &args(&["cat"]), &input).await.unwrap();
    assert_eq!(output.code, 0);
    assert_eq!(output.stdout.len(), input.len());
    assert!(output.stdout == input, "stdout differs from stdin");

    // A command that ignores its stdin still finishes.
    let output = cluster.exec(NS, "deployment/hub", &args(&["sh", "-c", "echo ignored"]), &input).await.unwrap();
    assert_eq!(output.stdout, b"ignored\n");
    assert_eq!(output.code, 0);
}

#[tokio::test]
async fn exec_of_a_missing_program_fails_with_the_runtime_message() {
    let k8s = FakeCluster::start();
    let pods = k8s.add_deployment(NS, "hub", 1);
    let cluster = connect(&k8s).await;

    let error = cluster.exec(NS, "deployment/hub", &args(&["no-such-program-jhctl"]), b"").await.unwrap_err();
    let message = error.to_string();
    let prefix = format!(
        "exec in pod `{}` of namespace `jupyterhub` failed: the command did not run: \
         failed to exec in container",
        pods[0]
    );
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.contains("no-such-program-jhctl"), "{message}");
}

#[tokio::test]
async fn exec_needs_a_running_pod_and_a_valid_target() {
    let k8s = FakeCluster::start();
    let pods = k8s.add_deployment(NS, "hub", 1);
    k8s.set_pod_phase(NS, &pods[0], "Pending");
    let cluster = connect(&k8s).await;
    let command = args(&["true"]);

    let error = cluster.exec(NS, "deployment/hub", &command, b"").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "deployment `hub` in namespace `jupyterhub` has no running pod; check it with \
         `kubectl -n jupyterhub get pods` and retry when a pod is running"
    );
    let error = cluster.exec(NS, &pods[0], &command, b"").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "pod `{}` in namespace `jupyterhub` is not running (phase `Pending`); \
             wait for it or pick another pod",
            pods[0]
        )
    );
    let error = cluster.exec(NS, "pod/ghost", &command, b"").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "pod `ghost` not found in namespace `jupyterhub`; \
         check the name with `kubectl -n jupyterhub get pods`"
    );
    let error = cluster.exec(NS, "service/hub", &command, b"").await.unwrap_err();
    assert_eq!(error.to_string(), "exec target `service/hub` is not `deployment/NAME`, `pod/NAME` or a pod name");
    assert_eq!(k8s.exec_count(), 0);
}

#[tokio::test]
async fn forbidden_keeps_the_api_reason() {
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, ADMIN_SECRET, &[("api-token", "abc")]);
    let pods = k8s.add_deployment(NS, "hub", 1);
    k8s.deny("get", "secrets");
    k8s.deny("patch", "deployments");
    k8s.deny("create", "pods/exec");
    let cluster = connect(&k8s).await;

    let error = cluster.secret(NS, ADMIN_SECRET).await.unwrap_err();
    assert!(matches!(error, ClusterError::Forbidden { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "no permission to get secret `jupyterhub-admin-credentials` in namespace `jupyterhub`: \
         secrets \"jupyterhub-admin-credentials\" is forbidden: User \
         \"system:serviceaccount:jupyterhub:jhctl-test\" cannot get resource \"secrets\" in API \
         group \"\" in the namespace \"jupyterhub\"; ask a cluster admin for access or choose \
         another context with `--context`"
    );

    let error = cluster.rollout_restart(NS, "hub").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "no permission to patch deployment `hub` in namespace `jupyterhub`: deployments \"hub\" \
         is forbidden: User \"system:serviceaccount:jupyterhub:jhctl-test\" cannot patch resource \
         \"deployments\" in API group \"apps\" in the namespace \"jupyterhub\"; ask a cluster \
         admin for access or choose another context with `--context`"
    );
    assert!(k8s.restarts(NS, "hub").is_empty());

    let error = cluster.exec(NS, "deployment/hub", &args(&["true"]), b"").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "no permission to exec in pod `{0}` of namespace `jupyterhub`: pods \"{0}\" is forbidden: \
             User \"system:serviceaccount:jupyterhub:jhctl-test\" cannot create resource \"pods/exec\" in API \
             group \"\" in the namespace \"jupyterhub\"; this needs RBAC `create` on `pods/exec` in namespace \
             `jupyterhub` (check with `kubectl auth can-i create pods/exec -n jupyterhub`): ask a cluster admin \
             for it, or choose another context with `--context`",
            pods[0]
        )
    );
    assert_eq!(k8s.exec_count(), 0);
}

#[tokio::test]
async fn unreachable_server_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    unreachable_kubeconfig(&path);
    let cluster = Cluster::from_kubeconfig(&path, None).await.unwrap();
    let url = cluster.url().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let error = cluster.secret(NS, ADMIN_SECRET).await.unwrap_err();
    assert!(matches!(error, ClusterError::Unreachable { .. }), "{error:?}");
    let message = error.to_string();
    assert_eq!(
        message,
        format!(
            "cannot reach the Kubernetes API server at {url}: tcp connect error: Connection \
             refused (os error 111); check that the cluster is running and that the kubeconfig \
             points at it"
        )
    );
}

#[tokio::test]
async fn wrong_credentials_and_unknown_context_are_named() {
    let k8s = FakeCluster::start();
    k8s.add_namespace(NS);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    write_kubeconfig(&path, &k8s.url(), "wrong-token", "fake");

    let cluster = Cluster::from_kubeconfig(&path, None).await.unwrap();
    let error = cluster.secret(NS, ADMIN_SECRET).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the Kubernetes API server at {} rejected the credentials: Unauthorized; log in again \
             or choose another context with `--context`",
            k8s.url()
        )
    );

    let error = Cluster::from_kubeconfig(k8s.kubeconfig_path(), Some("prod")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "kube context `prod` not found in the kubeconfig; available contexts: fake; \
         pick one with `--context`"
    );

    let error = Cluster::from_kubeconfig(&dir.path().join("absent"), None).await.unwrap_err();
    assert!(matches!(error, ClusterError::KubeconfigNotFound { .. }), "{error:?}");
}

/// kube-rs always offers v5; a client that only speaks v4 (older kubectl)
/// gets v4 and the same frames.
#[tokio::test]
async fn fake_exec_speaks_v4_too() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let k8s = FakeCluster::start();
    let pods = k8s.add_deployment(NS, "hub", 1);
    let url = format!(
        "{}/api/v1/namespaces/{NS}/pods/{}/exec?command=sh&command=-c&command=echo+hi%3B+exit+2&stdout=true&stderr=true",
        k8s.url().replacen("http", "ws", 1),
        pods[0]
    );
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert("Authorization", format!("Bearer {}", k8s.token()).parse().unwrap());
    headers.insert("Sec-WebSocket-Protocol", "v4.channel.k8s.io".parse().unwrap());
    let stream = tokio::net::TcpStream::connect(k8s.url().trim_start_matches("http://")).await.unwrap();
    let (mut socket, response) = tokio_tungstenite::client_async(request, stream).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "v4.channel.k8s.io");

    let mut frames = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Binary(data) = message {
            frames.push(data.to_vec());
        }
    }
    assert_eq!(frames[0], b"\x01hi\n");
    let last = frames.last().unwrap();
    assert_eq!(last[0], 3);
    let status: serde_json::Value = serde_json::from_slice(&last[1..]).unwrap();
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"], serde_json::json!([{"reason": "ExitCode", "message": "2"}]));
}
