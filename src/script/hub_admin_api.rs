//! The `hub` methods of the hub's admin API: passwords (through the API
//! or one exec into the hub pod) and quota.

use std::cell::RefCell;
use std::path::Path;

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::convert::{to_array, to_dynamic};
use super::error::{bad_input, thrown};
use super::hub_api::Hub;
use super::items::{by_name, items, merge, Item, Row};
use super::journaling::{journaled, names_of, Change};
use super::runtime::block_on;
use crate::cluster::{Cluster, ClusterConfig};
use crate::hub::{HubClient, ItemResult, ItemStatus, PasswordRow, QuotaAction, QuotaRow};
use crate::journal::Action;
use crate::pod_passwords::{self, ExecOptions, Transport};
use crate::roster::{Cell, Existing, SheetSink};

/// The password row of each item; a row without a password fails without a request.
fn password_rows(batch: Vec<(usize, Row)>) -> (Vec<PasswordRow>, Vec<ItemResult>) {
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for (id, row) in batch {
        match row.password {
            Some(password) => rows.push(PasswordRow { id, name: row.name, password }),
            None => failed.push(ItemResult::failed(row.name.trim().to_lowercase(), "no password in this row").of(id)),
        }
    }
    (rows, failed)
}

fn exec_options(hub: &Hub, options: &Map) -> Result<ExecOptions, Box<EvalAltResult>> {
    let text = |k: &str| options.get(k).filter(|v| !v.is_unit()).map(|v| v.to_string());
    let mut exec = ExecOptions::new(text("namespace").unwrap_or_else(|| hub.context().settings().namespace.clone()));
    if let Some(v) = text("passwords_db") {
        exec.passwords_db = v;
    }
    if let Some(v) = text("force_change_db") {
        exec.force_change_db = v;
    }
    if let Some(v) = text("target") {
        exec.target = v;
    }
    if let Some(cost) = options.get("cost").and_then(|c| c.as_int().ok()) {
        exec.cost = cost.clamp(4, 31) as u32;
    }
    if let Some(store) = text("store") {
        exec.store = store.parse().map_err(bad_input)?;
    }
    exec.db_url = text("db_url").filter(|url| !url.trim().is_empty());
    let via = text("via").unwrap_or_else(|| "exec".into());
    set_transport(&mut exec, &via, &text)?;
    if let Some(timeout) = options.get("timeout").filter(|v| !v.is_unit()) {
        match timeout.as_int() {
            Ok(seconds) if seconds > 0 => exec.timeout = std::time::Duration::from_secs(seconds as u64),
            _ => return Err(bad_input(format!("`timeout: {timeout}` must be a whole number of seconds above 0"))),
        }
    }
    Ok(exec)
}

