//! The journal primitives: `hub.history()`, `hub.undo(run, options)` and
//! `hub.left_without_password(list)`, over `crate::journal`.

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::convert::to_dynamic;
use super::error::{bad_input, not_found};
use super::hub_admin_api::hub_admin_module as admin;
use super::hub_api::{hub_module as users, Hub};
use super::journaling::names_of;
use crate::journal::{left_without_password, runs_of, RunLog, UndoPlan, UndoStep};

/// The runs against `hub`'s URL, oldest first.
fn runs(hub: &Hub) -> Vec<RunLog> {
    crate::journal::dir().map(|dir| runs_of(&dir, &hub.url_text())).unwrap_or_default()
}

/// The run `wanted` names (its id, or the start of it), else the newest
/// run against this hub that changed something.
fn pick(hub: &Hub, wanted: &str) -> Result<RunLog, Box<EvalAltResult>> {
    let all = runs(hub);
    if wanted.is_empty() {
        return all
            .into_iter()
            .rev()
            .find(|r| r.changes > 0)
            .ok_or_else(|| not_found(format!("no run changed `{}` yet: there is nothing to undo", hub.url_text())));
    }
    let mut found: Vec<RunLog> = all.into_iter().filter(|r| r.run.starts_with(wanted)).collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(not_found(format!("no run `{wanted}` against `{}`; `jhctl history` lists the runs", hub.url_text()))),
        n => Err(bad_input(format!("`{wanted}` names {n} runs; give more of the id (`jhctl history` lists them)"))),
    }
}

fn one(name: &str) -> Array {
    vec![Dynamic::from(name.to_string())]
}

fn names(list: &[String]) -> Array {
    list.iter().cloned().map(Dynamic::from).collect()
}

/// Tags each result of `results` with `step` and appends it to `out`.
fn tagged(out: &mut Array, step: &str, results: Array) {
    for mut r in results {
        if let Some(mut map) = r.write_lock::<Map>() {
            map.insert("step".into(), step.into());
        }
        out.push(r);
    }
}

/// Applies `plan`'s steps through the journaled primitives, so the undo
/// is a run of its own in the journal.
fn apply(hub: &mut Hub, plan: &UndoPlan) -> Result<Array, Box<EvalAltResult>> {
    let mut out = Array::new();
    let of = |f: fn(&UndoStep) -> bool| plan.steps.iter().filter(|s| f(s)).collect::<Vec<_>>();
    let recreate = of(|s| matches!(s, UndoStep::Recreate { .. }));
    if !recreate.is_empty() {
        let rows: Array = recreate
            .iter()
            .filter_map(|s| match s {
                UndoStep::Recreate { user } => {
                    let mut row = Map::new();
                    row.insert("username".into(), user.name.clone().into());
                    row.insert("admin".into(), user.admin.into());
                    if let Some(balance) = user.balance {
                        row.insert("quota".into(), balance.into());
                    }
                    Some(Dynamic::from(row))
                }
                _ => None,
            })
            .collect();
        tagged(&mut out, "re-create", users::create_users_with(hub, rows.clone(), Map::new())?);
        for s in &recreate {
            if let UndoStep::Recreate { user } = s {
                for group in &user.groups {
                    tagged(&mut out, &format!("group {group}"), users::add_to_group(hub, group, one(&user.name))?);
                }
            }
        }
        let with_quota: Array =
            rows.into_iter().filter(|r| r.read_lock::<Map>().is_some_and(|m| m.contains_key("quota"))).collect();
        if !with_quota.is_empty() {
            tagged(&mut out, "balance", admin::set_quota(hub, with_quota)?);
        }
        let unlimited: Vec<String> = recreate
            .iter()
            .filter_map(|s| match s {
                UndoStep::Recreate { user } if user.unlimited == Some(true) => Some(user.name.clone()),
                _ => None,
            })
            .collect();
        if !unlimited.is_empty() {
            tagged(&mut out, "unlimited", admin::set_unlimited(hub, names(&unlimited), true)?);
        }
    }
    apply_changes(hub, plan, &mut out)?;
    Ok(out)
}

