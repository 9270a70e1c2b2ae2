//! User calls: one user, batch create, delete, admin
//! flag, rename.

use std::collections::HashSet;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use super::client::HubClient;
use super::user_records;
use super::{HubError, ItemResult, ItemStatus, NewUser, User};
use crate::username;

/// Names per batch-create request: small enough that a busy hub answers
/// each well within the request timeout even with all requests in flight.
const CREATE_CHUNK: usize = 200;

/// What a batch of deletes reads once before the first
/// ([`HubClient::delete_setup`]).
pub(crate) struct DeleteSetup {
    records: user_records::Records,
    /// Which of the names are users; `None` when unknown (all are treated as users).
    users: Option<std::collections::HashSet<String>>,
}

impl HubClient {
    /// One user, `None` when the hub has no such user.
    pub async fn user(&self, name: &str) -> Result<Option<User>, HubError> {
        let path = format!("/hub/api/users/{}", Self::segment(name));
        let reply = self.call(Method::GET, &path, &[], None).await?;
        match reply.status.as_u16() {
            404 => Ok(None),
            _ if reply.ok() => decode_user(reply.body, name).map(Some),
            status => Err(HubError::Status { what: format!("get user `{name}`"), status, message: reply.message() }),
        }
    }

    /// Creates users with the batch endpoint, admins and non-admins in
    /// separate requests. Names are normalised and validated first; an
    /// invalid name is `failed` and never sent. The names that are users
    /// already are read first (one listing) and are `exists` without a
    /// request, so a user this run created is `created` even when the hub's
    /// answer was lost and the retry found it there. One result per user,
    /// keyed by its [`NewUser::id`].
    pub async fn create_users(&self, users: &[NewUser]) -> Vec<ItemResult> {
        let mut results = Vec::with_capacity(users.len());
        let mut valid: Vec<(usize, String, bool)> = Vec::new();
        for user in users {
            match username::normalize(&user.name) {
                Ok(name) => valid.push((user.id, name, user.admin)),
                Err(e) => {
                    results.push(ItemResult::failed(user.name.trim(), format!("`{}`: {e}", user.name)).of(user.id))
                }
            }
        }
        let names: Vec<String> = valid.iter().map(|(_, n, _)| n.clone()).collect();
        let existing = match self.existing_names(&names).await {
            Ok(existing) => existing,
            Err(e) => {
                let why = format!("cannot tell which users exist: {e}");
                results.extend(valid.into_iter().map(|(id, n, _)| ItemResult::failed(n, why.clone()).of(id)));
                return results;
            }
        };
        let mut batches: [Vec<(usize, String)>; 2] = [Vec::new(), Vec::new()];
        for (id, name, admin) in valid {
            if existing.contains(&name) {
                results.push(ItemResult::new(name, ItemStatus::Exists).of(id));
            } else if self.dry_run() {
                results.push(ItemResult::new(name, ItemStatus::Planned).of(id));
            } else {
                batches[admin as usize].push((id, name));
            }
        }
        let bar = super::progress::bar(self.progress(), batches[0].len() + batches[1].len(), "create");
        let mut jobs = Vec::new();
        for (admin, batch) in batches.iter().enumerate() {
            for chunk in batch.chunks(CREATE_CHUNK) {
                let bar = &bar;
                jobs.push(async move {
                    let outcome = self.create_chunk(chunk, admin == 1).await;
                    super::progress::advance(bar, chunk.len());
                    outcome
                });
            }
        }
        for outcome in join_all(jobs).await {
            results.extend(outcome);
        }
        super::progress::finish(bar);
        results
    }

