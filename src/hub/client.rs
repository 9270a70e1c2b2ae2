//! `HubClient`: the connection to one hub, with an adaptive concurrency
//! limit (`limiter.rs`), retries, and percent-encoded paths. The calls
//! themselves live in `users.rs`, `servers.rs` and `groups.rs`.

use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{header, Method, StatusCode};
use serde_json::Value;

use super::limiter::{self, Limiter};
use super::retry::Backoff;
use super::tls::{proxy_variable, TlsRefusal, Unreachable};
use super::{CaBundle, HubError, Token};

/// Everything percent-encoded in a path segment but the URL-safe unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The default cap on requests in flight: enough to cover a 200 ms round
/// trip to a hub that serves a request in 4 ms. The adaptive limit stays
/// below it wherever fewer suffice.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// How to reach a hub.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Base URL, e.g. `http://localhost:30890` (a trailing `/` is fine).
    pub url: String,
    /// The API token.
    pub token: Token,
    /// The most requests in flight at once (at least 1). Under it, the
    /// limit adapts to the hub (see `limiter.rs`); 1 sends one at a time.
    pub concurrency: usize,
    /// When true, calls that change the hub send nothing and answer `planned`.
    pub dry_run: bool,
    /// How many times a request is tried before giving up.
    pub max_attempts: u32,
    /// Log each request (method, path, status, time; never the token) on stderr.
    pub verbose: bool,
    /// Show a progress bar on stderr for long batches (only on a terminal).
    pub progress: bool,
    /// A PEM bundle of CA certificates trusted for the hub on top of the
    /// system's roots (`--cacert`, `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`).
    pub ca_bundle: Option<CaBundle>,
    /// Skip checking the hub's TLS certificate (`--insecure`); warned about on stderr.
    pub insecure: bool,
}

impl HubConfig {
    /// A config with the default cap on concurrency ([`DEFAULT_CONCURRENCY`])
    /// and retries (5 attempts).
    pub fn new(url: impl Into<String>, token: Token) -> Self {
        HubConfig {
            url: url.into(),
            token,
            concurrency: DEFAULT_CONCURRENCY,
            dry_run: false,
            max_attempts: 5,
            verbose: false,
            progress: false,
            ca_bundle: None,
            insecure: false,
        }
    }
}

/// A client for one hub. Cheap to clone; clones share the concurrency limit.
#[derive(Clone, Debug)]
pub struct HubClient {
    inner: Arc<Inner>,
    dry_run: bool,
    /// Whether deletes leave a user's records on the guide's hub (password
    /// row, quota) for the caller to remove another way (`--via exec`).
    keep_records: bool,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: String,
    token: Token,
    limit: Limiter,
    max_attempts: u32,
    verbose: bool,
    progress: bool,
    /// The environment variable naming the proxy requests go through, if set.
    proxy: Option<&'static str>,
    /// Set once `/hub/admin/api` answered as the admin API does (JSON), so
    /// it is asked once per run.
    pub(crate) admin_api_seen: std::sync::OnceLock<()>,
}

/// The most bytes of an answer jhctl reads; a longer body is an error.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Whether a request may be sent again when the hub may already have done it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Sending it twice leaves the hub as sending it once: a read, a delete,
    /// a value set to a value. Retried on any transient failure.
    Safe,
    /// It moves a counter or makes something new (quota add or deduct, a
    /// token): sent again only when the hub cannot have seen it (a
    /// connection jhctl could not open, a 429). Any other failure, a 503
    /// too, ends in [`HubError::Unknown`], and the caller reads back.
    Once,
}

/// The hub's answer to one request: status and JSON body (`Null` when empty).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// Whether an earlier attempt may have reached the hub and been done
    /// (its answer was lost): a 404 on such a delete means it is done.
    pub ambiguous: bool,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The hub's error message (`message` of the REST API, `error` of the admin API).
    pub fn message(&self) -> String {
        let text = ["message", "error"].iter().find_map(|k| self.body.get(k).and_then(Value::as_str));
        match text {
            Some(text) => text.to_string(),
            None if self.body.is_null() => self.status.canonical_reason().unwrap_or("error").to_string(),
            None => self.body.to_string(),
        }
    }

    /// `STATUS - MESSAGE`, the form the user guide prints for a failed item.
    pub fn describe(&self) -> String {
        format!("{} - {}", self.status.as_u16(), self.message())
    }
}

