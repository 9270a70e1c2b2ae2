//! Guards before a destructive run: what is almost surely a mistake is
//! refused (exit 2 in scripts) before anything is sent.
//!
//! - An empty roster never prunes: `sync --prune` of a file with no users
//!   would delete every non-admin user ([`check_prune_roster`]).
//! - A plan that deletes more than half of the hub's non-admin users, and
//!   at least [`GUARD_FLOOR`] of them, needs the admin to say how many may
//!   go (`--max-delete N`); a plan larger than `N` is always refused
//!   ([`check_delete_share`]).
//! - A group filter (`--group`, `--except-group`) must name a group that
//!   exists: a typo would otherwise protect nobody or select nobody
//!   ([`check_group_filter`]).

use std::collections::HashSet;

use super::User;

/// Plans smaller than this are never refused for their share of the hub:
/// a small hub (a handful of users) may well lose most of them on purpose.
pub const GUARD_FLOOR: usize = 10;

/// How many of `names` are existing non-admin users, and how many
/// non-admin users the hub has: the two numbers [`check_delete_share`] weighs.
pub fn delete_share(names: &[String], users: &[User]) -> (usize, usize) {
    let non_admins: HashSet<&str> = users.iter().filter(|u| !u.admin).map(|u| u.name.as_str()).collect();
    let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
    (wanted.iter().filter(|n| non_admins.contains(*n)).count(), non_admins.len())
}

/// Refuses a plan that deletes `deleting` of the hub's `non_admins`
/// non-admin users when that is more than half of them (and at least
/// [`GUARD_FLOOR`]) unless `max_delete` allows that many; with
/// `max_delete`, a plan of more than it is always refused. The error says
/// how many would go and which flag lets them.
pub fn check_delete_share(deleting: usize, non_admins: usize, max_delete: Option<usize>) -> Result<(), String> {
    match max_delete {
        Some(max) if deleting > max => Err(format!(
            "the plan deletes {deleting} users, more than --max-delete {max} allows; nothing was changed. \
             Check the plan, then pass --max-delete {deleting} if that is right"
        )),
        Some(_) => Ok(()),
        None if deleting >= GUARD_FLOOR && deleting * 2 > non_admins => Err(format!(
            "the plan deletes {deleting} of the hub's {non_admins} non-admin users (more than half); \
             nothing was changed. If that is right, say how many may go: --max-delete {deleting}"
        )),
        None => Ok(()),
    }
}

/// Refuses pruning against a roster of `rows` users: an empty file (a
/// truncated export, a failed download) would delete everyone.
pub fn check_prune_roster(rows: usize, file: &str) -> Result<(), String> {
    if rows == 0 {
        return Err(format!(
            "`{file}` has no users, and sync --prune would delete every non-admin user; nothing was changed. \
             Check the file (a truncated export or a failed download?)"
        ));
    }
    Ok(())
}

/// Refuses a group filter (`flag` is `--group` or `--except-group`) that
/// names no group in `groups`, with the closest name as a hint.
pub fn check_group_filter(flag: &str, name: &str, groups: &[String]) -> Result<(), String> {
    if groups.iter().any(|g| g == name) {
        return Ok(());
    }
    let hint = closest(name, groups).map(|g| format!("; did you mean `{g}`?")).unwrap_or_default();
    Err(format!("{flag} `{name}`: no such group on the hub{hint} (see: manage-users groups list)"))
}

/// The group closest to `name` by edit distance, when close enough to be a typo.
fn closest<'a>(name: &str, groups: &'a [String]) -> Option<&'a str> {
    groups
        .iter()
        .map(|g| (distance(name, g), g.as_str()))
        .filter(|(d, g)| *d <= 2.max(g.len() / 3))
        .min()
        .map(|(_, g)| g)
}

/// Levenshtein distance between two texts, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_rule_on_a_table_of_cases() {
        // (deleting, non-admins, --max-delete, refused)
        let cases = [
            (20, 20, None, true),      // the whole class
            (470, 470, None, true),    // the whole term
            (11, 20, None, true),      // more than half
            (10, 20, None, false),     // exactly half
            (9, 9, None, false),       // under the floor: a small hub
            (10, 19, None, true),      // at the floor, more than half
            (3, 303, None, false),     // a few leave
            (20, 20, Some(20), false), // said how many may go
            (20, 20, Some(25), false),
            (20, 20, Some(19), true), // more than allowed
            (3, 303, Some(2), true),  // a flag given is always a limit
            (0, 0, None, false),
        ];
        for (deleting, non_admins, max, refused) in cases {
            let result = check_delete_share(deleting, non_admins, max);
            assert_eq!(result.is_err(), refused, "{deleting} of {non_admins}, max {max:?}: {result:?}");
        }
    }

    #[test]
    fn share_errors_name_the_count_and_the_flag() {
        let err = check_delete_share(20, 20, None).unwrap_err();
        assert!(err.contains("deletes 20 of the hub's 20 non-admin users"), "{err}");
        assert!(err.contains("--max-delete 20"), "{err}");
        let err = check_delete_share(20, 20, Some(5)).unwrap_err();
        assert!(err.contains("more than --max-delete 5"), "{err}");
    }

    #[test]
    fn share_counts_only_existing_non_admins() {
        let user = |name: &str, admin: bool| User { name: name.into(), admin, ..User::default() };
        let users = [user("a", false), user("b", false), user("boss", true)];
        let names = ["a", "boss", "ghost"].map(String::from);
        assert_eq!(delete_share(&names, &users), (1, 2));
    }

    #[test]
    fn empty_roster_never_prunes() {
        assert!(check_prune_roster(0, "e.csv").unwrap_err().contains("`e.csv` has no users"));
        assert!(check_prune_roster(1, "e.csv").is_ok());
    }

    #[test]
    fn group_filters_must_name_a_group() {
        let groups = ["staff", "lab1"].map(String::from);
        // (flag, name, expected error or None)
        let cases = [
            ("--except-group", "staff", None),
            (
                "--except-group",
                "staf",
                Some("--except-group `staf`: no such group on the hub; did you mean `staff`? (see: manage-users groups list)"),
            ),
            ("--group", "nosuch", Some("--group `nosuch`: no such group on the hub (see: manage-users groups list)")),
        ];
        for (flag, name, expected) in cases {
            assert_eq!(check_group_filter(flag, name, &groups).err().as_deref(), expected, "{flag} {name}");
        }
    }
}
