//! Workbook rosters (XLSX, XLSM, XLS, XLSB, ODS) through calamine. The
//! reader is picked by the file's first bytes, not only its extension, so a
//! renamed file reads or fails with a clear message instead of a panic; and
//! cells become text the way a user sees them (1001, not 1001.0; dates ISO).

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, ExcelDateTime, Ods, Reader, Sheets, Xls, Xlsb, Xlsx};

use super::error::RosterError;
use super::format::{Format, OLE_MAGIC, ZIP_MAGIC};
use super::grid::{Grid, RawCell};

/// Reads one sheet of a workbook: `sheet` by name (exact, else ignoring case
/// and surrounding spaces), or the first sheet.
pub(crate) fn read_workbook(
    path: &Path,
    bytes: &[u8],
    format: Format,
    sheet: Option<&str>,
) -> Result<Grid, RosterError> {
    if bytes.is_empty() {
        return Err(RosterError::Empty { path: path.to_path_buf(), sheet: None });
    }
    let mut workbook = open(path, bytes, format)?;
    let names = workbook.sheet_names();
    let name = pick_sheet(path, &names, sheet)?;
    let range = workbook.worksheet_range(&name).map_err(|error| classify(path, format, error))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let rows = range
        .rows()
        .enumerate()
        .map(|(index, row)| (first_row + index + 1, row.iter().map(raw_cell).collect()))
        .collect();
    Ok(Grid { sheet: Some(name), rows })
}

/// Opens the workbook with the reader its first bytes call for.
fn open<'a>(path: &Path, bytes: &'a [u8], format: Format) -> Result<Sheets<Cursor<&'a [u8]>>, RosterError> {
    let opened = if bytes.starts_with(ZIP_MAGIC) {
        if is_ods(bytes) {
            Ods::new(Cursor::new(bytes)).map(Sheets::Ods).map_err(calamine::Error::Ods)
        } else if format == Format::Xlsb {
            Xlsb::new(Cursor::new(bytes)).map(Sheets::Xlsb).map_err(calamine::Error::Xlsb)
        } else {
            Xlsx::new(Cursor::new(bytes)).map(Sheets::Xlsx).map_err(calamine::Error::Xlsx)
        }
    } else if bytes.starts_with(OLE_MAGIC) {
        Xls::new(Cursor::new(bytes)).map(Sheets::Xls).map_err(|error| {
            // An encrypted .xlsx is an OLE file too; only the XLSX reader
            // recognises it, and says so.
            match Xlsx::new(Cursor::new(bytes)) {
                Err(calamine::XlsxError::Password) => calamine::Error::Xlsx(calamine::XlsxError::Password),
                _ => calamine::Error::Xls(error),
            }
        })
    } else {
        let reason = if std::str::from_utf8(&bytes[..bytes.len().min(4096)]).is_ok() {
            "it holds text, not a workbook; if it is CSV, rename it to end in .csv"
        } else {
            "it does not start like a workbook"
        };
        return Err(RosterError::NotSpreadsheet {
            path: path.to_path_buf(),
            kind: format.kind(),
            reason: reason.to_string(),
        });
    };
    opened.map_err(|error| classify(path, format, error))
}

/// True when a ZIP archive is an OpenDocument spreadsheet: its first entry
/// is the `mimetype` file naming one.
fn is_ods(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256)];
    head.windows(b"opendocument.spreadsheet".len()).any(|window| window == b"opendocument.spreadsheet")
}

/// Turns a calamine error into the roster error a user can act on.
fn classify(path: &Path, format: Format, error: calamine::Error) -> RosterError {
    use calamine::{Error, OdsError, XlsError, XlsbError, XlsxError};
    match error {
        Error::Xls(XlsError::Password)
        | Error::Xlsx(XlsxError::Password)
        | Error::Xlsb(XlsbError::Password)
        | Error::Ods(OdsError::Password) => RosterError::PasswordProtected { path: path.to_path_buf() },
        error => {
            RosterError::NotSpreadsheet { path: path.to_path_buf(), kind: format.kind(), reason: error.to_string() }
        }
    }
}

