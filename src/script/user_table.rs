//! The `user_table` primitive: the Admin Panel's user table as text, built
//! in Rust (comfy-table, display-width aware) so that listing 10,000 users
//! costs milliseconds, not a Rhai call per cell.
//!
//! The shape is the panel's: each column at least its header's width
//! (Username 20, Admin 10, Quota 12, Server 10, times 20, Groups 20) and
//! wider when a value is, one space between columns, a rule of dashes
//! under the header, no space at the end of a line. Values from the hub
//! are shown with control characters, line breaks and tabs escaped
//! (`terminal_text`), so every user stays on one line.

use comfy_table::{presets::NOTHING, Cell, ColumnConstraint, Table, Width};
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::helpers::helpers_module::format_time;
use super::terminal_text::escape_controls;

/// Every column the table knows: key, header, least width.
const COLUMNS: [(&str, &str, u16); 7] = [
    ("username", "Username", 20),
    ("admin", "Admin", 10),
    ("quota", "Quota", 12),
    ("server", "Server", 10),
    ("last_activity", "Last Activity", 20),
    ("created", "Created", 20),
    ("groups", "Groups", 20),
];

/// The least length of the rule under the header.
const RULE_MIN: usize = 50;

/// The state of a user's default server as the panel shows it.
fn server_state(user: &Map) -> &'static str {
    let text = |key: &str| user.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string());
    match text("pending").as_deref() {
        Some("spawn") => "Starting",
        Some("stop") => "Stopping",
        _ if text("server").is_some() => "Running",
        _ => "Stopped",
    }
}

/// The Quota column: `""` without quota records, the balance or
/// `unlimited` with them (0 for a user without a record).
fn quota(user: &Map, quotas: Option<&Map>) -> String {
    let Some(quotas) = quotas else { return String::new() };
    let name = user.get("name").map(|n| n.to_string()).unwrap_or_default();
    let Some(record) = quotas.get(name.as_str()).and_then(|q| q.read_lock::<Map>()) else { return "0".into() };
    if record.get("unlimited").and_then(|u| u.as_bool().ok()).unwrap_or(false) {
        return "unlimited".into();
    }
    record.get("balance").map(|b| b.to_string()).unwrap_or_else(|| "0".into())
}

/// The text of column `key` for `user`.
fn cell(user: &Map, key: &str, quotas: Option<&Map>) -> String {
    let field = |k: &str| user.get(k).cloned().unwrap_or(Dynamic::UNIT);
    match key {
        "username" => field("name").to_string(),
        "admin" => if field("admin").as_bool().unwrap_or(false) { "✓" } else { "" }.to_string(),
        "quota" => quota(user, quotas),
        "server" => server_state(user).to_string(),
        "last_activity" | "created" => format_time(field(key)),
        "groups" => match field("groups").read_lock::<Array>() {
            Some(groups) => groups.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", "),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// Text safe for one table cell: control characters escaped, and line
/// breaks and tabs too (they would break the row).
fn one_line(text: &str) -> String {
    escape_controls(text).replace('\n', "\\n").replace('\t', "\\t")
}

/// The table of `users` (user maps) in `columns` (keys of [`COLUMNS`]);
/// `quotas` maps names to quota records, or is `None` when the hub has none.
pub fn render(users: &[Dynamic], columns: &[String], quotas: Option<&Map>) -> Result<String, String> {
    let known: Vec<(&str, u16)> = columns
        .iter()
        .map(|key| {
            COLUMNS.iter().find(|c| c.0 == key).map(|c| (c.1, c.2)).ok_or_else(|| {
                let all: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
                format!("user_table: unknown column '{key}'; use {}", all.join(", "))
            })
        })
        .collect::<Result<_, _>>()?;
    if known.is_empty() {
        return Err("user_table: no columns; name at least one, e.g. [\"username\"]".into());
    }
    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header(known.iter().map(|(title, _)| Cell::new(title)));
    for user in users {
        let Some(user) = user.read_lock::<Map>() else { continue };
        table.add_row(columns.iter().map(|key| Cell::new(one_line(&cell(&user, key, quotas)))));
    }
    let last = known.len() - 1;
    for (i, (_, width)) in known.iter().enumerate() {
        let column = table.column_mut(i).expect("one column per header");
        if i < last {
            // The width plus the one space between columns.
            column.set_padding((0, 1)).set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(width + 1)));
        } else {
            column.set_padding((0, 0));
        }
    }
    let rule =
        known[..last].iter().map(|(_, w)| usize::from(*w) + 1).sum::<usize>() + usize::from(known[last].1.max(19));
    let mut lines = table.lines().map(|line| line.trim_end().to_string());
    let mut out = lines.next().unwrap_or_default();
    out.push('\n');
    out.push_str(&"-".repeat(rule.max(RULE_MIN)));
    for line in lines {
        out.push('\n');
        out.push_str(&line);
    }
    Ok(out)
}

