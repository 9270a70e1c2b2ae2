//! Trusting a hub served over HTTPS: which CA bundle to add to the trusted
//! roots (`--cacert`, then `REQUESTS_CA_BUNDLE`, then `SSL_CERT_FILE`), and
//! plain words for why a connection failed: a certificate jhctl refuses
//! (never worth retrying), nothing listening, or no such host.

use std::fmt;
use std::path::{Path, PathBuf};

use super::HubError;

/// Where the CA bundle's path came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaOrigin {
    /// `--cacert FILE` or `JHCTL_CA_CERT`.
    Flag,
    /// `REQUESTS_CA_BUNDLE`, as the Python scripts used.
    RequestsCaBundle,
    /// `SSL_CERT_FILE`, as OpenSSL uses.
    SslCertFile,
}

impl fmt::Display for CaOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaOrigin::Flag => "--cacert or JHCTL_CA_CERT",
            CaOrigin::RequestsCaBundle => "REQUESTS_CA_BUNDLE",
            CaOrigin::SslCertFile => "SSL_CERT_FILE",
        })
    }
}

/// A PEM file of CA certificates trusted for the hub, on top of the system's roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaBundle {
    /// The file as given.
    pub path: PathBuf,
    /// Which option or variable named it.
    pub origin: CaOrigin,
}

impl CaBundle {
    /// The bundle to use: `flag` (`--cacert` or `JHCTL_CA_CERT`) when given,
    /// else `REQUESTS_CA_BUNDLE`, else `SSL_CERT_FILE`, read through `env`.
    /// Empty values count as unset.
    pub fn choose(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Option<CaBundle> {
        let given = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        if let Some(path) = given(flag.map(str::to_string)) {
            return Some(CaBundle { path: path.into(), origin: CaOrigin::Flag });
        }
        [("REQUESTS_CA_BUNDLE", CaOrigin::RequestsCaBundle), ("SSL_CERT_FILE", CaOrigin::SslCertFile)]
            .into_iter()
            .find_map(|(var, origin)| given(env(var)).map(|path| CaBundle { path: path.into(), origin }))
    }

    /// [`CaBundle::choose`] with the process's environment.
    pub fn from_env(flag: Option<&str>) -> Option<CaBundle> {
        CaBundle::choose(flag, |var| std::env::var(var).ok())
    }

    /// Every certificate of the bundle. Fails when the file cannot be read
    /// or holds no PEM certificate.
    pub(crate) fn load(&self) -> Result<Vec<reqwest::Certificate>, HubError> {
        let bad =
            |reason: String| HubError::CaBundle { path: self.path.display().to_string(), origin: self.origin, reason };
        let bytes = std::fs::read(&self.path).map_err(|e| bad(read_problem(&self.path, &e)))?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| bad(format!("it is not valid PEM ({e})")))?;
        if certs.is_empty() {
            return Err(bad("it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".into()));
        }
        Ok(certs)
    }
}

fn read_problem(path: &Path, err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        _ if path.is_dir() => "it is a directory, not a file".into(),
        _ => format!("it cannot be read ({err})"),
    }
}

/// Why a TLS handshake failed, and what to do about it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TlsRefusal {
    /// What is wrong, e.g. "its certificate is signed by an issuer jhctl does not trust".
    pub problem: String,
    /// What to do, e.g. "give that CA with --cacert FILE".
    pub fix: String,
}

