//! Issue 5: jhctl and the cluster, through the real binary. The API token
//! comes from the Kubernetes secret when neither `--token` nor
//! JUPYTERHUB_TOKEN is given; `jhctl credentials` creates, shows, exports
//! and restarts like the user guide's kubectl commands; `cluster::exec`
//! runs a command in the hub's pod. The cluster is the fake API server
//! ([`FakeCluster`]), reached through its kubeconfig; the hub is real.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::fake_k8s::{unreachable_kubeconfig, FakeCluster};
use crate::support::hub::TestHub;
use crate::support::test::{Output, Test};

const NS: &str = "jupyterhub";
const SECRET: &str = "jupyterhub-admin-credentials";
const FROM_SECRET: &str =
    "🔑 Using the API token from secret `jupyterhub-admin-credentials` in namespace `jupyterhub`\n";

/// A run of jhctl whose kubeconfig is `k8s`'s (JUPYTERHUB_TOKEN unset).
fn on(k8s: &FakeCluster) -> Test {
    Test::new().env("KUBECONFIG", k8s.kubeconfig_path())
}

/// Panics unless the run ended without a panic or a backtrace.
fn no_panic(out: &Output) {
    for word in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!out.stderr.contains(word), "`{word}` in stderr\n{out}");
    }
}

/// Panics when `secret` shows up anywhere in the run's output.
fn never_printed(out: &Output, secret: &str) {
    assert!(!out.stdout.contains(secret), "the token is on stdout\n{out}");
    assert!(!out.stderr.contains(secret), "the token is on stderr\n{out}");
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The admin credentials secret as the fake cluster stores it.
fn credentials(k8s: &FakeCluster) -> (String, String) {
    let secret = k8s.secret(NS, SECRET).expect("the secret exists");
    assert_eq!(secret.len(), 2, "unexpected keys: {:?}", secret.keys());
    (secret["api-token"].clone(), secret["admin-password"].clone())
}

/// Runs `bash -c script` in `dir` with `input` on stdin; returns its stdout.
fn bash(dir: &Path, script: &str, input: &str) -> String {
    let mut shell = Command::new("bash")
        .args(["-c", script])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot run bash");
    shell.stdin.take().expect("stdin is piped").write_all(input.as_bytes()).expect("write to bash");
    let output = shell.wait_with_output().expect("wait for bash");
    assert!(output.status.success(), "bash failed: {}", output.status);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn is_lower_hex(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

// --- 1. The token from the secret ---------------------------------------

#[test]
fn token_comes_from_the_secret() {
    let hub = TestHub::start();
    hub.create_users(&["ann", "ben", "cat"], false);
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, SECRET, &[("api-token", hub.token()), ("admin-password", "pw")]);

    let globals: [&[&str]; 3] = [&[], &["-v"], &["--context", "fake"]];
    for global in globals {
        let test = on(&k8s).env("JUPYTERHUB_URL", hub.url()).args(global);
        let out = test.args(["manage-users", "list"]).run().expect_status(0);
        assert!(out.stdout.contains("📋 Total users: 3\n"), "{out}");
        for name in ["ann", "ben", "cat"] {
            assert!(out.stdout.contains(name), "`{name}` missing\n{out}");
        }
        // One line on stderr says where the token came from (`-v` adds request lines), and nothing shows the token.
        let about_secret: Vec<&str> = out.stderr.lines().filter(|line| line.contains(SECRET)).collect();
        assert_eq!(about_secret, [FROM_SECRET.trim_end()], "{out}");
        if global.is_empty() {
            assert_eq!(out.stderr, FROM_SECRET, "{out}");
        }
        never_printed(&out, hub.token());
    }
    let reads = k8s.requests().iter().filter(|r| r.starts_with("GET /api/v1/namespaces/jupyterhub/secrets/")).count();
    assert_eq!(reads, 3, "{:?}", k8s.requests());
}

#[test]
fn given_token_wins_over_the_secret() {
    let hub = TestHub::start();
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, SECRET, &[("api-token", "not-the-hub-token-0000")]);
    let out = on(&k8s).hub(&hub).args(["manage-users", "list"]).run().expect_status(0);
    assert!(out.stdout.contains("📋 Total users: 0\n"), "{out}");
    assert!(!out.stderr.contains(SECRET), "{out}");
    assert!(k8s.requests().is_empty(), "the cluster was asked: {:?}", k8s.requests());
}

#[test]
fn a_missing_secret_names_every_source() {
    let hub = TestHub::start();
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, SECRET, &[("api-token", hub.token())]);
    k8s.add_namespace("other");
    let out = on(&k8s).env("JUPYTERHUB_URL", hub.url()).args(["-n", "other", "manage-users", "list"]).run();
    let out = out.expect_status(2);
    no_panic(&out);
    assert_eq!(
        out.stderr,
        "❌ no API token: tried --token (not given), JUPYTERHUB_TOKEN (not set), and the \
         Kubernetes secret `jupyterhub-admin-credentials` in namespace `other` (secret \
         `jupyterhub-admin-credentials` not found in namespace `other`; create it with `jhctl -n \
         other credentials create`); pass --token, export JUPYTERHUB_TOKEN, or point KUBECONFIG at the \
         hub's cluster\n"
    );
    assert!(!out.stdout.contains("Total users"), "{out}");
    never_printed(&out, hub.token());

    // A namespace that does not exist is named as such.
    let out = on(&k8s).env("JUPYTERHUB_URL", hub.url()).args(["-n", "nowhere", "manage-users", "list"]).run();
    let out = out.expect_status(2);
    no_panic(&out);
    assert!(out.stderr.contains("--token (not given), JUPYTERHUB_TOKEN (not set)"), "{out}");
    assert!(out.stderr.contains("namespace `nowhere` does not exist"), "{out}");
}

