//! Usernames as the hub sees them: trimmed and lower-cased, and checked
//! before any request, because one invalid name makes the hub reject a
//! whole batch.
//!
//! Two names can also be different users that look the same: `josé` typed
//! as one character (NFC) or as `e` plus a combining accent (NFD), or
//! `ann` and `ann` with a zero-width space. The hub keeps both. [`lookalikes`]
//! finds such names (same text after NFKC normalisation, lower-casing and
//! removing [`invisible`] characters), so commands can warn before creating
//! the second one.

use std::collections::HashMap;
use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Why a username was refused before anything was sent to the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameError {
    /// The name is empty once surrounding spaces are removed.
    Empty,
    /// The name holds a `/`, which the hub cannot put in a URL path.
    Slash,
    /// The name has a space, tab or other white space inside it.
    Whitespace,
    /// The name holds a control character (a newline, a tab pasted from a sheet, ...).
    Control,
    /// The name is `.` or `..`: in a URL path these mean "this folder" and
    /// "the folder above", so a request about the user would reach another
    /// endpoint of the hub.
    PathStep,
    /// The name is only dots (`...`): JupyterHub 6 refuses it, older hubs
    /// take it; refused everywhere, so every hub version behaves the same.
    OnlyDots,
}

impl fmt::Display for UsernameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UsernameError::Empty => "username is empty; fill it in or delete the row",
            UsernameError::Slash => "username contains `/`; remove it",
            UsernameError::Whitespace => "username contains white space; remove the spaces inside it",
            UsernameError::Control => "username contains a control character; retype it",
            UsernameError::OnlyDots => {
                "username made only of dots is refused by JupyterHub 6 and cannot be told apart in URLs; choose another name"
            }
            UsernameError::PathStep => {
                "username `.` or `..` would change the hub's URL paths (they mean this and the parent folder); choose another name"
            }
        })
    }
}

impl std::error::Error for UsernameError {}

/// Trims and lower-cases `raw` the way the hub does at login, and refuses
/// names the hub would reject.
///
/// ```
/// assert_eq!(jhctl::username::normalize("  Student01 ").unwrap(), "student01");
/// assert!(jhctl::username::normalize("bad/name").is_err());
/// ```
pub fn normalize(raw: &str) -> Result<String, UsernameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(UsernameError::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(UsernameError::Control);
    }
    if name.chars().any(char::is_whitespace) {
        return Err(UsernameError::Whitespace);
    }
    if name.contains('/') {
        return Err(UsernameError::Slash);
    }
    if name == "." || name == ".." {
        return Err(UsernameError::PathStep);
    }
    if name.chars().all(|c| c == '.') {
        return Err(UsernameError::OnlyDots);
    }
    Ok(name.to_lowercase())
}

/// True for characters that show as nothing, or as a blank that is not a
/// space: zero-width spaces and joiners, bidi marks, the soft hyphen, the
/// byte order mark, Hangul fillers, invisible operators, tags and
/// variation selectors above the BMP. A name holding one looks like the
/// name without it.
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fff8}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

/// What a name looks like: NFKC, lower-cased, without [`invisible`]
/// characters. Names with the same key are told apart by nobody reading them.
pub fn look_key(name: &str) -> String {
    name.nfkc().filter(|c| !invisible(*c)).collect::<String>().to_lowercase()
}

/// `name` with every character outside printable ASCII written as
/// `\u{..}`, so two lookalike names show how they differ
/// (`jos\u{e9}` and `jose\u{301}`).
pub fn spelled_out(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_graphic() { c.to_string() } else { format!("\\u{{{:x}}}", c as u32) }).collect()
}

/// What to say about a group of [`lookalikes`]: the names spelled out
/// ([`spelled_out`]) and what to do.
pub fn lookalike_warning(group: &[String]) -> String {
    let names: Vec<String> = group.iter().map(|name| format!("`{}`", spelled_out(name))).collect();
    format!(
        "usernames {} look the same but differ in Unicode normalisation or invisible characters, so the hub \
         keeps them as different users; use one spelling",
        names.join(" and ")
    )
}

