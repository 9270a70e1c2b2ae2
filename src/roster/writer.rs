//! Writing rosters and exports: CSV/TSV through the csv crate, Excel through
//! rust_xlsxwriter, every text cell guarded against CSV injection (see
//! [`super::cell`]) except the cells of secret columns (`password`,
//! `*token*`, `*secret*`), which hold exactly the secret. A file is written
//! whole to a temporary sibling and then renamed into place, so a reader
//! never sees half a file and a failed write leaves nothing behind. An
//! existing file is replaced only when the caller says so ([`Existing`]):
//! it may be the only copy of passwords set earlier, or a backup.

use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{Format as XlsxFormat, Workbook};

use super::cell::{guard, number_text, Cell, EXACT_FLOAT_INT};
use super::column::is_secret_column;
use super::error::RosterError;
use super::format::extension;

/// What a path's extension asks the writer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// Delimited text with this delimiter.
    Text(u8),
    /// An Excel 2007+ workbook.
    Xlsx,
}

impl Output {
    /// `.xlsx` and `.xls` → Excel (always XLSX content); `.tsv`/`.tab` →
    /// tab-separated; `.xlsm`, `.xlsb`, `.ods` → refused; anything else → CSV.
    pub(crate) fn for_path(path: &Path) -> Result<Output, RosterError> {
        match extension(path).as_str() {
            "xlsx" | "xls" => Ok(Output::Xlsx),
            "tsv" | "tab" => Ok(Output::Text(b'\t')),
            extension @ ("xlsm" | "xlsb" | "ods") => {
                Err(RosterError::UnsupportedOutput { path: path.to_path_buf(), extension: extension.to_string() })
            }
            _ => Ok(Output::Text(b',')),
        }
    }
}

/// What to do when the file to write already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it as it is and fail with [`RosterError::OutputExists`].
    Refuse,
    /// Replace it (the admin said so, e.g. with `--overwrite`).
    Replace,
}

impl Existing {
    /// [`Existing::Replace`] when `overwrite`, else [`Existing::Refuse`].
    pub fn replace_if(overwrite: bool) -> Existing {
        if overwrite {
            Existing::Replace
        } else {
            Existing::Refuse
        }
    }
}

/// Fails with [`RosterError::OutputExists`] when `path` exists and
/// `existing` is [`Existing::Refuse`], and with
/// [`RosterError::UnsupportedOutput`] when jhctl cannot write its format:
/// the check to make before anything is sent to the hub.
pub fn check_target(path: &Path, existing: Existing) -> Result<(), RosterError> {
    Output::for_path(path)?;
    if existing == Existing::Refuse && path.symlink_metadata().is_ok() {
        return Err(RosterError::OutputExists { path: path.to_path_buf() });
    }
    Ok(())
}

/// Writes `columns` and `rows` to `path` atomically; an existing file is
/// replaced only with [`Existing::Replace`].
///
/// The format follows the extension: `.xlsx` and `.xls` get an Excel
/// workbook (XLSX content in both cases — Excel opens an `.xls` holding it
/// after a warning about the extension, and jhctl reads it back), `.tsv`
/// tab-separated text, anything else CSV. `.xlsm`, `.xlsb` and `.ods` are
/// refused. Excel files get a bold, frozen header row with a filter, column
/// widths to fit (capped), booleans as TRUE/FALSE cells and numbers as
/// numbers. CSV booleans are `true`/`false`.
///
/// Rows shorter than `columns` are padded with empty cells; longer rows are
/// an error. A file with a secret column ([`super::is_secret_column`]:
/// `password`, `*token*`, `*secret*`) is created with mode 0600; other files
/// get the usual permissions (0666 less the umask).
///
/// On any error nothing is left at `path` (an existing file stays as it
/// was); with [`Existing::Refuse`] an existing file is an error
/// ([`RosterError::OutputExists`]), checked again at the rename.
pub fn write(path: &Path, columns: &[String], rows: &[Vec<Cell>], existing: Existing) -> Result<(), RosterError> {
    check_target(path, existing)?;
    let output = Output::for_path(path)?;
    check_widths(path, columns, rows.iter())?;
    let bytes = match output {
        Output::Text(delimiter) => render_text(path, columns, rows, delimiter)?,
        Output::Xlsx => render_xlsx(path, columns, rows)?,
    };
    let private = columns.iter().any(|column| is_secret_column(column));
    write_atomically(path, &bytes, private, existing)
}

