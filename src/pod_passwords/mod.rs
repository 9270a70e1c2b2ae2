//! Setting passwords by writing the store the hub reads: through the
//! cluster (`--via exec`, the way the user guide's "requires kubectl
//! access" refers to), on the hub's machine (`--via local`) or over ssh
//! (`--via ssh`), done safely and at once (see [`Transport`]).
//!
//! jhctl hashes every password itself (bcrypt, all cores), then runs one
//! constant Python program in a pod of `deployment/hub` for the whole
//! batch. The request, the usernames and the hashes go in on stdin as JSON
//! lines; neither passwords nor user data ever appear in the program text
//! or the command line. The program writes where the hub in that pod reads:
//! the `auth_user_passwords` table of the hub's database through the hub's
//! own package on current hubs, the first-use authenticator's two `dbm`
//! files on older ones, FirstUseAuthenticator's dbm file or
//! NativeAuthenticator's `users_info` rows (see [`Store`]). It answers one JSON line per user
//! once the write is committed and read back; a user without that answer
//! is `unknown` when the program ran (the link may have broken after the
//! commit), `failed` only when nothing can have been written.

mod answers;
mod exec_options;
mod hash;
mod process_run;
mod transport;

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

pub use answers::{Answers, StoreUsed};
pub use exec_options::{
    kind_has_force_change, too_short_for_firstuse, ExecOptions, Store, DEFAULT_TIMEOUT, FIRSTUSE_MIN_LENGTH,
    FORCE_CHANGE_DB, PASSWORDS_DB,
};
pub use hash::{hash_all, DEFAULT_COST};
pub use process_run::run_process;
pub use transport::{local_hub, shell_quote, ssh_hub, Transport, TLJH_DIR, TLJH_PYTHON};

use crate::cluster::{Cluster, ClusterError, ExecEnd, ExecLimits, ExecRun};
use crate::hub::{ItemResult, ItemStatus, PasswordRow};
use crate::username;

/// The program's exit status when no store could be chosen from what is there.
const REFUSED_EXIT: i32 = 2;

/// The program run in the hub pod; a constant.
pub const PROGRAM: &str = include_str!("program.py");

/// The per-row results of one exec, and the store the program wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecReport {
    /// One result per input row, in input order.
    pub results: Vec<ItemResult>,
    /// The store written, when the program got that far.
    pub store: Option<StoreUsed>,
    /// Why no store could be chosen from what is there (`--store auto`
    /// found none, or more than one): bad input, nothing was written.
    pub refused: Option<String>,
}

/// The outcome of moving a user's records to a new name.
#[derive(Clone, Debug, PartialEq)]
pub struct MoveReport {
    /// `updated` (named after the new name), `failed` or `planned`.
    pub result: ItemResult,
    /// Rows moved per table (or dbm file).
    pub moved: BTreeMap<String, u64>,
    /// The store written, when the program got that far.
    pub store: Option<StoreUsed>,
}

/// Sets each row's password with one run of the program (an exec into the
/// hub pod, or a process here or over ssh: `options.transport`; `cluster`
/// is needed for exec only). One result per
/// row, in input order, built from that row's own name: `updated` (the pod
/// confirmed the write), `failed` or `planned` (dry run: nothing is hashed
/// or sent). `force_change` `None` is the store's default (forced where the
/// store has the flag). Fails as a whole only when the exec cannot start;
/// once the program runs, the rows the pod did not confirm are `unknown`
/// after a broken or timed-out run (they may be written), `failed` after a
/// refused one (nothing was written).
pub async fn set_passwords(
    cluster: Option<&Cluster>,
    rows: &[PasswordRow],
    force_change: Option<bool>,
    options: &ExecOptions,
    dry_run: bool,
) -> Result<Vec<ItemResult>, ClusterError> {
    Ok(set_passwords_report(cluster, rows, force_change, options, dry_run).await?.results)
}

