//! Tests of the roster module through its public entry points, on real
//! files in a temporary folder. XLSX fixtures are built with rust_xlsxwriter
//! and ODS fixtures with a tiny stored-ZIP writer, both in the test.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{ExcelDateTime, Format as XlsxFormat, Workbook};
use tempfile::TempDir;

use super::*;

/// A value to put in an XLSX or ODS fixture cell.
#[derive(Clone, Copy)]
enum V<'a> {
    S(&'a str),
    N(f64),
    B(bool),
    /// A date (year, month, day) formatted as a date.
    D(u16, u8, u8),
    E,
}

/// A fresh folder with files in it.
struct Dir(TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// An XLSX file with the given sheets.
    fn xlsx(&self, name: &str, sheets: &[(&str, &[&[V]])]) -> PathBuf {
        let mut workbook = Workbook::new();
        let date = XlsxFormat::new().set_num_format("yyyy-mm-dd");
        for (sheet_name, rows) in sheets {
            let sheet = workbook.add_worksheet();
            sheet.set_name(*sheet_name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, value) in row.iter().enumerate() {
                    let (r, c) = (r as u32, c as u16);
                    match *value {
                        V::S(text) => sheet.write_string(r, c, text).map(|_| ()),
                        V::N(number) => sheet.write_number(r, c, number).map(|_| ()),
                        V::B(value) => sheet.write_boolean(r, c, value).map(|_| ()),
                        V::D(y, m, d) => sheet
                            .write_datetime_with_format(r, c, ExcelDateTime::from_ymd(y, m, d).unwrap(), &date)
                            .map(|_| ()),
                        V::E => Ok(()),
                    }
                    .unwrap();
                }
            }
        }
        let path = self.path(name);
        workbook.save(&path).unwrap();
        path
    }

    /// An ODS file with one sheet.
    fn ods(&self, name: &str, sheet: &str, rows: &[&[V]]) -> PathBuf {
        let mut content = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>"#,
        );
        content.push_str(&format!(r#"<table:table table:name="{sheet}">"#));
        for row in rows {
            content.push_str("<table:table-row>");
            for value in row.iter() {
                content.push_str(&match *value {
                    V::S(text) => format!(
                        r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
                    ),
                    V::N(number) => format!(
                        r#"<table:table-cell office:value-type="float" office:value="{number}"><text:p>{number}</text:p></table:table-cell>"#
                    ),
                    V::B(value) => format!(
                        r#"<table:table-cell office:value-type="boolean" office:boolean-value="{value}"><text:p>{value}</text:p></table:table-cell>"#
                    ),
                    V::D(y, m, d) => format!(
                        r#"<table:table-cell office:value-type="date" office:date-value="{y:04}-{m:02}-{d:02}"><text:p>x</text:p></table:table-cell>"#
                    ),
                    V::E => "<table:table-cell/>".to_string(),
                });
            }
            content.push_str("</table:table-row>");
        }
        content.push_str("</table:table></office:spreadsheet></office:body></office:document-content>");
        let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;
        self.file(
            name,
            stored_zip(&[
                ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                ("META-INF/manifest.xml", manifest.as_bytes()),
                ("content.xml", content.as_bytes()),
            ]),
        )
    }

    /// Names in the folder, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// A ZIP archive with uncompressed entries.
fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        let name_len = name.len() as u16;
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([20u16, 0, 0, 0, 0x21].iter().flat_map(|v| v.to_le_bytes()));
        out.extend(crc.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(name_len.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(*data);

        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend([20u16, 20, 0, 0, 0, 0x21].iter().flat_map(|v| v.to_le_bytes()));
        central.extend(crc.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(name_len.to_le_bytes());
        central.extend([0u16, 0, 0, 0].iter().flat_map(|v| v.to_le_bytes()));
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    let count = entries.len() as u16;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u16, 0, count, count].iter().flat_map(|v| v.to_le_bytes()));
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn read_default(path: &Path) -> Result<Roster, RosterError> {
    read(path, &ReadOptions::default())
}

fn sheet(name: &str) -> ReadOptions {
    ReadOptions { sheet: Some(name.to_string()) }
}

fn names(roster: &Roster) -> Vec<Option<String>> {
    roster.rows.iter().map(|row| row.username.clone()).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ---- reading CSV and TSV ----

#[test]
fn csv_with_bom_semicolons_and_any_header_case() {
    let dir = Dir::new();
    let path = dir.file(
        "class.csv",
        "\u{feff} UserName ;ADMIN;Password;Quota;Groups\r\n\
         Student01;TRUE;pa ss;100;math; physics\r\n",
    );
    // `;` delimited, so groups cannot hold `;` unquoted: only `math` is read,
    // and the stray cell is reported.
    let roster = read_default(&path).unwrap();
    assert_eq!(roster.format, Format::Csv);
    assert_eq!(roster.sheet, None);
    assert_eq!(roster.headers, strings(&["username", "admin", "password", "quota", "groups"]));
    let row = &roster.rows[0];
    assert_eq!(row.number, 2);
    assert_eq!(row.username.as_deref(), Some("student01"));
    assert_eq!(row.admin, Some(true));
    assert_eq!(row.password.as_deref(), Some("pa ss"));
    assert_eq!(row.quota, Some(100));
    assert_eq!(row.groups, Some(strings(&["math"])));
    assert_eq!(row.error, None);
}

#[test]
fn csv_groups_split_on_semicolons_when_quoted_or_comma_delimited() {
    let dir = Dir::new();
    let path = dir.file("g.csv", "username,groups\nann,math; physics;;\nbob,\n");
    let roster = read_default(&path).unwrap();
    assert_eq!(roster.rows[0].groups, Some(strings(&["math", "physics"])));
    assert_eq!(roster.rows[1].groups, Some(vec![]));
}

#[test]
fn tsv_by_extension_and_tab_sniffed_in_csv() {
    let dir = Dir::new();
    let tsv = dir.file("class.TSV", "username\tnote\nann\ta, b\n");
    let roster = read_default(&tsv).unwrap();
    assert_eq!(roster.format, Format::Tsv);
    assert_eq!(roster.rows[0].field("note"), Some("a, b"));

    let sniffed = dir.file("class.txt", "username\tadmin\nann\tyes\n");
    let roster = read_default(&sniffed).unwrap();
    assert_eq!(roster.rows[0].admin, Some(true));
}

#[test]
fn blank_rows_are_skipped_and_duplicates_used_once() {
    let dir = Dir::new();
    let path = dir.file("class.csv", "username,admin\nann,no\n\n,\n  ,  \nbob,yes\nANN ,yes\nbob,no\n");
    let roster = read_default(&path).unwrap();
    assert_eq!(names(&roster), vec![Some("ann".into()), Some("bob".into())]);
    assert_eq!(roster.rows[0].admin, Some(false));
    assert_eq!(roster.rows[1].number, 6);
    let shown = path.display();
    assert_eq!(
        roster.warnings,
        vec![
            format!("roster `{shown}` row 7: username `ann` already appears in row 2; row 7 is skipped"),
            format!("roster `{shown}` row 8: username `bob` already appears in row 6; row 8 is skipped"),
        ]
    );
}

#[test]
fn lookalike_usernames_are_warned_about() {
    // Issue #26: one roster created both `josé` (NFC) and `josé` (NFD), and
    // a name with U+200B, with no warning.
    let dir = Dir::new();
    let path = dir.file("class.csv", "username\njos\u{e9}\nann\nbob\njose\u{301}\nann\u{200b}\n");
    let roster = read_default(&path).unwrap();
    assert_eq!(roster.rows.len(), 5, "lookalikes are different names: every row is kept");
    let shown = path.display();
    assert_eq!(
        roster.warnings,
        vec![
            format!(
                "roster `{shown}` rows 2, 5: usernames `jos\\u{{e9}}` and `jose\\u{{301}}` look the same but differ \
                 in Unicode normalisation or invisible characters, so the hub keeps them as different users; use one \
                 spelling"
            ),
            format!(
                "roster `{shown}` rows 3, 6: usernames `ann` and `ann\\u{{200b}}` look the same but differ in Unicode \
                 normalisation or invisible characters, so the hub keeps them as different users; use one spelling"
            ),
        ]
    );
}

#[test]
fn bad_usernames_are_row_errors_naming_file_row_column_and_fix() {
    let dir = Dir::new();
    let path =
        dir.file("class.csv", "username,admin\nok1,no\nbad/name,no\nann smith,no\n\"ctl\u{7}x\",no\n,yes\nok2,maybe\n");
    let roster = read_default(&path).unwrap();
    let shown = path.display();
    let errors: Vec<Option<String>> = roster.rows.iter().map(|row| row.error.clone()).collect();
    assert_eq!(
        errors,
        vec![
            None,
            Some(format!("roster `{shown}` row 3, column `username`: username contains `/`; remove it")),
            Some(format!(
                "roster `{shown}` row 4, column `username`: username contains white space; remove the spaces inside it"
            )),
            Some(format!(
                "roster `{shown}` row 5, column `username`: username contains a control character; retype it"
            )),
            Some(format!("roster `{shown}` row 6, column `username`: username is empty; fill it in or delete the row")),
            Some(format!(
                "roster `{shown}` row 7, column `admin`: `maybe` is not a yes/no value; use true/false, \
                 yes/no, y/n or 1/0, or leave it blank for false"
            )),
        ]
    );
    assert_eq!(names(&roster), vec![Some("ok1".into()), None, None, None, None, None]);
    assert_eq!(roster.usernames(), vec!["ok1"]);
}

#[test]
fn numeric_usernames_in_csv_stay_text() {
    let dir = Dir::new();
    let path = dir.file("ids.csv", "username,password\n1001,1234\n0042,\n");
    let roster = read_default(&path).unwrap();
    assert_eq!(names(&roster), vec![Some("1001".into()), Some("0042".into())]);
    assert_eq!(roster.rows[0].password.as_deref(), Some("1234"));
    assert_eq!(roster.rows[1].password, None);
}

#[test]
fn admin_and_quota_columns_absent_or_blank() {
    let dir = Dir::new();
    let path = dir.file("a.csv", "username,admin,quota\nann,,\nbob,Y,-20\ncy,0,10000001\n");
    let roster = read_default(&path).unwrap();
    assert_eq!(roster.rows[0].admin, Some(false));
    assert_eq!(roster.rows[0].quota, None);
    assert_eq!(roster.rows[1].quota, Some(-20));
    assert!(roster.rows[2]
        .error
        .as_deref()
        .unwrap()
        .ends_with("row 4, column `quota`: `10000001` is out of range; use a whole number from -10000000 to 10000000, or leave it blank"));

    let plain = dir.file("b.csv", "username\nann\n");
    let row = &read_default(&plain).unwrap().rows[0];
    assert_eq!((row.admin, row.quota, row.password.clone(), row.groups.clone()), (None, None, None, None));
}

#[test]
fn missing_username_column_is_one_clear_error() {
    let dir = Dir::new();
    let path = dir.file("class.csv", "Name,E-mail\nAnn,a@x\n");
    let error = read_default(&path).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("File must contain 'username' column"), "{text}");
    assert_eq!(
        text,
        format!(
            "roster `{}`: File must contain 'username' column; the header row (row 1) has columns \
             `name`, `e-mail`; add a column headed `username` holding one login name per row \
             (case and surrounding spaces do not matter)",
            path.display()
        )
    );
}

#[test]
fn empty_files_and_header_only_files() {
    let dir = Dir::new();
    for (name, bytes) in [("zero.csv", ""), ("blank.csv", "\n \n,,\n"), ("bom.csv", "\u{feff}")] {
        let path = dir.file(name, bytes);
        let error = read_default(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "roster `{}` is empty; it needs a header row with a `username` column, then one row per user",
                path.display()
            ),
            "{name}"
        );
    }
    let zero_xlsx = dir.file("zero.xlsx", "");
    assert!(matches!(read_default(&zero_xlsx), Err(RosterError::Empty { .. })));

    let header_only = dir.file("header.csv", "username,admin\n");
    let roster = read_default(&header_only).unwrap();
    assert!(roster.rows.is_empty());
    assert_eq!(roster.warnings, vec![format!("roster `{}` has a header row but no users", header_only.display())]);
}

#[test]
fn missing_file_is_named() {
    let dir = Dir::new();
    let path = dir.path("nope.csv");
    assert_eq!(
        read_default(&path).unwrap_err().to_string(),
        format!("roster `{}` not found; check the file name and the folder jhctl runs in", path.display())
    );
    let folder = read_default(dir.0.path()).unwrap_err();
    assert!(matches!(folder, RosterError::Read { .. }), "{folder}");
}

#[test]
fn sheet_option_on_text_is_refused() {
    let dir = Dir::new();
    let path = dir.file("c.csv", "username\nann\n");
    assert_eq!(
        read(&path, &sheet("Students")).unwrap_err().to_string(),
        format!(
            "roster `{}` is a text file with no sheets, so sheet `Students` cannot be picked; drop the \
             sheet option or use a workbook",
            path.display()
        )
    );
}

#[test]
fn workbook_renamed_to_csv_is_refused() {
    let dir = Dir::new();
    let xlsx = dir.xlsx("real.xlsx", &[("Sheet1", &[&[V::S("username")]])]);
    let csv = dir.file("real.csv", std::fs::read(xlsx).unwrap());
    assert!(matches!(read_default(&csv), Err(RosterError::NotText { .. })));
}

// ---- reading workbooks ----

#[test]
fn xlsx_cells_become_the_text_users_see() {
    let dir = Dir::new();
    let path = dir.xlsx(
        "CLASS.XLSX",
        &[(
            "Sheet1",
            &[
                &[V::S("Username"), V::S("Admin"), V::S("Password"), V::S("Quota"), V::S("Start"), V::S("Score")],
                &[V::N(1001.0), V::B(true), V::N(1234.0), V::N(50.0), V::D(2024, 9, 1), V::N(2.5)],
                &[V::S(" Bob "), V::N(0.0), V::S("x y"), V::E, V::E, V::E],
                &[V::N(1002.0), V::N(1.0), V::E, V::E, V::E, V::E],
                &[V::S("cy"), V::S("FALSE"), V::E, V::E, V::E, V::E],
            ],
        )],
    );
    let roster = read_default(&path).unwrap();
    assert_eq!(roster.format, Format::Xlsx);
    assert_eq!(roster.sheet.as_deref(), Some("Sheet1"));
    assert_eq!(names(&roster), vec![Some("1001".into()), Some("bob".into()), Some("1002".into()), Some("cy".into())]);
    let first = &roster.rows[0];
    assert_eq!(first.admin, Some(true));
    assert_eq!(first.password.as_deref(), Some("1234"));
    assert_eq!(first.quota, Some(50));
    assert_eq!(first.field("username"), Some("1001"));
    assert_eq!(first.field("start"), Some("2024-09-01"));
    assert_eq!(first.field("score"), Some("2.5"));
    assert_eq!(first.field("admin"), Some("true"));
    assert_eq!(roster.rows[1].admin, Some(false));
    assert_eq!(roster.rows[1].password.as_deref(), Some("x y"));
    assert_eq!(roster.rows[2].admin, Some(true));
    assert_eq!(roster.rows[3].admin, Some(false));
    assert!(roster.warnings.is_empty(), "{:?}", roster.warnings);
}

#[test]
fn xlsx_rows_are_numbered_as_excel_shows_them() {
    let dir = Dir::new();
    // Header on row 3, a blank row 5, a bad name on row 6.
    let path = dir.xlsx(
        "offset.xlsx",
        &[("Sheet1", &[&[V::E], &[V::E], &[V::S("username")], &[V::S("ann")], &[V::E], &[V::S("bad/name")]])],
    );
    let roster = read_default(&path).unwrap();
    let numbers: Vec<usize> = roster.rows.iter().map(|row| row.number).collect();
    assert_eq!(numbers, vec![4, 6]);
    assert_eq!(
        roster.rows[1].error.as_deref(),
        Some(
            format!("roster `{}` row 6, column `username`: username contains `/`; remove it", path.display()).as_str()
        )
    );
}

#[test]
fn sheets_are_chosen_by_name_and_default_to_the_first() {
    let dir = Dir::new();
    let path = dir.xlsx(
        "multi.xlsx",
        &[
            ("Info", &[&[V::S("username")], &[V::S("info-user")]]),
            ("Students", &[&[V::S("username")], &[V::S("stud")]]),
            ("Blank", &[]),
        ],
    );
    assert_eq!(names(&read_default(&path).unwrap()), vec![Some("info-user".into())]);
    let students = read(&path, &sheet("Students")).unwrap();
    assert_eq!(names(&students), vec![Some("stud".into())]);
    assert_eq!(students.sheet.as_deref(), Some("Students"));
    assert_eq!(names(&read(&path, &sheet("students")).unwrap()), vec![Some("stud".into())]);
    assert_eq!(
        read(&path, &sheet("Staff")).unwrap_err().to_string(),
        format!(
            "roster `{}` has no sheet `Staff`; its sheets are `Info`, `Students`, `Blank`; pick one of them",
            path.display()
        )
    );
    assert_eq!(
        read(&path, &sheet("Blank")).unwrap_err().to_string(),
        format!(
            "sheet `Blank` of roster `{}` is empty; it needs a header row with a `username` column, then one row per user",
            path.display()
        )
    );
}

#[test]
fn xlsx_without_username_column_lists_what_it_found() {
    let dir = Dir::new();
    let path = dir.xlsx("x.xlsx", &[("S", &[&[V::S("Login"), V::S("Mail")], &[V::S("a"), V::S("b")]])]);
    assert_eq!(
        read_default(&path).unwrap_err().to_string(),
        format!(
            "roster `{}`: File must contain 'username' column; the header row (row 1) has columns \
             `login`, `mail`; did you mean `login`? rename that column to `username`",
            path.display()
        )
    );
}

#[test]
fn not_a_spreadsheet_renamed_to_xlsx_is_a_clear_error() {
    let dir = Dir::new();
    let zip_garbage = dir.file("broken.xlsx", b"PK\x03\x04 this is not really a zip archive");
    let error = read_default(&zip_garbage).unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with(&format!("roster `{}` is not a valid Excel file (", zip_garbage.display())), "{text}");
    assert!(
        text.ends_with("; open it in Excel or LibreOffice and save it again as .xlsx, or save it as CSV"),
        "{text}"
    );

    let binary = dir.file("photo.xls", [0xFFu8, 0xD8, 0xFF, 0xE0, 0, 0x10]);
    assert_eq!(
        read_default(&binary).unwrap_err().to_string(),
        format!(
            "roster `{}` is not a valid Excel file (it does not start like a workbook); open it in \
             Excel or LibreOffice and save it again as .xlsx, or save it as CSV",
            binary.display()
        )
    );

    // A ZIP that is not a workbook.
    let other_zip = dir.file("other.xlsx", stored_zip(&[("hello.txt", b"hi")]));
    assert!(matches!(read_default(&other_zip), Err(RosterError::NotSpreadsheet { .. })));

    let ods = dir.file("bad.ods", "username\nann\n");
    assert!(read_default(&ods)
        .unwrap_err()
        .to_string()
        .contains("is not a valid OpenDocument spreadsheet (it holds text, not a workbook; if it is CSV, rename it to end in .csv)"));
}

