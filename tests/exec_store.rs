//! Issues 13 and 11: `--via exec` writes the store that the hub in the pod
//! reads (the `auth_user_passwords` table through the hub package, or the
//! dbm files of older hubs), says which, refuses when there is none, and
//! keeps the sheet true when the exec breaks mid-batch; a user the pod may
//! have written before the link broke is `unknown` (issue 26). Checked by
//! logging in to the test hub, whose authenticator reads that table.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::fake_k8s::FakeCluster;
use crate::support::hub::TestHub;
use crate::support::test::{Output, Test};

const NS: &str = "jupyterhub";

/// A hub pod whose `python3` imports the hub package's test double
/// (tests/hub/pod) with a z2jh configuration of `db` (`hub.db` values).
fn hub_pod(hub: &TestHub, cluster: &FakeCluster, db: Value) -> PathBuf {
    let pods = cluster.add_deployment(NS, "hub", 1);
    let dir = cluster.pod_dir(NS, &pods[0]);
    let values = dir.join("values.json");
    std::fs::write(&values, json!({ "hub": { "db": db } }).to_string()).unwrap();
    let venv_bin = hub.python().parent().unwrap().to_str().unwrap().to_string();
    let path = format!("{venv_bin}:{}", std::env::var("PATH").unwrap_or_default());
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hub/pod");
    cluster.set_pod_env(
        NS,
        &pods[0],
        &[
            ("PATH", &path),
            ("PYTHONPATH", package.to_str().unwrap()),
            ("PYTHONDONTWRITEBYTECODE", "1"),
            ("JHCTL_FAKE_Z2JH_VALUES", values.to_str().unwrap()),
        ],
    );
    dir
}

/// The hub's database as the z2jh values of a hub configured with a URL.
fn store_db(hub: &TestHub) -> Value {
    json!({ "type": "other", "url": format!("sqlite:///{}", hub.store().display()) })
}

/// Logs in at `/hub/login` as a browser would: `true` when the hub lets the user in.
fn login(hub: &TestHub, name: &str, password: &str) -> bool {
    let script = "import sys, requests\n\
        s = requests.Session()\n\
        s.get(sys.argv[1] + '/hub/login')\n\
        r = s.post(sys.argv[1] + '/hub/login', data={'username': sys.argv[2], 'password': sys.argv[3], \
        '_xsrf': s.cookies.get('_xsrf', '')}, allow_redirects=False)\n\
        print(r.status_code)";
    match hub.run_python(script, &[hub.url(), name, password]).as_str() {
        "302" => true,
        // A refused login: 6.x answers 403, 4.x and 5.x the login page again (200).
        "403" | "200" => false,
        other => panic!("login as {name} answered {other}"),
    }
}

/// `jhctl [-v] [--json] set-passwords users.csv --via exec ... EXTRA` with `roster` as users.csv.
fn exec_run(hub: &TestHub, cluster: &FakeCluster, roster: &str, extra: &[&str]) -> (Output, Test) {
    let global: Vec<&str> = extra.iter().copied().filter(|a| *a == "-v" || *a == "--json").collect();
    let test = Test::new()
        .hub(hub)
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .file("users.csv", roster)
        .args(global)
        .args(["set-passwords", "users.csv", "--via", "exec", "--cost", "4", "-n", NS])
        .args(extra.iter().filter(|a| **a != "-v" && **a != "--json"));
    (test.run(), test)
}

fn sheet_names(test: &Test, name: &str) -> Vec<String> {
    let path = test.dir().join(name);
    if !path.exists() {
        return Vec::new();
    }
    csv::Reader::from_path(path).unwrap().records().map(|r| r.unwrap()[0].to_string()).collect()
}

#[test]
fn exec_writes_the_hub_database_that_login_reads() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    hub_pod(&hub, &cluster, store_db(&hub));
    hub.create_users(&["ann", "ben"], false);
    // ann has a row (her old password); ben has none yet.
    let (status, body) = hub.api(
        "POST",
        "/hub/admin/api/set-password",
        Some(json!({"username": "ann", "password": "Old-pass-1", "force_change": false})),
    );
    assert_eq!(status, 200, "{body}");
    assert!(login(&hub, "ann", "Old-pass-1"));

    let roster = "username,password\nann,New-pass-1\nBen,Ben-pass-1\n";
    let (out, _) = exec_run(&hub, &cluster, roster, &["-v"]);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("✅ Set password for: ann (force change)\n"), "{out}");
    assert!(out.stdout.contains("✅ Set password for: ben (force change)\n"), "{out}");
    let db_url = format!("sqlite:///{}", hub.store().display());
    assert!(out.stderr.contains(&format!("exec: wrote the db store: auth_user_passwords in {db_url}\n")), "{out}");
    assert!(login(&hub, "ann", "New-pass-1"), "the new password is refused");
    assert!(!login(&hub, "ann", "Old-pass-1"), "the old password still works");
    assert!(login(&hub, "ben", "Ben-pass-1"));
    assert!(!login(&hub, "ben", "Strangers-1"), "ben's row is missing: a stranger picked his password");
    assert_eq!(hub.stored_password("ann", "New-pass-1"), Some((true, true)));
    assert_eq!(hub.stored_password("ben", "Ben-pass-1"), Some((true, true)));

    // --no-force-change, and --json says which store.
    let (out, _) = exec_run(&hub, &cluster, "username,password\nann,Third-pass-1\n", &["--no-force-change", "--json"]);
    let out = out.expect_status(0);
    let results: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(results[0]["name"], "ann");
    assert_eq!(results[0]["status"], "updated");
    assert_eq!(results[0]["store"], "db");
    assert_eq!(results[0]["store_at"], format!("auth_user_passwords in {db_url}"));
    assert_eq!(hub.stored_password("ann", "Third-pass-1"), Some((true, false)));
    assert!(login(&hub, "ann", "Third-pass-1"));
    assert_eq!(cluster.exec_count(), 2);
}