/// [`set_passwords`], also saying which store was written.
pub async fn set_passwords_report(
    cluster: Option<&Cluster>,
    rows: &[PasswordRow],
    force_change: Option<bool>,
    options: &ExecOptions,
    dry_run: bool,
) -> Result<ExecReport, ClusterError> {
    let mut results: Vec<Option<ItemResult>> = vec![None; rows.len()];
    let mut todo: Vec<(usize, String, &str)> = Vec::new();
    let mut seen = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        match username::normalize(&row.name) {
            Err(e) => results[i] = Some(ItemResult::failed(row.name.trim(), format!("`{}`: {e}", row.name))),
            Ok(name) if row.password.is_empty() => results[i] = Some(ItemResult::failed(name, "the password is empty")),
            Ok(name) if !seen.insert(name.clone()) => {
                results[i] =
                    Some(ItemResult::failed(name, "this user appears twice in the batch; only its first row is used"))
            }
            Ok(name) if dry_run => results[i] = Some(ItemResult::new(name, ItemStatus::Planned)),
            Ok(name) => todo.push((i, name, row.password.as_str())),
        }
    }
    let mut store = None;
    let mut refused = None;
    if !todo.is_empty() {
        let passwords: Vec<&str> = todo.iter().map(|(_, _, p)| *p).collect();
        let cost = options.cost;
        let hashes = tokio::task::block_in_place(|| hash_all(&passwords, cost));
        let mut stdin = request_line("set", options);
        let mut sent = Vec::new();
        for ((i, name, password), hash) in todo.iter().zip(hashes) {
            match hash {
                Ok(hash) => {
                    let short = too_short_for_firstuse(password);
                    let line = json!({ "username": name, "hash": hash, "force_change": force_change, "short": short });
                    push_line(&mut stdin, &line);
                    sent.push((*i, name.clone()));
                }
                Err(e) => results[*i] = Some(ItemResult::failed(name, e)),
            }
        }
        let run = run_program(cluster, options, &stdin).await?;
        let answers = Answers::read(&run.stdout);
        for (i, name) in sent {
            results[i] = Some(answers.result_for(&name, &run.end, &run.stderr));
        }
        store = answers.store.clone();
        refused = answers.fatal.filter(|_| run.end == ExecEnd::Exited(REFUSED_EXIT));
    }
    // Each result answers its own row, keyed by the row's id.
    let results =
        results.into_iter().zip(rows).map(|(r, row)| r.expect("every row gets a result").of(row.id)).collect();
    Ok(ExecReport { results, store, refused })
}

/// Moves the password and quota records of user `old` to `new` in the
/// store the hub reads, in one transaction, and reads them back: after a
/// rename in the hub, the user keeps their password and balance. The
/// result is named `new`. Fails as a whole only when the exec cannot start.
pub async fn move_user(
    cluster: Option<&Cluster>,
    old: &str,
    new: &str,
    options: &ExecOptions,
    dry_run: bool,
) -> Result<MoveReport, ClusterError> {
    let names = (username::normalize(old), username::normalize(new));
    let (old, new) = match names {
        (Ok(old), Ok(new)) if old != new => (old, new),
        (Ok(_), Ok(new)) => {
            let result = ItemResult::failed(new, "the old and the new name are the same");
            return Ok(MoveReport { result, moved: BTreeMap::new(), store: None });
        }
        (Err(e), _) | (_, Err(e)) => {
            let result = ItemResult::failed(new.trim(), e.to_string());
            return Ok(MoveReport { result, moved: BTreeMap::new(), store: None });
        }
    };
    if dry_run {
        return Ok(MoveReport {
            result: ItemResult::new(new, ItemStatus::Planned),
            moved: BTreeMap::new(),
            store: None,
        });
    }
    let mut stdin = request_line("rename", options);
    push_line(&mut stdin, &json!({ "old": old, "new": new }));
    let run = run_program(cluster, options, &stdin).await?;
    let answers = Answers::read(&run.stdout);
    let moved = answers.users.get(&new).filter(|a| a.ok).map(|a| a.moved.clone()).unwrap_or_default();
    let result = answers.result_for(&new, &run.end, &run.stderr);
    Ok(MoveReport { result, moved, store: answers.store })
}

