//! Helpers every script has: random passwords and tokens, asking for
//! confirmation, tables, JSON, stderr output, and stopping with an exit status.

use std::io::{IsTerminal, Write};

use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

use super::error::{bad_input, exit as exit_with};
use super::runtime::Context;
use super::terminal_text::escape_controls;
use crate::secret_text;

/// Global helper functions.
#[export_module]
pub mod helpers_module {
    use super::*;

    /// A random password of 12 characters: letters and digits without the
    /// look-alikes l, I, O, 0 and 1, from an OS-seeded generator.
    ///
    /// ```rhai
    /// let p = password();
    /// ```
    pub fn password() -> String {
        secret_text::password(secret_text::PASSWORD_LENGTH)
    }

    /// A random password of `len` characters (at least 1).
    ///
    /// ```rhai
    /// let p = password(16);
    /// ```
    #[rhai_fn(name = "password")]
    pub fn password_len(len: i64) -> String {
        secret_text::password(len.clamp(1, 1024) as usize)
    }

    /// 32 random bytes as 64 hex characters, like `openssl rand -hex 32`.
    ///
    /// ```rhai
    /// let token = token_hex();
    /// ```
    pub fn token_hex() -> String {
        secret_text::token_hex(32)
    }

    /// `bytes` random bytes as hex.
    ///
    /// ```rhai
    /// let short = token_hex(8);
    /// ```
    #[rhai_fn(name = "token_hex")]
    pub fn token_hex_bytes(bytes: i64) -> String {
        secret_text::token_hex(bytes.clamp(1, 4096) as usize)
    }

