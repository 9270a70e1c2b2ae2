//! `UndoPlan`: what putting a run's changes back takes, decided from its
//! journal alone.

use serde::Serialize;

use super::record::{Action, UserBefore};
use super::run_log::RunLog;

/// One change that puts something back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum UndoStep {
    /// Create a deleted user again, with its admin flag, groups and quota.
    Recreate {
        /// The user, as it was.
        user: UserBefore,
    },
    /// Rename a renamed user back.
    Rename {
        /// Its name now.
        from: String,
        /// Its name before the run.
        to: String,
    },
    /// Put an admin flag back.
    SetAdmin {
        /// The user.
        name: String,
        /// The flag before the run.
        admin: bool,
    },
    /// Put a user back in a group it was removed from.
    AddToGroup {
        /// The user.
        name: String,
        /// The group.
        group: String,
    },
    /// Take a user out of a group the run added it to.
    RemoveFromGroup {
        /// The user.
        name: String,
        /// The group.
        group: String,
    },
    /// Put a quota balance (and the unlimited flag) back.
    SetQuota {
        /// The user.
        name: String,
        /// The balance before the run.
        balance: i64,
        /// The unlimited flag before the run.
        unlimited: bool,
    },
    /// Delete a user the run created.
    Delete {
        /// The user.
        name: String,
    },
}

impl UndoStep {
    /// The step as a line of the plan.
    pub fn describe(&self) -> String {
        match self {
            UndoStep::Recreate { user } => {
                let groups =
                    if user.groups.is_empty() { String::new() } else { format!(" [{}]", user.groups.join(", ")) };
                let quota = match (user.unlimited, user.balance) {
                    (Some(true), _) => ", unlimited quota".to_string(),
                    (_, Some(balance)) => format!(", balance {balance}"),
                    _ => String::new(),
                };
                format!("re-create {} (admin={}){groups}{quota}", user.name, user.admin)
            }
            UndoStep::Rename { from, to } => format!("rename {from} back to {to}"),
            UndoStep::SetAdmin { name, admin } => format!("set admin={admin} for {name}"),
            UndoStep::AddToGroup { name, group } => format!("add {name} to group {group} again"),
            UndoStep::RemoveFromGroup { name, group } => format!("remove {name} from group {group}"),
            UndoStep::SetQuota { name, balance, unlimited: true } => {
                format!("set unlimited quota for {name} (balance {balance})")
            }
            UndoStep::SetQuota { name, balance, .. } => format!("set the balance of {name} back to {balance}"),
            UndoStep::Delete { name } => format!("delete {name} (created by the run)"),
        }
    }
}

/// What undoing a run does, and what it cannot bring back.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UndoPlan {
    /// The run undone.
    pub run: String,
    /// The changes, in the order they are applied.
    pub steps: Vec<UndoStep>,
    /// What cannot come back, one line each.
    pub lost: Vec<String>,
}

impl UndoPlan {
    /// The plan that undoes the changes recorded in `log`.
    pub fn of(log: &RunLog) -> UndoPlan {
        let mut plan = UndoPlan { run: log.run.clone(), ..UndoPlan::default() };
        for (action, name, status, detail) in &log.outcomes {
            let done = matches!(status.as_str(), "created" | "deleted" | "updated" | "stopped");
            if done {
                plan.add(*action, name, detail.as_deref(), log.before(name));
            }
        }
        plan.steps.sort_by_key(order);
        plan.steps.dedup();
        plan
    }

