//! What the guide's hub keeps of a user outside the user itself: its
//! authenticator's password row (`auth_user_passwords`) and its quota
//! record. `DELETE /hub/api/users/{name}` leaves both, and course names
//! (`student01`) come back every term, so the next user of a name would
//! log in with the old password and hold the old balance. Before jhctl
//! deletes a user it makes the old password unusable (a fresh random
//! password nobody sees, forced to change) and sets the balance to zero,
//! through the admin API (docs/hub-api.md).

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use reqwest::Method;
use serde::Serialize;
use serde_json::{json, Value};

use super::admin_api::admin_api_absent;
use super::{HubClient, HubError, ItemResult, ItemStatus, QuotaAction, QuotaEntry};

/// Length of the password that replaces a deleted user's: nobody ever sees it.
const UNUSABLE_PASSWORD_LENGTH: usize = 32;

/// What jhctl learned, before a delete batch, about the records the hub
/// keeps of users.
#[derive(Debug)]
pub(crate) enum Records {
    /// The hub has no admin API (a stock JupyterHub): nothing to clear,
    /// and nothing can be.
    NoAdminApi,
    /// The admin API answered: the quota records by name.
    Known(HashMap<String, QuotaEntry>),
    /// The admin API is there but refused or failed: why. Nothing is
    /// deleted then, since the records could not be cleared.
    Unreadable(String),
}

