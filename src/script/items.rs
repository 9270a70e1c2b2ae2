//! Turning a script's list argument into the items of a batch call: a list
//! of usernames, or of roster rows (maps with `username`, maybe `admin` and
//! `error`). A row that already carries an `error` (found when the roster
//! was read) becomes a `failed` result without any request.

use rhai::{Dynamic, Map};

use crate::hub::ItemResult;

/// One entry of a batch argument.
pub enum Item {
    /// Send this one: the name and the row's `admin` value, if the row has one.
    Send { name: String, admin: Option<bool> },
    /// Do not send: it failed already.
    Done(ItemResult),
}

/// Reads each element of `list`: a string, or a map with `username` (or `name`).
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
            Some(name) => Item::Send { name, admin: map.get("admin").and_then(|v| v.as_bool().ok()) },
            None => Item::Done(ItemResult::failed(row_label(&map), "no `username` in this row")),
        };
    }
    if value.is_string() {
        return Item::Send { name: value.to_string(), admin: None };
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

/// Runs `send` on the items to send and puts every result back in input order.
pub fn merge(items: Vec<Item>, send: impl FnOnce(Vec<(String, Option<bool>)>) -> Vec<ItemResult>) -> Vec<ItemResult> {
    let mut slots: Vec<Option<ItemResult>> = Vec::with_capacity(items.len());
    let mut batch = Vec::new();
    for item in items {
        match item {
            Item::Send { name, admin } => {
                batch.push((name, admin));
                slots.push(None);
            }
            Item::Done(result) => slots.push(Some(result)),
        }
    }
    let mut sent = send(batch).into_iter();
    slots
        .into_iter()
        .map(|slot| {
            slot.or_else(|| sent.next())
                .unwrap_or_else(|| ItemResult::failed("", "no result; this is a bug, please report it"))
        })
        .collect()
}
