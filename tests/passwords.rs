//! Issue 4: set-passwords (admin API and one exec into the hub pod) and the
//! quota commands, checked in the hub's store and the pod's databases.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::support::fake_k8s::FakeCluster;
use crate::support::hub::TestHub;
use crate::support::test::{run_in as jhctl, Test};

fn read_csv(test: &Test, name: &str) -> Vec<Vec<String>> {
    let path = test.dir().join(name);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{name} must be mode 0600");
    csv::Reader::from_path(path).unwrap().records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn guide_password_column() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben", "cid"], false);
    let file: &[(&str, &[u8])] =
        &[("users_with_passwords.csv", b"username,password\nann,Secret-123\nBEN,pa ss word\ncid,short\n")];
    let (out, _) = jhctl(&hub, file, &["manage-users", "set-passwords", "users_with_passwords.csv"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("✅ Set password for: ann (force change)\n"), "{out}");
    assert!(out.stdout.contains("❌ Failed to set password for cid: 400 - "), "{out}");
    assert!(out.stdout.contains("too short"), "{out}");
    assert!(out.stdout.contains("  ✅ Success: 2\n  ❌ Failed: 1\n"), "{out}");
    assert!(!out.stdout.contains("Secret-123") && !out.stderr.contains("Secret-123"), "a password was printed");
    assert_eq!(hub.stored_password("ann", "Secret-123"), Some((true, true)));
    assert_eq!(hub.stored_password("ben", "pa ss word"), Some((true, true)));
    assert_eq!(hub.stored_password("cid", "short"), None);

    // The same file with --no-force-change, through the bundled script.
    let (out, _) = jhctl(&hub, file, &["set-passwords", "users_with_passwords.csv", "--no-force-change"]);
    assert!(out.expect_status(1).stdout.contains("✅ Set password for: ann\n"));
    assert_eq!(hub.stored_password("ann", "Secret-123"), Some((true, false)));
}

#[test]
fn guide_generate_with_output() {
    let hub = TestHub::start();
    hub.create_users(&["s1", "s2", "s3"], false);
    let file: &[(&str, &[u8])] = &[("users.csv", b"username\ns1\ns2\ns3\nbad/name\n")];
    let (out, test) =
        jhctl(&hub, file, &["manage-users", "set-passwords", "users.csv", "--generate", "-o", "passwords_output.csv"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("📁 Saved passwords to: passwords_output.csv\n"), "{out}");
    assert!(out.stdout.contains("keep it secure and delete it after distributing"), "{out}");
    let rows = read_csv(&test, "passwords_output.csv");
    let mut names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    names.sort();
    assert_eq!(names, ["s1", "s2", "s3"], "exactly the users whose password was set");
    for row in &rows {
        assert_eq!(row[1].len(), 12);
        assert!(!row[1].contains(['l', 'I', 'O', '0', '1']), "{}", row[1]);
        assert_eq!(row[2], "true");
        assert_eq!(hub.stored_password(&row[0], &row[1]), Some((true, true)));
        assert!(!out.stdout.contains(&row[1]), "a generated password was printed");
    }

    let xlsx: &[(&str, &[u8])] = &[("users.csv", b"username\ns1\n")];
    let (out, test) = jhctl(&hub, xlsx, &["set-passwords", "users.csv", "-g", "--length", "20", "-o", "sheet.xlsx"]);
    out.expect_status(0);
    let path = test.dir().join("sheet.xlsx");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!test.dir().join("sheet.xlsx.partial.csv").exists());
}

#[test]
fn guide_default_password_for_all() {
    let hub = TestHub::start();
    hub.create_users(&["s1", "s2"], false);
    let file: &[(&str, &[u8])] = &[("users.csv", b"username\ns1\ns2\n")];
    let (out, _) = jhctl(
        &hub,
        file,
        &["manage-users", "set-passwords", "users.csv", "--generate", "--default-password", "Welcome123"],
    );
    out.expect_status(0);
    assert_eq!(hub.stored_password("s1", "Welcome123"), Some((true, true)));
    assert_eq!(hub.stored_password("s2", "Welcome123"), Some((true, true)));
}

#[test]
fn no_password_column_and_no_generate_changes_nothing() {
    let hub = TestHub::start();
    hub.create_users(&["s1"], false);
    let (out, _) = jhctl(&hub, &[("users.csv", b"username\ns1\n")], &["manage-users", "set-passwords", "users.csv"]);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("has no 'password' column and --generate was not given: nothing changed"), "{out}");
    assert!(out.stderr.contains("--generate --default-password"), "{out}");
    assert_eq!(hub.stored_password("s1", "x"), None);
}

