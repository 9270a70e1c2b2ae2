//! The probe: a student's click while a job runs. It sends `GET
//! /hub/api/user` every 100 ms straight to the hub (no added latency: the
//! student sits near the hub, so only the hub's own queue shows) and keeps
//! each answer's time. The hub is one Python thread: every request a job
//! keeps waiting there delays the probe.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// How often the probe clicks.
pub const EVERY: Duration = Duration::from_millis(100);

/// A running probe.
pub struct Probe {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Vec<Duration>>,
}

/// Starts a probe of `base` on `runtime`; its first request goes out at
/// once, on a connection already open.
pub fn start(runtime: &Handle, base: &str, token: &str) -> Probe {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .tcp_nodelay(true)
        .build()
        .expect("build the probe's client");
    let url = format!("{}/hub/api/user", base.trim_end_matches('/'));
    let auth = format!("token {token}");
    let click = {
        let (http, url, auth) = (http.clone(), url.clone(), auth.clone());
        move || {
            let request = http.get(&url).header("Authorization", &auth);
            async move {
                let started = Instant::now();
                let response = request.send().await.expect("the probe's request");
                assert!(response.status().is_success(), "the probe got {}", response.status());
                response.bytes().await.expect("the probe's answer");
                started.elapsed()
            }
        }
    };
    // Open the connection before the job starts.
    runtime.block_on(click());
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let task = runtime.spawn(async move {
        let mut times = Vec::new();
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if stopped.load(Ordering::Relaxed) {
                return times;
            }
            times.push(click().await);
        }
    });
    Probe { stop, task }
}

impl Probe {
    /// Stops the probe and returns the time of every click it made.
    pub fn stop(self, runtime: &Handle) -> Vec<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        runtime.block_on(self.task).expect("the probe's task")
    }
}

/// The `p`-th percentile (0 to 1) by nearest rank.
pub fn percentile(values: &[Duration], p: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort();
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}