/// Refuses rows with more cells than there are columns.
pub(crate) fn check_widths<'a>(
    path: &Path,
    columns: &[String],
    rows: impl Iterator<Item = &'a Vec<Cell>>,
) -> Result<(), RosterError> {
    for (index, row) in rows.enumerate() {
        if row.len() > columns.len() {
            return Err(RosterError::RowTooLong {
                path: path.to_path_buf(),
                row: index + 2,
                cells: row.len(),
                columns: columns.len(),
            });
        }
    }
    Ok(())
}

/// The header row as written: guarded like any text cell.
pub(crate) fn header_record(columns: &[String]) -> Vec<String> {
    columns.iter().map(|column| guard(column).into_owned()).collect()
}

/// Which columns hold secrets, whose cells are written exactly (unguarded).
pub(crate) fn secret_columns(columns: &[String]) -> Vec<bool> {
    columns.iter().map(|column| is_secret_column(column)).collect()
}

/// A cell as written into a text file: exactly in a secret column,
/// guarded elsewhere.
fn field_text(cell: &Cell, secret: bool) -> String {
    if secret {
        cell.text()
    } else {
        cell.sheet_text()
    }
}

/// One row of text fields, padded to the width of the header; `secret`
/// says which columns hold secrets ([`secret_columns`]).
pub(crate) fn text_record(row: &[Cell], secret: &[bool]) -> Vec<String> {
    let mut record: Vec<String> =
        row.iter().enumerate().map(|(at, cell)| field_text(cell, secret.get(at) == Some(&true))).collect();
    record.resize(secret.len().max(record.len()), String::new());
    record
}

/// The whole delimited file.
fn render_text(path: &Path, columns: &[String], rows: &[Vec<Cell>], delimiter: u8) -> Result<Vec<u8>, RosterError> {
    let mut writer = csv::WriterBuilder::new().delimiter(delimiter).flexible(true).from_writer(Vec::new());
    let write_error = |error: csv::Error| RosterError::write(path, error.into());
    writer.write_record(header_record(columns)).map_err(write_error)?;
    let secret = secret_columns(columns);
    for row in rows {
        writer.write_record(text_record(row, &secret)).map_err(write_error)?;
    }
    writer.into_inner().map_err(|error| RosterError::write(path, error.into_error()))
}

