//! The lease primitives, methods of `hub`: one changing run at a time per
//! hub. The lease itself lives in the core ([`crate::hub::LeaseInfo`],
//! `HubClient::take_lease`); the runtime keeps it renewed and releases it
//! when the run ends ([`super::runtime::release_leases`]).

use std::time::Duration;

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Map};

use super::convert::to_dynamic;
use super::error::{throw, thrown};
use super::hub_api::Hub;
use super::runtime::{self, block_on};
use crate::hub::{lease_expiry, Finding, HubError, LeaseInfo, LEASE_TTL};

/// How long a run waits for another run's lease unless told.
const DEFAULT_WAIT: i64 = 60;

/// The name of this machine, for the lease's stamp.
fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown host".into())
}

/// The lease primitives.
#[export_module]
pub mod hub_lease_module {
    use super::*;

    /// Takes the lease on the hub before a run changes it: one changing
    /// run at a time per hub. While another run holds it, waits up to
    /// `options.wait` seconds (60 unless given; says so on stderr), then
    /// throws. An expired lease (its run gone for 5 minutes) is taken over,
    /// with a warning. The lease is renewed while the run lasts and
    /// released when it ends, also after an error or Ctrl-C. Does nothing
    /// in a dry run or when this run holds it already. A token that may
    /// not create groups runs without a lease (with a warning). Returns
    /// `#{run, took_over}` (`run` `()` when no lease was taken).
    ///
    /// Throws when: another run held the lease for the whole wait (exit 1,
    /// the message names it and `manage-users unlock`).
    ///
    /// ```rhai
    /// hub.take_lease("enrol_class.rhai", #{ wait: 120 });
    /// hub.create_users(["ann", "bob"], #{});
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn take_lease(hub: &mut Hub, command: &str, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let mut out = Map::new();
        out.insert("run".into(), Dynamic::UNIT);
        out.insert("took_over".into(), Dynamic::UNIT);
        let client = hub.client()?;
        if client.dry_run() || runtime::holds_lease(client.url()) {
            return Ok(out);
        }
        let wait = options.get("wait").and_then(|w| w.as_int().ok()).unwrap_or(DEFAULT_WAIT).max(0) as u64;
        let info = LeaseInfo {
            run: crate::secret_text::token_hex(8),
            host: host(),
            pid: std::process::id(),
            command: command.to_string(),
            expires: lease_expiry(chrono::Utc::now(), LEASE_TTL),
        };
        let waiting = |finding: &Finding| {
            let who = match finding {
                Finding::Held(holder) => holder.describe(),
                _ => "a run taking the lease".into(),
            };
            eprintln!("⏳ Another jhctl run is changing this hub: {who}; waiting up to {wait}s for it to finish");
        };
        let taken = match block_on(client.take_lease(&info, Duration::from_secs(wait), waiting))? {
            Ok(taken) => taken,
            Err(HubError::Status { status: 403, .. }) => {
                // A bad token is reported by the run's own first call; a scoped one runs unlocked.
                if block_on(client.whoami())?.is_ok() {
                    eprintln!("⚠️  This token may not create groups, so the run takes no lease (jhctl's guard against a second run at once)");
                }
                return Ok(out);
            }
            // The run's own first call reports an unreachable hub.
            Err(_) => return Ok(out),
        };
        let taken = taken.map_err(|refusal| throw(refusal.to_string(), 1))?;
        if let Some(old) = &taken.took_over {
            eprintln!(
                "⚠️  Took over the lease of a run that ended without releasing it (killed, or its time ran out): {}",
                old.describe()
            );
            out.insert("took_over".into(), to_dynamic(old)?);
        }
        out.insert("run".into(), info.run.clone().into());
        runtime::hold_lease(client, info);
        Ok(out)
    }

    /// Breaks the lease on the hub, whoever holds it (`manage-users
    /// unlock`): for a run that is gone (killed, its machine down). Returns
    /// the holder's stamp `#{run, host, pid, command, expires}` (as found;
    /// `#{}` when unreadable), or `()` when there was no lease.
    ///
    /// Throws when: the hub cannot be reached or refuses the token.
    ///
    /// ```rhai
    /// let old = hub.break_lease();
    /// if old != () { print(`broke the lease of ${old.command}`); }
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn break_lease(hub: &mut Hub) -> Result<Dynamic, Box<EvalAltResult>> {
        let client = hub.client()?;
        let Some(found) = block_on(client.lease())?.map_err(thrown)? else {
            return Ok(Dynamic::UNIT);
        };
        if !client.dry_run() {
            block_on(client.break_lease())?.map_err(thrown)?;
        }
        let found = if found.is_object() { found } else { serde_json::json!({}) };
        to_dynamic(&found)
    }
}
