//! A sheet written row by row as results arrive, for files that hold
//! passwords: once a password is set on the hub it exists nowhere else, so a
//! crash must not lose it, and a sheet from an earlier run must not be lost
//! either. Every pushed row is on disk, in a 0600 journal beside the target
//! whose name is known in advance, before `push` returns; the target is
//! only written at the end, and only when a row was pushed.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::cell::{formula_like, Cell};
use super::error::RosterError;
use super::writer::{
    check_target, check_widths, header_record, render_xlsx, secret_columns, text_record, write_atomically, Existing,
    Output,
};

/// A password sheet written as results arrive.
///
/// Rows go to a journal beside the target while the sheet is open,
/// `<target>.partial.csv` (`.partial.tsv` for a TSV target; see
/// [`SheetSink::journal_path`]): [`SheetSink::create`] writes the header,
/// and each [`SheetSink::push`] appends one row and syncs it to disk, so
/// after a crash the journal is a valid CSV file holding every row pushed
/// so far. [`SheetSink::finish`] then puts the sheet in place: a CSV or TSV
/// journal is renamed to the target, an Excel target (`.xlsx`, `.xls`) is
/// written atomically from the rows and the journal removed. A sheet that
/// got no row is no sheet: the journal goes and the target is not touched.
///
/// An existing target is replaced only with [`Existing::Replace`], and
/// never before `finish`; with [`Existing::Refuse`] it is an error
/// ([`RosterError::OutputExists`]) before anything is written. An existing
/// journal is always an error ([`RosterError::PartialExists`]): it holds
/// the passwords of a run that stopped early. Both files are created with
/// mode 0600 (owner read/write only) on Unix. `.xlsm`, `.xlsb` and `.ods`
/// targets are refused.
///
/// Password cells (any secret column, [`super::is_secret_column`]) are
/// written exactly, without the formula guard; [`SheetSink::formula_like_secrets`]
/// says when a CSV or TSV sheet holds one a spreadsheet would run, so the
/// caller can say to open the sheet as text.
///
/// Dropping a sink without calling [`SheetSink::finish`] (an error in the
/// caller, a panic) finishes it as well as it can; if that fails the rows
/// stay in the journal.
pub struct SheetSink {
    /// The file the user asked for.
    path: PathBuf,
    /// Where rows go while the sheet is open.
    partial: PathBuf,
    /// The header row.
    columns: Vec<String>,
    /// Which columns hold secrets (written exactly).
    secret: Vec<bool>,
    /// CSV/TSV or Excel.
    output: Output,
    /// Whether an existing target may be replaced.
    existing: Existing,
    /// The open journal.
    writer: csv::Writer<File>,
    /// The rows pushed, kept only for Excel targets.
    rows: Vec<Vec<Cell>>,
    /// How many rows were pushed.
    pushed: usize,
    /// Whether a text sheet holds a secret a spreadsheet would run as a formula.
    formula_like_secrets: bool,
    /// Set once the sheet was completed (or tried to be), so `Drop` does nothing.
    finished: bool,
}

