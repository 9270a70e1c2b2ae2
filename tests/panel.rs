//! Issue 7: everything the Admin Panel does, from the command line
//! (`manage-users create` with passwords and a group, `rename`, `groups`,
//! `start`/`stop`, `list` filters and output, `show`), and `sync` of a
//! roster, checked on the hub.

use std::os::unix::fs::PermissionsExt;

use serde_json::{json, Value};

use crate::support::hub::TestHub;
use crate::support::test::{run_in as jhctl, Output};

/// Runs jhctl without files.
fn run(hub: &TestHub, args: &[&str]) -> Output {
    jhctl(hub, &[], args).0
}

/// Stdout parsed as one JSON document.
fn json_of(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e})\n{out}"))
}

fn connected(hub: &TestHub) -> String {
    format!("✅ Connected to JupyterHub at {}\n", hub.url())
}

/// Members of group `name`, sorted; empty when the group does not exist.
fn members(hub: &TestHub, name: &str) -> Vec<String> {
    let mut names: Vec<String> = hub
        .groups()
        .iter()
        .find(|g| g["name"] == name)
        .map(|g| g["users"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn group_names(hub: &TestHub) -> Vec<String> {
    let mut names: Vec<String> = hub.groups().iter().map(|g| g["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

fn usernames(hub: &TestHub) -> Vec<String> {
    let mut names = hub.usernames();
    names.sort();
    names
}

fn admins(hub: &TestHub) -> Vec<String> {
    let mut names: Vec<String> = usernames(hub).into_iter().filter(|n| hub.user(n).unwrap()["admin"] == true).collect();
    names.sort();
    names
}

fn running(hub: &TestHub, name: &str) -> bool {
    hub.user(name).unwrap()["server"].is_string()
}

/// Whether the admin API's store holds any password for `name`.
fn has_password(hub: &TestHub, name: &str) -> bool {
    hub.stored_password(name, "-").is_some()
}

fn set_quota(hub: &TestHub, name: &str, amount: i64) {
    let body = json!({ "action": "set", "amount": amount });
    let (status, reply) = hub.api("POST", &format!("/hub/admin/api/quota/{name}"), Some(body));
    assert_eq!(status, 200, "setting quota failed: {reply}");
}

#[test]
fn create_enrols_a_class_with_generated_passwords_and_a_group() {
    let hub = TestHub::start();
    hub.create_users(&["old1"], false);
    let roster: &[(&str, &[u8])] = &[("class.csv", b"username,admin,groups\nnew1,,lab1\nNEW2,true,\nold1,,\n")];
    let (out, test) = jhctl(
        &hub,
        roster,
        &["manage-users", "create", "class.csv", "--generate-passwords", "-o", "sheet.csv", "--group", "class-a"],
    );
    let out = out.expect_status(0);
    assert!(out.stdout.contains("✅ Created user: new2 (admin=True)\n"), "{out}");
    assert!(out.stdout.contains("✅ Set password for: new1 (force change)\n"), "{out}");
    assert!(out.stdout.contains("⚠️  1 users already existed: their passwords were left as they were"), "{out}");
    assert!(
        out.stdout.contains("  ✅ Created: 2\n  ⚠️  Already exist: 1\n  🔑 Passwords set: 2\n  ❌ Failed: 0\n"),
        "{out}"
    );
    assert!(out.stdout.contains("📁 Saved passwords to: sheet.csv\n"), "{out}");
    assert_eq!(usernames(&hub), ["new1", "new2", "old1"]);
    assert_eq!(admins(&hub), ["new2"]);
    assert_eq!(members(&hub, "class-a"), ["new1", "new2", "old1"]);
    assert_eq!(members(&hub, "lab1"), ["new1"]);

    // The sheet to hand out: the new users only, mode 0600, and each password works.
    let path = test.dir().join("sheet.csv");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let mut rows: Vec<Vec<String>> = csv::Reader::from_path(&path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    rows.sort();
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["new1", "new2"]);
    for row in &rows {
        assert_eq!(row[1].len(), 12, "{row:?}");
        assert_eq!(row[2], "true");
        assert!(!out.stdout.contains(&row[1]) && !out.stderr.contains(&row[1]), "a password was printed");
        assert_eq!(hub.stored_password(&row[0], &row[1]), Some((true, true)));
    }
    assert!(!has_password(&hub, "old1"), "an existing user's password was changed");

    // One password for all, no forced change; --json after the command gives the result maps.
    let more: &[(&str, &[u8])] = &[("more.csv", b"username\nnew3\nnew4\n")];
    let (out, _) = jhctl(
        &hub,
        more,
        &["manage-users", "create", "more.csv", "--password", "Welcome123", "--no-force-change", "--json"],
    );
    let out = out.expect_status(0);
    let results = json_of(&out);
    assert_eq!(results[0], json!({ "name": "new3", "status": "created", "error": null, "password_status": "updated" }));
    assert!(out.stderr.contains("✅ Set password for: new4\n"), "{out}");
    assert_eq!(hub.stored_password("new3", "Welcome123"), Some((true, false)));
    assert_eq!(hub.stored_password("new4", "Welcome123"), Some((true, false)));

    // Asking for a sheet without a password option is bad usage; nothing is created.
    let (out, _) = jhctl(&hub, &[("x.csv", b"username\nnew5\n")], &["manage-users", "create", "x.csv", "-o", "s.csv"]);
    assert!(out.expect_status(2).stderr.contains("need --password PASSWORD or --generate-passwords"));
    let (out, _) = jhctl(
        &hub,
        &[("x.csv", b"username\nnew5\n")],
        &["manage-users", "create", "x.csv", "--password", "a", "--generate-passwords"],
    );
    assert!(out.expect_status(2).stderr.contains("cannot be used with"));
    assert!(hub.user("new5").is_none());
}

#[test]
fn rename_moves_the_user_and_refuses_taken_names() {
    let hub = TestHub::start();
    hub.create_users(&["studnet01", "student02"], false);
    hub.create_group("lab", &["studnet01"]);

    let out = run(&hub, &["manage-users", "rename", "studnet01", "Student01"]).expect_status(0);
    assert_eq!(
        out.stdout,
        format!(
            "{}✅ Renamed user: studnet01 -> student01\n\
             ⚠️  The user must now log in as student01; the name studnet01 no longer works.\n\
             ⚠️  This hub keeps passwords and quota by username: student01 has neither the password nor the \
             balance of studnet01;\n   \
             set them again (`set-passwords`, `manage-users set-quota`), or rename with `--via exec`, which \
             moves them.\n",
            connected(&hub)
        )
    );
    assert_eq!(usernames(&hub), ["student01", "student02"]);
    assert_eq!(members(&hub, "lab"), ["student01"]);

    let taken = run(&hub, &["manage-users", "rename", "student02", "student01"]).expect_status(1);
    assert!(taken.stdout.contains("❌ Cannot rename student02: user student01 already exists; choose another name"));
    let missing = run(&hub, &["manage-users", "rename", "ghost", "ghost2"]).expect_status(1);
    assert!(missing.stdout.contains("❌ User not found: ghost\n"), "{missing}");
    let invalid = run(&hub, &["manage-users", "rename", "student02", "a/b"]).expect_status(2);
    assert!(invalid.stderr.contains("username contains `/`"), "{invalid}");
    let dry = run(&hub, &["manage-users", "rename", "student02", "s2", "--dry-run"]).expect_status(0);
    assert!(dry.stdout.contains("📝 Would rename user: student02 -> s2\n"), "{dry}");
    assert_eq!(usernames(&hub), ["student01", "student02"]);
}

#[test]
fn groups_list_create_add_remove_members_delete() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben", "cid", "dan"], false);
    hub.create_group("staff", &["ann"]);

    let out = run(&hub, &["manage-users", "groups", "create", "lab1"]).expect_status(0);
    assert!(out.stdout.ends_with("✅ Created group: lab1\n"), "{out}");
    assert_eq!(group_names(&hub), ["lab1", "staff"]);
    let again = run(&hub, &["manage-users", "groups", "create", "lab1"]).expect_status(0);
    assert!(again.stdout.ends_with("⚠️  Group already exists: lab1\n"), "{again}");

    let add = run(&hub, &["manage-users", "groups", "add", "lab1", "ann", "ben", "ghost"]).expect_status(1);
    assert!(add.stdout.contains("✅ Added to lab1: ben\n❌ User not found: ghost\n"), "{add}");
    assert!(add.stdout.contains("  ✅ Success: 2\n  ❌ Failed: 1\n"), "{add}");
    let (out, _) = jhctl(
        &hub,
        &[("more.csv", b"username\ncid\nDAN\n")],
        &["manage-users", "groups", "add", "lab2", "-f", "more.csv"],
    );
    out.expect_status(0);
    assert_eq!(members(&hub, "lab1"), ["ann", "ben"]);
    assert_eq!(members(&hub, "lab2"), ["cid", "dan"], "add creates a missing group");

    run(&hub, &["manage-users", "groups", "remove", "lab1", "ann"]).expect_status(0);
    assert_eq!(members(&hub, "lab1"), ["ben"]);
    let (out, _) =
        jhctl(&hub, &[("out.csv", b"username\ncid\n")], &["manage-users", "groups", "remove", "lab2", "-f", "out.csv"]);
    out.expect_status(0);
    assert_eq!(members(&hub, "lab2"), ["dan"]);

    let list = run(&hub, &["manage-users", "groups", "list"]).expect_status(0);
    assert_eq!(
        list.stdout,
        format!(
            "{}👥 Groups: 3\n\nGroup                     Members\n-----------------------------------\n\
             lab1                      1\nlab2                      1\nstaff                     1\n",
            connected(&hub)
        )
    );
    let listed = json_of(&run(&hub, &["manage-users", "groups", "list", "--json"]).expect_status(0));
    assert_eq!(listed[0], json!({ "name": "lab1", "members": 1, "users": ["ben"] }));
    let shown = run(&hub, &["manage-users", "groups", "members", "lab1"]).expect_status(0);
    assert!(shown.stdout.ends_with("👥 Group lab1: 1 members\n  ben\n"), "{shown}");
    run(&hub, &["manage-users", "groups", "members", "nope"]).expect_status(1);

    // Delete asks; without a terminal it refuses unless --yes is given.
    let refused = run(&hub, &["manage-users", "groups", "delete", "lab1"]).expect_status(2);
    assert!(refused.stderr.contains("standard input is not a terminal. Pass --yes"), "{refused}");
    assert_eq!(group_names(&hub), ["lab1", "lab2", "staff"]);
    run(&hub, &["manage-users", "groups", "delete", "lab1", "--dry-run"]).expect_status(0);
    assert_eq!(group_names(&hub), ["lab1", "lab2", "staff"]);
    let deleted = run(&hub, &["manage-users", "groups", "delete", "lab1", "--yes"]).expect_status(0);
    assert!(deleted.stdout.ends_with("✅ Deleted group: lab1 (its 1 members stay users)\n"), "{deleted}");
    assert_eq!(group_names(&hub), ["lab2", "staff"]);
    assert_eq!(usernames(&hub), ["ann", "ben", "cid", "dan"]);
}

#[test]
fn start_and_stop_many_servers() {
    let hub = TestHub::start();
    hub.create_users(&["u1", "u2", "u3", "u4", "u5"], false);
    hub.create_group("lab", &["u3", "u4"]);

    let out = run(&hub, &["manage-users", "start", "u1", "--group", "lab", "--timeout", "30"]).expect_status(0);
    assert!(out.stdout.contains("🔄 Starting 3 servers...\n"), "{out}");
    assert!(out.stdout.contains("✅ Started server: u3\n"), "{out}");
    assert!(out.stdout.contains("  ✅ Started: 3\n  ⏳ Pending: 0\n  ❌ Failed: 0\n"), "{out}");
    assert_eq!(["u1", "u2", "u3", "u4", "u5"].map(|u| running(&hub, u)), [true, false, true, true, false]);

    // The panel's "Only Active Servers", as JSON.
    let out = run(&hub, &["manage-users", "list", "--running", "--json"]).expect_status(0);
    let listed = json_of(&out);
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["u1", "u3", "u4"]);
    assert!(listed.as_array().unwrap().iter().all(|u| u["server"].is_string() && u["server_state"] == "Running"));
    assert!(out.stderr.contains("✅ Connected"), "human lines go to stderr: {out}");

    // The servers were just used, so none is idle for a day.
    let out = run(&hub, &["manage-users", "stop", "--all-running", "--idle-since", "1d"]).expect_status(0);
    assert!(out.stdout.contains("⚠️  No servers to stop\n"), "{out}");
    assert!(running(&hub, "u1"));

    let (out, _) = jhctl(&hub, &[("stop.csv", b"username\nu1\n")], &["manage-users", "stop", "-f", "stop.csv"]);
    assert!(out.expect_status(0).stdout.contains("✅ Stopped server: u1\n"));
    assert!(!running(&hub, "u1") && running(&hub, "u3"));

    // --idle-since alone picks from the running servers.
    let out = run(&hub, &["manage-users", "stop", "--idle-since", "0s", "--json"]).expect_status(0);
    let results = json_of(&out);
    let mut stopped: Vec<&str> = results.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    stopped.sort();
    assert_eq!(stopped, ["u3", "u4"]);
    assert!(results.as_array().unwrap().iter().all(|r| r["status"] == "stopped"), "{results}");
    assert!(["u1", "u2", "u3", "u4", "u5"].iter().all(|u| !running(&hub, u)));

    let missing = run(&hub, &["manage-users", "start", "ghost", "u5"]).expect_status(1);
    assert!(missing.stdout.contains("❌ User not found: ghost\n"), "{missing}");
    assert!(running(&hub, "u5"));
    run(&hub, &["manage-users", "stop", "--all-running"]).expect_status(0);
    assert!(!running(&hub, "u5"));

    let none = run(&hub, &["manage-users", "stop"]).expect_status(2);
    assert!(none.stderr.contains("give usernames, -f/--file FILE, --group GROUP, --all-running or --idle-since"));
    let bad = run(&hub, &["manage-users", "stop", "--idle-since", "soon"]).expect_status(2);
    assert!(bad.stderr.contains("--idle-since `soon` is not a duration"), "{bad}");
}

#[test]
fn list_filters_sorts_and_prints_table_csv_or_json() {
    let hub = TestHub::start();
    hub.create_users(&["stu1", "stu2", "stu3", "other"], false);
    hub.create_users(&["prof"], true);
    hub.create_group("lab", &["stu2", "stu3"]);
    set_quota(&hub, "stu2", 50);
    run(&hub, &["manage-users", "start", "stu3"]).expect_status(0);

    // The panel's table: Username, Admin, Quota, Server, Last Activity.
    let out = run(&hub, &["manage-users", "list"]).expect_status(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[1], "📋 Total users: 5");
    assert_eq!(lines[3], "Username             Admin      Quota        Server     Last Activity");
    assert_eq!(lines[5], "other                           0            Stopped    Never");
    assert_eq!(lines[6], "prof                 ✓          0            Stopped    Never");
    assert_eq!(lines[8], "stu2                            50           Stopped    Never");
    assert!(lines[9].starts_with("stu3                            0            Running    20"), "{out}");

    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["manage-users", "list", "--json"];
        all.extend_from_slice(args);
        let listed = json_of(&run(&hub, &all).expect_status(0));
        listed.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&["--filter", "stu"]), ["stu1", "stu2", "stu3"]);
    assert_eq!(names(&["--admins"]), ["prof"]);
    assert_eq!(names(&["--group", "lab"]), ["stu2", "stu3"]);
    assert_eq!(names(&["--sort", "-name", "--filter", "stu"]), ["stu3", "stu2", "stu1"]);
    assert_eq!(names(&["--sort", "-last_activity"])[0], "stu3");
    assert_eq!(names(&["--running"]), ["stu3"]);

    let full = json_of(&run(&hub, &["manage-users", "list", "--json", "--filter", "stu2"]).expect_status(0));
    assert_eq!(full[0]["quota"]["balance"], 50);
    assert_eq!(full[0]["groups"], json!(["lab"]));

    let csv =
        run(&hub, &["manage-users", "list", "--csv", "--columns", "name,admin,groups,quota,server"]).expect_status(0);
    assert_eq!(
        csv.stdout,
        "username,admin,groups,quota,server\nother,false,,0,Stopped\nprof,true,,0,Stopped\n\
         stu1,false,,0,Stopped\nstu2,false,lab,50,Stopped\nstu3,false,lab,0,Running\n"
    );
    let table = run(&hub, &["manage-users", "list", "--columns", "username,groups", "--group", "lab"]).expect_status(0);
    assert!(table.stdout.contains("Username             Groups\n"), "{table}");
    assert!(table.stdout.contains("\nstu2                 lab\n"), "{table}");
    let bad = run(&hub, &["manage-users", "list", "--columns", "name,shoe"]).expect_status(2);
    assert!(bad.stderr.contains("unknown column 'shoe'"), "{bad}");
    run(&hub, &["manage-users", "list", "--sort", "colour"]).expect_status(2);

    // The global --json before the script name works the same.
    let global = run(&hub, &["--json", "manage-users", "list", "--admins"]).expect_status(0);
    assert_eq!(json_of(&global)[0]["name"], "prof");
}

#[test]
fn show_is_the_user_details_page() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], true);
    hub.create_group("lab1", &["ann"]);
    hub.create_group("lab2", &["ann"]);
    set_quota(&hub, "ann", 120);
    let out = run(&hub, &["manage-users", "show", "ANN"]).expect_status(0);
    let created = hub.user("ann").unwrap()["created"].as_str().unwrap()[..19].replace('T', " ");
    assert_eq!(
        out.stdout,
        format!(
            "{}👤 ann\n  Admin:          ✓ yes\n  Groups:         lab1, lab2\n  Server:         Stopped\n  \
             Created:        {created}\n  Last Activity:  Never\n  Quota:          120\n  Roles:          admin, user\n",
            connected(&hub)
        )
    );
    run(&hub, &["manage-users", "start", "ann"]).expect_status(0);
    let out = run(&hub, &["manage-users", "show", "ann"]).expect_status(0);
    assert!(out.stdout.contains("  Server:         Running (started 20"), "{out}");
    let shown = json_of(&run(&hub, &["manage-users", "show", "ann", "--json"]).expect_status(0));
    assert_eq!(shown["server_state"], "Running");
    assert_eq!(shown["quota"]["balance"], 120);
    let missing = run(&hub, &["manage-users", "show", "ghost"]).expect_status(1);
    assert!(missing.stdout.ends_with("❌ User not found: ghost\n"), "{missing}");
}

