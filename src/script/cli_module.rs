//! The `cli(spec)` primitive: a script's own command line.

use rhai::plugin::*;
use rhai::{EvalAltResult, FnPtr, Map};

/// The `cli` function.
#[export_module]
pub mod cli_module {
    use super::*;

    /// Declares the script's command line and parses its arguments with
    /// clap: `--help` prints real help (exit 0), a bad argument prints
    /// clap's error (exit 2). `spec` keys: `name`, `about`, `epilog`,
    /// `flags` (maps with `name`, `short`, `help`, `kind` = bool | string |
    /// int | list, `"default"` (quoted: `default` is a Rhai keyword), `env`, `required`), `args` (positional: `name`,
    /// `help`, `required`, `many`), `commands` (a map of name to spec, or to a
    /// function that returns the spec: only the chosen command's is called,
    /// so the modules behind the other commands are never imported),
    /// `exclusive` and `one_of` (lists of flag names of which at most / exactly
    /// one may be given), `require_command` (no command prints help, exit
    /// status 2). Returns a map of every value by name (`-` read
    /// as `_`), plus `command` and `subcommand`.
    ///
    /// ```rhai
    /// let a = cli(#{ name: "greet", args: [#{ name: "who", required: true }],
    ///                flags: [#{ name: "loud", short: "l", help: "shout" }] });
    /// print(if a.loud { a.who.to_upper() } else { a.who });
    ///
    /// let b = cli(#{ name: "tool", commands: #{
    ///     "hello": #{ about: "Say hello" },
    ///     "report": || { import "report" as report; #{ about: "Build a report" } },
    /// } });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cli(context: NativeCallContext, spec: Map) -> Result<Map, Box<EvalAltResult>> {
        crate::script::cli_spec::parse(&spec, &mut |f: &FnPtr| f.call_within_context(&context, ()))
    }
}
