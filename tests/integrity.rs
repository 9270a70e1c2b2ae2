//! Issue #11: never the wrong user, never twice, never silently short.
//!
//! Every value travels with its own row whatever fails around it, and a
//! flaky link (the fault proxy) never makes jhctl apply a change twice,
//! lose a user it created, or say `success` for what the hub did not do.

use serde_json::{json, Value};

use crate::support::fault_proxy::{Fault, FaultProxy, Rule};
use crate::support::hub::TestHub;
use crate::support::test::{run_in, Output, Test};

fn balance(hub: &TestHub, name: &str) -> i64 {
    let (status, reply) = hub.api("GET", &format!("/hub/admin/api/quota/{name}"), None);
    assert_eq!(status, 200, "quota of {name}: {reply}");
    reply["balance"].as_i64().expect("a balance")
}

fn set_balances(hub: &TestHub, names: &[String], amount: i64) {
    let users: Vec<Value> = names.iter().map(|n| json!({ "username": n, "amount": amount })).collect();
    let (status, reply) = hub.api("POST", "/hub/admin/api/quota/batch", Some(json!({ "users": users })));
    assert_eq!(status, 200, "{reply}");
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

fn refs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

/// `(name, status)` of each result in a `--json` document.
fn statuses(out: &Output) -> Vec<(String, String)> {
    let results: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"));
    let list = results.as_array().cloned().or_else(|| results["results"].as_array().cloned()).expect("a list");
    list.iter()
        .map(|r| (r["name"].as_str().unwrap_or_default().to_string(), r["status"].as_str().unwrap().to_string()))
        .collect()
}

/// The sheet's `(username, password)` rows.
fn sheet(test: &Test, file: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(test.dir().join(file)).expect("the sheet");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("username,password,force_change"));
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect()
}

// Bad rows before, between and after the good ones.
const PASSWORDS: &str = "username,password\n\
    bad name,PassForBad1\n\
    ma0000,PassForA000\n\
    bad/slash,PassForSlash\n\
    ma0001,PassForA001\n\
    ma0002,PassForA002\n\
    ..,PassForDots\n";

