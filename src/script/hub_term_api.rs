//! The end-of-term primitives, methods of `hub`: prune inactive users
//! (plan, then apply with a backup first), API tokens (list, filter,
//! revoke, create) and named servers (list, plan, remove). Plans and
//! filters are computed in the core ([`crate::hub::plan_prune`],
//! [`crate::hub::select_tokens`], [`crate::hub::plan_server_prune`]).

use std::path::Path;
use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::convert::{to_array, to_dynamic};
use super::error::{bad_input, thrown};
use super::hub_admin_api::{delete_then_remove, delete_via};
use super::hub_api::Hub;
use super::journaling::{journaled, Change};
use super::runtime::block_on;
use crate::hub::{
    check_delete_share, check_group_filter, delete_share, parse_duration, plan_prune as compute_prune,
    plan_revoke as compute_revoke, plan_server_prune as compute_server_prune, select_tokens, ApiToken, HubClient,
    ItemResult, NewToken, PruneOptions, PrunePlan, ServerPlan, TokenFilter, TokenOwner, UserQuery,
};
use crate::journal::Action;
use crate::roster::{Cell, Existing};

/// `options[key]` as text, `None` when absent or `()`.
fn text(options: &Map, key: &str) -> Option<String> {
    options.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string())
}

/// `options[key]` as a duration: text with a unit like `30d`. A number
/// (a Rhai int, or text without a unit) is refused, as on the command line.
fn duration(options: &Map, key: &str) -> Result<Option<Duration>, Box<EvalAltResult>> {
    match options.get(key).filter(|v| !v.is_unit()) {
        None => Ok(None),
        Some(v) => parse_duration(&v.to_string()).map(Some).map_err(|e| bad_input(format!("`{key}`: {e}"))),
    }
}

/// `options[key]` as a list of text (a list, or one comma-separated text).
fn list(options: &Map, key: &str) -> Vec<String> {
    match options.get(key) {
        Some(v) if v.is_array() => {
            v.read_lock::<Array>().map(|a| a.iter().map(|x| x.to_string()).collect()).unwrap_or_default()
        }
        Some(v) if v.is_string() => {
            v.to_string().split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        }
        _ => Vec::new(),
    }
}

fn flag(options: &Map, key: &str) -> bool {
    options.get(key).and_then(|v| v.as_bool().ok()).unwrap_or(false)
}

/// Who owns the token jhctl runs with.
fn owner(client: &HubClient) -> Result<TokenOwner, Box<EvalAltResult>> {
    block_on(client.token_owner())?.map_err(thrown)
}

/// `(user, second)` pairs from maps with `user` and `key`, or from `USER/SECOND` texts.
fn pairs(items: &Array, key: &str, what: &str) -> Result<Vec<(String, String)>, Box<EvalAltResult>> {
    items
        .iter()
        .map(|item| {
            if let Some(map) = item.read_lock::<Map>() {
                if let (Some(user), Some(second)) = (text(&map, "user"), text(&map, key)) {
                    return Ok((user, second));
                }
            } else if let Some((user, second)) = item.to_string().split_once('/') {
                return Ok((user.to_string(), second.to_string()));
            }
            Err(bad_input(format!(
                "expected {what} (`USER/{}` or a map with `user` and `{key}`), got `{item}`",
                key.to_uppercase()
            )))
        })
        .collect()
}

/// Writes the prune plan's users to `path` in the export format (atomically).
fn write_backup(plan: &PrunePlan, path: &str, existing: Existing) -> Result<(), Box<EvalAltResult>> {
    let columns: Vec<String> =
        ["username", "admin", "groups", "created", "last_activity", "server"].map(String::from).to_vec();
    let opt = |v: &Option<String>| v.clone().map(Cell::Text).unwrap_or_default();
    let rows: Vec<Vec<Cell>> = plan
        .delete
        .iter()
        .map(|u| {
            vec![
                Cell::Text(u.name.clone()),
                Cell::Bool(u.admin),
                Cell::Text(u.groups.join(";")),
                opt(&u.created),
                opt(&u.last_activity),
                opt(&u.server),
            ]
        })
        .collect();
    crate::roster::write(Path::new(path), &columns, &rows, existing)
        .map_err(|e| bad_input(format!("cannot write the backup, so nothing was deleted: {e}")))
}

/// The end-of-term primitives, methods of `hub`.
#[export_module]
pub mod hub_term_module {
    use super::*;