/// The `user_table` function.
#[export_module]
pub mod user_table_module {
    use super::*;

    /// The Admin Panel's user table as text: a header, a rule, one line
    /// per user. `columns` are keys among `username`, `admin`, `quota`,
    /// `server`, `last_activity`, `created`, `groups`; `quotas` is a map of
    /// username to quota record (as `hub.quotas()` gives), or `()` when the
    /// hub keeps no quota. Widths follow what the terminal shows.
    ///
    /// ```rhai
    /// let both = hub.users_and_quotas(#{});
    /// let quotas = #{};
    /// for q in both.quotas ?? [] { quotas[q.username] = q; }
    /// say(user_table(both.users, ["username", "admin", "quota", "server", "last_activity"], quotas));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn user_table(users: Array, columns: Array, quotas: Dynamic) -> Result<String, Box<EvalAltResult>> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let quotas = quotas.read_lock::<Map>();
        render(&users, &columns, quotas.as_deref()).map_err(|e| e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, admin: bool, groups: &[&str]) -> Dynamic {
        let mut m = Map::new();
        m.insert("name".into(), name.into());
        m.insert("admin".into(), admin.into());
        m.insert("groups".into(), groups.iter().map(|g| Dynamic::from(g.to_string())).collect::<Array>().into());
        m.insert("server".into(), Dynamic::UNIT);
        m.insert("last_activity".into(), Dynamic::UNIT);
        m.into()
    }

    fn cols(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn the_panel_shape() {
        let mut quotas = Map::new();
        let mut q = Map::new();
        q.insert("balance".into(), Dynamic::from(50_i64));
        q.insert("unlimited".into(), false.into());
        quotas.insert("bob".into(), q.into());
        let users = [user("ann", true, &[]), user("bob", false, &["lab"])];
        let text =
            render(&users, &cols(&["username", "admin", "quota", "server", "last_activity"]), Some(&quotas)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Username             Admin      Quota        Server     Last Activity");
        // 20 + 10 + 12 + 10 + 4 spaces, and 20 for the last column.
        assert_eq!(lines[1], "-".repeat(76));
        assert_eq!(lines[2], "ann                  ✓          0            Stopped    Never");
        assert_eq!(lines[3], "bob                             50           Stopped    Never");
        assert_eq!(lines.len(), 4);
        let text = render(&users, &cols(&["username", "groups"]), None).unwrap();
        assert_eq!(text, format!("Username             Groups\n{}\nann\nbob                  lab", "-".repeat(50)));
    }

    #[test]
    fn wide_characters_and_long_names_keep_columns_aligned() {
        let users = [user("学生一号学生一号学生一号", false, &[]), user("a-very-long-username-indeed-yes", false, &[])];
        let text = render(&users, &cols(&["username", "server"]), None).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // 12 wide characters are 24 columns: the column grows to the longest name (31).
        assert_eq!(lines[2], format!("学生一号学生一号学生一号{}Stopped", " ".repeat(31 - 24 + 1)));
        assert_eq!(lines[3], "a-very-long-username-indeed-yes Stopped");
        assert_eq!(lines[0], format!("Username{}Server", " ".repeat(31 - 8 + 1)));
    }

    #[test]
    fn hostile_values_stay_on_one_escaped_line() {
        let users = [user("\x1b[31mred\nline\tx", false, &["g\r"])];
        let text = render(&users, &cols(&["username", "groups"]), None).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.ends_with("\\x1b[31mred\\nline\\tx g\\r"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn unknown_columns_are_refused() {
        let err = render(&[], &cols(&["shoe"]), None).unwrap_err();
        assert!(err.contains("unknown column 'shoe'") && err.contains("username"), "{err}");
        assert!(render(&[], &[], None).is_err());
    }
}
