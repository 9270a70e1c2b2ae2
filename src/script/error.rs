//! How core errors become Rhai errors, and how a script error carries the
//! exit status the user should see.
//!
//! A primitive that cannot run at all throws. The thrown value is a map
//! `#{message, exit, kind}`: `exit` is 2 for bad usage or bad input (a
//! roster without a `username` column) and 1 otherwise; `kind` says what
//! went wrong, so scripts branch on it instead of on the message text:
//!
//! | kind | meaning |
//! | --- | --- |
//! | `bad_input` | bad usage, a bad file, a bad option (exit 2) |
//! | `not_found` | the user, group, secret, pod or namespace does not exist |
//! | `exists` | it exists already |
//! | `forbidden` | the token or the kubeconfig lacks the right |
//! | `unreachable` | the hub or the cluster cannot be reached, or its certificate is not trusted |
//! | `unknown` | a change was sent but its answer was lost |
//! | `incomplete` | a listing came back short or changed while it was read |
//! | `failed` | anything else |
//!
//! Scripts can catch it (`catch (e) { if e.kind == "not_found" { ... } }`);
//! uncaught, the runner prints the message and exits with that status.

use rhai::{Dynamic, EvalAltResult, Map, Position};

use crate::cluster::ClusterError;
use crate::hub::HubError;
use crate::roster::RosterError;

/// Exit status for "some items failed" or a runtime failure.
pub const EXIT_FAILED: i64 = 1;
/// Exit status for bad usage or bad input.
pub const EXIT_USAGE: i64 = 2;

/// A Rhai error that carries `message`, the exit status `exit` and `kind`
/// (`failed`, or `bad_input` with exit status 2).
pub fn throw(message: impl Into<String>, exit: i64) -> Box<EvalAltResult> {
    throw_kind(message, exit, if exit == EXIT_USAGE { "bad_input" } else { "failed" })
}

fn throw_kind(message: impl Into<String>, exit: i64, kind: &str) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("message".into(), Dynamic::from(message.into()));
    map.insert("exit".into(), Dynamic::from(exit));
    map.insert("kind".into(), Dynamic::from(kind.to_string()));
    Box::new(EvalAltResult::ErrorRuntime(map.into(), Position::NONE))
}

/// A runtime failure (exit status 1, kind `failed`) from any displayable error.
pub fn failed(err: impl std::fmt::Display) -> Box<EvalAltResult> {
    throw(err.to_string(), EXIT_FAILED)
}

/// Something named does not exist (exit status 1, kind `not_found`).
pub fn not_found(message: impl Into<String>) -> Box<EvalAltResult> {
    throw_kind(message, EXIT_FAILED, "not_found")
}

/// Bad input (exit status 2, kind `bad_input`) from any displayable error.
pub fn bad_input(err: impl std::fmt::Display) -> Box<EvalAltResult> {
    throw(err.to_string(), EXIT_USAGE)
}

/// A core error whose kind is known.
pub trait ErrorKind: std::fmt::Display {
    /// The `kind` a script sees (see the module docs).
    fn kind(&self) -> &'static str;

    /// The exit status: 2 for bad input, else 1.
    fn exit(&self) -> i64 {
        if self.kind() == "bad_input" {
            EXIT_USAGE
        } else {
            EXIT_FAILED
        }
    }
}

/// A core error as a script error with its kind and exit status.
pub fn thrown(err: impl ErrorKind) -> Box<EvalAltResult> {
    throw_kind(err.to_string(), err.exit(), err.kind())
}

impl ErrorKind for HubError {
    fn kind(&self) -> &'static str {
        match self {
            HubError::Connect { .. } | HubError::Tls { .. } => "unreachable",
            HubError::CaBundle { .. } | HubError::Url { .. } | HubError::NoToken(_) | HubError::BadSort(_) => {
                "bad_input"
            }
            HubError::Unknown { .. } => "unknown",
            HubError::Unauthorized { .. } => "forbidden",
            HubError::Status { status: 401 | 403, .. } => "forbidden",
            HubError::Status { status: 404, .. } => "not_found",
            HubError::Status { status: 409, .. } => "exists",
            HubError::ShortListing { .. } | HubError::ListingChanged { .. } => "incomplete",
            HubError::NoAdminApi { .. } => "not_found",
            HubError::Status { .. } | HubError::Decode { .. } | HubError::Undone { .. } => "failed",
            HubError::NotStarted => "interrupted",
        }
    }
}

impl ErrorKind for ClusterError {
    fn kind(&self) -> &'static str {
        match self {
            ClusterError::NoConfig { .. }
            | ClusterError::NoConfigForContext { .. }
            | ClusterError::ContextNotFound { .. }
            | ClusterError::BadConfig { .. }
            | ClusterError::BadKubeconfig { .. }
            | ClusterError::KubeconfigNotFound { .. } => "bad_input",
            ClusterError::Unreachable { .. } => "unreachable",
            ClusterError::Unauthorized { .. } | ClusterError::Forbidden { .. } | ClusterError::ExecForbidden { .. } => {
                "forbidden"
            }
            ClusterError::NamespaceNotFound { .. }
            | ClusterError::NotFound { .. }
            | ClusterError::MissingKey { .. } => "not_found",
            ClusterError::AlreadyExists { .. } => "exists",
            _ => "failed",
        }
    }

    /// A cluster that cannot be used is a failure of the run (exit 1),
    /// whatever the kind, as it always was.
    fn exit(&self) -> i64 {
        EXIT_FAILED
    }
}

impl ErrorKind for RosterError {
    fn kind(&self) -> &'static str {
        match self {
            RosterError::NotFound { .. } => "not_found",
            _ => "bad_input",
        }
    }

    /// Every roster problem is bad input, a missing file too.
    fn exit(&self) -> i64 {
        EXIT_USAGE
    }
}

/// Stops the script with exit status `code`, printing nothing more.
pub fn exit(code: i64) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(Dynamic::from(code), Position::NONE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::boxed_local)]
    fn fields(err: Box<EvalAltResult>) -> (String, i64) {
        let EvalAltResult::ErrorRuntime(value, _) = *err else { panic!("not a runtime error") };
        let map = value.cast::<Map>();
        (map["kind"].clone().into_string().unwrap(), map["exit"].as_int().unwrap())
    }

    #[test]
    fn core_errors_carry_their_kind_and_exit_status() {
        let status = |status| HubError::Status { what: "x".into(), status, message: "m".into() };
        let cases: Vec<(Box<EvalAltResult>, &str, i64)> = vec![
            (thrown(status(404)), "not_found", 1),
            (thrown(status(409)), "exists", 1),
            (thrown(status(403)), "forbidden", 1),
            (thrown(status(500)), "failed", 1),
            (thrown(HubError::Connect { url: "u".into(), reason: "r".into() }), "unreachable", 1),
            (thrown(HubError::Unknown { url: "u".into(), reason: "r".into() }), "unknown", 1),
            (thrown(HubError::NoToken("none".into())), "bad_input", 2),
            (thrown(RosterError::NotFound { path: "r.csv".into() }), "not_found", 2),
            (bad_input("x"), "bad_input", 2),
            (failed("x"), "failed", 1),
        ];
        for (err, kind, exit) in cases {
            assert_eq!(fields(err), (kind.to_string(), exit));
        }
    }
}
