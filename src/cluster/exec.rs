//! Running a command in a pod, like `kubectl exec -i TARGET -- COMMAND`:
//! stdin is written and closed, stdout and stderr are collected, and the
//! exit code comes from the status channel.
//!
//! Over the WebSocket, the API server ends the session with a `Status`
//! object: `Success` for exit code 0; `Failure` with reason
//! `NonZeroExitCode` and a cause `{reason: "ExitCode", message: "N"}` for
//! any other exit code; any other `Failure` when the command could not run
//! at all (for example an executable missing from the image).

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::AttachParams;
use kube::Api;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::cluster_error::Op;
use super::pods::{is_running, phase};
use super::{Cluster, ClusterError};

/// What an exec'd command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Everything the command wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything the command wrote to stderr.
    pub stderr: Vec<u8>,
    /// The exit code (0 on success).
    pub code: i32,
}

/// Buffer between the WebSocket task and this module, per stream.
const BUFFER: usize = 64 * 1024;

/// The annotation naming the container `kubectl exec` picks by default.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// Where to exec, as given by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExecTarget {
    /// A running pod of this deployment.
    Deployment(String),
    /// This pod.
    Pod(String),
}

impl ExecTarget {
    /// Parses `deployment/NAME` (also `deploy/`, `deployments/`),
    /// `pod/NAME` (also `po/`, `pods/`) or a bare pod name.
    pub(crate) fn parse(target: &str) -> Result<ExecTarget, ClusterError> {
        let bad = || ClusterError::BadTarget { target: target.to_string() };
        let target_trimmed = target.trim();
        let parsed = match target_trimmed.split_once('/') {
            None => ExecTarget::Pod(target_trimmed.to_string()),
            Some((kind, name)) => match kind {
                "deployment" | "deployments" | "deploy" => ExecTarget::Deployment(name.to_string()),
                "pod" | "pods" | "po" => ExecTarget::Pod(name.to_string()),
                _ => return Err(bad()),
            },
        };
        match &parsed {
            ExecTarget::Deployment(name) | ExecTarget::Pod(name) if name.is_empty() || name.contains('/') => Err(bad()),
            _ => Ok(parsed),
        }
    }
}

impl Cluster {
    /// Runs `command` in `target` (`deployment/NAME`, `pod/NAME` or a bare
    /// pod name) in namespace `ns`, writes `stdin` to it and closes it, and
    /// returns its stdout, stderr and exit code. For a deployment the first
    /// running pod is used (ready pods first); a pod with several containers
    /// uses its `kubectl.kubernetes.io/default-container` or else its first
    /// container.
    ///
    /// A non-zero exit code is not an error; failing to start the command,
    /// a missing or non-running pod, and a refused request are.
    pub async fn exec(
        &self,
        ns: &str,
        target: &str,
        command: &[String],
        stdin: &[u8],
    ) -> Result<ExecOutput, ClusterError> {
        let pod = self.exec_pod(ns, &ExecTarget::parse(target)?).await?;
        let name = pod.metadata.name.clone().unwrap_or_default();
        let params = AttachParams {
            container: container(&pod),
            stdin: true,
            stdout: true,
            stderr: true,
            tty: false,
            max_stdin_buf_size: Some(BUFFER),
            max_stdout_buf_size: Some(BUFFER),
            max_stderr_buf_size: Some(BUFFER),
        };
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let op = Op { verb: "create", kind: "pods/exec", name: &name, namespace: ns };
        let mut process = match api.exec(&name, command.to_vec(), &params).await {
            Ok(process) => process,
            Err(kube::Error::UpgradeConnection(kube::client::UpgradeConnectionError::ProtocolSwitch(status))) => {
                // kube drops the body of a refused upgrade; only the status is left.
                let message = format!("the API server refused the exec request with {status}");
                let reason = status.canonical_reason().unwrap_or("");
                return Err(self.status_error(&op, status.as_u16(), reason, &message).await);
            }
            Err(error) => return Err(self.fail(&op, error).await),
        };
        let exec_error = |message: String| ClusterError::Exec { pod: name.clone(), namespace: ns.to_string(), message };
        let (Some(mut writer), Some(stdout), Some(stderr), Some(status)) =
            (process.stdin(), process.stdout(), process.stderr(), process.take_status())
        else {
            return Err(exec_error(
                "the client gave no stdin, stdout or stderr stream (this is a bug, please report it)".to_string(),
            ));
        };
        // Feed stdin while draining stdout and stderr: the client's buffers
        // are small, so doing one after the other could deadlock. A command
        // that exits without reading all of stdin makes the write fail,
        // which is fine: kubectl ignores that too.
        let feed = async move {
            let _ = writer.write_all(stdin).await;
            let _ = writer.shutdown().await;
            drop(writer);
        };
        let (_, stdout, stderr) = tokio::join!(feed, read_all(stdout), read_all(stderr));
        let status = status.await;
        let joined = process.join().await;
        let (stdout, stderr) = match (stdout, stderr) {
            (Ok(stdout), Ok(stderr)) => (stdout, stderr),
            (Err(error), _) | (_, Err(error)) => return Err(exec_error(format!("reading the output failed: {error}"))),
        };
        let code = match status {
            Some(status) => exit_code(&status).map_err(exec_error)?,
            None => {
                let why = match joined {
                    Err(error) => format!("the connection broke: {error}"),
                    Ok(()) => "the connection closed without an exit status".to_string(),
                };
                return Err(exec_error(why));
            }
        };
        Ok(ExecOutput { stdout, stderr, code })
    }

