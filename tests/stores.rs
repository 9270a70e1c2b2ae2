//! Issue 29: passwords on hubs that run a stock password authenticator —
//! FirstUseAuthenticator (TLJH's default) and NativeAuthenticator — written
//! with the hub's own interpreter `--via local`, over `--via ssh` and
//! `--via exec`. Real hubs run the real packages from PyPI; every password
//! on a sheet must log in at the running hub (`POST
//! /hub/api/users/NAME/tokens` with `{"auth": ...}`: 201), a wrong or
//! replaced one must not (403).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::fake_k8s::FakeCluster;
use crate::support::hub::TestHub;
use crate::support::test::{Output, Test};

/// `--via local` at `hub`: its interpreter and its working directory.
fn local(hub: &TestHub) -> Vec<String> {
    let dir = hub.scratch().to_str().expect("a UTF-8 path").to_string();
    let python = hub.python().to_str().expect("a UTF-8 path").to_string();
    ["--via", "local", "--hub-python", &python, "--hub-dir", &dir].map(String::from).to_vec()
}

/// Runs jhctl against `hub` with `users.csv` holding `roster`.
fn run(hub: &TestHub, roster: &str, args: &[&str], via: &[String]) -> (Output, Test) {
    let test = Test::new().hub(hub).file("users.csv", roster).args(args).args(via);
    (test.run(), test)
}

/// The sheet `name` in `test`'s folder: username → (password, force_change).
fn sheet(test: &Test, name: &str) -> BTreeMap<String, (String, String)> {
    let path = test.dir().join(name);
    if !path.exists() {
        return BTreeMap::new();
    }
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), (r[1].to_string(), r[2].to_string()))).collect()
}

/// Every password on `sheet` logs in; a wrong one does not.
fn all_log_in(hub: &TestHub, sheet: &BTreeMap<String, (String, String)>) {
    for (name, (password, _)) in sheet {
        assert_eq!(hub.password_login(name, password), 201, "{name} cannot log in with the sheet's password");
        assert_eq!(hub.password_login(name, "Wrong-password-1"), 403, "{name} logs in with a wrong password");
    }
}

