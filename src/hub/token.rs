//! The hub API token: a string that never shows in output, logs or errors.

use std::fmt;

/// An API token. `Debug` and `Display` print `<redacted>`; only
/// [`Token::expose`] gives the text, for the `Authorization` header and
/// for output the user asked for by name.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token, trimming surrounding white space (a secret often ends in a newline).
    pub fn new(text: impl Into<String>) -> Self {
        Token(text.into().trim().to_string())
    }

    /// The token's text. Call only to send it or to print it on request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
