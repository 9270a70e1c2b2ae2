//! The `hub` object: every JupyterHub primitive a script can call.
//!
//! `hub` is connected lazily: the first call resolves the token and builds
//! the client, so scripts (and the REPL) start instantly and a hub that is
//! down is an error on first use.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::convert::{to_array, to_dynamic};
use super::error::{bad_input, not_found, thrown};
use super::items::{by_name, items, merge};
use super::journaling::{journaled, names_of, Change};
use super::runtime::{block_on, Context};
use crate::hub::{HubClient, HubConfig, HubError, ItemResult, NewUser, Token, UserQuery};
use crate::journal::Action;

/// The hub a script talks to (`hub` in every script).
#[derive(Clone)]
pub struct Hub {
    state: Rc<RefCell<State>>,
    context: Rc<Context>,
}

struct State {
    url: String,
    token: Option<Token>,
    client: Option<HubClient>,
    namespace: String,
}

impl Hub {
    /// A hub handle from the engine's context; nothing is sent yet.
    pub fn new(context: Rc<Context>) -> Self {
        let s = context.settings();
        let state = State { url: s.url.clone(), token: s.token.clone(), client: None, namespace: s.namespace.clone() };
        Hub { state: Rc::new(RefCell::new(state)), context }
    }

    /// The hub's base URL.
    pub fn url_text(&self) -> String {
        self.state.borrow().url.clone()
    }

    /// The context of the engine this `hub` belongs to.
    pub fn context(&self) -> &Rc<Context> {
        &self.context
    }

    /// The client, built on first use.
    pub fn client(&self) -> Result<HubClient, Box<EvalAltResult>> {
        let mut state = self.state.borrow_mut();
        if state.client.is_none() {
            let token = match &state.token {
                Some(token) => token.clone(),
                None => {
                    let kube_context = self.context.settings().context.as_deref();
                    block_on(crate::credentials::resolve_token(None, &state.namespace, kube_context))?
                        .map_err(thrown)?
                }
            };
            crate::credentials::warn_plain_http(&state.url);
            let s = self.context.settings();
            let mut config = HubConfig::new(state.url.clone(), token);
            config.concurrency = s.concurrency.max(1);
            config.verbose = s.verbose;
            config.ca_bundle = crate::hub::CaBundle::from_env(s.cacert.as_deref());
            config.insecure = s.insecure;
            config.progress = !s.quiet && !self.context.json();
            state.client = Some(HubClient::new(config).map_err(thrown)?);
        }
        let client = state.client.as_ref().expect("set above");
        Ok(client.with_dry_run(self.context.dry_run()))
    }
}

/// What `hub.group(name)` throws when the hub has no group `name`.
fn missing_group(name: &str) -> String {
    format!(
        "no group `{name}` on this hub; `jhctl manage-users groups list` lists the groups, \
         `hub.create_group(\"{name}\")` creates it"
    )
}

fn results(list: Vec<ItemResult>) -> Result<Array, Box<EvalAltResult>> {
    to_array(&list)
}

fn wait_of(options: &Map) -> Duration {
    let secs = options.get("wait").and_then(|v| v.as_int().ok().or_else(|| v.as_float().ok().map(|f| f as i64)));
    Duration::from_secs(secs.unwrap_or(60).max(0) as u64)
}

/// The JupyterHub primitives, methods of `hub`.
#[export_module]
pub mod hub_module {
    use super::*;

    /// The hub's base URL.
    ///
    /// ```rhai
    /// print(hub.url);
    /// ```
    #[rhai_fn(get = "url", pure)]
    pub fn url(hub: &mut Hub) -> String {
        hub.state.borrow().url.clone()
    }

    /// Whether this is a dry run: calls that would change the hub or the
    /// cluster only answer `planned`.
    ///
    /// ```rhai
    /// if hub.dry_run { print("nothing will change"); }
    /// ```
    #[rhai_fn(get = "dry_run", pure)]
    pub fn get_dry_run(hub: &mut Hub) -> bool {
        hub.context.dry_run()
    }

