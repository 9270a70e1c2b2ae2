//! `ReplHelper`: what the line editor asks while a person types — Tab
//! completion of primitives, module functions, variables and map keys,
//! `:` commands, file names, and the hub's usernames inside a `hub` call.
//!
//! The usernames come from the session's own `hub` (so `hub.configure`
//! counts) on the first Tab that needs them, then from a cache that the
//! session empties after any input that called the hub. A hub that cannot
//! be reached just offers no names.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Array, Engine};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::commands::COMMANDS;
use crate::script::doc;

/// What completion knows of the session; the session updates it.
#[derive(Default)]
pub struct Names {
    /// Variables in scope, each with its keys when it holds a map.
    pub vars: Vec<(String, Vec<String>)>,
    /// Functions the session defined.
    pub functions: Vec<String>,
    /// The hub's usernames; `None` until fetched, or after a hub call.
    pub users: Option<Vec<String>>,
}

/// Rhai words offered with the names of the session.
const KEYWORDS: [&str; 22] = [
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "do", "until", "break", "continue", "return",
    "throw", "try", "catch", "switch", "import", "true", "false", "print",
];

/// The line editor's helper for one session.
pub struct ReplHelper {
    engine: Rc<Engine>,
    names: Rc<RefCell<Names>>,
    /// The primitives' names (`hub.users`, `roster::read`).
    primitives: Vec<String>,
    files: FilenameCompleter,
}

impl ReplHelper {
    /// A helper that completes from `engine`'s primitives and the session's `names`.
    pub fn new(engine: Rc<Engine>, names: Rc<RefCell<Names>>) -> ReplHelper {
        let mut primitives: Vec<String> = doc::entries(&engine).into_iter().map(|e| e.name).collect();
        primitives.dedup();
        ReplHelper { engine, names, primitives, files: FilenameCompleter::new() }
    }

    /// The candidates for the text before the cursor: where the replaced
    /// word starts, and the candidates.
    fn candidates(&self, before: &str) -> (usize, Vec<Pair>) {
        let word_start = before.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_').len();
        let (head, word) = before.split_at(word_start);
        if let Some(quote) = open_string(before) {
            if &before[quote..=quote] == "\"" && in_hub_call(&before[..quote]) {
                let typed = &before[quote + 1..];
                let mut users = self.usernames();
                users.retain(|u| u.starts_with(typed));
                users.sort();
                return (quote + 1, users.iter().map(|u| pair(u, format!("{u}\""))).collect());
            }
            return (word_start, Vec::new());
        }
        let mut out: Vec<Pair> = Vec::new();
        if let Some(object) = head.strip_suffix('.') {
            let object = last_word(object);
            if object == "hub" {
                out = self.members("hub.", word);
            } else if let Some((_, keys)) = self.names.borrow().vars.iter().rev().find(|(name, _)| name == object) {
                out = keys.iter().filter(|k| k.starts_with(word)).map(|k| pair(k, k.clone())).collect();
            }
        } else if let Some(module) = head.strip_suffix("::") {
            out = self.members(&format!("{}::", last_word(module)), word);
        } else if !word.is_empty() {
            out = self.members("", word);
            let names = self.names.borrow();
            let vars = names.vars.iter().map(|(name, _)| pair(name, name.clone()));
            let functions = names.functions.iter().map(|f| pair(f, f.clone()));
            let words = KEYWORDS.iter().chain(&["hub"]).map(|k| pair(k, k.to_string()));
            let modules = ["roster::", "cluster::"].iter().map(|m| pair(m, m.to_string()));
            out.extend(vars.chain(functions).chain(words).chain(modules).filter(|p| p.replacement.starts_with(word)));
        }
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out.dedup_by(|a, b| a.display == b.display);
        (word_start, out)
    }

    /// Primitives named `prefix` + something starting with `word`. A
    /// function completes to its name alone: the `(` typed next is the
    /// only one (issue #27: a completed `name(` and a typed `(` made two).
    fn members(&self, prefix: &str, word: &str) -> Vec<Pair> {
        self.primitives
            .iter()
            .filter_map(|p| p.strip_prefix(prefix))
            .filter(|rest| !rest.contains(['.', ':']) && rest.starts_with(word))
            .map(|rest| pair(rest, rest.to_string()))
            .collect()
    }

