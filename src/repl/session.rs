//! `Session`: the engine and the scope that every input of one REPL
//! session shares, and what it remembers of them.
//!
//! Each input is compiled on its own and merged with the functions and
//! `import`s of the inputs that ran before it, then run in the session's
//! scope. Inputs are numbered by their lines in the whole session (the
//! text is padded with that many newlines before compiling), so an error
//! anywhere, even in a function defined ten inputs ago, shows the right
//! line with a caret.

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, Module, Scope, Stmt, AST};

use super::helper::Names;
use super::interrupt;
use crate::script::build_engine;
use crate::script::error::{EXIT_FAILED, EXIT_USAGE};
use crate::script::runner::{self, located, Source};
use crate::script::runtime::Context;
use crate::script::show::show;

/// How one input or command ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It ran.
    Done,
    /// It failed (the message is printed) with this status; the session goes on.
    Failed(i32),
    /// `:quit`: end the session.
    Quit,
    /// `exit(n)`: end the session with status `n`.
    Exit(i32),
}

/// One REPL session's engine, scope and memory.
pub struct Session {
    engine: Rc<Engine>,
    scope: Scope<'static>,
    /// `import` statements of inputs that ran, run again before each input.
    imports: Vec<Stmt>,
    /// Functions defined by inputs that ran.
    functions: AST,
    /// `<repl>` or `<stdin>`, in error places.
    name: &'static str,
    /// Every line of code entered, for error places.
    log: String,
    /// Lines in `log`.
    lines: usize,
    /// Inputs that ran without error, for `:save`.
    saved: Vec<String>,
    /// Show values as JSON (`:json`).
    json: bool,
    names: Rc<RefCell<Names>>,
}

impl Session {
    /// A fresh session whose imports resolve from `base`; `name` labels its
    /// lines in error messages.
    pub fn new(base: &Path, name: &'static str, context: &Rc<Context>) -> Session {
        let mut engine = build_engine(base, context);
        engine.on_progress(|_| interrupt::requested().then(|| Dynamic::from(interrupt::STOPPED)));
        Session {
            engine: Rc::new(engine),
            scope: Scope::new(),
            imports: Vec::new(),
            functions: AST::empty(),
            name,
            log: String::new(),
            lines: 0,
            saved: Vec::new(),
            json: context.settings().json,
            names: Rc::default(),
        }
    }

    /// The session's engine.
    pub fn engine(&self) -> Rc<Engine> {
        Rc::clone(&self.engine)
    }

    /// What completion knows of the session, kept up to date after each input.
    pub fn names(&self) -> Rc<RefCell<Names>> {
        Rc::clone(&self.names)
    }

    /// Switches JSON output on or off; returns whether it is now on.
    pub fn toggle_json(&mut self) -> bool {
        self.json = !self.json;
        self.json
    }

    /// Runs one input (code, maybe several lines) and shows its value.
    pub fn eval(&mut self, text: &str) -> Outcome {
        let before = self.lines;
        self.log.push_str(text);
        self.log.push('\n');
        self.lines += text.split('\n').count();
        let padded = format!("{}{text}", "\n".repeat(before));
        let outcome = match self.engine.compile_with_scope(&self.scope, &padded) {
            Ok(mut ast) => {
                ast.set_source(self.name);
                self.execute(&ast, None)
            }
            Err(err) => {
                let message = format!("syntax error: {}", err.0);
                eprint!("{}", located(&message, self.name, &self.log, err.1));
                Outcome::Failed(EXIT_USAGE as i32)
            }
        };
        if outcome == Outcome::Done {
            self.saved.push(text.to_string());
        }
        if text.contains("hub.") {
            // The call may have added or removed users.
            self.names.borrow_mut().users = None;
        }
        outcome
    }

