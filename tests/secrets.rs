//! Issue 11, "secrets off the command line": `--token-file` (global and
//! after `manage-users` / `set-passwords`, `-` for standard input),
//! `--password-file`, the warning when a token would travel over plain
//! http to another machine, and `list` saying why the Quota column is left out.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use crate::support::hub::TestHub;
use crate::support::test::Test;

/// A run against `hub` with its URL but no token in the environment.
fn no_token(hub: &TestHub) -> Test {
    Test::new().env("JUPYTERHUB_URL", hub.url())
}

#[test]
fn token_file_global() {
    let hub = TestHub::start();
    let token_line = format!("{}\n", hub.token());
    let whoami = ["--token-file", "token.txt", "eval", "hub.whoami().name"];
    no_token(&hub).file("token.txt", &token_line).args(whoami).run().expect_status(0).expect_stdout("jhctl-test\n");
    // The file wins over a stale JUPYTERHUB_TOKEN.
    no_token(&hub)
        .env("JUPYTERHUB_TOKEN", "stale-token-0000")
        .file("token.txt", &token_line)
        .args(whoami)
        .run()
        .expect_status(0)
        .expect_stdout("jhctl-test\n");
    // `-`: standard input.
    no_token(&hub)
        .stdin(token_line.clone())
        .args(["--token-file", "-", "eval", "hub.whoami().name"])
        .run()
        .expect_status(0)
        .expect_stdout("jhctl-test\n");
}

#[test]
fn token_file_errors_are_bad_input() {
    let run = |test: Test| test.run().expect_status(2).expect_stdout("");
    run(Test::new().file("empty.txt", "\n").args(["--token-file", "empty.txt", "eval", "1"]))
        .expect_stderr("error: the token file `empty.txt` is empty; write the token in it (one line)\n");
    run(Test::new().stdin("").args(["--token-file", "-", "eval", "1"])).expect_stderr(
        "error: no token on standard input; pipe it in, e.g. `< token.txt`, or give a file instead of `-`\n",
    );
    let out = run(Test::new().args(["--token-file", "missing.txt", "eval", "1"]));
    assert!(out.stderr.starts_with("error: cannot read the token from `missing.txt`: "), "{out}");
    run(Test::new().file("t.txt", "abcdefgh\n").args(["--token", "abcdefgh", "--token-file", "t.txt", "eval", "1"]))
        .expect_stderr(
            "error: --token and --token-file both give the API token; keep --token-file (a token on the command \
             line shows in `ps` and in shell history)\n",
        );
    // After manage-users too, before anything is sent.
    let out = run(Test::new().file("empty.txt", "").args(["manage-users", "list", "--token-file", "empty.txt"]));
    assert!(out.stderr.contains("the token file `empty.txt` is empty"), "{out}");
}

#[test]
fn token_file_after_the_script_name() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);
    let token_line = format!("{}\n", hub.token());
    let out = no_token(&hub)
        .file("token.txt", &token_line)
        .args(["manage-users", "list", "--csv", "--columns", "username", "--token-file", "token.txt"])
        .run()
        .expect_status(0);
    assert_eq!(out.stdout, "username\nann\n");
    assert!(!out.stdout.contains(hub.token()) && !out.stderr.contains(hub.token()), "the token was printed");

    // set-passwords, the token from standard input.
    let out = no_token(&hub)
        .stdin(token_line)
        .file("users.csv", "username,password\nann,Secret-123\n")
        .args(["set-passwords", "users.csv", "--token-file", "-"])
        .run()
        .expect_status(0);
    assert!(out.stdout.contains("✅ Set password for: ann (force change)\n"), "{out}");
    assert_eq!(hub.stored_password("ann", "Secret-123"), Some((true, true)));
}

#[test]
fn password_file_for_create_and_set_passwords() {
    let hub = TestHub::start();
    hub.create_users(&["old"], false);
    let password = "Pass word-7";
    let out = Test::new()
        .hub(&hub)
        .file("users.csv", "username\nann\nben\n")
        .file("pw.txt", format!("{password}\n"))
        .args(["manage-users", "create", "users.csv", "--password-file", "pw.txt"])
        .run()
        .expect_status(0);
    assert!(!out.stdout.contains(password) && !out.stderr.contains(password), "the password was printed\n{out}");
    assert_eq!(hub.stored_password("ann", password), Some((true, true)));
    assert_eq!(hub.stored_password("ben", password), Some((true, true)));

    // set-passwords --generate with the password on standard input.
    Test::new()
        .hub(&hub)
        .file("users.csv", "username\nold\n")
        .stdin(format!("{password}\r\n"))
        .args(["set-passwords", "users.csv", "--generate", "--password-file", "-", "--no-force-change"])
        .run()
        .expect_status(0);
    assert_eq!(hub.stored_password("old", password), Some((true, false)));

    // The inline flag and the file at once: bad usage, nothing sent.
    let both = Test::new()
        .hub(&hub)
        .file("users.csv", "username\ncat\n")
        .file("pw.txt", "x\n")
        .args(["manage-users", "create", "users.csv", "--password", "Inline-123", "--password-file", "pw.txt"])
        .run()
        .expect_status(2);
    assert!(both.stderr.contains("--password-file"), "{both}");
    let out = Test::new()
        .hub(&hub)
        .file("users.csv", "username\nold\n")
        .file("pw.txt", "x\n")
        .args(["set-passwords", "users.csv", "--default-password", "Inline-123", "--password-file", "pw.txt"])
        .run()
        .expect_status(2);
    assert!(out.stderr.contains("--password-file"), "{out}");
    // An empty password file: bad input, nothing sent.
    let out = Test::new()
        .hub(&hub)
        .file("users.csv", "username\ncat\n")
        .file("pw.txt", "\n")
        .args(["manage-users", "create", "users.csv", "--password-file", "pw.txt"])
        .run()
        .expect_status(2);
    assert!(out.stderr.contains("the password file `pw.txt` is empty"), "{out}");
    assert_eq!(hub.user("cat"), None);
}

