//! Which kind of file a roster path names, decided by its extension (any
//! case) and, for workbooks, confirmed by the first bytes of the file — so an
//! `.xls` that is really an `.xlsx` (as jhctl writes them) still reads.

use std::path::Path;

/// The kind of roster file, as told by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated text (also `;` or tab, sniffed); any unknown extension.
    Csv,
    /// Tab-separated text: `.tsv` or `.tab`.
    Tsv,
    /// Excel 2007+ workbook: `.xlsx` or `.xlsm`.
    Xlsx,
    /// Excel 97-2003 workbook: `.xls`.
    Xls,
    /// Excel binary workbook: `.xlsb`.
    Xlsb,
    /// OpenDocument spreadsheet (LibreOffice): `.ods`.
    Ods,
}

impl Format {
    /// The format a path's extension names, ignoring case; anything unknown
    /// (or no extension) is CSV.
    pub fn from_path(path: &Path) -> Format {
        match extension(path).as_str() {
            "tsv" | "tab" => Format::Tsv,
            "xlsx" | "xlsm" => Format::Xlsx,
            "xls" => Format::Xls,
            "xlsb" => Format::Xlsb,
            "ods" => Format::Ods,
            _ => Format::Csv,
        }
    }

    /// True for spreadsheet workbooks, false for delimited text.
    pub fn is_workbook(self) -> bool {
        !matches!(self, Format::Csv | Format::Tsv)
    }

    /// How a user would name this kind of file in a message.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Format::Ods => "OpenDocument spreadsheet",
            Format::Csv | Format::Tsv => "text file",
            Format::Xlsx | Format::Xls | Format::Xlsb => "Excel file",
        }
    }
}

/// The path's extension, lower-cased; empty when there is none.
pub(crate) fn extension(path: &Path) -> String {
    path.extension().map(|ext| ext.to_string_lossy().to_lowercase()).unwrap_or_default()
}

/// The first bytes of every ZIP archive (XLSX, XLSB, ODS).
pub(crate) const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// The first bytes of every OLE compound file (XLS, and encrypted XLSX).
pub(crate) const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// True when `bytes` start like a workbook rather than text.
pub(crate) fn looks_like_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(OLE_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_decides_and_case_does_not_matter() {
        assert_eq!(Format::from_path(Path::new("a.CSV")), Format::Csv);
        assert_eq!(Format::from_path(Path::new("a.Tsv")), Format::Tsv);
        assert_eq!(Format::from_path(Path::new("a.tab")), Format::Tsv);
        assert_eq!(Format::from_path(Path::new("a.XLSX")), Format::Xlsx);
        assert_eq!(Format::from_path(Path::new("a.xlsm")), Format::Xlsx);
        assert_eq!(Format::from_path(Path::new("a.xls")), Format::Xls);
        assert_eq!(Format::from_path(Path::new("a.xlsb")), Format::Xlsb);
        assert_eq!(Format::from_path(Path::new("a.ODS")), Format::Ods);
        assert_eq!(Format::from_path(Path::new("a.txt")), Format::Csv);
        assert_eq!(Format::from_path(Path::new("roster")), Format::Csv);
        assert!(Format::Ods.is_workbook());
        assert!(!Format::Tsv.is_workbook());
    }
}