#[test]
fn no_kubeconfig_says_so() {
    let hub = TestHub::start();
    let test = Test::new().env("JUPYTERHUB_URL", hub.url()).args(["manage-users", "list"]);
    let out = test.run().expect_status(2);
    no_panic(&out);
    let kubeconfig = test.home().join(".kube/no-such-config");
    assert!(out.stderr.starts_with("❌ no API token: tried --token (not given), JUPYTERHUB_TOKEN (not set)"), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "(no kubeconfig found (KUBECONFIG={}) and not running in a pod (KUBERNETES_SERVICE_HOST is not set)",
            kubeconfig.display()
        )),
        "{out}"
    );
    assert!(out.stderr.contains("pass --token, export JUPYTERHUB_TOKEN, or point KUBECONFIG"), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
}

#[test]
fn a_forbidden_secret_shows_the_api_reason() {
    let hub = TestHub::start();
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, SECRET, &[("api-token", hub.token())]);
    k8s.deny("get", "secrets");
    let out = on(&k8s).env("JUPYTERHUB_URL", hub.url()).args(["-v", "manage-users", "list"]).run().expect_status(2);
    no_panic(&out);
    never_printed(&out, hub.token());
    assert!(out.stderr.contains("--token (not given), JUPYTERHUB_TOKEN (not set)"), "{out}");
    assert!(
        out.stderr.contains(
            "no permission to get secret `jupyterhub-admin-credentials` in namespace `jupyterhub`: \
             secrets \"jupyterhub-admin-credentials\" is forbidden: User \
             \"system:serviceaccount:jupyterhub:jhctl-test\" cannot get resource \"secrets\" in API \
             group \"\" in the namespace \"jupyterhub\""
        ),
        "{out}"
    );
}

// --- 2. `jhctl credentials` --------------------------------------------

#[test]
fn create_restart_and_refuse_to_overwrite() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    let out = on(&k8s).args(["credentials", "create", "--restart"]).run().expect_status(0);
    no_panic(&out);
    let (token, password) = credentials(&k8s);
    assert_eq!(token.len(), 64, "{token:?}");
    assert!(is_lower_hex(&token), "{token:?}");
    assert!(password.len() >= 12, "{password:?}");
    never_printed(&out, &token);
    never_printed(&out, &password);
    assert_eq!(
        out.stdout,
        "✅ Created secret jupyterhub-admin-credentials in namespace jupyterhub (api-token, admin-password)\n   \
         Read them with: jhctl credentials show --reveal\n✅ Restarted deployment/hub in namespace jupyterhub; \
         the new pods are ready\n"
    );
    assert_eq!(k8s.restarts(NS, "hub").len(), 1);
    // It waited: the deployment was read again after the restart.
    let requests = k8s.requests();
    let patch =
        requests.iter().position(|r| r.starts_with("PATCH /apis/apps/v1/namespaces/jupyterhub/deployments/hub"));
    let patch = patch.unwrap_or_else(|| panic!("no restart patch: {requests:?}"));
    assert!(
        requests[patch..].iter().any(|r| r.starts_with("GET /apis/apps/v1/namespaces/jupyterhub/deployments/hub")),
        "{requests:?}"
    );

    // Again, without --force: refused, nothing changes.
    let again = on(&k8s).args(["credentials", "create"]).run();
    assert_ne!(again.status, 0, "{again}");
    no_panic(&again);
    assert_eq!(
        again.stderr,
        "error: secret `jupyterhub-admin-credentials` already exists in namespace `jupyterhub`; nothing was \
         changed; to replace it, run `jhctl credentials create --force --restart`\n"
    );
    assert_eq!(credentials(&k8s), (token.clone(), password.clone()));
    assert_eq!(k8s.restarts(NS, "hub").len(), 1);

    // With --force: replaced, and the hub must be restarted.
    let forced = on(&k8s).args(["credentials", "create", "--force"]).run().expect_status(0);
    let (new_token, new_password) = credentials(&k8s);
    assert_ne!(new_token, token);
    assert_ne!(new_password, password);
    assert_eq!(new_token.len(), 64);
    assert!(is_lower_hex(&new_token), "{new_token:?}");
    assert!(forced.stdout.contains("⚠️  Restart the hub to apply: jhctl credentials restart\n"), "{forced}");
    assert_eq!(k8s.restarts(NS, "hub").len(), 1);
}