impl HubClient {
    /// A client for `config`; no request is sent yet.
    pub fn new(config: HubConfig) -> Result<Self, HubError> {
        let base = config.url.trim_end_matches('/').to_string();
        let parsed =
            reqwest::Url::parse(&base).map_err(|e| HubError::Url { url: config.url.clone(), reason: e.to_string() })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(HubError::Url { url: config.url, reason: "the scheme must be http or https".into() });
        }
        let https = parsed.scheme() == "https";
        let proxy = proxy_variable(parsed.scheme(), |name| std::env::var(name).ok());
        if let (Some(var), true) = (proxy, config.verbose) {
            eprintln!("sending requests through the proxy {var} names, unless NO_PROXY names the hub's host");
        }
        let mut builder = reqwest::Client::builder();
        if https && config.insecure {
            eprintln!(
                "⚠️  --insecure: the hub's TLS certificate is not checked, so anyone on the network path \
                 can pose as the hub and read the API token. Use --cacert FILE to trust the hub's CA instead."
            );
            builder = builder.danger_accept_invalid_certs(true);
        } else if https {
            match &config.ca_bundle {
                Some(bundle) => {
                    let certs = bundle.load()?;
                    if config.verbose {
                        eprintln!(
                            "trusting {} CA certificate(s) from `{}` ({}) on top of the system's",
                            certs.len(),
                            bundle.path.display(),
                            bundle.origin
                        );
                    }
                    for cert in certs {
                        builder = builder.add_root_certificate(cert);
                    }
                }
                None if config.verbose => {
                    eprintln!(
                        "trusting the system's CA certificates (no --cacert, REQUESTS_CA_BUNDLE or SSL_CERT_FILE)"
                    )
                }
                None => {}
            }
        }
        if !https && proxy.is_none() {
            // Plain http, straight to the hub: no certificate is ever
            // checked, so skip loading the system's CA store (a few
            // milliseconds at every start).
            builder = builder.tls_certs_only(std::iter::empty());
        }
        crate::hub::tls::install_crypto();
        let http = builder
            .user_agent(concat!("jhctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(config.concurrency.max(1))
            // The hub answers a refused token on some admin pages with a
            // redirect to its login page: report that, never follow it.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HubError::Url { url: base.clone(), reason: e.to_string() })?;
        Ok(HubClient {
            inner: Arc::new(Inner {
                http,
                base,
                token: config.token,
                limit: Limiter::new(config.concurrency, config.verbose),
                max_attempts: config.max_attempts.max(1),
                verbose: config.verbose,
                progress: config.progress && !config.verbose,
                proxy,
                admin_api_seen: std::sync::OnceLock::new(),
            }),
            dry_run: config.dry_run,
            keep_records: false,
        })
    }

    /// The hub's base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.inner.base
    }

    /// Whether calls that change the hub only answer `planned`.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// The same client (sharing connections and the concurrency limit) with
    /// dry run switched on or off.
    pub fn with_dry_run(&self, dry_run: bool) -> HubClient {
        HubClient { inner: self.inner.clone(), dry_run, keep_records: self.keep_records }
    }

    /// The same client whose deletes only delete: the records a user
    /// leaves on the guide's hub (password row, quota) are not cleared
    /// through the admin API first, because the caller removes them from
    /// the hub's store itself (`--via exec`).
    pub fn keeping_records(&self) -> HubClient {
        HubClient { keep_records: true, ..self.clone() }
    }

    /// Whether deletes leave the user's records to the caller ([`HubClient::keeping_records`]).
    pub(crate) fn keeps_records(&self) -> bool {
        self.keep_records
    }

    /// Whether long batches show a progress bar.
    pub(crate) fn progress(&self) -> bool {
        self.inner.progress
    }

    /// Remembers (for this client and its clones) that the hub has the admin API.
    pub(crate) fn admin_api_seen(&self) -> bool {
        self.inner.admin_api_seen.get().is_some()
    }

    /// Records that `/hub/admin/api` answered as the admin API does.
    pub(crate) fn saw_admin_api(&self) {
        let _ = self.inner.admin_api_seen.set(());
    }

    /// Percent-encodes one path segment (a username or group name).
    pub fn segment(name: &str) -> String {
        utf8_percent_encode(name, SEGMENT).to_string()
    }