    /// Creates one chunk of names that were not users before the batch.
    /// Whatever the hub answers, a name it has now was created by this run.
    async fn create_chunk(&self, chunk: &[(usize, String)], admin: bool) -> Vec<ItemResult> {
        let names: Vec<&str> = chunk.iter().map(|(_, n)| n.as_str()).collect();
        let body = json!({ "usernames": names, "admin": admin });
        let created = |id: usize, n: &str| ItemResult::new(n, ItemStatus::Created).of(id);
        let reply = match self.call(Method::POST, "/hub/api/users", &[], Some(&body)).await {
            Ok(reply) => reply,
            Err(HubError::Unknown { .. }) => return self.created_by_read_back(chunk).await,
            Err(e) => return chunk.iter().map(|(i, n)| ItemResult::failed(n, e.to_string()).of(*i)).collect(),
        };
        if reply.ok() {
            let answered: HashSet<String> = reply
                .body
                .as_array()
                .map(|a| a.iter().filter_map(|u| u.get("name").and_then(Value::as_str).map(str::to_string)).collect())
                .unwrap_or_default();
            return chunk
                .iter()
                .map(|(i, n)| match answered.contains(n) || reply.ambiguous {
                    true => created(*i, n),
                    // Not there before the batch, created meanwhile by someone else.
                    false => ItemResult::new(n, ItemStatus::Exists).of(*i),
                })
                .collect();
        }
        if reply.status.as_u16() == 409 {
            let status = if reply.ambiguous { ItemStatus::Created } else { ItemStatus::Exists };
            return chunk.iter().map(|(i, n)| ItemResult::new(n, status).of(*i)).collect();
        }
        if chunk.len() == 1 {
            return vec![ItemResult::failed(&chunk[0].1, reply.describe()).of(chunk[0].0)];
        }
        // The hub refused the whole request (a name its authenticator
        // rejects): create one by one, so each name gets its own answer.
        let singles = chunk.iter().map(|(i, n)| async move {
            let path = format!("/hub/api/users/{}", Self::segment(n));
            match self.call(Method::POST, &path, &[], Some(&json!({ "admin": admin }))).await {
                Ok(r) if r.ok() => created(*i, n),
                Ok(r) if r.status.as_u16() == 409 && r.ambiguous => created(*i, n),
                Ok(r) if r.status.as_u16() == 409 => ItemResult::new(n, ItemStatus::Exists).of(*i),
                Ok(r) => ItemResult::failed(n, r.describe()).of(*i),
                Err(HubError::Unknown { .. }) => {
                    self.created_by_read_back(std::slice::from_ref(&(*i, n.clone()))).await.remove(0)
                }
                Err(e) => ItemResult::failed(n, e.to_string()).of(*i),
            }
        });
        join_all(singles).await
    }

    /// After a create whose answers were all lost: a name the hub has now
    /// (it did not before) was created by this run; one it lacks was not.
    async fn created_by_read_back(&self, chunk: &[(usize, String)]) -> Vec<ItemResult> {
        let names: Vec<String> = chunk.iter().map(|(_, n)| n.clone()).collect();
        match self.existing_names(&names).await {
            Ok(now) => chunk
                .iter()
                .map(|(i, n)| match now.contains(n) {
                    true => ItemResult::new(n, ItemStatus::Created).of(*i),
                    false => {
                        ItemResult::failed(n, "the hub did not answer and has no such user; run the command again")
                            .of(*i)
                    }
                })
                .collect(),
            Err(e) => chunk
                .iter()
                .map(|(i, n)| {
                    ItemResult::unknown(n, format!("the hub did not answer ({e}); check with `manage-users show {n}`"))
                        .of(*i)
                })
                .collect(),
        }
    }

    /// Deletes users concurrently: `deleted`, `not_found` or `failed` each.
    /// A 404 on a retry (the first answer was lost) counts as `deleted`.
    ///
    /// Before deleting a user, its records that outlive it on the guide's
    /// hub are cleared through the admin API (`user_records.rs`): its
    /// password is replaced by a random one nobody sees (forced to change)
    /// and a quota balance is set to 0; the result's `note` says what was
    /// cleared. A user whose records cannot be cleared is not deleted
    /// (`failed`). A hub without the admin API deletes as asked, and says
    /// once that nothing was cleared.
    pub async fn delete_users(&self, names: &[String]) -> Vec<ItemResult> {
        let setup = self.delete_setup(names).await;
        self.per_user(names, |name| self.delete_one(name, &setup)).await
    }

