//! The sync plan: what makes the hub match a roster, computed from the
//! roster's rows and one listing of users and groups, before anything is
//! sent. Applying it is [`HubClient::apply_sync`](super::HubClient::apply_sync).
//!
//! What the roster decides:
//! - every user in it should exist: missing users are created (as admins
//!   when their `admin` cell says so);
//! - with an `admin` column, each listed user's admin flag becomes the
//!   file's value (a blank cell is false); without one, flags are left alone;
//! - with a `groups` column, every group named anywhere in the file gets
//!   exactly the users that list it: missing members are added (the group
//!   is created when needed), other members are removed, also users not in
//!   the file. Groups the file never names are left alone;
//! - with `prune`, users not in the file are deleted, except admins
//!   (unless `prune_admins`) and the user that owns the token (never).
//!   Deleted users are not listed as leaving groups.
//!
//! The token's own user never loses its admin flag: that would lock the
//! run out halfway. Each planned delete is read again just before it is
//! sent ([`recheck_sync_delete`]): a user made an admin meanwhile stays.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::recheck::Recheck;
use super::{Group, User};

/// One roster row as the plan sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncRow {
    /// The username (trimmed and lower-cased here).
    pub name: String,
    /// The row's admin value; `None` when the file has no `admin` column.
    pub admin: Option<bool>,
    /// The row's groups; `None` when the file has no `groups` column.
    pub groups: Option<Vec<String>>,
}

/// What the plan may do beyond creating and updating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Delete users that are not in the file.
    pub prune: bool,
    /// With `prune`: admins not in the file too.
    pub prune_admins: bool,
    /// The user that owns the token, when it is a user (not a service).
    pub me: Option<String>,
}

/// A user to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedUser {
    /// The username.
    pub name: String,
    /// Whether it is created as an admin.
    pub admin: bool,
}

/// An admin flag to change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminChange {
    /// The username.
    pub name: String,
    /// The flag now.
    pub from: bool,
    /// The flag the file asks for.
    pub to: bool,
}

/// Membership changes of one group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupChange {
    /// The group.
    pub name: String,
    /// Whether the group exists now (else adding creates it).
    pub exists: bool,
    /// Users to add, sorted.
    pub add: Vec<String>,
    /// Users to remove, sorted.
    pub remove: Vec<String>,
}

/// A user the plan leaves alone on purpose, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// The username.
    pub name: String,
    /// Why it is kept.
    pub reason: String,
}

/// The changes that make the hub match a roster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPlan {
    /// Users to create, in file order.
    pub create: Vec<PlannedUser>,
    /// Admin flags to change, by name.
    pub admin: Vec<AdminChange>,
    /// Groups whose members change, by name.
    pub groups: Vec<GroupChange>,
    /// Users to delete, by name.
    pub delete: Vec<String>,
    /// The users of `delete` that are admins (only with `prune_admins`):
    /// any other found to be an admin just before its delete is kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_admins: Vec<String>,
    /// Users left alone on purpose.
    pub kept: Vec<Kept>,
    /// Membership changes in all groups.
    pub members: usize,
    /// Changes in all (0 when the hub matches the file).
    pub count: usize,
}

/// The plan that makes a hub with `users` and `groups` match `rows`.
/// Rows naming a user twice (also in another case) count once, the first.
pub fn plan_sync(rows: &[SyncRow], users: &[User], groups: &[Group], options: &SyncOptions) -> SyncPlan {
    let current: HashMap<&str, &User> = users.iter().map(|u| (u.name.as_str(), u)).collect();
    let me = options.me.as_deref();
    let mut plan = SyncPlan::default();
    let mut listed = HashSet::new();
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        let name = row.name.trim().to_lowercase();
        if name.is_empty() || !listed.insert(name.clone()) {
            continue;
        }
        let want_admin = row.admin == Some(true);
        match current.get(name.as_str()) {
            None => plan.create.push(PlannedUser { name: name.clone(), admin: want_admin }),
            Some(user) if row.admin.is_some() && user.admin != want_admin => {
                if Some(name.as_str()) == me && !want_admin {
                    let reason = "owns the token jhctl uses, so it stays an admin".to_string();
                    plan.kept.push(Kept { name: name.clone(), reason });
                } else {
                    plan.admin.push(AdminChange { name: name.clone(), from: user.admin, to: want_admin });
                }
            }
            Some(_) => {}
        }
        for group in row.groups.iter().flatten() {
            wanted.entry(group.clone()).or_default().insert(name.clone());
        }
    }
    plan.admin.sort_by(|a, b| a.name.cmp(&b.name));

    if options.prune {
        for user in users.iter().filter(|u| !listed.contains(&u.name)) {
            if Some(user.name.as_str()) == me {
                plan.kept.push(Kept { name: user.name.clone(), reason: "owns the token jhctl uses".into() });
            } else if user.admin && !options.prune_admins {
                let reason = "admin (add --prune-admins to delete admins too)".to_string();
                plan.kept.push(Kept { name: user.name.clone(), reason });
            } else {
                if user.admin {
                    plan.delete_admins.push(user.name.clone());
                }
                plan.delete.push(user.name.clone());
            }
        }
        plan.delete.sort();
        plan.delete_admins.sort();
    }
    let doomed: HashSet<&str> = plan.delete.iter().map(String::as_str).collect();

    let existing: HashMap<&str, &Group> = groups.iter().map(|g| (g.name.as_str(), g)).collect();
    for (name, want) in wanted {
        let group = existing.get(name.as_str());
        let have: BTreeSet<String> = group.map(|g| g.users.iter().cloned().collect()).unwrap_or_default();
        let add: Vec<String> = want.difference(&have).cloned().collect();
        let remove: Vec<String> = have.difference(&want).filter(|m| !doomed.contains(m.as_str())).cloned().collect();
        if !add.is_empty() || !remove.is_empty() {
            plan.members += add.len() + remove.len();
            plan.groups.push(GroupChange { name, exists: group.is_some(), add, remove });
        }
    }
    plan.count = plan.create.len() + plan.admin.len() + plan.members + plan.delete.len();
    plan
}

