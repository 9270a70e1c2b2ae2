//! `pods/NAME/exec` over WebSocket with the `v5.channel.k8s.io` and
//! `v4.channel.k8s.io` channel protocols, running the command as a local
//! process in the pod's scratch folder.
//!
//! Every binary frame starts with a channel byte: 0 stdin (client to
//! server), 1 stdout, 2 stderr, 3 the final `Status` (JSON), 4 resize; v5
//! adds 255, "close channel N" (`[255, 0]` closes stdin). With v4 the
//! client closes the whole WebSocket to end stdin.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{header, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStdin, Command};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::router::{lock, status, Reply, Shared};

/// The channel protocols the fake speaks, best first.
const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// Where and how the command runs.
struct Pod {
    /// Working directory.
    dir: PathBuf,
    /// Extra environment.
    env: Vec<(String, String)>,
    /// Break the session after this many stdout lines.
    break_after: Option<usize>,
}

/// What the client asked to attach.
struct Streams {
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

/// Answers an exec request: checks it, switches to WebSocket and spawns the session.
pub fn start(shared: &Shared, req: &mut Request<Incoming>, ns: &str, pod: &str, query: &[(String, String)]) -> Reply {
    let flag = |name: &str| query.iter().any(|(key, value)| key == name && (value == "true" || value == "1"));
    let command: Vec<String> =
        query.iter().filter(|(key, _)| key == "command").map(|(_, value)| value.clone()).collect();
    let streams = Streams { stdin: flag("stdin"), stdout: flag("stdout"), stderr: flag("stderr") };

    let (dir, env, break_after) = {
        let state = lock(shared);
        let Some(entry) = state.pods.get(&(ns.to_string(), pod.to_string())) else {
            return status(
                404,
                "NotFound",
                &format!("pods \"{pod}\" not found"),
                Some(json!({"name": pod, "kind": "pods"})),
            );
        };
        let phase = entry.object.status.as_ref().and_then(|status| status.phase.clone()).unwrap_or_default();
        if phase != "Running" {
            return status(
                400,
                "BadRequest",
                &format!("unable to upgrade connection: pod {pod} is not running (phase {phase})"),
                None,
            );
        }
        (entry.dir.clone(), entry.env.clone(), state.exec_break_after_lines)
    };
    if command.is_empty() {
        return status(400, "BadRequest", "you must specify at least 1 command", None);
    }
    if !streams.stdin && !streams.stdout && !streams.stderr {
        return status(400, "BadRequest", "you must specify at least 1 of stdin, stdout, stderr", None);
    }

    let headers = req.headers();
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return status(400, "BadRequest", "Upgrade request required", None);
    };
    if !upgrade {
        return status(400, "BadRequest", "Upgrade request required", None);
    }
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|protocol| protocol.trim().to_string())
        .collect();
    let Some(protocol) = PROTOCOLS.iter().find(|protocol| offered.iter().any(|offer| offer == *protocol)) else {
        return status(
            400,
            "BadRequest",
            &format!("none of the offered subprotocols {offered:?} is supported; the fake speaks {PROTOCOLS:?}"),
            None,
        );
    };
    let v5 = *protocol == PROTOCOLS[0];

    lock(shared).exec_count += 1;
    let on_upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            let pod = Pod { dir, env, break_after };
            session(socket, v5, command, pod, streams).await;
        }
    });

    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, derive_accept_key(key.as_bytes()))
        .header(header::SEC_WEBSOCKET_PROTOCOL, *protocol)
        .body(Default::default())
        .expect("valid response")
}

