//! Issue 11, hostile values: names the hub holds (or a roster brings) that
//! would run as a spreadsheet formula, drive the terminal, or rewrite the
//! hub's URL paths.

use serde_json::{json, Value};

use crate::support::hub::TestHub;
use crate::support::test::{run_in, Output, Test};

fn jhctl(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> Output {
    run_in(hub, files, args).0
}

/// The closest the hub takes to OWASP's `=cmd|' /C calc'!A0`: it refuses
/// names with `/` or spaces (400 `Invalid username`) and lower-cases.
const CALC: &str = "=cmd|'-c_calc'!a0";
/// More names that start like a formula.
const FORMULAS: [&str; 4] = [CALC, "+x", "-2+3", "@sum(a1)"];

#[test]
fn formula_names_are_exported_neutralised_and_restored_exactly() {
    let hub = TestHub::start();
    let (status, reply) = hub.api("POST", "/hub/api/users", Some(json!({ "usernames": ["=cmd|' /C calc'!A0"] })));
    assert_eq!((status, reply["message"].as_str()), (400, Some("Invalid username: =cmd|' /c calc'!a0")));
    hub.create_users(&FORMULAS, false);
    hub.create_users(&["ann"], false);
    let mut names: Vec<String> = FORMULAS.iter().chain(&["ann"]).map(|n| n.to_string()).collect();
    names.sort();
    assert_eq!(hub.usernames(), names);

    for file in ["backup.csv", "backup.xlsx"] {
        let export = Test::new().hub(&hub).args(["manage-users", "export", file]);
        export.run().expect_status(0);
        let bytes = std::fs::read(export.dir().join(file)).unwrap();
        let cells = first_column(file, &bytes);
        let mut expected: Vec<String> =
            vec!["'+x".into(), "'-2+3".into(), format!("'{CALC}"), "'@sum(a1)".into(), "ann".into(), "username".into()];
        expected.sort();
        assert_eq!(cells, expected, "{file}");

        // Restore from the export: the same names, not the guarded ones.
        for name in FORMULAS {
            let (status, _) = hub.api("DELETE", &format!("/hub/api/users/{}", encode(name)), None);
            assert_eq!(status, 204, "deleting {name}");
        }
        let restore = jhctl(&hub, &[(file, &bytes)], &["manage-users", "create", file]).expect_status(0);
        assert!(restore.stdout.contains(&format!("✅ Created user: {CALC} (admin=False)\n")), "{restore}");
        assert!(restore.stdout.contains("  ✅ Created: 4\n  ⚠️  Already exist: 1\n"), "{restore}");
        assert_eq!(hub.usernames(), names, "{file}");
    }
}

/// The first column of an exported CSV or XLSX file, sorted, header included.
fn first_column(file: &str, bytes: &[u8]) -> Vec<String> {
    let mut cells: Vec<String> = if file.ends_with(".csv") {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
        reader.records().map(|r| r.unwrap()[0].to_string()).collect()
    } else {
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        range.rows().map(|row| row[0].to_string()).collect()
    };
    cells.sort();
    cells
}

fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn an_ansi_escape_in_a_hub_name_is_shown_escaped() {
    let hub = TestHub::start();
    hub.create_users(&["\u{1b}[31mred", "bob\u{1b}]0;pwned\u{7}"], false);

    let list = jhctl(&hub, &[], &["manage-users", "list"]).expect_status(0);
    assert!(!list.stdout.contains('\u{1b}') && !list.stdout.contains('\u{7}'), "{list}");
    assert!(list.stdout.contains("\n\\x1b[31mred "), "{list}");
    assert!(list.stdout.contains("\nbob\\x1b]0;pwned\\x07 "), "{list}");

    let show = jhctl(&hub, &[], &["eval", "hub.users().map(|u| u.name)"]).expect_status(0);
    // Rhai shows strings in a list as Rust debug text: escaped already.
    assert_eq!(show.stdout, "[\"\\u{1b}[31mred\", \"bob\\u{1b}]0;pwned\\u{7}\"]\n");
    let one = jhctl(&hub, &[], &["eval", r#"hub.user("\x1b[31mred").name"#]).expect_status(0);
    assert_eq!(one.stdout, "\\x1b[31mred\n");

    // An error message quoting the name is escaped too.
    let error = jhctl(&hub, &[], &["eval", r#"throw hub.user("\x1b[31mred").name"#]).expect_status(1);
    assert!(error.stderr.starts_with("error: \\x1b[31mred\n"), "{error}");

    // JSON output stays valid JSON and keeps the name exactly.
    let json = jhctl(&hub, &[], &["manage-users", "list", "--json"]).expect_status(0);
    let listed: Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}\n{json}"));
    let mut names: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["\u{1b}[31mred", "bob\u{1b}]0;pwned\u{7}"]);
}

#[test]
fn dot_and_dot_dot_in_a_roster_are_refused_before_sending() {
    let hub = TestHub::start();
    let roster = b"username\n.\nann\n..\n";
    let out = jhctl(&hub, &[("r.csv", roster)], &["manage-users", "create", "r.csv"]).expect_status(1);
    let reason = "username `.` or `..` would change the hub's URL paths (they mean this and the parent folder); \
                  choose another name";
    assert!(out.stderr.contains(&format!("❌ roster `r.csv` row 2, column `username`: {reason}\n")), "{out}");
    assert!(out.stderr.contains("❌ roster `r.csv` row 4, column `username`"), "{out}");
    assert!(out.stdout.contains("✅ Created user: ann (admin=False)\n"), "{out}");
    assert!(out.stdout.contains("  ✅ Created: 1\n  ⚠️  Already exist: 0\n  ❌ Failed: 2\n"), "{out}");
    assert_eq!(hub.usernames(), ["ann"]);
    // Nothing about `.` or `..` reached the hub.
    let log = hub.log();
    assert!(!log.contains("/hub/api/users/."), "{log}");

    // Given by name, they are refused too, and the hub is not asked.
    let delete = jhctl(&hub, &[], &["eval", "to_json(hub.delete_users([\"..\", \".\"]))"]).expect_status(0);
    let results: Value = serde_json::from_str(&delete.stdout).unwrap();
    assert!(results.as_array().unwrap().iter().all(|r| r["status"] == "failed"), "{results}");
    assert!(results[0]["error"].as_str().unwrap().ends_with(reason), "{results}");
    assert_eq!(hub.usernames(), ["ann"]);
}
