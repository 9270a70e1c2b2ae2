//! Issue #14: a thrown error carries a `kind` a script can branch on.

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
