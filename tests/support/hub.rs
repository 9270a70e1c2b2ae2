//! A real JupyterHub for the integration tests: 6.1.1, or the version
//! `JHCTL_TEST_HUB` names (one of [`VERSIONS`], e.g. `JHCTL_TEST_HUB=5.2.1`).
//!
//! The first hub of a test run makes a virtualenv for that version under
//! `target/` (`test-venv` for the newest, `test-venv-5.2.1` for the others)
//! and installs JupyterHub into it (once: a marker file records what was
//! installed, and later runs reuse it). [`TestHub::start`] then runs
//! `tests/hub/jupyterhub_config.py` on a free loopback port with a fresh
//! scratch folder: no proxy, an authenticator that checks the
//! `auth_user_passwords` table (`tests/hub/password_store.py`), mock single-user
//! servers that really start and stop, a `jhctl-test` service whose token has
//! the admin role, and our rebuild of the hub's admin API
//! (`tests/hub/admin_api.py`). A fresh hub has no users: the token belongs to
//! a service, not a user. Dropping the [`TestHub`] kills the hub and its
//! servers.

use std::{
    fs::{self, File},
    io::ErrorKind,
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::OnceLock,
    thread,
    time::{Duration, Instant},
};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{blocking::Client, redirect::Policy, Method};
use serde_json::{json, Value};
use tempfile::TempDir;

/// The hub versions the suite runs against, newest (the default) first,
/// each with what its virtualenv holds; changing a list makes the next run
/// reinstall that virtualenv. The test hub's admin API needs `bcrypt` and
/// `pydantic` (which JupyterHub ships from 5.0 on).
/// Each also holds the two stock password authenticators
/// ([`TestHubBuilder::authenticator`]).
pub const VERSIONS: [(&str, &[&str]); 3] = [
    ("6.1.1", &["jupyterhub==6.1.1", "bcrypt==5.0.0", FIRSTUSE, NATIVE]),
    ("5.2.1", &["jupyterhub==5.2.1", "bcrypt==5.0.0", FIRSTUSE, NATIVE]),
    ("4.1.6", &["jupyterhub==4.1.6", "bcrypt==5.0.0", "pydantic>=2,<3", FIRSTUSE, NATIVE]),
];
/// FirstUseAuthenticator, TLJH's default.
const FIRSTUSE: &str = "jupyterhub-firstuseauthenticator==1.1.1";
/// NativeAuthenticator.
const NATIVE: &str = "jupyterhub-nativeauthenticator==1.3.0";
/// The environment variable that picks the hub version.
pub const VERSION_VAR: &str = "JHCTL_TEST_HUB";
/// Written into the virtualenv once the install has finished.
const MARKER: &str = "jhctl-test-requirements.txt";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const PAGINATION: &str = "application/jupyterhub-pagination+json";
/// Users per `POST /hub/api/users` in [`TestHub::create_users`].
const CREATE_CHUNK: usize = 200;
/// Characters escaped in one path segment (a username or group name).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A running JupyterHub; dropping it stops the hub and its servers.
pub struct TestHub {
    child: Child,
    url: String,
    token: String,
    scratch: TempDir,
    client: Client,
}

impl TestHub {
    /// Starts a hub and waits until `GET /hub/api/` answers (about 3 s).
    ///
    /// Panics with the hub's log when it does not come up within 60 s.
    pub fn start() -> TestHub {
        TestHub::builder().start()
    }

    /// Options for a hub configured differently from the default one.
    pub fn builder() -> TestHubBuilder {
        TestHubBuilder::default()
    }

    fn start_with(options: &TestHubBuilder) -> TestHub {
        // A free port can be taken by another process between the check and
        // the hub's bind (another test's hub or single-user server): then
        // the hub exits, or another hub answers; try again on a new port.
        let mut last = String::new();
        for _ in 0..3 {
            match TestHub::try_start(options) {
                Ok(hub) => return hub,
                Err(why) => last = why,
            }
        }
        panic!("the test hub did not start:\n{last}");
    }

