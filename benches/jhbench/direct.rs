//! The hub's limit: the most direct client for each job, written here with
//! reqwest + tokio. Creation is one `POST /hub/api/users` with every name;
//! delete, set-admin and set-password keep `--limit-concurrency` requests in
//! flight (all of them when there are fewer); listing reads the first page
//! and the quota listing, then all the other pages at once. No retries, no
//! validation, no output.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use reqwest::{Client, Method};
use serde_json::{json, Value};

const PAGINATION: &str = "application/jupyterhub-pagination+json";
const PAGE: usize = 200;

/// A direct client for one hub URL.
pub struct Direct {
    http: Client,
    base: String,
    token: String,
    in_flight: usize,
}

impl Direct {
    /// A client for `base` with at most `in_flight` requests at once.
    pub fn new(base: &str, token: &str, in_flight: usize) -> Direct {
        jhctl::hub::install_crypto();
        let http = Client::builder()
            .timeout(Duration::from_secs(1800))
            .pool_max_idle_per_host(usize::MAX)
            .tcp_nodelay(true)
            .build()
            .expect("build the direct client");
        Direct {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            in_flight: in_flight.max(1),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, paginated: bool) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("Authorization", format!("token {}", self.token));
        if paginated {
            request = request.header("Accept", PAGINATION);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {}", chain(&e)));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        (status, body)
    }

    /// Sends one request per item, `in_flight` at a time (all at once when
    /// there are fewer items), and panics on any answer but 2xx.
    async fn each<T: Sync>(&self, what: &str, items: &[T], request: impl Fn(&T) -> (Method, String, Option<Value>)) {
        let replies: Vec<(String, u16, Value)> = stream::iter(items.iter().map(|item| {
            let (method, path, body) = request(item);
            async move {
                let (status, reply) = self.send(method, &path, body, false).await;
                (path, status, reply)
            }
        }))
        .buffer_unordered(self.in_flight)
        .collect()
        .await;
        let bad: Vec<_> = replies.iter().filter(|(_, s, _)| !(200..300).contains(s)).take(3).collect();
        assert!(bad.is_empty(), "{what}: the hub refused some requests, e.g. {bad:?}");
    }

    /// Creates every name in one batch request (non-admins).
    pub async fn create(&self, names: &[String]) {
        let (status, reply) =
            self.send(Method::POST, "/hub/api/users", Some(json!({ "usernames": names, "admin": false })), false).await;
        assert_eq!(status, 201, "batch create of {} users: {reply}", names.len());
        let created = reply.as_array().map_or(0, Vec::len);
        assert_eq!(created, names.len(), "batch create made {created} of {} users", names.len());
    }

    /// Every user: the first page tells the total, the rest come at once.
    /// The quota listing goes with the first page, as `manage-users list`
    /// asks for it too (its Quota column).
    pub async fn list(&self) -> Vec<Value> {
        let (first, (status, quota)) =
            futures::join!(self.page(0), self.send(Method::GET, "/hub/admin/api/quota", None, false));
        assert_eq!(status, 200, "GET /hub/admin/api/quota: {quota}");
        let total = first["_pagination"]["total"].as_u64().unwrap_or(0) as usize;
        let mut users: Vec<Value> = first["items"].as_array().cloned().unwrap_or_default();
        let offsets: Vec<usize> = (users.len()..total).step_by(PAGE).collect();
        let pages: Vec<Value> =
            stream::iter(offsets.into_iter().map(|o| self.page(o))).buffered(self.in_flight).collect().await;
        for page in pages {
            users.extend(page["items"].as_array().cloned().unwrap_or_default());
        }
        users
    }

    async fn page(&self, offset: usize) -> Value {
        let path = format!("/hub/api/users?offset={offset}&limit={PAGE}");
        let (status, page) = self.send(Method::GET, &path, None, true).await;
        assert_eq!(status, 200, "GET {path}: {page}");
        page
    }

    /// Sets the admin flag of every name.
    pub async fn set_admin(&self, names: &[String], admin: bool) {
        self.each("set-admin", names, |n| {
            (Method::PATCH, format!("/hub/api/users/{n}"), Some(json!({ "admin": admin })))
        })
        .await;
    }

    /// Deletes every name.
    pub async fn delete(&self, names: &[String]) {
        self.each("delete", names, |n| (Method::DELETE, format!("/hub/api/users/{n}"), None)).await;
    }

    /// Sets every password through the admin API (force change on).
    pub async fn set_passwords(&self, rows: &[(String, String)]) {
        self.each("set-password", rows, |(name, password)| {
            let body = json!({ "username": name, "password": password, "force_change": true });
            (Method::POST, "/hub/admin/api/set-password".to_string(), Some(body))
        })
        .await;
    }
}

/// An error with all its causes.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