/// Removes the password row and the quota balance that deleted users
/// leave in the store the hub reads (the `auth_user_passwords` row and the
/// quota record, or the dbm keys), with one exec, and reads back that none
/// is left, so the next user of a name starts clean. One result per name,
/// in input order: `updated` with a `note` of what was removed (`password
/// row removed`, `quota record removed`, `nothing left to remove`),
/// `failed`, or `planned` (dry run). Fails as a whole only when the exec
/// cannot start.
pub async fn remove_records(
    cluster: &Cluster,
    names: &[String],
    options: &ExecOptions,
    dry_run: bool,
) -> Result<ExecReport, ClusterError> {
    let mut results: Vec<Option<ItemResult>> = vec![None; names.len()];
    let mut todo: Vec<(usize, String)> = Vec::new();
    for (i, raw) in names.iter().enumerate() {
        match username::normalize(raw) {
            Err(e) => results[i] = Some(ItemResult::failed(raw.trim(), format!("`{raw}`: {e}"))),
            Ok(name) if dry_run => results[i] = Some(ItemResult::new(name, ItemStatus::Planned)),
            Ok(name) => todo.push((i, name)),
        }
    }
    let mut store = None;
    if !todo.is_empty() {
        let mut stdin = request_line("remove", options);
        for (_, name) in &todo {
            push_line(&mut stdin, &json!({ "username": name }));
        }
        let run = run_program(Some(cluster), options, &stdin).await?;
        let answers = Answers::read(&run.stdout);
        for (i, name) in todo {
            let result = answers.result_for(&name, &run.end, &run.stderr);
            let removed = answers.users.get(&name).filter(|a| a.ok).map(|a| removed_note(&a.removed));
            results[i] = Some(match removed {
                Some(note) => result.noted(note),
                None => result,
            });
        }
        store = answers.store;
    }
    let results = results.into_iter().enumerate().map(|(i, r)| r.expect("every name gets a result").of(i)).collect();
    Ok(ExecReport { results, store, refused: None })
}

/// The result of a user deleted in the hub (`deleted` or `not_found`),
/// given what the removal of its records in the hub's store answered
/// (`None`: no answer). A removal that did not succeed makes the item
/// `failed`, saying the user is gone but its password may still work for
/// the next user of the name, and how to finish. Any other delete result
/// is passed on: its records were not touched.
pub fn after_removal(deleted: ItemResult, removal: Option<&ItemResult>) -> ItemResult {
    let gone = match deleted.status {
        ItemStatus::Deleted => "deleted",
        ItemStatus::NotFound => "not a user",
        _ => return deleted,
    };
    match removal {
        Some(r) if r.status == ItemStatus::Updated => match &r.note {
            Some(note) => deleted.noted(note.clone()),
            None => deleted,
        },
        Some(r) if r.status == ItemStatus::Planned => deleted,
        other => {
            let why = other.and_then(|r| r.error.clone()).unwrap_or_else(|| "no answer".to_string());
            ItemResult::failed(
                deleted.name.clone(),
                format!(
                    "{gone}, but its password and quota could not be removed from the hub's store ({why}); \
                     the next user of the name would inherit them: run the delete with --via exec again"
                ),
            )
            .of(deleted.id)
        }
    }
}

/// What a removal took away, from the rows per table (or dbm file).
fn removed_note(removed: &BTreeMap<String, u64>) -> String {
    let rows = |tables: &[&str]| tables.iter().filter_map(|t| removed.get(*t)).sum::<u64>();
    let mut parts = Vec::new();
    if rows(&["auth_user_passwords", "passwords"]) > 0 {
        parts.push("password row removed");
    }
    if rows(&["quota"]) > 0 {
        parts.push("quota record removed");
    }
    if parts.is_empty() {
        parts.push("no password or quota left to remove");
    }
    parts.join(", ")
}

