//! Showing a value readably: an array of maps as a table, a map as
//! key/value lines, anything else as Rhai prints it.

use rhai::{Array, Dynamic, Map};

/// How many rows a table shows before it says how many were left out.
pub const MAX_ROWS: usize = 200;

/// `value` for a person to read.
pub fn show(value: &Dynamic) -> String {
    if let Some(array) = value.read_lock::<Array>() {
        if !array.is_empty() && array.iter().all(|v| v.is::<Map>()) {
            let mut columns: Vec<String> = Vec::new();
            for row in array.iter() {
                if let Some(map) = row.read_lock::<Map>() {
                    for key in map.keys() {
                        if !columns.iter().any(|c| c == key.as_str()) {
                            columns.push(key.to_string());
                        }
                    }
                }
            }
            let shown: Array = array.iter().take(MAX_ROWS).cloned().collect();
            let mut out = super::table::render(&shown, &columns);
            if array.len() > MAX_ROWS {
                out += &format!("\n... and {} more", array.len() - MAX_ROWS);
            }
            return out;
        }
        if array.len() > MAX_ROWS {
            let head: Vec<String> = array.iter().take(MAX_ROWS).map(|v| v.to_string()).collect();
            return format!("[{}, ... and {} more]", head.join(", "), array.len() - MAX_ROWS);
        }
    }
    if let Some(map) = value.read_lock::<Map>() {
        let width = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        return map
            .iter()
            .map(|(k, v)| format!("{k:width$}  {}", if v.is_unit() { String::new() } else { v.to_string() }))
            .collect::<Vec<_>>()
            .join("\n");
    }
    value.to_string()
}
