//! What was measured, and the numbers the report shows: medians, ratios,
//! and how to print a duration or a size.

use std::collections::BTreeMap;
use std::time::Duration;

/// A job of the hub table, in the order the report lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    Create,
    List,
    Export,
    SetAdmin,
    Delete,
    PasswordsApi,
    PasswordsExec,
}

impl Job {
    /// The name used by `--jobs`.
    pub fn key(self) -> &'static str {
        match self {
            Job::Create => "create",
            Job::List => "list",
            Job::Export => "export",
            Job::SetAdmin => "set-admin",
            Job::Delete => "delete",
            Job::PasswordsApi => "set-passwords-api",
            Job::PasswordsExec => "set-passwords-exec",
        }
    }

    /// The jhctl command the report names.
    pub fn command(self) -> &'static str {
        match self {
            Job::Create => "`manage-users create FILE`",
            Job::List => "`manage-users list`",
            Job::Export => "`manage-users export FILE`",
            Job::SetAdmin => "`manage-users set-admin -f FILE`",
            Job::Delete => "`manage-users delete FILE --yes`",
            Job::PasswordsApi => "`set-passwords FILE --via api`",
            Job::PasswordsExec => "`set-passwords FILE --via exec`",
        }
    }
}

/// Which client did the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The bench's direct client: the hub's limit.
    Limit,
    /// The bundled script through the release binary.
    Jhctl,
    /// One request at a time (`jhctl --concurrency 1`, one user per call).
    Seq,
}

/// One measurement.
#[derive(Clone, Debug)]
pub struct Sample {
    pub wall: Duration,
    /// The hub process's CPU time during the measurement.
    pub hub_cpu: Duration,
    /// jhctl's peak RSS in KiB (jhctl runs only).
    pub rss_kib: Option<u64>,
    /// jhctl's own CPU time (jhctl runs only).
    pub cpu: Option<Duration>,
    /// The probe's answer times during the measurement (module `probe`).
    pub probe: Vec<Duration>,
}

/// Everything measured for one job, user count and latency.
#[derive(Default)]
pub struct Cell {
    pub limit: Vec<Sample>,
    pub jhctl: Vec<Sample>,
    pub seq: Vec<Sample>,
    /// Users the job really handled (set-passwords --via api uses fewer).
    pub users: usize,
    /// A computed limit instead of a measured one (set-passwords --via exec).
    pub computed_limit: Option<Duration>,
    /// One-at-a-time was measured on this many users and scaled up.
    pub seq_sample: Option<usize>,
    /// Execs per jhctl run (set-passwords --via exec).
    pub execs: Vec<usize>,
    /// The probe's answer times during every hub-limit run.
    pub probe_limit: Vec<Duration>,
    /// The probe's answer times during every jhctl run.
    pub probe_jhctl: Vec<Duration>,
}

impl Cell {
    pub fn samples(&self, mode: Mode) -> &[Sample] {
        match mode {
            Mode::Limit => &self.limit,
            Mode::Jhctl => &self.jhctl,
            Mode::Seq => &self.seq,
        }
    }

    pub fn push(&mut self, mode: Mode, sample: Sample) {
        match mode {
            Mode::Limit => self.probe_limit.extend(&sample.probe),
            Mode::Jhctl => self.probe_jhctl.extend(&sample.probe),
            Mode::Seq => {}
        }
        match mode {
            Mode::Limit => self.limit.push(sample),
            Mode::Jhctl => self.jhctl.push(sample),
            Mode::Seq => self.seq.push(sample),
        }
    }

    /// The hub's limit: measured median, or the computed bound.
    pub fn limit(&self) -> Option<Duration> {
        self.computed_limit.or_else(|| median(self.limit.iter().map(|s| s.wall)))
    }

    pub fn jhctl(&self) -> Option<Duration> {
        median(self.jhctl.iter().map(|s| s.wall))
    }

    /// jhctl's time over the limit's, run by run (`limits` holds one
    /// sample a run, as `self.jhctl` does): the median of those ratios.
    /// Each run measures both clients about half a minute apart, so a slow
    /// spell of the machine weighs on the two alike.
    pub fn paired(&self, limits: &[Sample]) -> Option<f64> {
        median_f64(self.jhctl.iter().zip(limits).map(|(j, l)| over(j.wall, l.wall)))
    }

    /// One-at-a-time, scaled to the full user count when it was sampled.
    pub fn seq(&self) -> Option<Duration> {
        let measured = median(self.seq.iter().map(|s| s.wall))?;
        Some(match self.seq_sample {
            Some(sample) => measured.mul_f64(self.users as f64 / sample as f64),
            None => measured,
        })
    }
}

/// (job, users, latency in ms) → what was measured.
pub type Results = BTreeMap<(Job, usize, u64), Cell>;

/// The `--limit-sweep` runs: (job, users, latency in ms, requests in
/// flight) → samples of the hub-limit client.
pub type Sweep = BTreeMap<(Job, usize, u64, usize), Vec<Sample>>;

/// The median (the mean of the middle two for an even count).
pub fn median(values: impl Iterator<Item = Duration>) -> Option<Duration> {
    median_f64(values.map(|d| d.as_secs_f64())).map(Duration::from_secs_f64)
}

/// [`median`] of plain numbers.
pub fn median_f64(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 })
}

/// `850 µs`, `12.3 ms`, `1.23 s`, `123 s`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 0.001 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 0.1 {
        format!("{:.1} ms", s * 1e3)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 100.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.0} s")
    }
}

/// `12.3 MB` (decimal megabytes) from KiB.
pub fn size(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

/// `a / b` (a zero `b` counts as a nanosecond).
pub fn over(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// `a / b` as `1.07×`.
pub fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", over(a, b))
}