#[test]
fn exec_refuses_without_a_store_it_can_reach() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    hub.create_users(&["ann", "ben"], false);
    // A pod with neither the hub package nor a first-use authenticator.
    let pods = cluster.add_deployment(NS, "hub", 1);
    let pod_dir = cluster.pod_dir(NS, &pods[0]);
    let roster = "username\nann\nben\n";
    let (out, test) = exec_run(&hub, &cluster, roster, &["--generate", "-o", "sheet.csv"]);
    // Issue 29: no store to choose from is bad input (exit 2), said once.
    let out = out.expect_status(2);
    assert!(
        out.stderr.contains(
            "error: found no password store in this pod: the hub package (core.database) is not importable and \
             no first-use authenticator or /srv/jupyterhub/passwords.dbm is there; check the target pod, or name \
             the store with --store (nothing was written)\n"
        ),
        "{out}"
    );
    assert!(!out.stdout.contains("✅ Set password"), "{out}");
    assert_eq!(sheet_names(&test, "sheet.csv"), Vec::<String>::new(), "the sheet holds users without a password");
    let files: Vec<_> = std::fs::read_dir(&pod_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(files.is_empty(), "files nobody reads were made: {files:?}");
    assert_eq!(hub.stored_password("ann", "x"), None);

    // A hub whose database lives in its own memory cannot be reached.
    let cluster2 = FakeCluster::start();
    hub_pod(&hub, &cluster2, json!({ "type": "sqlite-memory" }));
    let (out, _) = exec_run(&hub, &cluster2, roster, &["--generate"]);
    let out = out.expect_status(1);
    assert!(
        out.stdout.contains(
            "❌ Failed to set password for ann: the hub keeps its database in memory (hub.db.type \
             sqlite-memory): nothing outside the hub process can reach it; use --via api (nothing was written)\n"
        ),
        "{out}"
    );

    // No RBAC `create` on `pods/exec`: the message says so, with the API server's own words.
    cluster2.deny("create", "pods/exec");
    let (out, _) = exec_run(&hub, &cluster2, roster, &["--generate"]);
    let out = out.expect_status(1);
    let pod = &cluster2.pods(NS, "hub")[0];
    assert!(
        out.stderr.contains(&format!(
            "no permission to exec in pod `{pod}` of namespace `jupyterhub`: pods \"{pod}\" is forbidden: User \
             \"system:serviceaccount:jupyterhub:jhctl-test\" cannot create resource \"pods/exec\" in API group \
             \"\" in the namespace \"jupyterhub\"; this needs RBAC `create` on `pods/exec` in namespace \
             `jupyterhub` (check with `kubectl auth can-i create pods/exec -n jupyterhub`)"
        )),
        "{out}"
    );
    assert_eq!(cluster2.exec_count(), 1, "only the first run started a process");
}

#[test]
fn regression_11_broken_exec_keeps_the_sheet_true() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    hub_pod(&hub, &cluster, store_db(&hub));
    hub.create_users(&["u1", "u2", "u3", "u4"], false);
    // The store line and two answers reach jhctl, then the link breaks.
    cluster.break_exec_after_lines(3);
    let (out, test) = exec_run(&hub, &cluster, "username\nu1\nu2\nu3\nu4\n", &["--generate", "-o", "sheet.csv"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("✅ Set password for: u1 (force change)\n"), "{out}");
    assert!(out.stdout.contains("✅ Set password for: u2 (force change)\n"), "{out}");
    assert!(
        out.stdout.contains("❓ Outcome unknown for u3: the pod did not confirm this user: the connection"),
        "{out}"
    );
    assert!(out.stdout.contains("re-run for this user\n"), "{out}");
    assert!(out.stdout.contains("  ✅ Success: 2\n  ❌ Failed: 0\n  ❓ Unknown (check these): 2\n"), "{out}");
    let path = test.dir().join("sheet.csv");
    let rows: Vec<Vec<String>> = csv::Reader::from_path(&path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["u1", "u2"], "the sheet holds exactly the confirmed users");
    for row in &rows {
        assert!(login(&hub, &row[0], &row[1]), "{} cannot log in with the sheet's password", row[0]);
    }
}

