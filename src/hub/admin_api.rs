//! The hub's admin API (`/hub/admin/api`): passwords and quota.
//!
//! Its errors are `{"error": ..., "details": [...]}`; a hub without the
//! admin API answers 404, which is reported as such.

use futures::future::join_all;
use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::client::{HubClient, Reply};
use super::{HubError, ItemResult, ItemStatus};
use crate::username;

/// The most users the hub takes in one `/quota/batch` request.
pub const QUOTA_BATCH_MAX: usize = 1000;

/// The largest amount the quota API accepts, either sign.
pub const QUOTA_LIMIT: i64 = 10_000_000;

/// The shortest password the guide's hub takes (its first-use
/// authenticator's default `min_password_length`); set-password answers
/// 400 "too short" below it.
pub const MIN_PASSWORD_LENGTH: usize = 7;

/// Why the guide's hub would refuse `password`, known before anything is
/// sent (its length, counted in characters as the hub does); `None` when
/// the known rule passes. A hub configured stricter may still refuse it.
pub fn password_problem(password: &str) -> Option<String> {
    let length = password.chars().count();
    (length < MIN_PASSWORD_LENGTH).then(|| {
        format!(
            "the password is too short for the hub: {length} characters, it needs at least {MIN_PASSWORD_LENGTH}; \
             choose a longer one, or --generate-passwords"
        )
    })
}

/// One user's password to set: one item of a password batch.
#[derive(Clone)]
pub struct PasswordRow {
    /// The item's key (e.g. its index in the roster): its result carries it back.
    pub id: usize,
    /// The username as given; normalised before sending.
    pub name: String,
    /// The new password. Never printed.
    pub password: String,
}

impl std::fmt::Debug for PasswordRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRow").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

/// One user's balance to set: one item of a quota batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaRow {
    /// The item's key (e.g. its index in the roster): its result carries it back.
    pub id: usize,
    /// The username as given; normalised before sending.
    pub name: String,
    /// The balance to set.
    pub amount: i64,
}

/// One user's quota record, as `GET /hub/admin/api/quota` lists it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct QuotaEntry {
    /// The username.
    pub username: String,
    /// Credits left.
    #[serde(default)]
    pub balance: i64,
    /// Whether the user has unlimited quota.
    #[serde(default)]
    pub unlimited: bool,
    /// When the balance last changed.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A change to one user's quota for `POST /hub/admin/api/quota/{name}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaAction {
    /// Set the balance to the amount (at least 0).
    Set(i64),
    /// Add the amount (more than 0; use `Deduct` to take away).
    Add(i64),
    /// Take the amount away (more than 0; fails when the balance is short).
    Deduct(i64),
    /// Switch unlimited quota on or off.
    Unlimited(bool),
}

impl QuotaAction {
    fn body(self, description: &str) -> Value {
        match self {
            QuotaAction::Set(n) => json!({ "action": "set", "amount": n, "description": description }),
            QuotaAction::Add(n) => json!({ "action": "add", "amount": n, "description": description }),
            QuotaAction::Deduct(n) => json!({ "action": "deduct", "amount": n, "description": description }),
            QuotaAction::Unlimited(on) => {
                json!({ "action": "set_unlimited", "unlimited": on, "description": description })
            }
        }
    }

    /// Whether sending it twice moves the balance twice.
    fn moves_a_counter(self) -> bool {
        matches!(self, QuotaAction::Add(_) | QuotaAction::Deduct(_))
    }

    /// Why the amount cannot be sent, checked before any request.
    pub fn problem(self) -> Option<String> {
        let (n, min) = match self {
            QuotaAction::Set(n) => (n, 0),
            QuotaAction::Add(n) => (n, 1),
            QuotaAction::Deduct(n) => (n, 1),
            QuotaAction::Unlimited(_) => return None,
        };
        (n < min || n > QUOTA_LIMIT).then(|| format!("amount {n} is out of range; use {min} to {QUOTA_LIMIT}"))
    }
}

/// Whether an answer from `/hub/admin/api` comes from a hub without the
/// admin API: a stock JupyterHub's page handler answers a GET with a 404
/// HTML page and a POST with a 403 HTML page (its `_xsrf` check); the admin
/// API itself always answers JSON, its errors too.
pub(crate) fn admin_api_absent(status: u16, body: &Value) -> bool {
    (403..=405).contains(&status) && !body.is_object()
}

/// [`admin_api_absent`] for a whole reply.
fn page_not_api(reply: &Reply) -> bool {
    admin_api_absent(reply.status.as_u16(), &reply.body)
}