/// Sets how the program reaches the hub (`via`: `exec`, `local` with
/// `hub_python` and `hub_dir`, `ssh` with `ssh` and `sudo`), and the paths
/// that follow from the hub's folder there.
fn set_transport(
    exec: &mut ExecOptions,
    via: &str,
    text: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Box<EvalAltResult>> {
    let (python, dir) = match via {
        "exec" => return Ok(()),
        "local" => {
            exec.transport = Transport::Local;
            pod_passwords::local_hub(text("hub_python").as_deref(), text("hub_dir").as_deref(), Path::exists)
                .map_err(bad_input)?
        }
        "ssh" => {
            let Some(host) = text("ssh").filter(|h| !h.trim().is_empty()) else {
                return Err(bad_input("--via ssh needs --ssh HOST: the hub's machine, as you give it to `ssh`"));
            };
            let sudo = text("sudo").is_some_and(|v| v == "true");
            exec.transport = Transport::Ssh { host, sudo };
            pod_passwords::ssh_hub(text("hub_python").as_deref(), text("hub_dir").as_deref())
        }
        other => return Err(bad_input(format!("unknown `via: {other}`; use \"api\", \"exec\", \"local\" or \"ssh\""))),
    };
    // The program enters the folder first: the paths made from it must not be relative.
    let dir = match (&exec.transport, Path::new(&dir).is_absolute()) {
        (_, true) => dir,
        (Transport::Local, false) => std::fs::canonicalize(&dir)
            .map_err(|e| bad_input(format!("--hub-dir `{dir}`: {e}; give the hub's working directory")))?
            .to_string_lossy()
            .into_owned(),
        _ => return Err(bad_input(format!("--hub-dir `{dir}`: give an absolute path on the hub's machine"))),
    };
    let dir = match dir.trim_end_matches('/') {
        "" => "/".to_string(),
        trimmed => trimmed.to_string(),
    };
    if text("passwords_db").is_none() {
        exec.passwords_db = format!("{dir}/passwords.dbm");
    }
    if text("force_change_db").is_none() {
        exec.force_change_db = format!("{dir}/force_password_change.dbm");
    }
    exec.db_url.get_or_insert_with(|| format!("sqlite:///{dir}/jupyterhub.sqlite"));
    exec.python = python;
    exec.hub_dir = Some(dir);
    Ok(())
}

/// Refuses a forced change asked for on a store that has none.
fn check_force_change(exec: &ExecOptions, force_change: Option<bool>) -> Result<(), Box<EvalAltResult>> {
    if force_change == Some(true) && !exec.store.has_force_change() {
        return Err(bad_input(format!(
            "the {} store has no forced password change (its authenticator has none); \
             drop --force-change (users keep the password they are given)",
            exec.store.as_str()
        )));
    }
    Ok(())
}

/// Says in `-v` which store the exec wrote, and puts it into each result
/// (`store`, `store_at`) for `--json`.
fn note_store(hub: &Hub, results: &mut Array, store: &Option<pod_passwords::StoreUsed>) {
    let Some(store) = store else { return };
    if hub.context().settings().verbose {
        eprintln!("exec: wrote the {} store: {}", store.kind, store.at);
    }
    for result in results.iter_mut() {
        if let Some(mut map) = result.write_lock::<Map>() {
            map.insert("store".into(), store.kind.clone().into());
            map.insert("store_at".into(), store.at.clone().into());
        }
    }
}

/// Splits password rows into those naming a user of the hub and failed
/// results for the others (the exec path writes a store that does not
/// check names, so a typo would leave a stray password). Rows whose name
/// is invalid are kept: the exec path fails them with the reason.
fn only_hub_users(
    hub: &Hub,
    rows: Vec<PasswordRow>,
) -> Result<(Vec<PasswordRow>, Vec<ItemResult>), Box<EvalAltResult>> {
    let client = hub.client()?;
    let (named, invalid): (Vec<_>, Vec<_>) =
        rows.into_iter().map(|r| (crate::username::normalize(&r.name).ok(), r)).partition(|(n, _)| n.is_some());
    let todo = named.into_iter().map(|(name, row)| (row, name.unwrap_or_default())).collect();
    let (keep, refused) = block_on(client.split_by_user(todo, |row| row.id))?.map_err(thrown)?;
    Ok((keep.into_iter().map(|(row, _)| row).chain(invalid.into_iter().map(|(_, row)| row)).collect(), refused))
}

/// Puts the password sheet in place and says what went wrong, or that a
/// CSV sheet must be opened as text. A sheet without rows leaves no file
/// (and an existing one as it was).
fn finish_sheet(sheet: SheetSink, error: Option<String>) {
    let journal = sheet.partial_path().display().to_string();
    let target = sheet.path().display().to_string();
    let formula_like = sheet.formula_like_secrets();
    let error = match sheet.finish() {
        Ok(_) => error,
        Err(e) => error.or(Some(e.to_string())),
    };
    if let Some(e) = error {
        eprintln!("❌ The password sheet could not be written completely: {e}");
        eprintln!("   The passwords set so far are in `{journal}` (if it exists): hand them out from there.");
    } else if formula_like {
        eprintln!(
            "⚠️  `{target}` holds passwords that start with -, =, + or @, written exactly: open it as text \
             (import it with the password column as Text), since a spreadsheet that opens it directly may \
             run them as formulas; a .xlsx sheet avoids this"
        );
    }
}

/// How a delete clears the records a user leaves on the guide's hub:
/// `None` through the admin API (the core's delete), `Some(exec)` by
/// removing them from the hub's store with one exec after the delete.
/// From `options.via` (`api` or `exec`) and the exec options.
pub(super) fn delete_via(hub: &Hub, options: &Map) -> Result<Option<ExecOptions>, Box<EvalAltResult>> {
    match options.get("via").filter(|v| !v.is_unit()).map(|v| v.to_string()).as_deref() {
        None | Some("api") => Ok(None),
        Some("exec") => exec_options(hub, options).map(Some),
        Some(other) => Err(bad_input(format!("unknown `via: {other}`; use \"api\" or \"exec\""))),
    }
}

/// Deletes through `delete`, which gets a client whose deletes keep the
/// users' records (no clearing through the admin API), then removes the
/// password row and quota record of each user now gone (`deleted` or
/// `not_found`) from the store the hub reads, with one exec. The cluster
/// is reached before anything is deleted; a user whose records stayed is
/// `failed` ([`pod_passwords::after_removal`]).
pub(super) fn delete_then_remove<F>(
    hub: &Hub,
    exec: &ExecOptions,
    delete: F,
) -> Result<Vec<ItemResult>, Box<EvalAltResult>>
where
    F: FnOnce(&crate::hub::HubClient) -> Result<Vec<ItemResult>, Box<EvalAltResult>>,
{
    let client = hub.client()?.keeping_records();
    let dry_run = hub.context().dry_run();
    let config = ClusterConfig { context: hub.context().settings().context.clone() };
    let cluster = block_on(Cluster::connect(&config))?.map_err(thrown)?;
    let deleted = delete(&client)?;
    let gone: Vec<String> = deleted
        .iter()
        .filter(|r| matches!(r.status, ItemStatus::Deleted | ItemStatus::NotFound))
        .map(|r| r.name.clone())
        .collect();
    if gone.is_empty() || dry_run {
        return Ok(deleted);
    }
    let removals = match block_on(pod_passwords::remove_records(&cluster, &gone, exec, dry_run))? {
        Ok(report) => report.results,
        Err(e) => gone.iter().map(|n| ItemResult::failed(n, e.to_string())).collect(),
    };
    let by_name: std::collections::HashMap<&str, &ItemResult> = removals.iter().map(|r| (r.name.as_str(), r)).collect();
    Ok(deleted
        .into_iter()
        .map(|d| {
            let removal = by_name.get(d.name.as_str()).copied();
            pod_passwords::after_removal(d, removal)
        })
        .collect())
}

/// Runs the password program for `rows` where `options` says (connecting
/// to the cluster only for exec).
async fn set_through(
    hub: &Hub,
    rows: &[PasswordRow],
    force_change: Option<bool>,
    options: &ExecOptions,
    dry_run: bool,
) -> Result<pod_passwords::ExecReport, crate::cluster::ClusterError> {
    let cluster = match options.transport {
        Transport::Exec => {
            let config = ClusterConfig { context: hub.context().settings().context.clone() };
            Some(Cluster::connect(&config).await?)
        }
        _ => None,
    };
    pod_passwords::set_passwords_report(cluster.as_ref(), rows, force_change, options, dry_run).await
}

/// Applies `action` to each item; `what` names it in the hub's transaction log.
fn quota_change(hub: &Hub, list: Array, action: QuotaAction, what: &str) -> Result<Array, Box<EvalAltResult>> {
    let client = hub.client()?;
    block_on(client.check_admin_api())?.map_err(thrown)?;
    journaled(hub, Change::of(Action::Quota).detail(what), &names_of(&list), || {
        to_array(&merge(items(&list), |batch| {
            by_name(batch, |names| block_on(client.change_quota(names, action, what)))
        })?)
    })
}

/// `hub.set_passwords(rows, options)`, not journaled.
fn set_passwords_now(hub: &Hub, rows: Array, options: Map) -> Result<Array, Box<EvalAltResult>> {
    // `()` is the store's default: forced where the store has the flag.
    let asked = options.get("force_change").and_then(|v| v.as_bool().ok());
    let force_change = asked.unwrap_or(true);
    let via = options.get("via").filter(|v| !v.is_unit()).map(|v| v.to_string()).unwrap_or_else(|| "api".into());
    let entries = items(&rows);
    let dry_run = hub.context().dry_run();
    let output = options.get("output").filter(|v| !v.is_unit()).map(|v| v.to_string());
    let overwrite = options.get("overwrite").and_then(|v| v.as_bool().ok()).unwrap_or(false);
    let existing = Existing::replace_if(overwrite);
    if via == "api" {
        // Before the sheet is made or anything is sent.
        block_on(hub.client()?.check_admin_api())?.map_err(thrown)?;
    }
    let sheet = match &output {
        Some(path) if dry_run => {
            // A dry run writes nothing, but says now what the real run would refuse.
            SheetSink::check(Path::new(path), existing).map_err(thrown)?;
            None
        }
        Some(path) => {
            let columns = ["username", "password", "force_change"].map(String::from);
            Some(RefCell::new(SheetSink::create(Path::new(path), &columns, existing).map_err(thrown)?))
        }
        None => None,
    };
    let sheet_error: RefCell<Option<String>> = RefCell::new(None);
    let record = |row: &PasswordRow, result: &ItemResult, force_change: bool| {
        if let (Some(sheet), ItemStatus::Updated) = (&sheet, result.status) {
            let row = vec![Cell::Text(result.name.clone()), Cell::Text(row.password.clone()), Cell::Bool(force_change)];
            if let Err(e) = sheet.borrow_mut().push(row) {
                sheet_error.borrow_mut().get_or_insert(e.to_string());
            }
        }
    };
    let exec = match via.as_str() {
        "api" => None,
        _ => Some(exec_options(hub, &options)?),
    };
    if let Some(exec) = &exec {
        check_force_change(exec, asked)?;
    }
    let mut store = None;
    // An error ends the batch, but the sheet is finished first: it holds
    // every user whose password the hub took.
    let results = merge(entries, |batch| {
        let (send_rows, mut results) = password_rows(batch);
        let sent = match &exec {
            None => block_on(
                hub.client()?.set_passwords_each(&send_rows, force_change, |row, r| record(row, r, force_change)),
            )?,
            Some(options) => {
                let (send_rows, refused) = only_hub_users(hub, send_rows)?;
                results.extend(refused);
                let report = block_on(set_through(hub, &send_rows, asked, options, dry_run))?.map_err(thrown)?;
                if let Some(why) = &report.refused {
                    return Err(bad_input(format!("{why} (nothing was written)")));
                }
                // The sheet says what the store holds: no forced change where it has no flag.
                let kind = report.store.as_ref().map_or(options.store.as_str(), |s| s.kind.as_str());
                let forced = force_change && pod_passwords::kind_has_force_change(kind);
                for result in &report.results {
                    if let Some(row) = send_rows.iter().find(|r| r.id == result.id) {
                        record(row, result, forced);
                    }
                }
                store = report.store;
                report.results
            }
        };
        results.extend(sent);
        Ok::<_, Box<EvalAltResult>>(results)
    });
    if let Some(sheet) = sheet {
        finish_sheet(sheet.into_inner(), sheet_error.into_inner());
    }
    let mut results = to_array(&results?)?;
    note_store(hub, &mut results, &store);
    Ok(results)
}

/// The admin API primitives, methods of `hub`.
#[export_module]
pub mod hub_admin_module {
    use super::*;

    /// Sets passwords: `rows` are maps with `username` and `password` (or
    /// `[name, password]` pairs), forcing a change at next login. Through
    /// the hub's admin API, concurrently. One result per row: `updated`,
    /// `failed` (with the hub's message, e.g. too short) or `planned`.
    ///
    /// ```rhai
    /// hub.set_passwords([#{ username: "alice", password: password() }]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn set_passwords(hub: &mut Hub, rows: Array) -> Result<Array, Box<EvalAltResult>> {
        set_passwords_with(hub, rows, Map::new())
    }

    /// Sets passwords with options: `force_change` (`()` or absent: the
    /// store's default, forced on the API and `aup`, none on `firstuse`
    /// and `native`); `via`:
    /// `"api"` (default) or one run of a constant program that writes the
    /// store the hub reads with hashes jhctl computes (bcrypt, all cores):
    /// `"exec"` (one exec into a pod of `deployment/hub`), `"local"` (the
    /// hub's interpreter here: `hub_python`, `hub_dir`, TLJH's by default)
    /// or `"ssh"` (there over `ssh`: `ssh` host, `sudo`); then also
    /// `store` (`auto`, `aup`/`db`, `dbm`, `firstuse`, `native`), `db_url` (sent on stdin only),
    /// `timeout` (seconds, default 300), `namespace`, `target`,
    /// `passwords_db`, `force_change_db`, `cost` (bcrypt, default 12). Exec
    /// results also carry `store` and `store_at`; a user the pod did not
    /// confirm is `unknown` when the link broke or the program died (it may
    /// be written), `failed` when nothing was written;
    /// `output`: a CSV or XLSX file (mode 0600) that gets `username`,
    /// `password`, `force_change` of each user the moment the password is
    /// set: rows go to `<output>.partial.csv` as they arrive (synced, so a
    /// crash loses none) and the sheet is put in place at the end; when no
    /// password was set no sheet is written. Password cells hold exactly
    /// the password (no formula guard; a CSV sheet with one starting with
    /// `-`, `=`, `+` or `@` gets a warning to open it as text).
    /// `overwrite: true` lets the sheet replace an existing file; without
    /// it an existing `output` is an error, as is a `.partial.csv` left by a
    /// run that stopped early.
    ///
    /// Throws when: `via` is not one of those; `store` or `timeout`
    /// is not valid; a forced change is asked of a store without one;
    /// `local` finds no hub interpreter or folder; `ssh` has no host;
    /// `output` exists (without `overwrite`) or cannot be created (exit 2,
    /// before anything is sent); with `exec`, when the cluster cannot be
    /// reached or the exec cannot start (no pod, no `create` on
    /// `pods/exec`); with `auto`, when the program finds no store, or more
    /// than one (nothing is written).
    ///
    /// ```rhai
    /// hub.set_passwords(rows, #{ force_change: false, via: "exec" });
    /// hub.set_passwords(rows, #{ via: "local", store: "firstuse", hub_dir: "/opt/tljh/state" });
    /// ```
    #[rhai_fn(name = "set_passwords", pure, return_raw)]
    pub fn set_passwords_with(hub: &mut Hub, rows: Array, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let change = Change { read_before: false, ..Change::of(Action::Password) };
        journaled(hub, change, &names_of(&rows), || set_passwords_now(hub, rows.clone(), options))
    }

    /// Why the guide's hub would refuse `password` (shorter than its
    /// minimum of 7 characters), so a command can stop before it creates
    /// anything; `()` when the known rule passes (a hub configured
    /// stricter may still refuse it).
    ///
    /// ```rhai
    /// let problem = password_problem("abc");
    /// if problem != () { eprint(`error: --password: ${problem}`); exit(2); }
    /// ```
    pub fn password_problem(password: &str) -> Dynamic {
        crate::hub::password_problem(password).map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }

    /// Deletes users (names or rows) with options: `via: "api"` (the
    /// default, as `hub.delete_users(list)`: each user's password is made
    /// unusable and its balance zero through the admin API first) or
    /// `via: "exec"`: after the delete, one exec into `deployment/hub`
    /// removes each deleted user's password row and quota record from the
    /// store the hub reads (options as for `set_passwords` with `exec`).
    /// One result per item: `deleted` (its `note` says what was cleared),
    /// `not_found`, `failed` (also a user deleted whose records stayed) or
    /// `planned`.
    ///
    /// Throws when: `via` or an exec option is not valid; with `exec`, when
    /// the cluster cannot be reached (before anything is deleted) or the
    /// hub cannot be reached.
    ///
    /// ```rhai
    /// let results = hub.delete_users(["student01"], #{ via: "exec", namespace: "jupyterhub" });
    /// ```
    #[rhai_fn(name = "delete_users", pure, return_raw)]
    pub fn delete_users_with(hub: &mut Hub, list: Array, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let via = delete_via(hub, &options)?;
        let client = hub.client()?;
        journaled(hub, Change::of(Action::Delete), &names_of(&list), || {
            to_array(&merge(items(&list), |batch| {
                // The token's own user is never deleted (`failed`, also in a dry run).
                by_name(batch, |names| match &via {
                    None => block_on(client.delete_users_but_owner(names))?.map_err(thrown),
                    Some(exec) => delete_then_remove(hub, exec, |client| {
                        block_on(client.delete_users_but_owner(names))?.map_err(thrown)
                    }),
                })
            })?)
        })
    }

    /// The names of `list` (names or rows) that are not users of the hub
    /// but still hold quota left by an earlier user of the name, which a
    /// user created under it would get: `#{name, balance, unlimited}` each.
    /// Empty on a hub without the admin API. A password left behind is not
    /// visible through the admin API.
    ///
    /// Throws when: the hub cannot be reached, or its admin API refuses the token.
    ///
    /// ```rhai
    /// for l in hub.leftovers(["dl01"]) { print(`${l.name} still holds ${l.balance}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn leftovers(hub: &mut Hub, list: Array) -> Result<Array, Box<EvalAltResult>> {
        let names: Vec<String> = items(&list)
            .into_iter()
            .filter_map(|item| match item {
                Item::Send(row) => Some(row.name),
                Item::Done(_) => None,
            })
            .collect();
        let client = hub.client()?;
        to_array(&block_on(client.leftovers(&names))?.map_err(thrown)?)
    }

    /// Checks that the hub has the admin API (passwords and quota), once
    /// per run: call it before a job that needs it changes anything else
    /// (e.g. before creating users who are to get passwords).
    ///
    /// Throws when: the hub has no admin API (`/hub/admin/api` answers with
    /// HTML, as on a stock JupyterHub; kind `not_found`, exit 1); the hub
    /// cannot be reached.
    ///
    /// ```rhai
    /// hub.check_admin_api();
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn check_admin_api(hub: &mut Hub) -> Result<(), Box<EvalAltResult>> {
        let client = hub.client()?;
        block_on(client.check_admin_api())?.map_err(thrown)
    }

    /// A password made by the hub's admin API (16 characters).
    ///
    /// Throws when: the hub cannot be reached or has no admin API.
    ///
    /// ```rhai
    /// let p = hub.generate_password();
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn generate_password(hub: &mut Hub) -> Result<String, Box<EvalAltResult>> {
        let client = hub.client()?;
        block_on(client.generate_password())?.map_err(thrown)
    }

    /// Every quota record: maps with `username`, `balance`, `unlimited`,
    /// `updated_at`. Users without a record are not listed.
    ///
    /// Throws when: the hub cannot be reached or has no admin API.
    ///
    /// ```rhai
    /// for q in hub.quotas() { print(`${q.username}: ${q.balance}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn quotas(hub: &mut Hub) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_array(&block_on(client.quotas())?.map_err(thrown)?)
    }

    /// One user's quota: `username`, `balance`, `unlimited`, `recent_transactions`.
    ///
    /// Throws when: the hub cannot be reached or has no admin API.
    ///
    /// ```rhai
    /// print(hub.quota("alice").balance);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn quota(hub: &mut Hub, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_dynamic(&block_on(client.quota(name))?.map_err(thrown)?)
    }

    /// Sets balances from rows with a `quota` column (rows without one
    /// fail): batches of at most 1000 users, sent concurrently. One result
    /// per row: `updated`, `failed` or `planned`.
    ///
    /// ```rhai
    /// hub.set_quota(roster::read("quota.csv"));
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn set_quota(hub: &mut Hub, list: Array) -> Result<Array, Box<EvalAltResult>> {
        set_quota_amount_opt(hub, list, None)
    }

    /// Sets balances: a row's own `quota` value wins, else `amount`
    /// (0 to 10,000,000).
    ///
    /// ```rhai
    /// hub.set_quota(["alice", "bob"], 500);
    /// ```
    #[rhai_fn(name = "set_quota", pure, return_raw)]
    pub fn set_quota_amount(hub: &mut Hub, list: Array, amount: i64) -> Result<Array, Box<EvalAltResult>> {
        set_quota_amount_opt(hub, list, Some(amount))
    }

    /// Adds `amount` (negative takes away, within ±10,000,000) to each
    /// user's balance, concurrently. One result per user.
    ///
    /// ```rhai
    /// hub.add_quota(["alice"], 100);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn add_quota(hub: &mut Hub, list: Array, amount: i64) -> Result<Array, Box<EvalAltResult>> {
        quota_change(hub, list, QuotaAction::Add(amount), "admin add-quota")
    }

    /// Takes `amount` (more than 0) from each user's balance; a user whose
    /// balance is short fails with the hub's "Insufficient balance".
    ///
    /// ```rhai
    /// hub.deduct_quota(["alice"], 50);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn deduct_quota(hub: &mut Hub, list: Array, amount: i64) -> Result<Array, Box<EvalAltResult>> {
        quota_change(hub, list, QuotaAction::Deduct(amount), "admin deduct-quota")
    }

    /// Switches unlimited quota on or off for each user.
    ///
    /// ```rhai
    /// hub.set_unlimited(["teacher01"], true);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn set_unlimited(hub: &mut Hub, list: Array, on: bool) -> Result<Array, Box<EvalAltResult>> {
        quota_change(hub, list, QuotaAction::Unlimited(on), "admin set-unlimited")
    }

    /// Moves user `old`'s password and quota records to `new` with one
    /// exec into the hub pod, in one transaction, read back: call it after
    /// `rename_user`, since the hub keys passwords and quota by name.
    /// Options as for `set_passwords` with `via: "exec"` (`namespace`,
    /// `target`, `store`, `db_url`, `timeout`, `passwords_db`,
    /// `force_change_db`). Returns `#{name, status, error, moved}`: `name`
    /// is `new`; `status` `updated`, `failed` or `planned`; `moved` maps
    /// each table to the rows moved.
    ///
    /// Throws when: an option is not valid; the cluster cannot be reached
    /// or the exec cannot start (no pod, no `create` on `pods/exec`).
    ///
    /// ```rhai
    /// let r = hub.move_user_records("studnet01", "student01", #{ namespace: "jupyterhub" });
    /// if r.status == "updated" { print(r.moved); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn move_user_records(hub: &mut Hub, old: &str, new: &str, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let exec = exec_options(hub, &options)?;
        let dry_run = hub.context().dry_run();
        let config = ClusterConfig { context: hub.context().settings().context.clone() };
        let report = block_on(async {
            let cluster = match exec.transport {
                Transport::Exec => Some(Cluster::connect(&config).await?),
                _ => None,
            };
            pod_passwords::move_user(cluster.as_ref(), old, new, &exec, dry_run).await
        })?
        .map_err(thrown)?;
        let mut map: Map = to_dynamic(&report.result)?.cast();
        map.insert("moved".into(), to_dynamic(&report.moved)?);
        let mut as_array = vec![Dynamic::from(map)];
        note_store(hub, &mut as_array, &report.store);
        Ok(as_array.remove(0).cast())
    }
}

fn set_quota_amount_opt(hub: &Hub, list: Array, amount: Option<i64>) -> Result<Array, Box<EvalAltResult>> {
    let client = hub.client()?;
    block_on(client.check_admin_api())?.map_err(thrown)?;
    journaled(hub, Change::of(Action::Quota).detail("set"), &names_of(&list), || set_quota_now(&client, &list, amount))
}

/// Sets the balances of `list` (a row's `quota`, else `amount`), not journaled.
fn set_quota_now(client: &HubClient, list: &Array, amount: Option<i64>) -> Result<Array, Box<EvalAltResult>> {
    to_array(&merge(items(list), |batch| {
        let mut rows = Vec::new();
        let mut results = Vec::new();
        for (id, row) in batch {
            match row.quota.or(amount) {
                Some(amount) => rows.push(QuotaRow { id, name: row.name, amount }),
                None => results.push(
                    ItemResult::failed(
                        row.name.trim().to_lowercase(),
                        "no quota for this user; add a `quota` column or give an amount",
                    )
                    .of(id),
                ),
            }
        }
        results.extend(block_on(client.set_quota(&rows))?);
        Ok::<_, Box<EvalAltResult>>(results)
    })?)
}
