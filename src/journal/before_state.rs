//! Reading the before-state of the users a call is about to change.

use std::collections::HashMap;

use super::record::UserBefore;
use crate::hub::{HubClient, HubError, UserQuery};

/// How each user of `names` is now: admin flag, groups, created, last
/// activity, server, and (when the hub has the admin API) the quota
/// balance. One listing of the hub's users, one of the quota records.
///
/// Fails when the users cannot be listed.
pub async fn before_states(client: &HubClient, names: &[String]) -> Result<Vec<UserBefore>, HubError> {
    let listed = client.users(&UserQuery::default()).await?;
    let users: HashMap<&str, _> = listed.iter().map(|u| (u.name.as_str(), u)).collect();
    let quotas: Option<HashMap<String, (i64, bool)>> = client
        .quotas()
        .await
        .ok()
        .map(|entries| entries.into_iter().map(|q| (q.username, (q.balance, q.unlimited))).collect());
    Ok(names
        .iter()
        .map(|name| {
            let quota = quotas.as_ref().map(|q| q.get(name).copied().unwrap_or((0, false)));
            match users.get(name.as_str()) {
                Some(user) => UserBefore {
                    name: name.clone(),
                    exists: true,
                    admin: user.admin,
                    groups: user.groups.clone(),
                    balance: quota.map(|q| q.0),
                    unlimited: quota.map(|q| q.1),
                    created: user.created.clone(),
                    last_activity: user.last_activity.clone(),
                    server: user.server.clone(),
                },
                None => UserBefore { name: name.clone(), ..UserBefore::default() },
            }
        })
        .collect())
}
