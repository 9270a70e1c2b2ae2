//! `cli(spec)`: a script declares its own command line as a Rhai map and
//! gets clap's parsing, help and errors.
//!
//! ```text
//! cli(#{ name, about, epilog, flags: [..], args: [..], commands: #{ name: spec },
//!        exclusive: [["a", "b"]], one_of: [["a", "b"]], require_command: true })
//! flag: #{ name, short, help, kind: "bool"|"string"|"int"|"list", default, env, required, value_name,
//!         allow_hyphen }   (allow_hyphen: the value may start with `-`, e.g. `--sort -created`)
//! arg:  #{ name, help, required, many }
//! ```
//! Flags declared at the top are global: they may stand before or after
//! the subcommand. The result is one map: every flag and argument by name
//! (`-` read as `_`), `command` and `subcommand` for the chosen ones.

use std::cell::RefCell;

use clap::{Arg, ArgAction, ArgGroup, ArgMatches, Command};
use rhai::{Array, Dynamic, EvalAltResult, Map};

use super::error::{bad_input, exit};

thread_local! {
    static SCRIPT: RefCell<(String, Vec<String>)> = const { RefCell::new((String::new(), Vec::new())) };
}

/// Records the running script's name and raw arguments for `cli()` and `args`.
pub fn set_script(name: &str, args: &[String]) {
    SCRIPT.with(|s| *s.borrow_mut() = (name.to_string(), args.to_vec()));
}

/// The running script's raw arguments.
pub fn script_args() -> Vec<String> {
    SCRIPT.with(|s| s.borrow().1.clone())
}