// Issue #26: the program commits the whole batch, then answers user by
// user; when the link breaks between the two, the users without an answer
// hold their new password. `failed` would be false: they are `unknown`.
#[test]
fn regression_26_exec_link_lost_after_the_commit_is_unknown_not_failed() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    hub_pod(&hub, &cluster, store_db(&hub));
    hub.create_users(&["u1", "u2", "u3"], false);
    // The store line and u1's answer reach jhctl, then the link breaks.
    cluster.break_exec_after_lines(2);
    let roster = "username,password\nu1,Pass-one-1\nu2,Pass-two-2\nu3,Pass-three-3\n";
    let (out, _) = exec_run(&hub, &cluster, roster, &["--no-force-change", "--json"]);
    let out = out.expect_status(1);
    let results: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let statuses: Vec<(&str, &str)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("u1", "updated"), ("u2", "unknown"), ("u3", "unknown")], "{out}");
    let check = results[1]["error"].as_str().unwrap();
    assert!(check.contains("the connection broke") && check.contains("re-run for this user"), "{check}");
    // What the hub holds: the pod wrote u2 and u3 before the link broke.
    for (name, password) in [("u1", "Pass-one-1"), ("u2", "Pass-two-2"), ("u3", "Pass-three-3")] {
        assert_eq!(hub.stored_password(name, password), Some((true, false)), "{name}");
        assert!(login(&hub, name, password), "{name}");
    }

    // A pod that refuses (nothing written) still answers `failed`.
    let cluster2 = FakeCluster::start();
    hub_pod(&hub, &cluster2, json!({ "type": "sqlite-memory" }));
    let (out, _) = exec_run(&hub, &cluster2, roster, &["--json"]);
    let out = out.expect_status(1);
    let results: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(results.as_array().unwrap().iter().all(|r| r["status"] == "failed"), "{out}");
}

#[test]
fn rename_via_exec_keeps_login_and_balance() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    hub_pod(&hub, &cluster, store_db(&hub));
    hub.create_users(&["studnet01", "other01"], false);
    for (name, password) in [("studnet01", "Pass-word-1"), ("other01", "Pass-word-2")] {
        let body = json!({"username": name, "password": password, "force_change": false});
        assert_eq!(hub.api("POST", "/hub/admin/api/set-password", Some(body)).0, 200);
        let quota = json!({"action": "set", "amount": 500});
        assert_eq!(hub.api("POST", &format!("/hub/admin/api/quota/{name}"), Some(quota)).0, 200);
    }
    let base = || Test::new().hub(&hub).env("KUBECONFIG", cluster.kubeconfig_path());

    let out = base().args(["manage-users", "rename", "studnet01", "student01", "--via", "exec"]).run();
    let out = out.expect_status(0);
    assert!(out.stdout.contains("✅ Renamed user: studnet01 -> student01\n"), "{out}");
    assert!(
        out.stdout.contains(
            "✅ Moved the password and quota records of studnet01 to student01 (auth_user_passwords: 1, \
             quota: 1, quota_transactions: 1)\n"
        ),
        "{out}"
    );
    assert!(login(&hub, "student01", "Pass-word-1"));
    assert_eq!(hub.stored_password("studnet01", "Pass-word-1"), None);
    let (_, quota) = hub.api("GET", "/hub/admin/api/quota/student01", None);
    assert_eq!(quota["balance"], 500, "{quota}");
    let (_, old) = hub.api("GET", "/hub/admin/api/quota", None);
    assert!(!old.to_string().contains("studnet01"), "{old}");

    // Without --via exec the hub keeps the records under the old name: say so.
    let out = base().args(["manage-users", "rename", "other01", "other02"]).run().expect_status(0);
    assert!(
        out.stdout.contains(
            "⚠️  This hub keeps passwords and quota by username: other02 has neither the password nor the \
             balance of other01;\n"
        ),
        "{out}"
    );
    assert_eq!(cluster.exec_count(), 1);
}

