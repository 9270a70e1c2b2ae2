//! Re-reading each planned item just before acting on it. A plan is made
//! before the confirmation question, and the hub goes on while the
//! question waits: a user logs in, is made an admin, starts a server. So
//! each item's user is read again (`GET /hub/api/users/{name}`) right
//! before that item's own request, all items concurrently through the
//! client's limiter, and an item that no longer qualifies is left alone:
//! `skipped`, with what changed. Whether an item still qualifies is a plain
//! function of the fresh user, beside its plan
//! ([`recheck_prune`](super::recheck_prune),
//! [`recheck_server`](super::recheck_server),
//! [`recheck_sync_delete`](super::recheck_sync_delete)).

use reqwest::Method;

use super::{HubClient, HubError, ItemResult, ItemStatus, User};

/// What a fresh read says about one planned item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recheck {
    /// It still qualifies: act on it.
    Act,
    /// It changed since the plan: leave it alone, for this reason.
    Skip(String),
    /// It is gone since the plan: nothing to do (`not_found`).
    Gone,
}

/// One planned item for [`HubClient::recheck_each`]: its user and the name
/// its result carries.
pub(crate) struct Planned<'a> {
    /// The user to read again.
    pub user: &'a str,
    /// The result's name (`USER` or `USER/SERVER`).
    pub label: String,
}

impl HubClient {
    /// For each item concurrently: reads its user again (with stopped
    /// servers when `stopped_servers`), asks `decide`, and only when the
    /// answer is [`Recheck::Act`] runs `act` (one item's request, e.g. a
    /// delete of that one user). Otherwise the item is `skipped` with the
    /// reason, or `not_found`; when the re-read fails nothing is sent and
    /// the item is `failed`. In a dry run nothing is read: `act` answers
    /// (`planned`). Each result's `id` is its item's index.
    pub(crate) async fn recheck_each<D, A, Fut>(
        &self,
        items: &[Planned<'_>],
        stopped_servers: bool,
        decide: D,
        act: A,
    ) -> Vec<ItemResult>
    where
        D: Fn(usize, Option<&User>) -> Recheck,
        A: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = Vec<ItemResult>>,
    {
        let jobs = items.iter().enumerate().map(|(id, item)| {
            let (decide, act) = (&decide, &act);
            async move {
                let verdict = if self.dry_run() {
                    Ok(Recheck::Act)
                } else {
                    self.fresh_user(item.user, stopped_servers).await.map(|user| decide(id, user.as_ref()))
                };
                let results = match verdict {
                    Ok(Recheck::Act) => act(id).await,
                    Ok(Recheck::Skip(why)) => vec![ItemResult::skipped(&item.label, why)],
                    Ok(Recheck::Gone) => vec![ItemResult::new(&item.label, ItemStatus::NotFound)],
                    Err(e) => vec![ItemResult::failed(
                        &item.label,
                        format!("cannot read it again before acting ({e}); nothing was done, run again"),
                    )],
                };
                results.into_iter().map(|r| r.of(id)).collect::<Vec<_>>()
            }
        });
        futures::future::join_all(jobs).await.into_iter().flatten().collect()
    }

    /// The user `name` as the hub has it now, `None` when there is none.
    async fn fresh_user(&self, name: &str, stopped_servers: bool) -> Result<Option<User>, HubError> {
        let path = format!("/hub/api/users/{}", Self::segment(name));
        let query: Vec<(&str, String)> =
            if stopped_servers { vec![("include_stopped_servers", "1".into())] } else { Vec::new() };
        let reply = self.call(Method::GET, &path, &query, None).await?;
        match reply.status.as_u16() {
            404 => Ok(None),
            _ if reply.ok() => serde_json::from_value(reply.body)
                .map(Some)
                .map_err(|e| HubError::Decode { what: format!("get user `{name}`"), reason: e.to_string() }),
            status => Err(HubError::Status { what: format!("get user `{name}`"), status, message: reply.message() }),
        }
    }
}
