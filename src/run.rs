//! `run`: parse the command line, set up the settings, dispatch, and
//! return the exit status. main.rs only calls this.

use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::hub::Token;
use crate::script::runner::{self, Source};
use crate::script::{build_engine, bundled, completions, doc, runtime};

/// Runs jhctl with the process's arguments; returns the exit status.
pub fn run() -> i32 {
    let parsed = Cli::command().try_get_matches().and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let g = &cli.global;
    let typed = matches.value_source("token") == Some(ValueSource::CommandLine);
    let token = match given_token(g.token.as_deref(), typed, g.token_file.as_deref()) {
        Ok(token) => token,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let context = runtime::Context::new(runtime::Settings {
        url: g.url.clone(),
        token,
        cacert: g.cacert.clone(),
        insecure: g.insecure,
        namespace: g.namespace.clone(),
        context: g.context.clone(),
        concurrency: usize::from(g.concurrency),
        dry_run: g.dry_run,
        json: g.json,
        verbose: g.verbose,
        quiet: g.quiet,
    });
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let status = match cli.command {
        Command::Scripts => {
            let mut out = std::io::stdout().lock();
            for s in bundled::SCRIPTS {
                let _ = writeln!(out, "{:26}{}", s.name.replace('_', "-"), bundled::summary(s.source));
            }
            0
        }
        Command::Doc { name } => {
            let engine = build_engine(&cwd, &context);
            match doc::render(&engine, name.as_deref()) {
                Some(text) => {
                    let _ = write!(std::io::stdout(), "{text}");
                    0
                }
                None => {
                    let wanted = name.unwrap_or_default();
                    let hints = doc::suggest(&engine, &wanted);
                    eprintln!("error: no primitive called `{wanted}`");
                    if !hints.is_empty() {
                        eprintln!("did you mean: {}", hints.join(", "));
                    }
                    eprintln!("`jhctl doc` lists them all");
                    2
                }
            }
        }
        Command::Completions { shell } => {
            let mut command = completions::with_bundled(Cli::command(), &context);
            clap_complete::generate(shell, &mut command, "jhctl", &mut std::io::stdout());
            0
        }
        Command::Eval { code } => {
            runtime::catch_interrupts();
            let engine = build_engine(&cwd, &context);
            runner::eval(&engine, &Source { name: "<eval>", text: &code })
        }
        Command::Repl => crate::repl::run(&cwd, &context),
        Command::Run { words } => {
            runtime::catch_interrupts();
            run_file(&words[0], &words[1..], &context)
        }
        Command::Script(mut words) => {
            runtime::catch_interrupts();
            let name = words.remove(0);
            match bundled::script(&name) {
                Some(script) if !name.ends_with(".rhai") => {
                    let engine = build_engine(&cwd, &context);
                    let source = Source { name: script.path, text: script.source };
                    runner::run(&engine, &source, &name.replace('_', "-"), &words)
                }
                _ if name.ends_with(".rhai") || Path::new(&name).is_file() => run_file(&name, &words, &context),
                _ => {
                    eprintln!("error: no bundled script or file called `{name}`");
                    let near: Vec<String> = bundled::SCRIPTS
                        .iter()
                        .map(|s| s.name.replace('_', "-"))
                        .filter(|s| s.contains(&name.replace('_', "-")) || name.contains(s.as_str()))
                        .collect();
                    if !near.is_empty() {
                        eprintln!("did you mean: {}", near.join(", "));
                    }
                    eprintln!("`jhctl scripts` lists the bundled scripts; `jhctl --help` the commands");
                    2
                }
            }
        }
    };
    // A lease taken on a hub ends with the run, however it ended.
    runtime::release_leases();
    runtime::interrupted_status(status)
}

/// The token given to jhctl itself: `--token-file` (which wins over
/// JUPYTERHUB_TOKEN), else `--token` or JUPYTERHUB_TOKEN (`token`; `typed`
/// when it came from the command line). Both flags at once is an error.
fn given_token(token: Option<&str>, typed: bool, file: Option<&str>) -> Result<Option<Token>, String> {
    match file {
        Some(_) if typed => Err(crate::credentials::TOKEN_TWICE.to_string()),
        Some(path) => {
            crate::credentials::read_secret_file(path, "token").map(|t| Some(Token::new(t))).map_err(|e| e.to_string())
        }
        None => Ok(token.filter(|t| !t.trim().is_empty()).map(Token::new)),
    }
}

fn run_file(file: &str, args: &[String], context: &Rc<runtime::Context>) -> i32 {
    let path = Path::new(file);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read script `{file}`: {e}");
            return 2;
        }
    };
    let engine = build_engine(&runner::base_of(path), context);
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| file.to_string());
    runner::run(&engine, &Source { name: file, text: &text }, &name, args)
}
