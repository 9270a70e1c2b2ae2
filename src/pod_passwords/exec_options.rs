//! What the password program needs to know: how it reaches the hub (an
//! exec into the pod, this machine, ssh), which password store to write,
//! how long to wait.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::hash::DEFAULT_COST;
use super::transport::Transport;

/// Where the hub keeps password hashes on older hubs.
pub const PASSWORDS_DB: &str = "/srv/jupyterhub/passwords.dbm";

/// Where older hubs keep the force-change flags.
pub const FORCE_CHANGE_DB: &str = "/srv/jupyterhub/force_password_change.dbm";

/// How long the exec may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Which password store the program writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Store {
    /// The one the hub reads, found from what is there: the hub package,
    /// NativeAuthenticator's `users_info` table, a `passwords.dbm` file;
    /// refuse when none or more than one is there.
    #[default]
    Auto,
    /// The `auth_user_passwords` table of the guide's hub database (`aup`).
    Db,
    /// The two dbm files of older guide hubs.
    Dbm,
    /// FirstUseAuthenticator's `passwords.dbm` (TLJH's default).
    FirstUse,
    /// NativeAuthenticator's `users_info` table.
    Native,
}

impl Store {
    /// The name used on the program's stdin (and in its answers).
    pub fn as_str(self) -> &'static str {
        match self {
            Store::Auto => "auto",
            Store::Db => "db",
            Store::Dbm => "dbm",
            Store::FirstUse => "firstuse",
            Store::Native => "native",
        }
    }

    /// Whether the store keeps a forced-change flag (FirstUse and Native
    /// have none: their users keep the password they are given).
    pub fn has_force_change(self) -> bool {
        !matches!(self, Store::FirstUse | Store::Native)
    }
}

/// Whether a store written as `kind` (the program's answer) keeps a
/// forced-change flag.
pub fn kind_has_force_change(kind: &str) -> bool {
    !matches!(kind, "firstuse" | "native")
}

/// FirstUseAuthenticator's `min_password_length`: a shorter password is
/// refused before anything is written.
pub const FIRSTUSE_MIN_LENGTH: usize = 7;

/// Whether FirstUseAuthenticator would refuse `password` as too short.
pub fn too_short_for_firstuse(password: &str) -> bool {
    password.chars().count() < FIRSTUSE_MIN_LENGTH
}

impl FromStr for Store {
    type Err = String;

    fn from_str(text: &str) -> Result<Store, String> {
        match text.trim() {
            "auto" => Ok(Store::Auto),
            "aup" | "db" => Ok(Store::Db),
            "dbm" => Ok(Store::Dbm),
            "firstuse" => Ok(Store::FirstUse),
            "native" => Ok(Store::Native),
            other => {
                Err(format!("unknown store `{other}`; use auto, aup, firstuse or native (or dbm on older guide hubs)"))
            }
        }
    }
}

/// Options of the exec path.
#[derive(Clone)]
pub struct ExecOptions {
    /// Namespace of the hub.
    pub namespace: String,
    /// What to exec into, e.g. `deployment/hub`.
    pub target: String,
    /// Path of the passwords database in the pod (dbm store).
    pub passwords_db: String,
    /// Path of the force-change database in the pod (dbm store).
    pub force_change_db: String,
    /// bcrypt cost.
    pub cost: u32,
    /// The Python interpreter in the pod.
    pub python: String,
    /// Which store to write.
    pub store: Store,
    /// The hub database's URL, for hubs whose z2jh configuration does not
    /// say it; sent on stdin only (it may hold a password), never shown.
    pub db_url: Option<String>,
    /// How long the whole exec may take.
    pub timeout: Duration,
    /// How the program reaches the hub.
    pub transport: Transport,
    /// The hub's working directory, entered before anything is opened
    /// (local and ssh); `None` in a pod.
    pub hub_dir: Option<String>,
}

impl ExecOptions {
    /// The hub's defaults in `namespace`.
    pub fn new(namespace: impl Into<String>) -> Self {
        ExecOptions {
            namespace: namespace.into(),
            target: "deployment/hub".into(),
            passwords_db: PASSWORDS_DB.into(),
            force_change_db: FORCE_CHANGE_DB.into(),
            cost: DEFAULT_COST,
            python: "python3".into(),
            store: Store::Auto,
            db_url: None,
            timeout: DEFAULT_TIMEOUT,
            transport: Transport::Exec,
            hub_dir: None,
        }
    }
}

impl fmt::Debug for ExecOptions {
    /// Like a derived `Debug`, with the database URL left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecOptions")
            .field("namespace", &self.namespace)
            .field("target", &self.target)
            .field("passwords_db", &self.passwords_db)
            .field("force_change_db", &self.force_change_db)
            .field("cost", &self.cost)
            .field("python", &self.python)
            .field("store", &self.store)
            .field("db_url", &self.db_url.as_ref().map(|_| "(hidden)"))
            .field("timeout", &self.timeout)
            .field("transport", &self.transport)
            .field("hub_dir", &self.hub_dir)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_parse() {
        let cases = [
            ("auto", Store::Auto),
            ("db", Store::Db),
            (" dbm ", Store::Dbm),
            ("firstuse", Store::FirstUse),
            ("native", Store::Native),
        ];
        for (text, store) in cases {
            assert_eq!(text.parse::<Store>(), Ok(store));
            assert_eq!(store.as_str(), text.trim());
        }
        assert_eq!("aup".parse::<Store>(), Ok(Store::Db));
        assert_eq!(
            "sql".parse::<Store>(),
            Err("unknown store `sql`; use auto, aup, firstuse or native (or dbm on older guide hubs)".to_string())
        );
    }

    #[test]
    fn force_change_and_minimum_length_per_store() {
        let with: Vec<_> = [Store::Auto, Store::Db, Store::Dbm, Store::FirstUse, Store::Native]
            .into_iter()
            .filter(|s| s.has_force_change())
            .collect();
        assert_eq!(with, [Store::Auto, Store::Db, Store::Dbm]);
        assert!(kind_has_force_change("db") && kind_has_force_change("dbm"));
        assert!(!kind_has_force_change("firstuse") && !kind_has_force_change("native"));
        for (password, short) in
            [("", true), ("123456", true), ("1234567", false), ("äöüäöü", true), ("äöüäöüß", false)]
        {
            assert_eq!(too_short_for_firstuse(password), short, "{password}");
        }
    }

    #[test]
    fn debug_hides_the_database_url() {
        let mut options = ExecOptions::new("jupyterhub");
        options.db_url = Some("postgresql://hub:s3cret@db/hub".into());
        let text = format!("{options:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("(hidden)"), "{text}");
    }
}
