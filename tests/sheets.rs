//! Issue #26: the files jhctl writes that an admin may need. A password
//! sheet, an export and a backup are never truncated or replaced without
//! `--overwrite`, and a password on a sheet is exactly the hub's password.

use std::os::unix::fs::PermissionsExt;

use crate::support::hub::TestHub;
use crate::support::test::Test;

/// The rows of a CSV sheet (header left out), checked to be mode 0600.
fn sheet_rows(test: &Test, name: &str) -> Vec<Vec<String>> {
    let path = test.dir().join(name);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{name} must be mode 0600");
    csv::Reader::from_path(path).unwrap().records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

/// The names of the files in the test's folder, sorted.
fn files(test: &Test) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(test.dir()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

// Issue #26: a second `create --generate-passwords -o sheet.csv` deleted the
// first run's sheet (every user existed, so no password was set).
#[test]
fn a_rerun_never_truncates_or_removes_the_password_sheet() {
    let hub = TestHub::start();
    let create = ["manage-users", "create", "class.csv", "--generate-passwords", "-o", "sheet.csv"];
    let test = Test::new()
        .hub(&hub)
        .file("class.csv", "username\ns1\ns2\ns3\n")
        .file("more.csv", "username\ns1\ns2\ns3\ns4\n")
        .args(create);
    test.run().expect_status(0);
    let first = std::fs::read(test.dir().join("sheet.csv")).unwrap();
    let rows = sheet_rows(&test, "sheet.csv");
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(hub.stored_password(&row[0], &row[1]), Some((true, true)), "{row:?}");
    }

    // The same command again: refused before anything is sent.
    let test = test.with_args(["manage-users", "create", "more.csv", "--generate-passwords", "-o", "sheet.csv"]);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`sheet.csv` already exists and jhctl does not write over it"), "{out}");
    assert!(out.stderr.contains("pass --overwrite to replace it"), "{out}");
    assert_eq!(hub.usernames(), ["s1", "s2", "s3"], "nothing was sent: s4 was not created");
    assert_eq!(std::fs::read(test.dir().join("sheet.csv")).unwrap(), first);

    // With --overwrite, but every user exists: no password set, the sheet stays.
    let test = test.with_args(["manage-users", "create", "class.csv", "--generate-passwords", "-o", "sheet.csv"]);
    let test = test.arg("--overwrite");
    let out = test.run().expect_status(0);
    assert!(out.stdout.contains("No password was set: sheet.csv was not written"), "{out}");
    assert_eq!(std::fs::read(test.dir().join("sheet.csv")).unwrap(), first);

    // set-passwords takes the same care: refused, and no password changed.
    let set = ["manage-users", "set-passwords", "class.csv", "--generate", "-o", "sheet.csv"];
    let test = test.with_args(set);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`sheet.csv` already exists"), "{out}");
    for row in &rows {
        assert_eq!(hub.stored_password(&row[0], &row[1]), Some((true, true)), "{row:?} was changed");
    }
    assert_eq!(std::fs::read(test.dir().join("sheet.csv")).unwrap(), first);

    // Asked for: the new sheet replaces the old one, and holds the hub's passwords.
    let test = test.arg("--overwrite");
    test.run().expect_status(0);
    let rows = sheet_rows(&test, "sheet.csv");
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(hub.stored_password(&row[0], &row[1]), Some((true, true)), "{row:?}");
    }
    assert_eq!(files(&test), ["class.csv", "more.csv", "sheet.csv"], "no journal left behind");
}

// Issue #26: the journal a run that stopped early leaves holds passwords; a
// new run neither truncates it nor sends anything.
#[test]
fn a_journal_left_by_a_stopped_run_is_never_truncated() {
    let hub = TestHub::start();
    hub.create_users(&["s1"], false);
    let left = "username,password,force_change\ns1,Only-Copy-1,true\n";
    let test = Test::new()
        .hub(&hub)
        .file("class.csv", "username,password\ns1,New-Secret-1\n")
        .file("sheet.xlsx.partial.csv", left)
        .args(["manage-users", "set-passwords", "class.csv", "-o", "sheet.xlsx", "--overwrite"]);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`sheet.xlsx.partial.csv` exists: a run that stopped early left it"), "{out}");
    assert_eq!(std::fs::read_to_string(test.dir().join("sheet.xlsx.partial.csv")).unwrap(), left);
    assert_eq!(hub.stored_password("s1", "New-Secret-1"), None, "nothing was sent");

    // create checks it before creating anyone.
    let test = test.file("new.csv", "username\ns2\n");
    let test = test.with_args(["manage-users", "create", "new.csv", "--generate-passwords", "-o", "sheet.xlsx"]);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`sheet.xlsx.partial.csv` exists"), "{out}");
    assert_eq!(hub.usernames(), ["s1"], "s2 was not created");
}