impl SheetSink {
    /// The journal the rows go to while the sheet is open:
    /// `<path>.partial.csv` (`out.xlsx` → `out.xlsx.partial.csv`), or
    /// `<path>.partial.tsv` for a TSV target.
    pub fn journal_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(match Output::for_path(path) {
            Ok(Output::Text(b'\t')) => ".partial.tsv",
            _ => ".partial.csv",
        });
        PathBuf::from(name)
    }

    /// The checks [`SheetSink::create`] makes, without creating anything:
    /// for a command to make before it sends anything to the hub.
    pub fn check(path: &Path, existing: Existing) -> Result<(), RosterError> {
        check_target(path, existing)?;
        let partial = SheetSink::journal_path(path);
        if partial.symlink_metadata().is_ok() {
            return Err(RosterError::PartialExists { path: partial });
        }
        Ok(())
    }

    /// Opens the sheet for `path`: creates its journal (0600) and writes
    /// the header row. Nothing is written to `path` itself yet.
    ///
    /// Fails when the extension names a format jhctl cannot write, when
    /// `path` exists and `existing` is [`Existing::Refuse`], when the
    /// journal exists, or when it cannot be created.
    pub fn create(path: &Path, columns: &[String], existing: Existing) -> Result<SheetSink, RosterError> {
        check_target(path, existing)?;
        let output = Output::for_path(path)?;
        let delimiter = match output {
            Output::Text(delimiter) => delimiter,
            Output::Xlsx => b',',
        };
        let partial = SheetSink::journal_path(path);
        let file = create_private(&partial).map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => RosterError::PartialExists { path: partial.clone() },
            _ => RosterError::write(&partial, error),
        })?;
        let writer = csv::WriterBuilder::new().delimiter(delimiter).flexible(true).from_writer(file);
        let mut sink = SheetSink {
            path: path.to_path_buf(),
            partial,
            columns: columns.to_vec(),
            secret: secret_columns(columns),
            output,
            existing,
            writer,
            rows: Vec::new(),
            pushed: 0,
            formula_like_secrets: false,
            finished: false,
        };
        sink.append(header_record(columns))?;
        Ok(sink)
    }

    /// Appends one row and syncs it to disk before returning. Rows shorter
    /// than the header are padded; longer rows are an error (nothing written).
    pub fn push(&mut self, row: Vec<Cell>) -> Result<(), RosterError> {
        check_widths(&self.path, &self.columns, std::iter::once(&row)).map_err(|error| match error {
            RosterError::RowTooLong { path, cells, columns, .. } => {
                RosterError::RowTooLong { path, row: self.pushed + 2, cells, columns }
            }
            other => other,
        })?;
        self.append(text_record(&row, &self.secret))?;
        if let Output::Text(_) = self.output {
            let secret = |at: usize| self.secret.get(at) == Some(&true);
            self.formula_like_secrets |= row
                .iter()
                .enumerate()
                .any(|(at, cell)| secret(at) && matches!(cell, Cell::Text(text) if formula_like(text)));
        }
        if self.output == Output::Xlsx {
            self.rows.push(row);
        }
        self.pushed += 1;
        Ok(())
    }

    /// Completes the sheet and returns its path, or `None` when no row was
    /// pushed (the journal is removed and the target left as it was).
    /// Puts the journal in place for CSV and TSV targets; for Excel targets
    /// writes the workbook (atomically, 0600) and removes the journal. On
    /// error the journal stays, with every row pushed.
    pub fn finish(mut self) -> Result<Option<PathBuf>, RosterError> {
        self.finished = true;
        self.complete()?;
        Ok((self.pushed > 0).then(|| self.path.clone()))
    }

    /// True when a CSV or TSV sheet holds a secret that starts like a
    /// formula (`-`, `=`, `+`, `@`): written exactly, so a spreadsheet that
    /// opens the file (rather than importing it as text) may run it.
    pub fn formula_like_secrets(&self) -> bool {
        self.formula_like_secrets
    }

    /// The file the sheet ends up in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the rows are while the sheet is open: the journal.
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// How many rows have been pushed (the header not counted).
    pub fn rows_written(&self) -> usize {
        self.pushed
    }

    /// Writes one record to the open file and syncs it.
    fn append(&mut self, record: Vec<String>) -> Result<(), RosterError> {
        let partial = &self.partial;
        self.writer.write_record(&record).map_err(|error| RosterError::write(partial, error.into()))?;
        self.writer.flush().map_err(|error| RosterError::write(partial, error))?;
        self.writer.get_ref().sync_data().map_err(|error| RosterError::write(partial, error))
    }

    /// Puts the sheet in place; the journal goes only once the target holds
    /// its rows. Without rows only the journal goes.
    fn complete(&mut self) -> Result<(), RosterError> {
        let journal_error = |error| RosterError::write(&self.partial, error);
        self.writer.flush().map_err(journal_error)?;
        self.writer.get_ref().sync_all().map_err(journal_error)?;
        if self.pushed == 0 {
            return std::fs::remove_file(&self.partial).map_err(journal_error);
        }
        match self.output {
            Output::Text(_) => {
                // Checked again: the target may have appeared since `create`.
                check_target(&self.path, self.existing)?;
                std::fs::rename(&self.partial, &self.path).map_err(|error| RosterError::write(&self.path, error))
            }
            Output::Xlsx => {
                let bytes = render_xlsx(&self.path, &self.columns, &self.rows)?;
                write_atomically(&self.path, &bytes, true, self.existing)?;
                std::fs::remove_file(&self.partial).map_err(journal_error)
            }
        }
    }
}

impl Drop for SheetSink {
    fn drop(&mut self) {
        if !self.finished {
            self.finished = true;
            // Best effort: on failure the rows are still in the partial file.
            let _ = self.complete();
        }
    }
}

impl std::fmt::Debug for SheetSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Rows are never shown: they hold passwords.
        f.debug_struct("SheetSink")
            .field("path", &self.path)
            .field("partial", &self.partial)
            .field("columns", &self.columns)
            .field("rows_written", &self.pushed)
            .finish_non_exhaustive()
    }
}

/// Creates `path` for writing, readable by its owner only; fails with
/// `AlreadyExists` when there is a file there (it is never truncated).
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
