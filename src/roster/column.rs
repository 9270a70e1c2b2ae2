//! The columns jhctl understands — `username`, `admin`, `password`, `quota`,
//! `groups` — and how a cell of each becomes a value. Each parser returns
//! the problem and its fix as text; the row builder adds file, row and column.

use super::grid::RawCell;

/// Header of the required column of login names.
pub const USERNAME: &str = "username";
/// Header of the optional yes/no column granting admin rights.
pub const ADMIN: &str = "admin";
/// Header of the optional column of passwords to set.
pub const PASSWORD: &str = "password";
/// Header of the optional column of quota amounts.
pub const QUOTA: &str = "quota";
/// Header of the optional column of `;`-separated group names.
pub const GROUPS: &str = "groups";

/// The largest quota amount, up or down, a roster may hold.
pub const QUOTA_LIMIT: i64 = 10_000_000;

/// Reads a yes/no value the way rosters spell it: `true`/`false`, `1`/`0`,
/// `yes`/`no`, `y`/`n`, `t`/`f` in any case, surrounding spaces ignored.
/// Blank means `false`; anything else is `None`.
///
/// ```
/// use jhctl::roster::parse_bool;
/// assert_eq!(parse_bool(" TRUE "), Some(true));
/// assert_eq!(parse_bool("n"), Some(false));
/// assert_eq!(parse_bool(""), Some(false));
/// assert_eq!(parse_bool("maybe"), None);
/// ```
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" | "" => Some(false),
        _ => None,
    }
}

/// True for columns whose cells are secrets (passwords, tokens): files with
/// such a column are written with mode 0600, and `Debug` output hides them.
pub fn is_secret_column(header: &str) -> bool {
    let header = header.trim().to_lowercase();
    ["password", "token", "secret"].iter().any(|word| header.contains(word))
}

/// Refuses spreadsheet error cells (`#N/A`, `#REF!`, ...) in known columns.
fn no_error(cell: &RawCell) -> Result<(), String> {
    match cell {
        RawCell::Error(text) => {
            Err(format!("the cell holds the spreadsheet error `{text}`; fix the formula or type the value"))
        }
        _ => Ok(()),
    }
}

/// The login name, normalised by [`crate::username::normalize`].
pub(crate) fn username(cell: &RawCell) -> Result<String, String> {
    no_error(cell)?;
    crate::username::normalize(&cell.text()).map_err(|error| error.to_string())
}

/// The admin flag: booleans, 1/0 numbers and [`parse_bool`] text.
pub(crate) fn admin(cell: &RawCell) -> Result<bool, String> {
    no_error(cell)?;
    let parsed = match cell {
        RawCell::Bool(value) => Some(*value),
        RawCell::Int(1) => Some(true),
        RawCell::Int(0) => Some(false),
        RawCell::Number(value) if *value == 1.0 => Some(true),
        RawCell::Number(value) if *value == 0.0 => Some(false),
        RawCell::Int(_) | RawCell::Number(_) => None,
        _ => parse_bool(&cell.text()),
    };
    parsed.ok_or_else(|| {
        format!(
            "`{}` is not a yes/no value; use true/false, yes/no, y/n or 1/0, or leave it blank for false",
            cell.text()
        )
    })
}

/// The password: the cell's text without surrounding spaces; `None` when blank.
pub(crate) fn password(cell: &RawCell) -> Result<Option<String>, String> {
    no_error(cell)?;
    let text = cell.exact_text();
    Ok((!text.is_empty()).then_some(text))
}

/// The quota: a whole number within ±[`QUOTA_LIMIT`]; `None` when blank.
pub(crate) fn quota(cell: &RawCell) -> Result<Option<i64>, String> {
    no_error(cell)?;
    let text = cell.text();
    if text.is_empty() {
        return Ok(None);
    }
    let fix = format!("use a whole number from -{QUOTA_LIMIT} to {QUOTA_LIMIT}, or leave it blank");
    let value = match cell {
        RawCell::Int(value) => Some(*value),
        RawCell::Number(value) if value.fract() == 0.0 && value.abs() < 1e15 => Some(*value as i64),
        RawCell::Text(_) => whole_number(&text),
        _ => None,
    };
    match value {
        Some(value) if value.abs() <= QUOTA_LIMIT => Ok(Some(value)),
        Some(_) => Err(format!("`{text}` is out of range; {fix}")),
        None => Err(format!("`{text}` is not a whole number; {fix}")),
    }
}

