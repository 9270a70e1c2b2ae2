//! The one tokio runtime the Rhai engine enters, and the [`Context`] of an
//! engine: the settings of this invocation (global flags) that primitives
//! read.
//!
//! Rhai runs synchronously on the main thread; every primitive that does
//! network work calls [`block_on`], which is the only place the engine
//! enters async code. The REPL makes those calls interruptible with
//! [`set_interrupt`].

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use rhai::{EvalAltResult, NativeCallContext, Position};

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

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
static INTERRUPT: OnceLock<fn() -> bool> = OnceLock::new();

/// What the primitives of one engine read: the settings of the
/// invocation, and what a script switched on itself (`--json` of its own,
/// `hub.set_dry_run`). One value, made by the caller of
/// [`crate::script::build_engine`] and carried by the engine (its default
/// tag, and the `hub` object), so two engines in one process can differ.
#[derive(Debug, Default)]
pub struct Context {
    settings: Settings,
    json: Cell<bool>,
    dry_run: Cell<bool>,
    /// Whether `print` wrote to stdout in this run.
    printed: Cell<bool>,
    /// The last line `eprint` wrote: what went wrong when a script stops with `exit(n)`.
    last_eprint: RefCell<Option<String>>,
    /// The journal of this run, opened by the first call that changes the hub.
    journal: RefCell<Option<crate::journal::Journal>>,
}

impl Context {
    /// A context for `settings`, to share between an engine and its `hub`.
    pub fn new(settings: Settings) -> Rc<Context> {
        Rc::new(Context { settings, ..Context::default() })
    }

    /// The settings of this invocation.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether output is one JSON document on stdout: the global `--json`,
    /// or a script's own `--json` ([`Context::set_json`]).
    pub fn json(&self) -> bool {
        self.settings.json || self.json.get()
    }

    /// Switches JSON output on or off for the rest of the run (the global
    /// `--json` stays on when given).
    pub fn set_json(&self, on: bool) {
        self.json.set(on);
    }

    /// Whether this run is a dry run: the global `--dry-run`, or a script's
    /// `hub.set_dry_run(true)`. The one source of truth for every primitive
    /// that changes something (hub calls, `cluster::create_secret`,
    /// `cluster::rollout_restart`, passwords through the hub pod).
    pub fn dry_run(&self) -> bool {
        self.settings.dry_run || self.dry_run.get()
    }

    /// Switches dry run on or off for the rest of the run, for the hub and
    /// the cluster alike (the global `--dry-run` stays on when given).
    pub fn set_dry_run(&self, on: bool) {
        self.dry_run.set(on);
    }

    /// Notes that `print` wrote to stdout.
    pub fn note_printed(&self) {
        self.printed.set(true);
    }

    /// Whether `print` wrote to stdout in this run.
    pub fn printed(&self) -> bool {
        self.printed.get()
    }

    /// Notes the last line `eprint` wrote.
    pub fn note_eprint(&self, text: &str) {
        *self.last_eprint.borrow_mut() = Some(text.to_string());
    }

    /// The last line `eprint` wrote, if any.
    pub fn last_eprint(&self) -> Option<String> {
        self.last_eprint.borrow().clone()
    }

    /// The run's journal, opened on first use by `open` (see
    /// `script::journaling`); `f` gets it.
    pub fn with_journal<T>(
        &self,
        open: impl FnOnce() -> std::io::Result<crate::journal::Journal>,
        f: impl FnOnce(&mut crate::journal::Journal) -> T,
    ) -> std::io::Result<T> {
        let mut slot = self.journal.borrow_mut();
        if slot.is_none() {
            *slot = Some(open()?);
        }
        Ok(f(slot.as_mut().expect("set above")))
    }

    /// Writes the journal's `end` line, when this run opened one.
    pub fn finish_journal(&self, exit: i32) {
        if let Some(journal) = self.journal.borrow_mut().as_mut() {
            if let Err(e) = journal.finish(exit) {
                eprintln!("⚠️  could not finish the run's journal `{}`: {e}", journal.path().display());
            }
        }
    }

    /// The context an engine carries (its default tag), for primitives
    /// that are not methods of `hub`.
    pub fn of(call: &NativeCallContext) -> Rc<Context> {
        call.tag().and_then(|tag| tag.clone().try_cast::<Rc<Context>>()).unwrap_or_default()
    }
}

