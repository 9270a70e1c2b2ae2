//! Issue 28, guards before acting: what is almost surely a mistake is
//! refused (exit 2) before anything is sent, on the real test hub: an
//! empty or mostly empty roster under `sync --prune`, a delete of most of
//! the class without `--max-delete`, a group filter that names no group,
//! and `tokens revoke` of a running server's token.

use serde_json::Value;

use crate::support::hub::TestHub;
use crate::support::test::{run_in, Output, Test};

fn jhctl(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> (Output, Test) {
    let mut all = vec!["manage-users"];
    all.extend_from_slice(args);
    run_in(hub, files, &all)
}

/// A hub with `count` students `s00`.. and the admin `boss`.
fn class(count: usize) -> (TestHub, Vec<String>) {
    let hub = TestHub::start();
    let names: Vec<String> = (0..count).map(|i| format!("s{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    hub.create_users(&refs, false);
    hub.create_users(&["boss"], true);
    (hub, names)
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

// Issue #28: `printf 'username,admin\n' > e.csv; sync e.csv --prune --yes`
// deleted every non-admin user and exited 0.
#[test]
fn an_empty_roster_never_prunes() {
    let (hub, names) = class(12);
    let before = sorted(hub.usernames());
    let files: &[(&str, &[u8])] = &[("e.csv", b"username,admin\n")];
    let (out, _) = jhctl(&hub, files, &["sync", "e.csv", "--prune", "--yes"]);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("`e.csv` has no users, and sync --prune would delete every non-admin user"), "{out}");
    assert!(!out.stdout.contains("Deleted"), "{out}");
    assert_eq!(sorted(hub.usernames()), before);
    assert_eq!(before.len(), names.len() + 1);
}

// Issue #28: a roster of one student out of twelve deleted the other eleven.
#[test]
fn a_mostly_empty_roster_needs_max_delete() {
    let (hub, _) = class(12);
    let before = sorted(hub.usernames());
    let files: &[(&str, &[u8])] = &[("r.csv", b"username\ns00\n")];
    let (out, _) = jhctl(&hub, files, &["sync", "r.csv", "--prune", "--yes"]);
    let out = out.expect_status(2);
    assert!(
        out.stderr.contains(
            "the plan deletes 11 of the hub's 12 non-admin users (more than half); nothing was changed. \
             If that is right, say how many may go: --max-delete 11"
        ),
        "{out}"
    );
    assert_eq!(sorted(hub.usernames()), before, "nothing may be deleted");

    // A limit below the plan refuses too; the plan's own size goes ahead.
    let (out, _) = jhctl(&hub, files, &["sync", "r.csv", "--prune", "--yes", "--max-delete", "5"]);
    assert!(out.expect_status(2).stderr.contains("more than --max-delete 5 allows"));
    assert_eq!(sorted(hub.usernames()), before);
    let (out, _) = jhctl(&hub, files, &["sync", "r.csv", "--prune", "--yes", "--max-delete", "11"]);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: s11 ("), "{out}");
    assert_eq!(sorted(hub.usernames()), ["boss", "s00"]);
}

// Issue #28: `delete` of a list holding most of the class, and
// `prune-inactive` of everyone, are refused the same way.
#[test]
fn delete_and_prune_of_most_users_need_max_delete() {
    let (hub, names) = class(10);
    let before = sorted(hub.usernames());
    let list = format!("username\n{}\n", names.join("\n"));
    let files: &[(&str, &[u8])] = &[("gone.csv", list.as_bytes())];
    let (out, _) = jhctl(&hub, files, &["delete", "gone.csv", "--yes"]);
    assert!(out.expect_status(2).stderr.contains("--max-delete 10"));
    assert_eq!(sorted(hub.usernames()), before);
    let (out, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "0s", "--no-backup", "--yes"]);
    assert!(out.expect_status(2).stderr.contains("the plan deletes 10 of the hub's 10 non-admin users"));
    assert_eq!(sorted(hub.usernames()), before);
    // A dry run and a plan show what would go without the flag.
    let (out, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "0s", "--plan"]);
    out.expect_status(3);
    let (out, _) = jhctl(&hub, files, &["delete", "gone.csv", "--yes", "--max-delete", "10"]);
    assert!(out.expect_status(0).stdout.contains("✅ Deleted user: s09 ("));
    assert_eq!(hub.usernames(), ["boss"]);
}

// Issue #28: `--except-group staf` (the group is `staff`) deleted a member
// of staff; `--group nosuch` answered "No users inactive".
#[test]
fn a_group_filter_that_names_no_group_is_bad_input() {
    let (hub, _) = class(3);
    hub.create_group("staff", &["s00"]);
    let before = sorted(hub.usernames());
    let args = ["prune-inactive", "--since", "0s", "--except-group", "staf", "--no-backup", "--yes"];
    let (out, _) = jhctl(&hub, &[], &args);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("--except-group `staf`: no such group on the hub; did you mean `staff`?"), "{out}");
    assert_eq!(sorted(hub.usernames()), before);
    let (out, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "0s", "--group", "nosuch", "--plan"]);
    assert!(out.expect_status(2).stderr.contains("--group `nosuch`: no such group on the hub"));
    let (out, _) = jhctl(&hub, &[], &["list", "--group", "staf"]);
    assert!(out.expect_status(2).stderr.contains("did you mean `staff`?"));
    let (out, _) = jhctl(&hub, &[], &["stop", "--group", "nosuch"]);
    assert!(out.expect_status(2).stderr.contains("--group `nosuch`: no such group on the hub"));
    // The right name works.
    let (out, _) =
        jhctl(&hub, &[], &["prune-inactive", "--since", "0s", "--except-group", "staff", "--no-backup", "--yes"]);
    out.expect_status(0);
    assert_eq!(sorted(hub.usernames()), ["boss", "s00"]);
}

