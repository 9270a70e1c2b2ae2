//! jhbench: how close jhctl comes to what the hub can do, and how far ahead
//! of one request at a time (issue #8).
//!
//! ```text
//! cargo bench --bench jhbench -- --users 1000 --latency 0,25,50,100 --runs 3
//! cargo bench --bench jhbench -- --users 10000 --runs 1      # on request: slow
//! ```
//!
//! It starts the real test hub (tests/support/hub.rs: JupyterHub 6.1.1 from
//! target/test-venv) and the fake Kubernetes API server
//! (tests/support/fake_k8s), and for each user count and added latency
//! measures every job three ways:
//!
//! 1. the hub's limit: a direct reqwest + tokio client (module `direct`):
//!    one batch request for creation, 32 requests in flight for the rest
//!    (`--limit-concurrency`; 1,000 at once is slower), every page at once
//!    (with the quota listing, which `list` also asks for);
//! 2. jhctl: the bundled scripts through the release binary
//!    (`CARGO_BIN_EXE_jhctl`, which `cargo bench` builds with the bench
//!    profile);
//! 3. one request at a time: `jhctl --concurrency 1 run seq.rhai`, a script
//!    written here that calls `hub.create_users([name])` etc. once per user.
//!
//! While the hub-limit client and jhctl run, a probe (module `probe`) clicks
//! `GET /hub/api/user` every 100 ms straight to the hub, as a student
//! would, and the report sets its times next to the idle hub's.
//!
//! `--limit-sweep 8,16,24` also times set-admin and delete with the
//! hub-limit client at each of those numbers of requests in flight, in the
//! same runs: what each buys in time, what it costs the hub's CPU per
//! request, and how long a click waits meanwhile.
//!
//! Latency is added by a TCP proxy on loopback (module `proxy`). The hub's
//! sqlite database lives on tmpfs (`--hub-dir`). The report is Markdown on
//! stdout (bench/RESULTS.md holds one); progress goes to stderr. A run for
//! 1,000 users with the defaults takes about 12 minutes on 2 cores.

#[allow(dead_code)]
#[path = "../../tests/support/hub.rs"]
mod hub;

#[path = "../../tests/support/background.rs"]
mod background;
#[path = "../../tests/support/fake_k8s/mod.rs"]
mod fake_k8s;

mod direct;
mod probe;
mod process;
mod proxy;
mod report;
mod stats;

use std::collections::BTreeSet;
use std::fs;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;

use direct::Direct;
use fake_k8s::FakeCluster;
use hub::TestHub;
use stats::{Job, Mode, Results, Sample, Sweep};

