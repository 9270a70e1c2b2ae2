//! Issue 11, defect 4: listings on a hub that serves 50 users a page
//! (`api_page_max_limit = 50`) see every user, and a listing that comes
//! back short or changes between pages fails instead of handing a short
//! list over as complete.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::support::fault_proxy::{Fault, FaultProxy, Rule};
use crate::support::hub::TestHub;
use crate::support::page_proxy::{PageProxy, PageRewrite};
use crate::support::test::{run_in, Output, Test};

fn jhctl(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> Output {
    run_in(hub, files, args).0
}

fn names(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("p{i:03}")).collect()
}

/// A hub serving `page` users a page, holding `count` users `p000`, `p001`, ...
fn hub_with_users(page: usize, count: usize) -> (TestHub, Vec<String>) {
    let hub = TestHub::builder().page_max(page).start();
    let names = names(count);
    hub.create_users(&names.iter().map(String::as_str).collect::<Vec<_>>(), false);
    // The hub really serves `page` users a page, whatever is asked for.
    let (status, first) = hub.api("GET", "/hub/api/users?limit=200", None);
    assert_eq!(status, 200, "{first}");
    assert_eq!(first.as_array().map(Vec::len), Some(page), "the test hub ignores its page limit");
    (hub, names)
}

fn roster(names: &[String]) -> String {
    let rows: String = names.iter().map(|n| format!("{n}\n")).collect();
    format!("username\n{rows}")
}

#[test]
fn a_50_a_page_hub_is_listed_exported_and_synced_whole() {
    let (hub, names) = hub_with_users(50, 303);

    let list = jhctl(&hub, &[], &["manage-users", "list"]).expect_status(0);
    assert!(list.stdout.contains("📋 Total users: 303\n"), "{list}");
    for name in &names {
        assert!(list.stdout.contains(&format!("\n{name} ")), "`{name}` is missing from the list\n{list}");
    }

    let export = Test::new().hub(&hub).args(["manage-users", "export", "all.csv"]);
    let out = export.run().expect_status(0);
    assert!(out.stdout.ends_with("✅ Saved 303 users to all.csv\n"), "{out}");
    let csv = std::fs::read_to_string(export.dir().join("all.csv")).unwrap();
    let mut exported: Vec<&str> = csv.lines().skip(1).map(|line| line.split(',').next().unwrap()).collect();
    exported.sort();
    assert_eq!(exported, names);

    // Every user is in the roster: nothing to create, nothing to change.
    let whole = roster(&names);
    let plan = jhctl(&hub, &[("class.csv", whole.as_bytes())], &["manage-users", "sync", "class.csv", "--plan"])
        .expect_status(0);
    assert!(plan.stdout.contains("✅ No changes: the hub already matches class.csv\n"), "{plan}");

    // Three users leave, two join: --prune deletes exactly the three.
    let mut wanted: Vec<String> =
        names.iter().filter(|n| !["p000", "p150", "p302"].contains(&n.as_str())).cloned().collect();
    wanted.extend(["p900".to_string(), "p901".to_string()]);
    let file = roster(&wanted);
    let files: &[(&str, &[u8])] = &[("class.csv", file.as_bytes())];
    let sync = jhctl(&hub, files, &["manage-users", "sync", "class.csv", "--prune", "--yes"]).expect_status(0);
    assert!(
        sync.stdout.contains(
            "📋 Plan for class.csv: 2 to create, 0 admin changes, 0 membership changes in 0 groups, 3 to delete\n\n\
             \x20 + create p900\n  + create p901\n  - delete p000\n  - delete p150\n  - delete p302\n"
        ),
        "{sync}"
    );
    wanted.sort();
    assert_eq!(hub.usernames(), wanted);
}

#[test]
fn stop_all_running_stops_every_server_past_the_first_page() {
    // 60 running servers on a hub that lists 50 a page.
    let (hub, names) = hub_with_users(50, 70);
    let running = &names[..60];
    for name in running {
        let (status, body) = hub.api("POST", &format!("/hub/api/users/{name}/server"), None);
        assert!(status == 201 || status == 202, "starting {name}: {status} {body}");
    }
    let ready = |name: &str| hub.user(name).unwrap()["servers"][""]["ready"] == Value::Bool(true);
    let started = Instant::now();
    while !running.iter().all(|n| ready(n)) {
        assert!(started.elapsed() < Duration::from_secs(120), "the mock servers did not start");
        thread::sleep(Duration::from_millis(500));
    }

    let out = jhctl(&hub, &[], &["manage-users", "stop", "--all-running", "--timeout", "60"]).expect_status(0);
    assert!(out.stdout.contains("🔄 Stopping 60 servers...\n"), "{out}");
    assert!(out.stdout.contains("  ✅ Stopped: 60\n"), "{out}");
    let (_, active) = hub.api("GET", "/hub/api/users?state=active", None);
    assert_eq!(active, Value::Array(Vec::new()), "servers still running");
}

