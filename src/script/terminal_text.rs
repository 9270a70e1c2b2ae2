//! Text on its way to the terminal, made harmless.
//!
//! Names, group names and messages come from the hub, where anyone who can
//! pick a username may have put an escape sequence into one: `\x1b[2J`
//! clears the screen, `\x1b]0;...` retitles the window, a carriage return
//! overwrites the line before it, and a right-to-left override reverses
//! what follows. Everything jhctl prints for a script (`print`, `say`,
//! `eprint`, debug output, values shown by `eval` and the REPL, error
//! messages) goes through [`escape_controls`], which writes such characters
//! out as visible escapes (`\x1b`, `\r`, `\u{202e}`). Line breaks and tabs
//! stay as they are. Invisible characters (a zero-width space, a soft
//! hyphen, a byte order mark, ...) are escaped the same way, so `ann\u{200b}`
//! does not show as `ann`.
//!
//! JSON output must stay valid JSON, and `\u{202e}` is not a JSON escape.
//! So JSON text is made safe before it is printed ([`json_safe`]): every
//! such character inside a string becomes a JSON escape (`\u202e`), which
//! any parser reads back as the character and [`escape_controls`] leaves
//! alone.

use std::borrow::Cow;
use std::fmt::Write;

/// True for characters that must not reach a terminal raw: control
/// characters (C0, DEL, C1) other than line feed and tab, the Unicode
/// bidirectional marks, overrides and isolates, and [`invisible`] ones.
fn hazardous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || crate::username::invisible(c)
}

/// `json` (a JSON document) with every hazardous character written as a
/// JSON escape (`\u202e`; a surrogate pair above U+FFFF): still valid
/// JSON holding the same strings, and nothing left for [`escape_controls`]
/// to change. Such characters only occur inside strings (JSON's own
/// syntax is ASCII).
///
/// ```
/// use jhctl::script::terminal_text::{escape_controls, json_safe};
/// let json = json_safe("{\"name\": \"a\u{202e}b\"}");
/// assert_eq!(json, "{\"name\": \"a\\u202eb\"}");
/// assert_eq!(escape_controls(&json), json);
/// ```
pub fn json_safe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(hazardous) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if hazardous(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{:04x}", unit);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` with every hazardous character written as a visible escape:
/// `\r` for a carriage return, `\xHH` for other characters below U+0100
/// (`\x1b` for ESC), `\u{HHHH}` above. Text without any comes back as is.
///
/// ```
/// use jhctl::script::terminal_text::escape_controls;
/// assert_eq!(escape_controls("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
/// assert_eq!(escape_controls("two\nlines\tand a tab"), "two\nlines\tand a tab");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hazardous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if hazardous(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hazardous(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(escape_controls("\x1b[31mevil\x1b[0m"), "\\x1b[31mevil\\x1b[0m");
        assert_eq!(escape_controls("ok\rfake"), "ok\\rfake");
        assert_eq!(escape_controls("\x07\x00\x7f"), "\\x07\\x00\\x7f");
        assert_eq!(escape_controls("\u{9b}2J"), "\\x9b2J");
        assert_eq!(escape_controls("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape_controls("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for text in ["", "alice", "line\nbreak", "tab\there", "jörg ✓ 📋", "{\n  \"name\": \"\\u001b\"\n}"] {
            assert!(matches!(escape_controls(text), Cow::Borrowed(_)), "{text:?}");
        }
    }

    #[test]
    fn invisible_characters_are_shown_escaped() {
        assert_eq!(escape_controls("ann\u{200b}"), "ann\\u{200b}");
        assert_eq!(escape_controls("\u{feff}bob\u{ad}"), "\\u{feff}bob\\xad");
        assert_eq!(escape_controls("jos\u{e9} ⚠️"), "jos\u{e9} ⚠️");
    }

    #[test]
    fn json_safe_output_parses_back_to_the_same_strings() {
        // Issue #26: `list --json` of `aä\u{202e}evil` printed `"\u{202e}"`.
        let names = ["aä\u{202e}evil", "\x1b[2J", "x\u{9b}y\u{7f}", "ann\u{200b}", "tag\u{e0041}", "jörg ✓"];
        let json = serde_json::to_string_pretty(&serde_json::json!({ "names": names })).unwrap();
        let safe = json_safe(&json);
        assert_eq!(escape_controls(&safe), safe, "nothing left for the terminal escape");
        let back: serde_json::Value = serde_json::from_str(&escape_controls(&safe)).unwrap();
        assert_eq!(back["names"], serde_json::json!(names));
        assert!(safe.contains("aä\\u202eevil") && safe.contains("tag\\udb40\\udc41"), "{safe}");
    }

    #[test]
    fn json_of_a_hostile_string_stays_valid() {
        let json = serde_json::to_string_pretty(&serde_json::json!({ "name": "\x1b[31mx\r" })).unwrap();
        let shown = escape_controls(&json);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&shown).unwrap()["name"], "\x1b[31mx\r");
    }
}
