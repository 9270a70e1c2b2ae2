//! The table a file holds before any roster rule is applied: rows of raw
//! cells, each with the row number a spreadsheet user sees. Text files and
//! workbooks both read into it, so validation is written once.

use super::cell::{number_text, unguard};

/// One cell as the file stored it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawCell {
    /// Nothing in the cell.
    Empty,
    /// Text (every CSV field; dates from workbooks as ISO text).
    Text(String),
    /// A workbook boolean cell.
    Bool(bool),
    /// A workbook integer cell.
    Int(i64),
    /// A workbook number cell.
    Number(f64),
    /// A workbook error cell such as `#N/A`, with its display text.
    Error(String),
}

impl RawCell {
    /// The cell as text, trimmed of surrounding white space, with the
    /// guard against CSV injection that jhctl writes taken off.
    pub(crate) fn text(&self) -> String {
        match self {
            RawCell::Empty => String::new(),
            RawCell::Text(text) => unguard(text).trim().to_string(),
            RawCell::Bool(value) => value.to_string(),
            RawCell::Int(value) => value.to_string(),
            RawCell::Number(value) => number_text(*value),
            RawCell::Error(text) => text.clone(),
        }
    }

    /// The cell as text, trimmed of surrounding white space, exactly as the
    /// file holds it otherwise: for secret columns, which are written
    /// without the guard against CSV injection (a password `'-x` is `'-x`).
    pub(crate) fn exact_text(&self) -> String {
        match self {
            RawCell::Text(text) => text.trim().to_string(),
            other => other.text(),
        }
    }

    /// True when the cell is empty or holds only white space.
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            RawCell::Empty => true,
            RawCell::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }
}

/// Rows read from one file or sheet.
#[derive(Debug, Default)]
pub(crate) struct Grid {
    /// The sheet read, for workbooks.
    pub(crate) sheet: Option<String>,
    /// Every row, blank ones included, with its spreadsheet row number.
    pub(crate) rows: Vec<(usize, Vec<RawCell>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_numbers_are_plain() {
        assert_eq!(RawCell::Text("  Ann ".into()).text(), "Ann");
        assert_eq!(RawCell::Number(1001.0).text(), "1001");
        assert_eq!(RawCell::Bool(true).text(), "true");
        assert!(RawCell::Text(" \t".into()).is_blank());
        assert!(!RawCell::Number(0.0).is_blank());
    }
}
