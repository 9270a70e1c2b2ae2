//! Conversions between core types and Rhai values (rhai's serde support).

use rhai::{Array, Dynamic, EvalAltResult};
use serde::Serialize;

/// Any serialisable value as a Rhai value (structs become maps).
pub fn to_dynamic<T: Serialize>(value: &T) -> Result<Dynamic, Box<EvalAltResult>> {
    rhai::serde::to_dynamic(value)
}

/// A list of serialisable values as a Rhai array.
pub fn to_array<T: Serialize>(values: &[T]) -> Result<Array, Box<EvalAltResult>> {
    values.iter().map(to_dynamic).collect()
}

/// Names from a Rhai array of strings (or of maps with `username`/`name`).
pub fn names(list: &Array) -> Vec<String> {
    list.iter()
        .map(|v| match v.read_lock::<rhai::Map>() {
            Some(map) => map.get("username").or_else(|| map.get("name")).map(|n| n.to_string()).unwrap_or_default(),
            None => v.to_string(),
        })
        .collect()
}

/// A JSON value as a Rhai value.
pub fn from_json(value: &serde_json::Value) -> Result<Dynamic, Box<EvalAltResult>> {
    rhai::serde::to_dynamic(value)
}