impl TlsRefusal {
    /// The TLS failure behind `err`, if it is one (found in its chain of causes).
    pub fn of(err: &(dyn std::error::Error + 'static)) -> Option<TlsRefusal> {
        causes(err).find_map(|e| e.downcast_ref::<rustls::Error>()).map(TlsRefusal::from_rustls)
    }

    fn from_rustls(err: &rustls::Error) -> TlsRefusal {
        use rustls::CertificateError as C;
        let refusal = |problem: String, fix: &str| TlsRefusal { problem, fix: fix.to_string() };
        const TRUST: &str =
            "give the CA certificate that signed it with --cacert FILE (or JHCTL_CA_CERT or REQUESTS_CA_BUNDLE)";
        const RENEW: &str = "have the hub's certificate renewed, or check this machine's clock";
        let rustls::Error::InvalidCertificate(cert) = err else {
            return refusal(
                format!("the TLS handshake failed ({err})"),
                "check that --url names the hub's HTTPS port (use http:// for a plain-http hub)",
            );
        };
        match cert {
            C::UnknownIssuer => {
                refusal("its certificate is signed by an issuer jhctl does not trust (unknown issuer)".into(), TRUST)
            }
            C::NotValidForName => refusal(
                "its certificate is not valid for the host name in the URL".into(),
                "use the hub's real name, one its certificate names, in --url or JUPYTERHUB_URL",
            ),
            C::NotValidForNameContext { expected, presented } => refusal(
                format!(
                    "its certificate is not valid for the host name `{}` (it names {})",
                    expected.to_str(),
                    if presented.is_empty() { "no host".to_string() } else { names(presented) }
                ),
                "use the hub's real name, one its certificate names, in --url or JUPYTERHUB_URL",
            ),
            C::Expired | C::ExpiredContext { .. } => refusal("its certificate has expired".into(), RENEW),
            C::NotValidYet | C::NotValidYetContext { .. } => refusal("its certificate is not valid yet".into(), RENEW),
            C::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => refusal(
                "it presents a CA certificate as its own server certificate".into(),
                "configure the hub (or its proxy) with a server certificate signed by that CA; \
                 give the CA itself to jhctl with --cacert FILE",
            ),
            other => refusal(
                format!("its certificate is refused ({other:?})"),
                "check the hub's certificate, and give its CA with --cacert FILE",
            ),
        }
    }
}

/// The names a certificate presents, as rustls debug-prints them
/// (`DnsName("hub.example")`, `IpAddress(10.0.0.5)`), made plain.
fn names(presented: &[String]) -> String {
    let plain = |name: &String| {
        let inner = name.split_once('(').and_then(|(_, rest)| rest.strip_suffix(')'));
        inner.map(|n| n.trim_matches('"').to_string()).unwrap_or_else(|| name.clone())
    };
    presented.iter().map(|n| format!("`{}`", plain(n))).collect::<Vec<_>>().join(", ")
}

/// A connection that failed before TLS: nobody answered at all.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unreachable {
    /// Connection refused: nothing listens at the hub's address and port.
    Refused,
    /// The host name does not resolve.
    NoSuchHost,
}

impl Unreachable {
    /// Whether `err` is a refused connection or a failed DNS lookup.
    pub fn of(err: &(dyn std::error::Error + 'static)) -> Option<Unreachable> {
        causes(err).find_map(|e| {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return Some(Unreachable::Refused);
                }
            }
            e.to_string().starts_with("dns error").then_some(Unreachable::NoSuchHost)
        })
    }

    /// The reason for [`HubError::Connect`], naming `url` or its host, and
    /// the proxy variable in force (see [`proxy_variable`]), if any.
    pub fn describe(&self, url: &str, proxy: Option<&str>) -> String {
        let what = match self {
            Unreachable::Refused => format!("nothing listens at {url}"),
            Unreachable::NoSuchHost => {
                let host = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string));
                format!("no such host `{}`", host.as_deref().unwrap_or(url))
            }
        };
        let why = match self {
            Unreachable::Refused => "connection refused",
            Unreachable::NoSuchHost => "the name does not resolve",
        };
        match proxy {
            Some(var) => format!("{what}, or at the proxy {var} names ({why}); check {var} and NO_PROXY"),
            None => format!("{what} ({why})"),
        }
    }
}

/// The environment variable naming the proxy the HTTP client sends `scheme`
/// requests through (it honours them, and `NO_PROXY`, as curl does), if any is set.
pub(crate) fn proxy_variable(scheme: &str, env: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    let names: &[&'static str] = match scheme {
        "https" => &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"],
        _ => &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"],
    };
    names.iter().copied().find(|name| env(name).is_some_and(|v| !v.trim().is_empty()))
}

/// `err` and its causes, looking inside `io::Error`s too (whose `source`
/// skips the error they wrap).
fn causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    let mut next = Some(err);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
        Some(current)
    })
}

