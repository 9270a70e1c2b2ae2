//! The `hub` methods of sync: plan from a roster, then apply the plan.
//! The plan itself is computed in the core ([`crate::hub::plan_sync`]).

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::convert::{to_array, to_dynamic};
use super::error::{bad_input, thrown};
use super::hub_admin_api::{delete_then_remove, delete_via};
use super::hub_api::Hub;
use super::journaling::{journaled, Change};
use super::runtime::block_on;
use crate::hub::{
    check_prune_roster, plan_sync as compute_plan, SyncAction, SyncOptions, SyncPlan, SyncResult, SyncRow, UserQuery,
};
use crate::journal::Action;

/// A roster row as the plan sees it; a row that carries an error stops the plan.
fn sync_row(value: &Dynamic) -> Result<SyncRow, Box<EvalAltResult>> {
    if let Some(name) = value.clone().try_cast::<String>() {
        return Ok(SyncRow { name, ..SyncRow::default() });
    }
    let map = value
        .read_lock::<Map>()
        .ok_or_else(|| bad_input(format!("expected a roster row or a username, got {}", value.type_name())))?;
    if let Some(error) = map.get("error").filter(|e| !e.is_unit()) {
        return Err(bad_input(format!("{error}; sync makes the hub match the whole file, so fix this row first")));
    }
    let name = map
        .get("username")
        .filter(|v| !v.is_unit())
        .map(|v| v.to_string())
        .ok_or_else(|| bad_input("a row has no `username`; sync needs one in every row"))?;
    let admin = map.get("admin").map(|v| v.as_bool().unwrap_or(false));
    let groups = map.get("groups").map(|v| match v.read_lock::<Array>() {
        Some(list) => list.iter().map(|g| g.to_string()).collect(),
        None if v.is_unit() => Vec::new(),
        None => vec![v.to_string()],
    });
    Ok(SyncRow { name, admin, groups })
}

/// The sync primitives, methods of `hub`.
#[export_module]
pub mod hub_sync_module {
    use super::*;

