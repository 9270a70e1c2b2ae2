//! The test hub itself: JupyterHub (6.1.1, or `JHCTL_TEST_HUB`) answers, users, groups and servers
//! work through its REST API, and our admin API behaves as docs/hub-api.md says
//! and stores what the tests read back. Through HTTP, not jhctl.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::support::hub::TestHub;

#[test]
fn hub_answers_with_its_version_users_and_groups() {
    let hub = TestHub::start();
    assert_eq!(hub.api("GET", "/hub/api/", None), (200, json!({"version": hub.version()})));
    // The token belongs to a service, so a fresh hub has no users.
    assert_eq!(hub.usernames(), Vec::<String>::new());

    // More than one page (the hub's page limit is 200).
    let names: Vec<String> = (0..250).map(|i| format!("student{i:03}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    hub.create_users(&names, false);
    hub.create_users(&["Teacher"], true);
    let mut listed = hub.usernames();
    listed.sort();
    assert_eq!(listed.len(), 251);
    assert_eq!(listed[0], "student000");
    assert_eq!(listed[250], "teacher");
    assert_eq!(hub.user("teacher").unwrap()["admin"], json!(true));
    assert_eq!(hub.user("nobody"), None);

    hub.create_group("class-a", &["student000", "teacher"]);
    let groups = hub.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["name"], "class-a");
    assert_eq!(groups[0]["users"], json!(["student000", "teacher"]));
    // One unknown member fails the whole request.
    let reply = hub.api("POST", "/hub/api/groups/class-a/users", Some(json!({"users": ["student001", "nobody"]})));
    assert_eq!(reply, (400, json!({"status": 400, "message": "No such user: nobody"})));
    assert_eq!(hub.groups()[0]["users"], json!(["student000", "teacher"]));
}

#[test]
fn admin_api_stores_bcrypt_hashes_and_the_force_flag() {
    let hub = TestHub::start();
    let set = |body: Value| hub.api("POST", "/hub/admin/api/set-password", Some(body));

    assert_eq!(
        set(json!({"username": "ann", "password": "correct horse"})),
        (200, json!({"message": "Password set for ann (force change on next login)"}))
    );
    assert_eq!(
        set(json!({"username": "Bob", "password": "s3cret!x", "force_change": false})),
        (200, json!({"message": "Password set for Bob"}))
    );
    let (status, reply) = set(json!({"username": "ann", "password": "short"}));
    assert_eq!(status, 400);
    assert!(reply["error"].as_str().unwrap().contains("too short"), "{reply}");
    assert_eq!(set(json!({"username": "github:ann", "password": "long enough"})).0, 400);
    assert_eq!(set(json!({"username": "ann"})).0, 400);

    let check = "import bcrypt, sqlite3, sys\n\
                 row = sqlite3.connect(sys.argv[1]).execute(\n\
                     'SELECT password_hash, force_change FROM auth_user_passwords WHERE username = ?', (sys.argv[2],)\n\
                 ).fetchone()\n\
                 print(bcrypt.checkpw(sys.argv[3].encode(), bytes(row[0])), row[1])";
    let store = hub.store();
    let store = store.to_str().unwrap();
    assert_eq!(hub.run_python(check, &[store, "ann", "correct horse"]), "True 1");
    assert_eq!(hub.run_python(check, &[store, "ann", "wrong horse"]), "False 1");
    // Stored as sent, not lower-cased.
    assert_eq!(hub.run_python(check, &[store, "Bob", "s3cret!x"]), "True 0");

    let (status, reply) = hub.api("GET", "/hub/admin/api/generate-password", None);
    assert_eq!(status, 200);
    let password = reply["password"].as_str().unwrap();
    assert_eq!(password.len(), 16);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric() && !"lIO0".contains(c)));

    // A user's own token is not an admin's.
    hub.create_users(&["ann"], false);
    let (_, token) = hub.api("POST", "/hub/api/users/ann/tokens", Some(json!({})));
    jhctl::hub::install_crypto();
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/hub/admin/api/set-password", hub.url()))
        .header("Authorization", format!("token {}", token["token"].as_str().unwrap()))
        .json(&json!({"username": "ann", "password": "new password"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.json::<Value>().unwrap(), json!({"error": "Admin access required"}));
}

#[test]
fn admin_api_keeps_quota_balances() {
    let hub = TestHub::start();
    let change = |name: &str, body: Value| hub.api("POST", &format!("/hub/admin/api/quota/{name}"), Some(body));

    assert_eq!(
        change("Ann", json!({"action": "set", "amount": 100})),
        (200, json!({"username": "Ann", "balance": 100, "action": "set", "amount": 100}))
    );
    assert_eq!(change("ann", json!({"action": "add", "amount": 50})).1["balance"], 150);
    assert_eq!(
        change("ann", json!({"action": "deduct", "amount": 151})),
        (400, json!({"error": "Insufficient balance"}))
    );
    assert_eq!(change("ann", json!({"action": "deduct", "amount": 30})).1["balance"], 120);
    let (status, reply) = change("ann", json!({"action": "set", "amount": 10_000_001}));
    assert_eq!(status, 400);
    assert_eq!(reply["error"], "Validation failed");
    assert_eq!(reply["details"][0]["field"], "amount");

    let batch = json!({"users": [{"username": "bob", "amount": 5}, {"username": "cy", "amount": 7}]});
    assert_eq!(
        hub.api("POST", "/hub/admin/api/quota/batch", Some(batch)),
        (
            200,
            json!({"success": 2, "failed": 0, "details": [
                {"username": "bob", "status": "success", "balance": 5},
                {"username": "cy", "status": "success", "balance": 7},
            ]})
        )
    );
    let bad = json!({"users": [{"username": "no spaces", "amount": 5}]});
    assert_eq!(hub.api("POST", "/hub/admin/api/quota/batch", Some(bad)).0, 400);

    let (status, list) = hub.api("GET", "/hub/admin/api/quota", None);
    assert_eq!(status, 200);
    let balances: Vec<(&str, i64)> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| (user["username"].as_str().unwrap(), user["balance"].as_i64().unwrap()))
        .collect();
    assert_eq!(balances, [("ann", 120), ("bob", 5), ("cy", 7)]);

    let (_, ann) = hub.api("GET", "/hub/admin/api/quota/ann", None);
    assert_eq!(ann["balance"], 120);
    assert_eq!(ann["unlimited"], false);
    let kinds: Vec<&str> = ann["recent_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transaction_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["usage", "add", "set"]);

    let refresh = json!({"action": "add", "amount": 10, "targets": {"balanceBelow": 100}});
    assert_eq!(
        hub.api("POST", "/hub/admin/api/quota/refresh", Some(refresh)),
        (200, json!({"users_updated": 2, "total_change": 20, "skipped": 1, "action": "add", "rule_name": "manual"}))
    );
}

#[test]
fn servers_start_and_stop_through_the_rest_api() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);

    let (status, reply) = hub.api("POST", "/hub/api/users/ann/server", None);
    assert!(status == 201 || status == 202, "start answered {status}: {reply}");
    wait_for(&hub, "ann's server to be ready", |user| user["servers"][""]["ready"] == true);
    assert_eq!(hub.user("ann").unwrap()["server"], "/user/ann/");

    let (status, reply) = hub.api("DELETE", "/hub/api/users/ann/server", None);
    assert!(status == 204 || status == 202, "stop answered {status}: {reply}");
    wait_for(&hub, "ann's server to stop", |user| user["server"].is_null());
}

fn wait_for(hub: &TestHub, what: &str, done: impl Fn(&Value) -> bool) {
    let started = Instant::now();
    loop {
        let user = hub.user("ann").expect("ann exists");
        if done(&user) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting for {what}: {user}");
        thread::sleep(Duration::from_millis(100));
    }
}
