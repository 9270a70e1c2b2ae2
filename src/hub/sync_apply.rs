//! Applying a [`SyncPlan`]: create, admin flags, group memberships,
//! deletions, in that order, each step concurrent. Every result says which
//! step it answers. Each delete is read again just before it is sent.

use serde::Serialize;

use super::recheck::Planned;
use super::{recheck_sync_delete, HubClient, ItemResult, NewUser, SyncPlan, User};

/// What a sync step did to one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncAction {
    /// Created the user.
    Create,
    /// Changed its admin flag.
    Admin,
    /// Added it to a group.
    Add,
    /// Removed it from a group.
    Remove,
    /// Deleted it.
    Delete,
}

/// One result of applying a plan: `#{name, status, error, action, group}` in scripts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncResult {
    /// The user's result.
    #[serde(flatten)]
    pub result: ItemResult,
    /// The step.
    pub action: SyncAction,
    /// The group, for `add` and `remove`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// For `create`: whether the user was created as an admin; for `admin`: the new flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
}

impl HubClient {
    /// Applies `plan` step by step; one result per change.
    pub async fn apply_sync(&self, plan: &SyncPlan) -> Vec<SyncResult> {
        fn tag(results: Vec<ItemResult>, action: SyncAction, group: Option<&str>) -> Vec<SyncResult> {
            let group = group.map(str::to_string);
            results.into_iter().map(|result| SyncResult { result, action, group: group.clone(), admin: None }).collect()
        }
        let mut out = Vec::new();
        if !plan.create.is_empty() {
            let users: Vec<NewUser> = plan
                .create
                .iter()
                .enumerate()
                .map(|(id, c)| NewUser { id, name: c.name.clone(), admin: c.admin })
                .collect();
            let mut results = self.create_users(&users).await;
            results.sort_by_key(|r| r.id);
            out.extend(results.into_iter().map(|result| SyncResult {
                admin: users.get(result.id).map(|u| u.admin),
                result,
                action: SyncAction::Create,
                group: None,
            }));
        }
        for grant in [true, false] {
            let names: Vec<String> = plan.admin.iter().filter(|c| c.to == grant).map(|c| c.name.clone()).collect();
            if !names.is_empty() {
                let results = self.set_admin(&names, grant).await;
                out.extend(
                    tag(results, SyncAction::Admin, None).into_iter().map(|r| SyncResult { admin: Some(grant), ..r }),
                );
            }
        }
        for change in &plan.groups {
            if !change.add.is_empty() {
                out.extend(tag(
                    self.add_to_group(&change.name, &change.add).await,
                    SyncAction::Add,
                    Some(&change.name),
                ));
            }
            if !change.remove.is_empty() {
                let results = self.remove_from_group(&change.name, &change.remove).await;
                out.extend(tag(results, SyncAction::Remove, Some(&change.name)));
            }
        }
        if !plan.delete.is_empty() {
            out.extend(tag(self.delete_planned(plan).await, SyncAction::Delete, None));
        }
        out
    }

    /// Deletes the users of `plan.delete`, each read again just before its
    /// delete ([`recheck_sync_delete`]): `skipped` when it changed.
    async fn delete_planned(&self, plan: &SyncPlan) -> Vec<ItemResult> {
        let items: Vec<Planned> = plan.delete.iter().map(|n| Planned { user: n, label: n.clone() }).collect();
        let decide = |id: usize, fresh: Option<&User>| recheck_sync_delete(plan, &plan.delete[id], fresh);
        let setup = &self.delete_setup(&plan.delete).await;
        let act = |id: usize| async move { vec![self.delete_one(plan.delete[id].clone(), setup).await] };
        self.recheck_each(&items, false, decide, act).await
    }
}