#[test]
fn regression_29_firstuse_via_local_create_and_set_passwords_log_in() {
    let hub = TestHub::builder().authenticator("firstuse").start();
    let via = local(&hub);
    let roster = "username\nann\nben\ncid\n";

    // A FirstUse hub where nobody has logged in has no passwords.dbm yet:
    // auto finds nothing and says what to name.
    hub.create_users(&["zoe"], false);
    let (out, test) = run(&hub, "username\nzoe\n", &["set-passwords", "users.csv", "--generate", "-o", "s.csv"], &via);
    let out = out.expect_status(2);
    let dir = hub.scratch().display();
    assert!(
        out.stderr.contains(&format!(
            "found no password store in {dir}: no {dir}/passwords.dbm*, no rows in users_info in the hub database, \
             no hub package; check --hub-dir (and --db-url), or name the store the hub uses: --store firstuse \
             (FirstUseAuthenticator, nobody has logged in yet) or --store native (NativeAuthenticator, nobody has \
             signed up yet) (nothing was written)"
        )),
        "{out}"
    );
    assert!(sheet(&test, "s.csv").is_empty());
    assert!(!hub.scratch().join("passwords.dbm").exists() && !hub.scratch().join("passwords.dbm.db").exists());

    // create, with the store named; the default (no forced change) does not error.
    let args =
        ["manage-users", "create", "users.csv", "--generate-passwords", "-o", "sheet.csv", "--store", "firstuse"];
    let (out, test) = run(&hub, roster, &args, &via);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("✅ Set password for: ann\n"), "{out}");
    let first = sheet(&test, "sheet.csv");
    assert_eq!(first.keys().collect::<Vec<_>>(), ["ann", "ben", "cid"]);
    assert!(first.values().all(|(_, force)| force == "false"), "{first:?}");
    all_log_in(&hub, &first);

    // set-passwords with auto: the file is there now.
    let args = ["--json", "set-passwords", "users.csv", "--generate", "-o", "sheet2.csv", "--cost", "4"];
    let (out, test) = run(&hub, roster, &args, &via);
    let out = out.expect_status(0);
    let results: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(results[0]["store"], "firstuse", "{out}");
    let second = sheet(&test, "sheet2.csv");
    assert_eq!(second.len(), 3);
    all_log_in(&hub, &second);
    for (name, (old, _)) in &first {
        assert_eq!(hub.password_login(name, old), 403, "{name}'s replaced password still works");
    }

    // Shorter than FirstUse's minimum (7): refused, nothing written for that user.
    let roster = "username,password\nann,short1\nben,Long-enough-1\n";
    let (out, test) = run(&hub, roster, &["set-passwords", "users.csv", "-o", "sheet3.csv"], &via);
    let out = out.expect_status(1);
    assert!(
        out.stdout.contains(
            "❌ Failed to set password for ann: the password is shorter than 7 characters, FirstUseAuthenticator's \
             minimum (min_password_length); nothing was written for this user\n"
        ),
        "{out}"
    );
    assert_eq!(sheet(&test, "sheet3.csv").keys().collect::<Vec<_>>(), ["ben"]);
    assert_eq!(hub.password_login("ann", &second["ann"].0), 201, "ann's password changed");
    assert_eq!(hub.password_login("ben", "Long-enough-1"), 201);

    // rename moves the record with the user: bea logs in with ben's password.
    let (out, _) = run(&hub, "", &["manage-users", "rename", "ben", "bea", "--store", "firstuse"], &via);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("✅ Moved the password and quota records of ben to bea (passwords: 1)\n"), "{out}");
    assert_eq!(hub.password_login("bea", "Long-enough-1"), 201);

    // A forced change is bad input on this store.
    let (out, _) = run(&hub, roster, &["set-passwords", "users.csv", "--store", "firstuse", "--force-change"], &via);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("the firstuse store has no forced password change"), "{out}");
}

#[test]
fn regression_29_via_local_needs_the_hub_where_it_runs() {
    let hub = TestHub::builder().authenticator("firstuse").start();
    hub.create_users(&["ann"], false);
    // No TLJH on the test machine: the defaults do not apply.
    let (out, _) = run(&hub, "username\nann\n", &["set-passwords", "users.csv", "--generate", "--via", "local"], &[]);
    out.expect_status(2).expect_stderr(
        "error: --via local needs --hub-python PATH: the Python interpreter the hub runs with \
         (`/opt/tljh/hub/bin/python3` on TLJH is not on this machine); give --hub-python PATH, or run jhctl \
         where the hub runs\n",
    );
    // The program enters the hub's folder first: a folder that is not there is bad input.
    let python = hub.python().to_str().unwrap();
    let args = ["set-passwords", "users.csv", "--generate", "--via", "local", "--hub-python", python];
    let (out, _) = run(&hub, "username\nann\n", &args, &["--hub-dir".into(), "no-such-dir".into()]);
    out.expect_status(2).expect_stderr(
        "error: --hub-dir `no-such-dir`: No such file or directory (os error 2); give the hub's working directory\n",
    );
}

