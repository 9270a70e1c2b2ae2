//! A loopback HTTP proxy in front of a [`TestHub`] that rewrites one page of
//! the user listing, to show what jhctl does with a listing that comes back
//! short or changes between pages. Everything else passes through as is.
//!
//! ```ignore
//! let hub = TestHub::builder().page_max(50).start();
//! let proxy = PageProxy::start(&hub, PageRewrite::DropItems { offset: 50, count: 10 });
//! // run jhctl with JUPYTERHUB_URL=proxy.url() ...
//! ```

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    thread,
    time::Duration,
};

use reqwest::{blocking::Client, redirect::Policy, Method};
use serde_json::Value;

use super::hub::TestHub;

/// What the proxy does to the page of `GET /hub/api/users` at `offset`.
#[derive(Debug, Clone, Copy)]
pub enum PageRewrite {
    /// Drops the last `count` users of the page (the hub's `total` stays).
    DropItems { offset: usize, count: usize },
    /// Replaces the page's `_pagination.total`, as if users were created
    /// between the first page and this one.
    Total { offset: usize, total: usize },
}

/// A running proxy; it lives as long as the test process.
pub struct PageProxy {
    url: String,
}

impl PageProxy {
    /// Starts the proxy on a free loopback port, forwarding to `hub`.
    pub fn start(hub: &TestHub, rewrite: PageRewrite) -> PageProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind the page proxy");
        let url = format!("http://{}", listener.local_addr().expect("the proxy has an address"));
        let upstream = hub.url().to_string();
        jhctl::hub::install_crypto();
        let client = Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("cannot build the proxy's HTTP client");
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (client, upstream) = (client.clone(), upstream.clone());
                thread::spawn(move || {
                    let _ = serve(stream, &client, &upstream, rewrite);
                });
            }
        });
        PageProxy { url }
    }

    /// The URL to give jhctl as the hub's.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Answers one request on `stream` (then closes it).
fn serve(stream: TcpStream, client: &Client, upstream: &str, rewrite: PageRewrite) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            }
            if ["authorization", "accept", "content-type"].iter().any(|h| name.eq_ignore_ascii_case(h)) {
                headers.push((name, value));
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;

    let mut request =
        client.request(Method::from_bytes(method.as_bytes()).expect("a method"), format!("{upstream}{target}"));
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.body(body).send().expect("the test hub answers");
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut answer = response.bytes().expect("the test hub's answer").to_vec();
    if method == "GET" && (target == "/hub/api/users" || target.starts_with("/hub/api/users?")) {
        answer = rewritten(&target, answer, rewrite);
    }

    let mut out = stream;
    write!(out, "HTTP/1.1 {} {}\r\n", status.as_u16(), status.canonical_reason().unwrap_or(""))?;
    if let Some(content_type) = content_type {
        write!(out, "Content-Type: {content_type}\r\n")?;
    }
    write!(out, "Content-Length: {}\r\nConnection: close\r\n\r\n", answer.len())?;
    out.write_all(&answer)?;
    out.flush()
}

/// The page with `rewrite` applied when it is the page `rewrite` names.
fn rewritten(target: &str, answer: Vec<u8>, rewrite: PageRewrite) -> Vec<u8> {
    let offset: usize = target
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("offset="))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let Ok(mut page) = serde_json::from_slice::<Value>(&answer) else {
        return answer;
    };
    match rewrite {
        PageRewrite::DropItems { offset: at, count } if at == offset => {
            if let Some(items) = page["items"].as_array_mut() {
                items.truncate(items.len().saturating_sub(count));
            }
        }
        PageRewrite::Total { offset: at, total } if at == offset => {
            page["_pagination"]["total"] = Value::from(total);
        }
        _ => return answer,
    }
    serde_json::to_vec(&page).expect("JSON")
}