#[test]
fn ods_reads_like_xlsx() {
    let dir = Dir::new();
    let path = dir.ods(
        "class.ods",
        "Students",
        &[
            &[V::S("Username"), V::S("Admin"), V::S("Joined")],
            &[V::N(1001.0), V::B(true), V::D(2024, 9, 1)],
            &[V::S("Ann"), V::S("no"), V::E],
        ],
    );
    let roster = read_default(&path).unwrap();
    assert_eq!(roster.format, Format::Ods);
    assert_eq!(roster.sheet.as_deref(), Some("Students"));
    assert_eq!(names(&roster), vec![Some("1001".into()), Some("ann".into())]);
    assert_eq!(roster.rows[0].admin, Some(true));
    assert_eq!(roster.rows[0].field("joined"), Some("2024-09-01"));
    assert_eq!(roster.rows[1].admin, Some(false));
}

// ---- writing ----

fn sample() -> (Vec<String>, Vec<Vec<Cell>>) {
    (
        strings(&["username", "admin", "quota", "note"]),
        vec![
            vec![Cell::from("ann"), Cell::Bool(false), Cell::Int(100), Cell::from("a, \"b\"\nc")],
            vec![Cell::from("1001"), Cell::Bool(true), Cell::Empty, Cell::from("jörg ✓")],
            vec![Cell::Float(1002.0), Cell::Bool(false), Cell::Float(-5.0)],
        ],
    )
}

