//! Issue 12: the adaptive concurrency limit, seen from outside: `-v` shows
//! how it moves, `--concurrency N` caps it, a hub that answers 503 makes it
//! back off, and the work is done every time.

use crate::support::fault_proxy::{Fault, FaultProxy, Rule};
use crate::support::hub::TestHub;
use crate::support::test::Test;

/// `(from, to)` of every `⇅ concurrency limit A → B: ...` line.
fn moves(stderr: &str) -> Vec<(usize, usize)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("⇅ concurrency limit "))
        .map(|rest| {
            let (from, rest) = rest.split_once(" → ").expect("A → B");
            let to = rest.split(':').next().expect("B: why");
            (from.parse().expect("a number"), to.parse().expect("a number"))
        })
        .collect()
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

/// Rhai that sets the admin flag of `prefix000..` and prints how many were updated.
fn set_admin_code(prefix: &str, n: usize) -> String {
    format!(
        r#"let n = []; for i in 0..{n} {{ n.push("{prefix}" + if i < 10 {{ "00" }} else if i < 100 {{ "0" }} else {{ "" }} + i); }}
           hub.set_admin(n, true).filter(|r| r.status == "updated").len()"#
    )
}

fn all_admins(hub: &TestHub, users: &[String]) {
    for name in users {
        assert_eq!(hub.user(name).expect("the user exists")["admin"], true, "{name}");
    }
}

#[test]
fn verbose_shows_the_limit_move_and_every_change_is_made() {
    let hub = TestHub::start();
    let users = names("lim", 150);
    hub.create_users(&users.iter().map(String::as_str).collect::<Vec<_>>(), false);
    let out = Test::new().hub(&hub).args(["-v", "eval", &set_admin_code("lim", 150)]).run().expect_status(0);
    assert_eq!(out.stdout, "150\n", "{out}");
    let moves = moves(&out.stderr);
    assert!(!moves.is_empty(), "-v shows the limit moving: {out}");
    assert_eq!(moves[0].0, 16, "the limit starts at 16: {out}");
    for pair in moves.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "each move starts where the last ended: {out}");
    }
    assert!(moves.iter().all(|&(_, to)| (1..=64).contains(&to)), "{out}");
    all_admins(&hub, &users);
}

#[test]
fn concurrency_caps_the_limit() {
    let hub = TestHub::start();
    let users = names("cap", 60);
    hub.create_users(&users.iter().map(String::as_str).collect::<Vec<_>>(), false);
    let out = Test::new()
        .hub(&hub)
        .args(["-v", "--concurrency", "3", "eval", &set_admin_code("cap", 60)])
        .run()
        .expect_status(0);
    assert_eq!(out.stdout, "60\n", "{out}");
    for (from, to) in moves(&out.stderr) {
        assert!(from <= 3 && to <= 3, "--concurrency 3 is a cap: {out}");
    }
    all_admins(&hub, &users);
}

#[test]
fn a_busy_hub_makes_it_back_off_and_nothing_is_lost() {
    let hub = TestHub::start();
    let users = names("busy", 40);
    hub.create_users(&users.iter().map(String::as_str).collect::<Vec<_>>(), false);
    let proxy =
        FaultProxy::start(hub.url(), 7, vec![Rule::new(Some("PATCH"), "/hub/api/users/", Fault::Busy(503), 0.3)]);
    let out = Test::new()
        .hub(&hub)
        .env("JUPYTERHUB_URL", proxy.url())
        .args(["-v", "eval", &set_admin_code("busy", 40)])
        .run()
        .expect_status(0);
    assert_eq!(out.stdout, "40\n", "{out}");
    assert!(proxy.count(Fault::Busy(503)) > 0, "{}", proxy.report());
    let moves = moves(&out.stderr);
    assert!(out.stderr.contains(": the hub is overloaded (429, 503, 504 or a timeout)"), "{out}");
    assert!(moves.iter().any(|&(from, to)| to == from / 2), "503 halves the limit: {out}");
    all_admins(&hub, &users);
}
