//! Issue 3: the user guide's workflows, run as written (with
//! `python scripts/NAME.py` replaced by `jhctl NAME`), checked on the hub.

use serde_json::{json, Value};

use crate::support::hub::TestHub;
use crate::support::test::{run_in, Output, Test};

/// Runs jhctl in a fresh folder holding `files`, against `hub`.
fn jhctl(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> Output {
    run_in(hub, files, args).0
}

fn admins(hub: &TestHub) -> Vec<String> {
    let (_, users) = hub.api("GET", "/hub/api/users?limit=200", None);
    let mut names: Vec<String> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["admin"] == true)
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

const RESULTS_50: &str = "==================================================
📊 Results:
  ✅ Created: 50
  ⚠️  Already exist: 0
  ❌ Failed: 0
==================================================
";

#[test]
fn guide_create_new_users() {
    let hub = TestHub::start();
    let test = Test::new().hub(&hub);
    let gen = Test::new()
        .args(["generate-users-template", "--prefix", "student", "--count", "50", "--output", "new_students.csv"])
        .run()
        .expect_status(0);
    assert!(gen.stdout.starts_with("✅ Generated 50 users in new_students.csv\n\n📄 Preview:\n"), "{gen}");
    assert!(gen.stdout.ends_with("... and 40 more users\n"), "{gen}");
    // The template as the guide shows it, then create from it.
    let rows: String = (1..=50).map(|i| format!("student{i:02},false\n")).collect();
    let template = format!("username,admin\n{rows}");
    let out =
        jhctl(&hub, &[("new_students.csv", template.as_bytes())], &["manage-users", "create", "new_students.csv"])
            .expect_status(0);
    let expected_head = format!(
        "✅ Connected to JupyterHub at {}\n📄 Loaded 50 users from new_students.csv\n🔄 Creating 50 users...\n\
         ✅ Created user: student01 (admin=False)\n✅ Created user: student02 (admin=False)\n",
        hub.url()
    );
    assert!(out.stdout.starts_with(&expected_head), "{out}");
    assert!(out.stdout.ends_with(RESULTS_50), "{out}");
    assert_eq!(hub.usernames().len(), 50);
    drop(test);

    // Again: every user already exists, nothing fails.
    let again =
        jhctl(&hub, &[("new_students.csv", template.as_bytes())], &["manage-users", "create", "new_students.csv"])
            .expect_status(0);
    assert!(again.stdout.contains("⚠️  User already exists: student07\n"), "{again}");
    assert!(again.stdout.contains("  ⚠️  Already exist: 50\n"), "{again}");
}

#[test]
fn generated_template_is_what_the_guide_shows() {
    let test =
        Test::new().args(["generate-users-template", "--prefix", "student", "--count", "3", "--output", "u.csv"]);
    test.run().expect_status(0);
    let csv = std::fs::read_to_string(test.dir().join("u.csv")).unwrap();
    assert_eq!(csv, "username,admin\nstudent01,false\nstudent02,false\nstudent03,false\n");

    let padded = Test::new().args([
        "generate-users-template",
        "--prefix",
        "s",
        "--count",
        "100",
        "--digits",
        "3",
        "-o",
        "p.csv",
    ]);
    padded.run().expect_status(0);
    let csv = std::fs::read_to_string(padded.dir().join("p.csv")).unwrap();
    assert!(csv.contains("\ns001,false\n") && csv.ends_with("\ns100,false\n"), "{csv}");

    let names =
        Test::new().args(["generate-users-template", "--names", " alice", "bob ", "charlie", "--admin", "-o", "c.csv"]);
    names.run().expect_status(0);
    assert_eq!(
        std::fs::read_to_string(names.dir().join("c.csv")).unwrap(),
        "username,admin\nalice,true\nbob,true\ncharlie,true\n"
    );

    let excel = Test::new().args([
        "generate-users-template",
        "--prefix",
        "AUP",
        "--count",
        "30",
        "--start",
        "1",
        "--output",
        "aup_users.xlsx",
    ]);
    excel.run().expect_status(0);
    let rows = Test::new()
        .file("aup_users.xlsx", std::fs::read(excel.dir().join("aup_users.xlsx")).unwrap())
        .args([
            "eval",
            r#"let r = roster::read("aup_users.xlsx"); `${r.len()} ${r[0].username} ${r[29].username} ${r[0].admin}`"#,
        ])
        .run()
        .expect_status(0);
    assert_eq!(rows.stdout, "30 aup01 aup30 false\n");

    let no_count =
        Test::new().args(["generate-users-template", "--prefix", "x", "--output", "a.csv"]).run().expect_status(2);
    assert!(no_count.stderr.contains("--count is required when using --prefix"), "{no_count}");
    let both = Test::new().args(["generate-users-template", "--prefix", "x", "--names", "a", "-o", "a.csv"]).run();
    assert_eq!(both.status, 2, "{both}");
    assert!(both.stderr.contains("cannot be used with"), "{both}");
    let neither = Test::new().args(["generate-users-template", "-o", "a.csv"]).run().expect_status(2);
    assert!(neither.stderr.contains("--prefix") && neither.stderr.contains("--names"), "{neither}");
}

#[test]
fn guide_promote_users_to_admin() {
    let hub = TestHub::start();
    hub.create_users(&["teacher01", "teacher02", "teacher03", "student01", "student02"], false);
    jhctl(&hub, &[], &["manage-users", "set-admin", "teacher01"]).expect_status(0);
    assert_eq!(admins(&hub), ["teacher01"]);
    let two = jhctl(&hub, &[], &["manage-users", "set-admin", "teacher01", "teacher02"]).expect_status(0);
    assert!(two.stdout.contains("✅ Admin granted for: teacher02\n"), "{two}");
    assert!(two.stdout.contains("  ✅ Success: 2\n  ❌ Failed: 0\n"), "{two}");
    let file = b"username\nteacher03\nstudent01\n";
    jhctl(&hub, &[("new_admins.csv", file)], &["manage-users", "set-admin", "-f", "new_admins.csv"]).expect_status(0);
    assert_eq!(admins(&hub), ["student01", "teacher01", "teacher02", "teacher03"]);
    let revoke = jhctl(&hub, &[], &["manage-users", "set-admin", "--revoke", "student01"]).expect_status(0);
    assert!(revoke.stdout.contains("✅ Admin revoked for: student01\n"), "{revoke}");
    let demote = b"username\nteacher02\nteacher03\n";
    jhctl(&hub, &[("demote_list.csv", demote)], &["manage-users", "set-admin", "--revoke", "-f", "demote_list.csv"])
        .expect_status(0);
    assert_eq!(admins(&hub), ["teacher01"]);

    let missing = jhctl(&hub, &[], &["manage-users", "set-admin", "ghost", "student02"]).expect_status(1);
    assert!(missing.stdout.contains("❌ User not found: ghost\n"), "{missing}");
    assert_eq!(admins(&hub), ["student02", "teacher01"]);
    let none = jhctl(&hub, &[], &["manage-users", "set-admin"]).expect_status(2);
    assert!(none.stderr.contains("give usernames or -f/--file FILE"), "{none}");
}

#[test]
fn guide_backup_and_restore_450_users() {
    let hub = TestHub::start();
    let names: Vec<String> = (0..450).map(|i| format!("u{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    hub.create_users(&refs[..440], false);
    hub.create_users(&refs[440..], true);
    hub.create_group("lab-a", &refs[0..30]);
    hub.create_group("lab-b", &refs[20..40]);

    let list = jhctl(&hub, &[], &["manage-users", "list"]).expect_status(0);
    assert!(list.stdout.contains("📋 Total users: 450\n"), "{list}");
    assert!(list.stdout.contains("u449"), "the last page is missing");

    let backup = Test::new().hub(&hub).args(["manage-users", "export", "users_backup_20260113.xlsx"]);
    let out = backup.run().expect_status(0);
    assert!(out.stdout.ends_with("✅ Saved 450 users to users_backup_20260113.xlsx\n"), "{out}");
    let xlsx = std::fs::read(backup.dir().join("users_backup_20260113.xlsx")).unwrap();

    // Remove everyone and the groups, then restore from the backup.
    let files: &[(&str, &[u8])] = &[("users_backup_20260113.xlsx", &xlsx)];
    // Issue #28: all of the class goes, so the admin says how many may (--max-delete).
    let args = ["manage-users", "delete", "users_backup_20260113.xlsx", "--yes", "--max-delete", "450"];
    jhctl(&hub, files, &args).expect_status(0);
    assert!(hub.usernames().is_empty());
    hub.api("DELETE", "/hub/api/groups/lab-a", None);
    hub.api("DELETE", "/hub/api/groups/lab-b", None);
    assert!(hub.groups().is_empty());

    let restore = jhctl(&hub, files, &["manage-users", "create", "users_backup_20260113.xlsx"]).expect_status(0);
    assert!(restore.stdout.contains("  ✅ Created: 450\n"), "{restore}");
    assert_eq!(hub.usernames().len(), 450);
    let expected_admins: Vec<String> = names[440..].to_vec();
    assert_eq!(admins_all(&hub), expected_admins);
    let groups = hub.groups();
    let members = |g: &str| -> usize {
        groups.iter().find(|x| x["name"] == g).map(|x| x["users"].as_array().unwrap().len()).unwrap_or(0)
    };
    assert_eq!(members("lab-a"), 30);
    assert_eq!(members("lab-b"), 20);
}

fn admins_all(hub: &TestHub) -> Vec<String> {
    let mut out = Vec::new();
    for offset in (0..1000).step_by(200) {
        let (_, users) = hub.api("GET", &format!("/hub/api/users?offset={offset}&limit=200"), None);
        for u in users.as_array().unwrap() {
            if u["admin"] == true {
                out.push(u["name"].as_str().unwrap().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn guide_remove_users() {
    let hub = TestHub::start();
    hub.create_users(&["keep1", "keep2", "drop1", "drop2"], false);
    let export = Test::new().hub(&hub).args(["manage-users", "export", "all_users.csv"]);
    export.run().expect_status(0);
    let csv = std::fs::read_to_string(export.dir().join("all_users.csv")).unwrap();
    assert!(csv.starts_with("username,admin,groups,created,last_activity,server\n"), "{csv}");
    assert_eq!(csv.lines().count(), 5);

    let remove = b"username\ndrop1\ndrop2\nghost\n";
    let refused =
        jhctl(&hub, &[("remove_list.csv", remove)], &["manage-users", "delete", "remove_list.csv"]).expect_status(2);
    assert!(refused.stderr.contains("standard input is not a terminal. Pass --yes"), "{refused}");
    assert_eq!(hub.usernames().len(), 4, "something was deleted without confirmation");

    let out = jhctl(&hub, &[("remove_list.csv", remove)], &["manage-users", "delete", "remove_list.csv", "--yes"])
        .expect_status(0);
    assert!(
        out.stdout.contains(
            "✅ Deleted user: drop1 (password cleared)\n✅ Deleted user: drop2 (password cleared)\n\
             ⚠️  User not found: ghost\n"
        ),
        "{out}"
    );
    assert!(out.stdout.contains("  ✅ Deleted: 2\n  ⚠️  Not found: 1\n  ❌ Failed: 0\n"), "{out}");
    assert_eq!(hub.usernames(), ["keep1", "keep2"]);
}

#[test]
fn dry_run_changes_nothing() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben"], false);
    let file: &[(&str, &[u8])] = &[("u.csv", b"username\nann\ncarl\n")];
    let create = jhctl(&hub, file, &["manage-users", "create", "u.csv", "--dry-run"]).expect_status(0);
    assert!(create.stdout.contains("📝 Would create user: carl (admin=False)"), "{create}");
    let delete = jhctl(&hub, file, &["manage-users", "delete", "u.csv", "--dry-run"]).expect_status(0);
    assert!(delete.stdout.contains("📝 Would delete user: ann"), "{delete}");
    let admin = jhctl(&hub, &[], &["manage-users", "set-admin", "ann", "--dry-run"]).expect_status(0);
    assert!(admin.stdout.contains("📝 Would grant admin to: ann"), "{admin}");
    let global = jhctl(&hub, &[], &["--dry-run", "eval", "to_json(hub.delete_users([\"ben\"]))"]).expect_status(0);
    assert!(global.stdout.contains("\"planned\""), "{global}");
    assert_eq!(hub.usernames(), ["ann", "ben"]);
    assert!(admins(&hub).is_empty());
}

#[test]
fn create_with_admin_and_groups_columns() {
    let hub = TestHub::start();
    let roster = b"username,admin,groups\nt1,true,staff\ns1,false,lab1;lab2\ns2,,lab1\n";
    let out = jhctl(&hub, &[("class.csv", roster)], &["manage-users", "create", "class.csv"]).expect_status(0);
    assert!(out.stdout.contains("✅ Created user: t1 (admin=True)\n"), "{out}");
    assert_eq!(admins(&hub), ["t1"]);
    let groups = hub.groups();
    let lab1 = groups.iter().find(|g| g["name"] == "lab1").unwrap();
    assert_eq!(lab1["users"], json!(["s1", "s2"]));
    assert!(groups.iter().any(|g| g["name"] == "lab2" && g["users"] == json!(["s1"])));
}

#[test]
fn create_5000_users() {
    let hub = TestHub::start();
    let rows: String = (0..5000).map(|i| format!("big{i:04}\n")).collect();
    let roster = format!("username\n{rows}");
    let out = jhctl(&hub, &[("big.csv", roster.as_bytes())], &["manage-users", "create", "big.csv"]);
    let tail: String =
        out.stdout.lines().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    assert_eq!(out.status, 0, "{tail}\n{}", out.stderr);
    // A chunk whose answer is lost under load is sent again and then
    // counts as `exists`: created and existing add up to every user.
    let count = |label: &str| -> usize {
        let line = tail.lines().find(|l| l.contains(label)).unwrap_or_else(|| panic!("no `{label}` in:\n{tail}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(count("Created:") + count("Already exist:"), 5000, "{tail}");
    assert_eq!(count("Failed:"), 0, "{tail}");
    let count = Test::new().hub(&hub).args(["eval", "hub.users().len()"]).run().expect_status(0);
    assert_eq!(count.stdout, "5000\n");
}

// ---- Bad rosters: each gives its message and exit status, and the hub keeps only the valid rows.

fn create(hub: &TestHub, name: &str, contents: &[u8]) -> Output {
    jhctl(hub, &[(name, contents)], &["manage-users", "create", name])
}

#[test]
fn roster_without_username_column() {
    let hub = TestHub::start();
    let out = create(&hub, "users.csv", b"name,admin\nann,false\n").expect_status(2);
    assert!(out.stderr.contains("File must contain 'username' column"), "{out}");
    assert!(out.stderr.contains("`name`, `admin`"), "{out}");
    assert!(hub.usernames().is_empty());
}

#[test]
fn roster_empty_file() {
    let hub = TestHub::start();
    let out = create(&hub, "users.csv", b"").expect_status(2);
    assert!(out.stderr.contains("roster `users.csv` is empty"), "{out}");
    assert!(hub.usernames().is_empty());
}

#[test]
fn roster_header_only() {
    let hub = TestHub::start();
    let out = create(&hub, "users.csv", b"username,admin\n").expect_status(0);
    assert!(out.stdout.contains("📄 Loaded 0 users from users.csv"), "{out}");
    assert!(out.stdout.contains("  ✅ Created: 0\n"), "{out}");
    assert!(hub.usernames().is_empty());
}

#[test]
fn roster_with_bom_and_semicolons() {
    let hub = TestHub::start();
    create(&hub, "bom.csv", "\u{feff}Username ,Admin\nann,true\n".as_bytes()).expect_status(0);
    create(&hub, "excel.csv", b"username;admin\nben;false\ncid;yes\n").expect_status(0);
    assert_eq!(hub.usernames(), ["ann", "ben", "cid"]);
    assert_eq!(admins(&hub), ["ann", "cid"]);
}

#[test]
fn roster_blank_and_duplicate_rows() {
    let hub = TestHub::start();
    let out = create(&hub, "users.csv", b"username\nann\n\n,\nANN\nben\n").expect_status(0);
    assert!(out.stderr.contains("row 5: username `ann` already appears in row 2; row 5 is skipped"), "{out}");
    assert!(out.stdout.contains("📄 Loaded 2 users from users.csv"), "{out}");
    assert_eq!(hub.usernames(), ["ann", "ben"]);
}

#[test]
fn roster_invalid_names_fail_their_rows_only() {
    let hub = TestHub::start();
    let out = create(&hub, "users.csv", b"username\nann\nbad/name\nann smith\nbell\x07\nben\n").expect_status(1);
    assert!(
        out.stderr.contains("roster `users.csv` row 3, column `username`: username contains `/`; remove it"),
        "{out}"
    );
    assert!(out.stderr.contains("row 4, column `username`: username contains white space"), "{out}");
    assert!(out.stderr.contains("row 5, column `username`: username contains a control character"), "{out}");
    assert!(out.stdout.contains("  ✅ Created: 2\n  ⚠️  Already exist: 0\n  ❌ Failed: 3\n"), "{out}");
    assert_eq!(hub.usernames(), ["ann", "ben"]);
}

#[test]
fn roster_admin_maybe() {
    let hub = TestHub::start();
    let out = create(&hub, "users.csv", b"username,admin\nann,maybe\nben,no\n").expect_status(1);
    assert!(out.stderr.contains("row 2, column `admin`: `maybe` is not a yes/no value"), "{out}");
    assert_eq!(hub.usernames(), ["ben"]);
}

#[test]
fn roster_numeric_usernames_csv_and_xlsx() {
    let hub = TestHub::start();
    create(&hub, "ids.csv", b"username\n1001\n1002\n").expect_status(0);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "username").unwrap();
    sheet.write_number(1, 0, 2001.0).unwrap();
    sheet.write_number(2, 0, 2002.0).unwrap();
    let xlsx = book.save_to_buffer().unwrap();
    create(&hub, "ids.xlsx", &xlsx).expect_status(0);
    assert_eq!(hub.usernames(), ["1001", "1002", "2001", "2002"]);
}

#[test]
fn roster_not_a_spreadsheet() {
    let hub = TestHub::start();
    let out = create(&hub, "users.xlsx", b"username\nann\n").expect_status(2);
    assert!(out.stderr.contains("roster `users.xlsx` is not a valid Excel file"), "{out}");
    assert!(hub.usernames().is_empty());
}

#[test]
fn example_scripts_enrol_and_demote() {
    let hub = TestHub::start();
    let root = env!("CARGO_MANIFEST_DIR");
    let mut book = rust_xlsxwriter::Workbook::new();
    let first = book.add_worksheet().set_name("Lab 1").unwrap();
    first.write_string(0, 0, "username").unwrap();
    first.write_string(1, 0, "x1").unwrap();
    let lab = book.add_worksheet().set_name("Lab 3").unwrap();
    lab.write_string(0, 0, "username").unwrap();
    for (i, name) in ["ann", "ben", "cid"].iter().enumerate() {
        lab.write_string(i as u32 + 1, 0, *name).unwrap();
    }
    let xlsx = book.save_to_buffer().unwrap();
    let enrol = format!("{root}/scripts/examples/enrol_class.rhai");
    let out = jhctl(&hub, &[("term.xlsx", &xlsx)], &["run", &enrol, "term.xlsx", "Lab 3"]).expect_status(0);
    assert!(out.stdout.contains("👥 In group lab-3: 3"), "{out}");
    assert_eq!(hub.usernames(), ["ann", "ben", "cid"]);
    assert_eq!(hub.groups()[0]["users"], json!(["ann", "ben", "cid"]));

    hub.api("PATCH", "/hub/api/users/ann", Some(json!({"admin": true})));
    hub.api("PATCH", "/hub/api/users/ben", Some(json!({"admin": true})));
    let demote = format!("{root}/scripts/examples/demote_admins.rhai");
    let staff: &[(&str, &[u8])] = &[("staff.csv", b"username\nann\n")];
    let dry = jhctl(&hub, staff, &["run", &demote, "staff.csv", "--dry-run"]).expect_status(0);
    assert!(dry.stdout.contains("📝 Would revoke admin from: ben"), "{dry}");
    assert_eq!(admins(&hub), ["ann", "ben"]);
    jhctl(&hub, staff, &["run", &demote, "staff.csv"]).expect_status(0);
    assert_eq!(admins(&hub), ["ann"]);

    Test::new().hub(&hub).args(["eval", r#"hub.start_servers(["cid"])"#]).run().expect_status(0);
    assert!(hub.user("cid").unwrap()["server"].is_string());
    let stop = format!("{root}/scripts/examples/stop_idle.rhai");
    let out = jhctl(&hub, &[], &["run", &stop, "--hours", "0"]).expect_status(0);
    assert!(out.stdout.contains("cid: stopped"), "{out}");
    let user: Value = hub.user("cid").unwrap();
    assert!(user["server"].is_null());
}