#[test]
fn write_then_read_round_trips_in_every_output_format() {
    let dir = Dir::new();
    let (columns, rows) = sample();
    for name in ["out.csv", "out.tsv", "out.xlsx", "out.XLS", "out.data"] {
        let path = dir.path(name);
        write(&path, &columns, &rows, Existing::Refuse).unwrap();
        let roster = read_default(&path).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(roster.headers, columns, "{name}");
        assert_eq!(names(&roster), vec![Some("ann".into()), Some("1001".into()), Some("1002".into())], "{name}");
        let admins: Vec<Option<bool>> = roster.rows.iter().map(|row| row.admin).collect();
        assert_eq!(admins, vec![Some(false), Some(true), Some(false)], "{name}");
        let quotas: Vec<Option<i64>> = roster.rows.iter().map(|row| row.quota).collect();
        assert_eq!(quotas, vec![Some(100), None, Some(-5)], "{name}");
        assert_eq!(roster.rows[0].field("note"), Some("a, \"b\"\nc"), "{name}");
        assert_eq!(roster.rows[1].field("note"), Some("jörg ✓"), "{name}");
        assert_eq!(roster.rows[2].field("note"), Some(""), "{name}");
        assert!(roster.warnings.is_empty(), "{name}: {:?}", roster.warnings);
    }
    // No temporary files left behind.
    assert_eq!(dir.names(), strings(&["out.XLS", "out.csv", "out.data", "out.tsv", "out.xlsx"]));
}