pub(super) fn admin_failure(reply: &Reply) -> String {
    match reply.status.as_u16() {
        status if page_not_api(reply) => format!(
            "{status} - the hub has no admin API at /hub/admin/api (it answered with an HTML page); \
             use `--via exec` for passwords, or the hub's own authenticator"
        ),
        300..=399 => format!(
            "{} - the hub sent its login page: it does not accept the token for the admin API; use an admin's token",
            reply.status.as_u16()
        ),
        401 | 403 => format!(
            "{} - {}: the hub's admin API needs the token of a user with the admin flag (scopes are not enough); \
             use an admin's token, or make its owner an admin with `jhctl manage-users set-admin NAME`",
            reply.status.as_u16(),
            reply.message()
        ),
        404 if reply.body.get("error").is_none() => {
            "404 - the hub has no admin API at /hub/admin/api; this command needs the hub's admin extension".into()
        }
        _ => {
            let details = reply
                .body
                .get("details")
                .and_then(Value::as_array)
                .map(|d| {
                    d.iter()
                        .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                        .collect::<Vec<_>>()
                })
                .filter(|d| !d.is_empty())
                .map(|d| format!(" ({})", d.join("; ")))
                .unwrap_or_default();
            format!("{}{details}", reply.describe())
        }
    }
}

impl HubClient {
    /// Sets passwords through `POST /hub/admin/api/set-password`,
    /// concurrently. One result per row, keyed by its id: `updated`,
    /// `failed` (with the hub's message, e.g. too short, or "not a user of
    /// this hub"), `unknown` or `planned`.
    pub async fn set_passwords(&self, rows: &[PasswordRow], force_change: bool) -> Vec<ItemResult> {
        self.set_passwords_each(rows, force_change, |_, _| {}).await
    }

    /// [`HubClient::set_passwords`], calling `on_result(row, result)` as
    /// each answer arrives, so a caller can record a password the moment
    /// the hub has taken it.
    pub async fn set_passwords_each<F>(&self, rows: &[PasswordRow], force_change: bool, on_result: F) -> Vec<ItemResult>
    where
        F: Fn(&PasswordRow, &ItemResult),
    {
        let mut results = Vec::with_capacity(rows.len());
        let mut todo = Vec::new();
        for row in rows {
            match username::normalize(&row.name) {
                Err(e) => results.push(ItemResult::failed(row.name.trim(), format!("`{}`: {e}", row.name)).of(row.id)),
                Ok(name) if row.password.is_empty() => {
                    results.push(ItemResult::failed(name, "the password is empty").of(row.id))
                }
                Ok(name) => todo.push((row, name)),
            }
        }
        let (todo, refused) = self.only_users(todo, |row| row.id).await;
        results.extend(refused);
        let bar = super::progress::bar(self.progress() && !self.dry_run(), todo.len(), "passwords");
        let mut jobs: FuturesUnordered<_> = todo
            .into_iter()
            .map(|(row, name)| async move {
                let result = self.set_password(name, &row.password, force_change).await.of(row.id);
                (row, result)
            })
            .collect();
        while let Some((row, result)) = jobs.next().await {
            on_result(row, &result);
            results.push(result);
            super::progress::advance(&bar, 1);
        }
        super::progress::finish(bar);
        results
    }

    /// Splits items `(item, normalised name)` into those whose name is a
    /// user of the hub and `failed` results ("not a user of this hub") for
    /// the others, keyed by `id(item)`. One listing of the names.
    pub async fn split_by_user<T>(
        &self,
        todo: Vec<(T, String)>,
        id: impl Fn(&T) -> usize,
    ) -> Result<(Vec<(T, String)>, Vec<ItemResult>), HubError> {
        let names: Vec<String> = todo.iter().map(|(_, n)| n.clone()).collect();
        let users = self.existing_names(&names).await?;
        let (keep, other): (Vec<_>, Vec<_>) = todo.into_iter().partition(|(_, name)| users.contains(name));
        let refused = other
            .into_iter()
            .map(|(item, name)| {
                let why = format!("`{name}` is not a user of this hub; fix the name or create the user first");
                ItemResult::failed(name, why).of(id(&item))
            })
            .collect();
        Ok((keep, refused))
    }