    /// Switches dry run on or off for the rest of the run, for the hub and
    /// the cluster alike: every hub call that changes something,
    /// `cluster::create_secret`, `cluster::rollout_restart` and passwords
    /// through the hub pod then send nothing and answer `planned`. The
    /// global `--dry-run` cannot be switched off.
    ///
    /// ```rhai
    /// hub.set_dry_run(a.dry_run);
    /// ```
    #[rhai_fn(pure)]
    pub fn set_dry_run(hub: &mut Hub, on: bool) {
        hub.context.set_dry_run(on);
    }

    /// Points `hub` at another hub or token: a map with `url`, `token`,
    /// `token_file` (a file holding the token, `-` for standard input)
    /// and/or `namespace` (where the token secret is looked for); unit
    /// values are ignored. The next call connects anew.
    ///
    /// Throws when: both `token` and `token_file` are given, or the token
    /// file cannot be read or is empty (exit status 2).
    ///
    /// ```rhai
    /// hub.configure(#{ url: "https://hub.example.org", token_file: "token.txt" });
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn configure(hub: &mut Hub, options: Map) -> Result<(), Box<EvalAltResult>> {
        let given = |key: &str| options.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string());
        let token = match (given("token"), given("token_file")) {
            (Some(_), Some(_)) => return Err(bad_input(crate::credentials::TOKEN_TWICE)),
            (Some(token), None) => Some(token),
            (None, Some(path)) => Some(crate::credentials::read_secret_file(&path, "token").map_err(bad_input)?),
            (None, None) => None,
        };
        let mut state = hub.state.borrow_mut();
        if let Some(url) = given("url") {
            state.url = url;
            state.client = None;
        }
        if let Some(token) = token {
            state.token = Some(Token::new(token));
            state.client = None;
        }
        if let Some(namespace) = options.get("namespace").filter(|v| !v.is_unit()) {
            state.namespace = namespace.to_string();
            if state.token.is_none() {
                state.client = None;
            }
        }
        Ok(())
    }

    /// The hub's version from `GET /hub/api/`: the connection check.
    ///
    /// Throws when: the hub cannot be reached.
    ///
    /// ```rhai
    /// print(`hub ${hub.version()}`);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn version(hub: &mut Hub) -> Result<String, Box<EvalAltResult>> {
        let client = hub.client()?;
        block_on(client.version())?.map_err(thrown)
    }

    /// Hub, authenticator and spawner details (`GET /hub/api/info`, admin only).
    ///
    /// Throws when: the hub cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// print(hub.info().authenticator.class);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn info(hub: &mut Hub) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_dynamic(&block_on(client.info())?.map_err(thrown)?)
    }

    /// The user or service that owns the token (`GET /hub/api/user`).
    ///
    /// Throws when: the hub cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// print(hub.whoami().name);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn whoami(hub: &mut Hub) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_dynamic(&block_on(client.whoami())?.map_err(thrown)?)
    }

    /// Every user of the hub, all pages, at the hub's own page size.
    /// Each is a map: `name`, `admin`, `groups`, `created`, `last_activity`,
    /// `server`, `pending`, `servers`, `roles`.
    ///
    /// Throws when: the hub cannot be reached or refuses the token; the
    /// pages hold fewer users than the hub's total, or the total changes
    /// between pages (run it again).
    ///
    /// ```rhai
    /// let admins = hub.users().filter(|u| u.admin);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn users(hub: &mut Hub) -> Result<Array, Box<EvalAltResult>> {
        users_with(hub, Map::new())
    }

    /// Users matching filters, all pages: `#{filter: "stud"}` (name prefix),
    /// `#{state: "active"}` (`active`, `ready` or `inactive`),
    /// `#{sort: "-last_activity"}` (`id`, `name`, `last_activity`; `-` descending).
    ///
    /// Throws when: as `hub.users()`.
    ///
    /// ```rhai
    /// let running = hub.users(#{ state: "active" });
    /// ```
    #[rhai_fn(name = "users", pure, return_raw)]
    pub fn users_with(hub: &mut Hub, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_array(&block_on(client.users(&user_query(&options)))?.map_err(thrown)?)
    }

    /// Users matching filters (as `hub.users(options)`) and every quota
    /// record, fetched at the same time: `#{users, quotas}`. When the quota
    /// listing fails (no quota API, or the token is refused) `quotas` is
    /// `()`, `quota_error` says why and `quota_status` is the hub's HTTP
    /// status (or `()` when it never answered).
    ///
    /// Throws when: the hub cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// let both = hub.users_and_quotas(#{ state: "active" });
    /// print(`${both.users.len()} users, quota: ${both.quotas != ()}`);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn users_and_quotas(hub: &mut Hub, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let client = hub.client()?;
        let query = user_query(&options);
        let (users, quotas) = block_on(async { futures::join!(client.users(&query), client.quotas()) })?;
        let mut out = Map::new();
        out.insert("users".into(), to_array(&users.map_err(thrown)?)?.into());
        match quotas {
            Ok(quotas) => {
                out.insert("quotas".into(), to_array(&quotas)?.into());
            }
            Err(e) => {
                let status = match &e {
                    HubError::Status { status, .. }
                    | HubError::Unauthorized { status, .. }
                    | HubError::NoAdminApi { status, .. } => Dynamic::from(i64::from(*status)),
                    _ => Dynamic::UNIT,
                };
                out.insert("quotas".into(), Dynamic::UNIT);
                out.insert("quota_error".into(), e.to_string().into());
                out.insert("quota_status".into(), status);
            }
        }
        Ok(out)
    }

    /// One user as a map, or `()` when there is no such user.
    ///
    /// Throws when: the hub cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// let u = hub.user("student01");
    /// if u == () { print("no such user"); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn user(hub: &mut Hub, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        match block_on(client.user(name.trim()))?.map_err(thrown)? {
            Some(user) => to_dynamic(&user),
            None => Ok(Dynamic::UNIT),
        }
    }

    /// Names (or roster rows) that look like a user of the hub without
    /// being it: the same text once Unicode-normalised (NFKC), lower-cased
    /// and stripped of invisible characters (`jos\u{e9}` and
    /// `jose\u{301}`, `ann` and `ann\u{200b}`). One listing of every
    /// user. Returns one map per group: `names` (the batch's first) and
    /// `warning`, a sentence naming them spelled out and what to do.
    ///
    /// Throws when: the hub cannot be reached.
    ///
    /// ```rhai
    /// for l in hub.lookalikes(rows) { eprint(`⚠️  ${l.warning}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn lookalikes(hub: &mut Hub, list: Array) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        let names: Vec<String> = items(&list)
            .into_iter()
            .filter_map(|item| match item {
                crate::script::items::Item::Send(row) => crate::username::normalize(&row.name).ok(),
                crate::script::items::Item::Done(_) => None,
            })
            .collect();
        let groups = block_on(client.lookalike_users(&names))?.map_err(thrown)?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let mut map = Map::new();
                map.insert("warning".into(), crate::username::lookalike_warning(&group).into());
                map.insert("names".into(), group.into_iter().map(Dynamic::from).collect::<Array>().into());
                Dynamic::from_map(map)
            })
            .collect())
    }

    /// Creates users: a list of names or of roster rows (maps with
    /// `username` and maybe `admin`). Names are trimmed, lower-cased and
    /// checked first; an invalid one is `failed` and never sent. Admins and
    /// non-admins go in separate batch requests. One result map per item:
    /// `#{name, status, error}`, status `created`, `exists`, `failed` or `planned`.
    ///
    /// ```rhai
    /// let results = hub.create_users(["alice", "bob"]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn create_users(hub: &mut Hub, list: Array) -> Result<Array, Box<EvalAltResult>> {
        create_users_with(hub, list, Map::new())
    }

    /// Creates users with options: `#{admin: true}` makes every user whose
    /// row has no `admin` value an admin; `#{passwords: true}` says that
    /// passwords follow (the run's journal notes it, so a re-run after an
    /// interruption finds the users left without one, see
    /// `hub.left_without_password`).
    ///
    /// ```rhai
    /// hub.create_users(["teacher01"], #{ admin: true });
    /// ```
    #[rhai_fn(name = "create_users", pure, return_raw)]
    pub fn create_users_with(hub: &mut Hub, list: Array, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        let default_admin = options.get("admin").and_then(|v| v.as_bool().ok()).unwrap_or(false);
        let passwords = options.get("passwords").and_then(|v| v.as_bool().ok()).unwrap_or(false);
        let change = Change { note: passwords.then_some("password due"), ..Change::of(Action::Create) };
        journaled(hub, change, &names_of(&list), || {
            results(merge(items(&list), |batch| {
                let users: Vec<NewUser> = batch
                    .into_iter()
                    .map(|(id, row)| NewUser { id, name: row.name, admin: row.admin.unwrap_or(default_admin) })
                    .collect();
                block_on(client.create_users(&users))
            })?)
        })
    }

    /// Deletes users (names or rows), concurrently. One result per item:
    /// `deleted`, `not_found`, `failed` or `planned`. The user that owns
    /// the token jhctl runs with is never deleted: it is `failed` with the
    /// reason, in a dry run too.
    ///
    /// Throws when: the hub cannot be reached (asking who owns the token).
    ///
    /// ```rhai
    /// hub.delete_users(["olduser"]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn delete_users(hub: &mut Hub, list: Array) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        journaled(hub, Change::of(Action::Delete), &names_of(&list), || {
            results(merge(items(&list), |batch| {
                by_name(batch, |names| block_on(client.delete_users_but_owner(names))?.map_err(thrown))
            })?)
        })
    }

    /// Sets (never toggles) the admin flag of users (names or rows). One
    /// result per item: `updated`, `not_found`, `failed` or `planned`.
    /// Revoking never demotes the user that owns the token jhctl runs with:
    /// it is `failed` with the reason, in a dry run too.
    ///
    /// Throws when: revoking and the hub cannot be reached (asking who owns the token).
    ///
    /// ```rhai
    /// hub.set_admin(["teacher01", "teacher02"], true);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn set_admin(hub: &mut Hub, list: Array, admin: bool) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        let flag = admin.to_string();
        journaled(hub, Change::of(Action::SetAdmin).detail(&flag), &names_of(&list), || {
            results(merge(items(&list), |batch| {
                by_name(batch, |names| block_on(client.set_admin_but_owner(names, admin))?.map_err(thrown))
            })?)
        })
    }

    /// Renames a user. The user must log in with the new name afterwards.
    /// One result map: `updated`, `not_found`, or `failed` when the new
    /// name exists or is invalid.
    ///
    /// ```rhai
    /// hub.rename_user("studnet01", "student01");
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn rename_user(hub: &mut Hub, old: &str, new: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        let new_name = crate::username::normalize(new).unwrap_or_else(|_| new.to_string());
        let names = names_of(&[Dynamic::from(old.to_string())]);
        let one = journaled(hub, Change::of(Action::Rename).detail(&new_name), &names, || {
            Ok(vec![to_dynamic(&block_on(client.rename_user(old, new))?)?])
        })?;
        Ok(one.into_iter().next().unwrap_or_default())
    }

    /// Starts the default servers of users (names or rows), or named
    /// servers given as `USER/SERVER`, concurrently,
    /// waiting up to 60 s for pending ones. One result per item: `started`,
    /// `pending`, `not_found`, `failed` or `planned`.
    ///
    /// ```rhai
    /// hub.start_servers(["alice", "bob"]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn start_servers(hub: &mut Hub, list: Array) -> Result<Array, Box<EvalAltResult>> {
        start_servers_with(hub, list, Map::new())
    }

    /// Starts servers with options: `#{wait: 120}` waits up to 120 s.
    ///
    /// ```rhai
    /// hub.start_servers(["alice"], #{ wait: 120 });
    /// ```
    #[rhai_fn(name = "start_servers", pure, return_raw)]
    pub fn start_servers_with(hub: &mut Hub, list: Array, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        let wait = wait_of(&options);
        results(merge(items(&list), |batch| by_name(batch, |names| block_on(client.start_servers(names, wait))))?)
    }

    /// Stops the default servers of users (names or rows), or named
    /// servers given as `USER/SERVER`, concurrently,
    /// waiting up to 60 s for pending ones. One result per item: `stopped`,
    /// `pending`, `not_found`, `failed` or `planned`.
    ///
    /// ```rhai
    /// hub.stop_servers(hub.users(#{ state: "active" }));
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn stop_servers(hub: &mut Hub, list: Array) -> Result<Array, Box<EvalAltResult>> {
        stop_servers_with(hub, list, Map::new())
    }

    /// Stops servers with options: `#{wait: 120}` waits up to 120 s.
    ///
    /// ```rhai
    /// hub.stop_servers(["alice"], #{ wait: 5 });
    /// ```
    #[rhai_fn(name = "stop_servers", pure, return_raw)]
    pub fn stop_servers_with(hub: &mut Hub, list: Array, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        let wait = wait_of(&options);
        journaled(hub, Change::of(Action::StopServer), &names_of(&list), || {
            results(merge(items(&list), |batch| by_name(batch, |names| block_on(client.stop_servers(names, wait))))?)
        })
    }

    /// Every group as a map: `name`, `users` (member names), `roles`; all
    /// pages, checked against the hub's total like `hub.users()`.
    ///
    /// Throws when: the hub cannot be reached or refuses the token; the
    /// listing comes back short or changes between pages.
    ///
    /// ```rhai
    /// for g in hub.groups() { print(`${g.name}: ${g.users.len()}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn groups(hub: &mut Hub) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_array(&block_on(client.groups())?.map_err(thrown)?)
    }

    /// One group as a map: `name`, `users` (member names), `roles`.
    ///
    /// Throws when: there is no such group (kind `not_found`, "no group
    /// `lab3` on this hub"; catch it to go on without the group); the hub
    /// cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// let g = hub.group("lab3");
    /// print(g.users.len());
    /// let maybe = ();
    /// try { maybe = hub.group("lab9"); } catch (e) { if e.kind != "not_found" { throw e; } }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn group(hub: &mut Hub, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        match block_on(client.group(name))?.map_err(thrown)? {
            Some(group) => to_dynamic(&group),
            None => Err(not_found(missing_group(name))),
        }
    }

    /// Creates a group. One result map: `created`, `exists`, `failed` or `planned`.
    ///
    /// ```rhai
    /// hub.create_group("lab3");
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn create_group(hub: &mut Hub, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_dynamic(&block_on(client.create_group(name))?)
    }

    /// Deletes a group (its members stay). One result map: `deleted`,
    /// `not_found`, `failed` or `planned`.
    ///
    /// ```rhai
    /// hub.delete_group("lab3");
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn delete_group(hub: &mut Hub, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        to_dynamic(&block_on(client.delete_group(name))?)
    }

    /// Adds users (names or rows) to a group, creating the group when
    /// missing, in one request. One result per user: `updated`,
    /// `not_found`, `failed` or `planned`.
    ///
    /// ```rhai
    /// hub.add_to_group("lab3", ["alice", "bob"]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn add_to_group(hub: &mut Hub, group: &str, list: Array) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        journaled(hub, Change::of(Action::AddToGroup).detail(group), &names_of(&list), || {
            results(merge(items(&list), |batch| by_name(batch, |names| block_on(client.add_to_group(group, names))))?)
        })
    }

    /// Removes users (names or rows) from a group. One result per user.
    ///
    /// ```rhai
    /// hub.remove_from_group("lab3", ["bob"]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn remove_from_group(hub: &mut Hub, group: &str, list: Array) -> Result<Array, Box<EvalAltResult>> {
        let client = hub.client()?;
        journaled(hub, Change::of(Action::RemoveFromGroup).detail(group), &names_of(&list), || {
            results(merge(items(&list), |batch| {
                by_name(batch, |names| block_on(client.remove_from_group(group, names)))
            })?)
        })
    }
}

/// The hub's user filters from a script's options map.
fn user_query(options: &Map) -> UserQuery {
    let get = |k: &str| options.get(k).filter(|v| !v.is_unit()).map(|v| v.to_string());
    UserQuery { name_filter: get("filter"), state: get("state"), sort: get("sort"), ..UserQuery::default() }
}
