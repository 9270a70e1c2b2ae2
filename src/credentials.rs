//! Where the API token (and any secret given by file) comes from, and how
//! it travels.
//!
//! The token: `--token` or `--token-file`, then JUPYTERHUB_TOKEN, then the
//! Kubernetes secret `jupyterhub-admin-credentials` in the hub's
//! namespace. Secrets given by file (`--token-file`, `--password-file`) are
//! read with [`read_secret_file`], so they never show in `ps` or shell
//! history. [`warn_plain_http`] says once when the token would cross the
//! network unencrypted.

use std::io::Read;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cluster::{self, ClusterConfig, ADMIN_SECRET};
use crate::hub::{HubError, Token};

/// Finds the token: the one given (flag, token file or environment), else
/// the `api-token` key of the admin credentials secret, saying so in one
/// line on stderr. The error names all three places and why each failed.
/// Never puts the token in a message.
pub async fn resolve_token(given: Option<&Token>, namespace: &str, context: Option<&str>) -> Result<Token, HubError> {
    if let Some(token) = given {
        return Ok(token.clone());
    }
    let config = ClusterConfig { context: context.map(str::to_string) };
    match cluster::admin_token(&config, namespace).await {
        Ok(token) => {
            eprintln!("🔑 Using the API token from secret `{ADMIN_SECRET}` in namespace `{namespace}`");
            Ok(Token::new(token))
        }
        Err(e) => Err(HubError::NoToken(format!(
            "tried --token (not given), JUPYTERHUB_TOKEN (not set), and the Kubernetes secret `{ADMIN_SECRET}` \
             in namespace `{namespace}` ({e}); pass --token, export JUPYTERHUB_TOKEN, or point KUBECONFIG at the hub's cluster"
        ))),
    }
}

/// What jhctl says when both `--token` and `--token-file` are given.
pub const TOKEN_TWICE: &str = "--token and --token-file both give the API token; keep --token-file \
                               (a token on the command line shows in `ps` and in shell history)";

/// A secret file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// The file (or standard input) could not be read.
    #[error("cannot read the {what} from {}: {source}; check the path and its permissions", place(.path))]
    Read {
        /// What the file holds, e.g. `token` or `password`.
        what: String,
        /// The path as given (`-` for standard input).
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file held nothing but line endings.
    #[error("{}", empty_message(.what, .path))]
    Empty {
        /// What the file holds.
        what: String,
        /// The path as given (`-` for standard input).
        path: String,
    },
}

/// The path in backticks, or `standard input` for `-`.
fn place(path: &str) -> String {
    if path == "-" {
        "standard input".to_string()
    } else {
        format!("`{path}`")
    }
}

/// What [`SecretFileError::Empty`] says: the place and the fix.
fn empty_message(what: &str, path: &str) -> String {
    if path == "-" {
        format!("no {what} on standard input; pipe it in, e.g. `< {what}.txt`, or give a file instead of `-`")
    } else {
        format!("the {what} file `{path}` is empty; write the {what} in it (one line)")
    }
}

/// Reads a secret (`what`: `token`, `password`) from the file `path`, or
/// from standard input when `path` is `-`. Trailing line endings are
/// removed, nothing else (a password may end in a space). Fails when the
/// file cannot be read or holds nothing. The secret never appears in the error.
pub fn read_secret_file(path: &str, what: &str) -> Result<String, SecretFileError> {
    let read = if path == "-" {
        let mut text = String::new();
        std::io::stdin().lock().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    let text =
        read.map_err(|source| SecretFileError::Read { what: what.to_string(), path: path.to_string(), source })?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(SecretFileError::Empty { what: what.to_string(), path: path.to_string() });
    }
    Ok(secret.to_string())
}

/// Whether a token sent to `url` crosses the network unencrypted: plain
/// `http://` to a host that is not loopback (`localhost`, 127.0.0.0/8,
/// `::1`). A URL that does not parse is not judged here (the client
/// rejects it with its own message).
pub fn is_plain_http_to_remote(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url.trim()) else {
        return false;
    };
    if parsed.scheme() != "http" {
        return false;
    }
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => !ip.is_loopback(),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
    }
}

/// Said at most once per run.
static WARNED: AtomicBool = AtomicBool::new(false);

/// Warns once on stderr when the token is about to go to `url` over plain
/// http to a host that is not loopback ([`is_plain_http_to_remote`]).
pub fn warn_plain_http(url: &str) {
    if is_plain_http_to_remote(url) && !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "⚠️  The API token is sent to {} over plain http: anyone on the network path can read it. \
             Use an https:// URL for a hub that is not on this machine.",
            url.trim()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_to_remote_hosts_only() {
        let cases = [
            ("http://hub.example.org", true),
            ("http://hub.example.org:8000/prefix/", true),
            ("HTTP://Hub.Example.org", true),
            ("http://10.0.0.5:30890", true),
            ("http://192.168.1.2", true),
            ("http://[2001:db8::1]:8000", true),
            ("http://128.0.0.1", true),
            ("https://hub.example.org", false),
            ("https://10.0.0.5", false),
            ("http://localhost:30890", false),
            ("http://LOCALHOST", false),
            ("http://localhost.:8000", false),
            ("http://hub.localhost", false),
            ("http://127.0.0.1:8000", false),
            ("http://127.1.2.3", false),
            ("http://[::1]:8000", false),
            ("not a url", false),
            ("", false),
        ];
        for (url, want) in cases {
            assert_eq!(is_plain_http_to_remote(url), want, "{url}");
        }
    }

    #[test]
    fn secret_file_trims_line_endings_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        for (text, want) in [("abc\n", "abc"), ("abc\r\n", "abc"), ("abc", "abc"), (" a b \n\n", " a b ")] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(read_secret_file(path.to_str().unwrap(), "password").unwrap(), want);
        }
    }

    #[test]
    fn empty_or_missing_secret_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.txt");
        std::fs::write(&path, "\n").unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(
            read_secret_file(p, "token").unwrap_err().to_string(),
            format!("the token file `{p}` is empty; write the token in it (one line)")
        );
        let missing = dir.path().join("none");
        let m = missing.to_str().unwrap();
        let e = read_secret_file(m, "password").unwrap_err().to_string();
        assert!(e.starts_with(&format!("cannot read the password from `{m}`: ")), "{e}");
        assert!(e.ends_with("; check the path and its permissions"), "{e}");
    }
}
