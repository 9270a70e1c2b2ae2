//! The one tokio runtime the Rhai engine enters, and the settings of this
//! invocation (global flags) that primitives read.
//!
//! Rhai runs synchronously on the main thread; every primitive that does
//! network work calls [`block_on`], which is the only place the engine
//! enters async code. The REPL makes those calls interruptible with
//! [`set_interrupt`].

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Settings from the global command-line options, shared by every primitive.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The hub's base URL, e.g. `http://localhost:30890`.
    pub url: String,
    /// The token given by `--token` or JUPYTERHUB_TOKEN, if any. Never printed.
    pub token: Option<crate::hub::Token>,
    /// `--cacert` or JHCTL_CA_CERT: a PEM bundle of CA certificates for the hub.
    pub cacert: Option<String>,
    /// `--insecure`: do not check the hub's TLS certificate.
    pub insecure: bool,
    /// Kubernetes namespace of the hub (`-n/--namespace`).
    pub namespace: String,
    /// Kubernetes context (`--context`); `None` for the current one.
    pub context: Option<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// `--dry-run` as given on the command line: the starting value of
    /// [`dry_run`], which is the one every primitive reads.
    pub dry_run: bool,
    /// Print one JSON document on stdout.
    pub json: bool,
    /// More detail on stderr.
    pub verbose: bool,
    /// Less output.
    pub quiet: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();
static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
static INTERRUPT: OnceLock<fn() -> bool> = OnceLock::new();
/// JSON output switched on by the script itself (its own `--json` flag).
static JSON: AtomicBool = AtomicBool::new(false);
/// Dry run switched on by the script itself (`hub.set_dry_run(true)`).
static DRY_RUN: AtomicBool = AtomicBool::new(false);

/// What [`block_on`] unwinds with when the REPL's Ctrl-C cuts a call short;
/// the REPL catches it (`std::panic::catch_unwind`) and goes on.
#[derive(Debug)]
pub struct Interrupted;

/// Records the settings of this invocation; the first call wins.
pub fn init(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

/// The settings of this invocation (defaults when [`init`] was never called).
pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(Settings::default)
}

/// Whether output is one JSON document on stdout: the global `--json`,
/// or a script's own `--json` ([`set_json`]).
pub fn json() -> bool {
    settings().json || JSON.load(Ordering::Relaxed)
}

/// Switches JSON output on or off for the rest of the run (the global
/// `--json` stays on when given).
pub fn set_json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

/// Whether this run is a dry run: the global `--dry-run`, or a script's
/// `hub.set_dry_run(true)`. The one source of truth for every primitive
/// that changes something (hub calls, `cluster::create_secret`,
/// `cluster::rollout_restart`, passwords through the hub pod).
pub fn dry_run() -> bool {
    settings().dry_run || DRY_RUN.load(Ordering::Relaxed)
}

/// Switches dry run on or off for the rest of the run, for the hub and
/// the cluster alike (the global `--dry-run` stays on when given).
pub fn set_dry_run(on: bool) {
    DRY_RUN.store(on, Ordering::Relaxed);
}

/// Lets `interrupted` cut short the call in flight: once it returns true,
/// [`block_on`] drops its future and unwinds with [`Interrupted`]. Only the
/// REPL sets it (the first call wins); without it a call always finishes.
pub fn set_interrupt(interrupted: fn() -> bool) {
    let _ = INTERRUPT.set(interrupted);
}

/// Runs `future` to completion on the shared runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the tokio runtime could not start; this is a bug, please report it")
    });
    let Some(interrupted) = INTERRUPT.get().copied() else {
        return runtime.block_on(future);
    };
    let watch = async move {
        while !interrupted() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let finished = runtime.block_on(async {
        tokio::select! {
            biased;
            output = future => Some(output),
            () = watch => None,
        }
    });
    finished.unwrap_or_else(|| std::panic::resume_unwind(Box::new(Interrupted)))
}