const EXEC_SCRIPT: &str = "import dbm, sys, bcrypt, json\n\
    pw = dbm.open(sys.argv[1], 'r'); fc = dbm.open(sys.argv[2], 'r')\n\
    out = {}\n\
    for name, password in json.loads(sys.argv[3]).items():\n\
    \x20   h = pw.get(name.encode())\n\
    \x20   out[name] = [h is not None and bcrypt.checkpw(password.encode(), h), fc.get(name.encode()) == b'1']\n\
    print(json.dumps(out))";

#[test]
fn via_exec_one_exec_for_200_users() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    let pods = cluster.add_deployment("jupyterhub", "hub", 1);
    let pod_dir = cluster.pod_dir("jupyterhub", &pods[0]);
    let tricky = "q\"u'o\\te $(touch pwned) `x`\nline two ünïcødé 密码";
    let mut roster = String::from("username,password\n");
    roster += &format!("tricky,\"{}\"\n", tricky.replace('"', "\"\""));
    let mut names = vec!["tricky".to_string()];
    for i in 1..200 {
        roster += &format!("user{i:03},Password-{i:03}\n");
        names.push(format!("user{i:03}"));
    }
    hub.create_users(&names.iter().map(String::as_str).collect::<Vec<_>>(), false);
    let passwords_db = pod_dir.join("passwords.dbm");
    let force_db = pod_dir.join("force_password_change.dbm");
    let test = Test::new().hub(&hub).env("KUBECONFIG", cluster.kubeconfig_path()).file("users.csv", &roster).args([
        "set-passwords",
        "users.csv",
        "--via",
        "exec",
        "--cost",
        "4",
        "--store",
        "dbm",
        "-n",
        "jupyterhub",
        "--passwords-db",
        passwords_db.to_str().unwrap(),
        "--force-change-db",
        force_db.to_str().unwrap(),
    ]);
    let out = test.run().expect_status(0);
    assert!(out.stdout.contains("  ✅ Success: 200\n  ❌ Failed: 0\n"), "{out}");
    assert_eq!(cluster.exec_count(), 1, "one exec for the whole batch");
    assert!(!pod_dir.join("pwned").exists(), "the password ran as code");
    let requests = cluster.requests().join("\n");
    assert!(
        !requests.contains("Password-") && !requests.contains("tricky"),
        "user data on the command line:\n{requests}"
    );

    let mut expected = serde_json::Map::new();
    expected.insert("tricky".into(), Value::String(tricky.into()));
    expected.insert("user001".into(), Value::String("Password-001".into()));
    expected.insert("user199".into(), Value::String("Password-199".into()));
    let checked = hub.run_python(
        EXEC_SCRIPT,
        &[passwords_db.to_str().unwrap(), force_db.to_str().unwrap(), &Value::Object(expected).to_string()],
    );
    let checked: Value = serde_json::from_str(&checked).unwrap();
    for name in ["tricky", "user001", "user199"] {
        assert_eq!(checked[name], serde_json::json!([true, true]), "{name}: {checked}");
    }
    let mode = std::fs::metadata(&passwords_db).map(|m| m.permissions().mode() & 0o777);
    if let Ok(mode) = mode {
        assert_eq!(mode, 0o600);
    }
}

fn quota_of(hub: &TestHub, name: &str) -> (i64, bool) {
    let (status, body) = hub.api("GET", &format!("/hub/admin/api/quota/{name}"), None);
    assert_eq!(status, 200, "{body}");
    (body["balance"].as_i64().unwrap(), body["unlimited"].as_bool().unwrap_or(false))
}

