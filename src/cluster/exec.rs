//! Running a command in a pod, like `kubectl exec -i TARGET -- COMMAND`:
//! stdin is written and closed, stdout and stderr are collected, and the
//! exit code comes from the status channel.
//!
//! Over the WebSocket, the API server ends the session with a `Status`
//! object: `Success` for exit code 0; `Failure` with reason
//! `NonZeroExitCode` and a cause `{reason: "ExitCode", message: "N"}` for
//! any other exit code; any other `Failure` when the command could not run
//! at all (for example an executable missing from the image).
//!
//! Every session is bounded ([`ExecLimits`]: a timeout, a cap on stdout,
//! the tail of stderr), and [`Cluster::exec_bounded`] keeps what the
//! command printed before a break, so a caller can act on partial answers.
//! A refused upgrade loses its body in the client; the refusal's `Status`
//! is read again with a request that cannot start a process.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{AttachParams, GetParams};
use kube::Api;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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

/// How long an exec may run and how much it may print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecLimits {
    /// The whole session, from the upgrade to the exit status.
    pub timeout: Duration,
    /// Bytes of stdout kept; more ends the session.
    pub max_stdout: usize,
    /// Bytes of stderr kept (the last ones).
    pub max_stderr: usize,
}

impl Default for ExecLimits {
    /// One hour, 64 MiB of stdout, the last 64 KiB of stderr.
    fn default() -> Self {
        ExecLimits { timeout: Duration::from_secs(3600), max_stdout: 64 << 20, max_stderr: 64 << 10 }
    }
}

/// How an exec session that started ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEnd {
    /// The command exited with this code.
    Exited(i32),
    /// The command did not run (the API server's final status says why).
    NotRun(String),
    /// The connection broke.
    Broken(String),
    /// The connection closed without an exit status.
    NoStatus,
    /// The timeout passed first.
    TimedOut(Duration),
    /// The command printed more than the limit on this stream.
    TooMuchOutput(&'static str, usize),
}

impl std::fmt::Display for ExecEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecEnd::Exited(code) => write!(f, "the command exited with code {code}"),
            ExecEnd::NotRun(message) => write!(f, "{message}"),
            ExecEnd::Broken(message) => write!(f, "the connection broke: {message}"),
            ExecEnd::NoStatus => write!(f, "the connection closed without an exit status"),
            ExecEnd::TimedOut(limit) => write!(f, "no exit status within {}s (the timeout)", limit.as_secs()),
            ExecEnd::TooMuchOutput(stream, limit) => {
                write!(f, "the command printed more than {} MiB on {stream}", limit >> 20)
            }
        }
    }
}