/// Parses `[+-]digits` with an optional all-zero fraction (`100.0`, as pandas
/// writes integers in a column with blanks).
fn whole_number(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !fraction.chars().all(|c| c == '0') {
        return None;
    }
    let digits = whole.strip_prefix(['+', '-']).unwrap_or(whole);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Too many digits for i64 is simply out of range.
    Some(whole.parse().unwrap_or(i64::MAX))
}

/// The groups: `;`-separated names, trimmed, blanks and repeats dropped.
pub(crate) fn groups(cell: &RawCell) -> Result<Vec<String>, String> {
    no_error(cell)?;
    let mut groups: Vec<String> = Vec::new();
    for group in cell.text().split(';').map(str::trim) {
        if !group.is_empty() && !groups.iter().any(|seen| seen == group) {
            groups.push(group.to_string());
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> RawCell {
        RawCell::Text(value.to_string())
    }

    #[test]
    fn booleans_in_every_spelling() {
        for yes in ["true", "TRUE", "True", "1", "yes", "Y", "t", " y "] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["false", "FALSE", "0", "no", "N", "f", "", "  "] {
            assert_eq!(parse_bool(no), Some(false), "{no:?}");
        }
        for neither in ["maybe", "2", "yess", "oui"] {
            assert_eq!(parse_bool(neither), None, "{neither}");
        }
    }

    #[test]
    fn admin_accepts_excel_booleans_and_numbers() {
        assert_eq!(admin(&RawCell::Bool(true)), Ok(true));
        assert_eq!(admin(&RawCell::Number(1.0)), Ok(true));
        assert_eq!(admin(&RawCell::Int(0)), Ok(false));
        assert_eq!(admin(&RawCell::Empty), Ok(false));
        assert_eq!(
            admin(&text("maybe")),
            Err("`maybe` is not a yes/no value; use true/false, yes/no, y/n or 1/0, or leave it blank for false".into())
        );
        assert!(admin(&RawCell::Number(2.0)).is_err());
        assert_eq!(
            admin(&RawCell::Error("#N/A".into())),
            Err("the cell holds the spreadsheet error `#N/A`; fix the formula or type the value".into())
        );
    }

    #[test]
    fn quota_is_a_bounded_whole_number() {
        assert_eq!(quota(&text("100")), Ok(Some(100)));
        assert_eq!(quota(&text(" -5 ")), Ok(Some(-5)));
        assert_eq!(quota(&text("100.0")), Ok(Some(100)));
        assert_eq!(quota(&RawCell::Number(250.0)), Ok(Some(250)));
        assert_eq!(quota(&RawCell::Empty), Ok(None));
        assert_eq!(quota(&text("10000000")), Ok(Some(10_000_000)));
        assert_eq!(
            quota(&text("10000001")),
            Err("`10000001` is out of range; use a whole number from -10000000 to 10000000, or leave it blank".into())
        );
        assert!(quota(&text("99999999999999999999999")).is_err());
        assert_eq!(
            quota(&text("lots")),
            Err("`lots` is not a whole number; use a whole number from -10000000 to 10000000, or leave it blank".into())
        );
        for bad in ["1.5", "1e3", "1,000", "+", "nan", "inf"] {
            assert!(quota(&text(bad)).is_err(), "{bad}");
        }
        assert!(quota(&RawCell::Number(2.5)).is_err());
        assert!(quota(&RawCell::Bool(true)).is_err());
    }

    #[test]
    fn groups_split_on_semicolons() {
        assert_eq!(groups(&text(" math ; physics;;math; ")), Ok(vec!["math".to_string(), "physics".to_string()]));
        assert_eq!(groups(&RawCell::Empty), Ok(vec![]));
    }

    #[test]
    fn passwords_keep_their_inside_and_numbers_are_plain() {
        assert_eq!(password(&text(" a b ")), Ok(Some("a b".into())));
        assert_eq!(password(&RawCell::Number(1234.0)), Ok(Some("1234".into())));
        assert_eq!(password(&text("  ")), Ok(None));
    }

    #[test]
    fn secret_columns() {
        assert!(is_secret_column("password"));
        assert!(is_secret_column(" API-Token "));
        assert!(!is_secret_column("username"));
    }
}
