//! Errors of roster files: a whole file that cannot be read or written.
//!
//! A bad row is not an error here: it is data ([`crate::roster::Row::error`]),
//! so one typo never stops the other users of a class from being enrolled.
//! Every message names the file and says what to do next.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A roster file that could not be read or written as a whole.
#[derive(Debug, Error)]
pub enum RosterError {
    /// The file to read does not exist.
    #[error("roster `{}` not found; check the file name and the folder jhctl runs in", .path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },

    /// The file exists but could not be read (permissions, a folder, ...).
    #[error("cannot read roster `{}`: {source}; check that it is a file you may read", .path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },

    /// The file (or the chosen sheet) holds no header row at all.
    #[error("{}", empty_message(.path, .sheet.as_deref()))]
    Empty {
        /// The path as given.
        path: PathBuf,
        /// The sheet that was read, for workbooks.
        sheet: Option<String>,
    },

    /// The header row has no `username` column.
    #[error("{}", missing_username_message(.path, *.header_row, .found, .suggestion.as_deref()))]
    MissingUsername {
        /// The path as given.
        path: PathBuf,
        /// The row that was taken as the header (a spreadsheet row number).
        header_row: usize,
        /// The normalised headers that were found, in order.
        found: Vec<String>,
        /// A found header that probably meant `username`.
        suggestion: Option<String>,
    },

    /// A CSV or TSV file is not UTF-8 text (typically saved by Excel as "CSV"
    /// in a legacy code page).
    #[error("roster `{}` is not UTF-8 text (first bad byte on line {line}); in Excel save it as \"CSV UTF-8\", or save it as .xlsx", .path.display())]
    NotUtf8 {
        /// The path as given.
        path: PathBuf,
        /// The line holding the first byte that is not UTF-8.
        line: usize,
    },

    /// A file named like CSV holds a workbook (an Excel or ODS file renamed).
    #[error("roster `{}` is a spreadsheet workbook, not CSV text; rename it to end in .xlsx (or .ods), or save it as CSV", .path.display())]
    NotText {
        /// The path as given.
        path: PathBuf,
    },

    /// A file named like a workbook is not one, or is damaged.
    #[error("roster `{}` is not a valid {kind} ({reason}); open it in Excel or LibreOffice and save it again as .xlsx, or save it as CSV", .path.display())]
    NotSpreadsheet {
        /// The path as given.
        path: PathBuf,
        /// "Excel file" or "OpenDocument spreadsheet", after the extension.
        kind: &'static str,
        /// What went wrong, from the spreadsheet reader.
        reason: String,
    },

    /// The workbook is encrypted with a password.
    #[error("roster `{}` is protected by a password; remove the password in Excel or LibreOffice and save it again, or save it as CSV", .path.display())]
    PasswordProtected {
        /// The path as given.
        path: PathBuf,
    },

    /// The requested sheet is not in the workbook.
    #[error("roster `{}` has no sheet `{sheet}`; its sheets are {}; pick one of them", .path.display(), quoted_list(.available))]
    SheetNotFound {
        /// The path as given.
        path: PathBuf,
        /// The sheet name that was asked for.
        sheet: String,
        /// The sheets the workbook has, in order.
        available: Vec<String>,
    },

    /// A sheet was asked for, but the file is CSV or TSV text.
    #[error("roster `{}` is a text file with no sheets, so sheet `{sheet}` cannot be picked; drop the sheet option or use a workbook", .path.display())]
    SheetOfText {
        /// The path as given.
        path: PathBuf,
        /// The sheet name that was asked for.
        sheet: String,
    },

    /// The CSV parser gave up on the file.
    #[error("cannot parse roster `{}` near line {line}: {reason}; check the quotes on that line", .path.display())]
    Csv {
        /// The path as given.
        path: PathBuf,
        /// The line where parsing failed.
        line: u64,
        /// What the parser said.
        reason: String,
    },

    /// The output file's extension names a format jhctl cannot write.
    #[error("cannot write `{}`: jhctl writes .csv, .tsv, .xlsx and .xls files, not .{extension}; choose one of those extensions", .path.display())]
    UnsupportedOutput {
        /// The path as given.
        path: PathBuf,
        /// The extension, lower-cased.
        extension: String,
    },

    /// The file to write exists and replacing it was not asked for: it may
    /// be the only copy of passwords set earlier, or a backup.
    #[error("`{}` already exists and jhctl does not write over it (it may hold the only copy of passwords set earlier, or a backup); choose another file, move this one away, or pass --overwrite to replace it", .path.display())]
    OutputExists {
        /// The path as given.
        path: PathBuf,
    },

