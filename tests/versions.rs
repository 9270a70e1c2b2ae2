//! Where JupyterHub versions differ, jhctl behaves the same (issue 18).
//!
//! These tests run in every CI leg (`JHCTL_TEST_HUB` = 6.1.1, 5.2.1, 4.1.6):
//! each first shows the hub's own behaviour on this version (so the test
//! would catch jhctl trusting it), then that jhctl's result does not depend
//! on it.

use serde_json::{json, Value};

use crate::support::hub::TestHub;
use crate::support::test::{run_in, Output};

fn jhctl(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> Output {
    run_in(hub, files, args).0
}

/// The major version of the test hub, e.g. 5.
fn major(hub: &TestHub) -> u32 {
    hub.version().split('.').next().and_then(|m| m.parse().ok()).expect("a version like 5.2.1")
}

/// `GET /hub/api/` reports the version the harness installed.
#[test]
fn the_hub_runs_the_version_asked_for() {
    let hub = TestHub::start();
    let (status, body) = hub.api("GET", "/hub/api/", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], hub.version());
    let out = jhctl(&hub, &[], &["eval", "hub.version()"]).expect_status(0);
    assert_eq!(out.stdout, format!("{}\n", hub.version()));
}

/// Hubs before 6.0 accept the usernames `.` and `..` (6.x refuses them);
/// jhctl refuses them on every version before sending anything, so the hub
/// ends up without them.
#[test]
fn dot_and_dot_dot_are_refused_on_every_version() {
    // What the hub itself does with them, on a hub of its own.
    let raw = TestHub::start();
    let (status, reply) = raw.api("POST", "/hub/api/users", Some(json!({ "usernames": [".", ".."] })));
    if major(&raw) >= 6 {
        assert_eq!(status, 400, "{reply}");
        assert_eq!(raw.usernames(), Vec::<String>::new());
    } else {
        assert_eq!(status, 201, "{reply}");
        assert_eq!(raw.usernames(), [".", ".."]);
    }
    drop(raw);

    let hub = TestHub::start();
    let reason = "username `.` or `..` would change the hub's URL paths (they mean this and the parent folder); \
                  choose another name";
    // From a roster: the rows fail, the others are created.
    let roster = b"username\n.\nann\n..\n";
    let out = jhctl(&hub, &[("r.csv", roster)], &["manage-users", "create", "r.csv"]).expect_status(1);
    assert!(out.stderr.contains(&format!("❌ roster `r.csv` row 2, column `username`: {reason}\n")), "{out}");
    assert!(out.stderr.contains(&format!("❌ roster `r.csv` row 4, column `username`: {reason}\n")), "{out}");
    assert!(out.stdout.contains("  ✅ Created: 1\n  ⚠️  Already exist: 0\n  ❌ Failed: 2\n"), "{out}");

    // By name from a script, as admins, and as a rename target.
    let created =
        jhctl(&hub, &[], &["eval", r#"to_json(hub.create_users([".", ".."], #{admin: true}))"#]).expect_status(0);
    let results: Value = serde_json::from_str(&created.stdout).unwrap_or_else(|e| panic!("{e}\n{created}"));
    let results = results.as_array().expect("a list of results");
    assert_eq!(results.len(), 2, "{created}");
    for result in results {
        assert_eq!(result["status"], "failed", "{created}");
        assert!(result["error"].as_str().unwrap_or_default().ends_with(reason), "{created}");
    }
    let rename = jhctl(&hub, &[], &["manage-users", "rename", "ann", ".."]);
    assert_ne!(rename.status, 0, "{rename}");
    assert!(rename.stderr.contains(reason), "{rename}");

    assert_eq!(hub.usernames(), ["ann"]);
    let log = hub.log();
    assert!(!log.contains("/hub/api/users/."), "a request named `.` or `..`:\n{log}");
}

/// Users created in an order that is not the order of their names, on a
/// hub serving 2 a page (so the listing takes several pages).
fn hub_with_unsorted_users() -> TestHub {
    let hub = TestHub::builder().page_max(2).start();
    for name in ["carol", "alice", "erin", "bob", "dave"] {
        hub.create_users(&[name], false);
    }
    hub
}

/// The hub's own order for `GET /hub/api/users?sort=...` (first 200).
fn hub_order(hub: &TestHub, sort: &str) -> Vec<String> {
    let (status, users) = hub.api("GET", &format!("/hub/api/users?sort={sort}&limit=200"), None);
    assert_eq!(status, 200, "{users}");
    users.as_array().expect("a list").iter().map(|u| u["name"].as_str().expect("a name").to_string()).collect()
}

/// `manage-users list` sorts by name on every version (5.0 and later sort
/// when asked, 4.x ignores `sort` and lists by creation): jhctl sorts
/// itself, without a round trip to ask the hub's version.
#[test]
fn listing_is_sorted_by_name_on_every_version() {
    let hub = hub_with_unsorted_users();
    // The hub's own answer (one page of 2 here, as the hub serves).
    let own = hub_order(&hub, "name");
    if major(&hub) >= 5 {
        assert_eq!(own, ["alice", "bob"]);
    } else {
        assert_eq!(own, ["carol", "alice"]);
    }

    let list = |extra: &[&str]| {
        let mut args = vec!["manage-users", "list", "--csv", "--columns", "username"];
        args.extend_from_slice(extra);
        jhctl(&hub, &[], &args).expect_status(0).stdout
    };
    let asked = |log: &str| log.matches("GET /hub/api/ (").count();
    let before = asked(&hub.log());
    assert_eq!(list(&[]), "username\nalice\nbob\ncarol\ndave\nerin\n");
    assert_eq!(asked(&hub.log()), before, "the listing asked the hub's version:\n{}", hub.log());
    // (The pattern does see the request when it is made; the hub writes
    // its log line after answering, so give it a moment.)
    jhctl(&hub, &[], &["eval", "hub.version()"]).expect_status(0);
    let started = std::time::Instant::now();
    while asked(&hub.log()) == before && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(asked(&hub.log()), before + 1, "{}", hub.log());
    assert_eq!(list(&["--sort", "name"]), "username\nalice\nbob\ncarol\ndave\nerin\n");
    assert_eq!(list(&["--sort", "-name"]), "username\nerin\ndave\ncarol\nbob\nalice\n");

    // The primitive sorts the same way, and by creation order for `id`.
    let names = |sort: &str| {
        let code = format!(r#"to_json(hub.users(#{{sort: "{sort}"}}).map(|u| u.name))"#);
        let out = jhctl(&hub, &[], &["eval", &code]).expect_status(0);
        serde_json::from_str::<Vec<String>>(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"))
    };
    assert_eq!(names("name"), ["alice", "bob", "carol", "dave", "erin"]);
    assert_eq!(names("-name"), ["erin", "dave", "carol", "bob", "alice"]);
    assert_eq!(names("id"), ["carol", "alice", "erin", "bob", "dave"]);
    assert_eq!(names("-id"), ["dave", "bob", "erin", "alice", "carol"]);
}

/// A sort key the hub does not know fails the same way on every version,
/// before anything is sent (4.x would ignore it and list unsorted).
#[test]
fn an_unknown_sort_key_is_an_error_on_every_version() {
    let hub = TestHub::start();
    hub.create_users(&["bob", "alice"], false);
    // Bad input: exit status 2, and a script can tell it by its kind.
    let out = jhctl(&hub, &[], &["eval", r#"hub.users(#{sort: "created"})"#]).expect_status(2);
    let expected = "list users: cannot sort by `created`; use id, name or last_activity (a leading - sorts descending)";
    assert!(out.stderr.contains(expected), "{out}");
    assert!(!hub.log().contains("sort=created"), "the hub was asked:\n{}", hub.log());
}

/// A token of `user` made through the API, with `note`; returns its text and id.
fn user_token(hub: &TestHub, user: &str, note: &str) -> (String, String) {
    let (status, reply) = hub.api("POST", &format!("/hub/api/users/{user}/tokens"), Some(json!({ "note": note })));
    assert_eq!(status, 201, "{reply}");
    (reply["token"].as_str().unwrap().to_string(), reply["id"].as_str().unwrap().to_string())
}

/// The notes of `user`'s tokens, sorted.
fn token_notes(hub: &TestHub, user: &str) -> Vec<String> {
    let (status, reply) = hub.api("GET", &format!("/hub/api/users/{user}/tokens"), None);
    assert_eq!(status, 200, "{reply}");
    let mut notes: Vec<String> =
        reply["api_tokens"].as_array().unwrap().iter().map(|t| t["note"].as_str().unwrap().to_string()).collect();
    notes.sort();
    notes
}

/// jhctl run with `token` (an admin user's, so the guards for the token's
/// own user run) instead of the harness's service token.
fn as_user(hub: &TestHub, token: &str, args: &[&str]) -> Output {
    crate::support::test::Test::new().env("JUPYTERHUB_URL", hub.url()).env("JUPYTERHUB_TOKEN", token).args(args).run()
}

/// Issue #26: JupyterHub 4.1 does not say which token is in use
/// (`token_id` comes from 5.0 on). jhctl then revokes none of its user's
/// tokens, says why, and revokes other admins' tokens only when named by
/// id; on 5.0 and later it spares exactly the token in use.
#[test]
fn tokens_revoke_never_revokes_the_token_it_runs_with() {
    let hub = TestHub::start();
    hub.create_users(&["boss", "dean"], true);
    hub.create_users(&["stu"], false);
    let (token, in_use) = user_token(&hub, "boss", "jhctl run");
    let (_, spare) = user_token(&hub, "boss", "boss spare");
    let (_, dean) = user_token(&hub, "dean", "dean's");
    user_token(&hub, "stu", "stu's");
    let (_, me) = hub.api("GET", "/hub/api/user", None);
    let whoami = as_user(&hub, &token, &["eval", "to_json(hub.whoami())"]).expect_status(0);
    let me_user: Value = serde_json::from_str(&whoami.stdout).unwrap();
    // What this hub version says about the token in use.
    assert_eq!(me_user["token_id"].is_string(), major(&hub) >= 5, "{me_user} / {me}");

    let out = as_user(&hub, &token, &["manage-users", "tokens", "revoke", "--never-expires", "--yes"]);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("  = keep dean/"), "{out}");
    assert!(out.stdout.contains("`dean` is an admin: an admin's token is revoked only when named by id"), "{out}");
    if major(&hub) >= 5 {
        assert!(out.stdout.contains("📋 Plan: 2 tokens to revoke"), "{out}");
        assert!(out.stdout.contains(&format!("  = keep boss/{in_use}: this is the token jhctl runs with")), "{out}");
        assert_eq!(token_notes(&hub, "boss"), ["jhctl run"]);
    } else {
        assert!(out.stdout.contains("📋 Plan: 1 tokens to revoke"), "{out}");
        assert!(out.stdout.contains(&format!("  = keep boss/{spare}: jhctl runs with a token of `boss`")), "{out}");
        assert!(out.stdout.contains("this hub does not say which one"), "{out}");
        assert_eq!(token_notes(&hub, "boss"), ["boss spare", "jhctl run"]);
    }
    assert_eq!(token_notes(&hub, "stu"), Vec::<String>::new());
    assert_eq!(token_notes(&hub, "dean"), ["dean's"]);
    as_user(&hub, &token, &["eval", "hub.whoami().name"]).expect_status(0);

    // Named by id, the token in use (or, on 4.1, any of boss's) is still kept.
    let named = if major(&hub) >= 5 { &in_use } else { &spare };
    let out = as_user(&hub, &token, &["manage-users", "tokens", "revoke", &format!("boss/{named}"), "--yes"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains(&format!("  = keep boss/{named}: ")), "{out}");
    assert!(out.stdout.contains("✅ No tokens to revoke"), "{out}");
    as_user(&hub, &token, &["eval", "hub.whoami().name"]).expect_status(0);

    // Another admin's token named by id is revoked.
    let out = as_user(&hub, &token, &["manage-users", "tokens", "revoke", &format!("dean/{dean}"), "--yes"]);
    assert!(out.expect_status(0).stdout.contains(&format!("✅ Revoked token {dean} of dean")));
    assert_eq!(token_notes(&hub, "dean"), Vec::<String>::new());
}

/// Issue #26: `delete` and `set-admin --revoke` never delete or demote the
/// user whose token jhctl runs with (a dry run says so too), as prune and
/// sync never do.
#[test]
fn delete_and_demote_spare_the_token_s_own_user() {
    let hub = TestHub::start();
    hub.create_users(&["boss", "dean"], true);
    hub.create_users(&["stu"], false);
    let (token, _) = user_token(&hub, "boss", "jhctl run");
    let files: &[(&str, &[u8])] = &[("gone.csv", b"username\nBoss\nstu\n")];
    let run = |args: &[&str]| {
        let mut test = crate::support::test::Test::new()
            .env("JUPYTERHUB_URL", hub.url())
            .env("JUPYTERHUB_TOKEN", &token)
            .args(args);
        for (name, contents) in files {
            test = test.file(name, contents);
        }
        test.run()
    };
    let why = "`boss` owns the token jhctl runs with, so it is never deleted or demoted here";

    let dry = run(&["manage-users", "delete", "gone.csv", "--dry-run"]).expect_status(1);
    assert!(dry.stdout.contains(&format!("❌ Failed to delete boss: {why}")), "{dry}");
    assert!(dry.stdout.contains("📝 Would delete user: stu"), "{dry}");
    let done = run(&["manage-users", "delete", "gone.csv", "--yes"]).expect_status(1);
    assert!(done.stdout.contains(&format!("❌ Failed to delete boss: {why}")), "{done}");
    assert!(done.stdout.contains("✅ Deleted user: stu"), "{done}");
    assert_eq!(hub.usernames(), ["boss", "dean"]);

    let dry = run(&["manage-users", "set-admin", "--revoke", "boss", "dean", "--dry-run"]).expect_status(1);
    assert!(dry.stdout.contains(&format!("❌ Failed for boss: {why}")), "{dry}");
    let done = run(&["manage-users", "set-admin", "--revoke", "boss", "dean"]).expect_status(1);
    assert!(done.stdout.contains(&format!("❌ Failed for boss: {why}")), "{done}");
    assert!(done.stdout.contains("✅ Admin revoked for: dean"), "{done}");
    let admin = |name: &str| hub.user(name).unwrap()["admin"].as_bool().unwrap();
    assert_eq!((admin("boss"), admin("dean")), (true, false));
    // Granting is not guarded.
    run(&["manage-users", "set-admin", "dean"]).expect_status(0);
    assert!(admin("dean"));
}