#[test]
fn two_clusters_get_different_credentials() {
    let made: Vec<(String, String)> = (0..2)
        .map(|_| {
            let k8s = FakeCluster::start();
            k8s.add_namespace(NS);
            on(&k8s).args(["credentials", "create"]).run().expect_status(0);
            credentials(&k8s)
        })
        .collect();
    assert_ne!(made[0].0, made[1].0, "the same api-token twice");
    assert_ne!(made[0].1, made[1].1, "the same admin-password twice");
    for (token, password) in &made {
        assert!(token.len() == 64 && is_lower_hex(token), "{token:?}");
        assert!(password.len() >= 12, "{password:?}");
    }
}

#[test]
fn show_prints_the_password_and_hides_the_token() {
    let k8s = FakeCluster::start();
    let token = "0123456789abcdef".repeat(4);
    k8s.put_secret(NS, SECRET, &[("api-token", &token), ("admin-password", "s3cr3t+Pass/word==")]);

    let out = on(&k8s).args(["credentials", "show"]).run().expect_status(0);
    assert_eq!(out.stdout, "Admin password: s3cr3t+Pass/word==\nAPI token: present (--reveal prints it)\n");
    never_printed(&out, &token);

    let out = on(&k8s).args(["credentials", "show", "--reveal"]).run().expect_status(0);
    assert_eq!(out.stdout, format!("Admin password: s3cr3t+Pass/word==\nAPI token: {token}\n"));

    // In another namespace, and without a secret.
    k8s.put_secret("lab", SECRET, &[("admin-password", "lab-pw")]);
    let out = on(&k8s).args(["-n", "lab", "credentials", "show"]).run().expect_status(0);
    assert_eq!(out.stdout, "Admin password: lab-pw\nAPI token: missing\n");
    k8s.add_namespace("empty");
    let out = on(&k8s).args(["credentials", "show", "-n", "empty"]).run().expect_status(1);
    no_panic(&out);
    assert_eq!(
        out.stderr,
        "error: secret `jupyterhub-admin-credentials` not found in namespace `empty`; create it \
         with `jhctl -n empty credentials create`\n"
    );
}