#[test]
fn quota_set_add_deduct_unlimited_list() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben", "cid", "dan"], false);
    let file: &[(&str, &[u8])] = &[("quota.csv", b"username,quota\nann,500\nben,\ncid,lots\n")];
    let (out, _) = jhctl(&hub, file, &["manage-users", "set-quota", "-f", "quota.csv", "--amount", "100"]);
    let out = out.expect_status(1);
    assert!(out.stderr.contains("row 4, column `quota`: `lots` is not a whole number"), "{out}");
    assert!(out.stdout.contains("  ✅ Success: 2\n  ❌ Failed: 1\n"), "{out}");
    assert_eq!(quota_of(&hub, "ann").0, 500);
    assert_eq!(quota_of(&hub, "ben").0, 100);

    jhctl(&hub, &[], &["manage-users", "set-quota", "dan", "-a", "7"]).0.expect_status(0);
    assert_eq!(quota_of(&hub, "dan").0, 7);
    let (out, _) = jhctl(&hub, &[], &["manage-users", "set-quota", "dan", "-a", "20000000"]);
    assert!(out.expect_status(2).stderr.contains("out of range"));
    assert_eq!(quota_of(&hub, "dan").0, 7);
    let (out, _) = jhctl(&hub, &[], &["manage-users", "set-quota", "dan", "-a", "1.5"]);
    out.expect_status(2);

    jhctl(&hub, &[], &["manage-users", "add-quota", "ann", "ben", "--amount", "25"]).0.expect_status(0);
    assert_eq!(quota_of(&hub, "ann").0, 525);
    assert_eq!(quota_of(&hub, "ben").0, 125);

    let (out, _) = jhctl(&hub, &[], &["manage-users", "deduct-quota", "dan", "-a", "10"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("❌ Failed for dan: 400 - Insufficient balance"), "{out}");
    assert_eq!(quota_of(&hub, "dan").0, 7);
    jhctl(&hub, &[], &["manage-users", "deduct-quota", "dan", "-a", "5"]).0.expect_status(0);
    assert_eq!(quota_of(&hub, "dan").0, 2);

    jhctl(&hub, &[], &["manage-users", "set-quota", "cid", "--unlimited"]).0.expect_status(0);
    assert!(quota_of(&hub, "cid").1);

    let (out, _) = jhctl(&hub, &[], &["manage-users", "list-quota"]);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("📋 Quota Balances (4 users):\n"), "{out}");
    assert!(out.stdout.contains("Username                  Balance         Last Updated\n"), "{out}");
    let ann = out.stdout.lines().find(|l| l.starts_with("ann ")).unwrap();
    assert!(ann.starts_with(&format!("{:25} {:15} ", "ann", "525")), "{ann}");
    assert!(out.stdout.lines().any(|l| l.starts_with("cid") && l.contains("unlimited")), "{out}");
}

/// Issue #26: on a hub without the admin API (a stock JupyterHub answers
/// /hub/admin/api with HTML pages), passwords and quota stop before
/// anything is sent, with one line saying so and what to use instead;
/// never an HTML page per user, never a user created without its password.
#[test]
fn a_hub_without_the_admin_api_is_named_once() {
    let hub = TestHub::builder().without_admin_api().start();
    let (status, page) = hub.api("POST", "/hub/admin/api/set-password", Some(serde_json::json!({})));
    assert_eq!(status, 403, "the test hub has an admin API: {page}");
    hub.create_users(&["ann", "ben", "cid"], false);
    let line = format!(
        "❌ the hub at {} has no admin API for passwords and quota (/hub/admin/api answered 404 with an HTML page); \
         set passwords with `--via exec` (writes the hub's password store in the hub pod) or through the hub's own \
         authenticator; quota needs the hub's admin extension\n",
        hub.url()
    );
    let roster: &[(&str, &[u8])] = &[("r.csv", b"username,password\nann,Secret-123\nben,Secret-456\ncid,Secret-789\n")];
    let runs: [&[&str]; 5] = [
        &["set-passwords", "r.csv"],
        &["manage-users", "set-passwords", "r.csv", "--generate", "-o", "sheet.csv"],
        &["manage-users", "add-quota", "ann", "ben", "--amount", "5"],
        &["manage-users", "set-quota", "ann", "--amount", "5"],
        &["manage-users", "list-quota"],
    ];
    for args in runs {
        let (out, test) = jhctl(&hub, roster, args);
        let out = out.expect_status(1);
        assert_eq!(out.stderr, line, "{args:?}");
        assert!(!out.stdout.contains("<html") && !out.stdout.contains("🔄"), "{args:?}\n{out}");
        assert!(!test.dir().join("sheet.csv").exists(), "{args:?}");
    }
    // Users who are to get passwords are not created at all.
    let new: &[(&str, &[u8])] = &[("new.csv", b"username\ndee\neve\n")];
    for password in [["--generate-passwords", ""], ["--password", "Secret-000"]] {
        let mut args = vec!["manage-users", "create", "new.csv"];
        args.extend(password.iter().filter(|a| !a.is_empty()));
        let (out, _) = jhctl(&hub, new, &args);
        assert_eq!(out.expect_status(1).stderr, line);
    }
    assert_eq!(hub.usernames(), ["ann", "ben", "cid"]);
    // Without passwords, create works as on any hub.
    jhctl(&hub, new, &["manage-users", "create", "new.csv"]).0.expect_status(0);
    assert_eq!(hub.usernames(), ["ann", "ben", "cid", "dee", "eve"]);
}