/// What a started exec printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRun {
    /// The pod it ran in.
    pub pod: String,
    /// Stdout up to the end (at most [`ExecLimits::max_stdout`] bytes).
    pub stdout: Vec<u8>,
    /// The last [`ExecLimits::max_stderr`] bytes of stderr.
    pub stderr: Vec<u8>,
    /// How it ended.
    pub end: ExecEnd,
}

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
        let run = self.exec_bounded(ns, target, command, stdin, &ExecLimits::default()).await?;
        let code = match run.end {
            ExecEnd::Exited(code) => code,
            ended => {
                return Err(ClusterError::Exec { pod: run.pod, namespace: ns.to_string(), message: ended.to_string() })
            }
        };
        Ok(ExecOutput { stdout: run.stdout, stderr: run.stderr, code })
    }

    /// Like [`Cluster::exec`], but once the command has started nothing is
    /// lost: what it printed before the session broke, timed out or printed
    /// too much is returned with the way it ended. Errors are only the
    /// failures before the command ran (no pod, a refused request).
    pub async fn exec_bounded(
        &self,
        ns: &str,
        target: &str,
        command: &[String],
        stdin: &[u8],
        limits: &ExecLimits,
    ) -> Result<ExecRun, ClusterError> {
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
                // kube drops the body of a refused upgrade; ask again in a
                // way that can never start a process, to read the Status.
                let (reason, message) = match self.refusal_status(ns, &name).await {
                    Some(refusal) => refusal,
                    None => (
                        status.canonical_reason().unwrap_or("").to_string(),
                        format!("the API server refused the exec request with {status}"),
                    ),
                };
                if status.as_u16() == 403 {
                    return Err(ClusterError::ExecForbidden { pod: name.clone(), namespace: ns.to_string(), message });
                }
                return Err(self.status_error(&op, status.as_u16(), &reason, &message).await);
            }
            Err(error) => return Err(self.fail(&op, error).await),
        };
        let (Some(writer), Some(stdout), Some(stderr), Some(status)) =
            (process.stdin(), process.stdout(), process.stderr(), process.take_status())
        else {
            return Err(ClusterError::Exec {
                pod: name,
                namespace: ns.to_string(),
                message: "the client gave no stdin, stdout or stderr stream (this is a bug, please report it)"
                    .to_string(),
            });
        };
        let mut run = ExecRun { pod: name, stdout: Vec::new(), stderr: Vec::new(), end: ExecEnd::NoStatus };
        let deadline = tokio::time::sleep(limits.timeout);
        tokio::pin!(deadline);
        let ended = collect(writer, stdin, stdout, stderr, &mut run, limits, deadline.as_mut()).await;
        run.end = match ended {
            Some(end) => {
                // Stop listening; the session may still be open.
                process.abort();
                end
            }
            None => {
                let status = tokio::select! {
                    status = status => status,
                    _ = deadline.as_mut() => None,
                };
                match status {
                    Some(status) => {
                        let _ = tokio::time::timeout(Duration::from_secs(5), process.join()).await;
                        match exit_code(&status) {
                            Ok(code) => ExecEnd::Exited(code),
                            Err(message) => ExecEnd::NotRun(message),
                        }
                    }
                    None if deadline.is_elapsed() => {
                        process.abort();
                        ExecEnd::TimedOut(limits.timeout)
                    }
                    None => match tokio::time::timeout(Duration::from_secs(5), process.join()).await {
                        Ok(Err(error)) => ExecEnd::Broken(error.to_string()),
                        _ => ExecEnd::NoStatus,
                    },
                }
            }
        };
        Ok(run)
    }

    /// The `(reason, message)` of the API server's refusal of an exec into
    /// `pod`, read from its `Status` body. The request names no command and
    /// no stream, so even if it were allowed no process would start.
    async fn refusal_status(&self, ns: &str, pod: &str) -> Option<(String, String)> {
        // `.../pods/POD/exec` with no command and no stream.
        // Namespace and pod names are DNS labels: nothing to escape.
        let pods = format!("/api/v1/namespaces/{ns}/pods/{pod}");
        let mut request = kube::core::Request::new(pods).get("exec", &GetParams::default()).ok()?;
        let headers = request.headers_mut();
        headers.insert("connection", "Upgrade".parse().ok()?);
        headers.insert("upgrade", "websocket".parse().ok()?);
        headers.insert("sec-websocket-version", "13".parse().ok()?);
        headers.insert("sec-websocket-key", "amhjdGwtcmVmdXNhbC1wcm9iZQ==".parse().ok()?);
        headers.insert("sec-websocket-protocol", "v5.channel.k8s.io".parse().ok()?);
        let response = self.client.send(request.map(kube::client::Body::from)).await.ok()?;
        if response.status().as_u16() < 300 {
            return None;
        }
        let body = response.into_body().collect_bytes().await.ok()?;
        let limited = &body[..body.len().min(64 * 1024)];
        let status: Status = serde_json::from_slice(limited).ok()?;
        Some((status.reason.unwrap_or_default(), status.message?))
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

/// Feeds stdin while draining stdout and stderr (the client's buffers are
/// small, so doing one after the other could deadlock) until both outputs
/// end. `None` when they ended normally; else how the session ended. A
/// command that exits without reading all of stdin makes the write fail,
/// which is fine: kubectl ignores that too.
async fn collect(
    mut writer: impl AsyncWrite + Unpin,
    stdin: &[u8],
    mut stdout: impl AsyncRead + Unpin,
    mut stderr: impl AsyncRead + Unpin,
    run: &mut ExecRun,
    limits: &ExecLimits,
    mut deadline: std::pin::Pin<&mut tokio::time::Sleep>,
) -> Option<ExecEnd> {
    let feed = async move {
        let _ = writer.write_all(stdin).await;
        let _ = writer.shutdown().await;
    };
    tokio::pin!(feed);
    let (mut fed, mut out_done, mut err_done) = (false, false, false);
    let (mut out_buf, mut err_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    while !(out_done && err_done) {
        tokio::select! {
            _ = &mut feed, if !fed => fed = true,
            read = stdout.read(&mut out_buf), if !out_done => match read {
                Ok(0) => out_done = true,
                Ok(n) => {
                    if run.stdout.len() + n > limits.max_stdout {
                        return Some(ExecEnd::TooMuchOutput("stdout", limits.max_stdout));
                    }
                    run.stdout.extend_from_slice(&out_buf[..n]);
                }
                Err(error) => return Some(ExecEnd::Broken(format!("reading the output failed: {error}"))),
            },
            read = stderr.read(&mut err_buf), if !err_done => match read {
                Ok(0) => err_done = true,
                Ok(n) => {
                    // Keep the end of stderr: the last lines say what went wrong.
                    run.stderr.extend_from_slice(&err_buf[..n]);
                    if run.stderr.len() > limits.max_stderr {
                        let cut = run.stderr.len() - limits.max_stderr;
                        run.stderr.drain(..cut);
                    }
                }
                Err(error) => return Some(ExecEnd::Broken(format!("reading the output failed: {error}"))),
            },
            _ = deadline.as_mut() => return Some(ExecEnd::TimedOut(limits.timeout)),
        }
    }
    None
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