    fn try_start(options: &TestHubBuilder) -> Result<TestHub, String> {
        let scratch = tempfile::Builder::new()
            .prefix("jhctl-hub-")
            .tempdir()
            .expect("cannot create a scratch folder for the test hub");
        let port = free_port();
        let token = format!("{:032x}", rand::random::<u128>());
        let log = File::create(scratch.path().join("hub.log")).expect("cannot create hub.log");
        let mut command = Command::new(python());
        if let Some(limit) = options.page_max {
            command.env("JHCTL_TEST_HUB_PAGE_MAX", limit.to_string());
        }
        if let Some(length) = options.min_password {
            command.env("JHCTL_TEST_HUB_MIN_PASSWORD", length.to_string());
        }
        if options.no_admin_api {
            command.env("JHCTL_TEST_HUB_NO_ADMIN_API", "1");
        }
        if let Some(name) = options.authenticator {
            command.env("JHCTL_TEST_HUB_AUTH", name);
        }
        let child = command
            .args(["-m", "jupyterhub", "-f"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hub/jupyterhub_config.py"))
            .current_dir(scratch.path())
            .env("JHCTL_TEST_HUB_PORT", port.to_string())
            .env("JHCTL_TEST_HUB_SCRATCH", scratch.path())
            .env("JHCTL_TEST_HUB_TOKEN", &token)
            .env("JHCTL_ADMIN_API_DB", scratch.path().join("admin-api.sqlite"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cannot share hub.log"))
            .stderr(log)
            // Its own process group, so that Drop can kill the hub together
            // with the single-user servers it started.
            .process_group(0)
            .spawn()
            .expect("cannot start jupyterhub from the test virtualenv");
        jhctl::hub::install_crypto();
        let client = Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("cannot build an HTTP client");
        let mut hub = TestHub { child, url: format!("http://127.0.0.1:{port}"), token, scratch, client };
        hub.wait_until_up()?;
        Ok(hub)
    }

    /// The hub's URL, e.g. `http://127.0.0.1:40123` (for `JUPYTERHUB_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// An API token with the admin role (for `JUPYTERHUB_TOKEN`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The hub's scratch folder: its database, cookie secret, `hub.log` and
    /// the admin API's store.
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    /// The admin API's SQLite store, which stands for the hub database:
    /// tables `auth_user_passwords(id, username, password_hash,
    /// force_change, created_at, updated_at)`, `quota(username, balance,
    /// unlimited, updated_at)` and `quota_transactions`.
    pub fn store(&self) -> PathBuf {
        self.scratch().join("admin-api.sqlite")
    }

    /// The JupyterHub version this hub runs, e.g. `6.1.1`.
    pub fn version(&self) -> &'static str {
        hub_version()
    }

    /// The hub's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.scratch().join("hub.log")).unwrap_or_default()
    }

    /// The virtualenv's python, which has `bcrypt`, `sqlite3` and `dbm`.
    pub fn python(&self) -> &'static Path {
        python()
    }

    /// Runs `python -c script args...` and returns its trimmed stdout;
    /// panics when it fails. `sys.argv[1:]` holds `args`.
    pub fn run_python(&self, script: &str, args: &[&str]) -> String {
        let output = Command::new(python())
            .arg("-c")
            .arg(script)
            .args(args)
            .output()
            .expect("cannot run the test virtualenv's python");
        assert!(
            output.status.success(),
            "python script failed ({}):\n{script}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Whether the admin API's store holds a hash of `password` for
    /// `name`: `None` when it has no password for `name`, else
    /// `(bcrypt.checkpw accepts it, force change flag)`.
    pub fn stored_password(&self, name: &str, password: &str) -> Option<(bool, bool)> {
        let script = "import sqlite3, sys, bcrypt\n\
            db = sqlite3.connect(sys.argv[1])\n\
            known = db.execute(\"select name from sqlite_master where name='auth_user_passwords'\").fetchone()\n\
            row = known and db.execute('select password_hash, force_change from auth_user_passwords where username=?', (sys.argv[2],)).fetchone()\n\
            print('none' if not row else '%s %s' % (bcrypt.checkpw(sys.argv[3].encode(), bytes(row[0])), bool(row[1])))";
        let store = self.store();
        match self.run_python(script, &[store.to_str().expect("a UTF-8 path"), name, password]).as_str() {
            "none" => None,
            text => {
                let (ok, force) = text.split_once(' ').expect("two words");
                Some((ok == "True", force == "True"))
            }
        }
    }

    /// Logs in without a browser: `POST /hub/api/users/NAME/tokens` with
    /// `{"auth": {"username", "password"}}` and no token runs the hub's
    /// authenticator. Returns the status: 201 in, 403 refused.
    pub fn password_login(&self, name: &str, password: &str) -> u16 {
        let body = json!({ "auth": { "username": name, "password": password } });
        let url = format!("{}/hub/api/users/{}/tokens", self.url, segment(name));
        let response = self.client.post(&url).json(&body).send();
        response.unwrap_or_else(|e| panic!("POST {url} failed: {e}\n{}", self.log_tail())).status().as_u16()
    }

    /// Sends `method path` (path from the hub's root, e.g. `/hub/api/users`)
    /// with the admin token and an optional JSON body. Returns the status and
    /// the body as JSON (`Null` when empty, a string when not JSON).
    /// Redirects are not followed.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(method, path, body, false)
    }

    /// Creates users with `POST /hub/api/users` (in chunks), all admins or
    /// none. Panics unless every chunk answers 201.
    pub fn create_users(&self, names: &[&str], admin: bool) {
        for chunk in names.chunks(CREATE_CHUNK) {
            let body = json!({ "usernames": chunk, "admin": admin });
            let (status, reply) = self.api("POST", "/hub/api/users", Some(body));
            assert_eq!(status, 201, "creating users {chunk:?} failed: {reply}");
        }
    }

    /// The user model of `name`, or `None` when the hub has no such user.
    pub fn user(&self, name: &str) -> Option<Value> {
        let (status, user) = self.api("GET", &format!("/hub/api/users/{}", segment(name)), None);
        match status {
            200 => Some(user),
            404 => None,
            _ => panic!("GET user `{name}` answered {status}: {user}"),
        }
    }

    /// Every user's name, following all pages, sorted (the hub lists by
    /// creation, and concurrent requests create in any order).
    pub fn usernames(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .all_pages("/hub/api/users")
            .iter()
            .map(|user| user["name"].as_str().expect("user without a name").to_string())
            .collect();
        names.sort();
        names
    }

    /// Every group model (`name`, `users`, ...), following all pages, with
    /// each group's `users` sorted.
    pub fn groups(&self) -> Vec<Value> {
        let mut groups = self.all_pages("/hub/api/groups");
        for group in &mut groups {
            if let Some(users) = group.get_mut("users").and_then(Value::as_array_mut) {
                users.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
        groups
    }

    /// Creates group `name` with `members` (who must exist).
    pub fn create_group(&self, name: &str, members: &[&str]) {
        let path = format!("/hub/api/groups/{}", segment(name));
        let (status, reply) = self.api("POST", &path, Some(json!({ "users": members })));
        assert_eq!(status, 201, "creating group `{name}` failed: {reply}");
    }

    /// Every item of a listing, following `_pagination.next` whatever the
    /// hub's page size; panics unless the count matches the hub's `total`.
    fn all_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut offset = 0;
        loop {
            // Ask for the most; the hub serves its own page size.
            let page_path = format!("{path}?offset={offset}&limit=200");
            let (status, page) = self.send("GET", &page_path, None, true);
            assert_eq!(status, 200, "GET {page_path} failed: {page}");
            items.extend(page["items"].as_array().expect("page without items").iter().cloned());
            match page["_pagination"]["next"]["offset"].as_u64() {
                Some(next) => offset = next,
                None => {
                    let total = page["_pagination"]["total"].as_u64().expect("page without a total");
                    assert_eq!(items.len() as u64, total, "GET {path}: the pages held {} of {total}", items.len());
                    return items;
                }
            }
        }
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>, paginated: bool) -> (u16, Value) {
        let method = Method::from_bytes(method.as_bytes()).expect("invalid HTTP method");
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.url))
            .header("Authorization", format!("token {}", self.token));
        if paginated {
            request = request.header("Accept", PAGINATION);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap_or_else(|e| panic!("{method} {path} failed: {e}\n{}", self.log_tail()));
        let status = response.status().as_u16();
        let text = response.text().expect("cannot read the hub's reply");
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, value)
    }

    /// Waits until this hub (not another process on the port) answers
    /// `GET /hub/api/user` for our token.
    fn wait_until_up(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let url = format!("{}/hub/api/user", self.url);
        while started.elapsed() < START_TIMEOUT {
            if let Some(status) = self.child.try_wait().expect("cannot check on the hub") {
                return Err(format!("the test hub exited ({status}) before answering:\n{}", self.log_tail()));
            }
            let answer = self
                .client
                .get(&url)
                .header("Authorization", format!("token {}", self.token))
                .timeout(Duration::from_secs(2))
                .send();
            if answer.is_ok_and(|response| response.status() == 200) {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(100));
        }
        Err(format!("the test hub did not answer GET {url} within {START_TIMEOUT:?}:\n{}", self.log_tail()))
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.scratch().join("hub.log").display())
    }
}