#[test]
fn regression_29_native_via_local_new_passwords_work_at_once() {
    let hub = TestHub::builder().authenticator("native").start();
    let via = local(&hub);
    let roster = "username\nann\nben\n";
    // Users the REST API creates have no users_info row: create gives them
    // one. The table is there before anyone signs up (JupyterHub imports
    // every installed authenticator, and NativeAuthenticator's model makes
    // it), so auto does not take an empty table for this store.
    let args = ["manage-users", "create", "users.csv", "--generate-passwords", "-o", "sheet.csv", "--store", "native"];
    let (out, test) = run(&hub, roster, &args, &via);
    out.expect_status(0);
    let first = sheet(&test, "sheet.csv");
    assert_eq!(first.len(), 2);
    // Both logged in: the running hub has loaded their rows.
    all_log_in(&hub, &first);

    // auto: the rows are there now.
    let args = ["--json", "set-passwords", "users.csv", "--generate", "-o", "sheet2.csv", "--cost", "4"];
    let (out, test) = run(&hub, roster, &args, &via);
    let out = out.expect_status(0);
    assert!(out.stderr.contains("✅ Set password for: ann\n"), "{out}");
    let results: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(results[0]["store"], "native", "{out}");
    let second = sheet(&test, "sheet2.csv");
    all_log_in(&hub, &second);
    for (name, (old, _)) in &first {
        assert_eq!(hub.password_login(name, old), 403, "{name}'s old password still works");
    }
    let rows = hub.run_python(
        "import sqlite3, sys\n\
         db = sqlite3.connect(sys.argv[1])\n\
         print(db.execute('select count(*), min(is_authorized), min(length(otp_secret)) from users_info').fetchone())",
        &[hub.scratch().join("jupyterhub.sqlite").to_str().unwrap()],
    );
    assert_eq!(rows, "(2, 1, 16)", "one authorized row per user, every column set");

    // rename moves the rows with the user (auto: the rows are there).
    let (out, _) = run(&hub, "", &["manage-users", "rename", "ann", "amy"], &via);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("✅ Moved the password and quota records of ann to amy (users_info: 1)\n"), "{out}");
    assert_eq!(hub.password_login("amy", &second["ann"].0), 201);
    let second: BTreeMap<_, _> = second.into_iter().filter(|(name, _)| name != "ann").collect();

    // A passwords.dbm beside the table: auto does not guess.
    hub.run_python(
        "import dbm, sys\ndbm.open(sys.argv[1], 'c').close()",
        &[hub.scratch().join("passwords.dbm").to_str().unwrap()],
    );
    let (out, test) = run(&hub, roster, &["set-passwords", "users.csv", "--generate", "-o", "sheet3.csv"], &via);
    let out = out.expect_status(2);
    assert!(
        out.stderr.contains(
            "found more than one password store: native (NativeAuthenticator's rows in users_info in the hub \
             database); firstuse ("
        ),
        "{out}"
    );
    assert!(
        out.stderr.contains("name the one the hub uses with --store native|firstuse (nothing was written)"),
        "{out}"
    );
    assert!(sheet(&test, "sheet3.csv").is_empty());
    all_log_in(&hub, &second);
}

#[test]
fn regression_29_native_via_exec_in_the_hub_pod() {
    let hub = TestHub::builder().authenticator("native").start();
    hub.create_users(&["ann", "ben"], false);
    let cluster = FakeCluster::start();
    let pods = cluster.add_deployment("jupyterhub", "hub", 1);
    let venv_bin = hub.python().parent().unwrap().to_str().unwrap().to_string();
    let path = format!("{venv_bin}:{}", std::env::var("PATH").unwrap_or_default());
    cluster.set_pod_env("jupyterhub", &pods[0], &[("PATH", &path), ("PYTHONDONTWRITEBYTECODE", "1")]);
    let db_url = format!("sqlite:///{}", hub.scratch().join("jupyterhub.sqlite").display());
    let test = Test::new()
        .hub(&hub)
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .env("JHCTL_HUB_DB_URL", &db_url)
        .file("users.csv", "username\nann\nben\n")
        .args([
            "-v",
            "set-passwords",
            "users.csv",
            "--generate",
            "-o",
            "sheet.csv",
            "--via",
            "exec",
            "--store",
            "native",
            "--cost",
            "4",
        ]);
    let out = test.run().expect_status(0);
    assert!(out.stderr.contains("exec: wrote the native store: users_info in sqlite:///"), "{out}");
    let sheet = sheet(&test, "sheet.csv");
    assert_eq!(sheet.len(), 2);
    all_log_in(&hub, &sheet);
}