    /// Sends one request that is safe to repeat, waiting for a free slot,
    /// retrying connection errors, timeouts, 429, 502, 503 and 504 with
    /// backoff (honouring Retry-After).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply, HubError> {
        self.call_with(method, path, query, body, None).await
    }

    /// Sends one request that is not safe to repeat: retried only when the
    /// hub cannot have seen it. When it may have been done but no answer
    /// came, the error is [`HubError::Unknown`].
    pub(crate) async fn call_once(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Reply, HubError> {
        self.send(method, path, &[], body, None, Repeat::Once).await
    }

    /// [`HubClient::call`] with an `Accept` header.
    pub(crate) async fn call_with(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        accept: Option<&str>,
    ) -> Result<Reply, HubError> {
        self.send(method, path, query, body, accept, Repeat::Safe).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        accept: Option<&str>,
        repeat: Repeat,
    ) -> Result<Reply, HubError> {
        let _flight = super::interrupt::Flight::start();
        let url = format!("{}{}", self.inner.base, path);
        let mut backoff = Backoff::new();
        let mut attempt = 0;
        // Whether an earlier attempt may have been done by the hub.
        let mut ambiguous = false;
        loop {
            attempt += 1;
            // A slot per attempt: waiting out a backoff holds none.
            let mut slot = self.inner.limit.acquire().await;
            if attempt == 1 {
                // Ctrl-C: nothing new is sent once a slot frees up (see interrupt.rs).
                super::interrupt::held_back(&method, path)?;
            }
            let mut request = self
                .inner
                .http
                .request(method.clone(), &url)
                .header(header::AUTHORIZATION, format!("token {}", self.inner.token.expose()))
                .query(query);
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT, accept);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let last = attempt >= self.inner.max_attempts;
            let started = std::time::Instant::now();
            let sent = request.send().await;
            match &sent {
                Ok(r) if overload(r.status()) => slot.overloaded(),
                Ok(_) => slot.answered(limiter::kind(method.as_str(), path), started.elapsed()),
                Err(e) if e.is_timeout() => slot.overloaded(),
                Err(_) => {}
            }
            if self.inner.verbose {
                let outcome = match &sent {
                    Ok(r) => r.status().as_u16().to_string(),
                    Err(_) => "no answer".to_string(),
                };
                eprintln!("→ {method} {path} {outcome} ({} ms, attempt {attempt})", started.elapsed().as_millis());
            }
            // A certificate jhctl refuses: sending again cannot help.
            if let Some(refusal) = sent.as_ref().err().and_then(|e| TlsRefusal::of(e)) {
                let error = HubError::Tls { url: self.inner.base.clone(), problem: refusal.problem, fix: refusal.fix };
                return Err(if ambiguous { self.no_answer(true, error.to_string()) } else { error });
            }
            let failure = match sent {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match transient(status) {
                        // Refused before the hub did anything: always safe to send again.
                        Some(Seen::No) if !last => {
                            drop(slot);
                            tokio::time::sleep(backoff.next(retry_after)).await;
                            continue;
                        }
                        Some(Seen::Maybe) => Failure::Answer(status, retry_after),
                        _ => match read_body(response).await {
                            Ok(body) => {
                                let reply = Reply { status, body, ambiguous };
                                if matches!(status.as_u16(), 401 | 403) && !path.starts_with("/hub/admin/api") {
                                    return Err(HubError::Unauthorized {
                                        status: status.as_u16(),
                                        message: reply.message(),
                                    });
                                }
                                return Ok(reply);
                            }
                            Err(BodyError::TooLarge) => {
                                return Err(HubError::Decode {
                                    what: format!("{method} {path}"),
                                    reason: format!("the answer is larger than {} MiB", MAX_BODY >> 20),
                                })
                            }
                            Err(BodyError::Lost(e)) => Failure::Lost(self.reason(&e)),
                        },
                    }
                }
                // The connection was never made: the hub saw nothing.
                Err(err) if err.is_connect() => {
                    // Nothing listens, or no such host: one short retry, then say so.
                    let unreachable = Unreachable::of(&err);
                    if last || (unreachable.is_some() && attempt >= 2) {
                        let reason = match unreachable {
                            Some(why) => why.describe(&self.inner.base, self.inner.proxy),
                            None => self.reason(&err),
                        };
                        return Err(self.no_answer(ambiguous, reason));
                    }
                    drop(slot);
                    tokio::time::sleep(backoff.next(None)).await;
                    continue;
                }
                Err(err) if err.is_timeout() || err.is_request() || err.is_body() => Failure::Lost(self.reason(&err)),
                Err(err) => return Err(self.no_answer(ambiguous, self.reason(&err))),
            };
            // The request may have reached the hub and been done.
            ambiguous = true;
            let (reason, retry_after) = match failure {
                Failure::Answer(status, retry_after) => {
                    (format!("the hub (or a proxy) answered {status}"), retry_after)
                }
                Failure::Lost(reason) => (reason, None),
            };
            if repeat == Repeat::Once || last {
                return Err(self.no_answer(true, reason));
            }
            drop(slot);
            tokio::time::sleep(backoff.next(retry_after)).await;
        }
    }

    /// The error for a request that got no usable answer.
    fn no_answer(&self, maybe_done: bool, reason: String) -> HubError {
        if maybe_done {
            HubError::Unknown { url: self.inner.base.clone(), reason }
        } else {
            HubError::Connect { url: self.inner.base.clone(), reason }
        }
    }

    /// What the HTTP client said, with every cause, never the token.
    fn reason(&self, err: &reqwest::Error) -> String {
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            reason = format!("{reason}: {cause}");
            source = cause.source();
        }
        reason.replace(self.inner.token.expose(), "<redacted>")
    }

    /// Runs a call that is not per item and turns a non-2xx answer into an error.
    pub(crate) async fn expect(
        &self,
        what: impl Into<String>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, HubError> {
        let reply = self.call(method, path, &[], body).await?;
        if reply.ok() {
            Ok(reply.body)
        } else {
            Err(HubError::Status { what: what.into(), status: reply.status.as_u16(), message: reply.message() })
        }
    }

    /// The hub's version, from `GET /hub/api/` (the connection check).
    pub async fn version(&self) -> Result<String, HubError> {
        let body = self.expect("connection check", Method::GET, "/hub/api/", None).await?;
        Ok(body.get("version").and_then(Value::as_str).unwrap_or("unknown").to_string())
    }

    /// `GET /hub/api/info`: hub, authenticator and spawner details (admin only).
    pub async fn info(&self) -> Result<Value, HubError> {
        self.expect("hub info", Method::GET, "/hub/api/info", None).await
    }

    /// `GET /hub/api/user`: the user or service that owns the token.
    pub async fn whoami(&self) -> Result<Value, HubError> {
        self.expect("who am I", Method::GET, "/hub/api/user", None).await
    }
}

