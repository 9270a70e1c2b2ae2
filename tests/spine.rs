//! Issue 2: the command line, the Rhai host and the hub primitives, run
//! through the real binary against a real hub.

use serde_json::Value;

use crate::support::hub::TestHub;
use crate::support::test::Test;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn users_follows_every_page() {
    let hub = TestHub::start();
    let names: Vec<String> = (0..450).map(|i| format!("user{i:03}")).collect();
    hub.create_users(&names.iter().map(String::as_str).collect::<Vec<_>>(), false);
    Test::new().hub(&hub).args(["eval", "hub.users().len()"]).run().expect_status(0).expect_stdout("450\n");
}

#[test]
fn create_users_validates_names_before_sending() {
    let hub = TestHub::start();
    let code = r#"to_json(hub.create_users(["a1", "B2", "bad/name"], #{admin: false}))"#;
    let out = Test::new().hub(&hub).args(["eval", code]).run().expect_status(0);
    let results = json(&out.stdout);
    assert_eq!(results[0]["name"], "a1");
    assert_eq!(results[0]["status"], "created");
    assert_eq!(results[1]["name"], "b2");
    assert_eq!(results[1]["status"], "created");
    assert_eq!(results[2]["name"], "bad/name");
    assert_eq!(results[2]["status"], "failed");
    assert!(results[2]["error"].as_str().unwrap().contains("contains `/`"), "{out}");
    assert_eq!(hub.usernames(), ["a1", "b2"]);
    assert!(!hub.log().contains("bad"), "a request named bad/name:\n{}", hub.log());

    let again = json(&Test::new().hub(&hub).args(["eval", code]).run().expect_status(0).stdout);
    assert_eq!(again[0]["status"], "exists");
    assert_eq!(again[1]["status"], "exists");
    assert_eq!(again[2]["status"], "failed");
}

