//! `Journal`: the open journal of the run in progress.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::record::Record;

/// The journal of the run in progress: a new file `<run>.jsonl`, mode
/// 0600, created with `create_new` (an existing file is never touched).
/// Each [`Journal::write`] appends one JSON line with one `write` call, so
/// a process killed right after it returned leaves that line on disk.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    run: String,
    file: File,
}

impl Journal {
    /// Opens a new journal in `dir` for a run against `hub` started by
    /// `command` (already redacted, see [`redact_command`]) and writes its
    /// `start` line.
    pub fn open(dir: &Path, hub: &str, command: Vec<String>) -> std::io::Result<Journal> {
        create_private_dir(dir)?;
        let now = chrono::Utc::now();
        let stamp = now.format("%Y%m%dT%H%M%S%.3fZ");
        for _ in 0..16 {
            let run = format!("{stamp}-{:04x}", rand::random::<u16>());
            let path = dir.join(format!("{run}.jsonl"));
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(file) => {
                    let mut journal = Journal { path, run: run.clone(), file };
                    let started = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                    journal.write(&Record::Start { run, hub: hub.to_string(), command, started })?;
                    return Ok(journal);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free journal name"))
    }

    /// The run's id.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record` as one line.
    pub fn write(&mut self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())
    }

    /// Writes the `end` line.
    pub fn finish(&mut self, exit: i32) -> std::io::Result<()> {
        let finished = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.write(&Record::End { finished, exit })?;
        self.file.sync_all()
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options whose value is a secret: left out of the journal.
const SECRET_OPTIONS: &[&str] = &["--password", "--token", "--default-password", "--db-url"];

/// `args` with the value of every secret option (`--password P`,
/// `--token=T`, ...) replaced by `<hidden>`.
pub fn redact_command(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        if hide_next {
            out.push("<hidden>".to_string());
            hide_next = false;
            continue;
        }
        match arg.split_once('=') {
            Some((option, _)) if SECRET_OPTIONS.contains(&option) => out.push(format!("{option}=<hidden>")),
            _ => {
                hide_next = SECRET_OPTIONS.contains(&arg.as_str());
                out.push(arg.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(String::from).collect()
    }

    #[test]
    fn secrets_are_left_out_of_the_command() {
        let cases = [
            (
                "jhctl manage-users create a.csv --password S3cret!",
                "jhctl manage-users create a.csv --password <hidden>",
            ),
            ("jhctl --token=abc manage-users delete x", "jhctl --token=<hidden> manage-users delete x"),
            (
                "jhctl set-passwords a.csv --default-password P -o s.csv",
                "jhctl set-passwords a.csv --default-password <hidden> -o s.csv",
            ),
            (
                "jhctl manage-users create a.csv --generate-passwords",
                "jhctl manage-users create a.csv --generate-passwords",
            ),
        ];
        for (given, kept) in cases {
            assert_eq!(redact_command(&words(given)), words(kept), "{given}");
        }
    }

    #[test]
    fn a_journal_is_new_private_and_one_line_per_record() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        let mut journal = Journal::open(&runs, "http://hub", words("jhctl x")).unwrap();
        journal.finish(0).unwrap();
        let text = std::fs::read_to_string(journal.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with("{\"kind\":\"start\""), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(journal.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = Journal::open(&runs, "http://hub", words("jhctl y")).unwrap();
        assert_ne!(other.path(), journal.path());
    }
}