    /// Reads a secret (`what`: `password`, `token`, named in errors) from
    /// the file `path`, or from standard input when `path` is `-`, so it
    /// never sits on the command line. Trailing line endings are removed.
    ///
    /// Throws when: the file cannot be read or is empty (exit status 2).
    ///
    /// ```rhai
    /// let p = read_secret("initial-password.txt", "password");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_secret(path: &str, what: &str) -> Result<String, Box<EvalAltResult>> {
        crate::credentials::read_secret_file(path, what).map_err(bad_input)
    }

    /// Asks `question` on the terminal (on stderr with `--json`) and
    /// returns true only when the answer is `yes`.
    ///
    /// Throws when: standard input is not a terminal (exit status 2): a
    /// script must not guess an answer; offer a `--yes` flag instead.
    ///
    /// ```rhai
    /// if !confirm("Delete 3 users? (yes/no): ") { print("❌ Operation cancelled"); exit(0); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn confirm(call: NativeCallContext, question: &str) -> Result<bool, Box<EvalAltResult>> {
        if !std::io::stdin().is_terminal() {
            return Err(bad_input(format!(
                "refusing to go on: `{}` needs an answer, but standard input is not a terminal; pass --yes to proceed",
                question.trim().trim_end_matches(':').trim()
            )));
        }
        // With --json, stdout carries only the JSON document.
        let question = escape_controls(question);
        if Context::of(&call).json() {
            eprint!("{question}");
        } else {
            print!("{question}");
            let _ = std::io::stdout().flush();
        }
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).map_err(super::super::error::failed)?;
        Ok(answer.trim().eq_ignore_ascii_case("yes"))
    }

    /// Whether standard input is a terminal (a person can answer).
    ///
    /// ```rhai
    /// if !is_terminal() { print("running unattended"); }
    /// ```
    pub fn is_terminal() -> bool {
        std::io::stdin().is_terminal()
    }

    /// Rows (maps) as an aligned text table with a header; the columns are
    /// the keys of the first row. `()` shows as blank.
    ///
    /// ```rhai
    /// print(table([#{name: "alice", admin: true}]));
    /// ```
    pub fn table(rows: Array) -> String {
        let columns: Vec<String> = rows
            .first()
            .and_then(|r| r.read_lock::<Map>().map(|m| m.keys().map(|k| k.to_string()).collect()))
            .unwrap_or_default();
        crate::script::table::render(&rows, &columns)
    }

    /// Rows as a table with the given columns, in that order.
    ///
    /// ```rhai
    /// print(table(hub.users(), ["name", "admin", "last_activity"]));
    /// ```
    #[rhai_fn(name = "table")]
    pub fn table_columns(rows: Array, columns: Array) -> String {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        crate::script::table::render(&rows, &columns)
    }

    /// Prints to standard error (human messages when stdout carries data).
    ///
    /// ```rhai
    /// eprint("⚠️  2 rows skipped");
    /// ```
    pub fn eprint(call: NativeCallContext, text: &str) {
        Context::of(&call).note_eprint(text);
        let _ = writeln!(std::io::stderr(), "{}", escape_controls(text));
    }

    /// Prints a line for people: on stdout, or on stderr when `--json`
    /// is given (so that stdout carries only the JSON document); nothing
    /// with `-q/--quiet`, so stdout carries only what `print` prints (e.g.
    /// `T=$(jhctl -q manage-users tokens create bot)`).
    ///
    /// ```rhai
    /// say("✅ Created user: alice");
    /// ```
    pub fn say(call: NativeCallContext, text: &str) {
        let text = escape_controls(text);
        if Context::of(&call).settings().quiet {
            return;
        }
        if Context::of(&call).json() {
            let _ = writeln!(std::io::stderr(), "{text}");
        } else {
            let _ = writeln!(std::io::stdout(), "{text}");
        }
    }

    /// Whether `--json` was given (or switched on with `set_json`): print
    /// one JSON document on stdout.
    ///
    /// ```rhai
    /// if json_output() { print(to_json(results)); }
    /// ```
    pub fn json_output(call: NativeCallContext) -> bool {
        Context::of(&call).json()
    }

    /// Switches JSON output on or off for the rest of the run, for a
    /// script's own `--json` flag: `say` then prints to stderr and
    /// `json_output()` is true. The global `jhctl --json` stays on.
    ///
    /// ```rhai
    /// if a.json { set_json(true); }
    /// ```
    pub fn set_json(call: NativeCallContext, on: bool) {
        Context::of(&call).set_json(on);
    }

    /// The Kubernetes namespace of the hub (`-n/--namespace`, default `jupyterhub`).
    ///
    /// ```rhai
    /// let creds = cluster::secret(namespace(), "jupyterhub-admin-credentials");
    /// ```
    pub fn namespace(call: NativeCallContext) -> String {
        Context::of(&call).settings().namespace.clone()
    }

    /// Stops the script now with exit status `code` (0 done, 1 some items
    /// failed, 2 bad usage or input).
    ///
    /// ```rhai
    /// if failed > 0 { exit(1); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exit(code: i64) -> Result<(), Box<EvalAltResult>> {
        Err(exit_with(code))
    }

    /// A value as pretty-printed JSON, always valid: control, bidi and
    /// invisible characters in strings are JSON escapes (`\u202e`), so
    /// printing it to a terminal changes nothing.
    ///
    /// ```rhai
    /// print(to_json(hub.users()));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_json(value: Dynamic) -> Result<String, Box<EvalAltResult>> {
        let json: serde_json::Value = rhai::serde::from_dynamic(&value)?;
        let text = serde_json::to_string_pretty(&json).map_err(super::super::error::failed)?;
        Ok(super::super::terminal_text::json_safe(&text).into_owned())
    }

    /// Rows (maps) as CSV text with a header of `columns`, in that order:
    /// `()` is blank, a list is joined with `;` (the roster's `groups`
    /// format), booleans are `true`/`false`. Fields are quoted as needed,
    /// and text a spreadsheet would run as a formula gets a leading `'`
    /// (as in every file jhctl writes).
    ///
    /// Throws when: a value cannot be written (never for plain values).
    ///
    /// ```rhai
    /// print(to_csv([#{ username: "alice", admin: true }], ["username", "admin"]));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_csv(rows: Array, columns: Array) -> Result<String, Box<EvalAltResult>> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = columns.iter().map(|c| crate::roster::Cell::from(c.as_str()).sheet_text());
        writer.write_record(header).map_err(super::super::error::failed)?;
        for row in crate::script::roster_api::cells(&rows, &columns) {
            writer
                .write_record(row.iter().map(crate::roster::Cell::sheet_text))
                .map_err(super::super::error::failed)?;
        }
        let bytes = writer.into_inner().map_err(|e| super::super::error::failed(e.error()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An ISO 8601 time from the hub (`2026-01-13T09:30:00.123Z`) as
    /// `YYYY-MM-DD HH:MM:SS` (UTC); `()` or empty gives `Never`.
    ///
    /// ```rhai
    /// print(format_time(u.last_activity));
    /// ```
    pub fn format_time(time: Dynamic) -> String {
        if time.is_unit() {
            return "Never".to_string();
        }
        let text = time.to_string();
        if text.is_empty() {
            return "Never".to_string();
        }
        match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(t) => t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S").to_string(),
            Err(_) => text.chars().take(19).collect::<String>().replace('T', " "),
        }
    }

    /// Seconds since an ISO 8601 time, `()` when the time is `()` or unreadable.
    ///
    /// ```rhai
    /// let idle = seconds_since(u.last_activity);
    /// ```
    pub fn seconds_since(time: Dynamic) -> Dynamic {
        if time.is_unit() {
            return Dynamic::UNIT;
        }
        match chrono::DateTime::parse_from_rfc3339(&time.to_string()) {
            Ok(t) => Dynamic::from((chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds()),
            Err(_) => Dynamic::UNIT,
        }
    }

    /// Whether the note `key` is said for the first time on this machine:
    /// true once, then false (kept under `$XDG_STATE_HOME/jhctl`), for a
    /// warning that should not repeat on every run. True every time when
    /// there is nowhere to keep it.
    ///
    /// ```rhai
    /// if first_time(`quota-404 ${hub.url}`) { eprint("⚠️  this hub has no quota API"); }
    /// ```
    pub fn first_time(key: &str) -> bool {
        crate::state::first_time(key)
    }

    /// The value of environment variable `name`, or `()` when unset.
    ///
    /// ```rhai
    /// let url = env("JUPYTERHUB_URL");
    /// ```
    pub fn env(name: &str) -> Dynamic {
        std::env::var(name).map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }

    /// Why `name` is not a valid username, or `()` when it is valid (after
    /// trimming and lower-casing, as the hub does).
    ///
    /// ```rhai
    /// let problem = username_problem("bad/name");   // "username contains `/`; remove it"
    /// ```
    pub fn username_problem(name: &str) -> Dynamic {
        match crate::username::normalize(name) {
            Ok(_) => Dynamic::UNIT,
            Err(e) => Dynamic::from(e.to_string()),
        }
    }

    /// `name` trimmed and lower-cased, as the hub stores it.
    ///
    /// ```rhai
    /// normalize_username(" Alice ")   // "alice"
    /// ```
    pub fn normalize_username(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// `text` quoted for a POSIX shell (`sh`, `bash`, `zsh`), so that
    /// `eval "$(jhctl ...)"` reads it back exactly.
    ///
    /// Throws when: `text` holds a NUL character, which no shell word can.
    ///
    /// ```rhai
    /// print(`export NAME=${shell_quote("it's")}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn shell_quote(text: &str) -> Result<String, Box<EvalAltResult>> {
        shlex::try_quote(text).map(|q| q.into_owned()).map_err(|e| bad_input(format!("cannot quote for a shell: {e}")))
    }

    /// Text padded with spaces on the right to `width` characters.
    ///
    /// ```rhai
    /// print(pad("Username", 20) + "Admin");
    /// ```
    pub fn pad(text: &str, width: i64) -> String {
        let len = text.chars().count();
        let width = width.max(0) as usize;
        if len >= width {
            text.to_string()
        } else {
            format!("{text}{}", " ".repeat(width - len))
        }
    }
}
