//! Issue 28: Ctrl-C during a batch stops sending new requests, waits for
//! the ones in flight, then prints the per-user lines and the 📊 Results
//! block of what was done and what was not started, and exits 130.

use std::process::{Command, Stdio};

use crate::support::hub::TestHub;
use crate::support::test::Test;

// Issue #28: Ctrl-C during `delete --yes` showed a bar at 116/131 and exit
// 130, no per-user lines, no summary; the hub had deleted 117.
#[test]
fn ctrl_c_during_delete_reports_every_deleted_user_and_the_results() {
    let hub = TestHub::start();
    let names: Vec<String> = (0..150).map(|i| format!("cc{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    hub.create_users(&refs, false);
    let test = Test::new().file("gone.csv", format!("username\n{}\n", names.join("\n")));
    let home = test.home();
    let mut command = Command::new(env!("CARGO_BIN_EXE_jhctl"));
    command
        .args(["--concurrency", "2", "manage-users", "delete", "gone.csv", "--yes", "--max-delete", "150"])
        .current_dir(test.dir())
        .env_remove("JHCTL_CONCURRENCY")
        .env("JUPYTERHUB_URL", hub.url())
        .env("JUPYTERHUB_TOKEN", hub.token())
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("KUBECONFIG", home.join(".kube/no-such-config"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("cannot run jhctl");

    // Interrupt once some users are gone and most are not.
    let mut left = names.len();
    for _ in 0..6000 {
        left = hub.usernames().len();
        if left <= 140 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(left <= 140, "the delete never started");
    let signal = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(signal.success());
    let output = child.wait_with_output().expect("cannot wait for jhctl");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = format!("--- stdout ---\n{stdout}--- stderr ---\n{stderr}");
    assert_eq!(output.status.code(), Some(130), "{}\n{shown}", output.status);

    let remaining = hub.usernames();
    let deleted = names.len() - remaining.len();
    assert!(!remaining.is_empty(), "the run was not interrupted: it deleted everyone\n{shown}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("✅ Deleted user: ")).collect();
    assert_eq!(lines.len(), deleted, "a line for each user the hub deleted\n{shown}");
    for name in &remaining {
        assert!(stdout.contains(&format!("⏹️  Not started: {name} (interrupted)\n")), "{name}\n{shown}");
        assert!(!stdout.contains(&format!("✅ Deleted user: {name} ")), "{name}\n{shown}");
    }
    assert!(stdout.contains("📊 Results:\n"), "{shown}");
    assert!(stdout.contains(&format!("  ✅ Deleted: {deleted}\n")), "{shown}");
    assert!(stdout.contains(&format!("  ⏹️  Not started (interrupted): {}\n", remaining.len())), "{shown}");
    assert!(stderr.contains("⏹️  Interrupted: no new changes are sent"), "{shown}");
}
