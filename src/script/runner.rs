//! Running a script or a piece of code, and turning how it ended into an
//! exit status and a message (path, line, column and a caret).

use std::io::Write;
use std::path::Path;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Position, Scope, AST};

use super::cli_spec::set_script;
use super::error::{EXIT_FAILED, EXIT_USAGE};
use super::terminal_text::escape_controls;

/// Where a script's text came from, for messages.
pub struct Source<'a> {
    /// Shown in messages: a path or `<eval>`.
    pub name: &'a str,
    /// The text.
    pub text: &'a str,
}

/// Runs a script with its raw arguments; returns the exit status.
pub fn run(engine: &Engine, source: &Source, script_name: &str, args: &[String]) -> i32 {
    set_script(script_name, args);
    let ast = match compile(engine, source) {
        Ok(ast) => ast,
        Err(code) => return code,
    };
    let mut scope = Scope::new();
    scope.push_constant("args", args.iter().cloned().map(Dynamic::from).collect::<rhai::Array>());
    match engine.run_ast_with_scope(&mut scope, &ast) {
        Ok(()) => 0,
        Err(err) => report(&err, source),
    }
}

/// Evaluates `code` and prints its value unless it is `()`; returns the exit status.
pub fn eval(engine: &Engine, source: &Source) -> i32 {
    set_script("eval", &[]);
    let ast = match compile(engine, source) {
        Ok(ast) => ast,
        Err(code) => return code,
    };
    match engine.eval_ast::<Dynamic>(&ast) {
        Ok(value) if value.is_unit() => 0,
        Ok(value) => {
            let _ = writeln!(std::io::stdout(), "{}", escape_controls(&super::show::show(&value)));
            0
        }
        Err(err) => report(&err, source),
    }
}

/// Compiles `source`, printing a syntax error with its place.
pub fn compile(engine: &Engine, source: &Source) -> Result<AST, i32> {
    match engine.compile(source.text) {
        Ok(mut ast) => {
            ast.set_source(source.name);
            Ok(ast)
        }
        Err(err) => {
            let message = err.0.to_string();
            eprint!("{}", located(&format!("syntax error: {message}"), source.name, source.text, err.1));
            Err(EXIT_USAGE as i32)
        }
    }
}

/// Prints how a script failed and returns its exit status: `exit(n)` ends
/// quietly with `n`; a primitive's error prints its message (status 1, or
/// 2 for bad input); anything else prints the error with its place (status 1).
pub fn report(err: &EvalAltResult, source: &Source) -> i32 {
    let mut inner = err;
    let mut origin = None;
    loop {
        match inner {
            EvalAltResult::ErrorInFunctionCall(_, src, next, _) => {
                if !src.is_empty() {
                    origin = Some(src.clone());
                }
                inner = next;
            }
            EvalAltResult::ErrorInModule(src, next, _) => {
                origin = Some(src.clone());
                inner = next;
            }
            _ => break,
        }
    }
    match inner {
        EvalAltResult::ErrorTerminated(value, _) => return value.as_int().unwrap_or(EXIT_FAILED) as i32,
        EvalAltResult::ErrorRuntime(value, pos) => {
            if let Some(map) = value.read_lock::<Map>() {
                if let (Some(message), Some(exit)) = (map.get("message"), map.get("exit")) {
                    eprintln!("error: {}", escape_controls(&message.to_string()));
                    return exit.as_int().unwrap_or(EXIT_FAILED) as i32;
                }
            }
            let place = place_of(origin.as_deref(), source, *pos, err.position());
            eprint!("{}", located(&format!("error: {value}"), &place.0, place.1, place.2));
        }
        _ => {
            let place = place_of(origin.as_deref(), source, inner.position(), err.position());
            eprint!("{}", located(&format!("error: {inner}"), &place.0, place.1, place.2));
        }
    }
    EXIT_FAILED as i32
}

/// The file, its text (when known) and the position to show.
fn place_of<'a>(
    origin: Option<&str>,
    source: &'a Source,
    inner: Position,
    outer: Position,
) -> (String, &'a str, Position) {
    match origin {
        Some(module) if module != source.name => (module.to_string(), "", inner),
        _ if !inner.is_none() => (source.name.to_string(), source.text, inner),
        _ => (source.name.to_string(), source.text, outer),
    }
}

/// `message`, then `--> file:line:col`, the line and a caret under the column.
pub fn located(message: &str, file: &str, text: &str, pos: Position) -> String {
    let message = escape_controls(message);
    let (Some(line), col) = (pos.line(), pos.position().unwrap_or(1)) else {
        return format!("{message}\n  --> {file}\n");
    };
    let mut out = format!("{message}\n  --> {file}:{line}:{col}\n");
    if let Some(code) = text.lines().nth(line - 1) {
        let gutter = line.to_string().len();
        out += &format!("{:gutter$} |\n{line} | {code}\n{:gutter$} | {}^\n", "", "", " ".repeat(col.saturating_sub(1)));
    }
    out
}

/// The folder that imports of a script resolve from.
pub fn base_of(path: &Path) -> std::path::PathBuf {
    path.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or_else(|| ".".into())
}
