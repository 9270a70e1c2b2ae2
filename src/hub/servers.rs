//! Starting and stopping users' servers, many at once, waiting for
//! pending ones up to a deadline. A name `USER/SERVER` is that user's
//! named server; a plain `USER` the default server.

use std::time::{Duration, Instant};

use reqwest::Method;

use super::client::HubClient;
use super::{ItemResult, ItemStatus};
use crate::username;

/// How often a pending server is looked at.
const POLL: Duration = Duration::from_millis(250);

impl HubClient {
    /// Starts each user's default server concurrently and waits up to
    /// `wait` for pending ones: `started`, `pending` (still starting when the
    /// wait ended), `not_found` or `failed`. A server already running counts
    /// as `started`.
    pub async fn start_servers(&self, names: &[String], wait: Duration) -> Vec<ItemResult> {
        self.per_server(names, |name| async move {
            let path = server_path(&name);
            match self.call(Method::POST, &path, &[], None).await {
                Ok(r) if r.status.as_u16() == 201 => ItemResult::new(name, ItemStatus::Started),
                Ok(r) if r.status.as_u16() == 202 => self.settle(name, true, wait).await,
                Ok(r) if r.status.as_u16() == 400 && r.message().contains("already running") => {
                    ItemResult::new(name, ItemStatus::Started)
                }
                Ok(r) if r.status.as_u16() == 409 => self.settle(name, true, wait).await,
                Ok(r) if r.status.as_u16() == 404 => ItemResult::new(name, ItemStatus::NotFound),
                Ok(r) => ItemResult::failed(name, r.describe()),
                Err(e) => ItemResult::failed(name, e.to_string()),
            }
        })
        .await
    }

    /// Stops each user's default server concurrently and waits up to `wait`:
    /// `stopped`, `pending`, `not_found` or `failed`. A server that was not
    /// running counts as `stopped`.
    pub async fn stop_servers(&self, names: &[String], wait: Duration) -> Vec<ItemResult> {
        self.per_server(names, |name| async move {
            let path = server_path(&name);
            match self.call(Method::DELETE, &path, &[], None).await {
                Ok(r) if r.status.as_u16() == 204 => ItemResult::new(name, ItemStatus::Stopped),
                Ok(r) if r.status.as_u16() == 202 => self.settle(name, false, wait).await,
                Ok(r) if r.status.as_u16() == 400 && r.message().contains("not running") => {
                    ItemResult::new(name, ItemStatus::Stopped)
                }
                Ok(r) if r.status.as_u16() == 404 => ItemResult::new(name, ItemStatus::NotFound),
                Ok(r) => ItemResult::failed(name, r.describe()),
                Err(e) => ItemResult::failed(name, e.to_string()),
            }
        })
        .await
    }

    /// Runs `job` for each `USER` or `USER/SERVER` concurrently, like
    /// `per_user`: the user part is normalised and checked (an invalid one
    /// fails without a request), and `job` gets `user` or `user/server`.
    async fn per_server<F, Fut>(&self, names: &[String], job: F) -> Vec<ItemResult>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = ItemResult>,
    {
        let bar = super::progress::bar(self.progress() && !self.dry_run(), names.len(), "servers");
        let jobs = names.iter().enumerate().map(|(id, raw)| {
            let checked = match raw.split_once('/') {
                Some((_, server)) if server.trim().is_empty() => {
                    Err(format!("`{raw}`: no server name after `/`; give USER or USER/SERVER"))
                }
                Some((user, server)) => username::normalize(user)
                    .map(|u| format!("{u}/{}", server.trim()))
                    .map_err(|e| format!("`{raw}`: {e}")),
                None => username::normalize(raw).map_err(|e| format!("`{raw}`: {e}")),
            };
            let dry_run = self.dry_run();
            let future = checked.as_ref().ok().filter(|_| !dry_run).map(|n| job(n.clone()));
            let bar = &bar;
            async move {
                let result = match (checked, future) {
                    (Err(e), _) => ItemResult::failed(raw.trim(), e),
                    (Ok(name), None) => ItemResult::new(name, ItemStatus::Planned),
                    (Ok(_), Some(future)) => future.await,
                };
                super::progress::advance(bar, 1);
                result.of(id)
            }
        });
        let results = futures::future::join_all(jobs).await;
        super::progress::finish(bar);
        results
    }

    /// Polls a user until the server (`USER` or `USER/SERVER`) is ready
    /// (`up`) or gone, or `wait` runs out.
    async fn settle(&self, name: String, up: bool, wait: Duration) -> ItemResult {
        let deadline = Instant::now() + wait;
        let (user_name, server_name) = name.split_once('/').unwrap_or((name.as_str(), ""));
        loop {
            match self.user(user_name).await {
                Ok(Some(user)) => {
                    let server = user.servers.get(server_name);
                    let default = server_name.is_empty();
                    let pending = (default && user.pending.is_some()) || server.is_some_and(|s| s.pending.is_some());
                    let ready = (default && user.server.is_some()) || server.is_some_and(|s| s.ready);
                    if !pending && up && ready {
                        return ItemResult::new(name, ItemStatus::Started);
                    }
                    if !pending && !up && !ready {
                        return ItemResult::new(name, ItemStatus::Stopped);
                    }
                    if !pending && up && !ready {
                        return ItemResult::failed(name, "the server stopped while starting; see the hub's log");
                    }
                }
                Ok(None) => return ItemResult::new(name, ItemStatus::NotFound),
                Err(e) => return ItemResult::failed(name, e.to_string()),
            }
            if Instant::now() >= deadline {
                return ItemResult::new(name, ItemStatus::Pending);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The API path of `USER` (default server) or `USER/SERVER`.
fn server_path(name: &str) -> String {
    match name.split_once('/') {
        Some((user, server)) => {
            format!("/hub/api/users/{}/servers/{}", HubClient::segment(user), HubClient::segment(server))
        }
        None => format!("/hub/api/users/{}/server", HubClient::segment(name)),
    }
}
