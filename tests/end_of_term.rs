//! Issue 15: end of term and token hygiene. Inactive users pruned with a
//! plan and a restorable backup, API tokens listed, filtered, revoked and
//! made, stopped named servers removed — on the real test hub.

use serde_json::{json, Value};

use crate::support::hub::TestHub;
use crate::support::test::{run_in, Output, Test};

const LONG_AGO: &str = "2025-01-01T00:00:00Z";

fn jhctl(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> (Output, Test) {
    let mut all = vec!["manage-users"];
    all.extend_from_slice(args);
    run_in(hub, files, &all)
}

/// Sets `name`'s last activity to [`LONG_AGO`] (the hub only moves it forward,
/// so this works on users that were never active).
fn backdate(hub: &TestHub, name: &str) {
    let path = format!("/hub/api/users/{name}/activity");
    let (status, reply) = hub.api("POST", &path, Some(json!({ "last_activity": LONG_AGO })));
    assert_eq!(status, 200, "{reply}");
}

fn group_members(hub: &TestHub, group: &str) -> Vec<String> {
    let groups = hub.groups();
    let found = groups.iter().find(|g| g["name"] == group).unwrap_or_else(|| panic!("no group {group}"));
    found["users"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect()
}

#[test]
fn prune_inactive_plans_backs_up_deletes_and_the_backup_restores() {
    let hub = TestHub::start();
    hub.create_users(&["old1", "old2", "fresh"], false);
    hub.create_users(&["boss"], true);
    hub.create_group("lab", &["old1", "boss", "fresh"]);
    hub.create_group("staff", &["old2"]);
    for name in ["old1", "old2", "boss"] {
        backdate(&hub, name);
    }
    let everyone = ["boss", "fresh", "old1", "old2"];

    let (plan, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "180d", "--plan"]);
    let plan = plan.expect_status(3);
    assert!(plan.stdout.contains("📋 Plan: 2 users inactive for 180d"), "{plan}");
    assert!(plan.stdout.contains("  - delete old1 [lab]: last active 2025-01-01 00:00:00"), "{plan}");
    assert!(plan.stdout.contains("  - delete old2 [staff]"), "{plan}");
    assert!(plan.stdout.contains("  = keep boss: admin"), "{plan}");
    assert!(!plan.stdout.contains("fresh"), "{plan}");
    assert_eq!(hub.usernames(), everyone, "--plan changes nothing");

    let (narrow, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "180d", "--except-group", "staff", "--plan"]);
    assert!(narrow.stdout.contains("  = keep old2: in group staff"), "{narrow}");

    // No backup named: refused before anything is read or deleted.
    let (refused, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "180d", "--yes"]);
    let refused = refused.expect_status(2);
    assert!(refused.stderr.contains("--backup FILE"), "{refused}");
    // No terminal, no --yes: refused.
    let (refused, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "180d", "--backup", "gone.csv"]);
    assert!(refused.expect_status(2).stderr.contains("Pass --yes"));
    assert_eq!(hub.usernames(), everyone);

    let (done, test) = jhctl(&hub, &[], &["prune-inactive", "--since", "180d", "--backup", "gone.csv", "--yes"]);
    let done = done.expect_status(0);
    assert!(done.stdout.contains("✅ Deleted user: old1") && done.stdout.contains("✅ Deleted: 2"), "{done}");
    assert_eq!(hub.usernames(), ["boss", "fresh"]);
    let backup = std::fs::read_to_string(test.dir().join("gone.csv")).expect("the backup");
    let mut lines = backup.lines();
    assert_eq!(lines.next(), Some("username,admin,groups,created,last_activity,server"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{backup}");
    assert!(rows[0].starts_with("old1,false,lab,") && rows[1].starts_with("old2,false,staff,"), "{backup}");

    let restore =
        Test::new().hub(&hub).file("gone.csv", backup.as_bytes()).args(["manage-users", "create", "gone.csv"]);
    restore.run().expect_status(0);
    assert_eq!(hub.usernames(), everyone);
    assert_eq!(group_members(&hub, "lab"), ["boss", "fresh", "old1"]);
    assert_eq!(group_members(&hub, "staff"), ["old2"]);
    assert_eq!(hub.user("boss").unwrap()["admin"], true);
}

#[test]
fn prune_inactive_writes_the_backup_before_deleting_or_deletes_nothing() {
    let hub = TestHub::start();
    hub.create_users(&["old1"], false);
    backdate(&hub, "old1");
    let args = ["prune-inactive", "--since", "30d", "--backup", "no/such/folder/gone.csv", "--yes"];
    let (out, _) = jhctl(&hub, &[], &args);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("cannot write the backup, so nothing was deleted"), "{out}");
    assert_eq!(hub.usernames(), ["old1"]);

    let (json, _) = jhctl(&hub, &[], &["prune-inactive", "--since", "30d", "--no-backup", "--yes", "--json"]);
    let json = json.expect_status(0);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}\n{json}"));
    assert_eq!(doc["plan"]["delete"][0]["name"], "old1");
    assert_eq!(doc["results"][0]["status"], "deleted");
    assert!(hub.usernames().is_empty());
}