#[test]
fn regression_11_exec_timeout_leaves_the_unconfirmed_unknown() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    hub.create_users(&["u1", "u2"], false);
    // A pod whose python3 confirms u1, then hangs.
    let pods = cluster.add_deployment(NS, "hub", 1);
    let bin = cluster.pod_dir(NS, &pods[0]).join("bin");
    std::fs::create_dir(&bin).unwrap();
    let python = bin.join("python3");
    std::fs::write(
        &python,
        "#!/bin/sh\ncat >/dev/null\necho '{\"store\": \"db\", \"at\": \"auth_user_passwords in sqlite://\"}'\n\
         echo '{\"username\": \"u1\", \"ok\": true}'\nexec sleep 60\n",
    )
    .unwrap();
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    cluster.set_pod_env(NS, &pods[0], &[("PATH", &path)]);

    let (out, test) =
        exec_run(&hub, &cluster, "username\nu1\nu2\n", &["--generate", "-o", "sheet.csv", "--timeout", "1"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("✅ Set password for: u1 (force change)\n"), "{out}");
    assert!(
        out.stdout.contains(
            "❓ Outcome unknown for u2: the pod did not confirm this user: no exit status within 1s \
             (the timeout); its password may or may not have changed, re-run for this user\n"
        ),
        "{out}"
    );
    assert_eq!(sheet_names(&test, "sheet.csv"), ["u1"]);

    let (out, _) = exec_run(&hub, &cluster, "username\nu1\n", &["--generate", "--timeout", "0"]);
    assert!(out.expect_status(2).stderr.contains("error: --timeout must be at least 1 second, got 0"));
}

// Issue #26: with `--via exec`, a deleted user's password row and quota
// record are removed from the store the hub reads, so a user created later
// under the name neither logs in with the old password nor holds the balance.
#[test]
fn delete_via_exec_removes_the_password_row_and_the_balance() {
    let hub = TestHub::start();
    let cluster = FakeCluster::start();
    hub_pod(&hub, &cluster, store_db(&hub));
    hub.create_users(&["dl01", "dl02"], false);
    for (name, password, amount) in [("dl01", "OldSecret-1", 250), ("dl02", "OldSecret-2", 0)] {
        let body = json!({"username": name, "password": password, "force_change": false});
        assert_eq!(hub.api("POST", "/hub/admin/api/set-password", Some(body)).0, 200);
        let quota = json!({"action": "set", "amount": amount});
        assert_eq!(hub.api("POST", &format!("/hub/admin/api/quota/{name}"), Some(quota)).0, 200);
    }
    assert!(login(&hub, "dl01", "OldSecret-1"));
    let base = || Test::new().hub(&hub).env("KUBECONFIG", cluster.kubeconfig_path());

    let out = base()
        .file("gone.csv", "username\ndl01\ndl02\n")
        .args(["manage-users", "delete", "gone.csv", "--yes", "--via", "exec"])
        .run()
        .expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: dl01 (password row removed, quota record removed)\n"), "{out}");
    assert!(out.stdout.contains("✅ Deleted user: dl02 (password row removed, quota record removed)\n"), "{out}");
    assert_eq!(hub.stored_password("dl01", "OldSecret-1"), None, "the row is gone");
    let (_, quota) = hub.api("GET", "/hub/admin/api/quota", None);
    assert!(!quota.to_string().contains("dl01"), "{quota}");

    // The next user of the name starts clean: the old password sets nothing it can use.
    base().file("again.csv", "username\ndl01\n").args(["manage-users", "create", "again.csv"]).run().expect_status(0);
    let (_, quota) = hub.api("GET", "/hub/admin/api/quota/dl01", None);
    assert_eq!(quota["balance"], 0, "{quota}");
    assert_eq!(hub.stored_password("dl01", "OldSecret-1"), None);

    // prune-inactive takes the same path.
    hub.create_users(&["old1"], false);
    let body = json!({"username": "old1", "password": "OldSecret-3", "force_change": false});
    assert_eq!(hub.api("POST", "/hub/admin/api/set-password", Some(body)).0, 200);
    let backdate = json!({ "last_activity": "2025-01-01T00:00:00Z" });
    assert_eq!(hub.api("POST", "/hub/api/users/old1/activity", Some(backdate)).0, 200);
    let out = base()
        .args(["manage-users", "prune-inactive", "--since", "180d", "--no-backup", "--yes", "--via", "exec"])
        .run()
        .expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: old1 (password row removed)\n"), "{out}");
    assert_eq!(hub.stored_password("old1", "OldSecret-3"), None);

    // And sync --prune.
    hub.create_users(&["gone2"], false);
    let body = json!({"username": "gone2", "password": "OldSecret-4", "force_change": false});
    assert_eq!(hub.api("POST", "/hub/admin/api/set-password", Some(body)).0, 200);
    let out = base()
        .file("roster.csv", "username\ndl01\n")
        .args(["manage-users", "sync", "roster.csv", "--prune", "--yes", "--via", "exec"])
        .run()
        .expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: gone2 (password row removed)\n"), "{out}");
    assert_eq!(hub.stored_password("gone2", "OldSecret-4"), None);
    assert_eq!(hub.usernames(), ["dl01"]);
}
