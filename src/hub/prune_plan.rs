//! The prune plan: which users nobody used this term, computed from one
//! listing of users before anything is sent. Applying it
//! ([`HubClient::apply_prune`]) is deleting its users, each read again
//! just before its delete, after the caller has written the backup.
//!
//! A user is inactive when its last activity (or, never active, its
//! creation) is older than the cutoff. Admins are never planned, nor the
//! user that owns the token; with `group` only members of that group are
//! looked at, and members of `except_group` are kept. Every inactive user
//! that is kept is listed with the reason, and so is one with a running or
//! pending server (default or named). Just before each delete the user is
//! read again and the same rules decide ([`recheck_prune`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::age::{cutoff, days_since, parse_time};
use super::recheck::{Planned, Recheck};
use super::{HubClient, ItemResult, Kept, User};

/// What the prune plan looks at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneOptions {
    /// Users inactive for at least this long are planned.
    pub since: Duration,
    /// The user that owns the token, when it is a user (never planned).
    pub me: Option<String>,
    /// Only members of this group.
    pub group: Option<String>,
    /// Never members of this group.
    pub except_group: Option<String>,
}

/// A user to delete, with what its backup row needs (the export format).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneCandidate {
    /// The username.
    pub name: String,
    /// Its admin flag (always false: admins are never planned).
    pub admin: bool,
    /// Its groups.
    pub groups: Vec<String>,
    /// When it was created.
    pub created: Option<String>,
    /// Its last activity, `None` when it never logged in.
    pub last_activity: Option<String>,
    /// Its default server's URL, when running.
    pub server: Option<String>,
    /// Days since its last activity (or creation).
    pub idle_days: i64,
}

/// The users to delete, and the inactive ones kept on purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunePlan {
    /// Users to delete, by name.
    pub delete: Vec<PruneCandidate>,
    /// Inactive users left alone, and why.
    pub kept: Vec<Kept>,
    /// The cutoff: activity before it is inactive (ISO 8601).
    pub cutoff: String,
    /// How many users are deleted (0 when none).
    pub count: usize,
    /// The plan's `group` (only its members), kept for the re-check before each delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The plan's `except_group`, kept for the re-check before each delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except_group: Option<String>,
}

/// Why an inactive user in scope is not deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hold {
    /// Its last activity (or creation) cannot be read.
    Unreadable(String),
    /// It owns the token jhctl uses.
    Me,
    /// It is an admin.
    Admin,
    /// It is in the `except_group`.
    ExceptGroup(String),
    /// One of its servers is `running` or `pending`.
    Server(&'static str),
}

/// What the prune rules say about one user.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    /// Not in `group`: not looked at.
    OutOfScope,
    /// Active since the cutoff.
    Active,
    /// Inactive, but kept.
    Keep(Hold),
    /// Inactive for this many days: delete.
    Delete(i64),
}

/// `running` or `pending` when one of `user`'s servers (default or named)
/// is running or starting/stopping; `None` when all are stopped.
fn server_state(user: &User) -> Option<&'static str> {
    if user.pending.is_some() || user.servers.values().any(|s| s.pending.is_some()) {
        Some("pending")
    } else if user.server.is_some() || user.servers.values().any(|s| s.ready) {
        Some("running")
    } else {
        None
    }
}

/// The prune rules applied to `user` with the cutoff `limit`.
fn judge(user: &User, limit: DateTime<Utc>, now: DateTime<Utc>, options: &PruneOptions) -> Verdict {
    let in_group = |group: &Option<String>| group.as_ref().is_some_and(|g| user.groups.contains(g));
    if options.group.is_some() && !in_group(&options.group) {
        return Verdict::OutOfScope;
    }
    let seen = user.last_activity.as_deref().or(user.created.as_deref());
    let Some(at) = seen.and_then(parse_time) else {
        return Verdict::Keep(Hold::Unreadable(seen.unwrap_or("none").to_string()));
    };
    if at >= limit {
        Verdict::Active
    } else if Some(user.name.as_str()) == options.me.as_deref() {
        Verdict::Keep(Hold::Me)
    } else if user.admin {
        Verdict::Keep(Hold::Admin)
    } else if in_group(&options.except_group) {
        Verdict::Keep(Hold::ExceptGroup(options.except_group.clone().unwrap_or_default()))
    } else if let Some(state) = server_state(user) {
        Verdict::Keep(Hold::Server(state))
    } else {
        Verdict::Delete(days_since(at, now))
    }
}

