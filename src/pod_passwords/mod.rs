//! Setting passwords through the cluster (`--via exec`): the way the user
//! guide's "requires kubectl access" refers to, done safely and at once.
//!
//! jhctl hashes every password itself (bcrypt, all cores), then runs one
//! constant Python program in a pod of `deployment/hub` for the whole
//! batch. The usernames and hashes go in on stdin as JSON lines; neither
//! passwords nor user data ever appear in the program text or the command
//! line. The program writes the first-use authenticator's two `dbm`
//! databases and answers one JSON line per user.

mod hash;

use std::collections::HashMap;

use serde_json::{json, Value};

pub use hash::{hash_all, DEFAULT_COST};

use crate::cluster::{Cluster, ClusterError};
use crate::hub::{ItemResult, ItemStatus, PasswordRow};
use crate::username;

/// The program run in the hub pod; a constant.
pub const PROGRAM: &str = include_str!("program.py");

/// Where the hub keeps password hashes.
pub const PASSWORDS_DB: &str = "/srv/jupyterhub/passwords.dbm";

/// Where the hub keeps the force-change flags.
pub const FORCE_CHANGE_DB: &str = "/srv/jupyterhub/force_password_change.dbm";

/// Options of the exec path.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Namespace of the hub.
    pub namespace: String,
    /// What to exec into, e.g. `deployment/hub`.
    pub target: String,
    /// Path of the passwords database in the pod.
    pub passwords_db: String,
    /// Path of the force-change database in the pod.
    pub force_change_db: String,
    /// bcrypt cost.
    pub cost: u32,
    /// The Python interpreter in the pod.
    pub python: String,
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
        }
    }
}

/// Sets each row's password with one exec into the hub pod. One result per
/// row, in order: `updated`, `failed` or `planned` (dry run: nothing is
/// hashed or sent). Fails as a whole only when the exec itself cannot run.
pub async fn set_passwords(
    cluster: &Cluster,
    rows: &[PasswordRow],
    force_change: bool,
    options: &ExecOptions,
    dry_run: bool,
) -> Result<Vec<ItemResult>, ClusterError> {
    let mut results: Vec<Option<ItemResult>> = vec![None; rows.len()];
    let mut todo: Vec<(usize, String, &str)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match username::normalize(&row.name) {
            Err(e) => results[i] = Some(ItemResult::failed(row.name.trim(), format!("`{}`: {e}", row.name))),
            Ok(name) if row.password.is_empty() => results[i] = Some(ItemResult::failed(name, "the password is empty")),
            Ok(name) if dry_run => results[i] = Some(ItemResult::new(name, ItemStatus::Planned)),
            Ok(name) => todo.push((i, name, row.password.as_str())),
        }
    }
    if !todo.is_empty() {
        let passwords: Vec<&str> = todo.iter().map(|(_, _, p)| *p).collect();
        let cost = options.cost;
        let hashes = tokio::task::block_in_place(|| hash_all(&passwords, cost));
        let mut stdin = Vec::new();
        let mut sent = Vec::new();
        for ((i, name, _), hash) in todo.iter().zip(hashes) {
            match hash {
                Ok(hash) => {
                    let line = json!({ "username": name, "hash": hash, "force_change": force_change });
                    stdin.extend_from_slice(line.to_string().as_bytes());
                    stdin.push(b'\n');
                    sent.push((*i, name.clone()));
                }
                Err(e) => results[*i] = Some(ItemResult::failed(name, e)),
            }
        }
        let command = vec![
            options.python.clone(),
            "-c".to_string(),
            PROGRAM.to_string(),
            options.passwords_db.clone(),
            options.force_change_db.clone(),
        ];
        let output = cluster.exec(&options.namespace, &options.target, &command, &stdin).await?;
        let lines: Vec<Value> =
            String::from_utf8_lossy(&output.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let fatal = lines.iter().find_map(|a| a.get("fatal").and_then(Value::as_str)).map(str::to_string);
        let answers: HashMap<&str, &Value> =
            lines.iter().filter_map(|a| Some((a.get("username")?.as_str()?, a))).collect();
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        for (i, name) in sent {
            let answer = answers.get(name.as_str());
            results[i] = Some(match answer {
                Some(a) if a.get("ok").and_then(Value::as_bool) == Some(true) => {
                    ItemResult::new(name, ItemStatus::Updated)
                }
                Some(a) => {
                    ItemResult::failed(name, a.get("error").and_then(Value::as_str).unwrap_or("not set").to_string())
                }
                None => ItemResult::failed(
                    name,
                    fatal.clone().unwrap_or_else(|| {
                        format!(
                            "no answer from the program in the pod (exit code {}): {}",
                            output.code,
                            last_line(&stderr)
                        )
                    }),
                ),
            });
        }
    }
    Ok(results.into_iter().map(|r| r.expect("every row gets a result")).collect())
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("no output")
}