    /// The file a password sheet is journalled to while it is written
    /// exists: a run that stopped early left it, with passwords in it.
    #[error("`{}` exists: a run that stopped early left it, and it may hold the only copy of passwords set then; hand those out or move the file away, then run again", .path.display())]
    PartialExists {
        /// The journal's path.
        path: PathBuf,
    },

    /// A row to write has more cells than there are columns.
    #[error("cannot write `{}`: row {row} has {cells} cells but there are only {columns} columns; give every row at most one cell per column", .path.display())]
    RowTooLong {
        /// The path as given.
        path: PathBuf,
        /// The spreadsheet row number the row would have had (header is row 1).
        row: usize,
        /// How many cells the row had.
        cells: usize,
        /// How many columns there are.
        columns: usize,
    },

    /// Writing the file (or its temporary sibling) failed.
    #[error("cannot write `{}`: {source}; check that the folder exists and that you may write to it", .path.display())]
    Write {
        /// The path as given.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },

    /// The Excel writer refused the data (too many rows or columns, a text
    /// longer than Excel allows, ...).
    #[error("cannot write Excel file `{}`: {reason}; write a .csv file instead", .path.display())]
    Xlsx {
        /// The path as given.
        path: PathBuf,
        /// What the Excel writer said.
        reason: String,
    },
}

impl RosterError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            RosterError::NotFound { path }
            | RosterError::Read { path, .. }
            | RosterError::Empty { path, .. }
            | RosterError::MissingUsername { path, .. }
            | RosterError::NotUtf8 { path, .. }
            | RosterError::NotText { path }
            | RosterError::NotSpreadsheet { path, .. }
            | RosterError::PasswordProtected { path }
            | RosterError::SheetNotFound { path, .. }
            | RosterError::SheetOfText { path, .. }
            | RosterError::Csv { path, .. }
            | RosterError::UnsupportedOutput { path, .. }
            | RosterError::OutputExists { path }
            | RosterError::PartialExists { path }
            | RosterError::RowTooLong { path, .. }
            | RosterError::Write { path, .. }
            | RosterError::Xlsx { path, .. } => path,
        }
    }

    /// Builds [`RosterError::Write`] for `path`.
    pub(crate) fn write(path: &Path, source: io::Error) -> RosterError {
        RosterError::Write { path: path.to_path_buf(), source }
    }
}

/// "`a`, `b`, `c`", or "none" for an empty list.
fn quoted_list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items.iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}

/// The text of [`RosterError::Empty`].
fn empty_message(path: &Path, sheet: Option<&str>) -> String {
    let what = match sheet {
        Some(sheet) => format!("sheet `{sheet}` of roster `{}`", path.display()),
        None => format!("roster `{}`", path.display()),
    };
    format!("{what} is empty; it needs a header row with a `username` column, then one row per user")
}

/// The text of [`RosterError::MissingUsername`].
fn missing_username_message(path: &Path, header_row: usize, found: &[String], suggestion: Option<&str>) -> String {
    let fix = match suggestion {
        Some(header) => format!("did you mean `{header}`? rename that column to `username`"),
        None => "add a column headed `username` holding one login name per row \
                 (case and surrounding spaces do not matter)"
            .to_string(),
    };
    format!(
        "roster `{}`: File must contain 'username' column; the header row (row {header_row}) has columns {}; {fix}",
        path.display(),
        quoted_list(found),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_username_names_file_headers_and_fix() {
        let error = RosterError::MissingUsername {
            path: PathBuf::from("class.csv"),
            header_row: 1,
            found: vec!["name".into(), "email".into()],
            suggestion: None,
        };
        assert_eq!(
            error.to_string(),
            "roster `class.csv`: File must contain 'username' column; the header row (row 1) \
             has columns `name`, `email`; add a column headed `username` holding one login \
             name per row (case and surrounding spaces do not matter)"
        );
        assert_eq!(error.path(), Path::new("class.csv"));
    }

    #[test]
    fn empty_names_the_sheet_when_there_is_one() {
        let error = RosterError::Empty { path: PathBuf::from("class.xlsx"), sheet: Some("Sheet1".into()) };
        assert_eq!(
            error.to_string(),
            "sheet `Sheet1` of roster `class.xlsx` is empty; it needs a header row with a \
             `username` column, then one row per user"
        );
    }
}
