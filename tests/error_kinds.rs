//! Issue #14: a thrown error carries a `kind` a script can branch on.

use crate::support::hub::TestHub;
use crate::support::test::Test;

#[test]
fn scripts_branch_on_the_kind_of_an_error() {
    let script = r#"
        let kinds = [];
        try { roster::read("no-such-file.csv"); } catch (e) { kinds.push(`${e.kind}/${e.exit}`); }
        try { hub.users(); } catch (e) { kinds.push(`${e.kind}/${e.exit}`); }
        print(kinds);
    "#;
    let out = Test::new()
        .env("JUPYTERHUB_URL", "http://127.0.0.1:9")
        .env("JUPYTERHUB_TOKEN", "a-token-for-nothing")
        .args(["eval", script])
        .run()
        .expect_status(0);
    assert_eq!(out.stdout, "[\"not_found/2\", \"unreachable/1\"]\n", "{out}");
}

// Issue #27: `hub.group("lab9").users` for a group the hub does not have
// said "Unknown property 'users' - a getter is not registered for type '()'".
#[test]
fn a_missing_group_is_named_and_its_kind_is_not_found() {
    let hub = TestHub::start();
    let out = Test::new().hub(&hub).args(["eval", r#"hub.group("lab9").users"#]).run().expect_status(1);
    assert!(
        out.stderr.starts_with(
            "error: no group `lab9` on this hub; `jhctl manage-users groups list` lists the groups, \
             `hub.create_group(\"lab9\")` creates it"
        ),
        "{out}"
    );
    assert!(!out.stderr.contains("getter"), "{out}");
    let caught = r#"let kind = (); try { hub.group("lab9"); } catch (e) { kind = e.kind; } kind"#;
    Test::new().hub(&hub).args(["eval", caught]).run().expect_status(0).expect_stdout("not_found\n");
    // The bundled commands still say it their way.
    let members = Test::new().hub(&hub).args(["manage-users", "groups", "members", "lab9"]).run().expect_status(1);
    assert!(members.stdout.contains("❌ Group not found: lab9"), "{members}");
    hub.create_users(&["ann"], false);
    Test::new().hub(&hub).args(["manage-users", "groups", "add", "lab9", "ann"]).run().expect_status(0);
    Test::new().hub(&hub).args(["eval", r#"hub.group("lab9").users"#]).run().expect_stdout("[\"ann\"]\n");
}