#[test]
fn csv_output_is_plain_and_booleans_are_words() {
    let dir = Dir::new();
    let path = dir.path("template.csv");
    write(
        &path,
        &strings(&["username", "admin"]),
        &[vec![Cell::from("student01"), Cell::Bool(false)], vec![Cell::from("student02"), Cell::Bool(true)]],
        Existing::Refuse,
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "username,admin\nstudent01,false\nstudent02,true\n");
}

#[test]
fn write_replaces_an_existing_file_only_when_asked() {
    let dir = Dir::new();
    let path = dir.file("out.csv", "old contents\n");
    // Issue #26: an export or backup never replaces a file silently.
    let error = write(&path, &strings(&["username"]), &[vec![Cell::from("new")]], Existing::Refuse).unwrap_err();
    assert!(matches!(error, RosterError::OutputExists { .. }), "{error}");
    assert!(error.to_string().contains("pass --overwrite to replace it"), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old contents\n");
    assert_eq!(check_target(&path, Existing::Refuse).unwrap_err().to_string(), error.to_string());
    check_target(&path, Existing::Replace).unwrap();
    write(&path, &strings(&["username"]), &[vec![Cell::from("new")]], Existing::Replace).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "username\nnew\n");
    assert_eq!(dir.names(), strings(&["out.csv"]));
}