/// Lets `interrupted` cut short the call in flight: once it returns true,
/// [`block_on`] drops its future and ends the script. Only the
/// REPL sets it (the first call wins); without it a call always finishes.
pub fn set_interrupt(interrupted: fn() -> bool) {
    let _ = INTERRUPT.set(interrupted);
}

fn runtime() -> &'static tokio::runtime::Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the tokio runtime could not start; this is a bug, please report it")
    })
}

/// Runs `future` to completion on the shared runtime, not interruptible:
/// for work outside a script (the REPL's own set-up).
pub fn enter<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// Runs `future` to completion on the shared runtime. When the REPL's
/// Ctrl-C cuts it short, the future is dropped and the script ends with
/// `ErrorTerminated("interrupted")`, which the REPL reports and goes on.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, Box<EvalAltResult>> {
    let runtime = runtime();
    let Some(interrupted) = INTERRUPT.get().copied() else {
        return Ok(runtime.block_on(future));
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
    finished.ok_or_else(|| Box::new(EvalAltResult::ErrorTerminated("interrupted".into(), Position::NONE)))
}

/// A lease this process holds on a hub, renewed in the background.
struct HeldLease {
    client: crate::hub::HubClient,
    info: crate::hub::LeaseInfo,
    renew: tokio::task::JoinHandle<()>,
}

/// The leases held, released by [`release_leases`] when the run ends.
static LEASES: std::sync::Mutex<Vec<HeldLease>> = std::sync::Mutex::new(Vec::new());

/// Whether this process holds a lease on the hub at `url`.
pub fn holds_lease(url: &str) -> bool {
    LEASES.lock().map(|l| l.iter().any(|h| h.client.url() == url)).unwrap_or(false)
}

/// Keeps the lease `info` taken through `client`: renewed every third of
/// its time while the run lasts, released by [`release_leases`]. Outside
/// the REPL, Ctrl-C then releases it before the process exits with 130.
pub fn hold_lease(client: crate::hub::HubClient, info: crate::hub::LeaseInfo) {
    let renewing = (client.clone(), info.clone());
    let renew = runtime().spawn(async move {
        let (client, mut info) = renewing;
        loop {
            tokio::time::sleep(crate::hub::LEASE_TTL / 3).await;
            info.expires = crate::hub::lease_expiry(chrono::Utc::now(), crate::hub::LEASE_TTL);
            let _ = client.stamp_lease(&info).await;
        }
    });
    if let Ok(mut leases) = LEASES.lock() {
        leases.push(HeldLease { client, info, renew });
    }
}

/// Handles Ctrl-C for a script run (the REPL has its own, see
/// [`set_interrupt`]): while requests are in flight, the first Ctrl-C
/// stops new changing requests ([`crate::hub::request_stop`]) so the
/// batch ends with what was done and what was not started, and the
/// script prints its lines and results; the run then exits with 130
/// ([`interrupted_status`]). With nothing in flight (a question waiting,
/// or a second Ctrl-C), the leases are released and the process exits
/// with 130 at once.
pub fn catch_interrupts() {
    if INTERRUPT.get().is_some() {
        return;
    }
    runtime().spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            let flying = crate::hub::in_flight();
            if flying == 0 || crate::hub::stop_requested() {
                release_all().await;
                std::process::exit(130);
            }
            crate::hub::request_stop();
            eprintln!(
                "\n⏹️  Interrupted: no new changes are sent; waiting for the requests in flight, \
                 then the results (Ctrl-C again to quit at once)"
            );
        }
    });
}

/// 130 when Ctrl-C stopped the run (see [`catch_interrupts`]), else `status`.
pub fn interrupted_status(status: i32) -> i32 {
    if crate::hub::stop_requested() {
        130
    } else {
        status
    }
}

/// Releases every lease this process holds (at the end of a run, also
/// after an error); a lease that cannot be deleted expires by itself.
pub fn release_leases() {
    if LEASES.lock().map(|l| l.is_empty()).unwrap_or(true) {
        return;
    }
    enter(release_all());
}

async fn release_all() {
    let held: Vec<HeldLease> = LEASES.lock().map(|mut l| l.drain(..).collect()).unwrap_or_default();
    for lease in held {
        lease.renew.abort();
        if let Err(e) = lease.client.release_lease(&lease.info.run).await {
            eprintln!(
                "⚠️  The lease on the hub could not be released ({e}); it expires by itself at {}",
                lease.info.expires
            );
        }
    }
}