    /// The hub's usernames, fetched once (errors give none).
    fn usernames(&self) -> Vec<String> {
        if let Some(users) = &self.names.borrow().users {
            return users.clone();
        }
        let users: Vec<String> = match self.engine.eval::<Array>("hub.users().map(|u| u.name)") {
            Ok(names) => names.iter().map(|n| n.to_string()).collect(),
            Err(_) => Vec::new(),
        };
        self.names.borrow_mut().users = Some(users.clone());
        users
    }

    /// Completion of a `:` command line.
    fn command(&self, line: &str, pos: usize) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let Some((command, argument)) = before.split_once(' ') else {
            let pairs = COMMANDS.iter().filter(|(c, _)| c.starts_with(before)).map(|(c, _)| pair(c, format!("{c} ")));
            return Ok((0, pairs.collect()));
        };
        match command {
            ":doc" => {
                let argument = argument.trim_start();
                let pairs = self.primitives.iter().filter(|p| p.starts_with(argument)).map(|p| pair(p, p.clone()));
                Ok((pos - argument.len(), pairs.collect()))
            }
            ":load" | ":save" => self.files.complete_path(line, pos),
            _ => Ok((pos, Vec::new())),
        }
    }
}

fn pair(display: &str, replacement: String) -> Pair {
    Pair { display: display.to_string(), replacement }
}

/// The identifier that `text` ends with.
fn last_word(text: &str) -> &str {
    let start = text.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_').len();
    &text[start..]
}

/// Where the string literal still open at the end of `text` starts, if one is.
fn open_string(text: &str) -> Option<usize> {
    let mut open: Option<(usize, char)> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match open {
            Some(_) if escaped => escaped = false,
            Some((_, quote)) if c == '\\' && quote != '`' => escaped = true,
            Some((_, quote)) if c == quote => open = None,
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => open = Some((i, c)),
            None => {}
        }
    }
    open.map(|(i, _)| i)
}

/// Whether `text` ends inside the arguments of a `hub.` call.
fn in_hub_call(text: &str) -> bool {
    let Some(at) = text.rfind("hub.") else {
        return false;
    };
    let call = &text[at..];
    call.matches('(').count() > call.matches(')').count()
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.starts_with(':') {
            return self.command(line, pos);
        }
        Ok(self.candidates(&line[..pos]))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ReplHelper {
        let engine = crate::script::build_engine(std::path::Path::new("."), &Rc::default());
        let names = Names {
            vars: vec![("roster_rows".into(), vec![]), ("u".into(), vec!["name".into(), "admin".into()])],
            functions: vec!["report".into()],
            users: Some(vec!["alice".into(), "albert".into(), "bob".into()]),
        };
        ReplHelper::new(Rc::new(engine), Rc::new(RefCell::new(names)))
    }

    fn complete(before: &str) -> (usize, Vec<String>) {
        let (start, pairs) = helper().candidates(before);
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn hub_methods_after_hub_dot() {
        let (start, found) = complete("let r = hub.create_u");
        assert_eq!((start, found), (12, vec!["create_users".to_string()]));
        let (_, found) = complete("hub.");
        assert!(found.contains(&"users".to_string()) && found.contains(&"url".to_string()), "{found:?}");
    }

    // Issue #27: `hub.add_to` Tab, then `(`, gave `hub.add_to_group((`.
    #[test]
    fn a_completed_function_leaves_the_paren_to_the_typist() {
        let before = "hub.add_to";
        let (start, found) = complete(before);
        assert_eq!(found, ["add_to_group"]);
        let line = format!("{}{}(", &before[..start], found[0]);
        assert_eq!(line, "hub.add_to_group(");
    }

    #[test]
    fn module_functions_variables_keys_and_users() {
        assert_eq!(complete("roster::re").1, ["read"]);
        assert_eq!(complete("u.ad").1, ["admin"]);
        assert_eq!(complete("print(rost").1, ["roster::", "roster_rows"]);
        assert_eq!(complete("rep").1, ["report"]);
        assert_eq!(complete("hub.delete_users([\"al").1, ["albert\"", "alice\""]);
        assert_eq!(complete("print(\"al").1, Vec::<String>::new());
        assert_eq!(complete("").1, Vec::<String>::new());
    }
}