/// `(user, note)` of each token in a `tokens list --json` document.
fn listed(out: &Output) -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let mut list: Vec<(String, String)> = doc
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| (t["user"].as_str().unwrap().to_string(), t["note"].as_str().unwrap_or_default().to_string()))
        .collect();
    list.sort();
    list
}

/// Who the hub says `token` belongs to, through jhctl (exit status and output).
fn whoami(hub: &TestHub, token: &str) -> Output {
    Test::new()
        .env("JUPYTERHUB_URL", hub.url())
        .env("JUPYTERHUB_TOKEN", token)
        .args(["eval", "hub.whoami().name"])
        .run()
}

#[test]
fn tokens_are_listed_filtered_created_once_and_revoked() {
    let hub = TestHub::start();
    hub.create_users(&["alice", "bob"], false);
    let make = |user: &str, body: Value| {
        let (status, reply) = hub.api("POST", &format!("/hub/api/users/{user}/tokens"), Some(body));
        assert_eq!(status, 201, "{reply}");
        reply
    };
    make("alice", json!({ "note": "forever" }));
    make("bob", json!({ "note": "a month", "expires_in": 30 * 86_400 }));

    let (all, _) = jhctl(&hub, &[], &["tokens", "list", "--json"]);
    let expected = [("alice".to_string(), "forever".to_string()), ("bob".into(), "a month".into())];
    assert_eq!(listed(&all.expect_status(0)), expected);
    let (table, _) = jhctl(&hub, &[], &["tokens", "list", "bob"]);
    let table = table.expect_status(0);
    assert!(table.stdout.contains("a month") && !table.stdout.contains("forever"), "{table}");
    let (never, _) = jhctl(&hub, &[], &["tokens", "list", "--never-expires", "--json"]);
    assert_eq!(listed(&never.expect_status(0)), expected[..1]);
    let (unused, _) = jhctl(&hub, &[], &["tokens", "list", "--unused-since", "90d", "--json"]);
    assert!(listed(&unused.expect_status(0)).is_empty(), "made just now");
    let (bad, _) = jhctl(&hub, &[], &["tokens", "list", "--unused-since", "soon"]);
    bad.expect_status(2);

    // Made for a grader: printed once on stdout, nowhere else.
    let (made, _) = jhctl(&hub, &[], &["tokens", "create", "bob", "--expires-in", "30d", "--note", "grader"]);
    let made = made.expect_status(0);
    let token = made.stdout.lines().last().expect("the token").to_string();
    assert_eq!(made.stdout.matches(&token).count(), 1, "{made}");
    assert!(!made.stderr.contains(&token), "{made}");
    assert!(made.stdout.contains("expires 20"), "{made}");
    // Issue #27: without --scopes the token silently got every scope of its owner.
    assert!(
        made.stderr.contains("⚠️  No --scopes: the token has every scope of its owner bob (all of an admin's rights, for an admin); give --scopes read:users,... to limit it"),
        "{made}"
    );
    let (scoped, _) = jhctl(&hub, &[], &["tokens", "create", "bob", "--scopes", "read:users:name", "--dry-run"]);
    let scoped = scoped.expect_status(0);
    assert!(scoped.stdout.contains("📝 Would create a token for bob") && !scoped.stderr.contains("scope"), "{scoped}");
    let (unscoped, _) = jhctl(&hub, &[], &["tokens", "create", "bob", "--dry-run"]);
    assert!(unscoped.expect_status(0).stderr.contains("⚠️  No --scopes: the token has every scope of its owner bob"));
    assert_eq!(whoami(&hub, &token).expect_status(0).stdout, "bob\n");
    let (all, _) = jhctl(&hub, &[], &["tokens", "list", "--json", "bob"]);
    assert!(!all.stdout.contains(&token) && all.stdout.contains("grader"), "{all}");

    // To a file, mode 0600, and not on the terminal.
    let (saved, test) = jhctl(&hub, &[], &["tokens", "create", "alice", "--note", "bot", "-o", "bot.csv"]);
    let saved = saved.expect_status(0);
    let sheet = std::fs::read_to_string(test.dir().join("bot.csv")).unwrap();
    let bot_token = sheet.lines().nth(1).unwrap().rsplit(',').next().unwrap().to_string();
    assert!(bot_token.len() >= 32 && !saved.stdout.contains(&bot_token), "{saved}\n{sheet}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(test.dir().join("bot.csv")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    whoami(&hub, &bot_token).expect_status(0);

    // Revoke by USER/ID: the token then gets 403.
    let (grader, _) = jhctl(&hub, &[], &["tokens", "list", "--json", "bob"]);
    let doc: Value = serde_json::from_str(&grader.stdout).unwrap();
    let id =
        doc.as_array().unwrap().iter().find(|t| t["note"] == "grader").unwrap()["id"].as_str().unwrap().to_string();
    let (revoked, _) = jhctl(&hub, &[], &["tokens", "revoke", &format!("bob/{id}"), "--yes"]);
    let revoked = revoked.expect_status(0);
    assert!(revoked.stdout.contains(&format!("✅ Revoked token {id} of bob")), "{revoked}");
    let refused = whoami(&hub, &token).expect_status(1);
    assert!(refused.stderr.contains("403"), "{refused}");

    // Revoke by filter: a plan first (exit 3), then every token that never expires.
    let (plan, _) = jhctl(&hub, &[], &["tokens", "revoke", "--never-expires", "--plan"]);
    let plan = plan.expect_status(3);
    assert!(plan.stdout.contains("📋 Plan: 2 tokens to revoke") && plan.stdout.contains("(bot)"), "{plan}");
    let (done, _) = jhctl(&hub, &[], &["tokens", "revoke", "--never-expires", "--yes"]);
    assert!(done.expect_status(0).stdout.contains("✅ Revoked: 2"));
    whoami(&hub, &bot_token).expect_status(1);
    let (left, _) = jhctl(&hub, &[], &["tokens", "list", "--json"]);
    assert_eq!(listed(&left.expect_status(0)), [("bob".to_string(), "a month".to_string())]);

    let (missing, _) = jhctl(&hub, &[], &["tokens", "revoke", "a999999", "--yes"]);
    assert!(missing.expect_status(1).stderr.contains("No token a999999"));
}

/// `(server, ready)` of every named server of `name`, through the hub's own listing.
fn hub_servers(hub: &TestHub, name: &str) -> Vec<(String, bool)> {
    let (_, user) = hub.api("GET", &format!("/hub/api/users/{name}?include_stopped_servers=1"), None);
    let servers = user["servers"].as_object().cloned().unwrap_or_default();
    servers.iter().filter(|(n, _)| !n.is_empty()).map(|(n, s)| (n.clone(), s["ready"] == true)).collect()
}

#[test]
fn stopped_named_servers_are_removed_running_ones_are_not() {
    let hub = TestHub::start();
    hub.create_users(&["amy"], false);
    let (started, _) = jhctl(&hub, &[], &["start", "amy/lab", "amy/old", "--timeout", "30"]);
    let started = started.expect_status(0);
    assert!(started.stdout.contains("✅ Started server: amy/lab"), "{started}");
    let (stopped, _) = jhctl(&hub, &[], &["stop", "amy/old", "--timeout", "30"]);
    assert!(stopped.expect_status(0).stdout.contains("✅ Stopped server: amy/old"));
    assert_eq!(hub_servers(&hub, "amy"), [("lab".to_string(), true), ("old".to_string(), false)]);

    let (list, _) = jhctl(&hub, &[], &["list", "--servers"]);
    let list = list.expect_status(0);
    let line = |server: &str| {
        list.stdout.lines().find(|l| l.contains(server)).map(|l| l.split_whitespace().take(3).collect::<Vec<_>>())
    };
    assert_eq!(line("lab"), Some(vec!["amy", "lab", "running"]), "{list}");
    assert_eq!(line("old"), Some(vec!["amy", "old", "stopped"]), "{list}");

    // Both were active moments ago: nothing is 30 days old.
    let (none, _) = jhctl(&hub, &[], &["servers", "prune", "--stopped", "--since", "30d", "--plan"]);
    assert!(none.expect_status(0).stdout.contains("✅ No stopped named servers inactive for 30d"));
    let (plan, _) = jhctl(&hub, &[], &["servers", "prune", "--stopped", "--since", "0s", "--plan"]);
    let plan = plan.expect_status(3);
    assert!(plan.stdout.contains("  - remove amy/old") && plan.stdout.contains("  = keep amy/lab: running"), "{plan}");
    let (without, _) = jhctl(&hub, &[], &["servers", "prune", "--since", "0s", "--yes"]);
    without.expect_status(2);

    let (done, _) = jhctl(&hub, &[], &["servers", "prune", "--stopped", "--since", "0s", "--yes"]);
    let done = done.expect_status(0);
    assert!(done.stdout.contains("✅ Removed server: amy/old"), "{done}");
    assert_eq!(hub_servers(&hub, "amy"), [("lab".to_string(), true)]);
    jhctl(&hub, &[], &["stop", "amy/lab"]).0.expect_status(0);
}

#[test]
fn example_scripts_revoke_left_course() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben", "cid"], false);
    hub.create_users(&["teacher"], true);
    hub.create_group("lab-3", &["ann"]);
    for user in ["ann", "ben", "cid", "teacher"] {
        let (status, reply) =
            hub.api("POST", &format!("/hub/api/users/{user}/tokens"), Some(json!({ "note": format!("{user}'s") })));
        assert_eq!(status, 201, "{reply}");
    }
    let script = format!("{}/scripts/examples/revoke_left_course.rhai", env!("CARGO_MANIFEST_DIR"));
    let count = |hub: &TestHub, user: &str| {
        let (_, reply) = hub.api("GET", &format!("/hub/api/users/{user}/tokens"), None);
        reply["api_tokens"].as_array().unwrap().len()
    };
    let dry = Test::new().hub(&hub).args(["run", &script, "lab-3", "--dry-run"]).run().expect_status(0);
    assert!(
        dry.stdout.contains("📋 2 tokens of 2 users outside lab-3") && dry.stdout.contains("📝 Would revoke"),
        "{dry}"
    );
    assert_eq!(count(&hub, "ben"), 1);
    let done = Test::new().hub(&hub).args(["run", &script, "lab-3", "--yes"]).run().expect_status(0);
    assert!(done.stdout.contains("✅ Revoked: 2"), "{done}");
    let left: Vec<usize> = ["ann", "ben", "cid", "teacher"].iter().map(|u| count(&hub, u)).collect();
    assert_eq!(left, [1, 0, 0, 1]);
}

