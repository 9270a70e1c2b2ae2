//! Issue 26, second trust pass: a deleted user's password and credits do
//! not pass to the next user of the name; a user named twice is changed
//! once; a duration needs a unit; `create --password` never leaves users
//! without a password; dry-run summaries say what would happen.

use serde_json::json;

use crate::support::hub::TestHub;
use crate::support::test::{run_in, Output, Test};

fn jhctl(hub: &TestHub, files: &[(&str, &[u8])], args: &[&str]) -> Output {
    let mut all = vec!["manage-users"];
    all.extend_from_slice(args);
    run_in(hub, files, &all).0
}

/// Gives `name` a password and a balance through the hub's admin API, as an admin would.
fn give_password_and_credits(hub: &TestHub, name: &str, password: &str, balance: i64) {
    let body = json!({ "username": name, "password": password, "force_change": false });
    let (status, reply) = hub.api("POST", "/hub/admin/api/set-password", Some(body));
    assert_eq!(status, 200, "{reply}");
    let body = json!({ "action": "set", "amount": balance });
    let (status, reply) = hub.api("POST", &format!("/hub/admin/api/quota/{name}"), Some(body));
    assert_eq!(status, 200, "{reply}");
    assert_eq!(hub.stored_password(name, password), Some((true, false)));
}

/// `name`'s quota record: `(balance, unlimited)`, `None` when it has none.
fn quota_record(hub: &TestHub, name: &str) -> Option<(i64, bool)> {
    let (status, body) = hub.api("GET", "/hub/admin/api/quota", None);
    assert_eq!(status, 200, "{body}");
    let users = body["users"].as_array().expect("a quota listing");
    users
        .iter()
        .find(|q| q["username"] == name)
        .map(|q| (q["balance"].as_i64().expect("a balance"), q["unlimited"] == true))
}

/// Checks that nothing of the old `name` passes to a user created later
/// under that name: the old password no longer matches, the balance is 0.
fn nothing_carries_over(hub: &TestHub, name: &str, old_password: &str) {
    assert!(hub.user(name).is_none(), "`{name}` is deleted");
    let recreated = Test::new().hub(hub).file("again.csv", format!("username\n{name}\n")).args([
        "manage-users",
        "create",
        "again.csv",
    ]);
    let out = recreated.run().expect_status(0);
    assert!(out.stdout.contains(&format!("✅ Created user: {name}")), "{out}");
    match hub.stored_password(name, old_password) {
        None => {}
        Some((matches, force_change)) => {
            assert!(!matches, "the new `{name}` logs in with the old password");
            assert!(force_change, "an unusable password is also forced to change");
        }
    }
    assert_eq!(quota_record(hub, name).map(|q| q.0).unwrap_or(0), 0, "the new `{name}` holds the old balance");
}

// Issue #26: deleting `dl01` (password `OldSecret-1`, 250 credits) and
// creating `dl01` again let the new user log in with the old password and
// hold 250.
#[test]
fn delete_clears_the_password_and_the_balance_before_deleting() {
    let hub = TestHub::start();
    hub.create_users(&["dl01", "dl02", "dl03"], false);
    give_password_and_credits(&hub, "dl01", "OldSecret-1", 250);
    give_password_and_credits(&hub, "dl02", "OldSecret-2", 0);
    let body = json!({ "action": "set_unlimited", "unlimited": true });
    let (status, reply) = hub.api("POST", "/hub/admin/api/quota/dl02", Some(body));
    assert_eq!(status, 200, "{reply}");

    let files: &[(&str, &[u8])] = &[("gone.csv", b"username\ndl01\nDL02\ndl03\nnobody\n")];
    let out = jhctl(&hub, files, &["delete", "gone.csv", "--yes"]).expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: dl01 (password cleared, balance 250 → 0)\n"), "{out}");
    assert!(
        out.stdout.contains("✅ Deleted user: dl02 (password cleared, unlimited quota removed, balance 0 → 0)\n"),
        "{out}"
    );
    assert!(out.stdout.contains("✅ Deleted user: dl03 (password cleared)\n"), "{out}");
    assert!(out.stdout.contains("⚠️  User not found: nobody\n"), "{out}");
    assert_eq!(hub.usernames(), Vec::<String>::new());
    // The double keeps rows after a delete, as the guide's hub does: the rows are still there, now unusable.
    assert_eq!(hub.stored_password("dl01", "OldSecret-1"), Some((false, true)));
    assert_eq!(quota_record(&hub, "dl01"), Some((0, false)));
    assert_eq!(quota_record(&hub, "dl02"), Some((0, false)));
    // A name that was no user gets no password row (a typo would make one).
    assert_eq!(hub.stored_password("nobody", "anything"), None);
    assert_eq!(quota_record(&hub, "nobody"), None);

    nothing_carries_over(&hub, "dl01", "OldSecret-1");
    nothing_carries_over(&hub, "dl02", "OldSecret-2");
}