/// Groups of different names that look the same ([`look_key`]), among
/// `names` and between `names` and `existing` (say, the hub's users). Each
/// group lists its names in the order met, `names` first; a name equal to
/// another is not a lookalike of it. Groups come in the order of their
/// first name in `names`. Linear in the number of names.
pub fn lookalikes<'a>(
    names: impl IntoIterator<Item = &'a str>,
    existing: impl IntoIterator<Item = &'a str>,
) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut add = |name: &str, new: bool| {
        let key = look_key(name);
        match by_key.get(&key) {
            Some(&at) if !groups[at].iter().any(|n| n == name) => groups[at].push(name.to_string()),
            Some(_) => {}
            None if new => {
                by_key.insert(key, groups.len());
                groups.push(vec![name.to_string()]);
            }
            None => {}
        }
    };
    for name in names {
        add(name, true);
    }
    for name in existing {
        add(name, false);
    }
    groups.retain(|group| group.len() > 1);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(normalize(" AUP01\t").unwrap(), "aup01");
        assert_eq!(normalize("1001").unwrap(), "1001");
        assert_eq!(normalize("jörg@uni.de").unwrap(), "jörg@uni.de");
    }

    #[test]
    fn refuses_what_the_hub_rejects() {
        assert_eq!(normalize("   "), Err(UsernameError::Empty));
        assert_eq!(normalize("bad/name"), Err(UsernameError::Slash));
        assert_eq!(normalize("ann smith"), Err(UsernameError::Whitespace));
        assert_eq!(normalize("ann\u{7}"), Err(UsernameError::Control));
        assert_eq!(normalize("a\nb"), Err(UsernameError::Control));
    }

    #[test]
    fn refuses_dot_and_dot_dot() {
        assert_eq!(normalize("."), Err(UsernameError::PathStep));
        assert_eq!(normalize(" .. "), Err(UsernameError::PathStep));
        assert_eq!(
            UsernameError::PathStep.to_string(),
            "username `.` or `..` would change the hub's URL paths (they mean this and the parent folder); choose another name"
        );
        // Only dots is refused on every hub version; dots inside a name are fine.
        assert_eq!(normalize("..."), Err(UsernameError::OnlyDots));
        assert_eq!(normalize("a.b").unwrap(), "a.b");
        assert_eq!(normalize(".ann").unwrap(), ".ann");
    }

    #[test]
    fn lookalike_names_are_found() {
        // Issue #26: `josé` (NFC) and `josé` (NFD) were both created, no warning.
        let nfc = "jos\u{e9}";
        let nfd = "jose\u{301}";
        assert_ne!(nfc, nfd);
        assert_eq!(look_key(nfc), look_key(nfd));
        assert_eq!(look_key("ann\u{200b}"), "ann");
        assert_eq!(look_key("\u{feff}ＡＮＮ"), "ann");
        let names = [nfc, "bob", nfd, "ann\u{200b}", "bob", "cy"];
        assert_eq!(
            lookalikes(names, ["ann", "zed", "c\u{200d}y"]),
            vec![
                vec![nfc.to_string(), nfd.to_string()],
                vec!["ann\u{200b}".to_string(), "ann".to_string()],
                vec!["cy".to_string(), "c\u{200d}y".to_string()],
            ]
        );
        // The same name twice, or a name already on the hub, is no lookalike.
        assert!(lookalikes(["ann", "ann"], ["ann", "bob"]).is_empty());
        // Lookalikes among the existing names alone are not this batch's business.
        assert!(lookalikes(["dan"], ["ann", "ann\u{200b}"]).is_empty());
        assert_eq!(spelled_out(nfd), "jose\\u{301}");
        assert_eq!(spelled_out("ann\u{200b}"), "ann\\u{200b}");
        assert!(invisible('\u{200b}') && invisible('\u{e0041}') && !invisible('é') && !invisible('\u{fe0f}'));
    }
}
