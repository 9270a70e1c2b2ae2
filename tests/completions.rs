//! Issue #27: help reaches every command. The shell completions include
//! the bundled scripts' commands and flags (from their `cli()` specs), and
//! `jhctl run FILE --help` shows the script's help.

use std::process::Command;

use crate::support::test::Test;

/// What bash's completion of `line` offers, with the script `jhctl
/// completions bash` printed sourced, through `complete -p jhctl`.
fn bash_completes(script: &std::path::Path, line: &str) -> Vec<String> {
    let program = r#"
        source "$1"
        spec=$(complete -p jhctl) || exit 3
        fn=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$spec")
        read -ra COMP_WORDS <<<"$2"
        [[ "$2" == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMP_LINE="$2"
        COMP_POINT=${#COMP_LINE}
        prev=""
        (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
        "$fn" jhctl "${COMP_WORDS[COMP_CWORD]}" "$prev"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", program, "bash"])
        .arg(script)
        .arg(line)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "bash failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[test]
fn bash_completes_the_bundled_scripts_commands_and_flags() {
    let test = Test::new().args(["completions", "bash"]);
    let out = test.run().expect_status(0);
    let script = test.dir().join("jhctl.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    assert_eq!(bash_completes(&script, "jhctl manage-users cr"), ["create"]);
    assert_eq!(bash_completes(&script, "jhctl manage-users create --generate-p"), ["--generate-passwords"]);
    assert_eq!(bash_completes(&script, "jhctl manage-users tokens cr"), ["create"]);
    assert_eq!(bash_completes(&script, "jhctl set-pa"), ["set-passwords"]);
    assert_eq!(bash_completes(&script, "jhctl generate-users-template --pre"), ["--prefix"]);
    assert_eq!(bash_completes(&script, "jhctl credentials sh"), ["show"]);
    // jhctl's own commands stay.
    assert_eq!(bash_completes(&script, "jhctl comp"), ["completions"]);
}

#[test]
fn zsh_and_fish_completions_include_the_bundled_scripts() {
    for shell in ["zsh", "fish"] {
        let out = Test::new().args(["completions", shell]).run().expect_status(0);
        for word in ["manage-users", "generate-passwords", "set-passwords", "generate-users-template", "credentials"] {
            assert!(out.stdout.contains(word), "{shell}: no `{word}`");
        }
    }
}

#[test]
fn run_file_help_shows_the_scripts_help() {
    let script = r#"let a = cli(#{ name: "idle", about: "Stop idle servers", flags: [#{ name: "since", kind: "string" }] });
print(`since ${a.since}`);
"#;
    let test = Test::new().file("idle.rhai", script);
    let direct = Test::new().file("idle.rhai", script).args(["idle.rhai", "--help"]).run().expect_status(0);
    assert!(direct.stdout.starts_with("Stop idle servers\n\nUsage: jhctl idle [OPTIONS]"), "{direct}");
    let run = Test::new().file("idle.rhai", script).args(["run", "idle.rhai", "--help"]).run().expect_status(0);
    assert_eq!(run.stdout, direct.stdout);
    // Flags after the file are the script's; `run --help` is still run's own help.
    Test::new().file("idle.rhai", script).args(["run", "idle.rhai", "--since", "3h"]).run().expect_stdout("since 3h\n");
    let own = test.args(["run", "--help"]).run().expect_status(0);
    assert!(own.stdout.starts_with("Run a script file with its arguments"), "{own}");
}