#[test]
fn failed_writes_leave_nothing_behind() {
    let dir = Dir::new();
    let columns = strings(&["username"]);

    // Excel refuses a text longer than 32767 characters: nothing is written.
    let huge = vec![vec![Cell::Text("x".repeat(40_000))]];
    let xlsx = dir.path("big.xlsx");
    let error = write(&xlsx, &columns, &huge, Existing::Refuse).unwrap_err();
    assert!(matches!(error, RosterError::Xlsx { .. }), "{error}");
    assert!(error.to_string().starts_with(&format!("cannot write Excel file `{}`: ", xlsx.display())));

    // Renaming over a folder fails after the temporary file was written.
    std::fs::create_dir(dir.path("taken.csv")).unwrap();
    let error = write(&dir.path("taken.csv"), &columns, &[vec![Cell::from("ann")]], Existing::Replace).unwrap_err();
    assert!(matches!(error, RosterError::Write { .. }), "{error}");

    // An existing file stays as it was.
    let kept = dir.file("kept.xlsx", "old");
    assert!(write(&kept, &columns, &huge, Existing::Replace).is_err());
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "old");

    // A missing folder.
    let error = write(&dir.path("no/such/out.csv"), &columns, &[], Existing::Refuse).unwrap_err();
    assert!(error.to_string().ends_with("; check that the folder exists and that you may write to it"), "{error}");

    assert_eq!(dir.names(), strings(&["kept.xlsx", "taken.csv"]));
    assert!(std::fs::read_dir(dir.path("taken.csv")).unwrap().next().is_none());
}

