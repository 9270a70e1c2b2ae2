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
//!
//! A command's spec may also be a function that returns it. Only the
//! chosen command's function is called (all of them for the top-level help
//! or when the command cannot be told from the arguments), so a script
//! with many commands imports the module behind each one only when it runs.

use std::cell::RefCell;

use clap::{Arg, ArgAction, ArgGroup, ArgMatches, Command};
use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map};

use super::error::{bad_input, exit};

thread_local! {
    static SCRIPT: RefCell<(String, Vec<String>)> = const { RefCell::new((String::new(), Vec::new())) };
    static CAPTURE: RefCell<Option<Capture>> = const { RefCell::new(None) };
}

/// What [`capture`] asked for and what it got.
struct Capture {
    /// Long names (and short letters) the command will be grafted under
    /// already has as global flags: left out of the captured command.
    taken: Taken,
    /// The command the first `cli(spec)` built.
    command: Option<Command>,
}

/// The long names and short letters of flags that are taken already.
#[derive(Clone, Debug, Default)]
pub struct Taken {
    /// Long names, e.g. `url`, `dry-run`.
    pub longs: Vec<String>,
    /// Short letters, e.g. `n`, `v`.
    pub shorts: Vec<char>,
}

/// Runs `run` (which runs a script) with `cli()` in capture mode: the
/// script's first `cli(spec)` builds its whole command line (every
/// command's spec resolved, so its modules are imported), keeps it and
/// stops the script with `exit(0)` before anything else happens. Flags in
/// `taken` are left out (the shell completions graft the command under
/// jhctl, whose global flags reach every subcommand). Returns the command,
/// or `None` when the script never called `cli()`.
pub fn capture(taken: Taken, run: impl FnOnce()) -> Option<Command> {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Capture { taken, command: None }));
    run();
    CAPTURE.with(|c| c.borrow_mut().take().and_then(|c| c.command))
}

/// What is taken already, when `cli()` is in capture mode.
fn capturing() -> Option<Taken> {
    CAPTURE.with(|c| c.borrow().as_ref().map(|c| c.taken.clone()))
}

/// In capture mode: builds and keeps the whole command of `spec`, then
/// stops the script.
fn captured(spec: &Map, name: &str, taken: &Taken, call: &mut CallSpec) -> Result<Map, Box<EvalAltResult>> {
    let mut spec = spec.clone();
    resolve_commands(&mut spec, None, call)?;
    without_taken(&mut spec, taken);
    let command = build(&spec, name, true)?;
    CAPTURE.with(|c| {
        if let Some(c) = c.borrow_mut().as_mut() {
            c.command = Some(command);
        }
    });
    Err(exit(0))
}

/// Removes the flags whose long name is taken, and the short letters that
/// are taken, from `spec` and every command in it; and the groups of
/// flags (`exclusive`, `one_of`), which may name a removed flag and do
/// not change what completes.
fn without_taken(spec: &mut Map, taken: &Taken) {
    spec.remove("exclusive");
    spec.remove("one_of");
    let flags: Array = list(spec, "flags")
        .into_iter()
        .filter(|f| get_str(f, "name").is_none_or(|n| !taken.longs.contains(&n)))
        .map(|mut f| {
            if get_str(&f, "short").and_then(|s| s.chars().next()).is_some_and(|c| taken.shorts.contains(&c)) {
                f.remove("short");
            }
            Dynamic::from(f)
        })
        .collect();
    if spec.contains_key("flags") {
        spec.insert("flags".into(), flags.into());
    }
    if let Some(mut commands) = commands(spec) {
        for entry in commands.values_mut() {
            if let Some(mut sub) = entry.read_lock::<Map>().map(|m| m.clone()) {
                without_taken(&mut sub, taken);
                *entry = sub.into();
            }
        }
        spec.insert("commands".into(), commands.into());
    }
}

