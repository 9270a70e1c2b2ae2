//! The outcome of one item of a batch: what scripts count and print.

use serde::Serialize;

/// What happened to one item of a batch call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// The user or group was created.
    Created,
    /// It was there already; nothing changed.
    Exists,
    /// It was deleted (also when a retried delete finds it gone).
    Deleted,
    /// It does not exist.
    NotFound,
    /// It was changed as asked (admin flag, membership, password, quota).
    Updated,
    /// A server was started and is ready.
    Started,
    /// A server was stopped.
    Stopped,
    /// A server start or stop was accepted but not finished when the wait ended.
    Pending,
    /// The item could not be done; `error` says why.
    Failed,
    /// Dry run: this would be done; nothing was sent.
    Planned,
    /// The request was sent but its outcome could not be learned (the answer
    /// was lost and the state cannot be read back exactly); `error` says
    /// what to check. Never counted as done.
    Unknown,
    /// Planned, but left alone: re-read just before acting, the item no
    /// longer qualified (`error` says what changed since the plan).
    Skipped,
    /// Not sent: Ctrl-C stopped the run before this item's request.
    NotStarted,
}

impl ItemStatus {
    /// The status as scripts see it, e.g. `not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Created => "created",
            ItemStatus::Exists => "exists",
            ItemStatus::Deleted => "deleted",
            ItemStatus::NotFound => "not_found",
            ItemStatus::Updated => "updated",
            ItemStatus::Started => "started",
            ItemStatus::Stopped => "stopped",
            ItemStatus::Pending => "pending",
            ItemStatus::Failed => "failed",
            ItemStatus::Planned => "planned",
            ItemStatus::Unknown => "unknown",
            ItemStatus::Skipped => "skipped",
            ItemStatus::NotStarted => "not_started",
        }
    }
}

/// One item's outcome: `#{name, status, error}` in scripts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemResult {
    /// Which item of the batch this answers (its [`Item::id`](super::Item)):
    /// results are put back by this key, never by position.
    #[serde(skip)]
    pub id: usize,
    /// The user (or group) name, normalised.
    pub name: String,
    /// What happened.
    pub status: ItemStatus,
    /// Why it failed (or what to check when `unknown`), with the hub's message.
    pub error: Option<String>,
    /// What else was done for the item, for its line (e.g. a deleted
    /// user's `password cleared, balance 250 → 0`); absent when nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ItemResult {
    /// An outcome without error.
    pub fn new(name: impl Into<String>, status: ItemStatus) -> Self {
        ItemResult { id: 0, name: name.into(), status, error: None, note: None }
    }

    /// An item whose outcome could not be learned, saying what to check.
    pub fn unknown(name: impl Into<String>, check: impl Into<String>) -> Self {
        ItemResult { id: 0, name: name.into(), status: ItemStatus::Unknown, error: Some(check.into()), note: None }
    }

    /// A planned item left alone because it changed since the plan; `why` says how.
    pub fn skipped(name: impl Into<String>, why: impl Into<String>) -> Self {
        ItemResult { id: 0, name: name.into(), status: ItemStatus::Skipped, error: Some(why.into()), note: None }
    }

    /// The same result, answering item `id`.
    pub fn of(mut self, id: usize) -> Self {
        self.id = id;
        self
    }

    /// The same result with `note` (what else was done for the item).
    pub fn noted(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// A failed item with its reason.
    pub fn failed(name: impl Into<String>, error: impl Into<String>) -> Self {
        ItemResult { id: 0, name: name.into(), status: ItemStatus::Failed, error: Some(error.into()), note: None }
    }
}
