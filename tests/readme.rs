//! The README's examples run as shown: the example script, and (issue #27)
//! every shell block of the "Quick start" and "From the user guide"
//! sections, against the test hub, with the connection set up as the
//! Quick start says; each block is checked for what the text says it does.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::fake_k8s::FakeCluster;
use crate::support::hub::TestHub;
use crate::support::test::{Output, Test};

const README: &str = include_str!("../README.md");

/// The first ```rhai block of README.md.
fn readme_script() -> String {
    let start = README.find("```rhai\n").expect("README has a rhai example") + "```rhai\n".len();
    let end = start + README[start..].find("```").expect("the example ends");
    README[start..end].to_string()
}

#[test]
fn readme_enrol_example_runs() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], false);
    let out = Test::new()
        .hub(&hub)
        .file("enrol.rhai", readme_script())
        .file("class.csv", "username,admin\nAnn,false\nben,true\nbad/name,false\n")
        .args(["run", "enrol.rhai", "class.csv", "lab3"])
        .run()
        .expect_status(1);
    assert!(out.stdout.contains("❌ bad/name: "), "{out}");
    assert!(out.stdout.contains("  ✅ Created: 1\n  👥 In group: 2\n"), "{out}");
    assert_eq!(hub.usernames(), ["ann", "ben"]);
    assert_eq!(hub.user("ben").unwrap()["admin"], true);
    let groups = hub.groups();
    assert_eq!(groups[0]["name"], "lab3");
    assert_eq!(groups[0]["users"], serde_json::json!(["ann", "ben"]));
}

/// The ```sh blocks of the README section headed `## {title}` (up to the next `## `).
fn shell_blocks(title: &str) -> Vec<&'static str> {
    let heading = format!("\n## {title}\n");
    let start = README.find(&heading).unwrap_or_else(|| panic!("README has no section `{title}`")) + heading.len();
    let section = &README[start..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section.split("```sh\n").skip(1).map(|rest| &rest[..rest.find("```").expect("the block ends")]).collect()
}

/// Where the shell blocks run: a work folder and a home of their own, with
/// the built `jhctl` first on `PATH` and nothing of the developer's
/// environment (no hub, no token, no kubeconfig).
struct Shell {
    dir: tempfile::TempDir,
}