#[test]
fn plain_http_warning_only_for_other_machines() {
    // No request is sent: an empty batch only builds the client.
    let script = r#"hub.delete_users([]); hub.configure(#{ url: "http://10.0.0.2:8000" }); hub.delete_users([]);"#;
    Test::new()
        .args(["--url", "http://10.255.255.1:9", "--token", "abcdefgh", "eval", script])
        .run()
        .expect_status(0)
        .expect_stderr(
            "⚠️  The API token is sent to http://10.255.255.1:9 over plain http: anyone on the network path can \
             read it. Use an https:// URL for a hub that is not on this machine.\n",
        );
    for url in ["https://10.255.255.1:9", "http://localhost:9", "http://127.0.0.5:9", "http://[::1]:9"] {
        Test::new()
            .args(["--url", url, "--token", "abcdefgh", "eval", "hub.delete_users([]).len()"])
            .run()
            .expect_status(0)
            .expect_stdout("0\n")
            .expect_stderr("");
    }
    // A real hub on loopback: no warning.
    let hub = TestHub::start();
    Test::new().hub(&hub).args(["eval", "hub.whoami().name"]).run().expect_status(0).expect_stderr("");
}

/// A stand-in hub on loopback that lists one user, `ann`, and answers the
/// quota listing with `quota` (status line and body): the hubs jhctl meets
/// without the quota API, or with a token the admin API refuses. Returns
/// its URL; it serves until the test process ends.
fn hub_without_quota(quota: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("a local address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line != "\r\n" {
                request += &line;
                line.clear();
            }
            let users = r#"{"items": [{"name": "ann", "admin": false, "groups": [], "created": "2026-01-01T00:00:00Z",
                "last_activity": null, "server": null, "pending": null, "servers": {}, "roles": ["user"]}],
                "_pagination": {"offset": 0, "limit": 200, "total": 1, "next": null}}"#;
            let reply = if request.starts_with("GET /hub/api/users") {
                format!("200 OK\r\nContent-Type: application/json\r\n\r\n{users}")
            } else if request.starts_with("GET /hub/admin/api/quota") {
                quota.to_string()
            } else {
                "404 Not Found\r\nContent-Type: application/json\r\n\r\n{\"status\": 404, \"message\": \"Not Found\"}"
                    .to_string()
            };
            let (head, body) = reply.split_once("\r\n\r\n").expect("head and body");
            let text = format!("HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = reader.get_mut().write_all(text.as_bytes());
        }
    });
    url
}

// Issue #27: the note came on every `list`; now once per hub and reason,
// saying how to get the column, and again whenever the column is asked for.
#[test]
fn list_says_once_why_the_quota_column_is_left_out() {
    let table = "📋 Total users: 1\n\nUsername             Admin      Server     Last Activity\n\
                 ---------------------------------------------------------------\nann                             Stopped    Never\n";
    // The refusal's own text is the hub's (and may grow a hint); around it, the fix.
    let refused = (
        "the hub refused the quota listing (list quota: the hub answered ",
        "); use the API token of a user with the admin flag (the quota API checks the admin flag, not the token's scopes)",
    );
    let cases = [
        ("403 Forbidden\r\nContent-Type: application/json\r\n\r\n{\"error\": \"Admin access required\"}", refused),
        ("302 Found\r\nLocation: /hub/login\r\n\r\n", refused),
        (
            "404 Not Found\r\nContent-Type: text/html\r\n\r\n<html>404</html>",
            (
                "this hub has no quota API (GET /hub/admin/api/quota answered 404); ",
                "the column needs the hub-side admin API of the aup-learning-cloud user guide (its quota system) on the hub",
            ),
        ),
    ];
    let once = "; said once for this hub: `--columns username,quota` says it again\n";
    for (quota, (why, fix)) in cases {
        let url = hub_without_quota(quota);
        let on = |test: Test| test.env("JUPYTERHUB_URL", &url).env("JUPYTERHUB_TOKEN", "abcdefgh");
        let list = on(Test::new()).args(["manage-users", "list"]);
        // Later runs on the same machine: the same state directory.
        let state = list.home().join(".local/state");
        let later = |args: &[&str]| on(Test::new()).env("XDG_STATE_HOME", &state).args(args).run();
        let connected = format!("✅ Connected to JupyterHub at {url}\n");
        let out = list.run().expect_status(0);
        assert_eq!(out.stdout, format!("{connected}{table}"), "{out}");
        assert!(out.stderr.starts_with(&format!("⚠️  Quota column left out: {why}")), "{out}");
        assert!(out.stderr.ends_with(&format!("{fix}{once}")), "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        // The next time: the table alone.
        let out = later(&["manage-users", "list"]).expect_status(0).expect_stderr("");
        assert_eq!(out.stdout, format!("{connected}{table}"), "{out}");
        // Asked for by name: said again, every time.
        for _ in 0..2 {
            let out = later(&["manage-users", "list", "--columns", "username,quota"]).expect_status(0);
            assert!(out.stderr.starts_with(&format!("⚠️  Quota column left out: {why}")), "{out}");
            assert!(out.stderr.ends_with(&format!("{fix}\n")), "{out}");
        }
        // Columns without quota: nothing to say.
        let out = on(Test::new())
            .args(["manage-users", "list", "--csv", "--columns", "username,admin"])
            .run()
            .expect_status(0)
            .expect_stdout("username,admin\nann,false\n");
        assert_eq!(out.stderr, connected);
    }
}
