//! What the program in the pod answered, and what that means for each
//! user: `updated` only for a user whose write the pod confirmed (after the
//! commit and the read-back); `failed` for a user the pod answered `ok:
//! false`, and for everyone when the program said nothing was written
//! (`fatal`) or never ran. A user without an answer from a program that
//! ran is `unknown`: it writes before it answers, so a link that broke (or
//! a program that died) after the commit leaves rows written but not
//! confirmed, as a lost answer does on the API path.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::cluster::ExecEnd;
use crate::hub::ItemResult;

/// The store the program wrote, as it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreUsed {
    /// `db` or `dbm`.
    pub kind: String,
    /// Where: the table and the database URL without its password, or the dbm path.
    pub at: String,
}

/// One answer line about one user.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct UserAnswer {
    /// The write was committed and read back.
    #[serde(default)]
    pub ok: bool,
    /// Why not.
    #[serde(default)]
    pub error: Option<String>,
    /// For a rename: rows moved per table.
    #[serde(default)]
    pub moved: BTreeMap<String, u64>,
    /// For a removal: rows removed per table (or dbm file).
    #[serde(default)]
    pub removed: BTreeMap<String, u64>,
}

/// Everything the program answered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answers {
    /// The store line, when it came.
    pub store: Option<StoreUsed>,
    /// Why nothing could be written, when it said so.
    pub fatal: Option<String>,
    /// Answers by username.
    pub users: HashMap<String, UserAnswer>,
}

impl Answers {
    /// Reads the program's stdout. Only whole lines count: a line cut off by
    /// a broken connection is no answer. Lines that are not JSON (something
    /// the hub's modules printed) are skipped.
    pub fn read(stdout: &[u8]) -> Answers {
        let mut answers = Answers::default();
        let whole = match stdout.iter().rposition(|b| *b == b'\n') {
            Some(end) => &stdout[..end],
            None => &[][..],
        };
        for line in String::from_utf8_lossy(whole).lines() {
            let Ok(Value::Object(map)) = serde_json::from_str::<Value>(line) else { continue };
            if let Some(fatal) = map.get("fatal").and_then(Value::as_str) {
                answers.fatal.get_or_insert_with(|| fatal.to_string());
            } else if let (Some(kind), Some(at)) = (map.get("store").and_then(Value::as_str), map.get("at")) {
                let at = at.as_str().unwrap_or_default().to_string();
                answers.store = Some(StoreUsed { kind: kind.to_string(), at });
            } else if let Some(name) = map.get("username").and_then(Value::as_str) {
                let answer = serde_json::from_value(Value::Object(map.clone())).unwrap_or_default();
                answers.users.insert(name.to_string(), answer);
            }
        }
        answers
    }

    /// The outcome for `name`, sent to the pod: `updated` only with the
    /// pod's confirmation; without an answer `failed` only when nothing can
    /// have been written (a `fatal` answer, or the program never ran), else
    /// `unknown`. `end` and `stderr` explain a missing answer.
    pub fn result_for(&self, name: &str, end: &ExecEnd, stderr: &[u8]) -> ItemResult {
        match self.users.get(name) {
            Some(answer) if answer.ok => ItemResult::new(name, crate::hub::ItemStatus::Updated),
            Some(answer) => ItemResult::failed(name, answer.error.clone().unwrap_or_else(|| "not set".to_string())),
            None if self.fatal.is_some() || matches!(end, ExecEnd::NotRun(_)) => {
                ItemResult::failed(name, self.why_unanswered(end, stderr))
            }
            None => ItemResult::unknown(name, self.why_unanswered(end, stderr)),
        }
    }

    /// Why a user got no answer.
    pub fn why_unanswered(&self, end: &ExecEnd, stderr: &[u8]) -> String {
        if let Some(fatal) = &self.fatal {
            return format!("{fatal} (nothing was written)");
        }
        let stderr = String::from_utf8_lossy(stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).map(str::trim);
        let detail = last.map(|l| format!(" ({l})")).unwrap_or_default();
        match end {
            ExecEnd::Exited(code) => format!(
                "no answer from the program in the pod (exit code {code}){detail}; it may have written this \
                 user before it ended, re-run for this user"
            ),
            ExecEnd::NotRun(message) => format!("the program did not run in the pod: {message}"),
            ended => format!(
                "the pod did not confirm this user: {ended}; its password may or may not have changed, \
                 re-run for this user"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::hub::ItemStatus;

    const OUT: &[u8] = b"Loading /usr/local/etc/jupyterhub/secret/values.yaml\n\
        {\"store\": \"db\", \"at\": \"auth_user_passwords in sqlite:////srv/jupyterhub/jupyterhub.sqlite\"}\n\
        {\"username\": \"ann\", \"ok\": true}\n\
        {\"username\": \"ben\", \"ok\": false, \"error\": \"the row read back differs\"}\n\
        {\"username\": \"cid\", \"ok\": tr";

    #[test]
    fn only_confirmed_users_are_updated() {
        let answers = Answers::read(OUT);
        assert_eq!(answers.store.as_ref().unwrap().kind, "db");
        // Issue #26: a user without an answer from a program that ran may
        // have been committed before the link broke: `unknown`, not `failed`.
        let cases: [(&str, ExecEnd, ItemStatus, &str); 8] = [
            ("ann", ExecEnd::Broken("reset".into()), ItemStatus::Updated, ""),
            ("ann", ExecEnd::TimedOut(Duration::from_secs(5)), ItemStatus::Updated, ""),
            ("ben", ExecEnd::Exited(0), ItemStatus::Failed, "the row read back differs"),
            ("cid", ExecEnd::Broken("reset".into()), ItemStatus::Unknown, "the connection broke: reset"),
            ("cid", ExecEnd::TimedOut(Duration::from_secs(5)), ItemStatus::Unknown, "within 5s"),
            ("cid", ExecEnd::NoStatus, ItemStatus::Unknown, "may or may not have changed"),
            ("dan", ExecEnd::Exited(1), ItemStatus::Unknown, "exit code 1) (Traceback last)"),
            ("dan", ExecEnd::NotRun("no such file".into()), ItemStatus::Failed, "did not run in the pod"),
        ];
        for (name, end, status, error) in cases {
            let result = answers.result_for(name, &end, b"Traceback first\nTraceback last\n");
            assert_eq!(result.name, name);
            assert_eq!(result.status, status, "{name} {end:?}");
            let text = result.error.unwrap_or_default();
            assert!(text.contains(error), "{name} {end:?}: {text}");
        }
    }

    #[test]
    fn a_fatal_answer_fails_everyone_with_its_reason() {
        let answers = Answers::read(b"{\"fatal\": \"found no password store in this pod\"}\n");
        let result = answers.result_for("ann", &ExecEnd::Exited(3), b"");
        assert_eq!(result.status, ItemStatus::Failed);
        assert_eq!(result.error.unwrap(), "found no password store in this pod (nothing was written)");
        assert_eq!(answers.store, None);
    }
}
