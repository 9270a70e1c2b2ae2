//! The one tokio runtime the Rhai engine enters, and the settings of this
//! invocation (global flags) that primitives read.
//!
//! Rhai runs synchronously on the main thread; every primitive that does
//! network work calls [`block_on`], which is the only place the engine
//! enters async code.

use std::future::Future;
use std::sync::OnceLock;

/// Settings from the global command-line options, shared by every primitive.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The hub's base URL, e.g. `http://localhost:30890`.
    pub url: String,
    /// The token given by `--token` or JUPYTERHUB_TOKEN, if any. Never printed.
    pub token: Option<crate::hub::Token>,
    /// Kubernetes namespace of the hub (`-n/--namespace`).
    pub namespace: String,
    /// Kubernetes context (`--context`); `None` for the current one.
    pub context: Option<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Send nothing that changes the hub or the cluster.
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

/// Records the settings of this invocation; the first call wins.
pub fn init(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

/// The settings of this invocation (defaults when [`init`] was never called).
pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(Settings::default)
}

/// Runs `future` to completion on the shared runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the tokio runtime could not start; this is a bug, please report it")
        })
        .block_on(future)
}