/// Builds the clap command from `spec`, parses the script's arguments, and
/// returns the values. `--help` prints help and stops with status 0; a bad
/// argument prints clap's error and stops with status 2.
pub fn parse(spec: &Map) -> Result<Map, Box<EvalAltResult>> {
    let (script, args) = SCRIPT.with(|s| s.borrow().clone());
    let name = get_str(spec, "name").unwrap_or_else(|| script.clone());
    let command = build(spec, &name, true)?.bin_name(format!("jhctl {name}"));
    let argv = std::iter::once(name.clone()).chain(args);
    let matches = match command.try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return Err(exit(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    let mut out = Map::new();
    collect(spec, &matches, &mut out);
    out.insert("command".into(), Dynamic::UNIT);
    out.insert("subcommand".into(), Dynamic::UNIT);
    if let Some((sub, sub_matches)) = matches.subcommand() {
        out.insert("command".into(), sub.into());
        let sub_spec = commands(spec).and_then(|c| c.get(sub).and_then(|s| s.read_lock::<Map>().map(|m| m.clone())));
        if let Some(sub_spec) = sub_spec {
            collect(&sub_spec, sub_matches, &mut out);
            if let Some((leaf, leaf_matches)) = sub_matches.subcommand() {
                out.insert("subcommand".into(), leaf.into());
                let leaf_spec =
                    commands(&sub_spec).and_then(|c| c.get(leaf).and_then(|s| s.read_lock::<Map>().map(|m| m.clone())));
                if let Some(leaf_spec) = leaf_spec {
                    collect(&leaf_spec, leaf_matches, &mut out);
                }
            }
        }
    }
    // Global flags: the value given at any level wins over the default.
    for flag in list(spec, "flags") {
        if let Some(id) = get_str(&flag, "name") {
            let mut level = Some(&matches);
            while let Some(m) = level {
                if m.value_source(&id) == Some(clap::parser::ValueSource::CommandLine) {
                    out.insert(key(&id).into(), value(&flag, m, &id));
                }
                level = m.subcommand().map(|(_, s)| s);
            }
        }
    }
    Ok(out)
}

fn build(spec: &Map, name: &str, top: bool) -> Result<Command, Box<EvalAltResult>> {
    let mut cmd = Command::new(name.to_string());
    if let Some(about) = get_str(spec, "about") {
        cmd = cmd.about(about);
    }
    if let Some(epilog) = get_str(spec, "epilog") {
        cmd = cmd.after_help(epilog);
    }
    // Top-level flags of a command with subcommands may stand after the subcommand.
    let global = top && commands(spec).is_some_and(|c| !c.is_empty());
    for flag in list(spec, "flags") {
        cmd = cmd.arg(flag_arg(&flag, global)?);
    }
    for arg in list(spec, "args") {
        cmd = cmd.arg(positional(&arg)?);
    }
    for (i, group) in list_of_lists(spec, "exclusive").into_iter().enumerate() {
        cmd = cmd.group(ArgGroup::new(format!("exclusive-{i}")).args(group).multiple(false));
    }
    for (i, group) in list_of_lists(spec, "one_of").into_iter().enumerate() {
        cmd = cmd.group(ArgGroup::new(format!("one-of-{i}")).args(group).multiple(false).required(true));
    }
    if get_bool(spec, "require_command") {
        cmd = cmd.subcommand_required(true).arg_required_else_help(true);
    }
    if let Some(commands) = commands(spec) {
        for (sub, sub_spec) in commands {
            let sub_spec = sub_spec
                .read_lock::<Map>()
                .map(|m| m.clone())
                .ok_or_else(|| bad_input(format!("cli(): command `{sub}` must be a map")))?;
            cmd = cmd.subcommand(build(&sub_spec, &sub, false)?);
        }
    }
    Ok(cmd)
}

fn flag_arg(flag: &Map, global: bool) -> Result<Arg, Box<EvalAltResult>> {
    let name = get_str(flag, "name").ok_or_else(|| bad_input("cli(): every flag needs a `name`"))?;
    let required = get_bool(flag, "required");
    let mut arg = Arg::new(name.clone()).long(name.clone()).global(global && !required);
    if let Some(short) = get_str(flag, "short").and_then(|s| s.chars().next()) {
        arg = arg.short(short);
    }
    if let Some(help) = get_str(flag, "help") {
        arg = arg.help(help);
    }
    if let Some(env) = get_str(flag, "env") {
        arg = arg.env(env);
    }
    if let Some(value_name) = get_str(flag, "value_name") {
        arg = arg.value_name(value_name);
    }
    arg = match kind(flag).as_str() {
        "bool" => arg.action(ArgAction::SetTrue),
        "string" => arg.action(ArgAction::Set),
        "int" => arg.action(ArgAction::Set).value_parser(clap::value_parser!(i64)).allow_negative_numbers(true),
        "list" => arg.action(ArgAction::Append).num_args(1..),
        other => {
            return Err(bad_input(format!(
                "cli(): flag `{name}` has unknown kind `{other}`; use bool, string, int or list"
            )))
        }
    };
    if let Some(default) = flag.get("default").filter(|d| !d.is_unit()) {
        arg = arg.default_value(default.to_string());
    }
    if get_bool(flag, "required") {
        arg = arg.required(true);
    }
    if get_bool(flag, "allow_hyphen") {
        arg = arg.allow_hyphen_values(true);
    }
    Ok(arg)
}

fn positional(spec: &Map) -> Result<Arg, Box<EvalAltResult>> {
    let name = get_str(spec, "name").ok_or_else(|| bad_input("cli(): every argument needs a `name`"))?;
    let mut arg = Arg::new(name.clone()).value_name(name.to_uppercase().replace('-', "_"));
    if let Some(help) = get_str(spec, "help") {
        arg = arg.help(help);
    }
    if get_bool(spec, "many") {
        arg = arg.num_args(1..).action(ArgAction::Append);
    }
    if kind(spec) == "int" {
        arg = arg.value_parser(clap::value_parser!(i64));
    }
    if let Some(default) = spec.get("default").filter(|d| !d.is_unit()) {
        arg = arg.default_value(default.to_string());
    }
    Ok(arg.required(get_bool(spec, "required")))
}

fn collect(spec: &Map, matches: &ArgMatches, out: &mut Map) {
    for flag in list(spec, "flags") {
        if let Some(id) = get_str(&flag, "name") {
            out.insert(key(&id).into(), value(&flag, matches, &id));
        }
    }
    for arg in list(spec, "args") {
        if let Some(id) = get_str(&arg, "name") {
            let value = match (get_bool(&arg, "many"), kind(&arg).as_str()) {
                (true, _) => strings(matches, &id),
                (false, "int") => int(matches, &id),
                _ => string(matches, &id),
            };
            out.insert(key(&id).into(), value);
        }
    }
}

/// The value of flag `id` by its kind.
fn value(flag: &Map, matches: &ArgMatches, id: &str) -> Dynamic {
    match kind(flag).as_str() {
        "bool" => matches.try_get_one::<bool>(id).ok().flatten().copied().unwrap_or(false).into(),
        "int" => int(matches, id),
        "list" => strings(matches, id),
        _ => string(matches, id),
    }
}

fn int(matches: &ArgMatches, id: &str) -> Dynamic {
    matches.try_get_one::<i64>(id).ok().flatten().map(|v| Dynamic::from(*v)).unwrap_or(Dynamic::UNIT)
}

fn string(matches: &ArgMatches, id: &str) -> Dynamic {
    matches.try_get_one::<String>(id).ok().flatten().map(|v| Dynamic::from(v.clone())).unwrap_or(Dynamic::UNIT)
}

fn strings(matches: &ArgMatches, id: &str) -> Dynamic {
    match matches.try_get_many::<String>(id).ok().flatten() {
        Some(values) => values.map(|v| Dynamic::from(v.clone())).collect::<Array>().into(),
        None => Array::new().into(),
    }
}

/// A flag's kind; `bool` when not given (for an argument: text).
fn kind(spec: &Map) -> String {
    get_str(spec, "kind").unwrap_or_else(|| "bool".into())
}

fn key(id: &str) -> String {
    id.replace('-', "_")
}

fn get_str(map: &Map, key: &str) -> Option<String> {
    map.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string())
}

fn get_bool(map: &Map, key: &str) -> bool {
    map.get(key).and_then(|v| v.as_bool().ok()).unwrap_or(false)
}

fn list(map: &Map, key: &str) -> Vec<Map> {
    map.get(key)
        .and_then(|v| {
            v.read_lock::<Array>().map(|a| a.iter().filter_map(|x| x.read_lock::<Map>().map(|m| m.clone())).collect())
        })
        .unwrap_or_default()
}

fn list_of_lists(map: &Map, key: &str) -> Vec<Vec<String>> {
    map.get(key)
        .and_then(|v| {
            v.read_lock::<Array>().map(|a| {
                a.iter()
                    .filter_map(|g| g.read_lock::<Array>().map(|g| g.iter().map(|x| x.to_string()).collect()))
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn commands(spec: &Map) -> Option<Map> {
    spec.get("commands").and_then(|c| c.read_lock::<Map>().map(|m| m.clone()))
}
