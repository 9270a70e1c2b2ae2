//! Issue: `jhctl repl`. Piped sessions against the real hub (multi-line
//! input, one scope across inputs, errors that don't end the session,
//! `:doc`, `:save` replayed by `jhctl run`), and sessions in a real
//! pseudo-terminal (Tab completion, Ctrl-C, history across sessions).

use std::fs;
use std::net::TcpListener;
use std::process::Command;
use std::thread;
use std::time::Duration;

use rexpect::process::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};

use crate::support::hub::TestHub;
use crate::support::test::Test;

#[test]
fn piped_inputs_share_one_scope_and_go_on_after_errors() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], true);
    let input = r#"let names = ["bob", "cy"];
fn shout(text) {
    text.to_upper()
}
hub.create_users(names)
for name in names {
    let user = hub.user(name);
    print(shout(user.name) + " admin=" + user.admin);
}
boom(names)
let ann = hub.user("ann");
ann.admin
#{ n: names.len(), first: names[0] }
"#;
    Test::new()
        .hub(&hub)
        .arg("repl")
        .stdin(input)
        .run()
        .expect_stdout(
            "\
error  name  status
-----  ----  -------
       bob   created
       cy    created
BOB admin=false
CY admin=false
true
first  bob
n      2
",
        )
        .expect_stderr(
            "\
error: Function not found: boom (array) (line 10, position 1)
  --> <stdin>:10:1
   |
10 | boom(names)
   | ^
",
        )
        // The last input that failed sets the status.
        .expect_status(1);
    assert_eq!(hub.usernames(), ["ann", "bob", "cy"]);
}

#[test]
fn an_error_inside_an_earlier_function_points_at_its_line() {
    let input = "fn half(x) {\n    x / 2\n}\nlet h = half(8);\nh\nhalf(\"eight\")\nh + 1\n";
    Test::new()
        .arg("repl")
        .stdin(input)
        .run()
        .expect_stdout("4\n5\n")
        .expect_stderr(
            "\
error: Function not found: / (&str | ImmutableString | String, i64) (line 2, position 7)
  --> <stdin>:2:7
  |
2 |     x / 2
  |       ^
",
        )
        .expect_status(1);
}

#[test]
fn exit_ends_the_session_with_its_status() {
    Test::new()
        .arg("repl")
        .stdin("print(1);\nexit(3);\nprint(2);\n")
        .run()
        .expect_stdout("1\n")
        .expect_stderr("")
        .expect_status(3);
}

#[test]
fn input_left_open_at_the_end_is_a_syntax_error() {
    Test::new()
        .arg("repl")
        .stdin("1 + 1\nlet x = [1,\n  2,\n")
        .run()
        .expect_stdout("2\n")
        .expect_stderr(
            "\
syntax error: Expecting ']' to end this array literal
  --> <stdin>:3:5
  |
3 |   2,
  |     ^
",
        )
        .expect_status(2);
}

#[test]
fn a_hub_that_is_down_fails_on_first_use_not_at_start() {
    let out = Test::new()
        .args(["--url", "http://127.0.0.1:1", "repl"])
        .env("JUPYTERHUB_TOKEN", "not-a-real-token")
        .stdin("1 + 1\nhub.users()\n2 + 2\n")
        .run()
        .expect_stdout("2\n4\n")
        .expect_status(1);
    assert!(out.stderr.starts_with("error: cannot connect to the hub at http://127.0.0.1:1"), "{out}");
}

#[test]
fn doc_shows_what_jhctl_doc_shows() {
    let doc = Test::new().args(["doc", "create_users"]).run().expect_status(0);
    assert!(doc.stdout.starts_with("hub.create_users("), "{doc}");
    Test::new()
        .arg("repl")
        .stdin(":doc create_users\n")
        .run()
        .expect_stdout(&doc.stdout)
        .expect_stderr("")
        .expect_status(0);
    Test::new()
        .arg("repl")
        .stdin(":doc create_user\n")
        .run()
        .expect_stdout("")
        .expect_stderr(
            "\
error: no primitive called `create_user`
did you mean: hub.create_users, hub.user
`:doc` lists them all
",
        )
        .expect_status(2);
}