const GREET: &str = r#"
let a = cli(#{
    name: "greet", about: "Greets people",
    epilog: "Examples:\n  jhctl greet.rhai hello bob",
    flags: [ #{ name: "dry-run", help: "change nothing" } ],
    commands: #{
        hello: #{ about: "Say hello",
                  args: [ #{ name: "who", help: "whom to greet", required: true } ],
                  flags: [ #{ name: "loud", short: "l", help: "shout" },
                           #{ name: "times", short: "t", kind: "int", "default": 1 } ] } } });
for i in 0..a.times {
    print(if a.loud { `HELLO ${a.who.to_upper()}` } else { `hello ${a.who}` });
}
print(`command=${a.command} dry_run=${a.dry_run}`);
"#;

#[test]
fn script_declares_its_command_line() {
    let greet = |args: &[&str]| Test::new().file("greet.rhai", GREET).args(args).run();
    let help = greet(&["greet.rhai", "hello", "--help"]).expect_status(0);
    assert!(help.stdout.contains("Say hello"), "{help}");
    assert!(help.stdout.contains("<WHO>"), "{help}");
    assert!(help.stdout.contains("-l, --loud"), "{help}");
    assert!(help.stdout.contains("--dry-run"), "{help}");
    let top = greet(&["greet.rhai", "--help"]).expect_status(0);
    assert!(top.stdout.contains("Greets people") && top.stdout.contains("jhctl greet.rhai hello bob"), "{top}");

    let bad = greet(&["greet.rhai", "hello", "bob", "--shout"]).expect_status(2);
    assert!(bad.stderr.contains("unexpected argument '--shout'"), "{bad}");
    assert!(bad.stdout.is_empty());

    greet(&["greet.rhai", "hello", "bob", "-l", "--times", "2", "--dry-run"])
        .expect_status(0)
        .expect_stdout("HELLO BOB\nHELLO BOB\ncommand=hello dry_run=true\n");
    greet(&["run", "greet.rhai", "hello", "ann"])
        .expect_status(0)
        .expect_stdout("hello ann\ncommand=hello dry_run=false\n");
}

/// A script whose commands are given as functions: each prints that it
/// ran, and `bye`'s imports a module (`farewell.rhai`) that prints too.
const LAZY: &str = r#"
let a = cli(#{
    name: "tool", about: "Two commands",
    flags: [ #{ name: "tag", short: "t", kind: "string" }, #{ name: "json" } ],
    commands: #{
        hello: || { eprint("spec of hello"); #{ about: "Say hello", args: [#{ name: "who", required: true }] } },
        bye: || { import "farewell" as farewell; #{ about: "Say bye", flags: farewell::flags() } },
        broken: || "not a map",
    } });
print(`command=${a.command} tag=${a.tag} who=${a.who} soon=${a.soon}`);
"#;

#[test]
fn a_command_given_as_a_function_is_called_only_when_chosen() {
    let tool_with = |script: &str, args: &[&str]| {
        Test::new()
            .file("tool.rhai", script)
            .file("farewell.rhai", "eprint(\"farewell imported\");\nfn flags() { [#{ name: \"soon\" }] }")
            .args(args)
            .run()
    };
    let tool = |args: &[&str]| tool_with(LAZY, args);
    // The tag's value is another command's name: it is read as the value.
    let hello = tool(&["tool.rhai", "-t", "bye", "hello", "bob", "--json"]).expect_status(0);
    assert_eq!(hello.stdout, "command=hello tag=bye who=bob soon=\n", "{hello}");
    assert_eq!(hello.stderr, "spec of hello\n", "only hello's spec runs: {hello}");

    let bye = tool(&["tool.rhai", "--tag", "hello", "bye", "--soon"]).expect_status(0);
    assert_eq!(bye.stdout, "command=bye tag=hello who= soon=true\n", "{bye}");
    assert_eq!(bye.stderr, "farewell imported\n", "{bye}");

    let help = tool(&["tool.rhai", "bye", "--help"]).expect_status(0);
    assert!(help.stdout.contains("Say bye") && help.stdout.contains("--soon"), "{help}");

    // The top-level help, and a command clap must suggest for, read them all.
    let sound = LAZY.replace("        broken: || \"not a map\",\n", "");
    let top = tool_with(&sound, &["tool.rhai", "--help"]).expect_status(0);
    assert!(top.stdout.contains("Say hello") && top.stdout.contains("Say bye"), "{top}");
    assert!(top.stderr.contains("spec of hello") && top.stderr.contains("farewell imported"), "{top}");
    let broken = tool(&["tool.rhai", "--help"]).expect_status(2);
    assert!(broken.stderr.contains("command `broken` must return a map"), "{broken}");
    let typo = tool(&["tool.rhai", "helo"]).expect_status(2);
    assert!(typo.stderr.contains("command `broken` must return a map"), "{typo}");
}

#[test]
fn roster_write_puts_a_key_under_another_header() {
    let code = r#"
        let users = [#{ name: "ann", admin: true, groups: ["a", "b"] }, #{ name: "bob", admin: false, groups: [] }];
        roster::write("out.csv", users, [["username", "name"], "admin", "groups"]);
        let back = roster::read("out.csv");
        `${back[0].username} ${back[0].admin} ${back[0].groups} ${back[1].username}`
    "#;
    let test = Test::new().args(["eval", code]);
    test.run().expect_status(0).expect_stdout("ann true [\"a\", \"b\"] bob\n");
    let text = std::fs::read_to_string(test.dir().join("out.csv")).unwrap();
    assert!(text.starts_with("username,admin,groups\n"), "{text}");

    let bad = Test::new()
        .args(["eval", r#"roster::write("out.csv", [#{ name: "ann" }], [["username", "name", "x"]])"#])
        .run()
        .expect_status(2);
    assert!(bad.stderr.contains("must be a key or [header, key]"), "{bad}");
}

#[test]
fn script_errors_show_the_place() {
    let out =
        Test::new().file("oops.rhai", "let x = 1;\nlet y = x + nope;\n").args(["oops.rhai"]).run().expect_status(1);
    assert!(out.stderr.contains("oops.rhai:2:13"), "{out}");
    assert!(out.stderr.contains("let y = x + nope;"), "{out}");
    assert!(out.stderr.contains("^"), "{out}");
}

#[test]
fn imports_resolve_stdlib_and_neighbours() {
    let out = Test::new()
        .file("lib/helpers.rhai", "fn twice(x) { x * 2 }")
        .file(
            "lib/main.rhai",
            "import \"helpers\" as h;\nimport \"report\" as report;\nprint(h::twice(21));\nprint(report::flag(true));",
        )
        .args(["run", "lib/main.rhai"])
        .run()
        .expect_status(0);
    assert_eq!(out.stdout, "42\nTrue\n");
}

#[test]
fn doc_lists_every_primitive() {
    let out = Test::new().args(["doc"]).run().expect_status(0);
    for name in [
        "hub.users()",
        "hub.create_users(list: Array, options: Map)",
        "hub.delete_users(",
        "hub.set_admin(",
        "hub.rename_user(",
        "hub.start_servers(",
        "hub.stop_servers(",
        "hub.groups()",
        "hub.add_to_group(",
        "hub.set_passwords(",
        "hub.quotas()",
        "roster::read(",
        "roster::write(",
        "cluster::secret(",
        "cluster::exec(",
        "password()",
        "token_hex()",
        "confirm(",
        "table(",
        "cli(",
    ] {
        assert!(out.stdout.contains(name), "`{name}` missing from jhctl doc:\n{}", out.stdout);
    }
    for line in out.stdout.lines() {
        let (signature, summary) = line.split_once("  ").unwrap_or((line, ""));
        assert!(!summary.trim().is_empty(), "no description for `{signature}`");
    }
    let one = Test::new().args(["doc", "create_users"]).run().expect_status(0);
    assert!(one.stdout.starts_with("hub.create_users(list: Array) -> Array\n"), "{one}");
    assert!(one.stdout.contains("Admins and\n    non-admins go in separate batch requests"), "{one}");
    assert!(one.stdout.contains("hub.create_users([\"alice\", \"bob\"])"), "{one}");
    let none = Test::new().args(["doc", "create_user"]).run().expect_status(2);
    assert!(none.stderr.contains("did you mean"), "{none}");
}

#[test]
fn servers_rename_and_groups() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben", "cat"], false);
    let start = Test::new()
        .hub(&hub)
        .args(["eval", r#"to_json(hub.start_servers(["ann", "ben", "nobody"]))"#])
        .run()
        .expect_status(0);
    let started = json(&start.stdout);
    assert_eq!(started[0]["status"], "started", "{start}");
    assert_eq!(started[1]["status"], "started", "{start}");
    assert_eq!(started[2]["status"], "not_found", "{start}");
    assert!(hub.user("ann").unwrap()["server"].is_string(), "ann's server is not running");
    assert!(hub.user("ben").unwrap()["server"].is_string());

    let stop = Test::new().hub(&hub).args(["eval", r#"to_json(hub.stop_servers(["ann"]))"#]).run().expect_status(0);
    assert_eq!(json(&stop.stdout)[0]["status"], "stopped", "{stop}");
    assert!(hub.user("ann").unwrap()["server"].is_null());
    assert!(hub.user("ben").unwrap()["server"].is_string());

    let rename =
        Test::new().hub(&hub).args(["eval", r#"to_json(hub.rename_user("cat", "Dan"))"#]).run().expect_status(0);
    assert_eq!(json(&rename.stdout)["status"], "updated", "{rename}");
    assert!(hub.user("cat").is_none());
    assert!(hub.user("dan").is_some());
    let clash =
        Test::new().hub(&hub).args(["eval", r#"to_json(hub.rename_user("dan", "ann"))"#]).run().expect_status(0);
    assert!(json(&clash.stdout)["error"].as_str().unwrap().contains("already exists"), "{clash}");

    let code = r#"hub.create_group("lab 3"); to_json(hub.add_to_group("lab 3", ["ann", "dan", "ghost"]))"#;
    let add = Test::new().hub(&hub).args(["eval", code]).run().expect_status(0);
    let added = json(&add.stdout);
    assert_eq!(added[0]["status"], "updated", "{add}");
    assert_eq!(added[1]["status"], "updated", "{add}");
    assert_eq!(added[2]["status"], "not_found", "{add}");
    let groups = hub.groups();
    let lab = groups.iter().find(|g| g["name"] == "lab 3").expect("group lab 3 exists");
    let mut members: Vec<&str> = lab["users"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    members.sort();
    assert_eq!(members, ["ann", "dan"]);
}

#[test]
fn a_stopped_hub_is_a_clear_error() {
    let hub = TestHub::start();
    let (url, token) = (hub.url().to_string(), hub.token().to_string());
    drop(hub);
    let out = Test::new()
        .env("JUPYTERHUB_URL", &url)
        .env("JUPYTERHUB_TOKEN", &token)
        .args(["eval", "hub.users().len()"])
        .run()
        .expect_status(1);
    assert!(out.stderr.starts_with(&format!("error: cannot connect to the hub at {url}")), "{out}");
    assert!(!out.stderr.contains("panicked") && !out.stderr.contains("backtrace"), "{out}");
    assert!(!out.stderr.contains(&token) && !out.stdout.contains(&token), "the token was printed");
}

#[test]
fn a_missing_token_names_every_source() {
    let out = Test::new().args(["eval", "hub.users()"]).run().expect_status(2);
    assert!(out.stderr.contains("--token"), "{out}");
    assert!(out.stderr.contains("JUPYTERHUB_TOKEN"), "{out}");
    assert!(out.stderr.contains("jupyterhub-admin-credentials"), "{out}");
}

#[test]
fn the_token_never_shows_in_verbose_errors() {
    let hub = TestHub::start();
    let out = Test::new()
        .env("JUPYTERHUB_URL", hub.url())
        .env("JUPYTERHUB_TOKEN", "not-the-right-token-123")
        .args(["-v", "eval", "hub.users()"])
        .run()
        .expect_status(1);
    assert!(out.stderr.contains("refused the token (403)"), "{out}");
    assert!(out.stderr.contains("→ GET /hub/api/users 403"), "-v logs each request: {out}");
    assert!(!out.stderr.contains("not-the-right-token-123"), "{out}");
    let ok = Test::new().hub(&hub).args(["-v", "eval", "hub.users().len()"]).run().expect_status(0);
    assert!(ok.stderr.contains("→ GET /hub/api/users 200"), "{ok}");
    assert!(!ok.stderr.contains(hub.token()) && !ok.stdout.contains(hub.token()), "{ok}");
}

#[test]
fn bundled_scripts_are_listed_and_completions_print() {
    let out = Test::new().args(["scripts"]).run().expect_status(0);
    for name in ["generate-users-template", "manage-users", "credentials"] {
        assert!(out.stdout.contains(name), "{out}");
    }
    let bash = Test::new().args(["completions", "bash"]).run().expect_status(0);
    assert!(bash.stdout.contains("_jhctl"), "{bash}");
    let unknown = Test::new().args(["manage-user"]).run().expect_status(2);
    assert!(unknown.stderr.contains("did you mean: manage-users"), "{unknown}");
}