    /// The pod to exec into, checked to be running.
    async fn exec_pod(&self, ns: &str, target: &ExecTarget) -> Result<Pod, ClusterError> {
        match target {
            ExecTarget::Deployment(name) => self
                .deployment_pod_objects(ns, name)
                .await?
                .into_iter()
                .find(is_running)
                .ok_or_else(|| ClusterError::NoRunningPod { name: name.clone(), namespace: ns.to_string() }),
            ExecTarget::Pod(name) => {
                let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
                let pod = match api.get(name).await {
                    Ok(pod) => pod,
                    Err(error) => {
                        let op = Op { verb: "get", kind: "pod", name, namespace: ns };
                        return Err(self.fail(&op, error).await);
                    }
                };
                if is_running(&pod) {
                    Ok(pod)
                } else {
                    Err(ClusterError::PodNotRunning {
                        name: name.clone(),
                        namespace: ns.to_string(),
                        phase: phase(&pod),
                    })
                }
            }
        }
    }
}

/// The container to exec into when the pod has several; `None` lets the
/// API server pick the only one.
fn container(pod: &Pod) -> Option<String> {
    let containers = &pod.spec.as_ref()?.containers;
    if containers.len() < 2 {
        return None;
    }
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(DEFAULT_CONTAINER).cloned())
        .or_else(|| containers.first().map(|container| container.name.clone()))
}

/// Reads a stream to its end.
async fn read_all(mut reader: impl AsyncRead + Unpin) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await?;
    Ok(out)
}

/// The exit code in a final exec `Status`, or the reason the command did not run.
fn exit_code(status: &Status) -> Result<i32, String> {
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let cause = status
            .details
            .as_ref()
            .and_then(|details| details.causes.as_ref())
            .and_then(|causes| causes.iter().find(|cause| cause.reason.as_deref() == Some("ExitCode")))
            .and_then(|cause| cause.message.as_deref());
        return match cause.map(|message| message.trim().parse::<i32>()) {
            Some(Ok(code)) => Ok(code),
            _ => Err(format!(
                "the command failed but its exit code is missing: {}",
                status.message.as_deref().unwrap_or("no message")
            )),
        };
    }
    Err(format!("the command did not run: {}", status.message.as_deref().unwrap_or("no message from the API server")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    #[test]
    fn targets() {
        assert_eq!(ExecTarget::parse("deployment/hub").unwrap(), ExecTarget::Deployment("hub".to_string()));
        assert_eq!(ExecTarget::parse("deploy/hub").unwrap(), ExecTarget::Deployment("hub".to_string()));
        assert_eq!(ExecTarget::parse("pod/hub-1").unwrap(), ExecTarget::Pod("hub-1".to_string()));
        assert_eq!(ExecTarget::parse("hub-1").unwrap(), ExecTarget::Pod("hub-1".to_string()));
        assert!(ExecTarget::parse("service/hub").is_err());
        assert!(ExecTarget::parse("pod/").is_err());
        assert!(ExecTarget::parse("pod/a/b").is_err());
    }

    #[test]
    fn exit_codes() {
        let success = Status { status: Some("Success".to_string()), ..Status::default() };
        assert_eq!(exit_code(&success), Ok(0));
        let failed = Status {
            status: Some("Failure".to_string()),
            reason: Some("NonZeroExitCode".to_string()),
            message: Some("command terminated with non-zero exit code".to_string()),
            details: Some(StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".to_string()),
                    message: Some("3".to_string()),
                    field: None,
                }]),
                ..StatusDetails::default()
            }),
            ..Status::default()
        };
        assert_eq!(exit_code(&failed), Ok(3));
        let internal = Status {
            status: Some("Failure".to_string()),
            reason: Some("InternalError".to_string()),
            message: Some("executable file not found".to_string()),
            ..Status::default()
        };
        assert!(exit_code(&internal).unwrap_err().contains("executable file not found"));
    }
}
