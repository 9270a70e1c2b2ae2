//! A fault-injecting HTTP proxy in front of the test hub, on loopback: the
//! flaky link between an admin and a hub.
//!
//! Each rule picks requests by method and path prefix and injects one kind
//! of fault: the request dropped before the hub (a 502 that never reached
//! it), the answer lost after the hub did the work (forwarded, then 502, or
//! 503 as configurable-http-proxy answers any upstream failure), the hub
//! busy (429 or 503 with `Retry-After`, not forwarded), or a gateway that
//! drops the `Accept` header (so the hub answers a listing with a plain
//! list cut at one page). Whether
//! a request is hit is decided from a hash of the seed, the request (method,
//! path, query, body) and how often that same request was hit already, so a
//! run is the same whatever order concurrent requests arrive in, and a rule
//! hits the same request at most `times` times.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::background::Background;

/// What happens to a request a rule hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Answer 502 without forwarding: the hub never sees it.
    DropBefore,
    /// Forward, let the hub do it, then answer 502 instead of its answer.
    LoseAfter,
    /// Forward, let the hub do it, then answer this status (503, as
    /// configurable-http-proxy does for any failure of the proxied request)
    /// instead of the hub's answer.
    FailAfter(u16),
    /// Forward without the `Accept` header, as some gateways do, and pass
    /// the hub's answer on.
    DropAccept,
    /// Answer this status (429 or 503) with `Retry-After: 1`, not forwarded.
    Busy(u16),
}

/// Which requests get a fault, how often, and how many times at most.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `Some("POST")` for one method, `None` for any.
    pub method: Option<&'static str>,
    /// The path must start with this.
    pub path: &'static str,
    /// What to do.
    pub fault: Fault,
    /// The chance (0 to 1) that a request is hit.
    pub chance: f64,
    /// The most times one and the same request is hit.
    pub times: u32,
}

impl Rule {
    /// A rule for `method` (or any, with `None`) on paths under `path`.
    pub fn new(method: Option<&'static str>, path: &'static str, fault: Fault, chance: f64) -> Rule {
        Rule { method, path, fault, chance, times: 1 }
    }

    /// Every request for `method` on paths under `path` loses its `Accept`
    /// header, every time.
    pub fn drop_accept(method: Option<&'static str>, path: &'static str) -> Rule {
        Rule { method, path, fault: Fault::DropAccept, chance: 1.0, times: u32::MAX }
    }
}

struct State {
    upstream: String,
    seed: u64,
    rules: Vec<Rule>,
    /// How many faults each request (by key) got so far.
    hits: Mutex<HashMap<u64, u32>>,
    /// Every fault injected: `(fault, "METHOD path")`.
    injected: Mutex<Vec<(Fault, String)>>,
    client: reqwest::Client,
}

/// A running proxy; dropping it stops it.
pub struct FaultProxy {
    url: String,
    state: Arc<State>,
    _server: Background,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (e.g. the test hub's URL).
    pub fn start(upstream: &str, seed: u64, rules: Vec<Rule>) -> FaultProxy {
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            seed,
            rules,
            hits: Mutex::new(HashMap::new()),
            injected: Mutex::new(Vec::new()),
            client: {
                jhctl::hub::install_crypto();
                reqwest::Client::builder().build().expect("an HTTP client")
            },
        });
        let thread_state = state.clone();
        let server = Background::start("fault-proxy", move |listener| serve(listener, thread_state));
        let url = format!("http://{}", server.addr());
        FaultProxy { url, state, _server: server }
    }

    /// The proxy's URL, for `JUPYTERHUB_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many faults of `fault` were injected so far.
    pub fn count(&self, fault: Fault) -> usize {
        self.state.injected.lock().unwrap().iter().filter(|(f, _)| *f == fault).count()
    }

    /// Every fault injected, one line each, for failure messages.
    pub fn report(&self) -> String {
        let injected = self.state.injected.lock().unwrap();
        injected.iter().map(|(f, what)| format!("{f:?} {what}")).collect::<Vec<_>>().join("\n")
    }
}

async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(state.clone(), req));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let method = parts.method.as_str().to_string();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let fault = state.decide(&method, parts.uri.path(), &path_and_query, &body);
    if let Some(fault) = fault {
        state.injected.lock().unwrap().push((fault, format!("{method} {path_and_query}")));
    }
    match fault {
        Some(Fault::DropBefore) => return Ok(reply(502, "the proxy dropped this request", None)),
        Some(Fault::Busy(status)) => return Ok(reply(status, "busy, try again", Some("1"))),
        _ => {}
    }
    let mut forward =
        state.client.request(parts.method.clone(), format!("{}{}", state.upstream, path_and_query)).body(body.to_vec());
    for (name, value) in parts.headers.iter() {
        let dropped = fault == Some(Fault::DropAccept) && name == hyper::header::ACCEPT;
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH && !dropped {
            forward = forward.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = match forward.send().await {
        Ok(answer) => answer,
        Err(e) => return Ok(reply(502, &format!("the proxy could not reach the hub: {e}"), None)),
    };
    let status = answer.status().as_u16();
    let content_type = answer.headers().get(reqwest::header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    match fault {
        Some(Fault::LoseAfter) => return Ok(reply(502, "the proxy lost the hub's answer", None)),
        // configurable-http-proxy with z2jh's `--error-target` shows the
        // hub's HTML error page for a failed upstream request.
        Some(Fault::FailAfter(status)) => {
            let page = format!("<!DOCTYPE HTML>\n<html><body><h1>{status} Service Unavailable</h1></body></html>\n");
            let response = Response::builder().status(status).header("content-type", "text/html");
            return Ok(response.body(Full::new(Bytes::from(page))).expect("a valid response"));
        }
        _ => {}
    }
    let mut response = Response::builder().status(status);
    if let Some(content_type) = content_type {
        response = response.header(hyper::header::CONTENT_TYPE, content_type.as_bytes());
    }
    Ok(response.body(Full::new(bytes)).expect("a valid response"))
}

fn reply(status: u16, message: &str, retry_after: Option<&str>) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(status).header("content-type", "application/json");
    if let Some(seconds) = retry_after {
        response = response.header("retry-after", seconds);
    }
    let body = serde_json::json!({ "status": status, "message": message }).to_string();
    response.body(Full::new(Bytes::from(body))).expect("a valid response")
}

impl State {
    /// The fault for this request, if a rule hits it.
    fn decide(&self, method: &str, path: &str, path_and_query: &str, body: &[u8]) -> Option<Fault> {
        let key = {
            let mut h = DefaultHasher::new();
            (method, path_and_query, body).hash(&mut h);
            h.finish()
        };
        let mut hits = self.hits.lock().unwrap();
        let count = hits.entry(key).or_insert(0);
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.method.is_some_and(|m| m != method) || !path.starts_with(rule.path) || *count >= rule.times {
                continue;
            }
            let mut h = DefaultHasher::new();
            (self.seed, key, *count, i).hash(&mut h);
            let roll = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
            if roll < rule.chance {
                *count += 1;
                return Some(rule.fault);
            }
        }
        None
    }
}
