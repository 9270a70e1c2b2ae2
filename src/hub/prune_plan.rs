//! The prune plan: which users nobody used this term, computed from one
//! listing of users before anything is sent. Applying it is deleting its
//! users ([`HubClient::delete_users`](super::HubClient::delete_users)),
//! after the caller has written the backup.
//!
//! A user is inactive when its last activity (or, never active, its
//! creation) is older than the cutoff. Admins are never planned, nor the
//! user that owns the token; with `group` only members of that group are
//! looked at, and members of `except_group` are kept. Every inactive user
//! that is kept is listed with the reason.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::age::{cutoff, days_since, parse_time};
use super::{Kept, User};

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
}

/// The plan that deletes the users of `users` inactive since `options.since` before `now`.
pub fn plan_prune(users: &[User], now: DateTime<Utc>, options: &PruneOptions) -> PrunePlan {
    let limit = cutoff(now, options.since);
    let mut plan = PrunePlan { cutoff: limit.to_rfc3339(), ..PrunePlan::default() };
    let in_group = |user: &User, group: &Option<String>| group.as_ref().is_some_and(|g| user.groups.contains(g));
    for user in users {
        if options.group.is_some() && !in_group(user, &options.group) {
            continue;
        }
        let seen = user.last_activity.as_deref().or(user.created.as_deref());
        let keep = |reason: String| Kept { name: user.name.clone(), reason };
        let Some(seen) = seen.and_then(parse_time) else {
            plan.kept.push(keep(format!("last activity `{}` is unreadable", seen.unwrap_or("none"))));
            continue;
        };
        if seen >= limit {
            continue;
        }
        if Some(user.name.as_str()) == options.me.as_deref() {
            plan.kept.push(keep("owns the token jhctl uses".into()));
        } else if user.admin {
            plan.kept.push(keep("admin (admins are never pruned; revoke admin first)".into()));
        } else if in_group(user, &options.except_group) {
            let group = options.except_group.as_deref().unwrap_or_default();
            plan.kept.push(keep(format!("in group {group} (--except-group)")));
        } else {
            plan.delete.push(PruneCandidate {
                name: user.name.clone(),
                admin: user.admin,
                groups: user.groups.clone(),
                created: user.created.clone(),
                last_activity: user.last_activity.clone(),
                server: user.server.clone(),
                idle_days: days_since(seen, now),
            });
        }
    }
    plan.delete.sort_by(|a, b| a.name.cmp(&b.name));
    plan.kept.sort_by(|a, b| a.name.cmp(&b.name));
    plan.count = plan.delete.len();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