    /// What a batch of deletes needs to know once, before the first: the
    /// quota records, and which of `names` are users (a name that is no
    /// user gets no password row: a typo would make one). Nothing is read
    /// in a dry run or when the client keeps records.
    pub(crate) async fn delete_setup(&self, names: &[String]) -> DeleteSetup {
        if self.dry_run() || self.keeps_records() || names.is_empty() {
            return DeleteSetup { records: user_records::Records::NoAdminApi, users: None };
        }
        let normal: Vec<String> = names.iter().filter_map(|n| username::normalize(n).ok()).collect();
        let (records, users) = futures::join!(self.user_records(), self.existing_names(&normal));
        // When the users cannot be listed, clear every name's records.
        DeleteSetup { records, users: users.ok() }
    }

    /// Deletes the user `name` (normalised), first clearing its records
    /// as [`HubClient::delete_users`] says, with what `setup` read once.
    pub(crate) async fn delete_one(&self, name: String, setup: &DeleteSetup) -> ItemResult {
        if self.dry_run() {
            return ItemResult::new(name, ItemStatus::Planned);
        }
        let path = format!("/hub/api/users/{}", Self::segment(&name));
        if self.keeps_records() || setup.users.as_ref().is_some_and(|u| !u.contains(&name)) {
            return self.delete_item(name, &path).await;
        }
        match self.clear_records(&name, &setup.records).await {
            Err(kept) => kept,
            Ok(note) => {
                let result = self.delete_item(name, &path).await;
                match (note, result.status) {
                    (Some(note), ItemStatus::Deleted | ItemStatus::NotFound) => result.noted(note),
                    _ => result,
                }
            }
        }
    }

    /// Deletes users concurrently and does nothing else (`deleted`,
    /// `not_found` or `failed` each): for a caller that clears the records
    /// they leave another way, e.g. in the hub's own store through the
    /// cluster (`--via exec`).
    pub async fn delete_users_only(&self, names: &[String]) -> Vec<ItemResult> {
        self.per_user(names, |name| async move {
            let path = format!("/hub/api/users/{}", Self::segment(&name));
            self.delete_item(name, &path).await
        })
        .await
    }