/// A stand-in `ssh` (and `sudo`) in `bin`: records its arguments in
/// `ssh.args`, fails when one holds a bcrypt hash or `secret`, and runs the
/// remote command here.
fn fake_ssh(bin: &Path, secret: &str) {
    std::fs::create_dir_all(bin).unwrap();
    let ssh = format!(
        "#!/bin/sh\n\
         printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/ssh.args\"\n\
         for a in \"$@\"; do case \"$a\" in *'$2b$'*|*'{secret}'*) echo 'a secret on the command line' >&2; exit 99;; esac; done\n\
         for last in \"$@\"; do :; done\n\
         exec sh -c \"$last\"\n"
    );
    let sudo =
        "#!/bin/sh\n[ \"$1\" = -n ] || { echo 'sudo would ask for a password' >&2; exit 1; }\nshift\nexec \"$@\"\n";
    for (name, text) in [("ssh", ssh.as_str()), ("sudo", sudo)] {
        let file = bin.join(name);
        std::fs::write(&file, text).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn regression_29_via_ssh_keeps_secrets_off_the_command_line() {
    let hub = TestHub::builder().authenticator("firstuse").start();
    hub.create_users(&["ann", "ben"], false);
    let bin = hub.scratch().join("fake-bin");
    fake_ssh(&bin, "Secret-pass-");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let db_url = "sqlite:////nowhere/Secret-pass-url.sqlite";
    let test = Test::new()
        .hub(&hub)
        .env("PATH", &path)
        .env("JHCTL_HUB_DB_URL", db_url)
        .file("users.csv", "username,password\nann,Secret-pass-1\nben,Secret-pass-2\n")
        .args(["set-passwords", "users.csv", "-o", "sheet.csv", "--store", "firstuse", "--via", "ssh"])
        .args(["--ssh", "admin@hub.example", "--sudo", "--hub-python", hub.python().to_str().unwrap()])
        .args(["--hub-dir", hub.scratch().to_str().unwrap()]);
    let out = test.run().expect_status(0);
    assert!(out.stdout.contains("in the hub's store on admin@hub.example"), "{out}");
    let args = std::fs::read_to_string(bin.join("ssh.args")).unwrap();
    assert!(args.starts_with("-o\nBatchMode=yes\n--\nadmin@hub.example\nsudo -n '"), "{args}");
    let sheet = sheet(&test, "sheet.csv");
    assert_eq!(sheet.len(), 2);
    all_log_in(&hub, &sheet);
    assert_eq!(hub.password_login("ann", "Secret-pass-1"), 201);
}

#[test]
fn regression_29_firstuse_via_exec_in_the_hub_pod() {
    let hub = TestHub::builder().authenticator("firstuse").start();
    hub.create_users(&["ann", "ben"], false);
    let cluster = FakeCluster::start();
    let pods = cluster.add_deployment("jupyterhub", "hub", 1);
    let venv_bin = hub.python().parent().unwrap().to_str().unwrap().to_string();
    let path = format!("{venv_bin}:{}", std::env::var("PATH").unwrap_or_default());
    cluster.set_pod_env("jupyterhub", &pods[0], &[("PATH", &path), ("PYTHONDONTWRITEBYTECODE", "1")]);
    // The hub's passwords.dbm, where z2jh keeps it in /srv/jupyterhub.
    let passwords_db = hub.scratch().join("passwords.dbm");
    let test = Test::new()
        .hub(&hub)
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .file("users.csv", "username\nann\nben\n")
        .args(["-v", "set-passwords", "users.csv", "--generate", "-o", "sheet.csv", "--via", "exec"])
        .args(["--store", "firstuse", "--cost", "4", "--passwords-db", passwords_db.to_str().unwrap()]);
    let out = test.run().expect_status(0);
    assert!(out.stderr.contains(&format!("exec: wrote the firstuse store: {}\n", passwords_db.display())), "{out}");
    let sheet = sheet(&test, "sheet.csv");
    assert_eq!(sheet.len(), 2);
    assert!(sheet.values().all(|(_, force)| force == "false"), "{sheet:?}");
    all_log_in(&hub, &sheet);
}
