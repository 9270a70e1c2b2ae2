//! Runs the password program as a process on this machine (`--via local`,
//! or the `ssh` client for `--via ssh`): stdin in, stdout and stderr out,
//! within the timeout. Ends the same way an exec does ([`ExecRun`]), so
//! the answers are read the same way.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::cluster::{ExecEnd, ExecRun};

/// Runs `command` with `stdin`; kills it when `timeout` passes first.
/// `label` names where it ran (`local`, or the ssh host).
pub async fn run_process(command: &[String], stdin: &[u8], timeout: Duration, label: &str) -> ExecRun {
    let ended = |end: ExecEnd| ExecRun { pod: label.to_string(), stdout: Vec::new(), stderr: Vec::new(), end };
    let Some((program, args)) = command.split_first() else {
        return ended(ExecEnd::NotRun("no command; this is a bug, please report it".into()));
    };
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return ended(ExecEnd::NotRun(format!("cannot run `{program}`: {e}"))),
    };
    let (mut input, mut output, mut errors) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let work = async {
        let feed = async {
            if let Some(mut input) = input.take() {
                // A program that exits early closes its stdin: its answers say why.
                let _ = input.write_all(stdin).await;
            }
        };
        let mut out = Vec::new();
        let mut err = Vec::new();
        let read_out = async {
            if let Some(o) = output.as_mut() {
                let _ = o.read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(e) = errors.as_mut() {
                let _ = e.read_to_end(&mut err).await;
            }
        };
        tokio::join!(feed, read_out, read_err);
        let status = child.wait().await;
        (out, err, status)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok((stdout, stderr, status)) => {
            let end = match status {
                Ok(status) => ExecEnd::Exited(status.code().unwrap_or(-1)),
                Err(e) => ExecEnd::Broken(e.to_string()),
            };
            ExecRun { pod: label.to_string(), stdout, stderr, end }
        }
        Err(_) => ended(ExecEnd::TimedOut(timeout)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stdin_in_answers_out() {
        let command = ["sh", "-c", "cat; echo oops >&2; exit 3"].map(String::from);
        let run = run_process(&command, b"{\"a\": 1}\n", Duration::from_secs(10), "local").await;
        assert_eq!(run.stdout, b"{\"a\": 1}\n");
        assert_eq!(run.stderr, b"oops\n");
        assert_eq!(run.end, ExecEnd::Exited(3));
    }

    #[tokio::test]
    async fn missing_program_and_timeout() {
        let run = run_process(&["/no/such/python".to_string()], b"", Duration::from_secs(5), "local").await;
        assert!(matches!(&run.end, ExecEnd::NotRun(m) if m.starts_with("cannot run `/no/such/python`")), "{run:?}");
        let command = ["sleep", "5"].map(String::from);
        let run = run_process(&command, b"", Duration::from_millis(100), "local").await;
        assert_eq!(run.end, ExecEnd::TimedOut(Duration::from_millis(100)));
    }
}
