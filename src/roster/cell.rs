//! One cell of a sheet to write, and the one rule for turning numbers into
//! text that reading and writing share: 1001 is "1001", never "1001.0".

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
    fn converts_from_plain_values_and_json() {
        assert_eq!(Cell::from("x"), Cell::Text("x".into()));
        assert_eq!(Cell::from(None::<bool>), Cell::Empty);
        assert_eq!(Cell::from(Some(true)), Cell::Bool(true));
        let cells: Vec<Cell> = serde_json::from_str(r#"[null, "a", true, 3, 2.5]"#).unwrap();
        assert_eq!(cells, vec![Cell::Empty, Cell::Text("a".into()), Cell::Bool(true), Cell::Int(3), Cell::Float(2.5)]);
    }
}