// Issue #26: prune-inactive and sync --prune delete through the same core call.
#[test]
fn prune_inactive_and_sync_prune_clear_records_too() {
    let hub = TestHub::start();
    hub.create_users(&["old1", "keep1", "gone1"], false);
    give_password_and_credits(&hub, "old1", "OldSecret-3", 90);
    give_password_and_credits(&hub, "gone1", "OldSecret-4", 40);
    let path = "/hub/api/users/old1/activity";
    let (status, reply) = hub.api("POST", path, Some(json!({ "last_activity": "2025-01-01T00:00:00Z" })));
    assert_eq!(status, 200, "{reply}");

    let out = jhctl(&hub, &[], &["prune-inactive", "--since", "180d", "--no-backup", "--yes"]).expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: old1 (password cleared, balance 90 → 0)\n"), "{out}");
    assert_eq!(hub.stored_password("old1", "OldSecret-3"), Some((false, true)));
    assert_eq!(quota_record(&hub, "old1"), Some((0, false)));

    let files: &[(&str, &[u8])] = &[("roster.csv", b"username\nkeep1\n")];
    let out = jhctl(&hub, files, &["sync", "roster.csv", "--prune", "--yes"]).expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: gone1 (password cleared, balance 40 → 0)\n"), "{out}");
    assert_eq!(hub.usernames(), ["keep1"]);
    assert_eq!(hub.stored_password("gone1", "OldSecret-4"), Some((false, true)));
    assert_eq!(quota_record(&hub, "gone1"), Some((0, false)));
    nothing_carries_over(&hub, "old1", "OldSecret-3");
}

// Issue #26: `add-quota dq0000 DQ0000 " dq0000" --amount 50` added 150.
#[test]
fn a_user_named_three_ways_gets_the_amount_once() {
    let hub = TestHub::start();
    hub.create_users(&["dq0000", "dq0001"], false);
    let out = jhctl(&hub, &[], &["add-quota", "dq0000", "DQ0000", " dq0000", "--amount", "50"]).expect_status(0);
    assert!(
        out.stderr.contains(
            "⚠️  `dq0000` is named 3 times (`dq0000`, `DQ0000`, ` dq0000`): it is one user, done once (with the first)\n"
        ),
        "{out}"
    );
    assert!(out.stdout.contains("✅ Added 50 for: dq0000\n") && out.stdout.contains("  ✅ Success: 1\n"), "{out}");
    assert_eq!(quota_record(&hub, "dq0000"), Some((50, false)));

    // From a script: the same list through `hub.add_quota`.
    let script = r#"let r = hub.add_quota(["dq0001", "DQ0001", " dq0001 "], 50); print(r.len());"#;
    let out = Test::new().hub(&hub).args(["eval", script]).run().expect_status(0);
    assert_eq!(out.stdout, "1\n", "{out}");
    assert!(out.stderr.contains("`dq0001` is named 3 times"), "{out}");
    assert_eq!(quota_record(&hub, "dq0001"), Some((50, false)));

    // Every job: a deduct, group membership and the admin flag, named twice.
    jhctl(&hub, &[], &["deduct-quota", "dq0000", "DQ0000", "--amount", "20"]).expect_status(0);
    assert_eq!(quota_record(&hub, "dq0000"), Some((30, false)));
    let out = jhctl(&hub, &[], &["set-admin", "dq0001", "Dq0001"]).expect_status(0);
    assert!(out.stdout.contains("  ✅ Success: 1\n"), "{out}");
}

