//! The `roster::` module: reading and writing roster files from scripts.

use std::path::Path;

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

use super::error::{bad_input, thrown};
use super::runtime::Context;
use crate::roster::{self, Cell, Existing, ReadOptions, Row, SheetSink};

fn row_map(row: &Row) -> Map {
    let mut map = Map::new();
    for (column, text) in &row.fields {
        map.insert(column.as_str().into(), Dynamic::from(text.clone()));
    }
    map.insert("row".into(), Dynamic::from(row.number as i64));
    map.insert("username".into(), row.username.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    if row.username.is_none() {
        let raw = row.fields.iter().find(|(c, _)| c == "username").map(|(_, t)| t.trim().to_string());
        map.insert("raw_username".into(), raw.map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    }
    if let Some(admin) = row.admin {
        map.insert("admin".into(), Dynamic::from(admin));
    } else if row.error.is_some() {
        map.remove("admin");
    }
    if row.fields.iter().any(|(c, _)| c == "password") {
        map.insert("password".into(), row.password.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    }
    if row.fields.iter().any(|(c, _)| c == "quota") {
        map.insert("quota".into(), row.quota.map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    }
    if let Some(groups) = &row.groups {
        map.insert("groups".into(), groups.iter().cloned().map(Dynamic::from).collect::<Array>().into());
    }
    if let Some(error) = &row.error {
        map.insert("error".into(), Dynamic::from(error.clone()));
    }
    map
}

/// A Rhai value as a spreadsheet cell.
pub fn cell(value: &Dynamic) -> Cell {
    if value.is_unit() {
        Cell::Empty
    } else if let Ok(b) = value.as_bool() {
        Cell::Bool(b)
    } else if let Ok(i) = value.as_int() {
        Cell::Int(i)
    } else if let Ok(f) = value.as_float() {
        Cell::Float(f)
    } else if let Some(list) = value.read_lock::<Array>() {
        Cell::Text(list.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(";"))
    } else {
        Cell::Text(value.to_string())
    }
}

/// Rows (maps) as cells in the order of `columns`.
pub fn cells(rows: &Array, columns: &[String]) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|row| match row.read_lock::<Map>() {
            Some(map) => columns.iter().map(|c| map.get(c.as_str()).map(cell).unwrap_or(Cell::Empty)).collect(),
            None => vec![cell(row)],
        })
        .collect()
}

/// The headers and the keys of `columns`: each a key, or `[header, key]`.
fn headers_and_keys(columns: &Array) -> Result<(Vec<String>, Vec<String>), Box<EvalAltResult>> {
    columns
        .iter()
        .map(|column| match column.read_lock::<Array>() {
            Some(pair) if pair.len() == 2 => Ok((pair[0].to_string(), pair[1].to_string())),
            Some(_) => Err(bad_input(format!(
                "roster::write: column {column} must be a key or [header, key], e.g. [\"username\", \"name\"]"
            ))),
            None => Ok((column.to_string(), column.to_string())),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|pairs| pairs.into_iter().unzip())
}

/// The `overwrite` option: true only when given as `true`.
fn overwrite(options: &Map) -> bool {
    options.get("overwrite").and_then(|v| v.as_bool().ok()).unwrap_or(false)
}

/// Reading and writing roster files.
#[export_module]
pub mod roster_module {
    use super::*;

    /// Reads a roster file (CSV, TSV, XLSX, XLS or ODS, by extension; the
    /// first sheet). Returns one map per row: every column by its header
    /// (lower-case), `row` (the spreadsheet row number, header = 1),
    /// `username` (trimmed, lower-cased), `admin` as a bool, `groups` as a
    /// list, `quota` as an int, and `error` when the row is invalid (such a
    /// row counts as failed in every batch call, without a request).
    /// Blank rows are skipped; duplicates are used once, with a warning on stderr.
    ///
    /// Throws when: the file is missing, unreadable, not a spreadsheet,
    /// empty, or has no `username` column (exit status 2).
    ///
    /// ```rhai
    /// let rows = roster::read("users.csv");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read(call: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        read_with(call, path, Map::new())
    }

    /// Reads a roster with options: `#{sheet: "Class B"}` picks a sheet.
    ///
    /// Throws when: as `roster::read`, or the sheet does not exist.
    ///
    /// ```rhai
    /// let rows = roster::read("term.xlsx", #{ sheet: "Class B" });
    /// ```
    #[rhai_fn(name = "read", return_raw)]
    pub fn read_with(call: NativeCallContext, path: &str, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let sheet = options.get("sheet").filter(|s| !s.is_unit()).map(|s| s.to_string());
        let roster = roster::read(Path::new(path), &ReadOptions { sheet }).map_err(thrown)?;
        if !Context::of(&call).settings().quiet {
            for warning in &roster.warnings {
                eprintln!("⚠️  {}", crate::script::terminal_text::escape_controls(warning));
            }
        }
        Ok(roster.rows.iter().map(|r| Dynamic::from(row_map(r))).collect())
    }

    /// Writes rows (maps) to a file, atomically: `.xlsx`/`.xls` as Excel
    /// (bold, frozen header), anything else as CSV. The columns are the
    /// keys of the first row; lists are joined with `;`. An existing file
    /// is replaced (commands use the form with `#{ overwrite }`, which
    /// refuses to).
    ///
    /// Throws when: the file cannot be written.
    ///
    /// ```rhai
    /// roster::write("backup.xlsx", hub.users());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write(path: &str, rows: Array) -> Result<(), Box<EvalAltResult>> {
        let columns: Vec<String> = rows
            .first()
            .and_then(|r| r.read_lock::<Map>().map(|m| m.keys().map(|k| k.to_string()).collect()))
            .unwrap_or_else(|| vec!["username".to_string()]);
        write_columns(path, rows, columns.into_iter().map(Dynamic::from).collect())
    }

    /// Writes rows with the given columns, in that order. A column is a
    /// key of the rows, or `[header, key]` to write a key under another
    /// header (the users of `hub.users()` as a roster: `["username", "name"]`).
    ///
    /// Throws when: the file cannot be written, or a column is neither.
    ///
    /// ```rhai
    /// roster::write("users.csv", rows, ["username", "admin"]);
    /// roster::write("backup.csv", hub.users(), [["username", "name"], "admin", "groups"]);
    /// ```
    #[rhai_fn(name = "write", return_raw)]
    pub fn write_columns(path: &str, rows: Array, columns: Array) -> Result<(), Box<EvalAltResult>> {
        write_with(path, rows, columns, Map::from_iter([("overwrite".into(), Dynamic::TRUE)]))
    }

    /// Writes rows with the given columns and options: `overwrite` (a
    /// bool, default false) — without it an existing file is left as it is
    /// and the call throws, so an admin's earlier file is never replaced
    /// silently.
    ///
    /// Throws when: the file exists and `overwrite` is not true (exit 2,
    /// the message names the file and `--overwrite`), the file cannot be
    /// written, or a column is not a key or `[header, key]`.
    ///
    /// ```rhai
    /// roster::write("export.csv", hub.users(), [["username", "name"], "admin"], #{ overwrite: false });
    /// ```
    #[rhai_fn(name = "write", return_raw)]
    pub fn write_with(path: &str, rows: Array, columns: Array, options: Map) -> Result<(), Box<EvalAltResult>> {
        let (headers, keys) = headers_and_keys(&columns)?;
        let existing = Existing::replace_if(overwrite(&options));
        roster::write(Path::new(path), &headers, &cells(&rows, &keys), existing).map_err(thrown)
    }

    /// Checks, before anything is sent, that a file can be written later:
    /// jhctl writes its format, and it does not exist unless `overwrite`
    /// is true. Options: `overwrite` (bool), `sheet` (bool: a password
    /// sheet, whose journal `<path>.partial.csv` must not exist either).
    ///
    /// Throws when: the file exists and `overwrite` is not true, its
    /// extension is one jhctl cannot write, or (with `sheet`) a run that
    /// stopped early left its journal (exit 2).
    ///
    /// ```rhai
    /// roster::check_output("sheet.csv", #{ overwrite: false, sheet: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn check_output(path: &str, options: Map) -> Result<(), Box<EvalAltResult>> {
        let existing = Existing::replace_if(overwrite(&options));
        let sheet = options.get("sheet").and_then(|v| v.as_bool().ok()).unwrap_or(false);
        let checked = if sheet {
            SheetSink::check(Path::new(path), existing)
        } else {
            roster::check_target(Path::new(path), existing)
        };
        checked.map_err(thrown)
    }

    /// Parses a boolean as roster files write it: true/false, 1/0, yes/no,
    /// y/n (any case); blank is false. `()` for anything else.
    ///
    /// ```rhai
    /// let admin = roster::parse_bool("Yes");   // true
    /// ```
    pub fn parse_bool(text: &str) -> Dynamic {
        roster::parse_bool(text).map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }
}
