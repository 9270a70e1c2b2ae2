//! Roster files: the spreadsheets users enrol from and export to. Reads CSV,
//! TSV, XLSX/XLSM, XLS, XLSB and ODS; writes CSV, TSV and XLSX, atomically;
//! streams password sheets with [`SheetSink`]. Plain Rust types only — the
//! Rhai bindings live in `script/`.
//!
//! The rules every roster follows (see docs/architecture.md): the `username` column is
//! required (header case and surrounding spaces do not matter, a UTF-8 BOM
//! is ignored); `admin`, `password`, `quota` and `groups` are understood
//! when present; usernames are trimmed, lower-cased and checked; blank rows
//! are skipped; a duplicate username is used once with a warning; a bad row
//! is kept with its error and never stops the file.
//!
//! ```no_run
//! use jhctl::roster::{self, ReadOptions};
//! let roster = roster::read("class.xlsx".as_ref(), &ReadOptions::default())?;
//! for warning in &roster.warnings {
//!     eprintln!("⚠️  {warning}");
//! }
//! for row in &roster.rows {
//!     match (&row.username, &row.error) {
//!         (Some(name), None) => println!("{name} admin={:?}", row.admin),
//!         (_, error) => eprintln!("❌ {}", error.as_deref().unwrap_or_default()),
//!     }
//! }
//! # Ok::<(), jhctl::roster::RosterError>(())
//! ```

mod cell;
mod column;
mod delimited;
mod error;
mod format;
mod grid;
mod row;
mod sink;
mod workbook;
mod writer;

#[cfg(test)]
mod tests;

use std::io::ErrorKind;
use std::path::Path;

pub use cell::Cell;
pub use column::{is_secret_column, parse_bool, ADMIN, GROUPS, PASSWORD, QUOTA, QUOTA_LIMIT, USERNAME};
pub use error::RosterError;
pub use format::Format;
pub use row::{Roster, Row};
pub use sink::SheetSink;
pub use writer::{check_target, write, Existing};

/// How to read a roster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The workbook sheet to read, by name (exact, else ignoring case and
    /// surrounding spaces); `None` reads the first sheet. Giving a sheet for
    /// a CSV or TSV file is an error.
    pub sheet: Option<String>,
}

/// Reads and checks the roster at `path`.
///
/// The format follows the extension, in any case: `.csv` (delimiter `,`,
/// `;` or tab, sniffed from the header line), `.tsv`/`.tab`, `.xlsx`/`.xlsm`,
/// `.xls`, `.xlsb`, `.ods`; anything else is read as CSV. Workbooks are
/// opened by their content, so an `.xls` holding XLSX reads too.
///
/// Fails for the whole file only: missing or unreadable file, not a valid
/// workbook, no header row, no `username` column, unknown sheet. Problems
/// of single rows are in [`Row::error`], and duplicates in
/// [`Roster::warnings`].
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Roster, RosterError> {
    let format = Format::from_path(path);
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        ErrorKind::NotFound => RosterError::NotFound { path: path.to_path_buf() },
        _ => RosterError::Read { path: path.to_path_buf(), source },
    })?;
    let grid = if format.is_workbook() {
        workbook::read_workbook(path, &bytes, format, opts.sheet.as_deref())?
    } else if let Some(sheet) = &opts.sheet {
        return Err(RosterError::SheetOfText { path: path.to_path_buf(), sheet: sheet.clone() });
    } else {
        delimited::read_delimited(path, &bytes, format)?
    };
    row::build(path, format, grid)
}
