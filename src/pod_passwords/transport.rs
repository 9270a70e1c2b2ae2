//! How the password program reaches the hub: one exec into the hub pod
//! (`--via exec`), the hub's own interpreter on this machine (`--via
//! local`), or that interpreter on the hub's machine through the system's
//! `ssh` client (`--via ssh`). The program and its data are the same for
//! all three; only exec needs a cluster. On the local and ssh paths the
//! command line holds the constant program and paths, never a password,
//! hash or database URL (those go on stdin).

use std::path::Path;

/// TLJH's hub interpreter, the `--hub-python` default when it exists.
pub const TLJH_PYTHON: &str = "/opt/tljh/hub/bin/python3";

/// TLJH's state folder (the hub's working directory), the `--hub-dir`
/// default when it exists.
pub const TLJH_DIR: &str = "/opt/tljh/state";

/// Where the program runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// In a pod of the hub's deployment, through the Kubernetes API.
    #[default]
    Exec,
    /// On this machine, as the user running jhctl.
    Local,
    /// On `host` through `ssh` (with `sudo -n` when `sudo`).
    Ssh {
        /// The `ssh` destination, e.g. `admin@hub.example.org`.
        host: String,
        /// Run the program as root through non-interactive sudo.
        sudo: bool,
    },
}

impl Transport {
    /// The name on the command line and on the program's stdin.
    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Exec => "exec",
            Transport::Local => "local",
            Transport::Ssh { .. } => "ssh",
        }
    }

    /// The command that runs `program` with `python`: for ssh, the `ssh`
    /// client with the remote command as one shell-quoted argument.
    pub fn command(&self, python: &str, program: &str) -> Vec<String> {
        match self {
            Transport::Exec | Transport::Local => vec![python.to_string(), "-c".to_string(), program.to_string()],
            Transport::Ssh { host, sudo } => {
                let sudo = if *sudo { "sudo -n " } else { "" };
                let remote = format!("{sudo}{} -c {}", shell_quote(python), shell_quote(program));
                ["ssh", "-o", "BatchMode=yes", "--", host.as_str(), remote.as_str()].map(String::from).to_vec()
            }
        }
    }
}

/// `text` as one word of a POSIX shell command.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The hub's interpreter and folder for `--via local`: the ones given,
/// else TLJH's where they exist (`exists` says). The error names the
/// flags to give.
pub fn local_hub(
    python: Option<&str>,
    dir: Option<&str>,
    exists: impl Fn(&Path) -> bool,
) -> Result<(String, String), String> {
    let pick = |given: Option<&str>, default: &str, flag: &str, what: &str| match given {
        Some(given) if !given.trim().is_empty() => Ok(given.to_string()),
        _ if exists(Path::new(default)) => Ok(default.to_string()),
        _ => Err(format!(
            "--via local needs {flag}: {what} (`{default}` on TLJH is not on this machine); \
             give {flag}, or run jhctl where the hub runs"
        )),
    };
    let python = pick(python, TLJH_PYTHON, "--hub-python PATH", "the Python interpreter the hub runs with")?;
    let dir = pick(
        dir,
        TLJH_DIR,
        "--hub-dir DIR",
        "the hub's working directory, where passwords.dbm and jupyterhub.sqlite are",
    )?;
    Ok((python, dir))
}

/// The hub's interpreter and folder for `--via ssh`: the ones given, else
/// TLJH's (they cannot be checked from here; the program says when the
/// folder is not there).
pub fn ssh_hub(python: Option<&str>, dir: Option<&str>) -> (String, String) {
    let given = |v: Option<&str>, default: &str| v.filter(|v| !v.trim().is_empty()).unwrap_or(default).to_string();
    (given(python, TLJH_PYTHON), given(dir, TLJH_DIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// python, dir, on TLJH, the paths or the error's start.
    type Case<'a> = (Option<&'a str>, Option<&'a str>, bool, Result<(&'a str, &'a str), &'a str>);

    #[test]
    fn local_defaults_to_tljh_only_where_it_is() {
        let tljh = |p: &Path| p == Path::new(TLJH_PYTHON) || p == Path::new(TLJH_DIR);
        let none = |_: &Path| false;
        let cases: [Case; 5] = [
            (None, None, true, Ok((TLJH_PYTHON, TLJH_DIR))),
            (Some("/hub/bin/python"), Some("/srv/hub"), false, Ok(("/hub/bin/python", "/srv/hub"))),
            (Some("/hub/bin/python"), None, true, Ok(("/hub/bin/python", TLJH_DIR))),
            (None, Some("/srv/hub"), false, Err("--via local needs --hub-python PATH")),
            (Some("/hub/bin/python"), Some(" "), false, Err("--via local needs --hub-dir DIR")),
        ];
        for (python, dir, on_tljh, want) in cases {
            let got = if on_tljh { local_hub(python, dir, tljh) } else { local_hub(python, dir, none) };
            match (got, want) {
                (Ok((p, d)), Ok((wp, wd))) => assert_eq!((p.as_str(), d.as_str()), (wp, wd)),
                (Err(e), Err(start)) => assert!(e.starts_with(start), "{e}"),
                (got, want) => panic!("{python:?} {dir:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn ssh_runs_one_quoted_remote_command() {
        let program = "print('it''s')\nx = \"$(rm -rf /)\"";
        let ssh = Transport::Ssh { host: "admin@hub".into(), sudo: true };
        let command = ssh.command("/opt/tljh/hub/bin/python3", program);
        assert_eq!(&command[..5], ["ssh", "-o", "BatchMode=yes", "--", "admin@hub"]);
        assert_eq!(command.len(), 6);
        assert!(command[5].starts_with("sudo -n '/opt/tljh/hub/bin/python3' -c 'print('\\''it'\\'''\\''s'\\'')"));
        let local = Transport::Local.command("python3", program);
        assert_eq!(local, ["python3", "-c", program]);
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
    }
}