/// Whether the hub can have done a request that got this transient answer.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// 429: refused before any work.
    No,
    /// 502, 503 and 504: a proxy lost the hub's answer or gave up waiting.
    /// configurable-http-proxy, in front of every zero-to-jupyterhub hub,
    /// answers 503 for any failure of the proxied request, also after the
    /// hub did the work: a 503 is no proof that nothing was done.
    Maybe,
}

/// Why an attempt got no usable answer.
enum Failure {
    /// A 502, 503 or 504, maybe with Retry-After.
    Answer(StatusCode, Option<Duration>),
    /// No answer, or one cut short (timeout, reset).
    Lost(String),
}

/// Whether an answer says the hub (or its proxy) is overloaded: a signal
/// for the concurrency limit.
fn overload(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 503 | 504)
}

fn transient(status: StatusCode) -> Option<Seen> {
    match status.as_u16() {
        429 => Some(Seen::No),
        502..=504 => Some(Seen::Maybe),
        _ => None,
    }
}

enum BodyError {
    TooLarge,
    Lost(reqwest::Error),
}

/// The answer's body as JSON (`Null` when empty, a string when not JSON),
/// read up to [`MAX_BODY`] bytes.
async fn read_body(mut response: reqwest::Response) -> Result<Value, BodyError> {
    if response.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Lost)? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(HubClient::segment("a b/c?d#e"), "a%20b%2Fc%3Fd%23e");
        assert_eq!(HubClient::segment("jörg@x.de"), "j%C3%B6rg%40x.de");
        assert_eq!(HubClient::segment("student-01_x.y~"), "student-01_x.y~");
    }

    // Issue #26: a 503 is what configurable-http-proxy answers when the
    // proxied request failed, also after the hub did the work; only a 429
    // says the hub refused it before doing anything.
    #[test]
    fn only_a_429_proves_the_hub_did_nothing() {
        let seen = |code: u16| transient(StatusCode::from_u16(code).unwrap());
        assert_eq!(seen(429), Some(Seen::No));
        for code in [502, 503, 504] {
            assert_eq!(seen(code), Some(Seen::Maybe), "{code}");
        }
        for code in [200, 400, 404, 500] {
            assert_eq!(seen(code), None, "{code}");
        }
    }

    #[test]
    fn bad_urls_are_refused() {
        let token = Token::new("secret-token");
        assert!(HubClient::new(HubConfig::new("localhost:30890", token.clone())).is_err());
        assert!(HubClient::new(HubConfig::new("not a url", token.clone())).is_err());
        assert!(HubClient::new(HubConfig::new("http://localhost:30890/", token)).is_ok());
    }
}