/// The first stdin line: what to do and where.
fn request_line(mode: &str, options: &ExecOptions) -> Vec<u8> {
    let mut stdin = Vec::new();
    push_line(
        &mut stdin,
        &json!({
            "mode": mode,
            "transport": options.transport.as_str(),
            "hub_dir": options.hub_dir,
            "store": options.store.as_str(),
            "db_url": options.db_url,
            "passwords_db": options.passwords_db,
            "force_change_db": options.force_change_db,
        }),
    );
    stdin
}

fn push_line(buffer: &mut Vec<u8>, value: &serde_json::Value) {
    buffer.extend_from_slice(value.to_string().as_bytes());
    buffer.push(b'\n');
}

/// Runs [`PROGRAM`] where `options.transport` says, with `stdin`, within the timeout.
async fn run_program(cluster: Option<&Cluster>, options: &ExecOptions, stdin: &[u8]) -> Result<ExecRun, ClusterError> {
    let command = options.transport.command(&options.python, PROGRAM);
    match (&options.transport, cluster) {
        (Transport::Exec, Some(cluster)) => {
            let limits = ExecLimits { timeout: options.timeout, ..ExecLimits::default() };
            cluster.exec_bounded(&options.namespace, &options.target, &command, stdin, &limits).await
        }
        (Transport::Exec, None) => Ok(ExecRun {
            pod: String::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            end: ExecEnd::NotRun("no cluster for --via exec; this is a bug, please report it".into()),
        }),
        (Transport::Local, _) => Ok(run_process(&command, stdin, options.timeout, "local").await),
        (Transport::Ssh { host, .. }, _) => Ok(run_process(&command, stdin, options.timeout, host).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_user_whose_records_stayed_is_failed() {
        let deleted = ItemResult::new("dl01", ItemStatus::Deleted).of(4);
        let removed = ItemResult::new("dl01", ItemStatus::Updated).noted("password row removed");
        let done = after_removal(deleted.clone(), Some(&removed));
        assert_eq!(
            (done.status, done.id, done.note.as_deref()),
            (ItemStatus::Deleted, 4, Some("password row removed"))
        );
        let refused = ItemResult::failed("dl01", "OperationalError: locked");
        let kept = after_removal(deleted.clone(), Some(&refused));
        assert_eq!((kept.status, kept.id), (ItemStatus::Failed, 4));
        assert_eq!(
            kept.error.as_deref(),
            Some(
                "deleted, but its password and quota could not be removed from the hub's store (OperationalError: \
                 locked); the next user of the name would inherit them: run the delete with --via exec again"
            )
        );
        assert_eq!(after_removal(deleted, None).status, ItemStatus::Failed);
        let missing = after_removal(ItemResult::new("x", ItemStatus::NotFound), Some(&refused));
        assert!(missing.error.unwrap().starts_with("not a user, but"));
        let unknown = ItemResult::unknown("y", "check");
        assert_eq!(after_removal(unknown.clone(), None), unknown, "not deleted: records untouched");
    }

    #[test]
    fn the_note_says_what_the_pod_removed() {
        let of = |pairs: &[(&str, u64)]| pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect::<BTreeMap<_, _>>();
        assert_eq!(
            removed_note(&of(&[("auth_user_passwords", 1), ("quota", 1)])),
            "password row removed, quota record removed"
        );
        assert_eq!(removed_note(&of(&[("auth_user_passwords", 1), ("quota", 0)])), "password row removed");
        assert_eq!(removed_note(&of(&[("passwords", 1), ("force_password_change", 1)])), "password row removed");
        assert_eq!(removed_note(&of(&[("auth_user_passwords", 0)])), "no password or quota left to remove");
    }
}
