//! Issue #16: hubs behind TLS with the university's own CA. A private CA
//! and leaf certificates are made in the test; a TLS proxy serves the real
//! test hub with them.

use crate::support::hub::TestHub;
use crate::support::test::Test;
use crate::support::tls_proxy::{TestCa, TlsProxy};

const NAMES: &str = "hub.users().map(|u| u.name)";

/// `jhctl eval CODE` against `url`, with the hub's token and no CA bundle or
/// proxy from the developer's environment (empty counts as unset).
fn eval(hub: &TestHub, url: &str, code: &str) -> Test {
    let mut test = Test::new().env("JUPYTERHUB_URL", url).env("JUPYTERHUB_TOKEN", hub.token());
    for var in ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        test = test.env(var, "");
    }
    test.args(["eval", code])
}

/// A loopback port nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_hub_signed_by_a_private_ca_is_trusted_only_when_asked() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);
    let ca = TestCa::new("Example University CA");
    let proxy = TlsProxy::start(hub.url(), ca.leaf(&["localhost", "127.0.0.1"]));
    let url = proxy.url("localhost");

    // Untrusted: one handshake, no retries, the problem and the fix named.
    let out = eval(&hub, &url, NAMES).run().expect_status(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: cannot trust the hub at {url}: its certificate is signed by an issuer jhctl does not trust \
             (unknown issuer); give the CA certificate that signed it with --cacert FILE (or JHCTL_CA_CERT or \
             REQUESTS_CA_BUNDLE)\n"
        ),
        "{out}"
    );
    assert_eq!(proxy.accepted(), 1, "the refused certificate was retried\n{out}");
    let out = eval(&hub, &url, NAMES).arg("-v").run().expect_status(1);
    assert_eq!(out.stderr.matches("→ GET /hub/api/users").count(), 1, "{out}");
    assert!(out.stderr.contains("trusting the system's CA certificates"), "{out}");

    // --cacert, JHCTL_CA_CERT and REQUESTS_CA_BUNDLE each trust it.
    let works = |test: Test| {
        let out = test.file("ca.pem", ca.pem()).run().expect_status(0);
        assert_eq!(out.stdout, "[\"ann\"]\n", "{out}");
        out
    };
    let out = works(eval(&hub, &url, NAMES).args(["--cacert", "ca.pem", "-v"]));
    assert!(out.stderr.contains("trusting 1 CA certificate(s) from `ca.pem` (--cacert or JHCTL_CA_CERT)"), "{out}");
    works(eval(&hub, &url, NAMES).env("JHCTL_CA_CERT", "ca.pem"));
    let out = works(eval(&hub, &url, NAMES).env("REQUESTS_CA_BUNDLE", "ca.pem").arg("-v"));
    assert!(out.stderr.contains("from `ca.pem` (REQUESTS_CA_BUNDLE)"), "{out}");
    let out = works(eval(&hub, &url, NAMES).env("SSL_CERT_FILE", "ca.pem").arg("-v"));
    assert!(out.stderr.contains("from `ca.pem` (SSL_CERT_FILE)"), "{out}");

    // HTTPS_PROXY is honoured (here a proxy that is down), and NO_PROXY too.
    let proxy_url = format!("http://127.0.0.1:{}", closed_port());
    let via_proxy = || eval(&hub, &url, NAMES).args(["--cacert", "ca.pem"]).env("HTTPS_PROXY", &proxy_url);
    let out = via_proxy().file("ca.pem", ca.pem()).run().expect_status(1);
    assert!(
        out.stderr.contains(&format!(
            "nothing listens at {url}, or at the proxy HTTPS_PROXY names (connection refused); \
             check HTTPS_PROXY and NO_PROXY"
        )),
        "{out}"
    );
    works(via_proxy().env("NO_PROXY", "localhost"));

    // --insecure: works, and says loudly what it gives up.
    let out = eval(&hub, &url, NAMES).arg("--insecure").run().expect_status(0);
    assert_eq!(out.stdout, "[\"ann\"]\n", "{out}");
    assert!(out.stderr.starts_with("⚠️  --insecure: the hub's TLS certificate is not checked"), "{out}");
}

#[test]
fn a_wrong_host_name_or_a_ca_served_as_the_hub_is_named() {
    let hub = TestHub::start();
    let ca = TestCa::new("Example University CA");

    // A certificate for hub.example reached as 127.0.0.1.
    let proxy = TlsProxy::start(hub.url(), ca.leaf(&["hub.example"]));
    let url = proxy.url("127.0.0.1");
    let out = eval(&hub, &url, NAMES).file("ca.pem", ca.pem()).args(["--cacert", "ca.pem"]).run().expect_status(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: cannot trust the hub at {url}: its certificate is not valid for the host name `127.0.0.1` \
             (it names `hub.example`); use the hub's real name, one its certificate names, in --url or \
             JUPYTERHUB_URL\n"
        ),
        "{out}"
    );
    assert_eq!(proxy.accepted(), 1, "{out}");

    // The CA's own certificate served as the hub's.
    let proxy = TlsProxy::start(hub.url(), ca.itself());
    let url = proxy.url("localhost");
    let out = eval(&hub, &url, NAMES).file("ca.pem", ca.pem()).args(["--cacert", "ca.pem"]).run().expect_status(1);
    assert!(out.stderr.contains("it presents a CA certificate as its own server certificate"), "{out}");
    assert_eq!(proxy.accepted(), 1, "{out}");
}

#[test]
fn a_bad_ca_bundle_is_bad_input_naming_the_file() {
    let cases = [
        (vec!["--cacert", "missing.pem"], "CA bundle `missing.pem` (from --cacert or JHCTL_CA_CERT): no such file"),
        (
            vec!["--cacert", "notes.txt"],
            "CA bundle `notes.txt` (from --cacert or JHCTL_CA_CERT): it holds no PEM certificate",
        ),
    ];
    for (args, message) in cases {
        let out = Test::new()
            .env("JUPYTERHUB_URL", "https://127.0.0.1:9")
            .env("JUPYTERHUB_TOKEN", "not-used")
            .file("notes.txt", "not a certificate\n")
            .args(args)
            .args(["eval", NAMES])
            .run()
            .expect_status(2);
        assert!(out.stderr.starts_with(&format!("error: {message}")), "{out}");
        assert!(out.stderr.contains("give a PEM file of CA certificates"), "{out}");
    }
    let out = Test::new()
        .env("JUPYTERHUB_URL", "https://127.0.0.1:9")
        .env("JUPYTERHUB_TOKEN", "not-used")
        .env("REQUESTS_CA_BUNDLE", "gone.pem")
        .args(["eval", NAMES])
        .run()
        .expect_status(2);
    assert!(out.stderr.starts_with("error: CA bundle `gone.pem` (from REQUESTS_CA_BUNDLE): no such file"), "{out}");
}

#[test]
fn nothing_listening_is_retried_once_and_said_plainly() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = Test::new()
        .env("JUPYTERHUB_URL", &url)
        .env("JUPYTERHUB_TOKEN", "not-used")
        .args(["-v", "eval", NAMES])
        .run()
        .expect_status(1);
    assert_eq!(out.stderr.matches("→ GET /hub/api/users").count(), 2, "{out}");
    assert!(out.stderr.contains(&format!("nothing listens at {url} (connection refused)")), "{out}");
}
