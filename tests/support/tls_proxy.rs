//! A TLS-terminating proxy in front of the test hub, on loopback: a hub
//! served over HTTPS with a certificate from the university's own CA.
//!
//! [`TestCa`] makes a private CA and leaf certificates with `rcgen`;
//! [`TlsProxy`] accepts TLS with one leaf (and its chain) and relays the
//! plain bytes to the hub. It counts the connections it accepted, so a test
//! can check that a refused certificate was not retried.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::background::Background;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// A private certificate authority, made fresh for one test.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
    params: CertificateParams,
}

/// A certificate and its private key, as the proxy serves them.
pub struct Identity {
    /// The certificate, then the CA's (the chain a server sends).
    pub chain: Vec<CertificateDer<'static>>,
    /// The certificate's private key.
    pub key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// A CA named `name` (its common name).
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("a CA key");
        let cert = params.self_signed(&key).expect("a self-signed CA certificate");
        TestCa { cert, key, params }
    }

    /// The CA certificate in PEM, for `--cacert`.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate for `names` (host names or IP addresses), signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Identity {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("leaf parameters");
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("hub"));
        let key = KeyPair::generate().expect("a leaf key");
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("a leaf certificate");
        Identity {
            chain: vec![cert.der().clone(), self.cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// The CA's own certificate and key served as if it were the hub's (a
    /// common mistake when setting up a proxy).
    pub fn itself(&self) -> Identity {
        Identity {
            chain: vec![self.cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der())),
        }
    }
}

/// A running proxy; dropping it stops it.
pub struct TlsProxy {
    port: u16,
    accepted: Arc<AtomicUsize>,
    _server: Background,
}

impl TlsProxy {
    /// Starts a proxy serving `identity` over TLS and relaying to `upstream`
    /// (the test hub's `http://127.0.0.1:PORT` URL).
    pub fn start(upstream: &str, identity: Identity) -> TlsProxy {
        let upstream = upstream.trim_end_matches('/').trim_start_matches("http://").to_string();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)
            .expect("the proxy's certificate and key");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let server = Background::start("tls-proxy", move |listener| serve(listener, acceptor, upstream, counter));
        let port = server.addr().port();
        TlsProxy { port, accepted, _server: server }
    }

    /// The proxy's URL with `host` (e.g. `localhost` or `127.0.0.1`), for `--url`.
    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.port)
    }

    /// How many connections the proxy accepted so far (each a TLS handshake tried).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn serve(listener: tokio::net::TcpListener, acceptor: TlsAcceptor, upstream: String, accepted: Arc<AtomicUsize>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        accepted.fetch_add(1, Ordering::SeqCst);
        let acceptor = acceptor.clone();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            // A client that refuses the certificate ends the handshake: nothing to relay.
            let Ok(mut tls) = acceptor.accept(stream).await else { return };
            let Ok(mut hub) = tokio::net::TcpStream::connect(&upstream).await else { return };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut hub).await;
        });
    }
}