#[cfg(unix)]
#[test]
fn files_with_passwords_are_written_0600() {
    let dir = Dir::new();
    let columns = strings(&["username", "password"]);
    for name in ["p.csv", "p.xlsx"] {
        let path = dir.path(name);
        write(&path, &columns, &[vec![Cell::from("ann"), Cell::from("s3cret")]], Existing::Refuse).unwrap();
        assert_eq!(mode(&path), 0o600, "{name}");
    }
    let public = dir.path("list.csv");
    write(&public, &strings(&["username"]), &[], Existing::Refuse).unwrap();
    let usual = dir.file("usual.txt", "");
    assert_eq!(mode(&public), mode(&usual), "plain exports get the usual permissions");
}

// ---- SheetSink ----

#[cfg(unix)]
#[test]
fn sink_journals_csv_row_by_row_with_mode_0600_and_renames_it() {
    let dir = Dir::new();
    let path = dir.path("passwords.csv");
    let journal = dir.path("passwords.csv.partial.csv");
    let columns = strings(&["username", "password", "force_change"]);
    let mut sink = SheetSink::create(&path, &columns, Existing::Refuse).unwrap();
    assert_eq!(sink.partial_path(), journal.as_path());
    assert_eq!(mode(&journal), 0o600);
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), "username,password,force_change\n");
    assert!(!path.exists());

    sink.push(vec![Cell::from("ann"), Cell::from("pw1"), Cell::Bool(true)]).unwrap();
    // On disk before finish: a crash now loses nothing.
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), "username,password,force_change\nann,pw1,true\n");
    sink.push(vec![Cell::from("bob"), Cell::Int(1234)]).unwrap();
    assert_eq!(sink.rows_written(), 2);
    let error = sink.push(vec![Cell::Empty; 4]).unwrap_err();
    assert!(error.to_string().contains("row 4 has 4 cells but there are only 3 columns"), "{error}");
    assert!(!format!("{sink:?}").contains("pw1"));

    assert_eq!(sink.finish().unwrap(), Some(path.clone()));
    assert_eq!(mode(&path), 0o600);
    let roster = read_default(&path).unwrap();
    assert_eq!(roster.rows[1].password.as_deref(), Some("1234"));
    assert_eq!(dir.names(), strings(&["passwords.csv"]));
}