// Issue #26: `prune-inactive --since 5 --plan` planned to delete every user
// created more than five seconds ago.
#[test]
fn a_duration_without_a_unit_is_refused() {
    let hub = TestHub::start();
    hub.create_users(&["fresh"], false);
    let unit = "has no unit; write it with one, e.g.";
    let cases: [(&[&str], &str, &str); 4] = [
        (&["prune-inactive", "--since", "5", "--plan"], "--since", "5"),
        (&["servers", "prune", "--stopped", "--since", "30", "--plan"], "--since", "30"),
        (&["tokens", "list", "--unused-since", "90"], "--unused-since", "90"),
        (&["stop", "--idle-since", "7200"], "--idle-since", "7200"),
    ];
    for (args, flag, n) in cases {
        let out = jhctl(&hub, &[], args).expect_status(2);
        assert_eq!(
            out.stderr,
            format!("error: {flag} `{n}` {unit} {n}d for days, {n}h for hours or {n}s for seconds\n"),
            "{out}"
        );
        assert_eq!(out.stdout, "", "{out}");
    }
    assert_eq!(hub.usernames(), ["fresh"]);
}

// Issue #26: a dry run's summary said "✅ Created: 2" for users it only planned.
#[test]
fn dry_run_summaries_say_would() {
    let hub = TestHub::start();
    hub.create_users(&["here"], false);
    let files: &[(&str, &[u8])] = &[("r.csv", b"username\nnew1\nnew2\nhere\n")];
    let out = jhctl(&hub, files, &["create", "r.csv", "--dry-run"]).expect_status(0);
    assert!(out.stdout.contains("  📝 Would create: 2\n  ⚠️  Already exist: 1\n"), "{out}");
    assert!(!out.stdout.contains("✅ Created"), "{out}");
    let out = jhctl(&hub, files, &["create", "r.csv", "--dry-run", "--password", "Welcome-123"]).expect_status(0);
    assert!(out.stdout.contains("  📝 Would set passwords: 2\n"), "{out}");
    let out = jhctl(&hub, files, &["delete", "r.csv", "--dry-run"]).expect_status(0);
    assert!(out.stdout.contains("  📝 Would delete: 3\n"), "{out}");
    assert!(!out.stdout.contains("✅ Deleted"), "{out}");
    let out = jhctl(&hub, &[], &["add-quota", "here", "--amount", "5", "--dry-run"]).expect_status(0);
    assert!(out.stdout.contains("  📝 Would update: 1\n"), "{out}");
    assert_eq!(hub.usernames(), ["here"]);
}

// Issue #26: `create sh.csv --password abc` created both users, then every
// password failed; with a first-use authenticator whoever logs in first
// owns them. A password the hub's known rule refuses stops the run first.
#[test]
fn create_refuses_a_too_short_password_before_creating_anyone() {
    let hub = TestHub::start();
    let files: &[(&str, &[u8])] = &[("sh.csv", b"username\nsh01\nsh02\n")];
    let out = jhctl(&hub, files, &["create", "sh.csv", "--password", "abc"]).expect_status(2);
    assert_eq!(
        out.stderr,
        "error: --password: the password is too short for the hub: 3 characters, it needs at least 7; \
         choose a longer one, or --generate-passwords\nnothing was created or changed\n",
        "{out}"
    );
    assert_eq!(out.stdout, "", "{out}");
    let rows: &[(&str, &[u8])] = &[("sh.csv", b"username,password\nsh01,Long-enough-1\nsh02,short\n")];
    let out = jhctl(&hub, rows, &["create", "sh.csv", "--generate-passwords"]).expect_status(2);
    assert!(
        out.stderr
            .starts_with("error: roster `sh.csv` row 3 (sh02): the password is too short for the hub: 5 characters"),
        "{out}"
    );
    assert_eq!(hub.usernames(), Vec::<String>::new());
}