/// The line a deleted user's result carries: what was cleared.
fn cleared_note(password: bool, quota: Option<&QuotaEntry>) -> Option<String> {
    let mut parts = Vec::new();
    if password {
        parts.push("password cleared".to_string());
    }
    match quota {
        Some(q) if q.unlimited => parts.push(format!("unlimited quota removed, balance {} → 0", q.balance)),
        Some(q) if q.balance != 0 => parts.push(format!("balance {} → 0", q.balance)),
        _ => {}
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Whether a quota record would pass something on to the next user of the name.
fn holds_credit(entry: &QuotaEntry) -> bool {
    entry.unlimited || entry.balance != 0
}

/// Prints `text` on stderr, once per process (a batch of deletes says
/// once that nothing could be cleared, not once per user).
fn notice_once(text: &str) {
    static SHOWN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut shown = SHOWN.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if shown.insert(text.to_string()) {
        eprintln!("⚠️  {text}");
    }
}

/// What an earlier user of a name left in the hub's quota records, which
/// a new user of that name would get.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Leftover {
    /// The name (not a user of the hub now).
    pub name: String,
    /// The balance the record holds.
    pub balance: i64,
    /// Whether the record gives unlimited quota.
    pub unlimited: bool,
}

impl HubClient {
    /// The quota listing as records by name (a stock hub without the admin
    /// API answers HTML: [`Records::NoAdminApi`]).
    async fn quota_records(&self) -> Records {
        match self.call(Method::GET, "/hub/admin/api/quota", &[], None).await {
            Ok(r) if r.ok() => {
                let users = r.body.get("users").cloned().unwrap_or(Value::Array(Vec::new()));
                match serde_json::from_value::<Vec<QuotaEntry>>(users) {
                    Ok(list) => Records::Known(list.into_iter().map(|q| (q.username.to_lowercase(), q)).collect()),
                    Err(e) => Records::Unreadable(format!("the hub's quota listing is unreadable: {e}")),
                }
            }
            Ok(r) if admin_api_absent(r.status.as_u16(), &r.body) => Records::NoAdminApi,
            Ok(r) => Records::Unreadable(super::admin_api::admin_failure(&r)),
            Err(e) => Records::Unreadable(e.to_string()),
        }
    }

    /// Reads the quota records once, before a delete batch; on a hub
    /// without the admin API, says once that nothing will be cleared.
    pub(crate) async fn user_records(&self) -> Records {
        let records = self.quota_records().await;
        if matches!(records, Records::NoAdminApi) {
            notice_once(
                "this hub has no admin API (/hub/admin/api): deleted users' passwords and quota were not \
                 cleared; if its authenticator keeps passwords by name, remove them there (`delete`, \
                 `prune-inactive` and `sync --prune` with --via exec remove them from the hub's store)",
            );
        }
        records
    }

    /// Among `names` (normalised here), those that are not users of the
    /// hub but still have a quota record holding credit, left by an
    /// earlier user of the name: a user created under it would get that
    /// balance. One quota listing, and a user listing only when some name
    /// has such a record; empty on a hub without the admin API. (A
    /// password row left behind cannot be seen through the admin API.)
    pub async fn leftovers(&self, names: &[String]) -> Result<Vec<Leftover>, HubError> {
        let records = match self.quota_records().await {
            Records::NoAdminApi => return Ok(Vec::new()),
            Records::Unreadable(why) => {
                return Err(HubError::Decode { what: "list quota".into(), reason: why });
            }
            Records::Known(records) => records,
        };
        let mut seen = HashSet::new();
        let held: Vec<&QuotaEntry> = names
            .iter()
            .filter_map(|n| crate::username::normalize(n).ok())
            .filter(|n| seen.insert(n.clone()))
            .filter_map(|n| records.get(&n))
            .filter(|q| holds_credit(q))
            .collect();
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let candidates: Vec<String> = held.iter().map(|q| q.username.to_lowercase()).collect();
        let users = self.existing_names(&candidates).await?;
        Ok(held
            .into_iter()
            .filter(|q| !users.contains(&q.username.to_lowercase()))
            .map(|q| Leftover { name: q.username.to_lowercase(), balance: q.balance, unlimited: q.unlimited })
            .collect())
    }

    /// Makes `name`'s password unusable and its balance zero, before the
    /// user is deleted. `Ok(note)` says what was cleared; `Err(result)` is
    /// the item's `failed` result (the user must not be deleted then).
    pub(crate) async fn clear_records(&self, name: &str, records: &Records) -> Result<Option<String>, ItemResult> {
        let quota = match records {
            Records::NoAdminApi => return Ok(None),
            Records::Unreadable(why) => return Err(not_deleted(name, format!("cannot read its quota record: {why}"))),
            Records::Known(quota) => quota.get(name).filter(|q| holds_credit(q)),
        };
        // The hub refuses passwords for GitHub users: they have none.
        let password = !name.starts_with("github:");
        if password {
            let body = json!({
                "username": name,
                "password": crate::secret_text::password(UNUSABLE_PASSWORD_LENGTH),
                "force_change": true,
            });
            match self.call(Method::POST, "/hub/admin/api/set-password", &[], Some(&body)).await {
                Ok(r) if r.ok() => {}
                Ok(r) => {
                    let why = super::admin_api::admin_failure(&r);
                    return Err(not_deleted(name, format!("cannot make its password unusable: {why}")));
                }
                Err(HubError::Unknown { reason, .. }) => {
                    let why = format!("no answer when making its password unusable ({reason}); run again");
                    return Err(not_deleted(name, why));
                }
                Err(e) => return Err(not_deleted(name, format!("cannot make its password unusable: {e}"))),
            }
        }
        if let Some(entry) = quota {
            let steps = [entry.unlimited.then_some(QuotaAction::Unlimited(false)), Some(QuotaAction::Set(0))];
            for action in steps.into_iter().flatten() {
                let done = self.quota_change(name, action, "user deleted by jhctl").await;
                if done.status != ItemStatus::Updated {
                    let why = done.error.unwrap_or_else(|| done.status.as_str().to_string());
                    return Err(not_deleted(name, format!("cannot set its balance to 0: {why}")));
                }
            }
        }
        Ok(cleared_note(password, quota))
    }
}

/// The `failed` result of a user kept because its records could not be cleared.
fn not_deleted(name: &str, why: String) -> ItemResult {
    ItemResult::failed(
        name,
        format!(
            "not deleted: {why}. jhctl clears a user's password and quota before deleting it, so that the next \
             user of the name does not inherit them; fix that (an admin user's token), then run again"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(balance: i64, unlimited: bool) -> QuotaEntry {
        QuotaEntry { username: "dl01".into(), balance, unlimited, updated_at: None }
    }

    #[test]
    fn a_stock_hub_answers_html_the_admin_api_json() {
        let html = Value::String("<!DOCTYPE html><html>404 Not Found</html>".into());
        assert!(admin_api_absent(404, &html));
        assert!(admin_api_absent(403, &html), "the _xsrf check of a POST");
        assert!(admin_api_absent(404, &Value::Null));
        assert!(!admin_api_absent(403, &json!({ "error": "Admin access required" })));
        assert!(!admin_api_absent(404, &json!({ "error": "User not found" })));
        assert!(!admin_api_absent(500, &html));
        assert!(!admin_api_absent(302, &Value::Null), "a login redirect is a refused token");
    }

    #[test]
    fn the_note_says_what_was_cleared() {
        let cases = [
            (true, None, Some("password cleared")),
            (true, Some(entry(250, false)), Some("password cleared, balance 250 → 0")),
            (true, Some(entry(-5, false)), Some("password cleared, balance -5 → 0")),
            (true, Some(entry(40, true)), Some("password cleared, unlimited quota removed, balance 40 → 0")),
            (false, Some(entry(7, false)), Some("balance 7 → 0")),
            (true, Some(entry(0, false)), Some("password cleared")),
            (false, None, None),
        ];
        for (password, quota, expected) in cases {
            assert_eq!(cleared_note(password, quota.as_ref()).as_deref(), expected, "{password} {quota:?}");
        }
    }

    #[test]
    fn only_a_record_that_passes_something_on_is_changed() {
        assert!(holds_credit(&entry(250, false)));
        assert!(holds_credit(&entry(-3, false)));
        assert!(holds_credit(&entry(0, true)));
        assert!(!holds_credit(&entry(0, false)));
    }
}
