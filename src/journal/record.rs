//! One line of a run's journal.

use serde::{Deserialize, Serialize};

/// What a journaled call did to the hub.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Users created.
    Create,
    /// Users deleted.
    Delete,
    /// Admin flags set (`detail`: `true` or `false`).
    SetAdmin,
    /// Users added to the group named in `detail`.
    AddToGroup,
    /// Users removed from the group named in `detail`.
    RemoveFromGroup,
    /// Quota balances or the unlimited flag changed (`detail`: how).
    Quota,
    /// A password set (never the password itself).
    Password,
    /// A server stopped.
    StopServer,
    /// A named server removed.
    RemoveServer,
    /// A token revoked (`detail`: its id; never its text).
    RevokeToken,
    /// A user renamed (`name` the old name, `detail` the new one).
    Rename,
}

/// A user as it was before the run touched it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct UserBefore {
    /// The username.
    pub name: String,
    /// Whether the user existed.
    pub exists: bool,
    /// Its admin flag.
    #[serde(default)]
    pub admin: bool,
    /// Its groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Its quota balance, when the hub has the admin API.
    #[serde(default)]
    pub balance: Option<i64>,
    /// Whether its quota is unlimited, when the hub has the admin API.
    #[serde(default)]
    pub unlimited: Option<bool>,
    /// When it was created.
    #[serde(default)]
    pub created: Option<String>,
    /// Its last activity.
    #[serde(default)]
    pub last_activity: Option<String>,
    /// Its default server's URL path when running.
    #[serde(default)]
    pub server: Option<String>,
}

/// One line of a journal.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The first line: the run's intent.
    Start {
        /// The run's id (also the file's name).
        run: String,
        /// The hub's URL.
        hub: String,
        /// The command line, secrets left out.
        command: Vec<String>,
        /// When it started (RFC 3339, UTC).
        started: String,
    },
    /// A user's state before `action` is sent for it.
    Before {
        /// What is about to be done.
        action: Action,
        /// E.g. `password due` for users created to get a password.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// The state.
        user: UserBefore,
    },
    /// What the hub answered for one item.
    Outcome {
        /// What was done.
        action: Action,
        /// The user.
        name: String,
        /// `created`, `deleted`, `updated`, `failed`, ...
        status: String,
        /// The group, the new name, the token id, the admin flag.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// Why it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The last line: the run ended (a journal without it was interrupted).
    End {
        /// When (RFC 3339, UTC).
        finished: String,
        /// Its exit status.
        exit: i32,
    },
}

/// Whether a status means the hub changed.
pub fn changed(status: &str) -> bool {
    matches!(status, "created" | "deleted" | "updated" | "stopped")
}