// Issue #26: where the hub refuses a password jhctl cannot foresee (here a
// hub configured with a minimum of 10), the users this run created are
// removed again; a user that existed before is never touched.
#[test]
fn create_removes_again_the_users_it_created_whose_password_was_refused() {
    let hub = TestHub::builder().min_password(10).start();
    hub.create_users(&["sh00"], false);
    let files: &[(&str, &[u8])] = &[("sh.csv", b"username\nsh00\nsh01\nsh02\n")];
    let out = jhctl(&hub, files, &["create", "sh.csv", "--password", "Eight-ch", "-o", "sheet.csv"]).expect_status(1);
    for name in ["sh01", "sh02"] {
        let line = format!(
            "🗑️  Created, then removed: {name}: password refused: 400 - Password too short! Please choose a password \
             at least 10 characters long.\n"
        );
        assert!(out.stdout.contains(&line), "{out}");
    }
    assert!(out.stdout.contains("⚠️  User already exists: sh00\n"), "{out}");
    assert!(
        out.stdout.contains("  ✅ Created: 0\n  ⚠️  Already exist: 1\n  🔑 Passwords set: 0\n  ❌ Failed: 2\n"),
        "{out}"
    );
    assert_eq!(hub.usernames(), ["sh00"], "only the user that existed before is left");
    assert_eq!(hub.stored_password("sh00", "anything-at-all"), None, "an existing user's password is left alone");
}

// Issue #26: `create` warns about a name whose earlier user left a balance
// (the quota listing is what the admin API shows; a password row is not).
#[test]
fn create_warns_about_a_balance_an_earlier_user_left() {
    let hub = TestHub::start();
    hub.create_users(&["lf00"], false);
    for (name, amount) in [("lf00", 30), ("lf01", 250), ("lf02", 0)] {
        let body = json!({ "action": "set", "amount": amount });
        let (status, reply) = hub.api("POST", &format!("/hub/admin/api/quota/{name}"), Some(body));
        assert_eq!(status, 200, "{reply}");
    }
    let files: &[(&str, &[u8])] = &[("r.csv", b"username\nlf00\nLF01\nlf02\n")];
    let out = jhctl(&hub, files, &["create", "r.csv"]).expect_status(0);
    assert_eq!(
        out.stderr,
        "⚠️  `lf01` is not a user, but the hub still holds a balance of 250 for that name (left by an earlier user): \
         the new user gets it; reset it with: jhctl manage-users set-quota lf01 --amount 0\n",
        "{out}"
    );
}

// Issue #26: on a stock JupyterHub (no admin API) deleting still works, and
// one line says that nothing was cleared.
#[test]
fn delete_on_a_hub_without_the_admin_api_says_once_that_nothing_was_cleared() {
    let hub = TestHub::builder().without_admin_api().start();
    hub.create_users(&["st01", "st02", "st03"], false);
    let files: &[(&str, &[u8])] = &[("gone.csv", b"username\nst01\nst02\nst03\n")];
    let out = jhctl(&hub, files, &["delete", "gone.csv", "--yes"]).expect_status(0);
    assert!(out.stdout.contains("✅ Deleted user: st01\n✅ Deleted user: st02\n✅ Deleted user: st03\n"), "{out}");
    assert_eq!(
        out.stderr,
        "⚠️  this hub has no admin API (/hub/admin/api): deleted users' passwords and quota were not cleared; \
         if its authenticator keeps passwords by name, remove them there (`delete`, `prune-inactive` and \
         `sync --prune` with --via exec remove them from the hub's store)\n",
        "{out}"
    );
    assert_eq!(hub.usernames(), Vec::<String>::new());
}
