//! Groups and their members.

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use super::client::HubClient;
use super::{Group, HubError, ItemResult, ItemStatus};
use crate::username;

impl HubClient {
    /// One group, `None` when it does not exist.
    pub async fn group(&self, name: &str) -> Result<Option<Group>, HubError> {
        let path = format!("/hub/api/groups/{}", Self::segment(name));
        let reply = self.call(Method::GET, &path, &[], None).await?;
        match reply.status.as_u16() {
            404 => Ok(None),
            _ if reply.ok() => serde_json::from_value(reply.body)
                .map(Some)
                .map_err(|e| HubError::Decode { what: format!("get group `{name}`"), reason: e.to_string() }),
            status => Err(HubError::Status { what: format!("get group `{name}`"), status, message: reply.message() }),
        }
    }

    /// Creates a group: `created`, `exists` or `failed`.
    pub async fn create_group(&self, name: &str) -> ItemResult {
        if let Err(e) = check_group(name) {
            return e;
        }
        if self.dry_run() {
            return ItemResult::new(name, ItemStatus::Planned);
        }
        let path = format!("/hub/api/groups/{}", Self::segment(name));
        match self.call(Method::POST, &path, &[], None).await {
            Ok(r) if r.ok() => ItemResult::new(name, ItemStatus::Created),
            Ok(r) if r.status.as_u16() == 409 => ItemResult::new(name, ItemStatus::Exists),
            Ok(r) => ItemResult::failed(name, r.describe()),
            Err(e) => ItemResult::failed(name, e.to_string()),
        }
    }

    /// Deletes a group (not its members): `deleted`, `not_found` or `failed`.
    pub async fn delete_group(&self, name: &str) -> ItemResult {
        if self.dry_run() {
            return ItemResult::new(name, ItemStatus::Planned);
        }
        self.delete_item(name.to_string(), &format!("/hub/api/groups/{}", Self::segment(name))).await
    }

    /// Adds users to a group (creating the group when missing); one result
    /// per user: `updated`, `not_found` or `failed`.
    pub async fn add_to_group(&self, group: &str, names: &[String]) -> Vec<ItemResult> {
        self.change_members(group, names, Method::POST).await
    }

    /// Removes users from a group; one result per user.
    pub async fn remove_from_group(&self, group: &str, names: &[String]) -> Vec<ItemResult> {
        self.change_members(group, names, Method::DELETE).await
    }

    /// One request for all members; when the hub refuses it (an unknown
    /// user), one request per user so each gets its own answer.
    async fn change_members(&self, group: &str, names: &[String], method: Method) -> Vec<ItemResult> {
        let mut results = self.change_members_in_order(group, names, method).await;
        for (id, result) in results.iter_mut().enumerate() {
            result.id = id;
        }
        results
    }

    /// [`HubClient::change_members`], one result per name in order.
    async fn change_members_in_order(&self, group: &str, names: &[String], method: Method) -> Vec<ItemResult> {
        if let Err(e) = check_group(group) {
            return names.iter().map(|n| ItemResult { name: n.trim().to_lowercase(), ..e.clone() }).collect();
        }
        let mut results: Vec<ItemResult> = names
            .iter()
            .map(|raw| match username::normalize(raw) {
                Ok(name) => ItemResult::new(name, ItemStatus::Planned),
                Err(e) => ItemResult::failed(raw.trim(), format!("`{raw}`: {e}")),
            })
            .collect();
        let valid: Vec<String> =
            results.iter().filter(|r| r.status == ItemStatus::Planned).map(|r| r.name.clone()).collect();
        if self.dry_run() || valid.is_empty() {
            return results;
        }
        if method == Method::POST {
            let created = self.create_group(group).await;
            if created.status == ItemStatus::Failed {
                let error = created.error.unwrap_or_default();
                return results.into_iter().map(|r| fail_planned(r, &error)).collect();
            }
        }
        let path = format!("/hub/api/groups/{}/users", Self::segment(group));
        let outcome = self.call(method.clone(), &path, &[], Some(&json!({ "users": valid }))).await;
        match outcome {
            Ok(r) if r.ok() => {
                for r in results.iter_mut().filter(|r| r.status == ItemStatus::Planned) {
                    r.status = ItemStatus::Updated;
                }
                results
            }
            Err(e) => results.into_iter().map(|r| fail_planned(r, &e.to_string())).collect(),
            Ok(_) => {
                let singles = results.into_iter().map(|r| {
                    let (method, path) = (method.clone(), path.clone());
                    async move {
                        if r.status != ItemStatus::Planned {
                            return r;
                        }
                        let body = json!({ "users": [r.name] });
                        match self.call(method, &path, &[], Some(&body)).await {
                            Ok(x) if x.ok() => ItemResult::new(r.name, ItemStatus::Updated),
                            Ok(x) if x.status.as_u16() == 404 || x.message().contains("No such user") => {
                                ItemResult::new(r.name, ItemStatus::NotFound)
                            }
                            Ok(x) => ItemResult::failed(r.name, x.describe()),
                            Err(e) => ItemResult::failed(r.name, e.to_string()),
                        }
                    }
                });
                join_all(singles).await
            }
        }
    }
}

fn fail_planned(r: ItemResult, error: &str) -> ItemResult {
    if r.status == ItemStatus::Planned {
        ItemResult::failed(r.name, error)
    } else {
        r
    }
}

fn check_group(name: &str) -> Result<(), ItemResult> {
    let path_step = matches!(name.trim(), "." | "..");
    if name.trim().is_empty() || name.contains('/') || name.chars().any(char::is_control) || path_step {
        Err(ItemResult::failed(name, format!("invalid group name `{name}`; use letters, digits, `-`, `_` or `.`")))
    } else {
        Ok(())
    }
}
