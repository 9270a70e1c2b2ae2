//! A sheet written row by row as results arrive, for files that hold
//! passwords: once a password is set on the hub it exists nowhere else, so a
//! crash must not lose it. Every pushed row is on disk, in a 0600 file whose
//! name is known in advance, before `push` returns.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::cell::Cell;
use super::error::RosterError;
use super::writer::{check_widths, header_record, render_xlsx, text_record, write_atomically, Output};

/// A password sheet written as results arrive.
///
/// Where the rows go while the sheet is open depends on the target:
///
/// - **CSV or TSV** (`out.csv`): straight into `out.csv` itself. The header
///   is written by [`SheetSink::create`], and each [`SheetSink::push`] appends
///   one row and syncs it to disk, so after a crash `out.csv` is a valid CSV
///   file holding every row pushed so far.
/// - **Excel** (`out.xlsx`, `out.xls`): into a CSV journal beside it,
///   `out.xlsx.partial.csv` (see [`SheetSink::journal_path`]), synced per
///   row the same way. [`SheetSink::finish`] writes `out.xlsx` atomically
///   from the rows and removes the journal. After a crash the journal holds
///   every row pushed so far; `out.xlsx` is whatever it was before.
///
/// Both files are created with mode 0600 (owner read/write only) on Unix,
/// and an existing file at either path is truncated and set to 0600 before
/// anything is written. `.xlsm`, `.xlsb` and `.ods` targets are refused.
///
/// Dropping a sink without calling [`SheetSink::finish`] (an error in the
/// caller, a panic) finishes it as well as it can: the Excel file is written
/// and the journal removed if that works, otherwise the journal stays.
pub struct SheetSink {
    /// The file the user asked for.
    path: PathBuf,
    /// Where rows go while the sheet is open: `path`, or the journal.
    partial: PathBuf,
    /// The header row.
    columns: Vec<String>,
    /// CSV/TSV (rows go to `path`) or Excel (rows go to the journal).
    output: Output,
    /// The open partial file.
    writer: csv::Writer<File>,
    /// The rows pushed, kept only for Excel targets.
    rows: Vec<Vec<Cell>>,
    /// How many rows were pushed.
    pushed: usize,
    /// Set once the sheet was completed (or tried to be), so `Drop` does nothing.
    finished: bool,
}

impl SheetSink {
    /// The journal an Excel target's rows go to while it is open:
    /// `<path>.partial.csv` (`out.xlsx` → `out.xlsx.partial.csv`).
    pub fn journal_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial.csv");
        PathBuf::from(name)
    }

    /// Creates the sheet at `path` (0600) and writes the header row.
    ///
    /// Fails when the extension names a format jhctl cannot write or the
    /// file cannot be created.
    pub fn create(path: &Path, columns: &[String]) -> Result<SheetSink, RosterError> {
        let output = Output::for_path(path)?;
        let (partial, delimiter) = match output {
            Output::Text(delimiter) => (path.to_path_buf(), delimiter),
            Output::Xlsx => (SheetSink::journal_path(path), b','),
        };
        let file = create_private(&partial).map_err(|error| RosterError::write(&partial, error))?;
        let writer = csv::WriterBuilder::new().delimiter(delimiter).flexible(true).from_writer(file);
        let mut sink = SheetSink {
            path: path.to_path_buf(),
            partial,
            columns: columns.to_vec(),
            output,
            writer,
            rows: Vec::new(),
            pushed: 0,
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
        self.append(text_record(&row, self.columns.len()))?;
        if self.output == Output::Xlsx {
            self.rows.push(row);
        }
        self.pushed += 1;
        Ok(())
    }

    /// Completes the sheet and returns its path: for Excel targets writes the
    /// workbook (atomically, 0600) and removes the journal.
    pub fn finish(mut self) -> Result<PathBuf, RosterError> {
        self.finished = true;
        self.complete()?;
        Ok(self.path.clone())
    }

    /// The file the sheet ends up in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the rows are while the sheet is open: the target itself for
    /// CSV and TSV, the journal for Excel.
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

    /// Makes the target complete; the journal goes only once the workbook is written.
    fn complete(&mut self) -> Result<(), RosterError> {
        self.writer.flush().map_err(|error| RosterError::write(&self.partial, error))?;
        self.writer.get_ref().sync_all().map_err(|error| RosterError::write(&self.partial, error))?;
        if self.output == Output::Xlsx {
            let bytes = render_xlsx(&self.path, &self.columns, &self.rows)?;
            write_atomically(&self.path, &bytes, true)?;
            std::fs::remove_file(&self.partial).map_err(|error| RosterError::write(&self.partial, error))?;
        }
        Ok(())
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

/// Creates or truncates `path` for writing, readable by its owner only.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    // An existing file keeps its old mode on open; narrow it before writing.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(file)
}
