//! The one hook through which every primitive that changes the hub keeps
//! the run's journal (see `crate::journal`): the journal is opened on the
//! first such call, the before-state of the users the call may change is
//! written before its request, and each result as it comes back. Dry runs
//! write nothing.

use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::error::{bad_input, thrown};
use super::hub_api::Hub;
use super::items::{items, Item};
use super::runtime::block_on;
use crate::journal::{before_states, redact_command, Action, Journal, Record};

/// What a journaled call is about to do.
pub struct Change<'a> {
    /// The action recorded for its results (a result's own `action`, as
    /// sync gives, wins).
    pub action: Action,
    /// The group, the new name, the quota change, the admin flag.
    pub detail: Option<&'a str>,
    /// A note on each before-state (`password due` for users created to
    /// get a password).
    pub note: Option<&'a str>,
    /// Whether to read and write the users' state first (not for
    /// passwords: nothing of theirs can be put back).
    pub read_before: bool,
}

impl<'a> Change<'a> {
    /// `action`, reading the before-state first.
    pub fn of(action: Action) -> Change<'a> {
        Change { action, detail: None, note: None, read_before: true }
    }

    /// With `detail`.
    pub fn detail(mut self, detail: &'a str) -> Change<'a> {
        self.detail = Some(detail);
        self
    }
}

/// The usernames of `list` (names or rows), normalised.
pub fn names_of(list: &[Dynamic]) -> Vec<String> {
    items(list)
        .into_iter()
        .filter_map(|item| match item {
            Item::Send(row) => Some(crate::username::normalize(&row.name).unwrap_or(row.name)),
            Item::Done(_) => None,
        })
        .collect()
}

/// Runs `call`, which may change `names`, journaled as `change` (see the
/// module doc). Throws when the journal cannot be written (before anything
/// is sent) or the before-state cannot be read.
pub fn journaled(
    hub: &Hub,
    change: Change,
    names: &[String],
    call: impl FnOnce() -> Result<Array, Box<EvalAltResult>>,
) -> Result<Array, Box<EvalAltResult>> {
    if hub.context().dry_run() {
        return call();
    }
    let befores = if change.read_before && !names.is_empty() {
        let client = hub.client()?;
        block_on(before_states(&client, names))?.map_err(thrown)?
    } else {
        Vec::new()
    };
    let note = change.note.map(String::from);
    write(hub, befores.into_iter().map(|user| Record::Before { action: change.action, detail: note.clone(), user }))?;
    let results = call()?;
    write(hub, results.iter().filter_map(|r| outcome(r, &change)))?;
    Ok(results)
}

/// The outcome line of one result map.
fn outcome(result: &Dynamic, change: &Change) -> Option<Record> {
    let map = result.read_lock::<Map>()?;
    let text = |key: &str| map.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string());
    let (action, detail) = match text("action").as_deref() {
        Some("create") => (Action::Create, None),
        Some("delete") => (Action::Delete, None),
        Some("admin") => (Action::SetAdmin, text("admin")),
        Some("add") => (Action::AddToGroup, text("group")),
        Some("remove") => (Action::RemoveFromGroup, text("group")),
        _ => (change.action, text("id").or_else(|| change.detail.map(String::from))),
    };
    Some(Record::Outcome { action, name: text("name")?, status: text("status")?, detail, error: text("error") })
}

/// Writes `records` to the run's journal, opening it first when needed.
fn write(hub: &Hub, records: impl Iterator<Item = Record>) -> Result<(), Box<EvalAltResult>> {
    let Some(dir) = crate::journal::dir() else {
        return Err(bad_input(
            "jhctl keeps a journal of each run that changes the hub, and there is no place for it: \
             set HOME or XDG_STATE_HOME",
        ));
    };
    let url = hub.url_text();
    let open = || {
        // `jhctl`, not the path it was started by.
        let args: Vec<String> =
            std::env::args().enumerate().map(|(i, arg)| if i == 0 { "jhctl".to_string() } else { arg }).collect();
        Journal::open(&dir, &url, redact_command(&args))
    };
    let written = hub.context().with_journal(open, |journal| {
        for record in records {
            journal.write(&record)?;
        }
        Ok::<(), std::io::Error>(())
    });
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) | Err(e) => Err(bad_input(format!(
            "cannot write the run's journal in `{}`: {e}; make it writable or set XDG_STATE_HOME",
            dir.display()
        ))),
    }
}