#[test]
fn env_exports_for_the_shell() {
    let k8s = FakeCluster::start();
    // A value a shell would misread unless it is quoted.
    let token = "ab'cd $(touch pwned) \"ef\"";
    k8s.put_secret(NS, SECRET, &[("api-token", token), ("admin-password", "pw")]);
    let url = "http://hub.example.org:8000";
    let test = on(&k8s).env("JUPYTERHUB_URL", url).args(["credentials", "env"]);
    let out = test.run().expect_status(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("export JUPYTERHUB_TOKEN="), "{out}");
    // Quoted only where a shell needs it (shlex).
    assert_eq!(lines[1], format!("export JUPYTERHUB_URL={url}"), "{out}");

    let evaluated =
        bash(&test.dir(), r#"eval "$(cat)"; echo "$JUPYTERHUB_TOKEN"; echo "$JUPYTERHUB_URL""#, &out.stdout);
    assert_eq!(evaluated, format!("{token}\n{url}\n"));
    assert!(!test.dir().join("pwned").exists(), "the shell ran part of the token");
}

#[test]
fn env_round_trips_a_real_token() {
    let k8s = FakeCluster::start();
    k8s.add_namespace(NS);
    on(&k8s).args(["credentials", "create"]).run().expect_status(0);
    let (token, _) = credentials(&k8s);
    let out = on(&k8s).args(["credentials", "env"]).run().expect_status(0);
    assert_eq!(out.stdout, format!("export JUPYTERHUB_TOKEN={token}\nexport JUPYTERHUB_URL=http://localhost:30890\n"));
    let evaluated = bash(&std::env::temp_dir(), r#"eval "$(cat)"; echo $JUPYTERHUB_TOKEN"#, &out.stdout);
    assert_eq!(evaluated, format!("{token}\n"));
}

#[test]
fn restart_records_a_rollout_restart() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 2);
    let out = on(&k8s).args(["credentials", "restart"]).run().expect_status(0);
    assert_eq!(out.stdout, "✅ Restarted deployment/hub in namespace jupyterhub; the new pods are ready\n");
    let restarts = k8s.restarts(NS, "hub");
    assert_eq!(restarts.len(), 1);
    // What `kubectl rollout restart` sends: a strategic merge patch of the template annotation.
    let patches = k8s.deployment_patches(NS, "hub");
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].content_type, "application/strategic-merge-patch+json");
    assert_eq!(
        patches[0].body["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        restarts[0].as_str()
    );

    let out = on(&k8s).args(["credentials", "restart", "--timeout", "0"]).run().expect_status(0);
    assert_eq!(out.stdout, "✅ Restart of deployment/hub in namespace jupyterhub started\n");
    assert_eq!(k8s.restarts(NS, "hub").len(), 2);
}

#[test]
fn restart_reports_a_rollout_that_does_not_finish() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    k8s.set_rollout_delay(std::time::Duration::from_secs(3600));
    let out = on(&k8s).args(["credentials", "restart", "--timeout", "1"]).run().expect_status(1);
    no_panic(&out);
    assert_eq!(
        out.stderr,
        "error: deployment `hub` in namespace `jupyterhub` did not finish rolling out within 1s \
         (0 of 1 replicas are updated); check its pods with `kubectl -n jupyterhub get pods`\n"
    );
    assert_eq!(k8s.restarts(NS, "hub").len(), 1);
}

#[test]
fn restart_of_a_missing_hub_is_named() {
    let k8s = FakeCluster::start();
    k8s.add_namespace(NS);
    let out = on(&k8s).args(["credentials", "restart"]).run().expect_status(1);
    no_panic(&out);
    assert_eq!(
        out.stderr,
        "error: deployment `hub` not found in namespace `jupyterhub`; check the name with \
         `kubectl -n jupyterhub get deployments`\n"
    );
}

#[test]
fn dry_run_changes_nothing() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    let out = on(&k8s).args(["--dry-run", "credentials", "create", "--restart"]).run().expect_status(0);
    assert_eq!(
        out.stdout,
        "📝 Would create secret jupyterhub-admin-credentials in namespace jupyterhub\n\
         📝 Would restart deployment/hub in namespace jupyterhub\n"
    );
    assert_eq!(k8s.secret(NS, SECRET), None);
    assert!(k8s.restarts(NS, "hub").is_empty());

    let out = on(&k8s).args(["--dry-run", "credentials", "restart"]).run().expect_status(0);
    assert_eq!(out.stdout, "📝 Would restart deployment/hub in namespace jupyterhub\n");
    assert!(k8s.restarts(NS, "hub").is_empty());

    // Over an existing secret too.
    k8s.put_secret(NS, SECRET, &[("api-token", "keep"), ("admin-password", "keep-pw")]);
    on(&k8s).args(["--dry-run", "credentials", "create", "--force"]).run().expect_status(0);
    assert_eq!(credentials(&k8s), ("keep".to_string(), "keep-pw".to_string()));
    let writes: Vec<String> = k8s.requests().into_iter().filter(|r| !r.starts_with("GET ")).collect();
    assert!(writes.is_empty(), "a dry run sent {writes:?}");
}

// --- 3. cluster::exec and contexts -------------------------------------

const EXEC: &str =
    r#"to_json(cluster::exec("jupyterhub", "deployment/hub", ["sh", "-c", "cat; echo oops >&2; exit 3"], "hello"))"#;

