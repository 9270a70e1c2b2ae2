//! Issue 28: one changing run at a time per hub. A run that changes the
//! hub takes the lease (the group `jhctl-lease`, stamped with the run),
//! waits while another run holds it and then refuses, takes over an
//! expired one, releases it at the end; `manage-users unlock` breaks a
//! stale one. Read-only runs and dry runs take none.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::support::hub::TestHub;
use crate::support::test::{Output, Test};

const LEASE: &str = "jhctl-lease";

fn manage(hub: &TestHub, files: &[(&str, &str)], args: &[&str]) -> (Output, Test) {
    let mut test = Test::new().hub(hub).arg("manage-users");
    for (name, text) in files {
        test = test.file(name, text);
    }
    let test = test.args(args);
    (test.run(), test)
}

/// The lease group's properties, through the hub itself; `None` when there is no lease.
fn lease(hub: &TestHub) -> Option<Value> {
    let (status, reply) = hub.api("GET", &format!("/hub/api/groups/{LEASE}"), None);
    (status == 200).then(|| reply["properties"].clone())
}

/// Plants a lease of another run that expires `minutes` from now (negative: expired).
fn plant(hub: &TestHub, minutes: i64) {
    let (status, reply) = hub.api("POST", &format!("/hub/api/groups/{LEASE}"), None);
    assert_eq!(status, 201, "{reply}");
    let expires = (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
    let stamp = json!({ "run": "0ther", "host": "lab-pc", "pid": 4242, "command": "manage-users delete x.csv", "expires": expires });
    let (status, reply) = hub.api("PUT", &format!("/hub/api/groups/{LEASE}/properties"), Some(stamp));
    assert_eq!(status, 200, "{reply}");
}

fn sheet(test: &Test, file: &str) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(test.dir().join(file)) else { return Vec::new() };
    text.lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect()
}

// Issue #28: two `create --generate-passwords` runs at once both reported
// every user created with a password, and their sheets contradicted each other.
#[test]
fn two_create_runs_at_once_leave_every_user_one_password_on_one_sheet() {
    let hub = TestHub::start();
    let names: Vec<String> = (0..30).map(|i| format!("tw{i:02}")).collect();
    let roster = format!("username\n{}\n", names.join("\n"));
    let args = ["create", "class.csv", "--generate-passwords", "-o", "sheet.csv"];
    let (one, two) = std::thread::scope(|s| {
        let one = s.spawn(|| manage(&hub, &[("class.csv", &roster)], &args));
        let two = s.spawn(|| manage(&hub, &[("class.csv", &roster)], &args));
        (one.join().unwrap(), two.join().unwrap())
    });
    let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (out, test) in [&one, &two] {
        assert!(out.status == 0 || out.status == 1, "{out}");
        for (name, password) in sheet(test, "sheet.csv") {
            holders.entry(name).or_default().push(password);
        }
    }
    let mut users = hub.usernames();
    users.sort();
    assert_eq!(users, names);
    for name in &names {
        let on_sheets = holders.get(name).cloned().unwrap_or_default();
        assert_eq!(on_sheets.len(), 1, "{name} is on {} sheets\n{}\n{}", on_sheets.len(), one.0, two.0);
        assert_eq!(hub.stored_password(name, &on_sheets[0]), Some((true, true)), "sheet and hub disagree on {name}");
    }
    // They overlapped: one run waited for the other's lease.
    assert!(
        one.0.stderr.contains("⏳ Another jhctl run") || two.0.stderr.contains("⏳ Another jhctl run"),
        "{}\n{}",
        one.0,
        two.0
    );
    assert_eq!(lease(&hub), None, "the lease is gone after the runs");
}

// Issue #28: a run finding another run's lease waits (saying so), then
// refuses and changes nothing; the stale lease is broken only when asked.
#[test]
fn a_held_lease_makes_a_changing_run_wait_then_refuse_until_unlocked() {
    let hub = TestHub::start();
    plant(&hub, 10);
    let files = [("class.csv", "username\nann\nbob\n")];
    let (out, _) = manage(&hub, &files, &["--lease-wait", "2", "create", "class.csv"]);
    let out = out.expect_status(1);
    assert!(
        out.stderr.contains(
            "⏳ Another jhctl run is changing this hub: run 0ther (`manage-users delete x.csv`, pid 4242 on lab-pc, expires"
        ),
        "{out}"
    );
    assert!(out.stderr.contains("waiting up to 2s for it to finish"), "{out}");
    assert!(out.stderr.contains("another jhctl run is changing this hub: run 0ther"), "{out}");
    assert!(out.stderr.contains("jhctl manage-users unlock"), "{out}");
    assert!(hub.usernames().is_empty(), "nothing was created");
    assert_eq!(lease(&hub).unwrap()["run"], "0ther", "a held lease is not broken unless asked");

    // Read-only runs and dry runs take no lease, and never wait.
    manage(&hub, &[], &["list"]).0.expect_status(0);
    let (dry, _) = manage(&hub, &files, &["--lease-wait", "0", "create", "class.csv", "--dry-run"]);
    assert!(!dry.expect_status(0).stderr.contains("⏳"));
    // The lease is no group of the admin's.
    let (groups, _) = manage(&hub, &[], &["groups", "list"]);
    let groups = groups.expect_status(0);
    assert!(!groups.stdout.contains(LEASE), "{groups}");

    let (unlock, _) = manage(&hub, &[], &["unlock"]);
    let unlock = unlock.expect_status(0);
    assert!(
        unlock.stdout.contains("🔓 Broke the lease of run 0ther (\"manage-users delete x.csv\", pid 4242 on lab-pc"),
        "{unlock}"
    );
    assert_eq!(lease(&hub), None);
    let (out, _) = manage(&hub, &files, &["--lease-wait", "2", "create", "class.csv"]);
    out.expect_status(0);
    assert_eq!(hub.usernames(), ["ann", "bob"]);
    assert_eq!(lease(&hub), None, "the lease is gone after the run");
}

// Issue #28: an expired lease (its run gone) is taken over, and said so.
#[test]
fn an_expired_lease_is_taken_over() {
    let hub = TestHub::start();
    plant(&hub, -1);
    let (out, _) = manage(&hub, &[("class.csv", "username\nann\n")], &["--lease-wait", "0", "create", "class.csv"]);
    let out = out.expect_status(0);
    assert!(out.stderr.contains("⚠️  Took over the lease of a run that ended without releasing it (killed, or its time ran out): run 0ther (`manage-users delete x.csv`"), "{out}");
    assert_eq!(hub.usernames(), ["ann"]);
    assert_eq!(lease(&hub), None);
}

// Issue #28: `sync` never removes the lease group, even with a groups column.
#[test]
fn sync_leaves_the_lease_group_alone() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);
    plant(&hub, -1);
    let files = [("r.csv", "username,groups\nann,lab\n")];
    let (plan, _) = manage(&hub, &files, &["sync", "r.csv", "--plan"]);
    let plan = plan.expect_status(3);
    assert!(!plan.stdout.contains(LEASE), "{plan}");
    assert!(lease(&hub).is_some(), "--plan takes no lease (nor breaks one)");
}
