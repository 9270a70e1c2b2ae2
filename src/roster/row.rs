//! A roster as callers use it: the header, one validated [`Row`] per user
//! and the warnings worth showing. This is where the roster rules live: the
//! `username` column is required, blank rows are skipped, duplicates are
//! used once, and a bad row is kept with its error instead of stopping the file.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::column::{self, is_secret_column, ADMIN, GROUPS, PASSWORD, QUOTA, USERNAME};
use super::error::RosterError;
use super::format::Format;
use super::grid::{Grid, RawCell};

/// A roster file, read and checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Roster {
    /// The file, as given to [`crate::roster::read`].
    pub path: PathBuf,
    /// What kind of file it was.
    pub format: Format,
    /// The sheet that was read, for workbooks.
    pub sheet: Option<String>,
    /// The column headers, trimmed and lower-cased, in file order (blank and
    /// repeated headers left out).
    pub headers: Vec<String>,
    /// One row per user, invalid ones included (with [`Row::error`] set);
    /// blank rows and later duplicates are left out.
    pub rows: Vec<Row>,
    /// Things the user should know that did not stop any row: duplicates,
    /// repeated headers, cells outside the named columns, a roster with no users.
    pub warnings: Vec<String>,
}

impl Roster {
    /// True when the header row has the column `name` (trimmed, any case).
    pub fn has_column(&self, name: &str) -> bool {
        let name = name.trim().to_lowercase();
        self.headers.contains(&name)
    }

    /// The rows that passed every check.
    pub fn valid_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|row| row.error.is_none())
    }

    /// The rows with an error.
    pub fn invalid_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|row| row.error.is_some())
    }

    /// The usernames of the valid rows, in file order.
    pub fn usernames(&self) -> Vec<String> {
        self.valid_rows().filter_map(|row| row.username.clone()).collect()
    }
}

/// One user's row. `Debug` output hides passwords and other secrets.
#[derive(Clone, PartialEq, Serialize)]
pub struct Row {
    /// The row number a spreadsheet user sees (the header is usually row 1).
    pub number: usize,
    /// The normalised username; `None` when the row is invalid.
    pub username: Option<String>,
    /// The admin flag; `None` without an `admin` column (a blank cell is `Some(false)`).
    pub admin: Option<bool>,
    /// The password, without surrounding spaces; `None` without a `password`
    /// column or when the cell is blank. A number cell 1234 is `"1234"`.
    pub password: Option<String>,
    /// The quota amount; `None` without a `quota` column or when the cell is blank.
    pub quota: Option<i64>,
    /// The groups (`;`-separated in the cell); `None` without a `groups` column.
    pub groups: Option<Vec<String>>,
    /// Every named column as (normalised header, cell text without
    /// surrounding spaces), in header order.
    pub fields: Vec<(String, String)>,
    /// What is wrong with the row, naming file, row, column and fix; `None`
    /// when the row is valid.
    pub error: Option<String>,
}

impl Row {
    /// True when the row passed every check.
    pub fn is_valid(&self) -> bool {
        self.error.is_none()
    }

    /// The text of the cell under `header` (normalised header name).
    pub fn field(&self, header: &str) -> Option<&str> {
        self.fields.iter().find(|(name, _)| name == header).map(|(_, value)| value.as_str())
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = "<hidden>".to_string();
        let fields: Vec<(&String, &String)> = self
            .fields
            .iter()
            .map(|(name, value)| {
                let shown = if is_secret_column(name) && !value.is_empty() { &hidden } else { value };
                (name, shown)
            })
            .collect();
        f.debug_struct("Row")
            .field("number", &self.number)
            .field("username", &self.username)
            .field("admin", &self.admin)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("quota", &self.quota)
            .field("groups", &self.groups)
            .field("fields", &fields)
            .field("error", &self.error)
            .finish()
    }
}