/// The steps after re-creating: renames, admin flags, groups, quota, deletes.
fn apply_changes(hub: &mut Hub, plan: &UndoPlan, out: &mut Array) -> Result<(), Box<EvalAltResult>> {
    for step in &plan.steps {
        match step {
            UndoStep::Recreate { .. } => {}
            UndoStep::Rename { from, to } => out.push(users::rename_user(hub, from, to)?),
            UndoStep::SetAdmin { name, admin } => tagged(out, "admin", users::set_admin(hub, one(name), *admin)?),
            UndoStep::AddToGroup { name, group } => tagged(out, "group", users::add_to_group(hub, group, one(name))?),
            UndoStep::RemoveFromGroup { name, group } => {
                tagged(out, "group", users::remove_from_group(hub, group, one(name))?)
            }
            UndoStep::SetQuota { name, balance, unlimited } => {
                tagged(out, "balance", admin::set_quota_amount(hub, one(name), *balance)?);
                tagged(out, "unlimited", admin::set_unlimited(hub, one(name), *unlimited)?);
            }
            UndoStep::Delete { name } => tagged(out, "delete", users::delete_users(hub, one(name))?),
        }
    }
    Ok(())
}

/// The journal primitives, methods of `hub`.
#[export_module]
pub mod hub_journal_module {
    use super::*;

    /// The runs that changed this hub (the hub `hub` points at), newest
    /// first, from the journals jhctl keeps under
    /// `$XDG_STATE_HOME/jhctl/runs` (else `~/.local/state/jhctl/runs`).
    /// Each is `#{run, started, finished, exit, command, counts, changes,
    /// interrupted}`: `command` the command line (secrets left out),
    /// `counts` the outcomes per status (`#{deleted: 5}`), `changes` how
    /// many changed the hub, `interrupted` true when the run stopped
    /// without its end record (killed, crashed). Sends nothing to the hub.
    ///
    /// ```rhai
    /// for r in hub.history() { print(`${r.run} ${r.command} ${r.changes}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn history(hub: &mut Hub) -> Result<Array, Box<EvalAltResult>> {
        let mut list = Array::new();
        for log in runs(hub).into_iter().rev() {
            let interrupted = log.interrupted();
            let mut map: Map = to_dynamic(&log)?.cast();
            map.insert("interrupted".into(), interrupted.into());
            map.insert("command".into(), log.command.join(" ").into());
            list.push(map.into());
        }
        Ok(list)
    }

    /// Undoes run `run` (its id or the start of it; `""` for the newest
    /// run against this hub that changed something). With `#{plan: true}`
    /// changes nothing and returns `#{run, command, started, interrupted,
    /// steps, lost}`: `steps` the changes that put things back (deleted
    /// users re-created with their admin flag, groups and balance; admin
    /// flags, memberships and balances put back; users the run created
    /// deleted), `lost` what cannot come back (passwords, token texts,
    /// server contents), one line each. Without it applies the steps and
    /// returns one result per request (`step` says which), journaled as a
    /// run of its own.
    ///
    /// Throws when: no such run (exit 2 when the id is ambiguous).
    ///
    /// ```rhai
    /// let plan = hub.undo("", #{ plan: true });
    /// for s in plan.steps { print(`  - ${s}`); }
    /// if plan.steps.len() > 0 { let results = hub.undo(plan.run, #{}); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn undo(hub: &mut Hub, run: &str, options: Map) -> Result<Dynamic, Box<EvalAltResult>> {
        let log = pick(hub, run)?;
        let plan = UndoPlan::of(&log);
        if options.get("plan").and_then(|v| v.as_bool().ok()).unwrap_or(false) {
            let mut map = Map::new();
            map.insert("run".into(), log.run.clone().into());
            map.insert("command".into(), log.command.join(" ").into());
            map.insert("started".into(), log.started.clone().into());
            map.insert("interrupted".into(), log.interrupted().into());
            map.insert(
                "steps".into(),
                plan.steps.iter().map(|s| Dynamic::from(s.describe())).collect::<Array>().into(),
            );
            map.insert("lost".into(), plan.lost.iter().cloned().map(Dynamic::from).collect::<Array>().into());
            return Ok(map.into());
        }
        Ok(apply(hub, &plan)?.into())
    }

    /// The users of `list` (names or rows) that an interrupted run created
    /// to get a password (`hub.create_users(rows, #{passwords: true})`)
    /// and left without one: no run recorded a password set for them, or
    /// a delete, since. Each is `#{name, run}`. Reads only the journals.
    ///
    /// ```rhai
    /// for u in hub.left_without_password(rows) { print(`${u.name} has no password (run ${u.run})`); }
    /// ```
    #[rhai_fn(pure)]
    pub fn left_without_password(hub: &mut Hub, list: Array) -> Array {
        let pending = super::left_without_password(&runs(hub), &names_of(&list));
        pending
            .into_iter()
            .map(|(name, run)| {
                let mut map = Map::new();
                map.insert("name".into(), name.into());
                map.insert("run".into(), run.into());
                Dynamic::from(map)
            })
            .collect()
    }
}
