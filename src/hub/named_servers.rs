//! Every server of every user, and removing stopped named servers: the
//! listing (`include_stopped_servers`), the plan (a pure function of the
//! listing, unit-tested) and the removal (`DELETE .../servers/{name}`
//! with `{"remove": true}`).
//!
//! The plan only ever removes named servers that are stopped and whose
//! last activity is older than the cutoff; running or pending ones and
//! default servers are never removed. Each planned server is read again
//! just before its removal ([`recheck_server`]): one started or used while
//! the confirmation question waited is left alone.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::age::{cutoff, parse_time};
use super::recheck::{Planned, Recheck};
use super::{HubClient, HubError, ItemResult, ItemStatus, Kept, ServerRow, User, UserQuery};

/// Every server of `users` (as listed with stopped servers), by user then server name.
pub fn server_rows(users: &[User]) -> Vec<ServerRow> {
    let mut rows = Vec::new();
    for user in users {
        for (name, server) in &user.servers {
            let state = if server.pending.is_some() {
                "pending"
            } else if server.ready {
                "running"
            } else {
                "stopped"
            };
            rows.push(ServerRow {
                user: user.name.clone(),
                name: name.clone(),
                state: state.into(),
                last_activity: server.last_activity.clone(),
                started: server.started.clone(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.user, &a.name).cmp(&(&b.user, &b.name)));
    rows
}

/// Named servers to remove, and old ones kept because they run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerPlan {
    /// Stopped named servers to remove.
    pub remove: Vec<ServerRow>,
    /// Servers left alone on purpose (`name` is `USER/SERVER`).
    pub kept: Vec<Kept>,
    /// The cutoff (ISO 8601).
    pub cutoff: String,
    /// How many servers are removed.
    pub count: usize,
}

/// What the plan's rules say about one server row.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    /// A default server, or active since the cutoff: not in the plan.
    Leave,
    /// Old, but running or pending: kept.
    Running,
    /// Old and stopped: remove.
    Remove,
}

fn judge(row: &ServerRow, limit: DateTime<Utc>) -> Verdict {
    let active = row.last_activity.as_deref().and_then(parse_time).is_some_and(|at| at >= limit);
    if row.name.is_empty() || active {
        Verdict::Leave
    } else if row.state == "stopped" {
        Verdict::Remove
    } else {
        Verdict::Running
    }
}

/// The plan that removes the stopped named servers of `rows` not active
/// for `since` before `now` (a server never active counts as inactive).
pub fn plan_server_prune(rows: &[ServerRow], now: DateTime<Utc>, since: Duration) -> ServerPlan {
    let limit = cutoff(now, since);
    let mut plan = ServerPlan { cutoff: limit.to_rfc3339(), ..ServerPlan::default() };
    for row in rows {
        match judge(row, limit) {
            Verdict::Leave => {}
            Verdict::Remove => plan.remove.push(row.clone()),
            Verdict::Running => {
                plan.kept.push(Kept { name: row.label(), reason: format!("{} (stop it first)", row.state) })
            }
        }
    }
    plan.count = plan.remove.len();
    plan
}

/// Whether `row` of `plan` is still to be removed, its user read again
/// (`fresh`, with stopped servers; `None` when gone) just before the
/// removal: a server started or used since the plan is kept, with what
/// changed; one already gone is [`Recheck::Gone`].
pub fn recheck_server(plan: &ServerPlan, row: &ServerRow, fresh: Option<&User>) -> Recheck {
    let Some(user) = fresh else { return Recheck::Gone };
    let Some(limit) = parse_time(&plan.cutoff) else {
        return Recheck::Skip(format!("the plan's cutoff `{}` is unreadable; plan again", plan.cutoff));
    };
    let rows = server_rows(std::slice::from_ref(user));
    let Some(now) = rows.iter().find(|r| r.name == row.name) else { return Recheck::Gone };
    if now.state != "stopped" {
        return Recheck::Skip(format!("server started since the plan (now {})", now.state));
    }
    match judge(now, limit) {
        Verdict::Remove => Recheck::Act,
        Verdict::Running => Recheck::Skip(format!("server started since the plan (now {})", now.state)),
        Verdict::Leave => Recheck::Skip(format!(
            "active again since the plan (last activity {})",
            now.last_activity.as_deref().unwrap_or("unknown")
        )),
    }
}

impl HubClient {
    /// Every server of every user, stopped ones too, all pages.
    pub async fn servers(&self) -> Result<Vec<ServerRow>, HubError> {
        let query = UserQuery { include_stopped_servers: true, ..UserQuery::default() };
        Ok(server_rows(&self.users(&query).await?))
    }

    /// Removes the servers of `plan`, each read again just before its
    /// removal ([`recheck_server`]): a server started or used since the
    /// plan is `skipped` with what changed, one gone is `not_found`; the
    /// others as [`HubClient::remove_servers`]. One result per server of
    /// `plan.remove`, in its order.
    pub async fn remove_planned_servers(&self, plan: &ServerPlan) -> Vec<ItemResult> {
        let items: Vec<Planned> = plan.remove.iter().map(|r| Planned { user: &r.user, label: r.label() }).collect();
        let decide = |id: usize, fresh: Option<&User>| recheck_server(plan, &plan.remove[id], fresh);
        let act = |id: usize| {
            let row = &plan.remove[id];
            async move { self.remove_servers(&[(row.user.clone(), row.name.clone())]).await }
        };
        self.recheck_each(&items, true, decide, act).await
    }

    /// Removes each `(user, server)` named server concurrently (stopping
    /// it first when it runs): `deleted`, `pending` (still stopping; the hub
    /// removes it when stopped), `not_found` or `failed`; `planned` in a
    /// dry run. Each result's name is `USER/SERVER`.
    pub async fn remove_servers(&self, servers: &[(String, String)]) -> Vec<ItemResult> {
        let jobs = servers.iter().enumerate().map(|(id, (user, server))| async move {
            let label = format!("{user}/{server}");
            if server.is_empty() {
                return ItemResult::failed(user, "the default server cannot be removed; stop it instead").of(id);
            }
            if self.dry_run() {
                return ItemResult::new(label, ItemStatus::Planned).of(id);
            }
            let path = format!("/hub/api/users/{}/servers/{}", Self::segment(user), Self::segment(server));
            let body = json!({ "remove": true });
            let result = match self.call(Method::DELETE, &path, &[], Some(&body)).await {
                Ok(r) if r.status.as_u16() == 202 => ItemResult::new(label, ItemStatus::Pending),
                Ok(r) if r.ok() => ItemResult::new(label, ItemStatus::Deleted),
                Ok(r) if r.status.as_u16() == 404 && r.ambiguous => ItemResult::new(label, ItemStatus::Deleted),
                Ok(r) if r.status.as_u16() == 404 => ItemResult::new(label, ItemStatus::NotFound),
                Ok(r) => ItemResult::failed(label, r.describe()),
                Err(e) => ItemResult::failed(label, e.to_string()),
            };
            result.of(id)
        });
        futures::future::join_all(jobs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Server;

    fn now() -> DateTime<Utc> {
        parse_time("2026-06-30T00:00:00Z").unwrap()
    }

    fn server(name: &str, ready: bool, pending: Option<&str>, days: Option<i64>) -> (String, Server) {
        let last_activity = days.map(|d| (now() - chrono::Duration::days(d)).to_rfc3339());
        let server = Server {
            name: name.into(),
            ready,
            pending: pending.map(str::to_string),
            last_activity,
            ..Server::default()
        };
        (name.to_string(), server)
    }

    fn user(name: &str, servers: Vec<(String, Server)>) -> User {
        User { name: name.into(), servers: servers.into_iter().collect(), ..User::default() }
    }

    #[test]
    fn rows_say_each_server_s_state() {
        let users = [
            user("bob", vec![server("", true, None, Some(0)), server("lab", false, None, Some(40))]),
            user("amy", vec![server("gpu", false, Some("spawn"), None)]),
        ];
        let rows: Vec<(String, String)> = server_rows(&users).into_iter().map(|r| (r.label(), r.state)).collect();
        let expected = [("amy/gpu", "pending"), ("bob", "running"), ("bob/lab", "stopped")];
        assert_eq!(rows, expected.map(|(l, s)| (l.to_string(), s.to_string())));
    }

    #[test]
    fn only_old_stopped_named_servers_are_removed() {
        let users = [
            user("amy", vec![server("", false, None, Some(90)), server("old", false, None, Some(40))]),
            user("bob", vec![server("busy", true, None, Some(50)), server("new", false, None, Some(2))]),
            user("cid", vec![server("never", false, None, None), server("going", false, Some("stop"), Some(60))]),
        ];
        let plan = plan_server_prune(&server_rows(&users), now(), Duration::from_secs(30 * 86_400));
        let removed: Vec<String> = plan.remove.iter().map(ServerRow::label).collect();
        assert_eq!(removed, ["amy/old", "cid/never"]);
        let kept: Vec<&str> = plan.kept.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(kept, ["bob/busy", "cid/going"]);
        assert_eq!(plan.count, 2);
        let none = plan_server_prune(&server_rows(&users), now(), Duration::from_secs(365 * 86_400));
        assert_eq!((none.count, none.remove.len()), (1, 1), "never active is always old enough");
    }

    // Issue #26: each planned server is read again just before its removal.
    #[test]
    fn recheck_keeps_a_server_that_changed_since_the_plan() {
        let planned = || user("amy", vec![server("", false, None, None), server("old", false, None, Some(40))]);
        let plan = plan_server_prune(&server_rows(&[planned()]), now(), Duration::from_secs(30 * 86_400));
        assert_eq!(plan.count, 1);
        let row = &plan.remove[0];
        let with = |s: (String, Server)| user("amy", vec![s]);
        // (the user now, expected: None to act, Some(reason) to skip, Some("gone") when gone)
        let cases: Vec<(Option<User>, Option<&str>)> = vec![
            (Some(planned()), None),
            (Some(with(server("old", true, None, Some(40)))), Some("server started since the plan (now running)")),
            (Some(with(server("old", true, None, Some(0)))), Some("server started since the plan (now running)")),
            (
                Some(with(server("old", false, Some("spawn"), Some(40)))),
                Some("server started since the plan (now pending)"),
            ),
            (Some(with(server("old", false, None, Some(0)))), Some("active again since the plan")),
            (Some(with(server("other", false, None, Some(40)))), Some("gone")),
            (None, Some("gone")),
        ];
        for (fresh, expected) in cases {
            let verdict = recheck_server(&plan, row, fresh.as_ref());
            match (expected, &verdict) {
                (None, Recheck::Act) | (Some("gone"), Recheck::Gone) => {}
                (Some(start), Recheck::Skip(why)) if why.starts_with(start) => {}
                _ => panic!("{verdict:?} for {fresh:?}, expected {expected:?}"),
            }
        }
    }
}