/// Makes ring the process's rustls crypto provider (as the kube client
/// uses), once; later calls do nothing. reqwest needs one before it builds
/// a client.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_flag_wins_then_requests_then_ssl_cert_file() {
        let both = [("REQUESTS_CA_BUNDLE", "req.pem"), ("SSL_CERT_FILE", "ssl.pem")];
        let flag = CaBundle { path: "ca.pem".into(), origin: CaOrigin::Flag };
        assert_eq!(CaBundle::choose(Some("ca.pem"), env(&both)), Some(flag));
        let req = CaBundle { path: "req.pem".into(), origin: CaOrigin::RequestsCaBundle };
        assert_eq!(CaBundle::choose(None, env(&both)), Some(req.clone()));
        assert_eq!(CaBundle::choose(Some(" "), env(&both)), Some(req));
        let ssl = CaBundle { path: "ssl.pem".into(), origin: CaOrigin::SslCertFile };
        assert_eq!(CaBundle::choose(None, env(&[("REQUESTS_CA_BUNDLE", ""), ("SSL_CERT_FILE", "ssl.pem")])), Some(ssl));
        assert_eq!(CaBundle::choose(None, env(&[])), None);
    }

    #[test]
    fn bad_bundles_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a certificate\n").unwrap();
        let cases = [
            (dir.path().join("missing.pem"), "no such file"),
            (dir.path().to_path_buf(), "it is a directory"),
            (text, "it holds no PEM certificate"),
        ];
        for (path, problem) in cases {
            let bundle = CaBundle { path: path.clone(), origin: CaOrigin::RequestsCaBundle };
            let message = bundle.load().unwrap_err().to_string();
            assert!(message.contains(&format!("`{}`", path.display())), "{message}");
            assert!(message.contains("REQUESTS_CA_BUNDLE"), "{message}");
            assert!(message.contains(problem), "{message}");
        }
    }

    #[test]
    fn certificate_errors_say_what_to_do() {
        use rustls::CertificateError as C;
        let refusal = |e: C| TlsRefusal::from_rustls(&rustls::Error::InvalidCertificate(e));
        let unknown = refusal(C::UnknownIssuer);
        assert!(unknown.problem.contains("unknown issuer") && unknown.fix.contains("--cacert"));
        let name = refusal(C::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap().to_owned(),
            presented: vec!["DnsName(\"hub.example\")".into()],
        });
        assert_eq!(name.problem, "its certificate is not valid for the host name `127.0.0.1` (it names `hub.example`)");
        assert!(name.fix.contains("--url"));
        assert!(refusal(C::Expired).problem.contains("expired"));
        let garbled = TlsRefusal::from_rustls(&rustls::Error::General("x".into()));
        assert!(garbled.fix.contains("http://"));
    }

    #[test]
    fn refused_connections_are_found_inside_io_errors() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let wrapped = std::io::Error::other(io);
        assert_eq!(Unreachable::of(&wrapped), Some(Unreachable::Refused));
        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(TlsRefusal::of(&tls).is_some());
        let unresolved = Unreachable::NoSuchHost.describe("https://hub.invalid:8000", None);
        assert_eq!(unresolved, "no such host `hub.invalid` (the name does not resolve)");
        let refused = Unreachable::Refused.describe("https://hub.example", Some("HTTPS_PROXY"));
        assert_eq!(
            refused,
            "nothing listens at https://hub.example, or at the proxy HTTPS_PROXY names (connection refused); \
             check HTTPS_PROXY and NO_PROXY"
        );
    }

    #[test]
    fn the_proxy_variable_follows_the_scheme() {
        assert_eq!(proxy_variable("https", env(&[("HTTPS_PROXY", "http://p:3128")])), Some("HTTPS_PROXY"));
        assert_eq!(proxy_variable("https", env(&[("HTTP_PROXY", "http://p:3128")])), None);
        assert_eq!(proxy_variable("http", env(&[("all_proxy", "http://p:3128")])), Some("all_proxy"));
        assert_eq!(proxy_variable("http", env(&[("HTTP_PROXY", "")])), None);
    }
}
