//! Issue 26: `prune-inactive`, `servers prune` and `sync --prune` act on a
//! plan made before the confirmation question. Each item is read again
//! just before its request: what changed while the question waited (a user
//! made admin, a server started, new activity) is kept and reported, the
//! rest is done. The question is answered through a real pseudo-terminal,
//! after the test has changed the real hub.

use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::spawn_with_options;
use serde_json::json;

use crate::support::hub::TestHub;
use crate::support::test::{run_in, Test};

const LONG_AGO: &str = "2025-01-01T00:00:00Z";

/// Runs `jhctl manage-users ARGS` against `hub` in a pseudo-terminal, in
/// `test`'s folder; when the yes/no question shows, runs `meanwhile` (which
/// changes the hub), then answers `yes`. Returns the exit status and all
/// the output (stdout and stderr, as the terminal shows them).
fn answer_yes_after(hub: &TestHub, test: &Test, args: &[&str], meanwhile: impl FnOnce()) -> (i32, String) {
    let home = test.home();
    let mut command = Command::new(env!("CARGO_BIN_EXE_jhctl"));
    command
        .arg("manage-users")
        .args(args)
        .current_dir(test.dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("KUBECONFIG", home.join(".kube/no-such-config"))
        .env("JUPYTERHUB_URL", hub.url())
        .env("JUPYTERHUB_TOKEN", hub.token());
    let options = Options::new().timeout_ms(Some(60_000)).strip_ansi_escape_codes(true);
    let mut pty = spawn_with_options(command, options).expect("cannot run jhctl in a pty");
    let before = pty.exp_string("(yes/no): ").expect("no yes/no question");
    meanwhile();
    pty.send_line("yes").expect("cannot answer");
    let after = pty.exp_eof().expect("jhctl did not end");
    let status = match pty.process_mut().wait().expect("cannot wait for jhctl") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("jhctl ended with {other:?}\n{before}{after}"),
    };
    // rexpect hands each byte over as one `char`: put the UTF-8 back together.
    let bytes: Vec<u8> = format!("{before}(yes/no): {after}").chars().map(|c| c as u32 as u8).collect();
    (status, String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

/// Sets `name`'s last activity to [`LONG_AGO`] (the hub only moves it forward).
fn backdate(hub: &TestHub, name: &str) {
    let path = format!("/hub/api/users/{name}/activity");
    let (status, reply) = hub.api("POST", &path, Some(json!({ "last_activity": LONG_AGO })));
    assert_eq!(status, 200, "{reply}");
}

/// Records activity of `name` now (as the hub's proxy would).
fn active_now(hub: &TestHub, name: &str, server: Option<&str>) {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let body = match server {
        None => json!({ "last_activity": now }),
        Some(server) => json!({ "servers": { server: { "last_activity": now } } }),
    };
    let (status, reply) = hub.api("POST", &format!("/hub/api/users/{name}/activity"), Some(body));
    assert_eq!(status, 200, "{reply}");
}

/// Starts `name`'s default server (`Some(server)`: that named one), without waiting.
fn start(hub: &TestHub, name: &str, server: Option<&str>) {
    let path = match server {
        None => format!("/hub/api/users/{name}/server"),
        Some(server) => format!("/hub/api/users/{name}/servers/{server}"),
    };
    let (status, reply) = hub.api("POST", &path, None);
    assert!(status == 201 || status == 202, "{status} {reply}");
}

fn make_admin(hub: &TestHub, name: &str) {
    let (status, reply) = hub.api("PATCH", &format!("/hub/api/users/{name}"), Some(json!({ "admin": true })));
    assert_eq!(status, 200, "{reply}");
}

// Issue #26: a user whose server runs is never pruned, however old its activity.
#[test]
fn regression_26_prune_inactive_keeps_users_with_a_running_server() {
    let hub = TestHub::start();
    hub.create_users(&["busy", "idle"], false);
    for name in ["busy", "idle"] {
        backdate(&hub, name);
    }
    start(&hub, "busy", None);
    // `0s`: every activity before the plan is old enough (also busy's, if starting moved it).
    let (plan, _) = run_in(&hub, &[], &["manage-users", "prune-inactive", "--since", "0s", "--plan"]);
    let plan = plan.expect_status(3);
    assert!(plan.stdout.contains("📋 Plan: 1 users inactive for 0s"), "{plan}");
    assert!(plan.stdout.contains("  - delete idle: "), "{plan}");
    assert!(plan.stdout.contains("  = keep busy: server "), "{plan}");
    assert!(plan.stdout.contains("users with a running server are never pruned; stop it first)\n"), "{plan}");
    let (done, _) = run_in(&hub, &[], &["manage-users", "prune-inactive", "--since", "0s", "--no-backup", "--yes"]);
    assert!(done.expect_status(0).stdout.contains("  ✅ Deleted: 1\n"));
    assert_eq!(hub.usernames(), ["busy"]);
    hub.api("DELETE", "/hub/api/users/busy/server", None);
}

#[test]
fn regression_26_prune_inactive_keeps_what_changed_while_the_question_waited() {
    let hub = TestHub::start();
    let users = ["p1", "p2", "p3", "p4"];
    hub.create_users(&users, false);
    for name in users {
        backdate(&hub, name);
    }
    let test = Test::new();
    let args = ["prune-inactive", "--since", "180d", "--backup", "gone.csv"];
    let (status, out) = answer_yes_after(&hub, &test, &args, || {
        make_admin(&hub, "p1");
        start(&hub, "p2", None);
        active_now(&hub, "p3", None);
    });
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("📋 Plan: 4 users inactive for 180d"), "{out}");
    assert!(out.contains("  - delete p1: last active 2025-01-01"), "{out}");
    assert!(out.contains("⏭️  Kept p1: now admin (admins are never pruned)\n"), "{out}");
    assert!(out.contains("⏭️  Kept p2: server started since the plan (now "), "{out}");
    assert!(out.contains("⏭️  Kept p3: active again since the plan (last activity "), "{out}");
    assert!(out.contains("✅ Deleted user: p4 (password cleared)\n"), "{out}");
    assert!(
        out.contains("  ✅ Deleted: 1\n  ⏭️  Kept (changed since the plan): 3\n  ⚠️  Not found: 0\n  ❌ Failed: 0\n"),
        "{out}"
    );
    assert_eq!(hub.usernames(), ["p1", "p2", "p3"]);
    hub.api("DELETE", "/hub/api/users/p2/server", None);
}

#[test]
fn regression_26_servers_prune_keeps_a_server_started_while_the_question_waited() {
    let hub = TestHub::start();
    hub.create_users(&["amy"], false);
    let servers = ["amy/s1", "amy/s2", "amy/s3"];
    let (started, _) = run_in(&hub, &[], &[&["manage-users", "start"][..], &servers, &["--timeout", "30"]].concat());
    started.expect_status(0);
    let (stopped, _) = run_in(&hub, &[], &[&["manage-users", "stop"][..], &servers, &["--timeout", "30"]].concat());
    stopped.expect_status(0);

    let test = Test::new();
    let args = ["servers", "prune", "--stopped", "--since", "0s"];
    let (status, out) = answer_yes_after(&hub, &test, &args, || {
        start(&hub, "amy", Some("s1"));
        active_now(&hub, "amy", Some("s2"));
    });
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("📋 Plan: 3 stopped named servers"), "{out}");
    assert!(out.contains("⏭️  Kept amy/s1: server started since the plan (now "), "{out}");
    assert!(out.contains("⏭️  Kept amy/s2: active again since the plan (last activity "), "{out}");
    assert!(out.contains("✅ Removed server: amy/s3\n"), "{out}");
    assert!(out.contains("  ✅ Removed: 1\n  ⏭️  Kept (changed since the plan): 2\n"), "{out}");
    let (_, user) = hub.api("GET", "/hub/api/users/amy?include_stopped_servers=1", None);
    let mut left: Vec<String> =
        user["servers"].as_object().unwrap().keys().filter(|n| !n.is_empty()).cloned().collect();
    left.sort();
    assert_eq!(left, ["s1", "s2"], "{user}");
    hub.api("DELETE", "/hub/api/users/amy/servers/s1", None);
}

#[test]
fn regression_26_sync_prune_keeps_a_user_made_admin_while_the_question_waited() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "x1", "x2"], false);
    let test = Test::new().file("class.csv", "username\nann\n");
    let args = ["sync", "class.csv", "--prune"];
    let (status, out) = answer_yes_after(&hub, &test, &args, || make_admin(&hub, "x1"));
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("  - delete x1\n  - delete x2\n"), "{out}");
    assert!(out.contains("⏭️  Kept x1: now admin, so no longer in the plan"), "{out}");
    assert!(out.contains("✅ Deleted user: x2 (password cleared)\n"), "{out}");
    assert!(out.contains("  ✅ Deleted: 1\n  ⏭️  Kept (changed since the plan): 1\n  ❌ Failed: 0\n"), "{out}");
    assert_eq!(hub.usernames(), ["ann", "x1"]);
    assert_eq!(hub.user("x1").unwrap()["admin"], true);
}