impl Shell {
    fn new() -> Shell {
        let shell = Shell { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(shell.work()).unwrap();
        std::fs::create_dir_all(shell.home()).unwrap();
        shell
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Runs `block` with `bash -euo pipefail` (so the first command that
    /// fails ends it), with `env` on top of the clean environment.
    fn run(&self, block: &str, env: &[(&str, &str)]) -> Output {
        let jhctl = Path::new(env!("CARGO_BIN_EXE_jhctl")).parent().unwrap().to_owned();
        let path = std::env::join_paths(
            std::iter::once(jhctl).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        let home = self.home();
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-euo", "pipefail", "-c", block])
            .current_dir(self.work())
            .env_clear()
            .env("PATH", path)
            .env("HOME", &home)
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("KUBECONFIG", home.join(".kube/no-such-config"))
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .expect("bash runs");
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

// Issue #27: the Quick start, block by block, as a new admin runs it.
#[test]
fn readme_quick_start_blocks_do_what_the_text_says() {
    let blocks = shell_blocks("Quick start");
    assert_eq!(blocks.len(), 3, "a new shell block in the Quick start needs its check here");
    let hub = TestHub::start();
    let shell = Shell::new();
    let connected = format!("✅ Connected to JupyterHub at {}\n", hub.url());

    // 1. A token from the hub's token page, saved in a file; the README's
    // example address stands for the hub's.
    std::fs::create_dir_all(shell.home().join(".config/jhctl")).unwrap();
    std::fs::write(shell.home().join(".config/jhctl/token"), format!("{}\n", hub.token())).unwrap();
    assert!(blocks[0].contains("https://hub.example.edu"), "{}", blocks[0]);
    let block = blocks[0].replace("https://hub.example.edu", hub.url());
    let out = shell.run(&block, &[]).expect_status(0);
    assert!(out.stdout.starts_with(&connected) && out.stdout.contains("📋 Total users: 0"), "{out}");

    // 2. The guide's secret, read through the kubeconfig.
    let k8s = FakeCluster::start();
    k8s.put_secret(
        "jupyterhub",
        "jupyterhub-admin-credentials",
        &[("api-token", hub.token()), ("admin-password", "pw")],
    );
    let kubeconfig = k8s.kubeconfig_path().to_str().unwrap();
    let out = shell.run(blocks[1], &[("KUBECONFIG", kubeconfig), ("JUPYTERHUB_URL", hub.url())]).expect_status(0);
    assert!(out.stdout.starts_with(&connected) && out.stdout.contains("📋 Total users: 0"), "{out}");
    assert!(!out.stdout.contains(hub.token()) && !out.stderr.contains(hub.token()), "{out}");

    // 3. A class from a sheet, with passwords on a sheet of their own.
    let env = [("JUPYTERHUB_URL", hub.url()), ("JUPYTERHUB_TOKEN", hub.token())];
    let out = shell.run(blocks[2], &env).expect_status(0);
    assert!(out.stdout.contains("👥 Group lab1: 3 members"), "{out}");
    assert_eq!(hub.usernames(), ["student01", "student02", "teacher01"]);
    assert_eq!(hub.user("teacher01").unwrap()["admin"], true);
    assert_eq!(hub.user("student01").unwrap()["admin"], false);
    let groups: Vec<(String, serde_json::Value)> =
        hub.groups().iter().map(|g| (g["name"].as_str().unwrap().to_string(), g["users"].clone())).collect();
    assert!(
        groups.contains(&("lab1".into(), serde_json::json!(["student01", "student02", "teacher01"]))),
        "{groups:?}"
    );
    assert!(groups.contains(&("staff".into(), serde_json::json!(["teacher01"]))), "{groups:?}");
    let sheet = std::fs::read_to_string(shell.work().join("sheet.csv")).unwrap();
    // Written as the hub takes each password: in no fixed order.
    let mut names: Vec<&str> = sheet.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["student01", "student02", "teacher01"], "{sheet}");
    assert!(sheet.starts_with("username,password,force_change\n"), "{sheet}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(shell.work().join("sheet.csv")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

// Issue #27: the guide's workflows, as the README translates them.
#[test]
fn readme_from_the_user_guide_blocks_do_what_the_text_says() {
    let blocks = shell_blocks("From the user guide");
    assert_eq!(blocks.len(), 1, "a new shell block in From the user guide needs its check here");
    let hub = TestHub::start();
    hub.create_users(&["teacher01"], false);
    let shell = Shell::new();
    let env = [("JUPYTERHUB_URL", hub.url()), ("JUPYTERHUB_TOKEN", hub.token())];
    let out = shell.run(blocks[0], &env).expect_status(0);
    // 50 students created, then 41 to 50 removed again; teacher01 promoted.
    let mut expected: Vec<String> = (1..=40).map(|n| format!("student{n:02}")).collect();
    expected.push("teacher01".into());
    assert_eq!(hub.usernames(), expected, "{out}");
    assert_eq!(hub.user("teacher01").unwrap()["admin"], true);
    // The backup holds the 50 students and teacher01, as they were before the delete.
    let backups: Vec<_> = std::fs::read_dir(shell.work())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with("users_backup_") && n.ends_with(".xlsx"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let check = Test::new()
        .hub(&hub)
        .file("backup.xlsx", std::fs::read(shell.work().join(&backups[0])).unwrap())
        .args(["eval", r#"roster::read("backup.xlsx").len()"#])
        .run()
        .expect_status(0);
    assert_eq!(check.stdout, "51\n", "{check}");
}