    /// Runs the script in file `path` in the session's scope (`:load`).
    pub fn load(&mut self, path: &str) -> Outcome {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: cannot read script `{path}`: {e}");
                return Outcome::Failed(EXIT_USAGE as i32);
            }
        };
        let source = Source { name: path, text: &text };
        let outcome = match runner::compile(&self.engine, &source) {
            Ok(ast) => self.execute(&ast, Some(&source)),
            Err(code) => Outcome::Failed(code),
        };
        if outcome == Outcome::Done {
            self.saved.push(format!("// :load {path}\n{}", text.trim_end()));
        }
        self.names.borrow_mut().users = None;
        outcome
    }

    /// Writes the inputs that ran without error to `path` as a script
    /// (atomically); returns how many.
    pub fn save(&self, path: &Path) -> std::io::Result<usize> {
        let mut script = String::from("//! Saved from `jhctl repl`.\n\n");
        for input in &self.saved {
            script.push_str(&as_statement(&self.engine, input));
            script.push('\n');
        }
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(script.as_bytes())?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(self.saved.len())
    }

    /// The variables in scope, one a line: name, type and a short look at the value.
    pub fn vars(&self) -> String {
        let mut seen = HashSet::new();
        let mut rows: Vec<(String, String, String)> = Vec::new();
        let all: Vec<_> = self.scope.iter().collect();
        for (name, constant, value) in all.into_iter().rev() {
            if seen.insert(name) {
                let mut kind = self.engine.map_type_name(value.type_name()).to_string();
                if constant {
                    kind = format!("const {kind}");
                }
                rows.push((name.to_string(), kind, glance(&value)));
            }
        }
        rows.reverse();
        let name_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let kind_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        rows.iter().map(|(name, kind, value)| format!("{name:name_width$}  {kind:kind_width$}  {value}\n")).collect()
    }

    fn execute(&mut self, ast: &AST, file: Option<&Source>) -> Outcome {
        let prelude = AST::new(self.imports.iter().cloned(), Module::new());
        let mut program = prelude.merge(&self.functions).merge(ast);
        program.set_source(ast.source().unwrap_or(self.name));
        interrupt::clear();
        let (engine, scope) = (&self.engine, &mut self.scope);
        // Ctrl-C ends the input as `ErrorTerminated` (between steps, or in a
        // hub call in flight): reported below, and the session goes on.
        let outcome = match engine.eval_ast_with_scope::<Dynamic>(scope, &program) {
            Ok(value) => {
                self.functions = self.functions.merge(&ast.clone_functions_only());
                self.imports.extend(ast.statements().iter().filter(|s| matches!(s, Stmt::Import(..))).cloned());
                self.print(&value);
                Outcome::Done
            }
            Err(err) => match terminated(&err) {
                Some(code) if code.is_int() => Outcome::Exit(code.as_int().unwrap_or(EXIT_FAILED) as i32),
                Some(_) => {
                    eprintln!("interrupted");
                    Outcome::Failed(EXIT_FAILED as i32)
                }
                None => {
                    let session = Source { name: self.name, text: &self.log };
                    Outcome::Failed(runner::report(&err, file.unwrap_or(&session)))
                }
            },
        };
        self.refresh_names();
        outcome
    }

    fn print(&self, value: &Dynamic) {
        if value.is_unit() {
            return;
        }
        let text = match self.json {
            true => match rhai::serde::from_dynamic::<serde_json::Value>(value) {
                Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_else(|_| value.to_string()),
                Err(_) => value.to_string(),
            },
            false => show(value),
        };
        let _ = writeln!(std::io::stdout(), "{}", crate::script::terminal_text::escape_controls(&text));
    }

    fn refresh_names(&self) {
        let mut names = self.names.borrow_mut();
        names.vars = self
            .scope
            .iter_raw()
            .map(|(name, _, value)| {
                let keys =
                    value.read_lock::<Map>().map(|m| m.keys().map(|k| k.to_string()).collect()).unwrap_or_default();
                (name.to_string(), keys)
            })
            .collect();
        names.functions = self.functions.iter_functions().map(|f| f.name.to_string()).collect();
    }
}

/// The value a script terminated with (`exit(n)` or Ctrl-C), if it did.
/// `input` as it stands in a saved script: ended with `;` when the next
/// input would otherwise run on from it (`let x = 5`, then `x + 1`).
/// Blocks (`for`, `if`, `fn`) need none.
fn as_statement(engine: &Engine, input: &str) -> String {
    let text = input.trim_end();
    // A number cannot go on from the end of a statement (`()` could: `u.name ()` is a call).
    if text.ends_with(';') || engine.compile(format!("{text}\n0")).is_ok() {
        return text.to_string();
    }
    // A `//` comment on the last line would swallow the `;`.
    match text.lines().last() {
        Some(last) if last.contains("//") => format!("{text}\n;"),
        _ => format!("{text};"),
    }
}

fn terminated(err: &EvalAltResult) -> Option<&Dynamic> {
    match err {
        EvalAltResult::ErrorTerminated(value, _) => Some(value),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) | EvalAltResult::ErrorInModule(_, inner, _) => {
            terminated(inner)
        }
        _ => None,
    }
}

/// A value in a few words, for `:vars`.
fn glance(value: &Dynamic) -> String {
    if let Some(array) = value.read_lock::<Array>() {
        return format!("{} items", array.len());
    }
    if let Some(map) = value.read_lock::<Map>() {
        let keys: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        return format!("#{{{}}}", keys.join(", "));
    }
    let text = value.to_string().replace('\n', " ");
    match text.char_indices().nth(50) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue #27: `:save` wrote inputs without `;`, so `jhctl run` failed
    // with "Expecting ';'".
    #[test]
    fn saved_inputs_end_so_that_the_script_compiles() {
        let engine = build_engine(Path::new("."), &Rc::default());
        let cases = [
            ("let x = 5", "let x = 5;"),
            ("let m = #{ a: 1 }", "let m = #{ a: 1 };"),
            ("x + 1 // one more", "x + 1 // one more\n;"),
            ("m.a", "m.a;"),
            ("print(x);", "print(x);"),
            ("for i in 0..2 {\n    print(i)\n}", "for i in 0..2 {\n    print(i)\n}"),
            ("fn twice(a) { a * 2 }", "fn twice(a) { a * 2 }"),
            ("import \"report\" as report", "import \"report\" as report;"),
        ];
        for (input, saved) in cases {
            assert_eq!(as_statement(&engine, input), saved, "{input}");
        }
        let script: Vec<String> = cases.iter().map(|(input, _)| as_statement(&engine, input)).collect();
        let script = script.join("\n") + "\ntwice(m.a)\n";
        assert!(engine.compile(&script).is_ok(), "{script}");
    }
}