/// `(id, note)` of `name`'s tokens, from the hub itself.
fn hub_tokens(hub: &TestHub, name: &str) -> Vec<(String, String)> {
    let (status, reply) = hub.api("GET", &format!("/hub/api/users/{name}/tokens"), None);
    assert_eq!(status, 200, "{reply}");
    let list = reply["api_tokens"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|t| (t["id"].as_str().unwrap_or_default().to_string(), t["note"].as_str().unwrap_or_default().to_string()))
        .collect()
}

// Issue #28: `tokens revoke --never-expires` planned to revoke the tokens
// of running servers.
#[test]
fn tokens_revoke_keeps_a_running_servers_token() {
    let (hub, _) = class(1);
    let (status, reply) = hub.api("POST", "/hub/api/users/s00/tokens", Some(serde_json::json!({ "note": "grading" })));
    assert_eq!(status, 201, "{reply}");
    let (started, _) = jhctl(&hub, &[], &["start", "s00", "--timeout", "30"]);
    started.expect_status(0);
    let server: Vec<(String, String)> =
        hub_tokens(&hub, "s00").into_iter().filter(|(_, note)| note.starts_with("Server at /user/s00/")).collect();
    assert_eq!(server.len(), 1, "{:?}", hub_tokens(&hub, "s00"));

    let (out, _) = jhctl(&hub, &[], &["tokens", "revoke", "--user", "s00", "--yes"]);
    let out = out.expect_status(0);
    let id = &server[0].0;
    assert!(out.stdout.contains(&format!("  = keep s00/{id}: used by `s00`'s running server")), "{out}");
    assert!(out.stdout.contains("✅ Revoked token"), "{out}");
    let left: Vec<Value> = hub_tokens(&hub, "s00").into_iter().map(|(_, note)| Value::from(note)).collect();
    assert_eq!(left, [Value::from(server[0].1.clone())], "only the server's token is left");

    // Named by id, it goes.
    let (out, _) = jhctl(&hub, &[], &["tokens", "revoke", &format!("s00/{id}"), "--yes"]);
    out.expect_status(0);
    assert!(hub_tokens(&hub, "s00").is_empty());
}
