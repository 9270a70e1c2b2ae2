//! Starting and stopping users' default servers, many at once, waiting for
//! pending ones up to a deadline.

use std::time::{Duration, Instant};

use reqwest::Method;

use super::client::HubClient;
use super::{ItemResult, ItemStatus};

/// How often a pending server is looked at.
const POLL: Duration = Duration::from_millis(250);

impl HubClient {
    /// Starts each user's default server concurrently and waits up to
    /// `wait` for pending ones: `started`, `pending` (still starting when the
    /// wait ended), `not_found` or `failed`. A server already running counts
    /// as `started`.
    pub async fn start_servers(&self, names: &[String], wait: Duration) -> Vec<ItemResult> {
        self.per_user(names, |name| async move {
            let path = format!("/hub/api/users/{}/server", Self::segment(&name));
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
        self.per_user(names, |name| async move {
            let path = format!("/hub/api/users/{}/server", Self::segment(&name));
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

    /// Polls a user until the default server is ready (`up`) or gone, or
    /// `wait` runs out.
    async fn settle(&self, name: String, up: bool, wait: Duration) -> ItemResult {
        let deadline = Instant::now() + wait;
        loop {
            match self.user(&name).await {
                Ok(Some(user)) => {
                    let server = user.servers.get("");
                    let pending = user.pending.is_some() || server.is_some_and(|s| s.pending.is_some());
                    let ready = user.server.is_some() || server.is_some_and(|s| s.ready);
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