#[test]
fn commands_json_vars_load_and_history() {
    let test =
        Test::new().arg("repl").file("lib.rhai", "fn greet(who) { `hello ${who}` }\nlet loaded = true;\n").stdin(
            "\
const LIMIT = 3;
let rows = [#{name: \"ann\", admin: true}];
:json
rows
:json
rows
:load lib.rhai
greet(\"bob\")
:vars
:history
:nope
:quit
print(\"not reached\");
",
        );
    test.run()
        .expect_stdout(
            "\
[
  {
    \"admin\": true,
    \"name\": \"ann\"
  }
]
admin  name
-----  ----
true   ann
hello bob
LIMIT   const i64  3
rows    array      1 items
loaded  bool       true
   1  const LIMIT = 3;
   2  let rows = [#{name: \"ann\", admin: true}];
   3  :json
   4  rows
   5  :json
   6  rows
   7  :load lib.rhai
   8  greet(\"bob\")
   9  :vars
  10  :history
",
        )
        .expect_stderr(
            "\
values show as JSON
values show as text
error: unknown command `:nope`; `:help` lists the commands
",
        )
        .expect_status(2);
}

#[test]
fn save_writes_a_script_that_jhctl_run_replays() {
    let hub = TestHub::start();
    let session = Test::new().hub(&hub).arg("repl").stdin(
        "\
let who = \"dora\";
hub.nope(who)
let results = hub.create_users([who]);
for r in results {
    print(`${r.name}: ${r.status}`);
}
:save replay.rhai
",
    );
    session
        .run()
        .expect_stdout("dora: created\n")
        .expect_stderr(
            "\
error: Function not found: nope (Hub, &str | ImmutableString | String) (line 2, position 5)
  --> <stdin>:2:5
  |
2 | hub.nope(who)
  |     ^
saved 3 inputs to `replay.rhai`
",
        )
        .expect_status(1);
    let script = fs::read_to_string(session.dir().join("replay.rhai")).unwrap();
    assert_eq!(
        script,
        "\
//! Saved from `jhctl repl`.

let who = \"dora\";
let results = hub.create_users([who]);
for r in results {
    print(`${r.name}: ${r.status}`);
}
"
    );

    let (status, reply) = hub.api("DELETE", "/hub/api/users/dora", None);
    assert_eq!(status, 204, "{reply}");
    assert_eq!(hub.user("dora"), None);
    Test::new()
        .hub(&hub)
        .file("replay.rhai", script)
        .args(["run", "replay.rhai"])
        .run()
        .expect_stdout("dora: created\n")
        .expect_stderr("")
        .expect_status(0);
    assert!(hub.user("dora").is_some());
}

/// `jhctl repl` in a fresh pseudo-terminal, with `test`'s home and work dir.
fn terminal(test: &Test, url: &str, token: &str) -> PtySession {
    let home = test.home();
    let mut command = Command::new(env!("CARGO_BIN_EXE_jhctl"));
    command
        .arg("repl")
        .current_dir(test.dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("KUBECONFIG", home.join(".kube/no-such-config"))
        .env("JUPYTERHUB_URL", url)
        .env("JUPYTERHUB_TOKEN", token);
    let options = Options::new().timeout_ms(Some(20_000)).strip_ansi_escape_codes(true);
    let mut pty = spawn_with_options(command, options).expect("cannot run jhctl repl in a pty");
    pty.exp_string("jhctl> ").expect("no prompt");
    pty
}

/// Types `text` (flushed, so that it arrives now).
fn keys(pty: &mut PtySession, text: &str) {
    pty.send(text).expect("cannot write to the pty");
    pty.flush().expect("cannot write to the pty");
}

fn ends_with_status(mut pty: PtySession, status: i32) {
    pty.exp_eof().expect("jhctl repl did not end");
    match pty.process_mut().wait().expect("cannot wait for jhctl") {
        WaitStatus::Exited(_, code) => assert_eq!(code, status),
        other => panic!("jhctl repl ended with {other:?}"),
    }
}

#[test]
fn terminal_completes_with_tab_and_keeps_history_across_sessions() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "albert"], false);
    let test = Test::new();

    let mut pty = terminal(&test, hub.url(), hub.token());
    // An ambiguous prefix completes what they share and lists them.
    keys(&mut pty, "hub.cr\t");
    pty.exp_string("create_group  create_users").unwrap();
    keys(&mut pty, "u\t");
    pty.exp_string("jhctl> hub.create_users").unwrap();
    keys(&mut pty, "([\"dora\"])\r");
    pty.exp_string("dora  created").unwrap();
    // Usernames inside a hub call come from the hub (dora is new).
    keys(&mut pty, "hub.user(\"d\t");
    pty.exp_string("jhctl> hub.user(\"dora\"").unwrap();
    keys(&mut pty, ").name\r");
    pty.exp_string("\r\ndora\r\n").unwrap();
    keys(&mut pty, "let marker = 42\r");
    pty.exp_string("jhctl> ").unwrap();
    // A multi-line input, with a continuation prompt.
    keys(&mut pty, "for i in 0..2 {\r");
    pty.exp_string("  ...> ").unwrap();
    keys(&mut pty, "print(`i=${i}`)\r}\r");
    pty.exp_string("i=0\r\ni=1\r\n").unwrap();
    pty.send_control('d').unwrap();
    ends_with_status(pty, 0);

    let history = test.home().join(".local/state/jhctl/history");
    let saved = fs::read_to_string(&history).unwrap();
    assert!(saved.contains("let marker = 42\n"), "{saved}");

    let mut pty = terminal(&test, hub.url(), hub.token());
    // Up recalls the last input of the first session, Ctrl-R searches.
    keys(&mut pty, "\x1b[A");
    pty.exp_string("jhctl> for i in 0..2 {").unwrap();
    pty.send_control('c').unwrap();
    pty.exp_string("jhctl> ").unwrap();
    pty.send_control('r').unwrap();
    keys(&mut pty, "marker");
    pty.exp_string("(reverse-i-search)`marker': let marker = 42").unwrap();
    keys(&mut pty, "\r");
    pty.exp_string("jhctl> ").unwrap();
    keys(&mut pty, "marker + 1\r");
    pty.exp_string("43").unwrap();
    pty.send_control('d').unwrap();
    ends_with_status(pty, 0);
}

#[test]
fn terminal_ctrl_c_stops_the_running_input_not_the_session() {
    // Takes connections but never answers: a hub call that hangs.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let test = Test::new();
    let mut pty = terminal(&test, &url, "not-a-real-token");

    // Once it prints, the line editor has given the terminal back, and `n`
    // is already 1 however late the process runs after printing.
    keys(&mut pty, "let n = 0; loop { n += 1; if n == 1 { print(\"looping\"); } }\r");
    pty.exp_string("looping\r\n").unwrap();
    pty.send_control('c').unwrap();
    pty.exp_string("interrupted\r\n").unwrap();
    pty.exp_string("jhctl> ").unwrap();

    keys(&mut pty, "print(\"calling\"); let users = hub.users();\r");
    pty.exp_string("calling\r\n").unwrap();
    thread::sleep(Duration::from_millis(300));
    pty.send_control('c').unwrap();
    pty.exp_string("interrupted\r\n").unwrap();
    pty.exp_string("jhctl> ").unwrap();

    // Ctrl-C at a continuation prompt drops the unfinished input.
    keys(&mut pty, "let open = [1,\r");
    pty.exp_string("  ...> ").unwrap();
    pty.send_control('c').unwrap();
    pty.exp_string("jhctl> ").unwrap();
    keys(&mut pty, "open\r");
    pty.exp_string("error: Variable not found: open").unwrap();

    keys(&mut pty, "n > 0\r");
    pty.exp_string("true").unwrap();
    keys(&mut pty, "exit(4)\r");
    ends_with_status(pty, 4);
    drop(silent);
}

// Issue #27: `:save` wrote inputs without `;`, and `jhctl run` of the
// saved session failed with "Expecting ';'".
#[test]
fn save_ends_each_statement_so_the_session_runs_again() {
    let hub = TestHub::start();
    let session = Test::new().hub(&hub).arg("repl").stdin(
        "\
let who = \"erin\"
let made = hub.create_users([who])
made[0].status // what the hub said
:save session.rhai
",
    );
    session.run().expect_stdout("created\n").expect_status(0);
    let script = fs::read_to_string(session.dir().join("session.rhai")).unwrap();
    assert_eq!(
        script,
        "//! Saved from `jhctl repl`.\n\nlet who = \"erin\";\nlet made = hub.create_users([who]);\n\
         made[0].status // what the hub said\n;\n"
    );
    let (status, reply) = hub.api("DELETE", "/hub/api/users/erin", None);
    assert_eq!(status, 204, "{reply}");
    Test::new()
        .hub(&hub)
        .file("session.rhai", script)
        .args(["run", "session.rhai"])
        .run()
        .expect_stderr("")
        .expect_status(0);
    assert!(hub.user("erin").is_some());
}

// Issue #27: Tab completed `hub.add_to` to `hub.add_to_group(`, and the
// `(` typed next made two.
#[test]
fn terminal_completion_then_a_typed_paren_makes_one_call() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);
    let test = Test::new();
    let mut pty = terminal(&test, hub.url(), hub.token());
    keys(&mut pty, "hub.add_to\t");
    pty.exp_string("jhctl> hub.add_to_group").unwrap();
    keys(&mut pty, "(\"lab2\", [\"ann\"])\r");
    pty.exp_string("ann   updated").unwrap();
    pty.send_control('d').unwrap();
    ends_with_status(pty, 0);
    let groups = hub.groups();
    assert_eq!(groups[0]["name"], "lab2");
    assert_eq!(groups[0]["users"], serde_json::json!(["ann"]));
}