    /// `DELETE path` for the item `name`: `deleted`, `not_found` or
    /// `failed`; a 404 after an attempt whose answer was lost is `deleted`.
    /// When no answer came at all, `GET path` tells whether it is gone.
    pub(crate) async fn delete_item(&self, name: String, path: &str) -> ItemResult {
        match self.call(Method::DELETE, path, &[], None).await {
            Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Deleted),
            Ok(r) if r.status.as_u16() == 404 && r.ambiguous => ItemResult::new(name, ItemStatus::Deleted),
            Ok(r) if r.status.as_u16() == 404 => ItemResult::new(name, ItemStatus::NotFound),
            Ok(r) => ItemResult::failed(name, r.describe()),
            Err(HubError::Unknown { reason, .. }) => match self.call(Method::GET, path, &[], None).await {
                Ok(r) if r.status.as_u16() == 404 => ItemResult::new(name, ItemStatus::Deleted),
                Ok(r) if r.ok() => {
                    ItemResult::failed(name, format!("no answer from the hub ({reason}); it is still there: run again"))
                }
                _ => ItemResult::unknown(
                    name,
                    format!("no answer from the hub ({reason}); check whether it is still there"),
                ),
            },
            Err(e) => ItemResult::failed(name, e.to_string()),
        }
    }

    /// Sets (never toggles) the admin flag of each user: `updated`, `not_found` or `failed`.
    pub async fn set_admin(&self, names: &[String], admin: bool) -> Vec<ItemResult> {
        self.per_user(names, |name| async move {
            let path = format!("/hub/api/users/{}", Self::segment(&name));
            match self.call(Method::PATCH, &path, &[], Some(&json!({ "admin": admin }))).await {
                Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Updated),
                Ok(r) if r.status.as_u16() == 404 => ItemResult::new(name, ItemStatus::NotFound),
                Ok(r) => ItemResult::failed(name, r.describe()),
                Err(HubError::Unknown { reason, .. }) => match self.user(&name).await {
                    Ok(Some(u)) if u.admin == admin => ItemResult::new(name, ItemStatus::Updated),
                    Ok(Some(_)) => {
                        ItemResult::failed(name, format!("no answer from the hub ({reason}); unchanged: run again"))
                    }
                    Ok(None) => ItemResult::new(name, ItemStatus::NotFound),
                    Err(e) => {
                        let check = format!("no answer from the hub ({e}); check with `manage-users show {name}`");
                        ItemResult::unknown(name, check)
                    }
                },
                Err(e) => ItemResult::failed(name, e.to_string()),
            }
        })
        .await
    }

    /// Renames a user: `updated`, `not_found`, or `failed` when `new` exists or is invalid.
    pub async fn rename_user(&self, old: &str, new: &str) -> ItemResult {
        let (old, new) = match (username::normalize(old), username::normalize(new)) {
            (Ok(o), Ok(n)) => (o, n),
            (Err(e), _) => return ItemResult::failed(old.trim(), format!("`{old}`: {e}")),
            (_, Err(e)) => return ItemResult::failed(old.trim(), format!("new name `{new}`: {e}")),
        };
        if self.dry_run() {
            return ItemResult::new(old, ItemStatus::Planned);
        }
        match self.user(&new).await {
            Ok(Some(_)) => return ItemResult::failed(old, format!("user `{new}` already exists; choose another name")),
            Ok(None) => {}
            Err(e) => return ItemResult::failed(old, e.to_string()),
        }
        let path = format!("/hub/api/users/{}", Self::segment(&old));
        match self.call(Method::PATCH, &path, &[], Some(&json!({ "name": new }))).await {
            Ok(r) if r.ok() => ItemResult::new(old, ItemStatus::Updated),
            Ok(r) if r.status.as_u16() == 404 && r.ambiguous => ItemResult::new(old, ItemStatus::Updated),
            Ok(r) if r.status.as_u16() == 404 => ItemResult::new(old, ItemStatus::NotFound),
            Ok(r) => ItemResult::failed(old, r.describe()),
            Err(e) => ItemResult::failed(old, e.to_string()),
        }
    }

    /// Runs `job` for each valid name concurrently (bounded by the client's
    /// limit); invalid names fail without a request, and in a dry run every
    /// valid name is `planned`. Each result's `id` is its name's index.
    pub(crate) async fn per_user<F, Fut>(&self, names: &[String], job: F) -> Vec<ItemResult>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = ItemResult>,
    {
        let bar = super::progress::bar(self.progress() && !self.dry_run(), names.len(), "users");
        let jobs = names.iter().enumerate().map(|(id, raw)| {
            let checked = username::normalize(raw);
            let dry_run = self.dry_run();
            let future = checked.as_ref().ok().filter(|_| !dry_run).map(|n| job(n.clone()));
            let bar = &bar;
            async move {
                let result = match (checked, future) {
                    (Err(e), _) => ItemResult::failed(raw.trim(), format!("`{raw}`: {e}")),
                    (Ok(name), None) => ItemResult::new(name, ItemStatus::Planned),
                    (Ok(name), Some(_)) if super::interrupt::stop_requested() => not_started(name),
                    (Ok(name), Some(future)) => match future.await {
                        // Ctrl-C came before this user's first change was sent.
                        r if r.status == ItemStatus::Failed
                            && r.error.as_deref().is_some_and(|e| e.ends_with(NOT_STARTED)) =>
                        {
                            not_started(name)
                        }
                        r => r,
                    },
                };
                super::progress::advance(bar, 1);
                result.of(id)
            }
        });
        let results = join_all(jobs).await;
        super::progress::finish(bar);
        results
    }
}

/// The error text of a request Ctrl-C kept from being sent.
const NOT_STARTED: &str = "not started: the run was interrupted (Ctrl-C)";

/// The result of a user whose request Ctrl-C kept from being sent.
fn not_started(name: String) -> ItemResult {
    ItemResult { error: Some(NOT_STARTED.into()), ..ItemResult::new(name, ItemStatus::NotStarted) }
}

fn decode_user(body: Value, name: &str) -> Result<User, HubError> {
    serde_json::from_value(body)
        .map_err(|e| HubError::Decode { what: format!("get user `{name}`"), reason: e.to_string() })
}
