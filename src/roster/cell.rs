//! One cell of a sheet to write, and the rules reading and writing share:
//! numbers as text (1001 is "1001", never "1001.0"), and the guard against
//! CSV injection.
//!
//! **CSV injection** (OWASP): a spreadsheet runs a cell that starts with
//! `=`, `+`, `-`, `@`, a tab or a carriage return as a formula, and names
//! and group names come from the hub, where anyone may have picked them.
//! So every text cell jhctl writes (CSV, TSV and XLSX, headers included)
//! that starts with one of those gets a leading `'` ([`guard`]); number
//! cells, and text that is a plain number such as `-5`, are left alone.
//! Reading takes the guard off again ([`unguard`]), so a file jhctl wrote
//! reads back exactly: text whose first character after any leading `'` is
//! one of those six also gets a `'` when written (`'=x` is written `''=x`),
//! and reading removes exactly one `'` from text of that shape.
//!
//! **Secrets are exact.** A cell of a secret column (`password`, `*token*`,
//! `*secret*`) holds exactly the secret: it is written without the guard
//! (an XLSX string cell is never run as a formula; a CSV sheet with such a
//! password should be opened as text) and read without taking one off, so
//! the password on a sheet is the password the hub holds.

use serde::{Deserialize, Serialize};

/// A value to write into one cell of a roster or password sheet.
///
/// Serialises untagged (`null`, a string, a bool, an integer or a float), so
/// script values convert straight into it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// Nothing: an empty CSV field or an untouched Excel cell.
    #[default]
    Empty,
    /// Text, written as text even when it looks like a number or a formula.
    Text(String),
    /// A boolean: `true`/`false` in CSV, a real TRUE/FALSE cell in Excel.
    Bool(bool),
    /// An integer: a number cell in Excel.
    Int(i64),
    /// A floating-point number: a number cell in Excel.
    Float(f64),
}

impl Cell {
    /// The cell as written into a file: [`Cell::text`], with a `'` in
    /// front of text a spreadsheet would run as a formula (`=1+1` is
    /// written `'=1+1`; see the module docs).
    pub fn sheet_text(&self) -> String {
        match self {
            Cell::Text(text) => guard(text).into_owned(),
            other => other.text(),
        }
    }

    /// The cell as CSV text: booleans as `true`/`false`, integral floats
    /// without a fraction (`1001.0` is `1001`).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Bool(value) => value.to_string(),
            Cell::Int(value) => value.to_string(),
            Cell::Float(value) => number_text(*value),
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<bool> for Cell {
    fn from(value: bool) -> Cell {
        Cell::Bool(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Cell {
        Cell::Int(value)
    }
}

impl From<f64> for Cell {
    fn from(value: f64) -> Cell {
        Cell::Float(value)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Cell {
        value.map_or(Cell::Empty, Into::into)
    }
}

/// First characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when `text`, after any leading `'`, starts like a formula.
pub(crate) fn formula_like(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// True for text that is just a number, such as `-5`, `+1.5` or `-2e3`.
fn plain_number(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E')) && text.parse::<f64>().is_ok()
}

/// `text` as written into a cell: with a leading `'` when a spreadsheet
/// would run it as a formula, or when it would otherwise be read back as a
/// guarded cell. Plain numbers stay as they are.
pub(crate) fn guard(text: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(text) && !plain_number(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// `text` as read from a cell: [`guard`] undone (one leading `'` taken off
/// text that is `'` followed by a formula-like text).
pub(crate) fn unguard(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => text,
    }
}

/// Largest integer a float holds exactly (2^53).
pub(crate) const EXACT_FLOAT_INT: f64 = 9_007_199_254_740_992.0;

/// A number as a spreadsheet user would type it: integral values without a
/// fraction (`1001.0` → `1001`), others in their shortest exact form.
pub(crate) fn number_text(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= EXACT_FLOAT_INT {
        // Exact: the value is integral and within the range floats hold exactly.
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_numbers_have_no_fraction() {
        assert_eq!(number_text(1001.0), "1001");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(Cell::Float(1001.0).text(), "1001");
        assert_eq!(Cell::Int(7).text(), "7");
        assert_eq!(Cell::Bool(false).text(), "false");
        assert_eq!(Cell::Empty.text(), "");
    }

    #[test]
    fn formulas_are_guarded_and_numbers_are_not() {
        for (text, written) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''@x", "'''@x"),
            ("-", "'-"),
            ("-5", "-5"),
            ("+1.5", "+1.5"),
            ("-2e3", "-2e3"),
            ("ann", "ann"),
            ("a=b", "a=b"),
            ("'quoted'", "'quoted'"),
            ("", ""),
        ] {
            assert_eq!(guard(text), written, "{text:?}");
            assert_eq!(unguard(&guard(text)), text, "{text:?} does not read back");
        }
        assert_eq!(Cell::from("=1").sheet_text(), "'=1");
        assert_eq!(Cell::Int(-5).sheet_text(), "-5");
        assert_eq!(Cell::Float(-1.5).sheet_text(), "-1.5");
        // A `'` a person typed before a formula-like text is taken as the guard.
        assert_eq!(unguard("'-5"), "-5");
        assert_eq!(unguard("'ann"), "'ann");
    }

    #[test]
    fn converts_from_plain_values_and_json() {
        assert_eq!(Cell::from("x"), Cell::Text("x".into()));
        assert_eq!(Cell::from(None::<bool>), Cell::Empty);
        assert_eq!(Cell::from(Some(true)), Cell::Bool(true));
        let cells: Vec<Cell> = serde_json::from_str(r#"[null, "a", true, 3, 2.5]"#).unwrap();
        assert_eq!(cells, vec![Cell::Empty, Cell::Text("a".into()), Cell::Bool(true), Cell::Int(3), Cell::Float(2.5)]);
    }
}