// Issue #26: an export and a prune backup are never replaced silently either.
#[test]
fn export_and_backup_refuse_an_existing_file_without_overwrite() {
    let hub = TestHub::start();
    hub.create_users(&["old1", "ann"], false);
    let (status, reply) = hub.api(
        "POST",
        "/hub/api/users/old1/activity",
        Some(serde_json::json!({ "last_activity": "2025-01-01T00:00:00Z" })),
    );
    assert_eq!(status, 200, "{reply}");
    let kept = "username\nonly-copy\n";
    let test = Test::new().hub(&hub).file("users.csv", kept).file("gone.xlsx", kept).args([
        "manage-users",
        "export",
        "users.csv",
    ]);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`users.csv` already exists"), "{out}");
    assert_eq!(std::fs::read_to_string(test.dir().join("users.csv")).unwrap(), kept);
    let test = test.arg("--overwrite");
    test.run().expect_status(0);
    let export = std::fs::read_to_string(test.dir().join("users.csv")).unwrap();
    assert!(export.starts_with("username,admin,groups,") && export.contains("\nann,"), "{export}");

    let prune = ["manage-users", "prune-inactive", "--since", "180d", "--backup", "gone.xlsx", "--yes"];
    let test = test.with_args(prune);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`gone.xlsx` already exists"), "{out}");
    assert_eq!(std::fs::read_to_string(test.dir().join("gone.xlsx")).unwrap(), kept);
    assert_eq!(hub.usernames(), ["ann", "old1"], "nothing was deleted");
    let test = test.arg("--overwrite");
    test.run().expect_status(0);
    assert_eq!(hub.usernames(), ["ann"]);
    assert!(std::fs::read(test.dir().join("gone.xlsx")).unwrap().starts_with(b"PK"), "an Excel backup");
}

// Issue #26: the sheet said `'-Secret-77` where the hub holds `-Secret-77`.
#[test]
fn the_password_on_the_sheet_is_the_password() {
    let hub = TestHub::start();
    hub.create_users(&["p1", "p2", "p3"], false);
    let roster = "username,password\np1,-Secret-77\np2,=Secret+88\np3,@Secret-99\n";
    let exact = [("p1", "-Secret-77"), ("p2", "=Secret+88"), ("p3", "@Secret-99")];

    let test = Test::new().hub(&hub).file("users.csv", roster).args(["set-passwords", "users.csv", "-o", "sheet.csv"]);
    let out = test.run().expect_status(0);
    let rows = sheet_rows(&test, "sheet.csv");
    let on_sheet: Vec<(&str, &str)> = rows.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    let mut sorted = on_sheet.clone();
    sorted.sort();
    assert_eq!(sorted, exact);
    for (name, password) in on_sheet {
        assert_eq!(hub.stored_password(name, password), Some((true, true)), "{name}: the sheet's password");
    }
    assert_eq!(out.stderr.matches("open it as text").count(), 1, "one warning: {out}");
    assert!(!out.stdout.contains("Secret") && !out.stderr.contains("Secret"), "a password was printed");

    let test = test.with_args(["set-passwords", "users.csv", "-o", "sheet.xlsx"]);
    let out = test.run().expect_status(0);
    assert!(!out.stderr.contains("open it as text"), "an Excel sheet needs no warning: {out}");
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(test.dir().join("sheet.xlsx")).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut workbook, 0).unwrap().unwrap();
    let mut cells: Vec<(String, String)> =
        range.rows().skip(1).map(|row| (row[0].to_string(), row[1].to_string())).collect();
    cells.sort();
    assert_eq!(cells.len(), 3);
    for ((name, password), (want_name, want_password)) in cells.iter().zip(exact) {
        assert_eq!((name.as_str(), password.as_str()), (want_name, want_password));
        assert_eq!(hub.stored_password(name, password), Some((true, true)), "{name}: the sheet's password");
    }
}

// Issue #26: a token file and a roster template are files an admin may need
// too: refused over an existing file without --overwrite, nothing made.
#[test]
fn token_files_and_templates_refuse_an_existing_file_without_overwrite() {
    let hub = TestHub::start();
    hub.create_users(&["alice"], false);
    let tokens = || hub.api("GET", "/hub/api/users/alice/tokens", None).1["api_tokens"].as_array().unwrap().len();
    let before = tokens();
    let kept = "user,id,note,expires_at,token\nalice,a1,bot,,only-copy\n";
    let test = Test::new().hub(&hub).file("bot.csv", kept).file("users.csv", "username\nmine\n").args([
        "manage-users",
        "tokens",
        "create",
        "alice",
        "-o",
        "bot.csv",
    ]);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`bot.csv` already exists"), "{out}");
    assert_eq!(std::fs::read_to_string(test.dir().join("bot.csv")).unwrap(), kept);
    assert_eq!(tokens(), before, "no token was made");
    let test = test.arg("--overwrite");
    test.run().expect_status(0);
    assert_eq!(tokens(), before + 1);
    assert!(std::fs::read_to_string(test.dir().join("bot.csv")).unwrap().starts_with("user,id,note"));

    let test = test.with_args(["generate-users-template", "--prefix", "s", "--count", "2", "-o", "users.csv"]);
    let out = test.run().expect_status(2);
    assert!(out.stderr.contains("`users.csv` already exists"), "{out}");
    assert_eq!(std::fs::read_to_string(test.dir().join("users.csv")).unwrap(), "username\nmine\n");
    test.arg("--overwrite").run().expect_status(0);
}