/// How to start a [`TestHub`] that differs from the default one.
#[derive(Debug, Default)]
pub struct TestHubBuilder {
    page_max: Option<usize>,
    min_password: Option<usize>,
    no_admin_api: bool,
    authenticator: Option<&'static str>,
}

impl TestHubBuilder {
    /// The hub serves at most `limit` users or groups a page
    /// (`api_page_max_limit` and `api_page_default_limit`), instead of 200.
    pub fn page_max(mut self, limit: usize) -> Self {
        self.page_max = Some(limit);
        self
    }

    /// The admin API's set-password refuses passwords shorter than
    /// `length` (a hub configured with a longer `min_password_length`
    /// than the default 7).
    pub fn min_password(mut self, length: usize) -> Self {
        self.min_password = Some(length);
        self
    }

    /// A stock JupyterHub: no admin API (`/hub/admin/api/...` gets the
    /// hub's HTML pages).
    pub fn without_admin_api(mut self) -> Self {
        self.no_admin_api = true;
        self
    }

    /// The hub logs users in with a stock authenticator instead of the
    /// guide's password table: `firstuse` (FirstUseAuthenticator, its
    /// `passwords.dbm` in the scratch folder, `create_users` off as on
    /// TLJH) or `native` (NativeAuthenticator, `users_info` in the hub's
    /// database).
    pub fn authenticator(mut self, name: &'static str) -> Self {
        self.authenticator = Some(name);
        self
    }

