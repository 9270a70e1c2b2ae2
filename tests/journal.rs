//! Issue #28: every run that changes the hub leaves a journal (0600, never
//! a password or token text); `jhctl history` lists the runs, `jhctl undo`
//! puts a run's changes back, and a `create --generate-passwords` killed
//! with SIGKILL is finished by running it again.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::hub::TestHub;
use crate::support::test::Test;

fn balance(hub: &TestHub, name: &str) -> i64 {
    let (status, reply) = hub.api("GET", &format!("/hub/admin/api/quota/{name}"), None);
    assert_eq!(status, 200, "quota of {name}: {reply}");
    reply["balance"].as_i64().expect("a balance")
}

fn set_balance(hub: &TestHub, name: &str, amount: i64) {
    let users = json!({ "users": [{ "username": name, "amount": amount }] });
    let (status, reply) = hub.api("POST", "/hub/admin/api/quota/batch", Some(users));
    assert_eq!(status, 200, "{reply}");
}

fn groups_of(hub: &TestHub, name: &str) -> Vec<String> {
    let user = hub.user(name).unwrap_or_else(|| panic!("no user {name}"));
    let mut groups: Vec<String> =
        user["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().into()).collect();
    groups.sort();
    groups
}

fn is_admin(hub: &TestHub, name: &str) -> bool {
    hub.user(name).unwrap_or_else(|| panic!("no user {name}"))["admin"] == true
}

/// The journal files of the test's home.
fn journals(test: &Test) -> Vec<PathBuf> {
    let dir = test.home().join(".local/state/jhctl/runs");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// `jhctl history --json` of the test's home.
fn history(test: Test) -> (Vec<Value>, Test) {
    let test = test.with_args(["history", "--json"]);
    let out = test.run().expect_status(0);
    (serde_json::from_str::<Vec<Value>>(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}")), test)
}

// Issue #28: a delete cannot be taken back.
#[test]
fn undo_brings_back_deleted_users_with_their_admin_flag_groups_and_balances() {
    let hub = TestHub::start();
    let class = ["d1", "d2", "d3", "d4", "d5"];
    hub.create_users(&class, false);
    hub.create_users(&["d0"], true);
    hub.create_group("lab", &["d1", "d2", "d0"]);
    hub.create_group("staff", &["d0", "d3"]);
    for (i, name) in class.iter().enumerate() {
        set_balance(&hub, name, 100 * (i as i64 + 1));
    }
    set_balance(&hub, "d0", 7);
    let test = Test::new().hub(&hub).file("gone.csv", "username\nd0\nd1\nd2\nd3\nd4\n");
    let test = test.with_args(["manage-users", "delete", "gone.csv", "--yes"]);
    test.run().expect_status(0);
    assert_eq!(hub.usernames(), ["d5"].map(String::from), "the delete ran");

    let (runs, test) = history(test);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["interrupted"], false);
    assert_eq!(runs[0]["counts"]["deleted"], 5, "{runs:?}");
    assert!(runs[0]["command"].as_str().unwrap().ends_with("manage-users delete gone.csv --yes"), "{runs:?}");
    let listed = test.with_args(["history"]);
    let out = listed.run().expect_status(0);
    assert!(out.stdout.contains("deleted 5"), "{out}");
    assert!(out.stdout.contains("manage-users delete gone.csv --yes"), "{out}");

    let plan = listed.with_args(["undo", "--plan"]);
    let out = plan.run().expect_status(3);
    assert!(out.stdout.contains("  - re-create d0 (admin=true) [lab, staff], balance 7"), "{out}");
    assert!(out.stdout.contains("  - re-create d3 (admin=false) [staff], balance 300"), "{out}");
    assert!(out.stdout.contains("  ! d1: the password"), "{out}");
    assert_eq!(hub.usernames(), ["d5"].map(String::from), "--plan changes nothing");

    let undo = plan.with_args(["undo", "--yes"]);
    let out = undo.run().expect_status(0);
    assert_eq!(hub.usernames(), ["d0", "d1", "d2", "d3", "d4", "d5"].map(String::from), "{out}");
    assert!(is_admin(&hub, "d0") && !is_admin(&hub, "d1"), "{out}");
    assert_eq!(groups_of(&hub, "d0"), ["lab", "staff"], "{out}");
    assert_eq!(groups_of(&hub, "d1"), ["lab"]);
    assert_eq!(groups_of(&hub, "d3"), ["staff"]);
    assert!(groups_of(&hub, "d4").is_empty());
    assert_eq!(balance(&hub, "d0"), 7);
    for (i, name) in class.iter().enumerate().take(4) {
        assert_eq!(balance(&hub, name), 100 * (i as i64 + 1), "{name}: {out}");
    }

    // The undo is a run of its own.
    let (runs, _) = history(undo);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs[0]["command"].as_str().unwrap().ends_with("undo --yes"), "{runs:?}");
}

// Issue #28: `set-admin --revoke` and quota changes undone, each by its run id.
#[test]
fn a_revoked_admin_flag_and_quota_changes_are_undone_run_by_run() {
    let hub = TestHub::start();
    hub.create_users(&["t1", "t2"], true);
    hub.create_users(&["s1"], false);
    set_balance(&hub, "s1", 40);
    set_balance(&hub, "t1", 5);
    let test = Test::new().hub(&hub).with_args(["manage-users", "set-admin", "--revoke", "t1", "t2"]);
    test.run().expect_status(0);
    let test = test.with_args(["manage-users", "add-quota", "s1", "t1", "--amount", "60"]);
    test.run().expect_status(0);
    let test = test.with_args(["manage-users", "set-quota", "s1", "--amount", "1"]);
    test.run().expect_status(0);
    assert!(!is_admin(&hub, "t1") && !is_admin(&hub, "t2"));
    assert_eq!((balance(&hub, "s1"), balance(&hub, "t1")), (1, 65));

    let (runs, test) = history(test);
    let ids: Vec<String> = runs.iter().map(|r| r["run"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 3, "{runs:?}");
    // Newest first: set-quota, add-quota, set-admin.
    let test = test.with_args(["undo", "--yes"]);
    let out = test.run().expect_status(0);
    assert_eq!((balance(&hub, "s1"), balance(&hub, "t1")), (100, 65), "the set-quota run undone: {out}");
    let test = test.with_args(["undo", &ids[1], "--yes"]);
    let out = test.run().expect_status(0);
    assert_eq!((balance(&hub, "s1"), balance(&hub, "t1")), (40, 5), "the add-quota run undone: {out}");
    let test = test.with_args(["undo", &ids[2], "--yes"]);
    let out = test.run().expect_status(0);
    assert!(is_admin(&hub, "t1") && is_admin(&hub, "t2") && !is_admin(&hub, "s1"), "{out}");

    let unknown = test.with_args(["undo", "nosuchrun", "--yes"]);
    let out = unknown.run();
    assert_ne!(out.status, 0, "{out}");
    assert!(out.stderr.contains("no run `nosuchrun`"), "{out}");
}

/// The rows of a CSV sheet, `(username, password)`.
fn sheet(path: &std::path::Path) -> Vec<(String, String)> {
    let Ok(mut reader) = csv::Reader::from_path(path) else { return Vec::new() };
    reader.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[1].to_string())).collect()
}

