//! Issue 11, "exit codes that mean one thing": `manage-users sync --plan`
//! answers 0 when the hub matches, 3 when changes are pending (as
//! `terraform plan -detailed-exitcode`), and keeps 2 for bad usage or a
//! bad roster. A plan never changes the hub.

use crate::support::hub::TestHub;
use crate::support::test::{run_in as jhctl, Test};

#[test]
fn sync_plan_exit_codes() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);
    let before = hub.usernames();
    let connected = format!("✅ Connected to JupyterHub at {}\n", hub.url());

    // Changes pending: 3, and nothing changed.
    let files: &[(&str, &[u8])] = &[("roster.csv", b"username\nann\nben\n")];
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--plan"]);
    let out = out.expect_status(3).expect_stderr("");
    assert_eq!(
        out.stdout,
        format!(
            "{connected}📄 Loaded 2 users from roster.csv\n📋 Plan for roster.csv: 1 to create, 0 admin changes, \
             0 membership changes in 0 groups, 0 to delete\n\n  + create ben\n"
        )
    );
    assert_eq!(hub.usernames(), before, "--plan changed the hub");

    // --plan with --dry-run as well: still 3.
    let (out, _) = jhctl(&hub, files, &["--dry-run", "manage-users", "sync", "roster.csv", "--plan"]);
    out.expect_status(3);

    // Nothing to change: 0.
    let files: &[(&str, &[u8])] = &[("roster.csv", b"username\nann\n")];
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--plan"]);
    out.expect_status(0).expect_stdout(&format!(
        "{connected}📄 Loaded 1 users from roster.csv\n✅ No changes: the hub already matches roster.csv\n"
    ));

    // A roster with a bad row: 2, with or without --plan, and nothing changed.
    let files: &[(&str, &[u8])] = &[("roster.csv", b"username\nann\nbad/name\nben\n")];
    for extra in [&["--plan"][..], &["--yes"][..]] {
        let args = [&["manage-users", "sync", "roster.csv"][..], extra].concat();
        let (out, _) = jhctl(&hub, files, &args);
        let out = out.expect_status(2);
        assert!(out.stderr.contains("roster.csv has 1 rows with problems"), "{out}");
    }
    // A roster without a username column: 2.
    let files: &[(&str, &[u8])] = &[("roster.csv", b"name\nann\n")];
    let (out, _) = jhctl(&hub, files, &["manage-users", "sync", "roster.csv", "--plan"]);
    let out = out.expect_status(2);
    assert!(out.stderr.contains("username"), "{out}");
    assert_eq!(hub.usernames(), before, "a bad roster changed the hub");
}

#[test]
fn sync_help_names_the_plan_exit_codes() {
    let out = Test::new().args(["manage-users", "sync", "--help"]).run().expect_status(0);
    let help = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("Exit status: 0 the hub matches, 3 there are changes, 1 failure, 2 bad usage or a bad file"),
        "{out}"
    );
}