    /// Seconds in a duration like `45s`, `30m`, `2h`, `1d`, `1w`, `180d`
    /// or `1h30m`; `()` when it is not one (a bare number such as `180`
    /// is not: the unit is required).
    ///
    /// ```rhai
    /// let idle = duration_seconds("2h");   // 7200
    /// ```
    pub fn duration_seconds(text: &str) -> Dynamic {
        parse_duration(text).map(|d| Dynamic::from(d.as_secs() as i64)).unwrap_or(Dynamic::UNIT)
    }

    /// Why `text` is not a duration, with the fix (e.g. "`5` has no unit;
    /// write it with one, e.g. 5d for days, ..."); `()` when it is one.
    ///
    /// ```rhai
    /// let problem = duration_problem("180");
    /// if problem != () { eprint(`error: --since: ${problem}`); }
    /// ```
    pub fn duration_problem(text: &str) -> Dynamic {
        parse_duration(text).err().map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }

    /// The plan that deletes the users nobody used for `since` (last
    /// activity, or creation when they never logged in, older than that),
    /// from one listing. Never admins, never the token's own user, never a
    /// user with a running or pending server (listed in `kept`).
    /// `options`: `since` (`180d`, required), `group` (only its members),
    /// `except_group` (never its members). Returns `#{delete, kept, cutoff,
    /// count}`: `delete` holds `#{name, admin, groups, created,
    /// last_activity, server, idle_days}`, `kept` `#{name, reason}`.
    ///
    /// Throws when: `since` is missing or not a duration, or `group` or
    /// `except_group` names no group on the hub (exit 2); the hub cannot be
    /// reached.
    ///
    /// ```rhai
    /// let plan = hub.plan_prune(#{ since: "180d", except_group: "staff" });
    /// print(`${plan.count} users to delete`);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn plan_prune(hub: &mut Hub, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let since = duration(&options, "since")?.ok_or_else(|| bad_input("`since` is required, e.g. \"180d\""))?;
        let client = hub.client()?;
        let me = owner(&client)?.user;
        let query = UserQuery::default();
        let (users, groups) = block_on(async { futures::join!(client.users(&query), client.groups()) })?;
        let (users, groups) = (users.map_err(thrown)?, groups.map_err(thrown)?);
        let options =
            PruneOptions { since, me, group: text(&options, "group"), except_group: text(&options, "except_group") };
        let names: Vec<String> = groups.into_iter().map(|g| g.name).collect();
        for (flag, group) in [("--group", &options.group), ("--except-group", &options.except_group)] {
            if let Some(group) = group {
                check_group_filter(flag, group, &names).map_err(bad_input)?;
            }
        }
        let plan = compute_prune(&users, chrono::Utc::now(), &options);
        Ok(to_dynamic(&plan)?.cast::<Map>())
    }

    /// Applies a plan from `hub.plan_prune`: first writes the backup
    /// (`options.backup`, a CSV/Excel file in the export format, so
    /// `manage-users create FILE` restores the users with their groups),
    /// then deletes the users concurrently, each read again just before
    /// its delete: one that changed since the plan (now an admin, active
    /// again, a server started, group changed) is left alone. `backup: ()`
    /// skips the backup; an existing backup file is replaced only with
    /// `overwrite: true`. Each user's password and balance are cleared as
    /// `hub.delete_users` does: through the admin API, or with
    /// `via: "exec"` (and the exec options of `set_passwords`) removed from
    /// the hub's store. One result per user: `deleted` (its `note` says
    /// what was cleared), `skipped` (`error` says what changed),
    /// `not_found`, `failed`, or `planned` in a dry run (no backup is
    /// written then).
    ///
    /// Throws when: `plan` is not from `hub.plan_prune`, `via` is not
    /// valid, or the backup exists (without `overwrite: true`) or cannot be
    /// written (exit 2; nothing is deleted).
    ///
    /// ```rhai
    /// let results = hub.apply_prune(hub.plan_prune(#{ since: "180d" }), #{ backup: "gone.csv" });
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn apply_prune(hub: &mut Hub, plan: Map, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let plan: PrunePlan = rhai::serde::from_dynamic(&plan.into())
            .map_err(|e| bad_input(format!("not a plan from `hub.plan_prune`: {e}")))?;
        let via = delete_via(hub, &options)?;
        let client = hub.client()?;
        if let (Some(path), false) = (text(&options, "backup"), client.dry_run()) {
            let overwrite = options.get("overwrite").and_then(|v| v.as_bool().ok()).unwrap_or(false);
            write_backup(&plan, &path, Existing::replace_if(overwrite))?;
        }
        let names: Vec<String> = plan.delete.iter().map(|c| c.name.clone()).collect();
        journaled(hub, Change::of(Action::Delete), &names, || match via {
            None => to_array(&block_on(client.apply_prune(&plan))?),
            Some(exec) => to_array(&delete_then_remove(hub, &exec, |client| block_on(client.apply_prune(&plan)))?),
        })
    }

    /// Refuses (throws, exit 2) deleting `names` when that is more than
    /// half of the hub's non-admin users (and at least 10 of them), unless
    /// `options.max_delete` allows that many; with `max_delete`, more names
    /// than it are always refused. Only existing non-admin users count.
    /// Returns how many of the names are existing non-admin users.
    ///
    /// Throws when: the plan is too large (exit 2, the message says how
    /// many would go and the flag); the hub cannot be reached.
    ///
    /// ```rhai
    /// let plan = hub.plan_prune(#{ since: "180d" });
    /// hub.check_delete(plan.delete.map(|u| u.name), #{ max_delete: () });
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn check_delete(hub: &mut Hub, names: Array, options: Map) -> Result<i64, Box<EvalAltResult>> {
        let names: Vec<String> = names
            .iter()
            .map(|n| {
                n.clone()
                    .into_string()
                    .ok()
                    .or_else(|| n.read_lock::<Map>().and_then(|m| m.get("name").map(|v| v.to_string())))
            })
            .map(|n| n.map(|n| crate::username::normalize(&n).unwrap_or(n)))
            .collect::<Option<_>>()
            .ok_or_else(|| bad_input("`check_delete`: give usernames (or maps with `name`)"))?;
        let max = match options.get("max_delete").filter(|v| !v.is_unit()) {
            None => None,
            Some(v) => Some(
                v.as_int()
                    .ok()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| bad_input("`max_delete`: give a number of users, 0 or more"))?,
            ),
        };
        let client = hub.client()?;
        let users = block_on(client.users(&UserQuery::default()))?.map_err(thrown)?;
        let (deleting, non_admins) = delete_share(&names, &users);
        check_delete_share(deleting, non_admins, max).map_err(bad_input)?;
        Ok(deleting as i64)
    }

    /// Refuses (throws, exit 2) a group filter that names no group on the
    /// hub: `flag` is the option's name for the message (`--group`).
    ///
    /// Throws when: no group is named `name` (exit 2; the message offers
    /// the closest name); the hub cannot be reached.
    ///
    /// ```rhai
    /// hub.check_group("--group", "staff");
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn check_group(hub: &mut Hub, flag: &str, name: &str) -> Result<(), Box<EvalAltResult>> {
        let client = hub.client()?;
        let groups = block_on(client.groups())?.map_err(thrown)?;
        let names: Vec<String> = groups.into_iter().map(|g| g.name).collect();
        check_group_filter(flag, name, &names).map_err(bad_input)
    }

    /// Every API token of every user (the whole hub, concurrently).
    /// Each is `#{user, id, note, scopes, created, expires_at,
    /// last_activity, session_id}` (never the token's text).
    ///
    /// Throws when: the hub cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// for t in hub.tokens() { print(`${t.user} ${t.id} ${t.note}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn tokens(hub: &mut Hub) -> Result<Array, Box<EvalAltResult>> {
        tokens_with(hub, Map::new())
    }

    /// API tokens picked by `options`: `users` (a list of names; absent:
    /// every user), `expired`, `never_expires` (true to pick those),
    /// `unused_since` (`90d`: not used, or never used and made, within
    /// that long). Every filter given must hold.
    ///
    /// Throws when: a named user does not exist, or `unused_since` is not
    /// a duration (exit 2); the hub cannot be reached.
    ///
    /// ```rhai
    /// let stale = hub.tokens(#{ unused_since: "90d", never_expires: true });
    /// ```
    #[rhai_fn(name = "tokens", pure, return_raw)]
    pub fn tokens_with(hub: &mut Hub, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let filter = TokenFilter {
            expired: flag(&options, "expired"),
            never_expires: flag(&options, "never_expires"),
            unused_since: duration(&options, "unused_since")?,
        };
        let client = hub.client()?;
        let named = list(&options, "users");
        let (names, skip_missing) = if named.is_empty() {
            let users = block_on(client.users(&UserQuery::default()))?.map_err(thrown)?;
            (users.into_iter().map(|u| u.name).collect(), true)
        } else {
            (named, false)
        };
        let all = block_on(client.tokens(&names, skip_missing))?.map_err(|e| match &e {
            crate::hub::HubError::Status { status: 400 | 404, .. } => bad_input(e),
            _ => thrown(e),
        })?;
        to_array(&select_tokens(&all, &filter, chrono::Utc::now()))
    }

    /// The plan that revokes tokens picked from `hub.tokens`: `#{revoke,
    /// kept}`, `revoke` the token maps to revoke, `kept` `#{user, id, note,
    /// reason}`. Never the token jhctl runs with, nor any token of its user
    /// when the hub does not say which one that is (JupyterHub before 5.0);
    /// tokens from the hub's configuration (note `from config`), tokens of
    /// running servers (note `Server at /user/NAME/`) and tokens of other
    /// admins only with `options.by_id` (the admin named them by id). One
    /// listing of users (for the admin flags and the running servers).
    ///
    /// Throws when: an item is not a token map from `hub.tokens` (exit 2);
    /// the hub cannot be reached.
    ///
    /// ```rhai
    /// let plan = hub.plan_revoke(hub.tokens(#{ never_expires: true }), #{ by_id: false });
    /// for k in plan.kept { print(`keep ${k.user}/${k.id}: ${k.reason}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn plan_revoke(hub: &mut Hub, tokens: Array, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let tokens: Vec<ApiToken> = rhai::serde::from_dynamic(&tokens.into())
            .map_err(|e| bad_input(format!("not a list of tokens from `hub.tokens`: {e}")))?;
        let client = hub.client()?;
        let query = UserQuery::default();
        let (users, owner) = block_on(async { futures::join!(client.users(&query), client.token_owner()) })?;
        let users = users.map_err(thrown)?;
        let admins = users.iter().filter(|u| u.admin).map(|u| u.name.clone()).collect();
        let running = users
            .iter()
            .filter(|u| u.running() || u.servers.values().any(|s| s.ready || s.pending.is_some()))
            .map(|u| u.name.clone())
            .collect();
        let plan = compute_revoke(&tokens, &owner.map_err(thrown)?, &admins, &running, flag(&options, "by_id"));
        Ok(to_dynamic(&plan)?.cast::<Map>())
    }

    /// Revokes tokens: a list of maps with `user` and `id` (as
    /// `hub.tokens` gives) or `USER/ID` texts, concurrently. One result
    /// each: `#{name, id, status, error}` with `name` the owner, status
    /// `deleted`, `not_found`, `failed` or `planned`. The token jhctl runs
    /// with is never revoked (`failed`), nor, on a hub that does not say
    /// which token that is (JupyterHub before 5.0), any token of its user.
    /// A revoked token gets 403.
    ///
    /// Throws when: an item is neither form (exit 2); the hub cannot be
    /// reached (asking who owns the token).
    ///
    /// ```rhai
    /// let results = hub.revoke_tokens(hub.tokens(#{ expired: true }));
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn revoke_tokens(hub: &mut Hub, tokens: Array) -> Result<Array, Box<EvalAltResult>> {
        let wanted = pairs(&tokens, "id", "a token")?;
        let client = hub.client()?;
        let me = if wanted.is_empty() { TokenOwner::default() } else { owner(&client)? };
        let (spared, others): (Vec<_>, Vec<_>) =
            wanted.into_iter().map(|(user, id)| (me.spares_token(&user, &id), user, id)).partition(|t| t.0.is_some());
        let others: Vec<(String, String)> = others.into_iter().map(|(_, user, id)| (user, id)).collect();
        let users: Vec<String> = others.iter().map(|(user, _)| user.clone()).collect();
        journaled(hub, Change::of(Action::RevokeToken), &users, || {
            let mut results = block_on(client.revoke_tokens(&others))?;
            results.extend(spared.into_iter().map(|(why, user, id)| crate::hub::TokenResult {
                result: ItemResult::failed(user, why.unwrap_or_default()),
                id,
            }));
            to_array(&results)
        })
    }

    /// Makes an API token for `user` and returns `#{user, id, note,
    /// scopes, created, expires_at, token}`: `token` is its text, which
    /// the hub shows only this once. `options`: `scopes` (a list or
    /// `"a,b"`; absent: the user's own rights), `expires_in` (`30d`, or
    /// seconds; absent: never expires), `note`. In a dry run nothing is
    /// made and `token` is `()`.
    ///
    /// Throws when: the user does not exist or a scope is unknown (the
    /// hub's message); `expires_in` is not a duration (exit 2); the answer
    /// was lost (then look with `hub.tokens` and revoke a stray one).
    ///
    /// ```rhai
    /// let t = hub.new_token("grader", #{ scopes: ["read:users"], expires_in: "30d", note: "grader bot" });
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn new_token(hub: &mut Hub, user: &str, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let new = NewToken {
            note: text(&options, "note"),
            scopes: list(&options, "scopes"),
            expires_in: duration(&options, "expires_in")?,
        };
        let client = hub.client()?;
        match block_on(client.create_token(user, &new))?.map_err(|e| match &e {
            crate::hub::HubError::Status { status: 400 | 404, .. } => bad_input(e),
            _ => thrown(e),
        })? {
            Some(made) => {
                let mut map = to_dynamic(&made.info)?.cast::<Map>();
                map.insert("token".into(), made.token.expose().to_string().into());
                Ok(map)
            }
            None => {
                let mut map = Map::new();
                map.insert("user".into(), crate::username::normalize(user).map_err(bad_input)?.into());
                map.insert("token".into(), Dynamic::UNIT);
                Ok(map)
            }
        }
    }

    /// Every server of every user, stopped named servers too:
    /// `#{user, name, state, last_activity, started}`, `name` `""` for
    /// the default server, `state` `running`, `pending` or `stopped`.
    ///
    /// Throws when: the hub cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// for s in hub.servers() { print(`${s.user}/${s.name}: ${s.state}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn servers(hub: &mut Hub) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_array(&block_on(client.servers())?.map_err(thrown)?)
    }

    /// The plan that removes stopped named servers not active for
    /// `options.since` (`30d`; a server never active counts as old).
    /// Running or pending ones are kept, default servers never touched.
    /// Returns `#{remove, kept, cutoff, count}`: `remove` holds server
    /// maps as `hub.servers()` gives, `kept` `#{name, reason}`.
    ///
    /// Throws when: `since` is missing or not a duration (exit 2); the hub
    /// cannot be reached.
    ///
    /// ```rhai
    /// let plan = hub.plan_server_prune(#{ since: "30d" });
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn plan_server_prune(hub: &mut Hub, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let since = duration(&options, "since")?.ok_or_else(|| bad_input("`since` is required, e.g. \"30d\""))?;
        let client = hub.client()?;
        let rows = block_on(client.servers())?.map_err(thrown)?;
        Ok(to_dynamic(&compute_server_prune(&rows, chrono::Utc::now(), since))?.cast::<Map>())
    }

    /// Applies a plan from `hub.plan_server_prune`: removes its servers
    /// concurrently, each read again just before its removal; a server
    /// started or used since the plan is left alone. One result per
    /// server, `name` `USER/SERVER`: `deleted`, `skipped` (`error` says what
    /// changed), `pending`, `not_found`, `failed` or `planned`.
    ///
    /// Throws when: `plan` is not from `hub.plan_server_prune` (exit 2).
    ///
    /// ```rhai
    /// let results = hub.apply_server_prune(hub.plan_server_prune(#{ since: "30d" }));
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn apply_server_prune(hub: &mut Hub, plan: Map) -> Result<Array, Box<EvalAltResult>> {
        let plan: ServerPlan = rhai::serde::from_dynamic(&plan.into())
            .map_err(|e| bad_input(format!("not a plan from `hub.plan_server_prune`: {e}")))?;
        let client = hub.client()?;
        let users: Vec<String> = plan.remove.iter().map(|s| s.user.clone()).collect();
        journaled(hub, Change::of(Action::RemoveServer), &users, || {
            to_array(&block_on(client.remove_planned_servers(&plan))?)
        })
    }

    /// Removes named servers (stopping them first): a list of
    /// `USER/SERVER` texts or maps with `user` and `name` (as `hub.servers`
    /// and a plan's `remove` give), concurrently. One result each, `name`
    /// `USER/SERVER`: `deleted`, `pending` (still stopping; removed when
    /// stopped), `not_found`, `failed` or `planned`.
    ///
    /// Throws when: an item is neither form (exit 2).
    ///
    /// ```rhai
    /// let results = hub.remove_servers(hub.plan_server_prune(#{ since: "30d" }).remove);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn remove_servers(hub: &mut Hub, servers: Array) -> Result<Array, Box<EvalAltResult>> {
        let wanted = pairs(&servers, "name", "a server")?;
        let client = hub.client()?;
        let users: Vec<String> = wanted.iter().map(|(user, _)| user.clone()).collect();
        journaled(hub, Change::of(Action::RemoveServer), &users, || {
            to_array(&block_on(client.remove_servers(&wanted))?)
        })
    }
}