/// Applies the roster rules to a grid read from `path`.
pub(crate) fn build(path: &Path, format: Format, grid: Grid) -> Result<Roster, RosterError> {
    let shown = path.display();
    let mut rows = grid.rows.into_iter().filter(|(_, cells)| !cells.iter().all(RawCell::is_blank));
    let Some((header_row, header_cells)) = rows.next() else {
        return Err(RosterError::Empty { path: path.to_path_buf(), sheet: grid.sheet });
    };

    let mut warnings = Vec::new();
    // (index in the row, normalised header)
    let mut columns: Vec<(usize, String)> = Vec::new();
    // Every cell index under a header, repeated headers included.
    let mut named = Vec::new();
    for (index, cell) in header_cells.iter().enumerate() {
        let name = cell.text().to_lowercase();
        if name.is_empty() {
            continue;
        }
        named.push(index);
        if columns.iter().any(|(_, seen)| *seen == name) {
            warnings.push(format!(
                "roster `{shown}`: column `{name}` appears more than once in the header row; only the first one is read"
            ));
            continue;
        }
        columns.push((index, name));
    }
    let headers: Vec<String> = columns.iter().map(|(_, name)| name.clone()).collect();
    let find = |wanted: &str| columns.iter().find(|(_, name)| name == wanted).map(|(index, _)| *index);
    let Some(username_at) = find(USERNAME) else {
        return Err(RosterError::MissingUsername {
            path: path.to_path_buf(),
            header_row,
            suggestion: suggest_username(&headers),
            found: headers,
        });
    };
    let (admin_at, password_at, quota_at, groups_at) = (find(ADMIN), find(PASSWORD), find(QUOTA), find(GROUPS));

    let mut out: Vec<Row> = Vec::new();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    let mut stray_rows = Vec::new();
    for (number, cells) in rows {
        let empty = RawCell::Empty;
        let cell = |index: usize| cells.get(index).unwrap_or(&empty);
        if cells.iter().enumerate().any(|(index, cell)| !cell.is_blank() && !named.contains(&index)) {
            stray_rows.push(number);
        }

        let mut problems = Vec::new();
        let username = check(&mut problems, USERNAME, column::username(cell(username_at)));
        let admin = admin_at.and_then(|at| check(&mut problems, ADMIN, column::admin(cell(at))));
        let password = password_at.and_then(|at| check(&mut problems, PASSWORD, column::password(cell(at)))).flatten();
        let quota = quota_at.and_then(|at| check(&mut problems, QUOTA, column::quota(cell(at)))).flatten();
        let groups = groups_at.and_then(|at| check(&mut problems, GROUPS, column::groups(cell(at))));
        let fields = columns.iter().map(|(at, name)| (name.clone(), field_text(name, cell(*at)))).collect();

        let error =
            (!problems.is_empty()).then(|| format!("roster `{shown}` row {number}, {}", problems.join("; and ")));
        let username = if error.is_some() { None } else { username };
        if let Some(name) = &username {
            if let Some(first) = first_seen.get(name) {
                warnings.push(format!(
                    "roster `{shown}` row {number}: username `{name}` already appears in row {first}; row {number} is skipped"
                ));
                continue;
            }
            first_seen.insert(name.clone(), number);
        }
        out.push(Row { number, username, admin, password, quota, groups, fields, error });
    }

    if !stray_rows.is_empty() {
        let plural = if stray_rows.len() == 1 { "" } else { "s" };
        warnings.push(format!(
            "roster `{shown}` row{plural} {}: cells outside the named columns are ignored; give those columns a header",
            number_list(&stray_rows)
        ));
    }
    let names = out.iter().filter_map(|row| row.username.as_deref());
    for group in crate::username::lookalikes(names, std::iter::empty()) {
        let numbers: Vec<String> = group.iter().filter_map(|name| first_seen.get(name)).map(usize::to_string).collect();
        warnings.push(format!(
            "roster `{shown}` rows {}: {}",
            numbers.join(", "),
            crate::username::lookalike_warning(&group)
        ));
    }
    if out.is_empty() {
        warnings.push(format!("roster `{shown}` has a header row but no users"));
    }
    Ok(Roster { path: path.to_path_buf(), format, sheet: grid.sheet, headers, rows: out, warnings })
}

/// A field's text: exact in a secret column (see [`RawCell::exact_text`]).
fn field_text(column: &str, cell: &RawCell) -> String {
    if is_secret_column(column) {
        cell.exact_text()
    } else {
        cell.text()
    }
}

/// Keeps the value of a parsed cell, or notes its problem under `column`.
fn check<T>(problems: &mut Vec<String>, column: &str, parsed: Result<T, String>) -> Option<T> {
    parsed.map_err(|problem| problems.push(format!("column `{column}`: {problem}"))).ok()
}

/// A header that probably meant `username` (`User Name`, `user_name`, `login`).
fn suggest_username(headers: &[String]) -> Option<String> {
    headers
        .iter()
        .find(|header| {
            let letters: String = header.chars().filter(|c| c.is_alphanumeric()).collect();
            letters.contains("username")
                || matches!(letters.as_str(), "user" | "userid" | "login" | "loginname" | "account" | "benutzername")
        })
        .cloned()
}

