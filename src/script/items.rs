//! Turning a script's list argument into the items of a batch call: a list
//! of usernames, or of roster rows (maps with `username`, maybe `admin`,
//! `password`, `quota` and `error`). A row that already carries an `error`
//! (found when the roster was read) becomes a `failed` result without any
//! request.
//!
//! Each item keeps everything its row said (name, admin flag, password,
//! quota), so a value always travels with its own user; results come back
//! keyed by the item and are put in input order by that key. A user named
//! more than once (`dq0000`, `DQ0000`, ` dq0000`) is one item: the first.

use std::collections::HashMap;

use rhai::{Dynamic, Map};

use crate::hub::ItemResult;
use crate::username;

/// What one row asks for, read from the row itself.
#[derive(Clone)]
pub struct Row {
    /// The username as given.
    pub name: String,
    /// The row's `admin` value, if it has one.
    pub admin: Option<bool>,
    /// The row's non-empty `password`, if it has one. Never printed.
    pub password: Option<String>,
    /// The row's `quota`, if it has one.
    pub quota: Option<i64>,
}

/// One entry of a batch argument.
pub enum Item {
    /// Send this one.
    Send(Row),
    /// Do not send: it failed already.
    Done(ItemResult),
}

/// Reads each element of `list`: a string, a `[name, password]` pair, or a
/// map with `username` (or `name`).
pub fn items(list: &[Dynamic]) -> Vec<Item> {
    list.iter().map(item).collect()
}

fn item(value: &Dynamic) -> Item {
    if let Some(map) = value.read_lock::<Map>() {
        let name = text(&map, "username").or_else(|| text(&map, "name"));
        if let Some(error) = text(&map, "error") {
            let name = name.or_else(|| text(&map, "raw_username")).unwrap_or_else(|| row_label(&map));
            return Item::Done(ItemResult::failed(name, error));
        }
        return match name {
            Some(name) => Item::Send(Row {
                name,
                admin: map.get("admin").and_then(|v| v.as_bool().ok()),
                password: text(&map, "password").filter(|p| !p.is_empty()),
                quota: map.get("quota").and_then(|q| q.as_int().ok()),
            }),
            None => Item::Done(ItemResult::failed(row_label(&map), "no `username` in this row")),
        };
    }
    if let Some(pair) = value.read_lock::<rhai::Array>() {
        if pair.len() == 2 && pair[0].is_string() {
            let password = Some(pair[1].to_string()).filter(|p| !p.is_empty() && !pair[1].is_unit());
            return Item::Send(Row { name: pair[0].to_string(), admin: None, password, quota: None });
        }
    }
    if value.is_string() {
        return Item::Send(Row { name: value.to_string(), admin: None, password: None, quota: None });
    }
    Item::Done(ItemResult::failed(
        value.to_string(),
        format!("expected a username or a row map, got {}", value.type_name()),
    ))
}

fn text(map: &Map, key: &str) -> Option<String> {
    map.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string())
}

fn row_label(map: &Map) -> String {
    match map.get("row") {
        Some(row) => format!("row {row}"),
        None => "(no name)".to_string(),
    }
}

/// The user an item's name stands for: the normalised name (` DQ0000`
/// and `dq0000` are one user), or the name as given when it is not a
/// valid username (`USER/SERVER`, or a name that fails on its own).
fn user_key(name: &str) -> String {
    username::normalize(name).unwrap_or_else(|_| name.to_string())
}

/// Keeps the first item of each user and drops the later ones, so a user
/// named twice (`dq0000 DQ0000 " dq0000"`) is changed once. Returns the
/// items kept and one warning per merged user, naming the inputs.
pub fn dedupe(items: Vec<Item>) -> (Vec<Item>, Vec<String>) {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut given: Vec<Vec<String>> = Vec::new();
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if let Item::Send(row) = &item {
            let key = user_key(&row.name);
            if let Some(&at) = first.get(&key) {
                given[at].push(row.name.clone());
                continue;
            }
            first.insert(key, given.len());
            given.push(vec![row.name.clone()]);
        }
        kept.push(item);
    }
    let mut keys: Vec<(&String, &usize)> = first.iter().collect();
    keys.sort_by_key(|(_, at)| **at);
    let warnings = keys
        .into_iter()
        .filter(|(_, at)| given[**at].len() > 1)
        .map(|(key, at)| {
            let inputs: Vec<String> = given[*at].iter().map(|n| format!("`{n}`")).collect();
            format!(
                "`{key}` is named {} times ({}): it is one user, done once (with the first)",
                inputs.len(),
                inputs.join(", ")
            )
        })
        .collect();
    (kept, warnings)
}

/// Runs `send` on the rows to send and puts every result back in input
/// order. A user named more than once is sent once, with its first item,
/// and gets one result (a warning on stderr names the merged inputs; see
/// [`dedupe`]). `send` gets `(key, row)` pairs and must answer each with a
/// result whose `id` is that key; a row left without an answer is reported
/// as a bug. An error of `send` (the call could not run at all) is passed on.
pub fn merge<E>(
    items: Vec<Item>,
    send: impl FnOnce(Vec<(usize, Row)>) -> Result<Vec<ItemResult>, E>,
) -> Result<Vec<ItemResult>, E> {
    let (items, warnings) = dedupe(items);
    for warning in warnings {
        eprintln!("⚠️  {}", crate::script::terminal_text::escape_controls(&warning));
    }
    let mut slots: Vec<Option<ItemResult>> = Vec::with_capacity(items.len());
    let mut batch = Vec::new();
    let mut names = Vec::new();
    for (id, item) in items.into_iter().enumerate() {
        match item {
            Item::Send(row) => {
                names.push(row.name.trim().to_lowercase());
                batch.push((id, row));
                slots.push(None);
            }
            Item::Done(result) => {
                names.push(result.name.clone());
                slots.push(Some(result));
            }
        }
    }
    for result in send(batch)? {
        if let Some(slot) = slots.get_mut(result.id).filter(|s| s.is_none()) {
            *slot = Some(result);
        }
    }
    Ok(slots
        .into_iter()
        .zip(names)
        .map(|(slot, name)| {
            slot.unwrap_or_else(|| ItemResult::failed(name, "no result; this is a bug, please report it"))
        })
        .collect())
}

