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

/// One user's password to set.
#[derive(Clone, Debug)]
pub struct PasswordRow {
    /// The username as given; normalised before sending.
    pub name: String,
    /// The new password. Never printed.
    pub password: String,
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
    /// Add the amount (negative takes away).
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

    /// Why the amount cannot be sent, checked before any request.
    pub fn problem(self) -> Option<String> {
        let (n, min) = match self {
            QuotaAction::Set(n) => (n, 0),
            QuotaAction::Add(n) => (n, -QUOTA_LIMIT),
            QuotaAction::Deduct(n) => (n, 1),
            QuotaAction::Unlimited(_) => return None,
        };
        (n < min || n > QUOTA_LIMIT).then(|| format!("amount {n} is out of range; use {min} to {QUOTA_LIMIT}"))
    }
}

fn admin_failure(reply: &Reply) -> String {
    match reply.status.as_u16() {
        300..=399 => format!(
            "{} - the hub sent its login page: it does not accept the token for the admin API; use an admin's token",
            reply.status.as_u16()
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
    /// concurrently. One result per row: `updated`, `failed` (with the
    /// hub's message, e.g. too short) or `planned`.
    pub async fn set_passwords(&self, rows: &[PasswordRow], force_change: bool) -> Vec<ItemResult> {
        self.set_passwords_each(rows, force_change, |_, _| {}).await
    }

    /// [`HubClient::set_passwords`], calling `on_result(index, result)` as
    /// each answer arrives, so a caller can record a password the moment
    /// the hub has taken it.
    pub async fn set_passwords_each<F>(&self, rows: &[PasswordRow], force_change: bool, on_result: F) -> Vec<ItemResult>
    where
        F: Fn(usize, &ItemResult),
    {
        let jobs: FuturesUnordered<_> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| async move { (i, self.set_password(row, force_change).await) })
            .collect();
        let mut results: Vec<Option<ItemResult>> = vec![None; rows.len()];
        let mut jobs = jobs;
        let bar = super::progress::bar(self.progress() && !self.dry_run(), rows.len(), "passwords");
        while let Some((i, result)) = jobs.next().await {
            on_result(i, &result);
            results[i] = Some(result);
            super::progress::advance(&bar, 1);
        }
        super::progress::finish(bar);
        results.into_iter().map(|r| r.expect("every row gets a result")).collect()
    }

    async fn set_password(&self, row: &PasswordRow, force_change: bool) -> ItemResult {
        let name = match username::normalize(&row.name) {
            Ok(name) => name,
            Err(e) => return ItemResult::failed(row.name.trim(), format!("`{}`: {e}", row.name)),
        };
        if row.password.is_empty() {
            return ItemResult::failed(name, "the password is empty");
        }
        if self.dry_run() {
            return ItemResult::new(name, ItemStatus::Planned);
        }
        let body = json!({ "username": name, "password": row.password, "force_change": force_change });
        match self.call(Method::POST, "/hub/admin/api/set-password", &[], Some(&body)).await {
            Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Updated),
            Ok(r) => ItemResult::failed(name, admin_failure(&r)),
            Err(e) => ItemResult::failed(name, e.to_string()),
        }
    }

    /// `GET path` of the admin API; a non-2xx answer is an error saying `what` failed.
    async fn admin_get(&self, what: impl Into<String>, path: &str) -> Result<Value, HubError> {
        let reply = self.call(Method::GET, path, &[], None).await?;
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
    /// set one by one. One result per entry: `updated`, `failed` or `planned`.
    pub async fn set_quota(&self, entries: &[(String, i64)]) -> Vec<ItemResult> {
        let mut results: Vec<Option<ItemResult>> = vec![None; entries.len()];
        let mut batch: Vec<(usize, String, i64)> = Vec::new();
        let mut singles: Vec<(usize, String, i64)> = Vec::new();
        for (i, (raw, amount)) in entries.iter().enumerate() {
            let name = match username::normalize(raw) {
                Ok(name) => name,
                Err(e) => {
                    results[i] = Some(ItemResult::failed(raw.trim(), format!("`{raw}`: {e}")));
                    continue;
                }
            };
            if let Some(problem) = QuotaAction::Set(*amount).problem() {
                results[i] = Some(ItemResult::failed(name, problem));
            } else if self.dry_run() {
                results[i] = Some(ItemResult::new(name, ItemStatus::Planned));
            } else if name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c)) {
                batch.push((i, name, *amount));
            } else {
                singles.push((i, name, *amount));
            }
        }
        let chunks = batch.chunks(QUOTA_BATCH_MAX).map(|chunk| self.quota_batch(chunk));
        for outcome in join_all(chunks).await {
            for (i, result) in outcome {
                results[i] = Some(result);
            }
        }
        let one_by_one = singles.iter().map(|(i, name, amount)| async move {
            (*i, self.quota_change(name, QuotaAction::Set(*amount), "set by jhctl").await)
        });
        for (i, result) in join_all(one_by_one).await {
            results[i] = Some(result);
        }
        results.into_iter().map(|r| r.expect("every entry gets a result")).collect()
    }

    async fn quota_batch(&self, chunk: &[(usize, String, i64)]) -> Vec<(usize, ItemResult)> {
        let users: Vec<Value> = chunk.iter().map(|(_, n, a)| json!({ "username": n, "amount": a })).collect();
        let reply =
            match self.call(Method::POST, "/hub/admin/api/quota/batch", &[], Some(&json!({ "users": users }))).await {
                Ok(r) if r.ok() => r,
                Ok(r) => return chunk.iter().map(|(i, n, _)| (*i, ItemResult::failed(n, admin_failure(&r)))).collect(),
                Err(e) => return chunk.iter().map(|(i, n, _)| (*i, ItemResult::failed(n, e.to_string()))).collect(),
            };
        let details = reply.body.get("details").and_then(Value::as_array).cloned().unwrap_or_default();
        chunk
            .iter()
            .map(|(i, name, _)| {
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
                (*i, result)
            })
            .collect()
    }

    /// Applies one quota action to each user, concurrently: `updated`,
    /// `failed` (e.g. insufficient balance) or `planned`.
    pub async fn change_quota(&self, names: &[String], action: QuotaAction, description: &str) -> Vec<ItemResult> {
        if let Some(problem) = action.problem() {
            return names.iter().map(|n| ItemResult::failed(n.trim().to_lowercase(), problem.clone())).collect();
        }
        self.per_user(names, |name| async move { self.quota_change(&name, action, description).await }).await
    }

    async fn quota_change(&self, name: &str, action: QuotaAction, description: &str) -> ItemResult {
        let path = format!("/hub/admin/api/quota/{}", Self::segment(name));
        match self.call(Method::POST, &path, &[], Some(&action.body(description))).await {
            Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Updated),
            Ok(r) => ItemResult::failed(name, admin_failure(&r)),
            Err(e) => ItemResult::failed(name, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_checked_before_sending() {
        assert_eq!(QuotaAction::Set(0).problem(), None);
        assert!(QuotaAction::Set(-1).problem().is_some());
        assert!(QuotaAction::Set(10_000_001).problem().is_some());
        assert_eq!(QuotaAction::Add(-10_000_000).problem(), None);
        assert!(QuotaAction::Deduct(0).problem().is_some());
        assert_eq!(QuotaAction::Unlimited(true).problem(), None);
    }
}
