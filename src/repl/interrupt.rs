//! Ctrl-C while an input runs: stop it and go back to the prompt, not out
//! of jhctl.
//!
//! At the prompt the line editor reads Ctrl-C as a key. While an input
//! runs, the terminal turns it into SIGINT: a listener on the shared tokio
//! runtime records it in a flag. The engine's progress callback stops the
//! script at its next step, and [`crate::script::runtime::block_on`] drops
//! a hub call in flight and ends the input as an error. The flag is cleared before each input.
//!
//! The line editor keeps a SIGINT handler of its own that only feeds its
//! own pipe; the listener is installed after it, so the signal reaches both
//! (the editor's copy is harmless: at worst a later window resize at the
//! prompt clears the line being typed, once).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::script::runtime;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The value a script stopped by Ctrl-C terminates with (`exit(n)` uses an int).
pub const STOPPED: &str = "interrupted";

/// Whether Ctrl-C was pressed since the last [`clear`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Forgets an earlier Ctrl-C (before each input).
pub fn clear() {
    REQUESTED.store(false, Ordering::Relaxed);
}

/// From now on SIGINT sets the flag instead of ending jhctl, and hub calls
/// in flight stop when it is set.
pub fn catch_ctrl_c() {
    runtime::enter(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
                tokio::spawn(async move {
                    while sigint.recv().await.is_some() {
                        REQUESTED.store(true, Ordering::Relaxed);
                    }
                });
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                REQUESTED.store(true, Ordering::Relaxed);
            }
        });
    });
    runtime::set_interrupt(requested);
}
