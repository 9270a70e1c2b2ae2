//! Ctrl-C during a batch: stop sending new requests, let the ones in
//! flight finish, and report what was done and what was not started.
//!
//! The process's Ctrl-C handler (outside the REPL) calls [`request_stop`]
//! while requests are in flight ([`in_flight`]); from then on a request
//! that changes the hub is not sent ([`HubError::NotStarted`]) and a batch
//! reports its item `not_started`. Reads still go, so the run can finish
//! its report. A second Ctrl-C ends the process at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::HubError;

static STOP: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Asks every batch to send no new changing request.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether [`request_stop`] was called in this process.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// How many requests are being sent (retries included) right now.
pub fn in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}

/// Counts one request in flight (waiting for a slot, or sent) while it lives.
pub(crate) struct Flight(());

impl Flight {
    /// Starts counting a request.
    pub(crate) fn start() -> Flight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        Flight(())
    }
}

/// Whether a request with `method` to `path`, about to be sent for the
/// first time, is kept back: a stop was asked for and it would change the
/// hub. Releasing jhctl's lease always goes.
pub(crate) fn held_back(method: &reqwest::Method, path: &str) -> Result<(), HubError> {
    let lease = path.starts_with(&format!("/hub/api/groups/{}", super::LEASE_GROUP));
    if stop_requested() && method != reqwest::Method::GET && !lease {
        return Err(HubError::NotStarted);
    }
    Ok(())
}

impl Drop for Flight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}