    /// The plan that makes the hub match `rows` (roster rows: `username`,
    /// maybe `admin` and `groups`), from one listing of users and groups.
    /// `options`: `prune` (delete users not in the rows, never admins unless
    /// `prune_admins`, never the token's own user). Returns a map: `create`
    /// (`#{name, admin}`, row order), `admin` (`#{name, from, to}`),
    /// `groups` (`#{name, exists, add, remove}`), `delete` (names), `kept`
    /// (`#{name, reason}`), `members` and `count` (0 when the hub matches).
    ///
    /// With `prune`, an empty `rows` is refused before anything is read:
    /// it would delete every non-admin user (`options.file` names the
    /// roster in the message).
    ///
    /// Throws when: a row carries an error or has no `username`, or `rows`
    /// is empty with `prune` (exit 2); the hub cannot be reached.
    ///
    /// ```rhai
    /// let plan = hub.plan_sync(roster::read("class.csv"), #{ prune: true });
    /// print(`${plan.count} changes`);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn plan_sync(hub: &mut Hub, rows: Array, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let rows = rows.iter().map(sync_row).collect::<Result<Vec<_>, _>>()?;
        let flag = |k: &str| options.get(k).and_then(|v| v.as_bool().ok()).unwrap_or(false);
        if flag("prune") {
            let file = options.get("file").filter(|f| !f.is_unit()).map_or("the roster".into(), |f| f.to_string());
            check_prune_roster(rows.len(), &file).map_err(bad_input)?;
        }
        let client = hub.client()?;
        let query = UserQuery::default();
        let (users, groups, me) =
            block_on(async { futures::join!(client.users(&query), client.groups(), client.whoami()) })?;
        let me = me.map_err(thrown)?;
        let me = (me.get("kind").and_then(|k| k.as_str()) == Some("user"))
            .then(|| me.get("name").and_then(|n| n.as_str()).map(str::to_string))
            .flatten();
        let options = SyncOptions { prune: flag("prune"), prune_admins: flag("prune_admins"), me };
        let plan = compute_plan(&rows, &users.map_err(thrown)?, &groups.map_err(thrown)?, &options);
        Ok(to_dynamic(&plan)?.cast::<Map>())
    }

    /// Applies a plan from `hub.plan_sync`: creates, admin flags, group
    /// memberships, deletions, in that order, each step concurrent; each
    /// user to delete is read again just before its delete, and one made
    /// an admin since the plan is `skipped` (`error` says why). One
    /// result per change: `#{name, status, error, action}` with `action`
    /// `create`, `admin`, `add`, `remove` or `delete` (and `group` for
    /// `add`/`remove`, `admin` for `create`/`admin`). In a dry run every
    /// change is `planned`.
    ///
    /// Throws when: `plan` is not a plan from `hub.plan_sync`.
    ///
    /// ```rhai
    /// let results = hub.apply(hub.plan_sync(roster::read("class.csv"), #{}));
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn apply(hub: &mut Hub, plan: Map) -> Result<Array, Box<EvalAltResult>> {
        let names = plan_names(&plan);
        let plan: SyncPlan = rhai::serde::from_dynamic(&plan.into())
            .map_err(|e| bad_input(format!("not a plan from `hub.plan_sync`: {e}")))?;
        let client = hub.client()?;
        journaled(hub, Change::of(Action::Create), &names, || to_array(&block_on(client.apply_sync(&plan))?))
    }

    /// Applies a plan from `hub.plan_sync` as `hub.apply(plan)` does, with
    /// options: `via: "exec"` (and the exec options of `set_passwords`)
    /// removes each deleted user's password row and quota record from the
    /// store the hub reads with one exec after the deletions, instead of
    /// clearing them through the admin API first (see `delete_users`).
    ///
    /// Throws when: `plan` is not a plan from `hub.plan_sync`; `via` or an
    /// exec option is not valid, or the cluster's configuration cannot be
    /// loaded (before anything is changed).
    ///
    /// ```rhai
    /// let results = hub.apply(hub.plan_sync(roster::read("class.csv"), #{ prune: true }), #{ via: "exec" });
    /// ```
    #[rhai_fn(name = "apply", pure, return_raw)]
    pub fn apply_with(hub: &mut Hub, plan: Map, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let names = plan_names(&plan);
        journaled(hub, Change::of(Action::Create), &names, || apply_via(hub, plan, options))
    }
}

/// `hub.apply(plan, options)`, not journaled.
fn apply_via(hub: &Hub, plan: Map, options: Map) -> Result<Array, Box<EvalAltResult>> {
    {
        let plan: SyncPlan = rhai::serde::from_dynamic(&plan.into())
            .map_err(|e| bad_input(format!("not a plan from `hub.plan_sync`: {e}")))?;
        let client = hub.client()?;
        let Some(exec) = delete_via(hub, &options)? else {
            return to_array(&block_on(client.apply_sync(&plan))?);
        };
        let mut results = Vec::new();
        let deleted = delete_then_remove(hub, &exec, |client| {
            let (delete, others): (Vec<SyncResult>, Vec<SyncResult>) =
                block_on(client.apply_sync(&plan))?.into_iter().partition(|r| r.action == SyncAction::Delete);
            results = others;
            Ok(delete.into_iter().map(|r| r.result).collect())
        })?;
        results.extend(deleted.into_iter().map(|result| SyncResult {
            result,
            action: SyncAction::Delete,
            group: None,
            admin: None,
        }));
        to_array(&results)
    }
}

/// Every user a plan names (the values of its `name` and `username`
/// fields, at any depth): the users whose state the journal keeps.
pub(super) fn plan_names(plan: &Map) -> Vec<String> {
    fn walk(value: &Dynamic, out: &mut Vec<String>) {
        if let Some(map) = value.read_lock::<Map>() {
            for (key, v) in map.iter() {
                if (key.as_str() == "name" || key.as_str() == "username") && v.is_string() {
                    out.push(v.to_string());
                } else if !v.is_string() {
                    walk(v, out);
                }
            }
        } else if let Some(list) = value.read_lock::<Array>() {
            list.iter().for_each(|v| walk(v, out));
        } else if value.is_string() {
            out.push(value.to_string());
        }
    }
    let mut out = Vec::new();
    for value in plan.values() {
        walk(value, &mut out);
    }
    out.sort();
    out.dedup();
    out
}
