//! The hub's JSON models that jhctl reads: users, servers and groups.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A hub user, as `GET /hub/api/users` returns it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct User {
    /// The username.
    pub name: String,
    /// Whether the user is an admin.
    #[serde(default)]
    pub admin: bool,
    /// Names of the groups the user is in.
    #[serde(default)]
    pub groups: Vec<String>,
    /// When the user was created (ISO 8601).
    #[serde(default)]
    pub created: Option<String>,
    /// Last activity (ISO 8601), `None` when never.
    #[serde(default)]
    pub last_activity: Option<String>,
    /// URL path of the running default server, `None` when stopped.
    #[serde(default)]
    pub server: Option<String>,
    /// `"spawn"` or `"stop"` while the default server is changing state.
    #[serde(default)]
    pub pending: Option<String>,
    /// The user's servers by name (`""` is the default server).
    #[serde(default)]
    pub servers: BTreeMap<String, Server>,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl User {
    /// Whether the default server is running (ready or still starting).
    pub fn running(&self) -> bool {
        self.server.is_some() || self.servers.get("").is_some_and(|s| s.ready || s.pending.is_some())
    }
}

/// One server of a user.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Server {
    /// The server's name (`""` for the default server).
    #[serde(default)]
    pub name: String,
    /// Whether it answers requests.
    #[serde(default)]
    pub ready: bool,
    /// `"spawn"` or `"stop"` while changing state.
    #[serde(default)]
    pub pending: Option<String>,
    /// When it started.
    #[serde(default)]
    pub started: Option<String>,
    /// Last activity of this server.
    #[serde(default)]
    pub last_activity: Option<String>,
    /// Its URL path.
    #[serde(default)]
    pub url: Option<String>,
}

/// A hub group.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// Usernames of its members.
    #[serde(default)]
    pub users: Vec<String>,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A new user for [`crate::hub::HubClient::create_users`]: one item of the batch.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    /// The item's key (e.g. its index in the roster): its result carries it back.
    pub id: usize,
    /// The name as given; normalised and validated before sending.
    pub name: String,
    /// Whether the user is to be an admin.
    pub admin: bool,
}

/// Filters for listing users; every field maps to the hub's query parameter.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Only names starting with this (`name_filter`).
    pub name_filter: Option<String>,
    /// `active`, `ready` or `inactive` (`state`).
    pub state: Option<String>,
    /// `id`, `name` or `last_activity`, `-` prefix for descending (`sort`).
    pub sort: Option<String>,
    /// List stopped servers in each user's `servers` too (`include_stopped_servers`).
    pub include_stopped_servers: bool,
}

/// An API token of a user, as `GET /hub/api/users/{name}/tokens` lists it
/// (never its text: the hub shows that once, when it is created).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ApiToken {
    /// The owner's username.
    #[serde(default)]
    pub user: String,
    /// The token's id, e.g. `a42`: what revoking names.
    pub id: String,
    /// The note given when it was made.
    #[serde(default)]
    pub note: Option<String>,
    /// Its scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When it was made.
    #[serde(default)]
    pub created: Option<String>,
    /// When it expires, `None` when never.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// When it was last used, `None` when never.
    #[serde(default)]
    pub last_activity: Option<String>,
    /// The login session it belongs to, `None` for tokens made through the API.
    #[serde(default)]
    pub session_id: Option<String>,
}

/// A token to create with [`crate::hub::HubClient::create_token`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewToken {
    /// A note saying what it is for (shown in the hub's token page).
    pub note: Option<String>,
    /// Its scopes; empty gives the hub's default (the user's own rights).
    pub scopes: Vec<String>,
    /// How long it lives; `None`: it never expires.
    pub expires_in: Option<std::time::Duration>,
}

/// One server of one user, flattened from the users listing.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ServerRow {
    /// The owner's username.
    pub user: String,
    /// The server's name, `""` for the default server.
    pub name: String,
    /// `running`, `pending` (starting or stopping) or `stopped`.
    pub state: String,
    /// Last activity of this server.
    pub last_activity: Option<String>,
    /// When it started, while it runs.
    pub started: Option<String>,
}

impl ServerRow {
    /// `USER/SERVER`, or `USER` for the default server.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            self.user.clone()
        } else {
            format!("{}/{}", self.user, self.name)
        }
    }
}