/// Benchmark jhctl against the hub's limit and against one request at a time.
#[derive(Debug, Parser)]
#[command(name = "jhbench")]
pub struct Options {
    /// User counts, e.g. 1000 or 1000,10000.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    users: Vec<usize>,
    /// Added latency each way in milliseconds, e.g. 0,25.
    #[arg(long, value_delimiter = ',', default_value = "0,25,50,100")]
    latency: Vec<u64>,
    /// Runs of each hub-limit and jhctl measurement (the report shows medians).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Runs of the slow measurements: the one-at-a-time column and both
    /// set-passwords jobs (bcrypt-bound).
    #[arg(long, default_value_t = 1)]
    slow_runs: usize,
    /// Users for set-passwords --via api: the hub bcrypt-hashes each
    /// password in its one thread (~0.3 s each), whoever sends them.
    #[arg(long, default_value_t = 50)]
    api_password_users: usize,
    /// Users of the one-exec-per-user baseline of set-passwords --via exec
    /// (scaled up to --users in the report).
    #[arg(long, default_value_t = 10)]
    exec_sample: usize,
    /// Requests in flight at once for the hub-limit client. 32 keeps the
    /// hub's one thread busy at 25 ms each way; 1,000 at once is slower (the
    /// hub spends its time on connections).
    #[arg(long, default_value_t = 32)]
    limit_concurrency: usize,
    /// Also time set-admin and delete with the hub-limit client at each of
    /// these numbers of requests in flight, e.g. 8,16,24: what each number
    /// gains in time, costs the hub in CPU, and costs a student's click.
    #[arg(long, value_delimiter = ',')]
    limit_sweep: Vec<usize>,
    /// Give jhctl `--concurrency N` (default: jhctl's own default); the
    /// one-at-a-time column always uses 1.
    #[arg(long)]
    jhctl_concurrency: Option<u16>,
    /// Run jhctl with `-v` and keep what it prints on stderr (every request
    /// and every move of its concurrency limit) in DIR, one file a run.
    /// For looking into a result; `-v` costs a line per request.
    #[arg(long, value_name = "DIR")]
    jhctl_log: Option<PathBuf>,
    /// Rows of the roster read/write measurements.
    #[arg(long, default_value_t = 100_000)]
    roster_rows: usize,
    /// Jobs to run: all, or some of create, list, export, set-admin, delete,
    /// set-passwords-api, set-passwords-exec, startup, rosters.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    jobs: Vec<String>,
    /// Folder for the hub's state (its sqlite database): tmpfs by default,
    /// so the hub is bound by its CPU, not by this machine's fsync.
    #[arg(long, default_value = "/dev/shm")]
    hub_dir: PathBuf,
    /// Seconds the probe clicks on the idle hub, for its idle times.
    #[arg(long, default_value_t = 10)]
    idle_probe_secs: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const ALL_JOBS: [&str; 9] = [
    "create",
    "list",
    "export",
    "set-admin",
    "delete",
    "set-passwords-api",
    "set-passwords-exec",
    "startup",
    "rosters",
];

/// One-at-a-time: one user per call, run with `--concurrency 1`.
const SEQ_SCRIPT: &str = r#"// jhbench: one request at a time, the way the old scripts worked.
// Usage: jhctl --concurrency 1 run seq.rhai JOB ROSTER [PASSWORDS_DB FORCE_CHANGE_DB]
let job = args[0];
let rows = roster::read(args[1]);
let bad = 0;
for r in rows {
    let res = switch job {
        "create" => hub.create_users([r.username]),
        "set-admin" => hub.set_admin([r.username], true),
        "delete" => hub.delete_users([r.username]),
        "set-passwords-api" => hub.set_passwords([#{ username: r.username, password: r.password }]),
        "set-passwords-exec" => hub.set_passwords([#{ username: r.username, password: r.password }],
                                    #{ via: "exec", store: "dbm", passwords_db: args[2], force_change_db: args[3] }),
        _ => throw `unknown job ${job}`,
    };
    if res[0].status == "failed" || res[0].status == "not_found" {
        bad += 1;
        eprint(`${r.username}: ${res[0].status} ${res[0].error}`);
    }
}
print(`${job}: ${rows.len() - bad} done, ${bad} failed`);
if bad > 0 { exit(1); }
"#;

/// Where the clients connect for one added latency.
struct Endpoint {
    latency_ms: u64,
    hub_url: String,
    kubeconfig: PathBuf,
}

/// The files for one user count.
struct UserSet {
    n: usize,
    names: Vec<String>,
    users_csv: PathBuf,
    passwords_csv: PathBuf,
    api_passwords_csv: PathBuf,
    api_rows: Vec<(String, String)>,
    exec_sample_csv: PathBuf,
    exec_sample: usize,
}

/// Start-up and roster measurements: label → samples.
pub struct Extra {
    pub label: String,
    pub rows: Option<usize>,
    pub samples: Vec<process::Measured>,
}

pub struct Bench {
    opts: Options,
    jobs: BTreeSet<String>,
    runtime: tokio::runtime::Runtime,
    work: tempfile::TempDir,
    jhctl: PathBuf,
    hub: TestHub,
    hub_pid: u32,
    k8s: FakeCluster,
    pod_dir: PathBuf,
    endpoints: Vec<Endpoint>,
    results: Results,
    /// The `--limit-sweep` measurements.
    sweep: Sweep,
    startup: Vec<Extra>,
    rosters: Vec<Extra>,
    hash_time: Duration,
    parallel_hash_time: Duration,
    cores: usize,
    started: Instant,
    /// `/proc/loadavg` when the bench started (other work on the machine).
    load_before: String,
    /// The probe's answer times on the idle hub.
    pub idle_probe: Vec<Duration>,
}

fn main() {
    let opts = Options::parse();
    let jobs: BTreeSet<String> = if opts.jobs.iter().any(|j| j == "all") {
        ALL_JOBS.iter().map(|j| j.to_string()).collect()
    } else {
        opts.jobs.iter().map(|j| j.trim().to_string()).collect()
    };
    if let Some(bad) = jobs.iter().find(|j| !ALL_JOBS.contains(&j.as_str())) {
        eprintln!("error: unknown job `{bad}`; use all or some of {}", ALL_JOBS.join(", "));
        std::process::exit(2);
    }
    let mut bench = Bench::start(opts, jobs);
    bench.run();
    report::print(&bench);
}

impl Bench {
    fn start(opts: Options, jobs: BTreeSet<String>) -> Bench {
        let started = Instant::now();
        let load_before = report::load_average();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build the bench's runtime");
        let work = tempfile::Builder::new().prefix("jhbench-").tempdir().expect("create the work folder");
        let jhctl = PathBuf::from(env!("CARGO_BIN_EXE_jhctl"));
        fs::write(work.path().join("seq.rhai"), SEQ_SCRIPT).expect("write seq.rhai");

        eprintln!(
            "jhbench: starting the test hub (JupyterHub 6.1.1, state in {}) and the fake Kubernetes API server",
            opts.hub_dir.display()
        );
        // TestHub makes its scratch folder in the temporary directory.
        let tmpdir = std::env::var_os("TMPDIR");
        std::env::set_var("TMPDIR", &opts.hub_dir);
        let hub = TestHub::start();
        match tmpdir {
            Some(dir) => std::env::set_var("TMPDIR", dir),
            None => std::env::remove_var("TMPDIR"),
        }
        let pid_file = hub.scratch().join("jupyterhub.pid");
        let hub_pid = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("cannot read the hub's pid from {}", pid_file.display()));
        let k8s = FakeCluster::start();
        let pods = k8s.add_deployment("jupyterhub", "hub", 1);
        let pod_dir = k8s.pod_dir("jupyterhub", &pods[0]);
        fs::create_dir_all(&pod_dir).expect("create the pod's folder");

        let hub_addr: SocketAddr = hub.url().trim_start_matches("http://").parse().expect("the hub's address");
        let k8s_addr: SocketAddr = k8s.url().trim_start_matches("http://").parse().expect("the fake cluster's address");
        let endpoints = opts
            .latency
            .iter()
            .map(|&ms| {
                if ms == 0 {
                    return Endpoint {
                        latency_ms: 0,
                        hub_url: hub.url().to_string(),
                        kubeconfig: k8s.kubeconfig_path().to_path_buf(),
                    };
                }
                let delay = Duration::from_millis(ms);
                let hub_proxy = proxy::start(runtime.handle(), hub_addr, delay);
                let k8s_proxy = proxy::start(runtime.handle(), k8s_addr, delay);
                let kubeconfig = work.path().join(format!("kubeconfig-{ms}ms"));
                fake_k8s::write_kubeconfig(&kubeconfig, &format!("http://{k8s_proxy}"), k8s.token(), fake_k8s::CONTEXT);
                Endpoint { latency_ms: ms, hub_url: format!("http://{hub_proxy}"), kubeconfig }
            })
            .collect();

        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hash_time = stats::median((0..5).map(|_| {
            let t = Instant::now();
            bcrypt::hash("a-benchmark-password", 12).expect("bcrypt");
            t.elapsed()
        }))
        .expect("five hashes");
        // What all cores together deliver: on a VM with a CPU quota, less
        // than `cores` times one.
        let batch: Vec<String> = (0..cores * 4).map(|i| format!("a-benchmark-password-{i}")).collect();
        let started_batch = Instant::now();
        std::thread::scope(|scope| {
            for part in batch.chunks(4) {
                scope.spawn(move || part.iter().for_each(|p| drop(bcrypt::hash(p, 12))));
            }
        });
        let parallel_hash_time = started_batch.elapsed() / batch.len() as u32;
        eprintln!(
            "jhbench: one bcrypt cost-12 hash takes {}; on all {cores} cores one hash every {}",
            stats::duration(hash_time),
            stats::duration(parallel_hash_time)
        );

        eprintln!("jhbench: the probe clicks on the idle hub for {} s", opts.idle_probe_secs);
        let idle = probe::start(runtime.handle(), hub.url(), hub.token());
        std::thread::sleep(Duration::from_secs(opts.idle_probe_secs));
        let idle_probe = idle.stop(runtime.handle());

        Bench {
            idle_probe,
            opts,
            jobs,
            runtime,
            work,
            jhctl,
            hub,
            hub_pid,
            k8s,
            pod_dir,
            endpoints,
            results: Results::new(),
            sweep: Sweep::new(),
            startup: Vec::new(),
            rosters: Vec::new(),
            hash_time,
            parallel_hash_time,
            cores,
            started,
            load_before,
        }
    }

    fn wants(&self, job: &str) -> bool {
        self.jobs.contains(job)
    }

    fn run(&mut self) {
        let user_counts = self.opts.users.clone();
        for n in user_counts {
            let set = self.user_set(n);
            self.empty_hub();
            let runs = self.opts.runs.max(self.opts.slow_runs);
            for run in 0..runs {
                for e in 0..self.endpoints.len() {
                    if run < self.opts.runs {
                        // Turns: neither client always runs first.
                        let order = if run % 2 == 0 { [Mode::Limit, Mode::Jhctl] } else { [Mode::Jhctl, Mode::Limit] };
                        for mode in order {
                            self.users_cycle(mode, e, &set, run);
                        }
                        self.sweep_cycle(e, &set, run);
                    }
                    if run < self.opts.slow_runs {
                        self.users_cycle(Mode::Seq, e, &set, run);
                        if self.wants("set-passwords-api") {
                            for mode in [Mode::Limit, Mode::Jhctl, Mode::Seq] {
                                self.passwords_api(mode, e, &set, run);
                            }
                        }
                        if self.wants("set-passwords-exec") {
                            self.passwords_exec(Mode::Jhctl, e, &set, run);
                            self.passwords_exec(Mode::Seq, e, &set, run);
                        }
                    }
                }
            }
        }
        if self.wants("startup") {
            self.startup();
        }
        if self.wants("rosters") {
            self.rosters();
        }
        eprintln!("jhbench: done in {}", stats::duration(self.started.elapsed()));
    }

    /// Writes the roster files for `n` users: u00001 ... (username, admin),
    /// and username,password.
    fn user_set(&self, n: usize) -> UserSet {
        let width = n.to_string().len().max(5);
        let names: Vec<String> = (1..=n).map(|i| format!("u{i:0width$}")).collect();
        let dir = self.work.path();
        let users_csv = dir.join(format!("users-{n}.csv"));
        let mut text = String::from("username,admin\n");
        for name in &names {
            text.push_str(name);
            text.push_str(",false\n");
        }
        fs::write(&users_csv, text).expect("write the users roster");
        let rows: Vec<(String, String)> = names.iter().map(|n| (n.clone(), format!("Pw-{n}-x7Q"))).collect();
        let write_passwords = |path: &Path, rows: &[(String, String)]| {
            let mut text = String::from("username,password\n");
            for (name, password) in rows {
                text.push_str(&format!("{name},{password}\n"));
            }
            fs::write(path, text).expect("write a passwords roster");
        };
        let passwords_csv = dir.join(format!("passwords-{n}.csv"));
        write_passwords(&passwords_csv, &rows);
        let api_rows: Vec<(String, String)> = rows[..self.opts.api_password_users.min(n)].to_vec();
        let api_passwords_csv = dir.join(format!("passwords-api-{n}.csv"));
        write_passwords(&api_passwords_csv, &api_rows);
        let exec_sample = self.opts.exec_sample.clamp(1, n);
        let exec_sample_csv = dir.join(format!("passwords-sample-{n}.csv"));
        write_passwords(&exec_sample_csv, &rows[..exec_sample]);
        UserSet { n, names, users_csv, passwords_csv, api_passwords_csv, api_rows, exec_sample_csv, exec_sample }
    }

    fn direct(&self, e: usize) -> Direct {
        Direct::new(&self.endpoints[e].hub_url, self.hub.token(), self.opts.limit_concurrency)
    }

    /// A direct client without added latency, for set-up and checks.
    fn setup_client(&self) -> Direct {
        Direct::new(self.hub.url(), self.hub.token(), 64)
    }

    /// Deletes every user (untimed).
    fn empty_hub(&self) {
        let client = self.setup_client();
        let users = self.runtime.block_on(client.list());
        let names: Vec<String> = users.iter().filter_map(|u| u["name"].as_str().map(str::to_string)).collect();
        if !names.is_empty() {
            eprintln!("jhbench: deleting {} leftover users", names.len());
            self.runtime.block_on(client.delete(&names));
        }
    }

    /// Checks the hub's users (untimed): how many, and whether all are admins.
    fn expect_users(&self, n: usize, admin: Option<bool>, after: &str) {
        let users = self.runtime.block_on(self.setup_client().list());
        assert_eq!(users.len(), n, "after {after}: the hub has {} users, expected {n}", users.len());
        if let Some(admin) = admin {
            let wrong = users.iter().filter(|u| u["admin"].as_bool() != Some(admin)).count();
            assert_eq!(wrong, 0, "after {after}: {wrong} users do not have admin={admin}");
        }
    }

    fn jhctl_command(&self, e: usize, args: &[&str]) -> Command {
        let ep = &self.endpoints[e];
        let mut command = Command::new(&self.jhctl);
        command
            .current_dir(self.work.path())
            .args(args)
            .env("JUPYTERHUB_URL", &ep.hub_url)
            .env("JUPYTERHUB_TOKEN", self.hub.token())
            .env("KUBECONFIG", &ep.kubeconfig)
            .env("NO_COLOR", "1")
            .env_remove("JHCTL_CONCURRENCY")
            .env_remove("JHCTL_NAMESPACE");
        command
    }

    /// Runs jhctl once, checks it exited with 0, and measures it.
    fn time_jhctl(&self, e: usize, args: &[&str]) -> (Sample, process::Measured) {
        let mut command = self.jhctl_command(e, &[]);
        if let (Some(n), false) = (self.opts.jhctl_concurrency, args.contains(&"--concurrency")) {
            command.arg("--concurrency").arg(n.to_string());
        }
        if self.opts.jhctl_log.is_some() {
            command.arg("-v");
        }
        command.args(args);
        let probe = probe::start(self.runtime.handle(), self.hub.url(), self.hub.token());
        let hub_before = process::cpu_of(self.hub_pid);
        let measured = process::run(&command, self.work.path()).check(&format!("jhctl {}", args.join(" ")));
        if let Some(dir) = &self.opts.jhctl_log {
            self.keep_log(dir, e, args, &measured.stderr);
        }
        let hub_cpu = process::cpu_of(self.hub_pid).saturating_sub(hub_before);
        let sample = Sample {
            wall: measured.wall,
            hub_cpu,
            rss_kib: Some(measured.max_rss_kib),
            cpu: Some(measured.cpu),
            probe: probe.stop(self.runtime.handle()),
        };
        (sample, measured)
    }

    /// Saves a `-v` run's stderr as `DIR/<latency>ms-<args>-<n>.txt`.
    fn keep_log(&self, dir: &Path, e: usize, args: &[&str], stderr: &str) {
        let what: String =
            args.iter().filter(|a| !a.contains('/')).map(|a| a.trim_start_matches('-')).collect::<Vec<_>>().join("-");
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let stem = format!("{}ms-{what}", self.endpoints[e].latency_ms);
        let path = (1..).map(|n| dir.join(format!("{stem}-{n}.txt"))).find(|p| !p.exists()).expect("a free name");
        fs::write(&path, stderr).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Runs one job of the direct client and measures it.
    fn time_limit<F: Future>(&self, job: F) -> (Sample, F::Output) {
        let probe = probe::start(self.runtime.handle(), self.hub.url(), self.hub.token());
        let hub_before = process::cpu_of(self.hub_pid);
        let started = Instant::now();
        let output = self.runtime.block_on(job);
        let wall = started.elapsed();
        let hub_cpu = process::cpu_of(self.hub_pid).saturating_sub(hub_before);
        let sample = Sample { wall, hub_cpu, rss_kib: None, cpu: None, probe: probe.stop(self.runtime.handle()) };
        (sample, output)
    }

    /// set-admin and delete with the hub-limit client at each
    /// `--limit-sweep` number of requests in flight; the hub is empty
    /// before and after.
    fn sweep_cycle(&mut self, e: usize, set: &UserSet, run: usize) {
        let jobs: Vec<Job> = [Job::SetAdmin, Job::Delete].into_iter().filter(|j| self.wants(j.key())).collect();
        if jobs.is_empty() {
            return;
        }
        let latency = self.endpoints[e].latency_ms;
        for in_flight in self.opts.limit_sweep.clone() {
            let client = Direct::new(&self.endpoints[e].hub_url, self.hub.token(), in_flight);
            self.runtime.block_on(self.setup_client().create(&set.names));
            self.expect_users(set.n, Some(false), "create");
            for &job in &jobs {
                let sample = match job {
                    Job::SetAdmin => self.time_limit(client.set_admin(&set.names, true)).0,
                    _ => self.time_limit(client.delete(&set.names)).0,
                };
                eprintln!(
                    "jhbench: [{:>6}] run {} · {} users · {latency} ms · {:<18} · {in_flight:>3} in flight {}",
                    stats::duration(self.started.elapsed()),
                    run + 1,
                    set.n,
                    job.key(),
                    stats::duration(sample.wall),
                );
                self.sweep.entry((job, set.n, latency, in_flight)).or_default().push(sample);
            }
            if !jobs.contains(&Job::Delete) {
                self.runtime.block_on(self.setup_client().delete(&set.names));
            }
            self.expect_users(0, None, "delete");
        }
    }

    /// Keeps one measurement; `at` is (endpoint, run).
    fn record(&mut self, job: Job, mode: Mode, set_n: usize, users: usize, at: (usize, usize), sample: Sample) {
        let (e, run) = at;
        let latency = self.endpoints[e].latency_ms;
        eprintln!(
            "jhbench: [{:>6}] run {} · {} users · {latency} ms · {:<18} · {:<13} {}",
            stats::duration(self.started.elapsed()),
            run + 1,
            set_n,
            job.key(),
            match mode {
                Mode::Limit => "hub limit",
                Mode::Jhctl => "jhctl",
                Mode::Seq => "one-at-a-time",
            },
            stats::duration(sample.wall),
        );
        let cell = self.results.entry((job, set_n, latency)).or_default();
        cell.users = users;
        cell.push(mode, sample);
    }

    /// create → list → export → set-admin → delete, with one client; the
    /// hub is empty before and after. Unselected jobs that the next ones
    /// need (create, delete) run untimed with the direct client.
    fn users_cycle(&mut self, mode: Mode, e: usize, set: &UserSet, run: usize) {
        let n = set.n;
        let users_csv = set.users_csv.to_string_lossy().into_owned();
        let seq = self.work.path().join("seq.rhai").to_string_lossy().into_owned();
        let export = self.work.path().join("export.csv").to_string_lossy().into_owned();
        let any = ["create", "list", "export", "set-admin", "delete"].iter().any(|j| self.wants(j));
        if !any {
            return;
        }

        // create
        if self.wants("create") {
            let sample = match mode {
                Mode::Limit => self.time_limit(self.direct(e).create(&set.names)).0,
                Mode::Jhctl => self.time_jhctl(e, &["manage-users", "create", &users_csv]).0,
                Mode::Seq => self.time_jhctl(e, &["--concurrency", "1", "run", &seq, "create", &users_csv]).0,
            };
            self.record(Job::Create, mode, n, n, (e, run), sample);
        } else {
            self.runtime.block_on(self.setup_client().create(&set.names));
        }
        self.expect_users(n, Some(false), "create");

        // list
        if self.wants("list") {
            let sample = match mode {
                Mode::Limit => {
                    let (sample, users) = self.time_limit(self.direct(e).list());
                    assert_eq!(users.len(), n, "the direct list found {} users", users.len());
                    sample
                }
                _ => {
                    let args: &[&str] = if mode == Mode::Jhctl {
                        &["manage-users", "list"]
                    } else {
                        &["--concurrency", "1", "manage-users", "list"]
                    };
                    let (sample, out) = self.time_jhctl(e, args);
                    assert!(out.stdout.contains(&format!("Total users: {n}")), "jhctl list did not show {n} users");
                    sample
                }
            };
            self.record(Job::List, mode, n, n, (e, run), sample);
        }

        // export (its limit is the listing: writing the file is client work)
        if self.wants("export") && mode != Mode::Limit {
            let args: Vec<&str> = if mode == Mode::Jhctl {
                vec!["manage-users", "export", &export]
            } else {
                vec!["--concurrency", "1", "manage-users", "export", &export]
            };
            let (sample, _) = self.time_jhctl(e, &args);
            let lines = fs::read_to_string(&export).map_or(0, |t| t.lines().count());
            assert_eq!(lines, n + 1, "the export has {lines} lines, expected {}", n + 1);
            self.record(Job::Export, mode, n, n, (e, run), sample);
        }

        // set-admin
        if self.wants("set-admin") {
            let sample = match mode {
                Mode::Limit => self.time_limit(self.direct(e).set_admin(&set.names, true)).0,
                Mode::Jhctl => self.time_jhctl(e, &["manage-users", "set-admin", "-f", &users_csv]).0,
                Mode::Seq => self.time_jhctl(e, &["--concurrency", "1", "run", &seq, "set-admin", &users_csv]).0,
            };
            self.record(Job::SetAdmin, mode, n, n, (e, run), sample);
            self.expect_users(n, Some(true), "set-admin");
        }

        // delete
        if self.wants("delete") {
            let sample = match mode {
                Mode::Limit => self.time_limit(self.direct(e).delete(&set.names)).0,
                Mode::Jhctl => self.time_jhctl(e, &["manage-users", "delete", &users_csv, "--yes"]).0,
                Mode::Seq => self.time_jhctl(e, &["--concurrency", "1", "run", &seq, "delete", &users_csv]).0,
            };
            self.record(Job::Delete, mode, n, n, (e, run), sample);
        } else {
            self.runtime.block_on(self.setup_client().delete(&set.names));
        }
        self.expect_users(0, None, "delete");
    }

    /// set-passwords --via api on the first --api-password-users users.
    fn passwords_api(&mut self, mode: Mode, e: usize, set: &UserSet, run: usize) {
        let file = set.api_passwords_csv.to_string_lossy().into_owned();
        let seq = self.work.path().join("seq.rhai").to_string_lossy().into_owned();
        let sample = match mode {
            Mode::Limit => self.time_limit(self.direct(e).set_passwords(&set.api_rows)).0,
            Mode::Jhctl => self.time_jhctl(e, &["set-passwords", &file, "--via", "api"]).0,
            Mode::Seq => self.time_jhctl(e, &["--concurrency", "1", "run", &seq, "set-passwords-api", &file]).0,
        };
        self.record(Job::PasswordsApi, mode, set.n, set.api_rows.len(), (e, run), sample);
    }

    /// set-passwords --via exec: jhctl on every user, one exec; the
    /// one-exec-per-user baseline on a sample.
    fn passwords_exec(&mut self, mode: Mode, e: usize, set: &UserSet, run: usize) {
        let passwords_db = self.pod_dir.join("passwords.dbm").to_string_lossy().into_owned();
        let force_db = self.pod_dir.join("force_password_change.dbm").to_string_lossy().into_owned();
        self.clear_pod_databases();
        let execs_before = self.k8s.exec_count();
        let seq = self.work.path().join("seq.rhai").to_string_lossy().into_owned();
        let (sample, expected_execs) = match mode {
            Mode::Jhctl => {
                let file = set.passwords_csv.to_string_lossy().into_owned();
                let args = [
                    "set-passwords",
                    &file,
                    "--via",
                    "exec",
                    "--store",
                    "dbm",
                    "--passwords-db",
                    &passwords_db,
                    "--force-change-db",
                    &force_db,
                ];
                (self.time_jhctl(e, &args).0, 1)
            }
            Mode::Seq => {
                let file = set.exec_sample_csv.to_string_lossy().into_owned();
                let args = ["--concurrency", "1", "run", &seq, "set-passwords-exec", &file, &passwords_db, &force_db];
                (self.time_jhctl(e, &args).0, set.exec_sample)
            }
            Mode::Limit => unreachable!("the limit of --via exec is computed"),
        };
        let execs = self.k8s.exec_count() - execs_before;
        assert_eq!(execs, expected_execs, "set-passwords --via exec ({mode:?}) ran {execs} execs");
        let written = fs::read_dir(&self.pod_dir)
            .map(|d| d.filter_map(Result::ok).any(|f| f.file_name().to_string_lossy().starts_with("passwords.dbm")))
            .unwrap_or(false);
        assert!(written, "no password database in {}", self.pod_dir.display());
        self.record(Job::PasswordsExec, mode, set.n, set.n, (e, run), sample);
        let latency = self.endpoints[e].latency_ms;
        let limit = self.hash_time.mul_f64(set.n as f64 / self.cores as f64);
        let cell = self.results.get_mut(&(Job::PasswordsExec, set.n, latency)).expect("just recorded");
        cell.computed_limit = Some(limit);
        match mode {
            Mode::Seq => cell.seq_sample = Some(set.exec_sample),
            _ => cell.execs.push(execs),
        }
    }

    fn clear_pod_databases(&self) {
        if let Ok(dir) = fs::read_dir(&self.pod_dir) {
            for entry in dir.filter_map(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("passwords.dbm") || name.starts_with("force_password_change.dbm") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }

    /// `jhctl --version` and a 1,000-user template.
    fn startup(&mut self) {
        let template = self.work.path().join("template-1000.csv").to_string_lossy().into_owned();
        let cases: [(&str, Vec<&str>, usize); 2] = [
            ("`jhctl --version`", vec!["--version"], 20),
            (
                "`jhctl generate-users-template --prefix u --count 1000 -o t.csv`",
                vec!["generate-users-template", "--prefix", "u", "--count", "1000", "-o", &template],
                10,
            ),
        ];
        for (label, args, times) in cases {
            // Timed without the GNU time wrapper (it would add a little to a
            // few milliseconds); one more run under it for the peak memory.
            let mut samples: Vec<process::Measured> = (0..times)
                .map(|_| process::run_direct(&mut self.jhctl_command(0, &args), self.work.path()).check(label))
                .collect();
            let memory = process::run(&self.jhctl_command(0, &args), self.work.path()).check(label);
            for sample in &mut samples {
                sample.max_rss_kib = memory.max_rss_kib;
            }
            eprintln!(
                "jhbench: start-up {label}: {}",
                stats::duration(stats::median(samples.iter().map(|m| m.wall)).expect("runs"))
            );
            self.startup.push(Extra { label: label.to_string(), rows: None, samples });
        }
    }

    /// 100,000-row rosters written by generate-users-template and read by
    /// `roster::read`, as XLSX and CSV; and `create`'s plan (a dry run) of
    /// the CSV roster and of one with a `groups` column, which was
    /// quadratic (issue #26: 22.5 s and 367 MB for 100,000 rows).
    fn rosters(&mut self) {
        let rows = self.opts.roster_rows;
        let count = rows.to_string();
        let mut groups = String::from("username,groups\n");
        for i in 0..rows {
            groups += &format!("g{i:06},lab{};all\n", i % 20);
        }
        fs::write(self.work.path().join("big-groups.csv"), groups).expect("write the roster with groups");
        let mut cases: Vec<(String, Vec<String>, bool)> = Vec::new();
        for ext in ["xlsx", "csv"] {
            let file = format!("big.{ext}");
            cases.push((
                format!("write {ext} (`generate-users-template --prefix u --count {rows} -o {file} --overwrite`)"),
                ["generate-users-template", "--prefix", "u", "--count", &count, "-o", &file, "--overwrite"]
                    .map(str::to_string)
                    .to_vec(),
                false,
            ));
            cases.push((
                format!("read {ext} (`eval 'roster::read(\"{file}\").len()'`)"),
                vec!["eval".to_string(), format!("roster::read(\"{file}\").len()")],
                true,
            ));
        }
        for file in ["big.csv", "big-groups.csv"] {
            cases.push((
                format!("plan create (`--dry-run manage-users create {file}`)"),
                ["--dry-run", "manage-users", "create", file].map(str::to_string).to_vec(),
                false,
            ));
        }
        let mut samples: Vec<Vec<process::Measured>> = cases.iter().map(|_| Vec::new()).collect();
        for _ in 0..self.opts.runs.max(1) {
            for (i, (label, args, read)) in cases.iter().enumerate() {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let measured = process::run(&self.jhctl_command(0, &args), self.work.path()).check(label);
                if *read {
                    assert_eq!(measured.stdout.trim(), count, "{label} printed {:?}", measured.stdout.trim());
                }
                eprintln!("jhbench: roster {label}: {}", stats::duration(measured.wall));
                samples[i].push(measured);
            }
        }
        for ((label, _, _), samples) in cases.into_iter().zip(samples) {
            self.rosters.push(Extra { label, rows: Some(rows), samples });
        }
    }
}