/// Issue #26: with `-q` only the token reaches stdout, so
/// `T=$(jhctl -q manage-users tokens create bot)` holds the token; a
/// token for a user that does not exist says so (exit 2), in a dry run
/// too, and nothing is made.
#[test]
fn tokens_create_quietly_prints_only_the_token_and_names_a_missing_user() {
    let hub = TestHub::start();
    hub.create_users(&["bot"], false);
    let quiet = Test::new().hub(&hub).args(["-q", "manage-users", "tokens", "create", "bot"]).run().expect_status(0);
    let token = quiet.stdout.trim_end();
    assert_eq!(quiet.stdout, format!("{token}\n"), "{quiet}");
    assert!(token.len() >= 32 && !token.contains(' '), "{quiet}");
    assert_eq!(whoami(&hub, token).expect_status(0).stdout, "bot\n");

    for dry in [false, true] {
        let mut args = vec!["manage-users", "tokens", "create", "nosuch"];
        if dry {
            args.push("--dry-run");
        }
        let (out, _) = jhctl(&hub, &[], &args[1..]);
        let out = out.expect_status(2);
        assert!(out.stderr.contains("create a token for `nosuch`: the hub answered 404: no user `nosuch`"), "{out}");
        assert!(!out.stderr.contains("refused the token"), "{out}");
    }
    let (_, users) = hub.api("GET", "/hub/api/users/nosuch", None);
    assert_eq!(users["status"], 404);
}
