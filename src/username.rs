//! Usernames as the hub sees them: trimmed and lower-cased, and checked
//! before any request, because one invalid name makes the hub reject a
//! whole batch.

use std::fmt;

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
}
