//! What `--via exec` needs to know: where the hub pod is, which password
//! store to write, how long to wait.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::hash::DEFAULT_COST;

/// Where the hub keeps password hashes on older hubs.
pub const PASSWORDS_DB: &str = "/srv/jupyterhub/passwords.dbm";

/// Where older hubs keep the force-change flags.
pub const FORCE_CHANGE_DB: &str = "/srv/jupyterhub/force_password_change.dbm";

/// How long the exec may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Which password store the program in the pod writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Store {
    /// The one the hub in the pod reads: its database where the hub package
    /// is importable, else the dbm files where a first-use authenticator
    /// uses them; refuse when neither is there.
    #[default]
    Auto,
    /// The `auth_user_passwords` table of the hub's database.
    Db,
    /// The first-use authenticator's two dbm files.
    Dbm,
}

impl Store {
    /// The name used on the command line and on the program's stdin.
    pub fn as_str(self) -> &'static str {
        match self {
            Store::Auto => "auto",
            Store::Db => "db",
            Store::Dbm => "dbm",
        }
    }
}

impl FromStr for Store {
    type Err = String;

    fn from_str(text: &str) -> Result<Store, String> {
        match text.trim() {
            "auto" => Ok(Store::Auto),
            "db" => Ok(Store::Db),
            "dbm" => Ok(Store::Dbm),
            other => Err(format!("unknown store `{other}`; use auto, db or dbm")),
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
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_parse() {
        for (text, store) in [("auto", Store::Auto), ("db", Store::Db), (" dbm ", Store::Dbm)] {
            assert_eq!(text.parse::<Store>(), Ok(store));
            assert_eq!(store.as_str(), text.trim());
        }
        assert_eq!("sql".parse::<Store>(), Err("unknown store `sql`; use auto, db or dbm".to_string()));
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
