//! Which users an interrupted run created to get a password and left
//! without one: a re-run of the same `create --generate-passwords` gives
//! them theirs.

use std::collections::BTreeMap;

use super::record::Action;
use super::run_log::RunLog;

/// The users of `names` that an interrupted run of `runs` (oldest first)
/// found absent and was about to create with a password (`password due`),
/// for which no run recorded a password set or a delete since. Returns
/// `(name, run id)` pairs in the order of `names`.
pub fn left_without_password(runs: &[RunLog], names: &[String]) -> Vec<(String, String)> {
    let mut pending: BTreeMap<String, String> = BTreeMap::new();
    for log in runs {
        if log.interrupted() {
            for (action, detail, user) in &log.befores {
                if *action == Action::Create && !user.exists && detail.as_deref() == Some("password due") {
                    pending.entry(user.name.clone()).or_insert_with(|| log.run.clone());
                }
            }
        }
        for (action, name, status, _) in &log.outcomes {
            let settled =
                matches!((action, status.as_str()), (Action::Password, "updated") | (Action::Delete, "deleted"));
            if settled {
                pending.remove(name);
            }
        }
    }
    names.iter().filter_map(|name| pending.get(name).map(|run| (name.clone(), run.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::UserBefore;

    fn log(run: &str, interrupted: bool, befores: &[&str], outcomes: &[(Action, &str, &str)]) -> RunLog {
        RunLog {
            run: run.into(),
            finished: if interrupted { None } else { Some("t".into()) },
            befores: befores
                .iter()
                .map(|n| {
                    let user = UserBefore { name: n.to_string(), ..UserBefore::default() };
                    (Action::Create, Some("password due".to_string()), user)
                })
                .collect(),
            outcomes: outcomes.iter().map(|(a, n, s)| (*a, n.to_string(), s.to_string(), None)).collect(),
            ..RunLog::default()
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn users_of_an_interrupted_create_without_a_recorded_password_are_pending() {
        let killed = log(
            "r1",
            true,
            &["a", "b", "c", "d"],
            &[(Action::Create, "a", "created"), (Action::Create, "b", "created"), (Action::Password, "a", "updated")],
        );
        // b: created, no password; c, d: the kill came before their outcome.
        let all = names(&["a", "b", "c", "d", "e"]);
        let pending = left_without_password(std::slice::from_ref(&killed), &all);
        assert_eq!(pending, [("b".into(), "r1".into()), ("c".into(), "r1".into()), ("d".into(), "r1".into())]);

        // A later run gave c its password and deleted d.
        let later = log("r2", false, &[], &[(Action::Password, "c", "updated"), (Action::Delete, "d", "deleted")]);
        let pending = left_without_password(&[killed.clone(), later], &all);
        assert_eq!(pending, [("b".into(), "r1".into())]);

        // A finished run's users are never resumed.
        let finished = log("r3", false, &["x"], &[(Action::Create, "x", "created")]);
        assert!(left_without_password(&[finished], &names(&["x"])).is_empty());
    }
}