/// The plan that deletes the users of `users` inactive since `options.since` before `now`.
pub fn plan_prune(users: &[User], now: DateTime<Utc>, options: &PruneOptions) -> PrunePlan {
    let limit = cutoff(now, options.since);
    let mut plan = PrunePlan {
        cutoff: limit.to_rfc3339(),
        group: options.group.clone(),
        except_group: options.except_group.clone(),
        ..PrunePlan::default()
    };
    for user in users {
        let keep = |reason: String| Kept { name: user.name.clone(), reason };
        match judge(user, limit, now, options) {
            Verdict::OutOfScope | Verdict::Active => {}
            Verdict::Keep(Hold::Unreadable(seen)) => {
                plan.kept.push(keep(format!("last activity `{seen}` is unreadable")))
            }
            Verdict::Keep(Hold::Me) => plan.kept.push(keep("owns the token jhctl uses".into())),
            Verdict::Keep(Hold::Admin) => {
                plan.kept.push(keep("admin (admins are never pruned; revoke admin first)".into()))
            }
            Verdict::Keep(Hold::ExceptGroup(group)) => {
                plan.kept.push(keep(format!("in group {group} (--except-group)")))
            }
            Verdict::Keep(Hold::Server(state)) => plan
                .kept
                .push(keep(format!("server {state} (users with a running server are never pruned; stop it first)"))),
            Verdict::Delete(idle_days) => plan.delete.push(PruneCandidate {
                name: user.name.clone(),
                admin: user.admin,
                groups: user.groups.clone(),
                created: user.created.clone(),
                last_activity: user.last_activity.clone(),
                server: user.server.clone(),
                idle_days,
            }),
        }
    }
    plan.delete.sort_by(|a, b| a.name.cmp(&b.name));
    plan.kept.sort_by(|a, b| a.name.cmp(&b.name));
    plan.count = plan.delete.len();
    plan
}

/// Whether a user of `plan` still qualifies, read again (`fresh`, `None`
/// when gone) just before its delete: the same rules with the plan's
/// cutoff, group and except-group. Anything that changed keeps it, with
/// what changed: now an admin, active again, a server started, now in the
/// except-group, no longer in the group.
pub fn recheck_prune(plan: &PrunePlan, fresh: Option<&User>, now: DateTime<Utc>) -> Recheck {
    let Some(user) = fresh else { return Recheck::Gone };
    let Some(limit) = parse_time(&plan.cutoff) else {
        return Recheck::Skip(format!("the plan's cutoff `{}` is unreadable; plan again", plan.cutoff));
    };
    let options =
        PruneOptions { group: plan.group.clone(), except_group: plan.except_group.clone(), ..PruneOptions::default() };
    let skip = |why: String| Recheck::Skip(why);
    // A server started since the plan is the news, whatever else changed with it.
    if let Some(state) = server_state(user) {
        return skip(format!("server started since the plan (now {state})"));
    }
    match judge(user, limit, now, &options) {
        Verdict::Delete(_) => Recheck::Act,
        Verdict::OutOfScope => {
            skip(format!("no longer in group {}, so no longer in the plan", plan.group.as_deref().unwrap_or_default()))
        }
        Verdict::Active => skip(format!(
            "active again since the plan (last activity {})",
            user.last_activity.as_deref().unwrap_or("unknown")
        )),
        Verdict::Keep(Hold::Admin) => skip("now admin (admins are never pruned)".into()),
        Verdict::Keep(Hold::Server(state)) => skip(format!("server {state}")),
        Verdict::Keep(Hold::ExceptGroup(group)) => skip(format!("now in group {group} (--except-group)")),
        Verdict::Keep(Hold::Me) => skip("owns the token jhctl uses".into()),
        Verdict::Keep(Hold::Unreadable(seen)) => skip(format!("last activity `{seen}` is unreadable now")),
    }
}