/// "3, 5, 9", or the first ten and how many more.
fn number_list(numbers: &[usize]) -> String {
    const SHOWN: usize = 10;
    let mut list = numbers.iter().take(SHOWN).map(usize::to_string).collect::<Vec<_>>().join(", ");
    if numbers.len() > SHOWN {
        list.push_str(&format!(" and {} more", numbers.len() - SHOWN));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid from text rows, numbered from 1.
    fn grid(rows: &[&[&str]]) -> Grid {
        Grid {
            sheet: None,
            rows: rows
                .iter()
                .enumerate()
                .map(|(index, row)| {
                    let cells = row
                        .iter()
                        .map(|text| if text.is_empty() { RawCell::Empty } else { RawCell::Text(text.to_string()) })
                        .collect();
                    (index + 1, cells)
                })
                .collect(),
        }
    }

    fn build_text(rows: &[&[&str]]) -> Result<Roster, RosterError> {
        build(Path::new("class.csv"), Format::Csv, grid(rows))
    }

    #[test]
    fn headers_are_matched_ignoring_case_and_spaces() {
        let roster = build_text(&[&[" UserName ", "Admin", "E-Mail"], &["Ann", "yes", "a@x"]]).unwrap();
        assert_eq!(roster.headers, vec!["username", "admin", "e-mail"]);
        let row = &roster.rows[0];
        assert_eq!(row.number, 2);
        assert_eq!(row.username.as_deref(), Some("ann"));
        assert_eq!(row.admin, Some(true));
        assert_eq!(row.password, None);
        assert_eq!(row.quota, None);
        assert_eq!(row.groups, None);
        assert_eq!(row.field("e-mail"), Some("a@x"));
        assert_eq!(
            row.fields,
            vec![
                ("username".to_string(), "Ann".to_string()),
                ("admin".to_string(), "yes".to_string()),
                ("e-mail".to_string(), "a@x".to_string()),
            ]
        );
        assert!(roster.warnings.is_empty(), "{:?}", roster.warnings);
        assert!(roster.has_column("Admin"));
    }

    #[test]
    fn missing_username_suggests_a_close_header() {
        let error = build_text(&[&["User Name", "admin"], &["ann", "no"]]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "roster `class.csv`: File must contain 'username' column; the header row (row 1) has \
             columns `user name`, `admin`; did you mean `user name`? rename that column to `username`"
        );
    }

    #[test]
    fn no_header_at_all_is_empty() {
        let error = build_text(&[&["", " "], &[]]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "roster `class.csv` is empty; it needs a header row with a `username` column, then one row per user"
        );
    }

    #[test]
    fn header_only_has_no_rows_and_says_so() {
        let roster = build_text(&[&["username", "admin"]]).unwrap();
        assert!(roster.rows.is_empty());
        assert_eq!(roster.warnings, vec!["roster `class.csv` has a header row but no users"]);
    }

    #[test]
    fn every_problem_of_a_row_is_named_and_the_row_kept() {
        let roster =
            build_text(&[&["username", "admin", "quota"], &["ann", "maybe", "lots"], &["bob", "", ""]]).unwrap();
        let bad = &roster.rows[0];
        assert_eq!(bad.username, None);
        assert!(!bad.is_valid());
        assert_eq!(
            bad.error.as_deref(),
            Some(
                "roster `class.csv` row 2, column `admin`: `maybe` is not a yes/no value; use \
                 true/false, yes/no, y/n or 1/0, or leave it blank for false; and column `quota`: \
                 `lots` is not a whole number; use a whole number from -10000000 to 10000000, or \
                 leave it blank"
            )
        );
        assert_eq!(bad.field("username"), Some("ann"));
        assert_eq!(roster.rows[1].admin, Some(false));
        assert_eq!(roster.usernames(), vec!["bob"]);
        assert_eq!(roster.invalid_rows().count(), 1);
    }

    #[test]
    fn ragged_and_stray_cells() {
        let roster = build_text(&[&["username", "", "admin"], &["ann", "note"], &["bob", "", "1", "x"]]).unwrap();
        assert_eq!(roster.rows[0].admin, Some(false));
        assert_eq!(roster.rows[1].admin, Some(true));
        assert_eq!(
            roster.warnings,
            vec!["roster `class.csv` rows 2, 3: cells outside the named columns are ignored; give those columns a header"]
        );
    }

    #[test]
    fn repeated_headers_use_the_first() {
        let roster = build_text(&[&["username", "email", "Email"], &["ann", "a@x", "b@x"]]).unwrap();
        assert_eq!(roster.headers, vec!["username", "email"]);
        assert_eq!(roster.rows[0].field("email"), Some("a@x"));
        assert_eq!(
            roster.warnings,
            vec!["roster `class.csv`: column `email` appears more than once in the header row; only the first one is read"]
        );
    }

    #[test]
    fn debug_hides_passwords() {
        let roster = build_text(&[&["username", "password"], &["ann", "s3cret!"]]).unwrap();
        assert_eq!(roster.rows[0].password.as_deref(), Some("s3cret!"));
        let shown = format!("{roster:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<hidden>"), "{shown}");
    }

    #[test]
    fn number_lists_are_capped() {
        assert_eq!(number_list(&[3, 5]), "3, 5");
        let many: Vec<usize> = (1..=12).collect();
        assert_eq!(number_list(&many), "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more");
    }
}