#[test]
fn sink_never_truncates_an_existing_sheet() {
    // Issue #26: a re-run with the same `-o` deleted the only password sheet.
    let dir = Dir::new();
    let columns = strings(&["username", "password"]);
    for name in ["old.csv", "old.xlsx", "old.tsv"] {
        let path = dir.file(name, "username,password\nann,only-copy\n");
        let error = SheetSink::create(&path, &columns, Existing::Refuse).unwrap_err();
        assert!(matches!(error, RosterError::OutputExists { .. }), "{name}: {error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "username,password\nann,only-copy\n", "{name}");

        // Asked to replace it, but no password was set: the old sheet stays.
        let sink = SheetSink::create(&path, &columns, Existing::Replace).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "username,password\nann,only-copy\n", "{name}");
        assert_eq!(sink.finish().unwrap(), None, "{name}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "username,password\nann,only-copy\n", "{name}");

        // Replaced once the new sheet is complete.
        let mut sink = SheetSink::create(&path, &columns, Existing::Replace).unwrap();
        sink.push(vec![Cell::from("bob"), Cell::from("new-pw")]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "username,password\nann,only-copy\n", "{name}");
        sink.finish().unwrap();
        let roster = read_default(&path).unwrap();
        assert_eq!(names(&roster), vec![Some("bob".into())], "{name}");
    }
    assert_eq!(dir.names(), strings(&["old.csv", "old.tsv", "old.xlsx"]));
}

#[test]
fn sink_refuses_a_journal_left_by_a_run_that_stopped() {
    let dir = Dir::new();
    let journal = dir.file("sheet.csv.partial.csv", "username,password\nann,set-then\n");
    for existing in [Existing::Refuse, Existing::Replace] {
        let error = SheetSink::create(&dir.path("sheet.csv"), &strings(&["username"]), existing).unwrap_err();
        assert!(matches!(error, RosterError::PartialExists { .. }), "{error}");
        assert!(error.to_string().contains("a run that stopped early left it"), "{error}");
    }
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), "username,password\nann,set-then\n");
    assert_eq!(SheetSink::journal_path(&dir.path("s.tsv")), dir.path("s.tsv.partial.tsv"));
}

#[test]
fn sink_without_rows_leaves_no_file() {
    let dir = Dir::new();
    for name in ["none.csv", "none.xlsx"] {
        let sink = SheetSink::create(&dir.path(name), &strings(&["username", "password"]), Existing::Refuse).unwrap();
        assert_eq!(sink.finish().unwrap(), None);
    }
    assert!(dir.names().is_empty());
}

#[cfg(unix)]
#[test]
fn sink_journals_xlsx_and_writes_it_on_finish() {
    let dir = Dir::new();
    let path = dir.path("passwords.xlsx");
    let journal = dir.path("passwords.xlsx.partial.csv");
    assert_eq!(SheetSink::journal_path(&path), journal);
    let columns = strings(&["username", "password"]);
    let mut sink = SheetSink::create(&path, &columns, Existing::Refuse).unwrap();
    assert_eq!(sink.partial_path(), journal.as_path());
    sink.push(vec![Cell::from("ann"), Cell::from("pw1")]).unwrap();
    sink.push(vec![Cell::Float(1001.0), Cell::from("pw2")]).unwrap();
    assert_eq!(mode(&journal), 0o600);
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), "username,password\nann,pw1\n1001,pw2\n");
    assert!(!path.exists());

    sink.finish().unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(dir.names(), strings(&["passwords.xlsx"]));
    let roster = read_default(&path).unwrap();
    assert_eq!(names(&roster), vec![Some("ann".into()), Some("1001".into())]);
    assert_eq!(roster.rows[1].password.as_deref(), Some("pw2"));
}

