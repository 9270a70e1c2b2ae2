//! Issue #26: names that hold bidi, format or invisible characters, and
//! names that look like another. `--json` is always JSON (a failed run
//! too), human output shows such characters escaped, and lookalike names
//! are warned about before they are created.

use serde_json::Value;

use crate::support::hub::TestHub;
use crate::support::test::Test;

const BIDI: &str = "a\u{e4}\u{202e}evil";
const ZERO_WIDTH: &str = "ann\u{200b}";

/// stdout as a JSON document; panics with the whole output when it is not one.
fn json_of(out: &crate::support::test::Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}"))
}

// Issue #26: `list --json` of `aä\u202eevil` printed `"\u{202e}"`, which no
// JSON parser accepts.
#[test]
fn json_output_is_json_whatever_the_names_hold() {
    let hub = TestHub::start();
    hub.create_users(&[BIDI, ZERO_WIDTH, "ann"], false);
    let test = Test::new().hub(&hub).args(["--json", "manage-users", "list"]);
    let out = test.run().expect_status(0);
    let doc = json_of(&out);
    let mut names: Vec<&str> = doc.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    names.sort();
    let mut expected = [BIDI, "ann", ZERO_WIDTH];
    expected.sort();
    assert_eq!(names, expected);
    assert!(out.stdout.contains("a\u{e4}\\u202eevil"), "a JSON escape, not a raw override: {out}");

    // On the terminal (human output) both are shown escaped.
    let out = test.with_args(["manage-users", "list"]).run().expect_status(0);
    assert!(out.stdout.contains("a\u{e4}\\u{202e}evil"), "{out}");
    assert!(out.stdout.contains("ann\\u{200b}"), "{out}");
    assert!(!out.stdout.contains('\u{202e}') && !out.stdout.contains('\u{200b}'), "{out}");
}

// Issue #26: a run that fails still prints a JSON document on stdout.
#[test]
fn a_failed_json_run_prints_the_error_as_json() {
    // The hub is down: the connection fails (exit 1).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let test = Test::new().env("JUPYTERHUB_URL", &url).env("JUPYTERHUB_TOKEN", "0123456789abcdef").args([
        "--json",
        "manage-users",
        "list",
    ]);
    let out = test.run().expect_status(1);
    let doc = json_of(&out);
    assert_eq!(doc["error"]["exit"], 1, "{out}");
    assert_eq!(doc["error"]["kind"], "failed", "{out}");
    assert!(doc["error"]["message"].as_str().unwrap().starts_with("Connection error: "), "{out}");

    // A roster that is not there: bad input (exit 2), kind `not_found`.
    let hub = TestHub::start();
    let test = Test::new().hub(&hub).args(["--json", "manage-users", "create", "missing.csv"]);
    let out = test.run().expect_status(2);
    let doc = json_of(&out);
    assert_eq!(doc["error"]["exit"], 2, "{out}");
    assert_eq!(doc["error"]["kind"], "not_found", "{out}");
    assert!(doc["error"]["message"].as_str().unwrap().contains("missing.csv"), "{out}");

    // A bad option the script refuses itself (exit 2 after its own message).
    let test = test.with_args(["--json", "manage-users", "prune-inactive", "--since", "soon", "--plan"]);
    let out = test.run().expect_status(2);
    let doc = json_of(&out);
    assert_eq!(doc["error"]["kind"], "bad_input", "{out}");
    assert!(doc["error"]["message"].as_str().unwrap().contains("--since `soon` is not a duration"), "{out}");

    // Success prints its own document, and only that.
    let out = test.with_args(["--json", "manage-users", "list"]).run().expect_status(0);
    assert!(json_of(&out).is_array(), "{out}");
}

// Issue #26: one roster created both `josé` (NFC) and `josé` (NFD), and
// `ann` beside the hub's `ann\u200b`, with no warning.
#[test]
fn lookalike_names_are_warned_about_before_they_are_created() {
    let hub = TestHub::start();
    hub.create_users(&[ZERO_WIDTH], false);
    let roster = "username\njos\u{e9}\nann\njose\u{301}\nbob\n";
    let test = Test::new().hub(&hub).file("class.csv", roster).args(["manage-users", "create", "class.csv"]);
    let out = test.run().expect_status(0);
    assert!(
        out.stderr.contains(
            "rows 2, 4: usernames `jos\\u{e9}` and `jose\\u{301}` look the same but differ in Unicode normalisation \
             or invisible characters, so the hub keeps them as different users; use one spelling"
        ),
        "{out}"
    );
    assert!(out.stderr.contains("⚠️  usernames `ann` and `ann\\u{200b}` look the same"), "{out}");
    assert!(!out.stderr.contains("`bob`"), "{out}");
    // A warning, not a refusal: the admin decides.
    let mut expected = vec!["ann", "bob", "jos\u{e9}", "jose\u{301}", ZERO_WIDTH];
    expected.sort();
    assert_eq!(hub.usernames(), expected);
}