#[test]
fn passwords_column_each_user_gets_its_own_row() {
    let hub = TestHub::start();
    hub.create_users(&["ma0000", "ma0001", "ma0002"], false);
    let (out, _) = run_in(&hub, &[("r.csv", PASSWORDS.as_bytes())], &["set-passwords", "r.csv"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("  ✅ Success: 3\n  ❌ Failed: 3\n"), "{out}");
    for (name, password) in [("ma0000", "PassForA000"), ("ma0001", "PassForA001"), ("ma0002", "PassForA002")] {
        assert_eq!(hub.stored_password(name, password), Some((true, true)), "{name} has not its own password\n{out}");
    }
    assert_eq!(hub.stored_password("ma0000", "PassForBad1"), Some((false, true)));
}

#[test]
fn generated_passwords_on_the_sheet_are_the_hub_s() {
    let hub = TestHub::start();
    hub.create_users(&["ma0000", "ma0001", "ma0002"], false);
    let roster = "username\nbad name\nma0000\nbad/slash\nma0001\nma0002\n..\nnotauser\n";
    let (out, test) =
        run_in(&hub, &[("r.csv", roster.as_bytes())], &["set-passwords", "r.csv", "--generate", "-o", "sheet.csv"]);
    let out = out.expect_status(1);
    assert!(
        out.stdout.contains("❌ Failed to set password for notauser: `notauser` is not a user of this hub"),
        "{out}"
    );
    let rows = sheet(&test, "sheet.csv");
    let on_sheet: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(on_sheet.len(), 3, "{rows:?}");
    for (name, password) in &rows {
        assert_eq!(hub.stored_password(name, password), Some((true, true)), "sheet and hub disagree on {name}");
    }
    assert_eq!(hub.stored_password("notauser", "x"), None, "a stray password for a name that is not a user");
}

#[test]
fn quota_column_and_amount_each_user_gets_its_own_row() {
    let hub = TestHub::start();
    hub.create_users(&["qa0", "qa1", "qa2"], false);
    let roster = "username,quota\nbad name,999\nqa0,10\nbad/x,555\nqa1,20\nqa2,30\n..,777\n";
    let (out, _) = run_in(&hub, &[("q.csv", roster.as_bytes())], &["manage-users", "set-quota", "-f", "q.csv"]);
    out.expect_status(1);
    assert_eq!([balance(&hub, "qa0"), balance(&hub, "qa1"), balance(&hub, "qa2")], [10, 20, 30]);

    let plain = "username\nbad name\nqa0\nbad/x\nqa1\nqa2\nnosuchuser\n";
    let (out, _) =
        run_in(&hub, &[("p.csv", plain.as_bytes())], &["manage-users", "set-quota", "-f", "p.csv", "--amount", "7"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("`nosuchuser` is not a user of this hub"), "{out}");
    assert_eq!([balance(&hub, "qa0"), balance(&hub, "qa1"), balance(&hub, "qa2")], [7, 7, 7]);
    let (_, listing) = hub.api("GET", "/hub/admin/api/quota", None);
    assert!(!listing.to_string().contains("nosuchuser"), "a stray quota record: {listing}");

    let (out, _) = run_in(&hub, &[], &["manage-users", "add-quota", "qa0", "--amount", "-5"]);
    out.expect_status(2);
    assert_eq!(balance(&hub, "qa0"), 7, "a negative add took quota away");
}

#[test]
fn create_with_admin_and_groups_columns_each_user_gets_its_own_row() {
    let hub = TestHub::start();
    let roster = "username,admin,groups\n\
        bad name,true,g1\n\
        ca0,true,g1\n\
        bad/x,false,g2\n\
        ca1,false,g2\n\
        ca2,yes,g1;g2\n\
        .,true,g1\n";
    let (out, _) = run_in(&hub, &[("c.csv", roster.as_bytes())], &["manage-users", "create", "c.csv"]);
    let out = out.expect_status(1);
    assert_eq!(hub.usernames(), ["ca0", "ca1", "ca2"], "{out}");
    let admin = |n: &str| hub.user(n).unwrap()["admin"].as_bool().unwrap();
    assert_eq!([admin("ca0"), admin("ca1"), admin("ca2")], [true, false, true]);
    let groups = hub.groups();
    let members =
        |g: &str| groups.iter().find(|x| x["name"] == g).map(|x| x["users"].clone()).unwrap_or(Value::Null).to_string();
    assert_eq!(members("g1"), r#"["ca0","ca2"]"#);
    assert_eq!(members("g2"), r#"["ca1","ca2"]"#);
}

/// A flaky link on every change the command sends, and on some reads.
fn flaky(hub: &TestHub, seed: u64, changes: &'static str) -> FaultProxy {
    FaultProxy::start(
        hub.url(),
        seed,
        vec![
            Rule::new(Some("POST"), changes, Fault::LoseAfter, 0.3),
            Rule::new(Some("PATCH"), changes, Fault::LoseAfter, 0.3),
            Rule::new(Some("DELETE"), changes, Fault::LoseAfter, 0.3),
            Rule::new(None, changes, Fault::DropBefore, 0.25),
            Rule::new(None, changes, Fault::Busy(503), 0.15),
            Rule::new(Some("GET"), "/hub/", Fault::DropBefore, 0.1),
        ],
    )
}

fn through(proxy: &FaultProxy, hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> (Output, Test) {
    let mut test = Test::new().hub(hub).env("JUPYTERHUB_URL", proxy.url()).args(args);
    for (name, contents) in files {
        test = test.file(name, contents);
    }
    (test.run(), test)
}

#[test]
fn create_with_generated_passwords_through_a_flaky_link() {
    let hub = TestHub::start();
    hub.create_users(&["fl000"], false);
    let users = names("fl", 60);
    let proxy = FaultProxy::start(
        hub.url(),
        11,
        vec![
            // The batch create's answer is always lost the first time.
            Rule::new(Some("POST"), "/hub/api/users", Fault::LoseAfter, 1.0),
            Rule::new(Some("POST"), "/hub/admin/api/set-password", Fault::LoseAfter, 0.3),
            Rule::new(Some("POST"), "/hub/admin/api/set-password", Fault::DropBefore, 0.25),
            Rule::new(Some("POST"), "/hub/admin/api/set-password", Fault::Busy(429), 0.15),
            Rule::new(Some("GET"), "/hub/", Fault::DropBefore, 0.1),
        ],
    );
    let roster = format!("username\n{}\n", users.join("\n"));
    let (out, test) = through(
        &proxy,
        &hub,
        &[("class.csv", roster.as_bytes())],
        &["manage-users", "create", "class.csv", "--generate-passwords", "-o", "sheet.csv"],
    );
    let out = out.expect_status(0);
    assert!(proxy.count(Fault::LoseAfter) > 1 && proxy.count(Fault::DropBefore) > 0, "{}", proxy.report());
    assert!(out.stdout.contains("  ✅ Created: 59\n  ⚠️  Already exist: 1\n  🔑 Passwords set: 59\n"), "{out}");
    assert_eq!(hub.usernames(), users);
    let rows = sheet(&test, "sheet.csv");
    assert_eq!(rows.len(), 59, "every user this run created is on the sheet\n{out}");
    assert!(rows.iter().all(|(n, _)| n != "fl000"), "the user that existed got a new password");
    for (name, password) in &rows {
        assert_eq!(hub.stored_password(name, password), Some((true, true)), "sheet and hub disagree on {name}");
    }
}

#[test]
fn set_admin_delete_and_passwords_through_a_flaky_link() {
    let hub = TestHub::start();
    let users = names("fa", 40);
    hub.create_users(&refs(&users), false);
    let list = format!("username\n{}\n", users.join("\n"));
    let files: [(&str, &[u8]); 1] = [("l.csv", list.as_bytes())];

    let proxy = flaky(&hub, 21, "/hub/api/users/");
    let (out, _) = through(&proxy, &hub, &files, &["manage-users", "set-admin", "-f", "l.csv"]);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("  ✅ Success: 40\n  ❌ Failed: 0\n"), "{out}");
    assert!(users.iter().all(|n| hub.user(n).unwrap()["admin"] == true));
    assert!(proxy.count(Fault::LoseAfter) > 0, "{}", proxy.report());

    let proxy = flaky(&hub, 22, "/hub/admin/api/set-password");
    let passwords: String = users.iter().map(|n| format!("{n},Pw-{n}-x\n")).collect();
    let roster = format!("username,password\n{passwords}");
    let (out, _) = through(&proxy, &hub, &[("p.csv", roster.as_bytes())], &["set-passwords", "p.csv"]);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("  ✅ Success: 40\n"), "{out}");
    assert!(users.iter().all(|n| hub.stored_password(n, &format!("Pw-{n}-x")) == Some((true, true))));

    let proxy = flaky(&hub, 23, "/hub/api/users/");
    let (out, _) = through(&proxy, &hub, &files, &["manage-users", "delete", "l.csv", "--yes", "--max-delete", "40"]);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("  ✅ Deleted: 40\n  ⚠️  Not found: 0\n  ❌ Failed: 0\n"), "{out}");
    assert!(hub.usernames().is_empty());
    assert!(proxy.count(Fault::LoseAfter) > 0 && proxy.count(Fault::DropBefore) > 0, "{}", proxy.report());
}

/// Quota add and deduct move a counter: never applied twice, and an item
/// whose outcome is not known is `unknown` with exit status 1.
#[test]
fn add_and_deduct_quota_through_a_flaky_link_never_twice() {
    let hub = TestHub::start();
    let users = names("fq", 40);
    hub.create_users(&refs(&users), false);
    set_balances(&hub, &users, 50);
    // Setting a balance is safe to repeat: through the flaky link every one is set.
    let proxy = flaky(&hub, 30, "/hub/admin/api/quota");
    let mut command = vec!["manage-users", "set-quota"];
    command.extend(refs(&users));
    command.extend(["--amount", "100"]);
    let (out, _) = through(&proxy, &hub, &[], &command);
    let out = out.expect_status(0);
    assert!(out.stdout.contains("  ✅ Success: 40\n  ❌ Failed: 0\n"), "{out}");
    assert!(users.iter().all(|n| balance(&hub, n) == 100));
    assert!(proxy.count(Fault::LoseAfter) + proxy.count(Fault::DropBefore) > 0, "{}", proxy.report());
    let mut expected: Vec<i64> = vec![100; users.len()];
    for (seed, args, delta) in [(31, ["add-quota", "--amount", "10"], 10), (32, ["deduct-quota", "--amount", "5"], -5)]
    {
        let proxy = flaky(&hub, seed, "/hub/admin/api/quota/");
        let mut command = vec!["manage-users", "--json", args[0]];
        command.extend(refs(&users));
        command.extend(&args[1..]);
        let (out, _) = through(&proxy, &hub, &[], &command);
        let results = statuses(&out);
        assert_eq!(results.len(), users.len(), "{out}");
        let unknown = results.iter().filter(|(_, s)| s == "unknown").count();
        assert_eq!(out.status, if unknown > 0 { 1 } else { 0 }, "{out}");
        assert!(proxy.count(Fault::LoseAfter) > 0 && proxy.count(Fault::DropBefore) > 0, "{}", proxy.report());
        for (i, (name, status)) in results.iter().enumerate() {
            assert_eq!(name, &users[i]);
            let now = balance(&hub, name);
            match status.as_str() {
                "updated" => assert_eq!(now, expected[i] + delta, "{name} is updated but its balance is {now}"),
                // The proxy dropped these before the hub: not done, and not claimed.
                "unknown" => assert_eq!(now, expected[i], "{name}: applied but reported unknown"),
                other => panic!("{name}: unexpected status {other}\n{out}"),
            }
            expected[i] = now;
        }
        assert!(unknown > 0, "the drops before the hub should leave some unknown:\n{}", proxy.report());
        assert!(out.stderr.contains("❓ Outcome unknown for "), "{out}");
    }
}

/// Issue #13: a sheet that would hold nobody is not written, and the run says so.
#[test]
fn no_sheet_when_no_password_was_set() {
    let hub = TestHub::start();
    let roster = "username,password\nnotauser,Password-1\nbad name,Password-2\n";
    let (out, test) = run_in(&hub, &[("r.csv", roster.as_bytes())], &["set-passwords", "r.csv", "-o", "sheet.csv"]);
    let out = out.expect_status(1);
    assert!(out.stdout.contains("⚠️  No password was set: sheet.csv was not written"), "{out}");
    assert!(!out.stdout.contains("📁 Saved passwords"), "{out}");
    assert!(!test.dir().join("sheet.csv").exists(), "an empty password sheet was left behind");
}

/// Issue #26: configurable-http-proxy answers 503 for any failure of the
/// proxied request, also after the hub did the work. Through a proxy that
/// forwards, lets the hub do it, then answers 503 for half the changes,
/// add-quota and deduct-quota apply each change once, and each result says
/// what the hub holds.
#[test]
fn quota_through_a_proxy_that_answers_503_after_the_hub_did_it_never_twice() {
    let hub = TestHub::start();
    let users = names("cq", 40);
    hub.create_users(&refs(&users), false);
    set_balances(&hub, &users, 100);
    let mut expected: Vec<i64> = vec![100; users.len()];
    for (seed, command, delta) in [(41, "add-quota", 10), (42, "deduct-quota", -5)] {
        let proxy = FaultProxy::start(
            hub.url(),
            seed,
            vec![Rule::new(Some("POST"), "/hub/admin/api/quota/", Fault::FailAfter(503), 0.5)],
        );
        let mut args = vec!["manage-users", "--json", command];
        args.extend(refs(&users));
        args.extend(["--amount", if delta > 0 { "10" } else { "5" }]);
        let (out, _) = through(&proxy, &hub, &[], &args);
        assert!(proxy.count(Fault::FailAfter(503)) >= 10, "{}", proxy.report());
        let results = statuses(&out);
        assert_eq!(results.len(), users.len(), "{out}");
        for (i, (name, status)) in results.iter().enumerate() {
            assert_eq!(name, &users[i]);
            let now = balance(&hub, name);
            assert_eq!(
                now,
                expected[i] + delta,
                "{name}: {command} applied {} times\n{out}",
                (now - expected[i]) / delta
            );
            // The hub did each change: the read-back finds it in the quota log.
            assert_eq!(status, "updated", "{name}\n{out}");
            expected[i] = now;
        }
        assert_eq!(out.status, 0, "{out}");
    }
}

/// Issue #26: a token's creation answered 503 after the hub made it. The
/// token's text was only in the lost answer, so jhctl revokes that token
/// (no stray token nobody holds) and says to run again; the run again
/// makes exactly one token, the one printed.
#[test]
fn tokens_create_through_a_503_after_the_hub_made_it_leaves_no_stray_token() {
    let hub = TestHub::start();
    hub.create_users(&["bot"], false);
    let tokens = |hub: &TestHub| {
        let (status, reply) = hub.api("GET", "/hub/api/users/bot/tokens", None);
        assert_eq!(status, 200, "{reply}");
        reply["api_tokens"].as_array().unwrap().clone()
    };
    // Every creation's first attempt is answered 503 after the hub made it.
    let proxy = FaultProxy::start(
        hub.url(),
        43,
        vec![Rule::new(Some("POST"), "/hub/api/users/bot/tokens", Fault::FailAfter(503), 1.0)],
    );
    let args = ["-q", "manage-users", "tokens", "create", "bot", "--note", "grader"];
    let (lost, _) = through(&proxy, &hub, &[], &args);
    let lost = lost.expect_status(1);
    assert_eq!(proxy.count(Fault::FailAfter(503)), 1, "{}", proxy.report());
    assert_eq!(lost.stdout, "", "{lost}");
    assert!(lost.stderr.contains("jhctl revoked that token, so none is left over; run it again"), "{lost}");
    assert_eq!(tokens(&hub), Vec::<Value>::new(), "a stray token is left\n{lost}");

    // The same request again passes the proxy: one token, the one printed.
    let (made, _) = through(&proxy, &hub, &[], &args);
    let made = made.expect_status(0);
    let token = made.stdout.trim_end().to_string();
    assert_eq!(made.stdout, format!("{token}\n"), "{made}");
    let now = tokens(&hub);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0]["note"], "grader");
    let whoami = Test::new()
        .env("JUPYTERHUB_URL", hub.url())
        .env("JUPYTERHUB_TOKEN", &token)
        .args(["eval", "hub.whoami().name"])
        .run();
    assert_eq!(whoami.expect_status(0).stdout, "bot\n");
}
