//! Runs one command and measures it: wall time, CPU time (from `wait4`'s
//! rusage) and peak resident memory.
//!
//! Peak memory comes from GNU time (`/usr/bin/time -f %M`) when it is
//! there, not from our own `wait4`: a child that `Command` spawns (vfork +
//! exec) inherits the bench's own high-water RSS in `ru_maxrss` (Linux keeps
//! the old address space's peak across exec), so a 5 MB `jhctl --version`
//! would show as big as the bench. GNU time forks from a process of ~2 MB.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const GNU_TIME: &str = "/usr/bin/time";

/// What one run of a command cost, and what it printed.
pub struct Measured {
    /// From just before `spawn` to the moment `wait4` returned.
    pub wall: Duration,
    /// Peak resident set size in KiB: GNU time's `%M`, else `ru_maxrss`
    /// (which is at least the bench's own peak, see the module docs).
    pub max_rss_kib: u64,
    /// User plus system CPU time.
    pub cpu: Duration,
    /// The exit code (128 + signal when killed).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Measured {
    /// Panics with the command's output unless it exited with 0.
    pub fn check(self, what: &str) -> Measured {
        assert!(
            self.code == 0,
            "{what} exited with {}\n--- stdout (end) ---\n{}\n--- stderr (end) ---\n{}",
            self.code,
            tail(&self.stdout),
            tail(&self.stderr)
        );
        self
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Whether GNU time is there to measure peak memory.
pub fn gnu_time() -> bool {
    static THERE: OnceLock<bool> = OnceLock::new();
    *THERE.get_or_init(|| {
        Command::new(GNU_TIME)
            .args(["-f", "%M", "-o", "/dev/null", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// [`run_direct`] under GNU time, which reports the peak memory; the
/// wrapper adds well under a millisecond. Without GNU time, `run_direct`.
pub fn run(command: &Command, dir: &Path) -> Measured {
    if !gnu_time() {
        return run_direct(&mut rebuild(command, Command::new(command.get_program())), dir);
    }
    let rss_path = dir.join("rss.txt");
    let mut wrapper = Command::new(GNU_TIME);
    wrapper.arg("-f").arg("%M").arg("-o").arg(&rss_path).arg("--").arg(command.get_program());
    let mut measured = run_direct(&mut rebuild(command, wrapper), dir);
    let report = fs::read_to_string(&rss_path).unwrap_or_default();
    // GNU time writes "Command exited with non-zero status N" first when so.
    if let Some(kib) = report.lines().last().and_then(|l| l.trim().parse().ok()) {
        measured.max_rss_kib = kib;
    }
    measured
}

/// `into` with the arguments, environment and folder of `command`.
fn rebuild(command: &Command, mut into: Command) -> Command {
    into.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => into.env(key, value),
            None => into.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        into.current_dir(dir);
    }
    into
}

/// Runs `command` with stdin closed and stdout/stderr sent to files in
/// `dir` (so a chatty command never blocks on a pipe), and reaps it with
/// `wait4` to read its rusage.
pub fn run_direct(command: &mut Command, dir: &Path) -> Measured {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    command
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("create stdout.txt"))
        .stderr(File::create(&err_path).expect("create stderr.txt"));
    let started = Instant::now();
    let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our own child.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            panic!("wait4 on {command:?} failed: {error}");
        }
    }
    let wall = started.elapsed();
    // Already reaped: dropping the handle neither waits nor kills.
    drop(child);
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Measured {
        wall,
        max_rss_kib: usage.ru_maxrss as u64,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        code,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// CPU time (user + system) a process has used so far, from
/// `/proc/PID/stat`; zero when it cannot be read.
pub fn cpu_of(pid: u32) -> Duration {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the `(comm)`, which may hold spaces: state is field 3,
    // utime 14 and stime 15.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}