#[test]
fn sync_plans_applies_and_then_has_nothing_to_do() {
    let hub = TestHub::start();
    let students: Vec<String> = (1..=10).map(|i| format!("s{i:02}")).collect();
    let newcomers: Vec<String> = (1..=10).map(|i| format!("n{i:02}")).collect();
    let s: Vec<&str> = students.iter().map(String::as_str).collect();
    hub.create_users(&s, false);
    hub.create_users(&["t1", "t2", "boss"], true);
    hub.create_users(&["x1", "x2", "x3"], false);
    hub.create_group("lab1", &["s01", "s02", "s03", "s04", "s05", "x1"]);
    hub.create_group("lab2", &["s06", "s07", "s08", "s09", "s10"]);
    hub.create_group("other", &["x2", "s01"]);

    // The roster: ten newcomers in lab1, s01-s05 move to lab2, t1 and t2
    // are no longer admins; x1-x3 and the admin boss are not in it.
    let mut roster = String::from("username,admin,groups\nt1,false,\nt2,false,\n");
    for name in &students {
        roster += &format!("{name},,lab2\n");
    }
    for name in &newcomers {
        roster += &format!("{name},,lab1\n");
    }
    let files: &[(&str, &[u8])] = &[("roster.csv", roster.as_bytes())];

    let plus = |names: &[String]| names.iter().map(|n| format!("+ {n}")).collect::<Vec<_>>().join(", ");
    let minus = |names: &[String]| names.iter().map(|n| format!("- {n}")).collect::<Vec<_>>().join(", ");
    let mut plan = connected(&hub);
    plan += "📄 Loaded 22 users from roster.csv\n";
    plan += "📋 Plan for roster.csv: 10 to create, 2 admin changes, 20 membership changes in 2 groups, 3 to delete\n\n";
    for name in &newcomers {
        plan += &format!("  + create {name}\n");
    }
    plan += "  ~ admin t1: true -> false\n  ~ admin t2: true -> false\n";
    plan += &format!("  ~ group lab1: {}, {}\n", plus(&newcomers), minus(&students[..5]));
    plan += &format!("  ~ group lab2: {}\n", plus(&students[..5]));
    plan += "  - delete x1\n  - delete x2\n  - delete x3\n";
    plan += "  = keep boss: admin (add --prune-admins to delete admins too)\n";
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--prune", "--plan"]);
    let out = out.expect_status(3);
    assert_eq!(out.stdout, plan);

    // Without a terminal and without --yes nothing happens.
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--prune"]);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("Refusing to apply 35 changes without confirmation"), "{out}");
    assert_eq!(usernames(&hub).len(), 16);
    assert_eq!(admins(&hub), ["boss", "t1", "t2"]);

    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--prune", "--yes"]);
    let out = out.expect_status(0);
    assert!(out.stdout.starts_with(&plan), "{out}");
    assert!(out.stdout.contains("✅ Admin revoked for: t2\n"), "{out}");
    // Issue #26: a deleted user's password is made unusable first.
    assert!(out.stdout.contains("✅ Deleted user: x3 (password cleared)\n"), "{out}");
    assert!(
        out.stdout.contains(
            "  ✅ Created: 10\n  ⚠️  Already exist: 0\n  ✅ Admin changed: 2\n  ✅ Memberships changed: 20\n  \
             ✅ Deleted: 3\n  ❌ Failed: 0\n"
        ),
        "{out}"
    );
    let mut expected: Vec<String> = students.iter().chain(&newcomers).cloned().collect();
    expected.extend(["boss", "t1", "t2"].map(String::from));
    expected.sort();
    assert_eq!(usernames(&hub), expected);
    assert_eq!(admins(&hub), ["boss"], "the admin not in the file survives --prune");
    assert_eq!(members(&hub, "lab1"), newcomers);
    assert_eq!(members(&hub, "lab2"), students);
    assert_eq!(members(&hub, "other"), ["s01"], "a group the file never names is left alone");

    // Twice in a row: the second plan is empty.
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--prune", "--plan"]);
    let out = out.expect_status(0);
    assert_eq!(
        out.stdout,
        format!(
            "{}📄 Loaded 22 users from roster.csv\n✅ No changes: the hub already matches roster.csv\n  \
             = keep boss: admin (add --prune-admins to delete admins too)\n",
            connected(&hub)
        )
    );
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--json"]);
    let doc = json_of(&out.expect_status(0));
    assert_eq!(doc["plan"]["count"], 0);

    // --prune-admins deletes admins that are not in the file too; --dry-run first changes nothing.
    let (out, _) =
        jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--prune", "--prune-admins", "--dry-run"]);
    assert!(out.expect_status(0).stdout.contains("  - delete boss\n"));
    assert!(hub.user("boss").is_some());
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--prune", "--prune-admins", "--yes"]);
    out.expect_status(0);
    assert!(hub.user("boss").is_none());
}

#[test]
fn sync_refuses_a_roster_with_bad_rows() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben"], false);
    let files: &[(&str, &[u8])] = &[("r.csv", b"username,admin\nann,maybe\nbad/name,\n")];
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "r.csv", "--prune", "--yes"]);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("r.csv has 2 rows with problems"), "{out}");
    assert_eq!(usernames(&hub), ["ann", "ben"]);
    let (out, _) = jhctl(&hub, &[("r.csv", b"username\nann\n")], &["manage-users", "sync", "r.csv", "--prune-admins"]);
    assert!(out.expect_status(2).stderr.contains("--prune-admins only works together with --prune"));
}
