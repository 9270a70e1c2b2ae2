//! One changing run at a time per hub, as Terraform locks its state: a
//! run that changes the hub first takes a lease, the group
//! [`LEASE_GROUP`], created atomically (`POST /hub/api/groups/{name}`
//! answers 409 when it exists) and stamped with the run's id, host, pid,
//! command and expiry in its `properties` (JupyterHub 3 and later). A run
//! that finds it held waits a bounded time, then refuses; an expired
//! lease is taken over (and said so); the lease is renewed while the run
//! lasts and deleted at its end. `jhctl manage-users unlock` breaks a
//! stale one. Read-only runs and dry runs take none. The group is never
//! shown or synced as a real group.
//!
//! Creating the group and stamping it are two requests: a group without
//! a stamp is a lease being taken, held like any other until the wait
//! runs out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{HubClient, HubError};

/// The name of the group that is the lease.
pub const LEASE_GROUP: &str = "jhctl-lease";

/// How long a lease lasts unless renewed (it is renewed every third of it).
pub const LEASE_TTL: Duration = Duration::from_secs(300);

/// How often a waiting run looks again.
const POLL: Duration = Duration::from_secs(1);

/// Who holds the lease: the `properties` of the lease group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The run's random id.
    pub run: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// Its command line, e.g. `manage-users create class.csv`.
    pub command: String,
    /// When it ends unless renewed (RFC 3339).
    pub expires: String,
}

impl LeaseInfo {
    /// `run ID (COMMAND, pid PID on HOST, expires EXPIRES)`: the holder as messages name it.
    pub fn describe(&self) -> String {
        format!("run {} (`{}`, pid {} on {}, expires {})", self.run, self.command, self.pid, self.host, self.expires)
    }
}

/// What a run does on finding the lease group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// Another run holds it: wait, then refuse.
    Held(LeaseInfo),
    /// It has no readable stamp (being taken just now, or left broken): wait, then refuse.
    Unstamped,
    /// Its holder's time ran out: take it over.
    Expired(LeaseInfo),
}

/// Judges the lease group's `properties` at `now`.
pub fn judge(properties: &Value, now: DateTime<Utc>) -> Finding {
    let Ok(info) = serde_json::from_value::<LeaseInfo>(properties.clone()) else {
        return Finding::Unstamped;
    };
    match DateTime::parse_from_rfc3339(&info.expires) {
        Ok(expires) if expires <= now => Finding::Expired(info),
        Ok(_) => Finding::Held(info),
        Err(_) => Finding::Unstamped,
    }
}

/// Whether the process `pid` of this machine has ended (gone, or a zombie
/// nobody reaped). `false` where that cannot be told (no `/proc`), so a
/// lease is then only ever taken over when it expires.
fn process_ended(pid: u32) -> bool {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // `PID (COMMAND) STATE ...`: the state follows the last `)`.
        Ok(stat) => {
            matches!(stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()), Some('Z' | 'X'))
        }
    }
}

/// How a lease was taken: the expired lease taken over, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    /// The run whose expired lease this run took over.
    pub took_over: Option<LeaseInfo>,
}

/// Why no lease was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Another run held it for the whole wait.
    Held(LeaseInfo),
    /// The group had no readable stamp for the whole wait.
    Unstamped,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Held(info) => write!(
                f,
                "another jhctl run is changing this hub: {}; nothing was changed. Try again when it is done; \
                 if that run is gone (killed, its machine down), break its lease: jhctl manage-users unlock",
                info.describe()
            ),
            Refusal::Unstamped => write!(
                f,
                "the hub's group `{LEASE_GROUP}` (jhctl's lease) exists without a readable stamp; nothing was \
                 changed. If no other jhctl run is changing this hub, break it: jhctl manage-users unlock"
            ),
        }
    }
}

impl HubClient {
    /// The lease group's properties, `None` when there is no lease.
    pub async fn lease(&self) -> Result<Option<Value>, HubError> {
        let path = format!("/hub/api/groups/{LEASE_GROUP}");
        let reply = self.call(Method::GET, &path, &[], None).await?;
        match reply.status.as_u16() {
            404 => Ok(None),
            200 => Ok(Some(reply.body.get("properties").cloned().unwrap_or(Value::Null))),
            _ => Err(HubError::Status {
                what: "read the lease".into(),
                status: reply.status.as_u16(),
                message: reply.message(),
            }),
        }
    }