/// Records the running script's name and raw arguments for `cli()` and `args`.
pub fn set_script(name: &str, args: &[String]) {
    SCRIPT.with(|s| *s.borrow_mut() = (name.to_string(), args.to_vec()));
}

/// The running script's raw arguments.
pub fn script_args() -> Vec<String> {
    SCRIPT.with(|s| s.borrow().1.clone())
}

/// Calls a command's spec function (see the module doc).
pub type CallSpec<'a> = dyn FnMut(&FnPtr) -> Result<Dynamic, Box<EvalAltResult>> + 'a;

/// Builds the clap command from `spec`, parses the script's arguments, and
/// returns the values. `--help` prints help and stops with status 0; a bad
/// argument prints clap's error and stops with status 2. `call` turns a
/// command given as a function into its spec.
pub fn parse(spec: &Map, call: &mut CallSpec) -> Result<Map, Box<EvalAltResult>> {
    let (script, args) = SCRIPT.with(|s| s.borrow().clone());
    let name = get_str(spec, "name").unwrap_or_else(|| script.clone());
    if let Some(taken) = capturing() {
        return captured(spec, &name, &taken, call);
    }
    let mut spec = spec.clone();
    let chosen = chosen_command(&spec, &args);
    resolve_commands(&mut spec, chosen.as_deref(), call)?;
    let mut matches = try_parse(&spec, &name, &args)?;
    if chosen.is_some() && matches.subcommand_name() != chosen.as_deref() {
        // The arguments named another command than the scan found: parse
        // again with every command's spec.
        resolve_commands(&mut spec, None, call)?;
        matches = try_parse(&spec, &name, &args)?;
    }
    let spec = &spec;
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

/// Parses `args` against `spec`; help and errors stop the script.
fn try_parse(spec: &Map, name: &str, args: &[String]) -> Result<ArgMatches, Box<EvalAltResult>> {
    let command = build(spec, name, true)?.bin_name(format!("jhctl {name}"));
    let argv = std::iter::once(name.to_string()).chain(args.iter().cloned());
    command.try_get_matches_from(argv).map_err(|e| {
        let _ = e.print();
        exit(if e.use_stderr() { 2 } else { 0 })
    })
}

/// The command `args` name, read past the top-level flags (and their
/// values); `None` when it cannot be told for sure (help, an unknown
/// flag, a flag taking several values, no command).
fn chosen_command(spec: &Map, args: &[String]) -> Option<String> {
    let commands = commands(spec)?;
    let flags = list(spec, "flags");
    if flags.iter().any(|f| kind(f) == "list") {
        return None;
    }
    // Whether the flag named `long` (or with `short`) takes a value.
    let takes_value = |long: Option<&str>, short: Option<char>| {
        flags.iter().find_map(|f| {
            let name = get_str(f, "name");
            let letter = get_str(f, "short").and_then(|s| s.chars().next());
            let hit = (long.is_some() && name.as_deref() == long) || (short.is_some() && letter == short);
            hit.then(|| kind(f) != "bool")
        })
    };
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if let Some(long) = word.strip_prefix("--") {
            if long.is_empty() {
                return None;
            }
            if long.contains('=') {
                continue;
            }
            if takes_value(Some(long), None)? {
                words.next();
            }
        } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let letter = short.chars().next();
            // `-n NS`, or `-nNS` with the value attached.
            if takes_value(None, letter)? && short.chars().count() == 1 {
                words.next();
            }
        } else {
            return commands.contains_key(word.as_str()).then(|| word.clone());
        }
    }
    None
}