/// The users of `rows` whose stored password is not the sheet's, checked
/// with bcrypt against the admin API double's table in one Python run.
fn wrong_passwords(hub: &TestHub, rows: &[(String, String)]) -> Vec<String> {
    let script = "import sqlite3, sys, bcrypt, json\n\
        db = sqlite3.connect(sys.argv[1])\n\
        bad = []\n\
        for name, pw in json.load(open(sys.argv[2])):\n\
        \x20   row = db.execute('select password_hash from auth_user_passwords where username=?', (name,)).fetchone()\n\
        \x20   if not row or not bcrypt.checkpw(pw.encode(), bytes(row[0])): bad.append(name)\n\
        print(json.dumps(bad))";
    let file = hub.scratch().join("sheet-check.json");
    std::fs::write(&file, serde_json::to_string(rows).unwrap()).unwrap();
    let store = hub.store();
    let out = hub.run_python(script, &[store.to_str().unwrap(), file.to_str().unwrap()]);
    serde_json::from_str(&out).unwrap()
}

// Issue #28: killed during `create --generate-passwords -o`, the users stood
// on the hub without a password, and the re-run said "Already exist" and
// wrote no sheet.
#[test]
fn a_create_killed_with_sigkill_is_finished_by_the_same_command() {
    let hub = TestHub::start();
    let names: Vec<String> = (0..300).map(|i| format!("k{i:03}")).collect();
    let roster = format!("username\n{}\n", names.join("\n"));
    let command = ["manage-users", "create", "k.csv", "--generate-passwords", "-o", "sheet.csv", "--group", "term1"];
    let test = Test::new().hub(&hub).file("k.csv", roster).args(command);
    let mut child = test.spawn();
    let started = Instant::now();
    loop {
        let outcome =
            journals(&test).iter().any(|j| std::fs::read_to_string(j).unwrap().contains("\"kind\":\"outcome\""));
        if outcome {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "jhctl ended before the test could kill it");
        assert!(started.elapsed() < Duration::from_secs(120), "no outcome in the journal after 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "killed with SIGKILL");
    let on_hub = hub.usernames().len();
    assert!(on_hub > 0, "the killed run created users");
    let (runs, test) = history(test);
    assert_eq!(runs[0]["interrupted"], true, "{runs:?}");

    // A sheet journal the killed run left is refused; the admin moves it aside.
    let partial = test.dir().join("sheet.csv.partial.csv");
    if partial.exists() {
        std::fs::rename(&partial, test.dir().join("killed-sheet.csv")).unwrap();
    }
    let test = test.with_args(command);
    let out = test.run().expect_status(0);
    assert!(out.stdout.contains("users were created by the interrupted run"), "{out}");
    assert!(out.stdout.contains("📁 Saved passwords to: sheet.csv"), "{out}");

    // Every user of the roster: on the hub, in term1, with the password the new sheet holds.
    assert_eq!(hub.usernames(), names);
    let new_sheet = sheet(&test.dir().join("sheet.csv"));
    let mut on_sheet: Vec<String> = new_sheet.iter().map(|(n, _)| n.clone()).collect();
    on_sheet.sort();
    assert_eq!(on_sheet, names, "the re-run's sheet holds every user: {out}");
    assert!(wrong_passwords(&hub, &new_sheet).is_empty(), "{out}");
    let term1 = hub.groups().into_iter().find(|g| g["name"] == "term1").expect("group term1");
    assert_eq!(term1["users"].as_array().unwrap().len(), 300);

    // The journals: mode 0600, no password, no token.
    let files = journals(&test);
    assert_eq!(files.len(), 2);
    for file in files {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(hub.token()), "{} holds the token", file.display());
        for (name, password) in &new_sheet {
            assert!(!text.contains(&format!("\"{password}\"")), "{} holds {name}'s password", file.display());
        }
    }
}

// Issue #28: a password given on the command line stays out of the journal.
#[test]
fn a_password_on_the_command_line_is_not_journaled() {
    let hub = TestHub::start();
    let test = Test::new().hub(&hub).file("c.csv", "username\np1\n");
    let test = test.with_args(["manage-users", "create", "c.csv", "--password", "Sekrit-Passw0rd"]);
    test.run().expect_status(0);
    let files = journals(&test);
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains("Sekrit-Passw0rd"), "{text}");
    assert!(text.contains(r#""--password","<hidden>""#), "{text}");
    assert!(text.contains("\"kind\":\"end\""), "{text}");

    // A dry run changes nothing and writes no journal.
    let dry = test.with_args(["manage-users", "delete", "c.csv", "--yes", "--dry-run"]);
    dry.run().expect_status(0);
    assert_eq!(journals(&dry).len(), 1);
    assert_eq!(hub.usernames(), ["p1"]);
}