    /// [`HubClient::split_by_user`] for a job that sends to the hub: when
    /// the names cannot be checked every item fails, and in a dry run the
    /// kept items come back `planned` instead.
    async fn only_users<T>(
        &self,
        todo: Vec<(T, String)>,
        id: impl Fn(&T) -> usize,
    ) -> (Vec<(T, String)>, Vec<ItemResult>) {
        let ids: Vec<(usize, String)> = todo.iter().map(|(t, n)| (id(t), n.clone())).collect();
        match self.split_by_user(todo, &id).await {
            Err(e) => {
                let why = format!("cannot check the name against the hub: {e}");
                (Vec::new(), ids.into_iter().map(|(i, n)| ItemResult::failed(n, why.clone()).of(i)).collect())
            }
            Ok((keep, mut done)) if self.dry_run() => {
                done.extend(keep.into_iter().map(|(t, n)| ItemResult::new(n, ItemStatus::Planned).of(id(&t))));
                (Vec::new(), done)
            }
            Ok(split) => split,
        }
    }

    async fn set_password(&self, name: String, password: &str, force_change: bool) -> ItemResult {
        let body = json!({ "username": name, "password": password, "force_change": force_change });
        match self.call(Method::POST, "/hub/admin/api/set-password", &[], Some(&body)).await {
            Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Updated),
            Ok(r) => ItemResult::failed(name, admin_failure(&r)),
            // A password cannot be read back; setting it again is harmless.
            Err(HubError::Unknown { reason, .. }) => ItemResult::unknown(
                name,
                format!("no answer from the hub ({reason}); the password may or may not be set: set it again"),
            ),
            Err(e) => ItemResult::failed(name, e.to_string()),
        }
    }

    /// Checks once per run that the hub has the admin API, before anything
    /// about passwords or quota is sent: `GET
    /// /hub/admin/api/generate-password`, which changes nothing. An HTML
    /// answer (a stock JupyterHub) is [`HubError::NoAdminApi`]; any other
    /// answer lets the job go on (a refused token then fails each item
    /// with the hub's reason).
    pub async fn check_admin_api(&self) -> Result<(), HubError> {
        if self.admin_api_seen() {
            return Ok(());
        }
        self.admin_get("check the admin API", "/hub/admin/api/generate-password").await.map(|_| ()).or_else(|e| match e
        {
            HubError::NoAdminApi { .. } => Err(e),
            _ => Ok(()),
        })
    }

    /// `GET path` of the admin API; a non-2xx answer is an error saying `what` failed.
    async fn admin_get(&self, what: impl Into<String>, path: &str) -> Result<Value, HubError> {
        let reply = self.call(Method::GET, path, &[], None).await?;
        if page_not_api(&reply) {
            return Err(HubError::NoAdminApi { url: self.url().to_string(), status: reply.status.as_u16() });
        }
        if reply.body.is_object() {
            self.saw_admin_api();
        }
        if reply.ok() {
            Ok(reply.body)
        } else {
            Err(HubError::Status { what: what.into(), status: reply.status.as_u16(), message: admin_failure(&reply) })
        }
    }

    /// A password made by the hub (`GET /hub/admin/api/generate-password`).
    pub async fn generate_password(&self) -> Result<String, HubError> {
        let body = self.admin_get("generate a password", "/hub/admin/api/generate-password").await?;
        body.get("password").and_then(Value::as_str).map(str::to_string).ok_or_else(|| HubError::Decode {
            what: "generate a password".into(),
            reason: "no `password` in the answer".into(),
        })
    }

    /// Every user's quota record (users without a record are not listed).
    pub async fn quotas(&self) -> Result<Vec<QuotaEntry>, HubError> {
        let body = self.admin_get("list quota", "/hub/admin/api/quota").await?;
        let users = body.get("users").cloned().unwrap_or(Value::Array(Vec::new()));
        serde_json::from_value(users).map_err(|e| HubError::Decode { what: "list quota".into(), reason: e.to_string() })
    }

    /// One user's quota with recent transactions, as the hub sends it.
    pub async fn quota(&self, name: &str) -> Result<Value, HubError> {
        let name = name.trim().to_lowercase();
        let path = format!("/hub/admin/api/quota/{}", Self::segment(&name));
        self.admin_get(format!("quota of `{name}`"), &path).await
    }

    /// Sets balances with `/quota/batch`, in requests of at most 1000
    /// users, sent concurrently. Names the batch endpoint does not take are
    /// set one by one; names that are not users of the hub fail. One result
    /// per row, keyed by its id: `updated`, `failed`, `unknown` or `planned`.
    pub async fn set_quota(&self, rows: &[QuotaRow]) -> Vec<ItemResult> {
        let mut results = Vec::with_capacity(rows.len());
        let mut todo = Vec::new();
        for row in rows {
            match username::normalize(&row.name) {
                Err(e) => results.push(ItemResult::failed(row.name.trim(), format!("`{}`: {e}", row.name)).of(row.id)),
                Ok(name) => match QuotaAction::Set(row.amount).problem() {
                    Some(problem) => results.push(ItemResult::failed(name, problem).of(row.id)),
                    None => todo.push((row, name)),
                },
            }
        }
        let (todo, refused) = self.only_users(todo, |row| row.id).await;
        results.extend(refused);
        let (batch, singles): (Vec<_>, Vec<_>) = todo
            .into_iter()
            .partition(|(_, name)| name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c)));
        let chunks = batch.chunks(QUOTA_BATCH_MAX).map(|chunk| self.quota_batch(chunk));
        for outcome in join_all(chunks).await {
            results.extend(outcome);
        }
        let one_by_one = singles.iter().map(|(row, name)| async move {
            self.quota_change(name, QuotaAction::Set(row.amount), "set by jhctl").await.of(row.id)
        });
        results.extend(join_all(one_by_one).await);
        results
    }

    async fn quota_batch(&self, chunk: &[(&QuotaRow, String)]) -> Vec<ItemResult> {
        let users: Vec<Value> = chunk.iter().map(|(row, n)| json!({ "username": n, "amount": row.amount })).collect();
        let reply = match self
            .call(Method::POST, "/hub/admin/api/quota/batch", &[], Some(&json!({ "users": users })))
            .await
        {
            Ok(r) if r.ok() => r,
            Ok(r) => return chunk.iter().map(|(row, n)| ItemResult::failed(n, admin_failure(&r)).of(row.id)).collect(),
            Err(HubError::Unknown { reason, .. }) => return self.balances_read_back(chunk, &reason).await,
            Err(e) => return chunk.iter().map(|(row, n)| ItemResult::failed(n, e.to_string()).of(row.id)).collect(),
        };
        let details = reply.body.get("details").and_then(Value::as_array).cloned().unwrap_or_default();
        chunk
            .iter()
            .map(|(row, name)| {
                let detail = details.iter().find(|d| d.get("username").and_then(Value::as_str) == Some(name));
                let result = match detail {
                    Some(d) if d.get("status").and_then(Value::as_str) == Some("success") => {
                        ItemResult::new(name, ItemStatus::Updated)
                    }
                    Some(d) => ItemResult::failed(
                        name,
                        d.get("error")
                            .and_then(Value::as_str)
                            .unwrap_or("the hub did not set this balance")
                            .to_string(),
                    ),
                    None => ItemResult::failed(name, "the hub did not report this user"),
                };
                result.of(row.id)
            })
            .collect()
    }

    /// After a balance batch got no answer: each balance that is what its
    /// row asked for is `updated`; the others are `unknown` (setting a
    /// balance again is harmless, so the fix is to run again).
    async fn balances_read_back(&self, chunk: &[(&QuotaRow, String)], reason: &str) -> Vec<ItemResult> {
        let now = self.quotas().await.unwrap_or_default();
        chunk
            .iter()
            .map(|(row, name)| {
                let set = now.iter().any(|q| &q.username == name && q.balance == row.amount);
                let result = match set {
                    true => ItemResult::new(name, ItemStatus::Updated),
                    false => ItemResult::unknown(
                        name,
                        format!("no answer from the hub ({reason}); the balance is not {} yet: run again", row.amount),
                    ),
                };
                result.of(row.id)
            })
            .collect()
    }

    /// Applies one quota action to each user that the hub has,
    /// concurrently: `updated`, `failed` (e.g. insufficient balance, not a
    /// user), `unknown` or `planned`. Results are keyed by the name's index.
    /// `what` names the admin action in the hub's transaction log.
    pub async fn change_quota(&self, names: &[String], action: QuotaAction, what: &str) -> Vec<ItemResult> {
        let mut results = Vec::with_capacity(names.len());
        let mut todo = Vec::new();
        for (id, raw) in names.iter().enumerate() {
            match username::normalize(raw) {
                Err(e) => results.push(ItemResult::failed(raw.trim(), format!("`{raw}`: {e}")).of(id)),
                Ok(name) => match action.problem() {
                    Some(problem) => results.push(ItemResult::failed(name, problem).of(id)),
                    None => todo.push((id, name)),
                },
            }
        }
        let (todo, refused) = self.only_users(todo, |id| *id).await;
        results.extend(refused);
        let bar = super::progress::bar(self.progress(), todo.len(), "quota");
        let jobs = todo.iter().map(|(key, name)| {
            let bar = &bar;
            async move {
                let result = self.quota_change(name, action, what).await.of(*key);
                super::progress::advance(bar, 1);
                result
            }
        });
        results.extend(join_all(jobs).await);
        super::progress::finish(bar);
        results
    }

    /// One quota change. A change that moves the balance is sent once,
    /// marked with a key of its own in its description; when its answer is
    /// lost, the user's recent transactions tell whether the hub did it.
    pub(super) async fn quota_change(&self, name: &str, action: QuotaAction, what: &str) -> ItemResult {
        let path = format!("/hub/admin/api/quota/{}", Self::segment(name));
        let mark = format!("{:016x}", rand::random::<u64>());
        let description = format!("{what} (jhctl {mark})");
        let body = action.body(&description);
        let sent = match action.moves_a_counter() {
            true => self.call_once(Method::POST, &path, Some(&body)).await,
            false => self.call(Method::POST, &path, &[], Some(&body)).await,
        };
        match sent {
            Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Updated),
            Ok(r) => ItemResult::failed(name, admin_failure(&r)),
            Err(HubError::Unknown { reason, .. }) => self.quota_read_back(name, action, &mark, &reason).await,
            Err(e) => ItemResult::failed(name, e.to_string()),
        }
    }

    /// Decides a quota change whose answer was lost from the hub's state.
    async fn quota_read_back(&self, name: &str, action: QuotaAction, mark: &str, reason: &str) -> ItemResult {
        let check = format!(
            "no answer from the hub ({reason}) and its log does not show the change yet; \
             check `jhctl manage-users show {name}` before changing this user's quota again"
        );
        let Ok(quota) = self.quota(name).await else {
            return ItemResult::unknown(name, check);
        };
        let done = match action {
            QuotaAction::Unlimited(on) => quota.get("unlimited").and_then(Value::as_bool) == Some(on),
            QuotaAction::Set(n) => quota.get("balance").and_then(Value::as_i64) == Some(n),
            QuotaAction::Add(_) | QuotaAction::Deduct(_) => {
                quota.get("recent_transactions").and_then(Value::as_array).is_some_and(|log| {
                    log.iter().any(|t| t.get("description").and_then(Value::as_str).is_some_and(|d| d.contains(mark)))
                })
            }
        };
        match done {
            true => ItemResult::new(name, ItemStatus::Updated),
            false => ItemResult::unknown(name, check),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue #26: `create sh.csv --password abc` created both users, then
    // every password failed: the rule the hub applies is checked first.
    #[test]
    fn a_password_shorter_than_the_hub_takes_is_known_before_sending() {
        assert_eq!(
            password_problem("abc").as_deref(),
            Some(
                "the password is too short for the hub: 3 characters, it needs at least 7; \
                 choose a longer one, or --generate-passwords"
            )
        );
        assert!(password_problem("abcdef").is_some());
        assert_eq!(password_problem("abcdefg"), None);
        assert_eq!(password_problem("äöüäöüä"), None, "characters, not bytes");
        assert!(password_problem("äöü").is_some());
    }

    fn reply(status: u16, body: Value) -> Reply {
        Reply { status: reqwest::StatusCode::from_u16(status).unwrap(), body, ambiguous: false }
    }

    // Issue #26: a stock JupyterHub answers /hub/admin/api with HTML pages;
    // the admin API answers JSON, its errors too.
    #[test]
    fn an_html_answer_means_no_admin_api() {
        let html = || Value::String("<!DOCTYPE HTML>\n<html>...</html>".into());
        // (answer, from the hub's page handler)
        let cases = [
            (reply(404, html()), true),
            (reply(403, html()), true),
            (reply(405, html()), true),
            (reply(403, json!({ "error": "Admin access required" })), false),
            (reply(404, json!({ "error": "User not found" })), false),
            (reply(200, json!({ "password": "x" })), false),
            (reply(500, html()), false),
            (reply(302, Value::Null), false),
        ];
        for (answer, page) in cases {
            assert_eq!(page_not_api(&answer), page, "{answer:?}");
        }
        let said = admin_failure(&reply(403, html()));
        assert!(said.starts_with("403 - the hub has no admin API") && !said.contains("<html"), "{said}");
    }

    #[test]
    fn amounts_are_checked_before_sending() {
        assert_eq!(QuotaAction::Set(0).problem(), None);
        assert!(QuotaAction::Set(-1).problem().is_some());
        assert!(QuotaAction::Set(10_000_001).problem().is_some());
        assert!(QuotaAction::Add(-5).problem().is_some());
        assert_eq!(QuotaAction::Add(1).problem(), None);
        assert!(QuotaAction::Deduct(0).problem().is_some());
        assert_eq!(QuotaAction::Unlimited(true).problem(), None);
    }
}