/// Calls the spec functions among `spec`'s commands: `only` that one, or
/// every one when `None`. Nested commands are resolved in full.
fn resolve_commands(spec: &mut Map, only: Option<&str>, call: &mut CallSpec) -> Result<(), Box<EvalAltResult>> {
    let Some(mut commands) = commands(spec) else { return Ok(()) };
    for (name, entry) in commands.iter_mut() {
        if only.is_some_and(|only| only != name.as_str()) {
            continue;
        }
        let mut sub = match entry.clone().try_cast::<FnPtr>() {
            Some(f) => call(&f)?.try_cast::<Map>().ok_or_else(|| {
                bad_input(format!("cli(): the function of command `{name}` must return a map (its spec)"))
            })?,
            None => match entry.read_lock::<Map>() {
                Some(map) => map.clone(),
                None => continue,
            },
        };
        resolve_commands(&mut sub, None, call)?;
        *entry = sub.into();
    }
    spec.insert("commands".into(), commands.into());
    Ok(())
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
            if sub_spec.is::<FnPtr>() {
                // Not chosen: its spec is never read.
                cmd = cmd.subcommand(Command::new(sub.to_string()));
                continue;
            }
            let sub_spec = sub_spec.read_lock::<Map>().map(|m| m.clone()).ok_or_else(|| {
                bad_input(format!("cli(): command `{sub}` must be a map, or a function that returns one"))
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Map {
        let flag = |name: &str, short: Option<&str>, kind: &str| {
            let mut f = Map::new();
            f.insert("name".into(), name.into());
            if let Some(short) = short {
                f.insert("short".into(), short.into());
            }
            f.insert("kind".into(), kind.into());
            Dynamic::from(f)
        };
        let mut commands = Map::new();
        commands.insert("list".into(), Map::new().into());
        commands.insert("delete".into(), Map::new().into());
        let mut spec = Map::new();
        spec.insert(
            "flags".into(),
            vec![flag("url", None, "string"), flag("json", None, "bool"), flag("namespace", Some("n"), "string")]
                .into(),
        );
        spec.insert("commands".into(), commands.into());
        spec
    }

    fn chosen(args: &[&str]) -> Option<String> {
        chosen_command(&spec(), &args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_command_is_read_past_the_top_level_flags_and_their_values() {
        assert_eq!(chosen(&["list", "--csv"]).as_deref(), Some("list"));
        assert_eq!(chosen(&["--url", "delete", "list"]).as_deref(), Some("list"));
        assert_eq!(chosen(&["--url=x", "--json", "-n", "list", "delete", "f.csv"]).as_deref(), Some("delete"));
        assert_eq!(chosen(&["-nlist", "delete"]).as_deref(), Some("delete"));
    }

    #[test]
    fn taken_flags_and_letters_are_left_out_at_every_level() {
        let mut top = spec();
        let mut subs = commands(&top).unwrap();
        subs.insert("delete".into(), spec().into());
        top.insert("commands".into(), subs.into());
        top.insert("exclusive".into(), vec![Dynamic::from(vec![Dynamic::from("url"), Dynamic::from("json")])].into());
        let taken = Taken { longs: vec!["url".into()], shorts: vec!['n'] };
        without_taken(&mut top, &taken);
        for level in [top.clone(), commands(&top).unwrap()["delete"].read_lock::<Map>().unwrap().clone()] {
            let flags = list(&level, "flags");
            let names: Vec<String> = flags.iter().filter_map(|f| get_str(f, "name")).collect();
            assert_eq!(names, ["json", "namespace"]);
            assert!(flags.iter().all(|f| get_str(f, "short").is_none()), "{flags:?}");
        }
        assert!(!top.contains_key("exclusive"));
    }

    #[test]
    fn anything_unsure_names_no_command() {
        for args in
            [&["--help"][..], &["-h", "list"], &["--verbose", "list"], &["--", "list"], &["lst"], &[], &["--url"]]
        {
            assert_eq!(chosen(args), None, "{args:?}");
        }
        let mut with_list = spec();
        let mut flag = Map::new();
        flag.insert("name".into(), "tags".into());
        flag.insert("kind".into(), "list".into());
        with_list.insert("flags".into(), vec![Dynamic::from(flag)].into());
        assert_eq!(chosen_command(&with_list, &["list".to_string()]), None, "a flag of many values");
    }
}