    fn add(&mut self, action: Action, name: &str, detail: Option<&str>, before: Option<&UserBefore>) {
        let step = match (action, before) {
            (Action::Create, _) => Some(UndoStep::Delete { name: name.into() }),
            (Action::Delete, Some(user)) if user.exists => {
                self.lost.push(format!(
                    "{name}: the password (a deleted user comes back without one; set-passwords gives a new one)"
                ));
                if user.server.is_some() {
                    self.lost.push(format!("{name}: its server was running; it is not started again"));
                }
                Some(UndoStep::Recreate { user: user.clone() })
            }
            (Action::SetAdmin, Some(user)) if user.exists => {
                Some(UndoStep::SetAdmin { name: name.into(), admin: user.admin })
            }
            (Action::AddToGroup, Some(user)) => detail
                .filter(|g| !user.groups.iter().any(|m| m == g))
                .map(|g| UndoStep::RemoveFromGroup { name: name.into(), group: g.into() }),
            (Action::RemoveFromGroup, Some(user)) => detail
                .filter(|g| user.groups.iter().any(|m| m == g))
                .map(|g| UndoStep::AddToGroup { name: name.into(), group: g.into() }),
            (Action::Quota, Some(UserBefore { balance: Some(balance), unlimited, .. })) => {
                Some(UndoStep::SetQuota { name: name.into(), balance: *balance, unlimited: unlimited.unwrap_or(false) })
            }
            (Action::Rename, _) => detail.map(|new| UndoStep::Rename { from: new.into(), to: name.into() }),
            (Action::Password, _) => {
                self.lost.push(format!("{name}: the password set by the run (the one before it cannot be put back)"));
                None
            }
            (Action::RevokeToken, _) => {
                let id = detail.unwrap_or("?");
                self.lost.push(format!("{name}: token {id} (revoked tokens cannot be restored; make a new one)"));
                None
            }
            (Action::StopServer | Action::RemoveServer, _) => {
                self.lost.push(format!(
                    "{name}: a server stopped or removed (not started again; a removed server's contents are gone)"
                ));
                None
            }
            (_, _) => {
                self.lost.push(format!("{name}: {action:?} has no before-state in the journal; check it by hand"));
                None
            }
        };
        self.steps.extend(step);
    }
}

/// Re-create and rename first (later steps name those users), deletes last.
fn order(step: &UndoStep) -> u8 {
    match step {
        UndoStep::Recreate { .. } => 0,
        UndoStep::Rename { .. } => 1,
        UndoStep::SetAdmin { .. } => 2,
        UndoStep::AddToGroup { .. } | UndoStep::RemoveFromGroup { .. } => 3,
        UndoStep::SetQuota { .. } => 4,
        UndoStep::Delete { .. } => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, admin: bool, groups: &[&str], balance: Option<i64>) -> UserBefore {
        UserBefore {
            name: name.into(),
            exists: true,
            admin,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            balance,
            unlimited: balance.map(|_| false),
            ..UserBefore::default()
        }
    }

    fn log(befores: Vec<(Action, UserBefore)>, outcomes: &[(Action, &str, &str, Option<&str>)]) -> RunLog {
        RunLog {
            run: "r".into(),
            befores: befores.into_iter().map(|(a, u)| (a, None, u)).collect(),
            outcomes: outcomes
                .iter()
                .map(|(a, n, s, d)| (*a, n.to_string(), s.to_string(), d.map(String::from)))
                .collect(),
            ..RunLog::default()
        }
    }

    #[test]
    fn each_change_is_put_back_and_what_cannot_be_is_listed() {
        let log = log(
            vec![
                (Action::Delete, user("gone", true, &["lab"], Some(250))),
                (Action::SetAdmin, user("boss", true, &[], None)),
                (Action::AddToGroup, user("amy", false, &[], Some(5))),
                (Action::RemoveFromGroup, user("bob", false, &["lab"], None)),
                (Action::Quota, user("amy", false, &[], Some(5))),
            ],
            &[
                (Action::Delete, "gone", "deleted", None),
                (Action::Delete, "never", "not_found", None),
                (Action::SetAdmin, "boss", "updated", Some("false")),
                (Action::AddToGroup, "amy", "updated", Some("lab")),
                (Action::RemoveFromGroup, "bob", "updated", Some("lab")),
                (Action::Quota, "amy", "updated", Some("add 10")),
                (Action::Quota, "amy", "updated", Some("add 10")),
                (Action::Create, "new", "created", None),
                (Action::Password, "new", "updated", None),
                (Action::RevokeToken, "amy", "deleted", Some("a42")),
            ],
        );
        let plan = UndoPlan::of(&log);
        let lines: Vec<String> = plan.steps.iter().map(UndoStep::describe).collect();
        assert_eq!(
            lines,
            [
                "re-create gone (admin=true) [lab], balance 250",
                "set admin=true for boss",
                "remove amy from group lab",
                "add bob to group lab again",
                "set the balance of amy back to 5",
                "delete new (created by the run)",
            ]
        );
        assert_eq!(plan.lost.len(), 3, "{:?}", plan.lost);
        assert!(plan.lost.iter().any(|l| l.starts_with("amy: token a42")));
        assert!(plan.lost.iter().any(|l| l.starts_with("new: the password")));
        assert!(plan.lost.iter().any(|l| l.starts_with("gone: the password")));
    }
}