/// The keys and names of a batch, for calls that take names only; their
/// results are keyed by the name's index, turned back into the row's key.
pub fn by_name<E>(
    batch: Vec<(usize, Row)>,
    send: impl FnOnce(&[String]) -> Result<Vec<ItemResult>, E>,
) -> Result<Vec<ItemResult>, E> {
    let (ids, names): (Vec<usize>, Vec<String>) = batch.into_iter().map(|(id, row)| (id, row.name)).unzip();
    Ok(send(&names)?.into_iter().filter_map(|r| ids.get(r.id).map(|&id| r.of(id))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::ItemStatus;

    fn row(name: &str, password: &str) -> Dynamic {
        let mut map = Map::new();
        map.insert("username".into(), name.into());
        map.insert("password".into(), password.into());
        Dynamic::from_map(map)
    }

    fn bad(name: &str, password: &str) -> Dynamic {
        let value = row(name, password);
        let mut map = value.cast::<Map>();
        map.insert("error".into(), "roster `r.csv` row 2: username contains white space".into());
        Dynamic::from_map(map)
    }

    #[test]
    fn each_row_keeps_its_own_value_whatever_fails_before_it() {
        let list = vec![bad("bad name", "PassForBad1"), row("ma0000", "PassForA000"), row("ma0001", "PassForA001")];
        // The sender answers in reverse order: results still land on their rows.
        let results = merge(items(&list), |batch| {
            Ok::<_, ()>(
                batch
                    .into_iter()
                    .rev()
                    .map(|(id, row)| {
                        ItemResult::new(format!("{}={}", row.name, row.password.unwrap()), ItemStatus::Updated).of(id)
                    })
                    .collect(),
            )
        })
        .unwrap();
        let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["bad name", "ma0000=PassForA000", "ma0001=PassForA001"]);
        assert_eq!(results[0].status, ItemStatus::Failed);
    }

    #[test]
    fn a_missing_answer_is_a_bug_not_a_shift() {
        let list = vec![row("a", "p1"), row("b", "p2")];
        let answer = |batch: Vec<(usize, Row)>| {
            Ok::<_, ()>(vec![ItemResult::new(&batch[1].1.name, ItemStatus::Updated).of(batch[1].0)])
        };
        let results = merge(items(&list), answer).unwrap();
        assert_eq!(results[0].status, ItemStatus::Failed);
        assert_eq!(results[0].name, "a");
        assert_eq!(results[1].name, "b");
    }

    // Issue #26: `add-quota dq0000 DQ0000 " dq0000" --amount 50` added 150.
    #[test]
    fn a_user_named_three_ways_is_sent_once_with_its_first_row() {
        let list =
            vec!["dq0000".into(), row("DQ0000", "second"), "ann".into(), " dq0000".into(), "a/b".into(), "a/b".into()];
        let (kept, warnings) = dedupe(items(&list));
        let names: Vec<String> = kept
            .iter()
            .map(|i| match i {
                Item::Send(row) => row.name.clone(),
                Item::Done(r) => r.name.clone(),
            })
            .collect();
        assert_eq!(names, ["dq0000", "ann", "a/b"]);
        assert_eq!(
            warnings,
            [
                "`dq0000` is named 3 times (`dq0000`, `DQ0000`, ` dq0000`): it is one user, done once (with the first)",
                "`a/b` is named 2 times (`a/b`, `a/b`): it is one user, done once (with the first)",
            ]
        );
        let mut sent = Vec::new();
        let results = merge(items(&list), |batch| {
            sent = batch.iter().map(|(_, row)| row.name.clone()).collect();
            Ok::<_, ()>(
                batch.into_iter().map(|(id, row)| ItemResult::new(row.name, ItemStatus::Updated).of(id)).collect(),
            )
        })
        .unwrap();
        assert_eq!(sent, ["dq0000", "ann", "a/b"]);
        let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["dq0000", "ann", "a/b"], "one result per distinct user");
    }

    #[test]
    fn rows_that_failed_already_are_never_merged_away() {
        let list = vec![bad("bad name", "x"), bad("bad name", "y"), row("ok01", "p")];
        let (kept, warnings) = dedupe(items(&list));
        assert_eq!(kept.len(), 3);
        assert!(warnings.is_empty());
    }

    #[test]
    fn names_only_calls_map_back_to_their_rows() {
        let list = vec![Dynamic::from(5_i64), "x".into(), "y".into()];
        let deleted = |names: &[String]| {
            Ok::<_, ()>(names.iter().enumerate().map(|(i, n)| ItemResult::new(n, ItemStatus::Deleted).of(i)).collect())
        };
        let results = merge(items(&list), |batch| by_name(batch, deleted)).unwrap();
        assert_eq!(results[0].status, ItemStatus::Failed);
        assert_eq!((results[1].name.as_str(), results[2].name.as_str()), ("x", "y"));
    }
}
