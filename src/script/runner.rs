//! Running a script or a piece of code, and turning how it ended into an
//! exit status and a message (path, line, column and a caret).

use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Position, Scope, AST};

use super::cli_spec::set_script;
use super::error::{EXIT_FAILED, EXIT_USAGE};
use super::runtime::Context;
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
    let code = match engine.run_ast_with_scope(&mut scope, &ast) {
        Ok(()) => 0,
        Err(err) => {
            let code = report(&err, source);
            json_failure(engine, &err, code);
            code
        }
    };
    finish_journal(engine, code);
    code
}

/// With `--json`, a run that failed before printing its document prints one
/// on stdout anyway: `{"error": {"message", "kind", "exit"}}`, so whoever
/// reads stdout always gets JSON. The exit status stays as it was.
fn json_failure(engine: &Engine, err: &EvalAltResult, code: i32) {
    let Some(context) = engine.default_tag().clone().try_cast::<Rc<Context>>() else { return };
    if code == 0 || !context.json() || context.printed() {
        return;
    }
    let document = failure_document(err, code, context.last_eprint());
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    let _ = writeln!(std::io::stdout(), "{}", super::terminal_text::json_safe(&text));
}

/// The `{"error": ...}` document of a failed run: the thrown error's
/// message and kind; for `exit(n)`, the last line the script wrote with
/// `eprint` (its own `error:` or `❌` prefix taken off).
fn failure_document(err: &EvalAltResult, code: i32, last_eprint: Option<String>) -> serde_json::Value {
    let kind_of_exit = if i64::from(code) == EXIT_USAGE { "bad_input" } else { "failed" };
    let (message, kind) = match innermost(err).0 {
        EvalAltResult::ErrorRuntime(value, _) => match value.read_lock::<Map>() {
            Some(map) => (
                map.get("message").map(|m| m.to_string()).unwrap_or_else(|| value.to_string()),
                map.get("kind").map(|k| k.to_string()).unwrap_or_else(|| kind_of_exit.to_string()),
            ),
            None => (value.to_string(), kind_of_exit.to_string()),
        },
        EvalAltResult::ErrorTerminated(..) => {
            let said = last_eprint.map(|line| {
                let line = line.trim();
                let line = line.strip_prefix("❌").unwrap_or(line).trim_start();
                line.strip_prefix("error:").unwrap_or(line).trim().to_string()
            });
            (said.unwrap_or_else(|| format!("stopped with exit status {code}")), kind_of_exit.to_string())
        }
        other => (other.to_string(), kind_of_exit.to_string()),
    };
    serde_json::json!({ "error": { "message": message, "kind": kind, "exit": code } })
}

/// The error inside any function-call and module wrappers, and the module
/// or function source it came from.
fn innermost(err: &EvalAltResult) -> (&EvalAltResult, Option<String>) {
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
            _ => return (inner, origin),
        }
    }
}

/// Evaluates `code` and prints its value unless it is `()`; returns the exit status.
pub fn eval(engine: &Engine, source: &Source) -> i32 {
    set_script("eval", &[]);
    let ast = match compile(engine, source) {
        Ok(ast) => ast,
        Err(code) => return code,
    };
    let code = match engine.eval_ast::<Dynamic>(&ast) {
        Ok(value) if value.is_unit() => 0,
        Ok(value) => {
            let _ = writeln!(std::io::stdout(), "{}", escape_controls(&super::show::show(&value)));
            0
        }
        Err(err) => report(&err, source),
    };
    finish_journal(engine, code);
    code
}

/// Writes the `end` line of the run's journal, when the run opened one.
fn finish_journal(engine: &Engine, code: i32) {
    if let Some(context) = engine.default_tag().clone().try_cast::<Rc<Context>>() {
        context.finish_journal(code);
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
    let (inner, origin) = innermost(err);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_has_an_error_document() {
        let thrown = super::super::error::bad_input("roster `x.csv` row 2: username is empty");
        assert_eq!(
            failure_document(&thrown, 2, Some("ignored".into())),
            serde_json::json!({ "error": { "message": "roster `x.csv` row 2: username is empty", "kind": "bad_input", "exit": 2 } })
        );
        let stopped = EvalAltResult::ErrorTerminated(Dynamic::from(1_i64), Position::NONE);
        let said = Some("❌ Connection error: refused".to_string());
        assert_eq!(
            failure_document(&stopped, 1, said)["error"],
            serde_json::json!({ "message": "Connection error: refused", "kind": "failed", "exit": 1 })
        );
        let said = Some("error: --since 'x' is not a duration".to_string());
        assert_eq!(failure_document(&stopped, 2, said)["error"]["message"], "--since 'x' is not a duration");
        assert_eq!(failure_document(&stopped, 1, None)["error"]["message"], "stopped with exit status 1");
    }
}