/// The whole Excel workbook.
pub(crate) fn render_xlsx(path: &Path, columns: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>, RosterError> {
    let xlsx_error =
        |error: rust_xlsxwriter::XlsxError| RosterError::Xlsx { path: path.to_path_buf(), reason: error.to_string() };
    let too_big = |what: &str| RosterError::Xlsx {
        path: path.to_path_buf(),
        reason: format!("too many {what} for one Excel sheet"),
    };
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = XlsxFormat::new().set_bold();
    // Widest text per column, in characters.
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    // An XLSX string cell is never run as a formula: secrets need no guard.
    let secret = secret_columns(columns);

    for (index, name) in columns.iter().enumerate() {
        let col = u16::try_from(index).map_err(|_| too_big("columns"))?;
        sheet.write_string_with_format(0, col, guard(name), &bold).map_err(xlsx_error)?;
    }
    for (index, row) in rows.iter().enumerate() {
        let line = u32::try_from(index + 1).map_err(|_| too_big("rows"))?;
        for (index, cell) in row.iter().enumerate() {
            let col = u16::try_from(index).map_err(|_| too_big("columns"))?;
            if let Some(width) = widths.get_mut(index) {
                *width = (*width).max(cell.sheet_text().chars().count());
            }
            match cell {
                Cell::Empty => continue,
                Cell::Text(text) if secret.get(index) == Some(&true) => sheet.write_string(line, col, text),
                Cell::Text(text) => sheet.write_string(line, col, guard(text)),
                Cell::Bool(value) => sheet.write_boolean(line, col, *value),
                Cell::Int(value) if (*value as f64).abs() <= EXACT_FLOAT_INT => {
                    sheet.write_number(line, col, *value as f64)
                }
                Cell::Int(value) => sheet.write_string(line, col, value.to_string()),
                Cell::Float(value) if value.is_finite() => sheet.write_number(line, col, *value),
                Cell::Float(value) => sheet.write_string(line, col, number_text(*value)),
            }
            .map_err(xlsx_error)?;
        }
    }
    if !columns.is_empty() {
        let last_row = u32::try_from(rows.len()).map_err(|_| too_big("rows"))?;
        let last_col = u16::try_from(columns.len() - 1).map_err(|_| too_big("columns"))?;
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        sheet.autofilter(0, 0, last_row, last_col).map_err(xlsx_error)?;
        for (index, width) in widths.iter().enumerate() {
            let col = u16::try_from(index).map_err(|_| too_big("columns"))?;
            // Room for the filter button; at least 8, at most 60 characters.
            let width = (*width + 3).clamp(8, 60);
            sheet.set_column_width(col, width as f64).map_err(xlsx_error)?;
        }
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it
/// to `path` (over an existing file only with [`Existing::Replace`]).
/// `private` files get mode 0600; others 0666 less the umask. On error the
/// temporary file is removed and `path` is untouched.
pub(crate) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    private: bool,
    existing: Existing,
) -> Result<(), RosterError> {
    let fail = |error| RosterError::write(path, error);
    let Some(name) = path.file_name() else {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path does not end in a file name",
        )));
    };
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if private { 0o600 } else { 0o666 };
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = builder.tempfile_in(folder).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    match existing {
        Existing::Replace => file.persist(path).map(|_| ()),
        Existing::Refuse => file.persist_noclobber(path).map(|_| ()),
    }
    .map_err(|error| match error.error.kind() {
        std::io::ErrorKind::AlreadyExists if existing == Existing::Refuse => {
            RosterError::OutputExists { path: path.to_path_buf() }
        }
        _ => fail(error.error),
    })?;
    sync_folder(folder);
    Ok(())
}

/// Makes a rename durable; best effort (not every platform can sync a folder).
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(folder) = std::fs::File::open(folder) {
        let _ = folder.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn output_follows_the_extension() {
        assert_eq!(Output::for_path(Path::new("a.XLSX")).unwrap(), Output::Xlsx);
        assert_eq!(Output::for_path(Path::new("a.xls")).unwrap(), Output::Xlsx);
        assert_eq!(Output::for_path(Path::new("a.tsv")).unwrap(), Output::Text(b'\t'));
        assert_eq!(Output::for_path(Path::new("a.txt")).unwrap(), Output::Text(b','));
        assert_eq!(
            Output::for_path(Path::new("a.ods")).unwrap_err().to_string(),
            "cannot write `a.ods`: jhctl writes .csv, .tsv, .xlsx and .xls files, not .ods; choose one of those extensions"
        );
    }

    #[test]
    fn csv_text_pads_short_rows_and_quotes_when_needed() {
        let bytes = render_text(
            Path::new("a.csv"),
            &columns(&["username", "admin", "note"]),
            &[
                vec![Cell::from("ann"), Cell::Bool(false)],
                vec![Cell::from("bob"), Cell::Bool(true), Cell::from("a, b")],
                vec![Cell::Float(1001.0), Cell::Int(0), Cell::Empty],
            ],
            b',',
        )
        .unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "username,admin,note\nann,false,\nbob,true,\"a, b\"\n1001,0,\n");
    }

    #[test]
    fn long_rows_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        let error = write(
            &path,
            &columns(&["username"]),
            &[vec![Cell::from("ann")], vec![Cell::from("bob"), Cell::from("x")]],
            Existing::Refuse,
        )
        .unwrap_err();
        assert!(
            error.to_string().ends_with(
                "row 3 has 2 cells but there are only 1 columns; give every row at most one cell per column"
            ),
            "{error}"
        );
        assert!(!path.exists());
    }
}
