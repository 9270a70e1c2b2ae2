//! Errors of the hub client: a whole call that could not run. Failures of
//! single items in a batch are data ([`crate::hub::ItemResult`]), not errors.

use thiserror::Error;

/// A hub call that could not be carried out at all.
#[derive(Debug, Error)]
pub enum HubError {
    /// Ctrl-C asked the run to stop: this request, which would change the
    /// hub, was not sent (see `interrupt.rs`).
    #[error("not started: the run was interrupted (Ctrl-C)")]
    NotStarted,
    /// The hub could not be reached (refused, DNS, timeout), after retries.
    #[error("cannot connect to the hub at {url}: {reason}; check that the hub is running and that --url or JUPYTERHUB_URL is right")]
    Connect {
        /// The hub's base URL.
        url: String,
        /// What the HTTP client said, without the token.
        reason: String,
    },
    /// The TLS handshake failed: jhctl does not trust the hub's certificate
    /// (unknown issuer, wrong host name, expired, a CA used as a server
    /// certificate). Not retried: sending again cannot help.
    #[error("cannot trust the hub at {url}: {problem}; {fix}")]
    Tls {
        /// The hub's base URL.
        url: String,
        /// What is wrong with the certificate or the handshake.
        problem: String,
        /// What to do about it.
        fix: String,
    },
    /// The CA bundle to trust (`--cacert`, `REQUESTS_CA_BUNDLE`,
    /// `SSL_CERT_FILE`) is missing, unreadable or holds no PEM certificate.
    #[error("CA bundle `{path}` (from {origin}): {reason}; give a PEM file of CA certificates")]
    CaBundle {
        /// The file as given.
        path: String,
        /// Which option or variable named it.
        origin: super::tls::CaOrigin,
        /// Why it cannot be used.
        reason: String,
    },
    /// A request was sent but its answer was lost (a timeout, a reset
    /// connection, a proxy's 502 or 504): the hub may or may not have done it.
    #[error("no answer from the hub at {url} ({reason}); it may or may not have done the change")]
    Unknown {
        /// The hub's base URL.
        url: String,
        /// What went wrong, without the token.
        reason: String,
    },
    /// A change was sent and its answer lost, and jhctl undid what the hub
    /// had done (a new token whose text only the lost answer held): nothing
    /// is left changed, and running again is safe.
    #[error("{what}: {reason}; run it again")]
    Undone {
        /// What was asked, e.g. "create a token for `bot`".
        what: String,
        /// What happened and what was undone.
        reason: String,
    },
    /// The hub has no admin API (`/hub/admin/api` answers with the hub's
    /// HTML pages, as a stock JupyterHub does): passwords and quota cannot
    /// be set through it.
    #[error("the hub at {url} has no admin API for passwords and quota (/hub/admin/api answered {status} with an HTML page); set passwords with `--via exec` (writes the hub's password store in the hub pod) or through the hub's own authenticator; quota needs the hub's admin extension")]
    NoAdminApi {
        /// The hub's base URL.
        url: String,
        /// What `/hub/admin/api` answered.
        status: u16,
    },
    /// The hub answered 401 or 403: the token is wrong or lacks rights.
    #[error("the hub refused the token ({status}): {message}; check --token or JUPYTERHUB_TOKEN, and that the token belongs to an admin")]
    Unauthorized {
        /// HTTP status, 401 or 403.
        status: u16,
        /// The hub's message.
        message: String,
    },
    /// The hub answered with an error status to a call that is not per item.
    #[error("{what}: the hub answered {status}: {message}")]
    Status {
        /// What was asked, e.g. "create group `lab3`".
        what: String,
        /// HTTP status.
        status: u16,
        /// The hub's message.
        message: String,
    },
    /// The hub's answer was not the JSON it documents.
    #[error("{what}: unexpected answer from the hub: {reason}")]
    Decode {
        /// What was asked.
        what: String,
        /// Why it could not be read.
        reason: String,
    },
    /// A listing came back with fewer distinct entries than the `total` the
    /// hub gave for it (pages lost or shifted while they were read). The
    /// partial list is never handed back.
    #[error("list {what}: the hub has {total} but its pages held only {got}; the listing is incomplete, so nothing was used; run it again")]
    ShortListing {
        /// What was listed, e.g. "users".
        what: String,
        /// The hub's `_pagination.total`.
        total: usize,
        /// Distinct entries the pages held.
        got: usize,
    },
    /// A listing changed while its pages were read: the hub's `total`
    /// differed between pages, or the pages held more entries than it.
    #[error("list {what}: the listing changed while it was read ({first} at first, then {now}); nothing was used; run it again when no one is adding or removing {what}")]
    ListingChanged {
        /// What was listed, e.g. "users".
        what: String,
        /// The count the first page gave.
        first: usize,
        /// The count seen later.
        now: usize,
    },
    /// The URL given is not a valid base URL.
    #[error("invalid hub URL `{url}`: {reason}; give it like http://localhost:30890")]
    Url {
        /// The URL as given.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// No token was found anywhere.
    #[error("no API token: {0}")]
    NoToken(String),
    /// A listing was asked to sort by a key the hub does not know (checked
    /// by jhctl before sending: hubs before 5.0 ignore `sort`).
    #[error("list users: cannot sort by `{0}`; use id, name or last_activity (a leading - sorts descending)")]
    BadSort(String),
}
