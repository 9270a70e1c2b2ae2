//! The shell completions of `jhctl completions SHELL`: jhctl's own command
//! line, and each bundled script's (`manage-users create ...`) built from
//! the same `cli()` spec that prints its `--help`.

use std::path::Path;
use std::rc::Rc;

use clap::Command;

use super::cli_spec::{self, Taken};
use super::runtime::Context;
use super::{build_engine, bundled};

/// `top` (jhctl's own command) with every bundled script's command line
/// as a subcommand. A script's flags that jhctl has as global flags
/// (`--url`, `-n`, `--dry-run`, ...) are completed from jhctl's.
pub fn with_bundled(mut top: Command, context: &Rc<Context>) -> Command {
    let taken = globals(&top);
    let engine = build_engine(Path::new("."), context);
    for script in bundled::SCRIPTS {
        let name = script.name.replace('_', "-");
        cli_spec::set_script(&name, &[]);
        let command = cli_spec::capture(taken.clone(), || {
            // The script stops at its `cli(spec)`, before it does anything.
            if let Ok(ast) = engine.compile(script.source) {
                let _ = engine.run_ast(&ast);
            }
        });
        if let Some(command) = command {
            top = top.subcommand(command.name(name));
        }
    }
    top
}

/// The long names and short letters of `command`'s global flags.
fn globals(command: &Command) -> Taken {
    let global = || command.get_arguments().filter(|a| a.is_global_set());
    Taken {
        longs: global().filter_map(|a| a.get_long().map(str::to_string)).collect(),
        shorts: global().filter_map(|a| a.get_short()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn command() -> Command {
        with_bundled(crate::cli::Cli::command(), &Rc::default())
    }

    #[test]
    fn every_bundled_script_is_a_subcommand_with_its_commands_and_flags() {
        let top = command();
        for script in bundled::SCRIPTS {
            let name = script.name.replace('_', "-");
            assert!(top.find_subcommand(&name).is_some(), "{name} is not completed");
        }
        let manage = top.find_subcommand("manage-users").unwrap();
        let create = manage.find_subcommand("create").expect("manage-users create");
        let longs: Vec<&str> = create.get_arguments().filter_map(|a| a.get_long()).collect();
        assert!(longs.contains(&"generate-passwords") && longs.contains(&"group"), "{longs:?}");
        let tokens = manage.find_subcommand("tokens").expect("manage-users tokens");
        assert!(tokens.find_subcommand("create").is_some());
        let gen = top.find_subcommand("generate-users-template").unwrap();
        assert!(gen.get_arguments().any(|a| a.get_long() == Some("prefix")));
    }

    #[test]
    fn the_completion_scripts_are_generated_for_every_shell() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command(), "jhctl", &mut out);
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("generate-passwords") && text.contains("set-passwords"), "{shell}");
        }
    }
}