    /// Takes the lease for `info`, waiting up to `wait` while another run
    /// holds it (`waiting` is called once, when the wait starts).
    pub async fn take_lease(
        &self,
        info: &LeaseInfo,
        wait: Duration,
        waiting: impl Fn(&Finding),
    ) -> Result<Result<Taken, Refusal>, HubError> {
        let path = format!("/hub/api/groups/{LEASE_GROUP}");
        let started = std::time::Instant::now();
        let mut took_over = None;
        let mut told = false;
        loop {
            let reply = self.call_once(Method::POST, &path, Some(&serde_json::json!({}))).await;
            let created = match reply {
                Ok(reply) if reply.status.as_u16() == 201 => true,
                Ok(reply) if reply.status.as_u16() == 409 => false,
                Ok(reply) => {
                    return Err(HubError::Status {
                        what: "take the lease".into(),
                        status: reply.status.as_u16(),
                        message: reply.message(),
                    })
                }
                // The answer was lost: a group found without a stamp right
                // after is taken as the one this run created.
                Err(HubError::Unknown { .. }) => {
                    matches!(self.lease().await?, Some(p) if judge(&p, Utc::now()) == Finding::Unstamped)
                }
                Err(e) => return Err(e),
            };
            if created {
                self.stamp_lease(info).await?;
            }
            let found = self.lease().await?;
            let finding = match &found {
                None => continue,
                Some(p) if p.get("run").and_then(Value::as_str) == Some(info.run.as_str()) => {
                    return Ok(Ok(Taken { took_over }));
                }
                Some(p) => match judge(p, Utc::now()) {
                    // A run of this machine that was killed (kill -9, a
                    // crash) never released its lease: it is as expired.
                    Finding::Held(old) if old.host == info.host && process_ended(old.pid) => Finding::Expired(old),
                    finding => finding,
                },
            };
            match finding {
                Finding::Expired(old) => {
                    // Only the lease that was judged is broken: re-read, then delete.
                    if self.lease().await?.as_ref() == found.as_ref() {
                        self.break_lease().await?;
                    }
                    took_over = Some(old);
                    continue;
                }
                Finding::Held(ref holder) if started.elapsed() >= wait => {
                    return Ok(Err(Refusal::Held(holder.clone())))
                }
                Finding::Unstamped if started.elapsed() >= wait => return Ok(Err(Refusal::Unstamped)),
                other => {
                    if !told {
                        waiting(&other);
                        told = true;
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Writes `info` into the lease group's properties (also to renew it).
    pub async fn stamp_lease(&self, info: &LeaseInfo) -> Result<(), HubError> {
        let path = format!("/hub/api/groups/{LEASE_GROUP}/properties");
        let body = serde_json::to_value(info)
            .map_err(|e| HubError::Decode { what: "the lease".into(), reason: e.to_string() })?;
        let reply = self.call(Method::PUT, &path, &[], Some(&body)).await?;
        match reply.status.as_u16() {
            200 => Ok(()),
            _ => Err(HubError::Status {
                what: "stamp the lease".into(),
                status: reply.status.as_u16(),
                message: reply.message(),
            }),
        }
    }

    /// Deletes the lease whoever holds it; `true` when there was one.
    pub async fn break_lease(&self) -> Result<bool, HubError> {
        let path = format!("/hub/api/groups/{LEASE_GROUP}");
        let reply = self.call(Method::DELETE, &path, &[], None).await?;
        match reply.status.as_u16() {
            200 | 204 => Ok(true),
            404 => Ok(false),
            _ => Err(HubError::Status {
                what: "break the lease".into(),
                status: reply.status.as_u16(),
                message: reply.message(),
            }),
        }
    }

    /// Deletes the lease when `run` still holds it.
    pub async fn release_lease(&self, run: &str) -> Result<(), HubError> {
        let found = self.lease().await?;
        if found.as_ref().and_then(|p| p.get("run")).and_then(Value::as_str) == Some(run) {
            self.break_lease().await?;
        }
        Ok(())
    }
}

/// `now + ttl` as RFC 3339: a lease's expiry.
pub fn expiry(now: DateTime<Utc>, ttl: Duration) -> String {
    (now + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::seconds(300))).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_lease_is_judged_by_its_stamp() {
        let now = at("2026-12-07T12:00:00Z");
        let stamp = |expires: &str| json!({ "run": "r1", "host": "h", "pid": 7, "command": "c", "expires": expires });
        let info = |expires: &str| serde_json::from_value::<LeaseInfo>(stamp(expires)).unwrap();
        // (properties, finding)
        let cases = [
            (stamp("2026-12-07T12:05:00Z"), Finding::Held(info("2026-12-07T12:05:00Z"))),
            (stamp("2026-12-07T11:59:59Z"), Finding::Expired(info("2026-12-07T11:59:59Z"))),
            (stamp("2026-12-07T12:00:00Z"), Finding::Expired(info("2026-12-07T12:00:00Z"))),
            (stamp("soon"), Finding::Unstamped),
            (json!({}), Finding::Unstamped),
            (Value::Null, Finding::Unstamped),
            (json!({ "run": "r1" }), Finding::Unstamped),
        ];
        for (properties, finding) in cases {
            assert_eq!(judge(&properties, now), finding, "{properties}");
        }
    }

    #[test]
    fn refusals_name_the_holder_and_the_way_out() {
        let info = LeaseInfo {
            run: "r1".into(),
            host: "lab".into(),
            pid: 42,
            command: "manage-users create c.csv".into(),
            expires: "2026-12-07T12:05:00Z".into(),
        };
        let text = Refusal::Held(info).to_string();
        assert!(text.contains("run r1 (`manage-users create c.csv`, pid 42 on lab"), "{text}");
        assert!(text.contains("jhctl manage-users unlock"), "{text}");
        assert!(Refusal::Unstamped.to_string().contains("jhctl manage-users unlock"));
    }

    // Issue #28: a run killed with SIGKILL leaves its lease; the same
    // command run again on that machine must not wait for it to expire.
    #[test]
    fn a_process_of_this_machine_that_ended_is_told_from_a_live_one() {
        assert!(!process_ended(std::process::id()), "this test's own process is alive");
        let mut child = std::process::Command::new("true").spawn().expect("`true` runs");
        let pid = child.id();
        child.wait().expect("`true` ends");
        assert!(process_ended(pid), "a reaped process has ended");
    }

    #[test]
    fn expiry_is_ttl_ahead() {
        assert_eq!(expiry(at("2026-12-07T12:00:00Z"), LEASE_TTL), "2026-12-07T12:05:00+00:00");
    }
}
