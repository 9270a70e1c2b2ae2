//! Issue 11, "one source of truth for dry run": `hub.set_dry_run(true)`
//! (like `--dry-run`) stops the cluster calls and the exec password path
//! too, and a dry run says what the real run would do, refusals included.
//! The cluster is the fake API server; nothing may be written to it.

use crate::support::fake_k8s::FakeCluster;
use crate::support::hub::TestHub;
use crate::support::test::{Output, Test};

const NS: &str = "jupyterhub";
const SECRET: &str = "jupyterhub-admin-credentials";

/// A run of jhctl whose kubeconfig is `k8s`'s.
fn on(k8s: &FakeCluster) -> Test {
    Test::new().env("KUBECONFIG", k8s.kubeconfig_path())
}

/// Panics when the fake cluster received anything but reads.
fn only_reads(k8s: &FakeCluster) {
    let writes: Vec<String> = k8s.requests().into_iter().filter(|r| !r.starts_with("GET ")).collect();
    assert!(writes.is_empty(), "a dry run sent {writes:?}");
}

#[test]
fn set_dry_run_stops_the_cluster_calls() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    let script = r#"
        hub.set_dry_run(true);
        print(cluster::create_secret("jupyterhub", "demo", #{ key: "value" }));
        print(cluster::create_secret("jupyterhub", "demo", #{ key: "value" }, #{ overwrite: true }));
        print(cluster::rollout_restart("jupyterhub", "hub"));
        print(cluster::rollout_restart("jupyterhub", "hub", #{ wait: 5 }));
        print(hub.dry_run);
    "#;
    on(&k8s)
        .file("plan.rhai", script)
        .args(["run", "plan.rhai"])
        .run()
        .expect_status(0)
        .expect_stdout("planned\nplanned\nplanned\nplanned\ntrue\n")
        .expect_stderr("");
    assert_eq!(k8s.secret(NS, "demo"), None);
    assert!(k8s.restarts(NS, "hub").is_empty());
    only_reads(&k8s);

    // Switched off again, the same calls do change the cluster.
    let script = r#"
        hub.set_dry_run(true);
        hub.set_dry_run(false);
        print(cluster::create_secret("jupyterhub", "demo", #{ key: "value" }));
    "#;
    on(&k8s).file("real.rhai", script).args(["run", "real.rhai"]).run().expect_status(0).expect_stdout("created\n");
    assert_eq!(k8s.secret(NS, "demo").unwrap()["key"], "value");
}

#[test]
fn a_dry_run_refuses_where_the_real_run_would() {
    let k8s = FakeCluster::start();
    k8s.put_secret(NS, "demo", &[("key", "old")]);
    // An existing secret without `overwrite`: the real run throws, so does the dry run.
    let out = on(&k8s)
        .args(["eval", r#"hub.set_dry_run(true); cluster::create_secret("jupyterhub", "demo", #{ key: "new" })"#])
        .run()
        .expect_status(1);
    assert!(out.stderr.contains("secret `demo` already exists in namespace `jupyterhub`"), "{out}");
    // A deployment that does not exist: the restart would fail, so does the dry run.
    let out = on(&k8s).args(["--dry-run", "eval", r#"cluster::rollout_restart("jupyterhub", "nohub")"#]).run();
    let out = out.expect_status(1);
    assert!(out.stderr.contains("`nohub` not found in namespace `jupyterhub`"), "{out}");
    assert_eq!(k8s.secret(NS, "demo").unwrap()["key"], "old");
    only_reads(&k8s);
}

#[test]
fn credentials_create_dry_run_over_an_existing_secret() {
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    k8s.put_secret(NS, SECRET, &[("api-token", "keep"), ("admin-password", "keep-pw")]);

    let out: Output = on(&k8s).args(["--dry-run", "credentials", "create"]).run();
    out.expect_status(1).expect_stdout("").expect_stderr(
        "error: secret `jupyterhub-admin-credentials` already exists in namespace `jupyterhub`; a real run would \
         refuse and change nothing; to replace it, run `jhctl credentials create --force --restart`\n",
    );
    on(&k8s).args(["--dry-run", "credentials", "create", "--force", "--restart"]).run().expect_status(0).expect_stdout(
        "📝 Would replace secret jupyterhub-admin-credentials in namespace jupyterhub\n\
             📝 Would restart deployment/hub in namespace jupyterhub\n",
    );
    let secret = k8s.secret(NS, SECRET).unwrap();
    assert_eq!((secret["api-token"].as_str(), secret["admin-password"].as_str()), ("keep", "keep-pw"));
    assert!(k8s.restarts(NS, "hub").is_empty());
    only_reads(&k8s);

    // The real run refuses the same way, as done.
    let out = on(&k8s).args(["credentials", "create"]).run().expect_status(1);
    assert!(
        out.stderr.contains("already exists in namespace `jupyterhub`; nothing was changed; to replace it"),
        "{out}"
    );
}

#[test]
fn set_dry_run_stops_passwords_through_the_pod() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);
    let k8s = FakeCluster::start();
    k8s.add_deployment(NS, "hub", 1);
    let script = r#"
        hub.set_dry_run(true);
        let r = hub.set_passwords([#{ username: "ann", password: "Secret-123" }], #{ via: "exec", output: "sheet.csv" });
        print(`${r[0].name} ${r[0].status}`);
    "#;
    let test = on(&k8s).hub(&hub).file("pw.rhai", script).args(["run", "pw.rhai"]);
    test.run().expect_status(0).expect_stdout("ann planned\n");
    assert_eq!(k8s.exec_count(), 0, "a dry run ran a program in the hub pod");
    assert!(!test.dir().join("sheet.csv").exists(), "a dry run wrote a password sheet");
    assert_eq!(hub.stored_password("ann", "Secret-123"), None);
}