#[test]
fn exec_returns_stdout_stderr_and_code() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    let out = on(&k8s).args(["--context", "fake", "eval", EXEC]).run().expect_status(0);
    let result = json(&out.stdout);
    assert_eq!(result["stdout"], "hello", "{out}");
    assert_eq!(result["stderr"], "oops\n", "{out}");
    assert_eq!(result["code"], 3, "{out}");
    assert_eq!(k8s.exec_count(), 1);

    // The current context is used without --context.
    let code = r#"let r = cluster::exec("jupyterhub", "deployment/hub", ["pwd"], ""); `${r.code} ${r.stdout}`"#;
    let out = on(&k8s).args(["eval", code]).run().expect_status(0);
    let pod = &k8s.pods(NS, "hub")[0];
    assert_eq!(out.stdout, format!("0 {}\n\n", k8s.pod_dir(NS, pod).display()));
}

#[test]
fn exec_errors_name_the_object() {
    let k8s = FakeCluster::start();
    let pods = k8s.add_deployment(NS, "hub", 1);
    let exec = |ns: &str, target: &str| format!(r#"cluster::exec("{ns}", "{target}", ["sh", "-c", "echo ran"], "")"#);
    let fails = |test: Test, code: String| {
        let out = test.args(["eval", &code]).run().expect_status(1);
        no_panic(&out);
        assert!(out.stdout.is_empty(), "{out}");
        out.stderr
    };

    assert_eq!(
        fails(on(&k8s), exec(NS, "deployment/nope")),
        "error: deployment `nope` not found in namespace `jupyterhub`; check the name with \
         `kubectl -n jupyterhub get deployments`\n"
    );
    assert_eq!(
        fails(on(&k8s), exec("ghost", "deployment/hub")),
        "error: namespace `ghost` does not exist; check `-n/--namespace` (`kubectl get namespaces` lists them)\n"
    );

    let dir = tempfile::tempdir().unwrap();
    let closed = dir.path().join("kubeconfig");
    unreachable_kubeconfig(&closed);
    let stderr = fails(Test::new().env("KUBECONFIG", &closed), exec(NS, "deployment/hub"));
    assert!(stderr.starts_with("error: cannot reach the Kubernetes API server at http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(stderr.contains("check that the cluster is running and that the kubeconfig points at it"), "{stderr}");

    k8s.deny("create", "pods/exec");
    assert_eq!(
        fails(on(&k8s), exec(NS, "deployment/hub")),
        format!(
            "error: no permission to exec in pod `{0}` of namespace `jupyterhub`: pods \"{0}\" is forbidden: \
             User \"system:serviceaccount:jupyterhub:jhctl-test\" cannot create resource \"pods/exec\" in API \
             group \"\" in the namespace \"jupyterhub\"; this needs RBAC `create` on `pods/exec` in namespace \
             `jupyterhub` (check with `kubectl auth can-i create pods/exec -n jupyterhub`): ask a cluster admin \
             for it, or choose another context with `--context`\n",
            pods[0]
        )
    );
    k8s.allow_all();
    k8s.deny("list", "pods");
    let stderr = fails(on(&k8s), exec(NS, "deployment/hub"));
    assert_eq!(
        stderr,
        "error: no permission to list pods of deployment `hub` in namespace `jupyterhub`: pods is forbidden: \
         User \"system:serviceaccount:jupyterhub:jhctl-test\" cannot list resource \"pods\" in API group \"\" \
         in the namespace \"jupyterhub\"; ask a cluster admin for access or choose another context with \
         `--context`\n"
    );
    assert_eq!(k8s.exec_count(), 0);
}

#[test]
fn contexts_are_chosen_and_checked() {
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, SECRET, &[("api-token", "t"), ("admin-password", "pw")]);
    let out = on(&k8s).args(["--context", "fake", "credentials", "show"]).run().expect_status(0);
    assert_eq!(out.stdout, "Admin password: pw\nAPI token: present (--reveal prints it)\n");
    let asked = k8s.requests().len();

    let out = on(&k8s).args(["--context", "nope", "credentials", "show"]).run().expect_status(1);
    no_panic(&out);
    assert_eq!(
        out.stderr,
        "error: kube context `nope` not found in the kubeconfig; available contexts: fake; pick one with `--context`\n"
    );
    let out = on(&k8s).args(["--context", "nope", "eval", EXEC]).run().expect_status(1);
    assert!(out.stderr.contains("kube context `nope` not found in the kubeconfig; available contexts: fake"), "{out}");

    // For the token too.
    let out = on(&k8s).args(["--context", "nope", "eval", "hub.users()"]).run().expect_status(2);
    no_panic(&out);
    assert!(out.stderr.contains("kube context `nope` not found in the kubeconfig; available contexts: fake"), "{out}");
    // An unknown context never falls back to the current one.
    assert_eq!(k8s.requests().len(), asked, "{:?}", k8s.requests());
}
