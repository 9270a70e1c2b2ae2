//! User calls: one user, batch create, delete, admin
//! flag, rename.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use super::client::HubClient;
use super::{HubError, ItemResult, ItemStatus, NewUser, User};
use crate::username;

/// Names per batch-create request: small enough that a busy hub answers
/// each well within the request timeout even with all requests in flight.
const CREATE_CHUNK: usize = 200;

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
    /// invalid name is `failed` and never sent. A name that exists is
    /// `exists`. One result per input, in input order.
    pub async fn create_users(&self, users: &[NewUser]) -> Vec<ItemResult> {
        let mut results: Vec<Option<ItemResult>> = vec![None; users.len()];
        let mut batches: [Vec<(usize, String)>; 2] = [Vec::new(), Vec::new()];
        for (i, user) in users.iter().enumerate() {
            match username::normalize(&user.name) {
                Ok(name) if self.dry_run() => results[i] = Some(ItemResult::new(name, ItemStatus::Planned)),
                Ok(name) => batches[user.admin as usize].push((i, name)),
                Err(e) => results[i] = Some(ItemResult::failed(user.name.trim(), format!("`{}`: {e}", user.name))),
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
            for (i, result) in outcome {
                results[i] = Some(result);
            }
        }
        super::progress::finish(bar);
        results.into_iter().map(|r| r.expect("every user gets a result")).collect()
    }

    async fn create_chunk(&self, chunk: &[(usize, String)], admin: bool) -> Vec<(usize, ItemResult)> {
        let names: Vec<&str> = chunk.iter().map(|(_, n)| n.as_str()).collect();
        let body = json!({ "usernames": names, "admin": admin });
        let reply = match self.call(Method::POST, "/hub/api/users", &[], Some(&body)).await {
            Ok(reply) => reply,
            Err(e) => return chunk.iter().map(|(i, n)| (*i, ItemResult::failed(n, e.to_string()))).collect(),
        };
        if reply.ok() {
            let created: std::collections::HashSet<String> = reply
                .body
                .as_array()
                .map(|a| a.iter().filter_map(|u| u.get("name").and_then(Value::as_str).map(str::to_string)).collect())
                .unwrap_or_default();
            return chunk
                .iter()
                .map(|(i, n)| {
                    let status = if created.contains(n) { ItemStatus::Created } else { ItemStatus::Exists };
                    (*i, ItemResult::new(n, status))
                })
                .collect();
        }
        if reply.status.as_u16() == 409 {
            return chunk.iter().map(|(i, n)| (*i, ItemResult::new(n, ItemStatus::Exists))).collect();
        }
        if chunk.len() == 1 {
            return vec![(chunk[0].0, ItemResult::failed(&chunk[0].1, reply.describe()))];
        }
        // The hub refused the whole request (a name its authenticator
        // rejects): create one by one, so each name gets its own answer.
        let singles = chunk.iter().map(|(i, n)| async move {
            let path = format!("/hub/api/users/{}", Self::segment(n));
            let result = match self.call(Method::POST, &path, &[], Some(&json!({ "admin": admin }))).await {
                Ok(r) if r.ok() => ItemResult::new(n, ItemStatus::Created),
                Ok(r) if r.status.as_u16() == 409 => ItemResult::new(n, ItemStatus::Exists),
                Ok(r) => ItemResult::failed(n, r.describe()),
                Err(e) => ItemResult::failed(n, e.to_string()),
            };
            (*i, result)
        });
        join_all(singles).await
    }

    /// Deletes users concurrently: `deleted`, `not_found` or `failed` each.
    /// A 404 on a retry (the first answer was lost) counts as `deleted`.
    pub async fn delete_users(&self, names: &[String]) -> Vec<ItemResult> {
        self.per_user(names, |name| async move {
            let path = format!("/hub/api/users/{}", Self::segment(&name));
            self.delete_item(name, &path).await
        })
        .await
    }

    /// `DELETE path` for the item `name`: `deleted`, `not_found` or
    /// `failed`; a 404 on a retry (the first answer was lost) is `deleted`.
    pub(crate) async fn delete_item(&self, name: String, path: &str) -> ItemResult {
        match self.call(Method::DELETE, path, &[], None).await {
            Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Deleted),
            Ok(r) if r.status.as_u16() == 404 && r.attempts > 1 => ItemResult::new(name, ItemStatus::Deleted),
            Ok(r) if r.status.as_u16() == 404 => ItemResult::new(name, ItemStatus::NotFound),
            Ok(r) => ItemResult::failed(name, r.describe()),
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
            Ok(r) if r.status.as_u16() == 404 && r.attempts > 1 => ItemResult::new(old, ItemStatus::Updated),
            Ok(r) if r.status.as_u16() == 404 => ItemResult::new(old, ItemStatus::NotFound),
            Ok(r) => ItemResult::failed(old, r.describe()),
            Err(e) => ItemResult::failed(old, e.to_string()),
        }
    }

    /// Runs `job` for each valid name concurrently (bounded by the client's
    /// limit); invalid names fail without a request, and in a dry run every
    /// valid name is `planned`. Results come back in input order.
    pub(crate) async fn per_user<F, Fut>(&self, names: &[String], job: F) -> Vec<ItemResult>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = ItemResult>,
    {
        let bar = super::progress::bar(self.progress() && !self.dry_run(), names.len(), "users");
        let jobs = names.iter().map(|raw| {
            let checked = username::normalize(raw);
            let dry_run = self.dry_run();
            let future = checked.as_ref().ok().filter(|_| !dry_run).map(|n| job(n.clone()));
            let bar = &bar;
            async move {
                let result = match (checked, future) {
                    (Err(e), _) => ItemResult::failed(raw.trim(), format!("`{raw}`: {e}")),
                    (Ok(name), None) => ItemResult::new(name, ItemStatus::Planned),
                    (Ok(_), Some(future)) => future.await,
                };
                super::progress::advance(bar, 1);
                result
            }
        });
        let results = join_all(jobs).await;
        super::progress::finish(bar);
        results
    }
}

fn decode_user(body: Value, name: &str) -> Result<User, HubError> {
    serde_json::from_value(body)
        .map_err(|e| HubError::Decode { what: format!("get user `{name}`"), reason: e.to_string() })
}