/// One exec session: runs the process and relays the channels.
async fn session<S>(socket: WebSocketStream<S>, v5: bool, command: Vec<String>, pod: Pod, streams: Streams)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut incoming) = socket.split();
    let piped = |on: bool| if on { Stdio::piped() } else { Stdio::null() };
    let dir = pod.dir;
    let spawned = Command::new(&command[0])
        .args(&command[1..])
        .current_dir(&dir)
        .env("HOSTNAME", dir.file_name().unwrap_or_default())
        .envs(pod.env)
        .stdin(piped(streams.stdin))
        .stdout(piped(streams.stdout))
        .stderr(piped(streams.stderr))
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            // What containerd reports for a missing executable.
            let message = format!(
                "failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: \
                 unable to start container process: exec: \"{}\": {error}: unknown",
                command[0]
            );
            let body = json!({"metadata": {}, "status": "Failure", "message": message,
                              "reason": "InternalError", "details": {"causes": [{"message": message}]},
                              "code": 500});
            let _ = sink.send(frame(3, body.to_string().as_bytes())).await;
            let _ = sink.close().await;
            return;
        }
    };

    // Client to process: stdin frames, the v5 close signal, or the end of the socket.
    let mut stdin = child.stdin.take();
    let mut reader = tokio::spawn(async move {
        while let Some(message) = incoming.next().await {
            match message {
                Ok(Message::Binary(data)) if !data.is_empty() => match data[0] {
                    0 => {
                        if let Some(pipe) = stdin.as_mut() {
                            if pipe.write_all(&data[1..]).await.is_err() {
                                stdin = None;
                            }
                        }
                    }
                    255 if v5 && data.get(1) == Some(&0) => close_stdin(&mut stdin).await,
                    _ => {}
                },
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        close_stdin(&mut stdin).await;
    });

    // Process to client: stdout and stderr in the order they arrive.
    let (tx, mut rx) = mpsc::channel::<Message>(16);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(pump(stdout, 1, tx.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(pump(stderr, 2, tx.clone()));
    }
    drop(tx);
    let mut connected = true;
    let mut lines_left = pod.break_after;
    while let Some(message) = rx.recv().await {
        if let (Some(left), Message::Binary(data)) = (lines_left.as_mut(), &message) {
            let newlines: Vec<usize> =
                data.iter().enumerate().skip(1).filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
            if data[0] == 1 && newlines.len() >= *left {
                // Forward up to the last allowed line, then break the session.
                if *left > 0 {
                    let _ = sink.send(frame(1, &data[1..=newlines[*left - 1]])).await;
                }
                let _ = child.start_kill();
                let _ = child.wait().await;
                reader.abort();
                return;
            }
            if data[0] == 1 {
                *left -= newlines.len();
            }
        }
        if connected && sink.send(message).await.is_err() {
            connected = false;
        }
    }

    let exit = child.wait().await;
    let code = match exit {
        Ok(exit) => exit.code().unwrap_or_else(|| 128 + exit.signal().unwrap_or(0)),
        Err(_) => 1,
    };
    if connected {
        let _ = sink.send(frame(3, exit_status(&command, code).to_string().as_bytes())).await;
        let _ = sink.close().await;
    }
    // Keep reading (and discarding stdin) until the client hangs up: closing
    // a socket with unread data makes the kernel reset the connection, and
    // the client could lose the status frame.
    if tokio::time::timeout(Duration::from_secs(30), &mut reader).await.is_err() {
        reader.abort();
    }
}

/// Closes the process's stdin.
async fn close_stdin(stdin: &mut Option<ChildStdin>) {
    if let Some(mut pipe) = stdin.take() {
        let _ = pipe.shutdown().await;
    }
}

/// Forwards one output stream as frames on `channel`.
async fn pump(mut output: impl AsyncRead + Unpin, channel: u8, tx: mpsc::Sender<Message>) {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        match output.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send(frame(channel, &buffer[..n])).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// A binary frame on `channel`.
fn frame(channel: u8, payload: &[u8]) -> Message {
    let mut data = Vec::with_capacity(payload.len() + 1);
    data.push(channel);
    data.extend_from_slice(payload);
    Message::binary(data)
}

/// The final `Status` the kubelet sends for an exit code.
fn exit_status(command: &[String], code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command {command:?}, exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}
    })
}