/// The sheet to read: the named one, or the first.
fn pick_sheet(path: &Path, names: &[String], wanted: Option<&str>) -> Result<String, RosterError> {
    let Some(wanted) = wanted else {
        return names.first().cloned().ok_or_else(|| RosterError::Empty { path: path.to_path_buf(), sheet: None });
    };
    if let Some(name) = names.iter().find(|name| *name == wanted) {
        return Ok(name.clone());
    }
    let folded = wanted.trim().to_lowercase();
    let mut close = names.iter().filter(|name| name.trim().to_lowercase() == folded);
    match (close.next(), close.next()) {
        (Some(name), None) => Ok(name.clone()),
        _ => Err(RosterError::SheetNotFound {
            path: path.to_path_buf(),
            sheet: wanted.to_string(),
            available: names.to_vec(),
        }),
    }
}

/// One calamine cell as a raw cell.
fn raw_cell(cell: &Data) -> RawCell {
    match cell {
        Data::Empty => RawCell::Empty,
        Data::String(text) => RawCell::Text(text.clone()),
        Data::Int(value) => RawCell::Int(*value),
        Data::Float(value) => RawCell::Number(*value),
        Data::Bool(value) => RawCell::Bool(*value),
        Data::DateTime(value) => RawCell::Text(date_text(value)),
        Data::DateTimeIso(text) | Data::DurationIso(text) => RawCell::Text(text.clone()),
        Data::Error(error) => RawCell::Error(error.to_string()),
    }
}

/// An Excel date, time or duration as ISO 8601 text: `2024-09-01`,
/// `2024-09-01T08:30:00`, `08:30:00`; durations as `hours:mm:ss`.
fn date_text(value: &ExcelDateTime) -> String {
    if value.is_duration() {
        let seconds = (value.as_f64() * 86_400.0).round() as i64;
        let sign = if seconds < 0 { "-" } else { "" };
        let seconds = seconds.unsigned_abs();
        return format!("{sign}{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }
    let Some(datetime) = value.as_datetime() else {
        return super::cell::number_text(value.as_f64());
    };
    if (0.0..1.0).contains(&value.as_f64()) {
        datetime.format("%H:%M:%S").to_string()
    } else if datetime.time() == chrono::NaiveTime::MIN {
        datetime.format("%Y-%m-%d").to_string()
    } else {
        datetime.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::ExcelDateTimeType;

    #[test]
    fn dates_become_iso_text() {
        let date = |value, kind| date_text(&ExcelDateTime::new(value, kind, false));
        assert_eq!(date(45536.0, ExcelDateTimeType::DateTime), "2024-09-01");
        assert_eq!(date(45536.5, ExcelDateTimeType::DateTime), "2024-09-01T12:00:00");
        assert_eq!(date(0.25, ExcelDateTimeType::DateTime), "06:00:00");
        assert_eq!(date(1.5, ExcelDateTimeType::TimeDelta), "36:00:00");
    }

    #[test]
    fn sheets_are_picked_by_name_ignoring_case() {
        let names = vec!["Sheet1".to_string(), "Students".to_string()];
        let path = Path::new("c.xlsx");
        assert_eq!(pick_sheet(path, &names, None).unwrap(), "Sheet1");
        assert_eq!(pick_sheet(path, &names, Some("Students")).unwrap(), "Students");
        assert_eq!(pick_sheet(path, &names, Some(" students")).unwrap(), "Students");
        let error = pick_sheet(path, &names, Some("Staff")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "roster `c.xlsx` has no sheet `Staff`; its sheets are `Sheet1`, `Students`; pick one of them"
        );
    }

    #[test]
    fn text_renamed_to_xlsx_is_refused_with_a_hint() {
        let error = read_workbook(Path::new("c.xlsx"), b"username\nann\n", Format::Xlsx, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "roster `c.xlsx` is not a valid Excel file (it holds text, not a workbook; if it is \
             CSV, rename it to end in .csv); open it in Excel or LibreOffice and save it again \
             as .xlsx, or save it as CSV"
        );
    }
}