impl HubClient {
    /// Deletes the users of `plan`, each read again just before its delete
    /// ([`recheck_prune`]): one that changed since the plan is `skipped`
    /// with what changed, one gone is `not_found`; the others as
    /// [`HubClient::delete_users`]. One result per user of `plan.delete`.
    pub async fn apply_prune(&self, plan: &PrunePlan) -> Vec<ItemResult> {
        let items: Vec<Planned> =
            plan.delete.iter().map(|c| Planned { user: &c.name, label: c.name.clone() }).collect();
        let now = Utc::now();
        let decide = |_: usize, fresh: Option<&User>| recheck_prune(plan, fresh, now);
        let names: Vec<String> = plan.delete.iter().map(|c| c.name.clone()).collect();
        let setup = &self.delete_setup(&names).await;
        let act = |id: usize| async move { vec![self.delete_one(plan.delete[id].name.clone(), setup).await] };
        self.recheck_each(&items, false, decide, act).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Server;

    const DAY: u64 = 86_400;

    fn now() -> DateTime<Utc> {
        parse_time("2026-06-30T00:00:00Z").unwrap()
    }

    /// A user last active `days` ago (`None`: never, created 365 days ago).
    fn user(name: &str, admin: bool, days: Option<i64>, groups: &[&str]) -> User {
        let at = |d: i64| Some((now() - chrono::Duration::days(d)).to_rfc3339());
        User {
            name: name.into(),
            admin,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            created: at(365),
            last_activity: days.and_then(at),
            ..User::default()
        }
    }

    fn options(days: u64) -> PruneOptions {
        PruneOptions { since: Duration::from_secs(days * DAY), ..PruneOptions::default() }
    }

    fn planned(plan: &PrunePlan) -> Vec<&str> {
        plan.delete.iter().map(|c| c.name.as_str()).collect()
    }

    fn kept(plan: &PrunePlan) -> Vec<&str> {
        plan.kept.iter().map(|k| k.name.as_str()).collect()
    }

    #[test]
    fn inactive_users_by_last_activity_or_creation() {
        let users = [
            user("fresh", false, Some(3), &[]),
            user("old", false, Some(200), &[]),
            user("never", false, None, &[]),
            user("edge", false, Some(181), &[]),
            user("inside", false, Some(179), &[]),
        ];
        // (cutoff in days, expected deletions)
        let cases: [(u64, &[&str]); 3] =
            [(180, &["edge", "never", "old"]), (365 * 2, &[]), (1, &["edge", "fresh", "inside", "never", "old"])];
        for (days, expected) in cases {
            let plan = plan_prune(&users, now(), &options(days));
            assert_eq!(planned(&plan), expected, "{days}d");
            assert_eq!(plan.count, expected.len());
        }
        let plan = plan_prune(&users, now(), &options(180));
        let never = plan.delete.iter().find(|c| c.name == "never").unwrap();
        assert_eq!((never.idle_days, never.last_activity.is_none()), (365, true));
    }

    #[test]
    fn never_admins_nor_the_token_s_user() {
        let users = [user("boss", true, Some(400), &[]), user("me", false, None, &[]), user("old", false, None, &[])];
        let plan = plan_prune(&users, now(), &PruneOptions { me: Some("me".into()), ..options(180) });
        assert_eq!(planned(&plan), ["old"]);
        assert_eq!(kept(&plan), ["boss", "me"]);
        assert!(plan.kept[0].reason.contains("admin"));
    }

    #[test]
    fn group_and_except_group_narrow_the_plan() {
        let users = [
            user("a", false, None, &["lab1"]),
            user("b", false, None, &["lab1", "staff"]),
            user("c", false, None, &["lab2"]),
            user("d", false, Some(1), &["lab1"]),
        ];
        // (group, except_group, deleted, kept)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [&'a str], &'a [&'a str]);
        let cases: [Case; 4] = [
            (None, None, &["a", "b", "c"], &[]),
            (Some("lab1"), None, &["a", "b"], &[]),
            (None, Some("staff"), &["a", "c"], &["b"]),
            (Some("lab1"), Some("staff"), &["a"], &["b"]),
        ];
        for (group, except, deleted, left) in cases {
            let options = PruneOptions {
                group: group.map(str::to_string),
                except_group: except.map(str::to_string),
                ..options(180)
            };
            let plan = plan_prune(&users, now(), &options);
            assert_eq!(planned(&plan), deleted, "{group:?} {except:?}");
            assert_eq!(kept(&plan), left, "{group:?} {except:?}");
        }
    }

    #[test]
    fn unreadable_times_are_kept_not_deleted() {
        let mut odd = user("odd", false, None, &[]);
        odd.created = Some("last spring".into());
        let plan = plan_prune(&[odd], now(), &options(1));
        assert!(plan.delete.is_empty());
        assert!(plan.kept[0].reason.contains("unreadable"), "{:?}", plan.kept);
    }

    #[test]
    fn an_active_hub_has_no_changes() {
        let users = [user("a", false, Some(2), &[]), user("boss", true, Some(1), &[])];
        let plan = plan_prune(&users, now(), &options(30));
        assert_eq!((plan.count, plan.kept.len()), (0, 0));
    }

    fn with_server(mut user: User, name: &str, ready: bool, pending: Option<&str>) -> User {
        let server = Server { name: name.into(), ready, pending: pending.map(str::to_string), ..Server::default() };
        user.servers.insert(name.into(), server);
        user
    }

    #[test]
    fn users_with_a_running_or_pending_server_are_kept() {
        let mut default_running = user("dflt", false, None, &[]);
        default_running.server = Some("/user/dflt/".into());
        let mut default_pending = user("spawning", false, None, &[]);
        default_pending.pending = Some("spawn".into());
        let users = [
            default_running,
            default_pending,
            with_server(user("named", false, None, &[]), "lab", true, None),
            with_server(user("stopping", false, None, &[]), "lab", false, Some("stop")),
            with_server(user("stopped", false, None, &[]), "lab", false, None),
        ];
        let plan = plan_prune(&users, now(), &options(180));
        assert_eq!(planned(&plan), ["stopped"]);
        let kept: Vec<(&str, &str)> =
            plan.kept.iter().map(|k| (k.name.as_str(), k.reason.split(' ').nth(1).unwrap_or(""))).collect();
        assert_eq!(kept, [("dflt", "running"), ("named", "running"), ("spawning", "pending"), ("stopping", "pending")]);
        assert!(plan.kept[0].reason.contains("stop it first"), "{:?}", plan.kept);
    }

    // Issue #26: each planned user is read again just before its delete.
    #[test]
    fn recheck_keeps_a_user_that_changed_since_the_plan() {
        let planned_user = || user("old", false, Some(200), &["lab"]);
        let plan = |group: Option<&str>, except: Option<&str>| {
            let options = PruneOptions {
                group: group.map(str::to_string),
                except_group: except.map(str::to_string),
                ..options(180)
            };
            plan_prune(&[planned_user()], now(), &options)
        };
        let admin = User { admin: true, ..planned_user() };
        let active = User { last_activity: Some(now().to_rfc3339()), ..planned_user() };
        let running = User { server: Some("/user/old/".into()), ..planned_user() };
        let both = User { last_activity: Some(now().to_rfc3339()), ..running.clone() };
        let named = with_server(planned_user(), "gpu", false, Some("spawn"));
        let moved = User { groups: vec!["staff".into()], ..planned_user() };
        let unreadable = User { last_activity: Some("yesterday".into()), ..planned_user() };
        // (plan's group, plan's except-group, the user now, expected: None to act, Some(reason start) to skip)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<User>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            (None, None, Some(planned_user()), None),
            (None, None, Some(admin), Some("now admin")),
            (None, None, Some(active), Some("active again since the plan")),
            (None, None, Some(running), Some("server started since the plan (now running)")),
            (None, None, Some(both), Some("server started since the plan (now running)")),
            (None, None, Some(named), Some("server started since the plan (now pending)")),
            (None, Some("staff"), Some(moved.clone()), Some("now in group staff (--except-group)")),
            (Some("lab"), None, Some(moved), Some("no longer in group lab, so no longer in the plan")),
            (None, None, Some(unreadable), Some("last activity `yesterday` is unreadable now")),
        ];
        for (group, except, fresh, expected) in cases {
            let plan = plan(group, except);
            assert_eq!(plan.count, 1, "{group:?} {except:?}");
            let verdict = recheck_prune(&plan, fresh.as_ref(), now());
            match expected {
                None => assert_eq!(verdict, Recheck::Act, "{fresh:?}"),
                Some(start) => match &verdict {
                    Recheck::Skip(why) => assert!(why.starts_with(start), "{why} / {start}"),
                    other => panic!("{other:?} for {fresh:?}, expected a skip: {start}"),
                },
            }
        }
        assert_eq!(recheck_prune(&plan(None, None), None, now()), Recheck::Gone);
        let broken = PrunePlan { cutoff: "later".into(), ..plan(None, None) };
        assert!(matches!(recheck_prune(&broken, Some(&planned_user()), now()), Recheck::Skip(_)));
    }
}