    /// Starts the hub, as [`TestHub::start`] does.
    pub fn start(self) -> TestHub {
        TestHub::start_with(&self)
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        // The hub's process group holds the hub and its single-user servers.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("cannot find a free loopback port")
        .port()
}

/// The JupyterHub version of this test run: `JHCTL_TEST_HUB`, or the newest
/// of [`VERSIONS`] when it is unset or empty. Panics on a version the suite
/// does not know.
pub fn hub_version() -> &'static str {
    requirements().0
}

/// The version and requirements `JHCTL_TEST_HUB` picks.
fn requirements() -> (&'static str, &'static [&'static str]) {
    let wanted = std::env::var(VERSION_VAR).unwrap_or_default();
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return VERSIONS[0];
    }
    VERSIONS.iter().copied().find(|(version, _)| *version == wanted).unwrap_or_else(|| {
        let known: Vec<&str> = VERSIONS.iter().map(|(version, _)| *version).collect();
        panic!("{VERSION_VAR}={wanted}: the test hub comes in versions {}; pick one or unset it", known.join(", "))
    })
}

/// The test virtualenv's python, installing the virtualenv on first use.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| install_venv().join("bin/python"))
}

/// Makes the virtualenv of [`hub_version`] (`target/test-venv` for the
/// newest, `target/test-venv-VERSION` for the others) unless a finished
/// install of its requirements is there. The venv is built beside it and
/// renamed into place, so two concurrent test processes never see (or
/// break) a half-made one.
fn install_venv() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("CARGO_TARGET_TMPDIR has no parent");
    let (version, requirements) = requirements();
    let name = if version == VERSIONS[0].0 { "test-venv".to_string() } else { format!("test-venv-{version}") };
    let venv = target.join(&name);
    let wanted = requirements.join("\n");
    let installed = |dir: &Path| fs::read_to_string(dir.join(MARKER)).is_ok_and(|s| s == wanted);
    if installed(&venv) {
        return venv;
    }

    let pid = std::process::id();
    let staging = target.join(format!("{name}.{pid}.new"));
    let _ = fs::remove_dir_all(&staging);
    eprintln!("installing {} into {} (first run only)", requirements.join(" "), venv.display());
    let made = Command::new("python3").arg("-m").arg("venv").arg(&staging).output();
    let made = match made {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "the integration tests run a real JupyterHub and need python3 (3.10 or newer) \
             with venv and pip on PATH; install it (e.g. `apt-get install python3 python3-venv`)"
        ),
        Err(e) => panic!("cannot run python3: {e}"),
    };
    check(&made, "python3 -m venv (on Debian, `apt-get install python3-venv`)");
    let pip = Command::new(staging.join("bin/python"))
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"])
        .args(requirements)
        .output()
        .expect("cannot run pip in the test virtualenv");
    check(&pip, "pip install (needs access to PyPI)");
    fs::write(staging.join(MARKER), &wanted).expect("cannot write the virtualenv's marker");

    if venv.exists() && !installed(&venv) {
        // An older or unfinished install: move it aside, then delete it.
        let old = target.join(format!("{name}.{pid}.old"));
        if fs::rename(&venv, &old).is_ok() {
            let _ = fs::remove_dir_all(&old);
        }
    }
    if let Err(e) = fs::rename(&staging, &venv) {
        // Another test process finished first; use its install.
        let _ = fs::remove_dir_all(&staging);
        assert!(installed(&venv), "cannot move the test virtualenv into place: {e}");
    }
    venv
}

fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
