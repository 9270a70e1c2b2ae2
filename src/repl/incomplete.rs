//! Whether an input needs more lines: the REPL's continuation rule.
//!
//! Rhai reports an unfinished input as a syntax error at its very end
//! ("Expecting '}' to terminate this block", "Script is incomplete"); such
//! an error asks for another line, any other is shown. A `"` string cannot
//! span lines (except after a `\`), a backtick or raw string can. A block
//! comment that is still open is no error for Rhai, so the tokenizer is
//! asked.

use rhai::{Engine, LexError, ParseErrorType, Position};

/// Whether `text` (one or more lines) stops in the middle of something.
pub fn is_incomplete(engine: &Engine, text: &str) -> bool {
    if in_block_comment(engine, text) {
        return true;
    }
    let Err(err) = engine.compile(text) else {
        return false;
    };
    match *err.0 {
        ParseErrorType::BadInput(LexError::UnterminatedString) => string_goes_on(text, err.1),
        _ => at_end(text, err.1),
    }
}

/// Whether `pos` is past the last character of `text`.
fn at_end(text: &str, pos: Position) -> bool {
    let (Some(line), Some(col)) = (pos.line(), pos.position()) else {
        return true;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    line > lines.len() || line == lines.len() && col > lines[line - 1].chars().count()
}

/// Whether the open string starting at `pos` may go on in the next line.
fn string_goes_on(text: &str, pos: Position) -> bool {
    let opener = pos
        .line()
        .and_then(|line| text.split('\n').nth(line - 1))
        .and_then(|line| line.chars().nth(pos.position().unwrap_or(1).saturating_sub(1)));
    match opener {
        Some('`' | '#') => true,
        Some('"') => text.ends_with('\\'),
        _ => false,
    }
}

fn in_block_comment(engine: &Engine, text: &str) -> bool {
    if !text.contains("/*") {
        return false;
    }
    let inputs = [text];
    let (mut tokens, _) = engine.lex(&inputs);
    for (token, _) in tokens.by_ref() {
        if token == rhai::Token::EOF {
            break;
        }
    }
    tokens.state.comment_level > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_brackets_strings_and_comments_go_on() {
        let engine = Engine::new();
        for text in [
            "{",
            "for i in 0..3 {\n  print(i);",
            "let x = [1,",
            "f(1,",
            "#{a: 1,",
            "let x =",
            "if x",
            "let s = `abc",
            "let s = \"abc\\",
            "/* a comment",
            "fn f(a) {\n",
            "hub.users().",
        ] {
            assert!(is_incomplete(&engine, text), "{text:?} should be incomplete");
        }
    }

    #[test]
    fn finished_or_wrong_input_does_not() {
        let engine = Engine::new();
        for text in ["1 + 2", "let x = 1;", ")", "1 2", "\"abc", "\"abc\ndef\"", "for i in 0..3 {\n}", "/* a */ 1"] {
            assert!(!is_incomplete(&engine, text), "{text:?} should be complete");
        }
    }
}