#[test]
fn a_short_listing_fails_and_saves_nothing() {
    let (hub, _) = hub_with_users(50, 120);
    // The second page loses 10 users on the way.
    let proxy = PageProxy::start(&hub, PageRewrite::DropItems { offset: 50, count: 10 });
    let export = Test::new().hub(&hub).env("JUPYTERHUB_URL", proxy.url()).args(["manage-users", "export", "all.csv"]);
    let out = export.run().expect_status(1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "❌ Connection error: list users: the hub has 120 but its pages held only 110; \
         the listing is incomplete, so nothing was used; run it again\n"
    );
    assert!(!export.dir().join("all.csv").exists());

    let list = Test::new().hub(&hub).env("JUPYTERHUB_URL", proxy.url()).args(["manage-users", "list"]).run();
    let list = list.expect_status(1);
    assert!(list.stderr.contains("the hub has 120 but its pages held only 110"), "{list}");
    assert!(!list.stdout.contains("Total users"), "{list}");
}

#[test]
fn a_listing_that_changes_between_pages_fails() {
    let (hub, _) = hub_with_users(50, 120);
    // The last page says 125 users: five were created after the first page.
    let proxy = PageProxy::start(&hub, PageRewrite::Total { offset: 100, total: 125 });
    let out = Test::new()
        .hub(&hub)
        .env("JUPYTERHUB_URL", proxy.url())
        .args(["eval", "hub.users().len()"])
        .run()
        .expect_status(1);
    assert_eq!(
        out.stderr,
        "error: list users: the listing changed while it was read (120 at first, then 125); nothing was used; \
         run it again when no one is adding or removing users\n"
    );
}

/// The passwords and quota jobs check names against the hub with a
/// listing: on a hub serving 50 a page, a user on the last page is a user
/// all the same, and a new one created past the first page is `created`.
#[test]
fn passwords_quota_and_create_see_users_past_the_first_page() {
    let (hub, names) = hub_with_users(50, 120);
    let rows: String = names.iter().map(|n| format!("{n},Pw-{n}-x,7\n")).collect();
    let file = format!("username,password,quota\n{rows}");
    let files: [(&str, &[u8]); 1] = [("r.csv", file.as_bytes())];

    let out = jhctl(&hub, &files, &["set-passwords", "r.csv"]).expect_status(0);
    assert!(out.stdout.contains("  ✅ Success: 120\n  ❌ Failed: 0\n"), "{out}");
    assert_eq!(hub.stored_password("p119", "Pw-p119-x"), Some((true, true)));

    let out = jhctl(&hub, &files, &["manage-users", "set-quota", "-f", "r.csv"]).expect_status(0);
    assert!(out.stdout.contains("  ✅ Success: 120\n  ❌ Failed: 0\n"), "{out}");
    let (_, quota) = hub.api("GET", "/hub/admin/api/quota/p119", None);
    assert_eq!(quota["balance"], 7);

    let more: Vec<String> = (100..160).map(|i| format!("p{i:03}")).collect();
    let out =
        jhctl(&hub, &[("c.csv", roster(&more).as_bytes())], &["manage-users", "create", "c.csv"]).expect_status(0);
    assert!(out.stdout.contains("  ✅ Created: 40\n  ⚠️  Already exist: 20\n"), "{out}");
}

/// Issue #26: a gateway that drops the `Accept` header gets a plain list
/// cut at one page (here the hub's 50, below the 200 asked for). Export
/// and list still see every user, never a short file with exit 0.
#[test]
fn a_plain_list_cut_at_one_page_is_read_on() {
    let (hub, names) = hub_with_users(50, 120);
    let proxy = FaultProxy::start(hub.url(), 26, vec![Rule::drop_accept(Some("GET"), "/hub/api/")]);
    let export = Test::new().hub(&hub).env("JUPYTERHUB_URL", proxy.url()).args(["manage-users", "export", "all.csv"]);
    let out = export.run().expect_status(0);
    assert!(out.stdout.ends_with("✅ Saved 120 users to all.csv\n"), "{out}");
    let csv = std::fs::read_to_string(export.dir().join("all.csv")).unwrap();
    let exported: Vec<&str> = csv.lines().skip(1).map(|line| line.split(',').next().unwrap()).collect();
    assert_eq!(exported, names);
    assert!(proxy.count(Fault::DropAccept) >= 3, "the listing kept its Accept header:\n{}", proxy.report());

    let list = Test::new().hub(&hub).env("JUPYTERHUB_URL", proxy.url()).args(["manage-users", "list"]).run();
    let list = list.expect_status(0);
    assert!(list.stdout.contains("📋 Total users: 120\n"), "{list}");
    for name in &names {
        assert!(list.stdout.contains(&format!("\n{name} ")), "`{name}` is missing from the list\n{list}");
    }
}
