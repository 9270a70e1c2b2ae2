//! Rendering rows of maps as an aligned text table.

use rhai::{Array, Dynamic, Map};

/// Rows as a table: a header of `columns`, a rule, one line per row.
pub fn render(rows: &Array, columns: &[String]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| match row.read_lock::<Map>() {
            Some(map) => columns.iter().map(|c| cell(map.get(c.as_str()))).collect(),
            None => vec![cell(Some(row))],
        })
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (i, text) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(text.chars().count());
            }
        }
    }
    let line = |texts: &[String]| -> String {
        let parts: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!("{t}{}", " ".repeat(widths.get(i).copied().unwrap_or(0).saturating_sub(t.chars().count())))
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(columns)];
    out.push(line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>()));
    out.extend(cells.iter().map(|r| line(r)));
    out.join("\n")
}

fn cell(value: Option<&Dynamic>) -> String {
    match value {
        None => String::new(),
        Some(v) if v.is_unit() => String::new(),
        Some(v) if v.is_array() => v
            .read_lock::<Array>()
            .map(|a| a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(";"))
            .unwrap_or_default(),
        Some(v) => v.to_string().replace(['\n', '\r'], " "),
    }
}