/// Whether the planned delete of `name` still holds, the user read again
/// (`fresh`, `None` when gone) just before it: a user made an admin since
/// the plan is kept (admins are deleted only when they were admins in the
/// plan, with `prune_admins`).
pub fn recheck_sync_delete(plan: &SyncPlan, name: &str, fresh: Option<&User>) -> Recheck {
    match fresh {
        None => Recheck::Gone,
        Some(user) if user.admin && !plan.delete_admins.iter().any(|a| a == name) => {
            Recheck::Skip("now admin, so no longer in the plan (admins are deleted only with --prune-admins)".into())
        }
        Some(_) => Recheck::Act,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, admin: bool) -> User {
        User { name: name.into(), admin, ..User::default() }
    }

    fn group(name: &str, members: &[&str]) -> Group {
        Group { name: name.into(), users: members.iter().map(|m| m.to_string()).collect(), ..Group::default() }
    }

    fn row(name: &str, admin: Option<bool>, groups: Option<&[&str]>) -> SyncRow {
        SyncRow { name: name.into(), admin, groups: groups.map(|g| g.iter().map(|s| s.to_string()).collect()) }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn admin_flags_follow_the_column_only_when_there_is_one() {
        let users = [user("ann", true), user("bob", false)];
        // (rows, expected admin changes)
        let cases: Vec<(Vec<SyncRow>, Vec<AdminChange>)> = vec![
            (vec![row("ann", None, None), row("bob", None, None)], vec![]),
            (
                vec![row("ann", Some(false), None), row("bob", Some(true), None)],
                vec![
                    AdminChange { name: "ann".into(), from: true, to: false },
                    AdminChange { name: "bob".into(), from: false, to: true },
                ],
            ),
            (vec![row("ann", Some(true), None), row("bob", Some(false), None)], vec![]),
        ];
        for (rows, expected) in cases {
            let plan = plan_sync(&rows, &users, &[], &SyncOptions::default());
            assert_eq!(plan.admin, expected, "{rows:?}");
            assert!(plan.create.is_empty());
        }
    }

    #[test]
    fn new_users_are_created_with_their_row_s_flag_in_file_order() {
        let rows = [row("zed", Some(true), None), row("amy", Some(false), None), row("kim", None, None)];
        let plan = plan_sync(&rows, &[], &[], &SyncOptions::default());
        let created: Vec<(&str, bool)> = plan.create.iter().map(|c| (c.name.as_str(), c.admin)).collect();
        assert_eq!(created, [("zed", true), ("amy", false), ("kim", false)]);
        assert_eq!(plan.count, 3);
    }

    #[test]
    fn groups_named_for_some_users_only_get_exactly_those() {
        let users = [user("ann", false), user("bob", false), user("cat", false), user("dan", false)];
        let groups = [group("lab1", &["ann", "dan"]), group("lab2", &["bob"]), group("other", &["ann"])];
        let rows =
            [row("ann", None, Some(&["lab2"])), row("bob", None, Some(&[])), row("cat", None, Some(&["lab1", "lab3"]))];
        let plan = plan_sync(&rows, &users, &groups, &SyncOptions::default());
        let expected = vec![
            GroupChange { name: "lab1".into(), exists: true, add: names(&["cat"]), remove: names(&["ann", "dan"]) },
            GroupChange { name: "lab2".into(), exists: true, add: names(&["ann"]), remove: names(&["bob"]) },
            GroupChange { name: "lab3".into(), exists: false, add: names(&["cat"]), remove: vec![] },
        ];
        assert_eq!(plan.groups, expected, "`other` is never named, so it is left alone");
        assert_eq!(plan.members, 6);
    }

    #[test]
    fn prune_never_touches_admins_or_the_token_s_user() {
        let users = [user("ann", false), user("boss", true), user("me", false), user("old", false)];
        let rows = [row("ann", None, None)];
        let options = |prune_admins| SyncOptions { prune: true, prune_admins, me: Some("me".into()) };
        let plan = plan_sync(&rows, &users, &[], &options(false));
        assert_eq!(plan.delete, names(&["old"]));
        let kept: Vec<&str> = plan.kept.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(kept, ["boss", "me"]);
        let plan = plan_sync(&rows, &users, &[], &options(true));
        assert_eq!(plan.delete, names(&["boss", "old"]));
        let plan = plan_sync(&rows, &users, &[], &SyncOptions { prune: false, ..options(true) });
        assert!(plan.delete.is_empty() && plan.kept.is_empty());
    }

    #[test]
    fn the_token_s_user_keeps_its_admin_flag() {
        let users = [user("me", true)];
        let rows = [row("me", Some(false), None)];
        let plan = plan_sync(&rows, &users, &[], &SyncOptions { me: Some("me".into()), ..SyncOptions::default() });
        assert!(plan.admin.is_empty());
        assert_eq!(plan.kept[0].name, "me");
        assert_eq!(plan.count, 0);
    }

    #[test]
    fn names_differing_only_by_case_are_one_user() {
        let users = [user("alice", false)];
        let rows = [row(" Alice ", Some(true), Some(&["g"])), row("ALICE", Some(false), None), row("Bob", None, None)];
        let plan = plan_sync(&rows, &users, &[], &SyncOptions { prune: true, ..SyncOptions::default() });
        assert_eq!(plan.admin, vec![AdminChange { name: "alice".into(), from: false, to: true }]);
        assert_eq!(plan.create, vec![PlannedUser { name: "bob".into(), admin: false }]);
        assert!(plan.delete.is_empty(), "alice is in the file");
        assert_eq!(plan.groups[0].add, names(&["alice"]));
    }

    #[test]
    fn deleted_users_are_not_also_removed_from_groups() {
        let users = [user("ann", false), user("old", false)];
        let groups = [group("lab", &["ann", "old"])];
        let rows = [row("ann", None, Some(&["lab"]))];
        let plan = plan_sync(&rows, &users, &groups, &SyncOptions { prune: true, ..SyncOptions::default() });
        assert_eq!(plan.delete, names(&["old"]));
        assert!(plan.groups.is_empty());
        assert_eq!(plan.count, 1);
    }

    #[test]
    fn a_hub_that_matches_has_no_changes() {
        let users = [user("ann", true), user("bob", false)];
        let groups = [group("lab", &["ann", "bob"])];
        let rows = [row("ann", Some(true), Some(&["lab"])), row("bob", Some(false), Some(&["lab"]))];
        let plan = plan_sync(&rows, &users, &groups, &SyncOptions { prune: true, ..SyncOptions::default() });
        assert_eq!(plan, SyncPlan::default());
    }

    // Issue #26: each planned delete is read again just before it is sent.
    #[test]
    fn recheck_keeps_a_user_made_admin_since_the_plan() {
        let users = [user("ann", false), user("boss", true), user("old", false)];
        let options = |prune_admins| SyncOptions { prune: true, prune_admins, me: None };
        let plain = plan_sync(&[], &users, &[], &options(false));
        let with_admins = plan_sync(&[], &users, &[], &options(true));
        assert_eq!(with_admins.delete_admins, names(&["boss"]));
        // (plan, name, the user now, expected)
        let made_admin = user("old", true);
        let cases: [(&SyncPlan, &str, Option<&User>, Option<&str>); 6] = [
            (&plain, "old", Some(&users[2]), None),
            (&plain, "old", Some(&made_admin), Some("now admin")),
            (&with_admins, "old", Some(&made_admin), Some("now admin")),
            (&with_admins, "boss", Some(&users[1]), None),
            (&with_admins, "boss", Some(&user("boss", false)), None),
            (&plain, "old", None, Some("gone")),
        ];
        for (plan, name, fresh, expected) in cases {
            let verdict = recheck_sync_delete(plan, name, fresh);
            match (expected, &verdict) {
                (None, Recheck::Act) | (Some("gone"), Recheck::Gone) => {}
                (Some(start), Recheck::Skip(why)) if why.starts_with(start) => {}
                _ => panic!("{name} {fresh:?}: {verdict:?}, expected {expected:?}"),
            }
        }
    }
}