#[test]
fn sink_dropped_without_finish_still_completes() {
    let dir = Dir::new();
    let path = dir.path("p.xlsx");
    {
        let mut sink = SheetSink::create(&path, &strings(&["username", "password"]), Existing::Refuse).unwrap();
        sink.push(vec![Cell::from("ann"), Cell::from("pw")]).unwrap();
    }
    assert_eq!(dir.names(), strings(&["p.xlsx"]));
    assert_eq!(read_default(&path).unwrap().rows[0].password.as_deref(), Some("pw"));
}

#[test]
fn sink_refuses_formats_it_cannot_write() {
    let dir = Dir::new();
    let error = SheetSink::create(&dir.path("p.ods"), &strings(&["username"]), Existing::Refuse).unwrap_err();
    assert!(matches!(error, RosterError::UnsupportedOutput { .. }), "{error}");
    assert!(dir.names().is_empty());
}

#[test]
fn formula_cells_are_guarded_and_read_back_exactly() {
    let dir = Dir::new();
    let texts = ["=cmd|' /C calc'!a0", "+1+1", "-2+3", "@sum(a1)", "'=x", "plain", "-"];
    let columns = strings(&["username", "note", "quota"]);
    let rows: Vec<Vec<Cell>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| vec![Cell::from(format!("u{i}")), Cell::from(*t), Cell::Int(-5)])
        .collect();
    for name in ["out.csv", "out.tsv", "out.xlsx"] {
        let path = dir.path(name);
        write(&path, &columns, &rows, Existing::Refuse).unwrap();
        let roster = read_default(&path).unwrap_or_else(|error| panic!("{name}: {error}"));
        let notes: Vec<&str> = roster.rows.iter().map(|row| row.field("note").unwrap()).collect();
        assert_eq!(notes, texts, "{name}");
        assert!(roster.rows.iter().all(|row| row.quota == Some(-5)), "{name}: numbers stay numbers");
    }
    let csv = std::fs::read_to_string(dir.path("out.csv")).unwrap();
    assert_eq!(
        csv,
        "username,note,quota\nu0,'=cmd|' /C calc'!a0,-5\nu1,'+1+1,-5\nu2,'-2+3,-5\nu3,'@sum(a1),-5\n\
         u4,''=x,-5\nu5,plain,-5\nu6,'-,-5\n"
    );
    // In the workbook the guarded text is a text cell; the number a number.
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(dir.path("out.xlsx")).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut workbook, 0).unwrap().unwrap();
    assert_eq!(range.get((1, 1)), Some(&calamine::Data::String("'=cmd|' /C calc'!a0".into())));
    assert_eq!(range.get((1, 2)), Some(&calamine::Data::Float(-5.0)));

    // Issue #26: a password cell holds exactly the password, in CSV, TSV and
    // XLSX, and reads back exactly; names keep their guard.
    for name in ["sheet.csv", "sheet.tsv", "sheet.xlsx"] {
        let path = dir.path(name);
        let mut sink = SheetSink::create(&path, &strings(&["username", "password"]), Existing::Refuse).unwrap();
        assert!(!sink.formula_like_secrets());
        sink.push(vec![Cell::from("=ann"), Cell::from("-Secret-77")]).unwrap();
        sink.push(vec![Cell::from("bob"), Cell::from("=1+1")]).unwrap();
        sink.push(vec![Cell::from("cy"), Cell::from("'-quoted")]).unwrap();
        assert_eq!(sink.formula_like_secrets(), !name.ends_with(".xlsx"), "{name}");
        sink.finish().unwrap();
        let roster = read_default(&path).unwrap();
        let passwords: Vec<Option<&str>> = roster.rows.iter().map(|row| row.password.as_deref()).collect();
        assert_eq!(passwords, vec![Some("-Secret-77"), Some("=1+1"), Some("'-quoted")], "{name}");
        assert_eq!(roster.rows[0].field("password"), Some("-Secret-77"), "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path("sheet.csv")).unwrap(),
        "username,password\n'=ann,-Secret-77\nbob,=1+1\ncy,'-quoted\n"
    );
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(dir.path("sheet.xlsx")).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut workbook, 0).unwrap().unwrap();
    assert_eq!(range.get((1, 0)), Some(&calamine::Data::String("'=ann".into())));
    assert_eq!(range.get((1, 1)), Some(&calamine::Data::String("-Secret-77".into())));
    assert_eq!(range.get((2, 1)), Some(&calamine::Data::String("=1+1".into())));
}
