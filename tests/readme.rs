//! The README's example script runs as shown.

use crate::support::hub::TestHub;
use crate::support::test::Test;

/// The first ```rhai block of README.md.
fn readme_script() -> String {
    let readme = include_str!("../README.md");
    let start = readme.find("```rhai\n").expect("README has a rhai example") + "```rhai\n".len();
    let end = start + readme[start..].find("```").expect("the example ends");
    readme[start..end].to_string()
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
