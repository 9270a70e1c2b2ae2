//! The `Test` builder: a temp dir with files, then the real `jhctl` binary
//! run in it with a clean environment, and its exit code, stdout and stderr.
//!
//! ```ignore
//! let hub = TestHub::start();
//! Test::new()
//!     .hub(&hub)
//!     .file("roster.csv", "username\nann\n")
//!     .args(["run", "scripts/create_users.rhai", "roster.csv"])
//!     .run()
//!     .expect_status(0);
//! ```

use std::{
    ffi::{OsStr, OsString},
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
};

use tempfile::TempDir;

use super::hub::TestHub;

/// Variables removed from the inherited environment: the developer's hub,
/// cluster and jhctl settings never leak into a test.
const REMOVED_PREFIXES: [&str; 4] = ["JUPYTERHUB_", "JHCTL_", "KUBE", "RUST_LOG"];

/// One run of `jhctl`, built up step by step.
pub struct Test {
    tempdir: TempDir,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<String>,
}

/// What a run of `jhctl` did.
#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    /// A fresh temp dir (`dir()`, the run's working directory) and a home
    /// (`home()`) beside it.
    pub fn new() -> Test {
        let tempdir =
            tempfile::Builder::new().prefix("jhctl-test-").tempdir().expect("cannot create the test's temp dir");
        fs::create_dir(tempdir.path().join("work")).expect("cannot create work/");
        fs::create_dir(tempdir.path().join("home")).expect("cannot create home/");
        Test { tempdir, args: Vec::new(), env: Vec::new(), stdin: None }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Test {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args(mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Test {
        self.args.extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Replaces the arguments, keeping the folder, home and environment:
    /// for a second run in the same folder.
    pub fn with_args(mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Test {
        self.args = args.into_iter().map(|arg| arg.as_ref().to_owned()).collect();
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Test {
        self.env.push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Points the run at `hub`: `JUPYTERHUB_URL` and `JUPYTERHUB_TOKEN`.
    pub fn hub(self, hub: &TestHub) -> Test {
        self.env("JUPYTERHUB_URL", hub.url()).env("JUPYTERHUB_TOKEN", hub.token())
    }

    /// Writes `contents` to `path` (relative to `dir()`), making folders.
    pub fn file(self, path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Test {
        let path = self.dir().join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("cannot create the file's folder");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        self
    }

    /// Feeds `input` to the run's stdin (otherwise stdin is empty).
    pub fn stdin(mut self, input: impl Into<String>) -> Test {
        self.stdin = Some(input.into());
        self
    }

    /// The run's working directory, where `file` writes and outputs land.
    pub fn dir(&self) -> PathBuf {
        self.tempdir.path().join("work")
    }

    /// The run's `HOME`; `XDG_CONFIG_HOME` is `home/.config`, `XDG_STATE_HOME`
    /// is `home/.local/state`.
    pub fn home(&self) -> PathBuf {
        self.tempdir.path().join("home")
    }

    /// Starts `jhctl` without waiting (stdin from `stdin()` is not sent;
    /// stdout and stderr are piped): for a test that kills it mid-run.
    pub fn spawn(&self) -> std::process::Child {
        self.command().stdin(Stdio::null()).spawn().expect("cannot run jhctl")
    }

    /// Runs `jhctl` and waits for it.
    pub fn run(&self) -> Output {
        let mut child = self.command().spawn().expect("cannot run jhctl");
        let writer = self.stdin.clone().map(|input| {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            // A thread, so a jhctl that exits without reading can't block us.
            thread::spawn(move || {
                let _ = pipe.write_all(input.as_bytes());
            })
        });
        let output = child.wait_with_output().expect("cannot wait for jhctl");
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Output {
            status: output.status.code().unwrap_or_else(|| panic!("jhctl was killed: {}", output.status)),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The command that runs `jhctl` in this test's folder, home and environment.
    fn command(&self) -> Command {
        let home = self.home();
        let mut command = Command::new(env!("CARGO_BIN_EXE_jhctl"));
        command.args(&self.args).current_dir(self.dir());
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if REMOVED_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) {
                command.env_remove(&key);
            }
        }
        command
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            // Never a real cluster: this kubeconfig does not exist.
            .env("KUBECONFIG", home.join(".kube/no-such-config"))
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

impl Output {
    /// Panics, showing stdout and stderr, unless the exit code is `status`.
    pub fn expect_status(self, status: i32) -> Output {
        assert_eq!(self.status, status, "unexpected exit code\n{self}");
        self
    }

    /// Panics unless stdout is exactly `stdout`.
    pub fn expect_stdout(self, stdout: &str) -> Output {
        assert_eq!(self.stdout, stdout, "unexpected stdout\n{self}");
        self
    }

    /// Panics unless stderr is exactly `stderr`.
    pub fn expect_stderr(self, stderr: &str) -> Output {
        assert_eq!(self.stderr, stderr, "unexpected stderr\n{self}");
        self
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "--- exit code {} ---\n--- stdout ---\n{}--- stderr ---\n{}", self.status, self.stdout, self.stderr)
    }
}

/// Runs jhctl against `hub` in a fresh folder holding `files`; returns the
/// output and the test (for the folder's files).
pub fn run_in(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> (Output, Test) {
    let mut test = Test::new().hub(hub).args(args);
    for (name, contents) in files {
        test = test.file(name, contents);
    }
    (test.run(), test)
}
