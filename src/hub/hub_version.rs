//! `HubVersion`: which JupyterHub jhctl talks to, and what that version can do.
//!
//! jhctl works with JupyterHub 4.1 to 6.1. Where they differ, jhctl behaves
//! the same for the user and does not trust an older hub to do what only a
//! newer one does: `GET /hub/api/users` takes `sort` from 5.0 on (4.x
//! ignores it and lists by creation), so on 4.x jhctl sorts the listing
//! itself. The client asks for the version once (`GET /hub/api/`) and keeps
//! it.

/// A hub's `major.minor` version, as `GET /hub/api/` gives it (`5.2.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HubVersion {
    /// The major version: 4, 5, 6...
    pub major: u32,
    /// The minor version.
    pub minor: u32,
}

impl HubVersion {
    /// Reads `major.minor` from the front of `text` (`5.2.1`, `6.0.0b1`);
    /// `None` when it does not start that way.
    pub fn parse(text: &str) -> Option<HubVersion> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
        Some(HubVersion { major, minor: minor.parse().ok()? })
    }

    /// Whether a hub of `version` sorts `GET /hub/api/users` by its `sort`
    /// parameter (5.0 and later). An unknown version counts as not, and
    /// jhctl sorts itself.
    pub fn sorts_listings(version: Option<HubVersion>) -> bool {
        version.is_some_and(|v| v >= HubVersion { major: 5, minor: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_front() {
        assert_eq!(HubVersion::parse("5.2.1"), Some(HubVersion { major: 5, minor: 2 }));
        assert_eq!(HubVersion::parse("6.0.0b1"), Some(HubVersion { major: 6, minor: 0 }));
        assert_eq!(HubVersion::parse("4.1.6"), Some(HubVersion { major: 4, minor: 1 }));
        assert_eq!(HubVersion::parse("unknown"), None);
        assert_eq!(HubVersion::parse("5"), None);
    }

    #[test]
    fn sort_is_trusted_from_five_on() {
        assert!(!HubVersion::sorts_listings(HubVersion::parse("4.1.6")));
        assert!(HubVersion::sorts_listings(HubVersion::parse("5.0.0")));
        assert!(HubVersion::sorts_listings(HubVersion::parse("6.1.1")));
        assert!(!HubVersion::sorts_listings(None));
    }
}
