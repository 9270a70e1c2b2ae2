//! The bundled scripts and stdlib modules, embedded in the binary.
//!
//! Each file in `scripts/` is a workflow run by name (`jhctl manage-users`);
//! each file in `stdlib/` is a module any script can `import`.

/// A file embedded in the binary.
pub struct Bundled {
    /// Its name: `manage_users` for `scripts/manage_users.rhai`.
    pub name: &'static str,
    /// Its path in the source tree, shown in errors.
    pub path: &'static str,
    /// Its text.
    pub source: &'static str,
}

macro_rules! bundle {
    ($dir:literal, $($name:literal),* $(,)?) => {
        &[$(Bundled {
            name: $name,
            path: concat!($dir, "/", $name, ".rhai"),
            source: include_str!(concat!("../../", $dir, "/", $name, ".rhai")),
        }),*]
    };
}

/// The bundled workflows.
pub const SCRIPTS: &[Bundled] =
    bundle!("scripts", "credentials", "generate_users_template", "history", "manage_users", "set_passwords", "undo");

/// The bundled stdlib modules.
pub const STDLIB: &[Bundled] = bundle!(
    "stdlib",
    "accounts",
    "create",
    "groups",
    "listing",
    "passwords",
    "quota",
    "rename",
    "prune",
    "report",
    "servers",
    "sync",
    "tokens",
    "users"
);

/// The bundled script called `name` (`-` and `_` are the same).
pub fn script(name: &str) -> Option<&'static Bundled> {
    let name = name.replace('-', "_");
    SCRIPTS.iter().find(|s| s.name == name)
}

/// The stdlib module called `name` (with or without `.rhai`).
pub fn module(name: &str) -> Option<&'static Bundled> {
    let name = name.trim_end_matches(".rhai");
    STDLIB.iter().find(|s| s.name == name)
}

/// The first line of a file's `//!` doc: what it does.
pub fn summary(source: &str) -> String {
    source.lines().find_map(|l| l.trim().strip_prefix("//!").map(|t| t.trim().to_string())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_dash_or_underscore() {
        assert!(script("generate-users-template").is_some());
        assert!(script("generate_users_template").is_some());
        assert!(script("nope").is_none());
    }

    #[test]
    fn every_bundled_file_compiles() {
        let engine = crate::script::build_engine(std::path::Path::new("."), &Default::default());
        for file in SCRIPTS.iter().chain(STDLIB) {
            if let Err(e) = engine.compile(file.source) {
                panic!("{} does not compile: {e}", file.path);
            }
        }
    }

    /// Each function of a bundled file fits on a screen: `fn` at the start
    /// of a line to the `}` that closes it at the start of a line.
    #[test]
    fn every_bundled_function_is_short() {
        for file in SCRIPTS.iter().chain(STDLIB) {
            let mut start = None;
            for (i, line) in file.source.lines().enumerate() {
                if line.starts_with("fn ") {
                    start = Some((i, line));
                } else if line.starts_with('}') {
                    if let Some((first, name)) = start.take() {
                        let length = i - first + 1;
                        assert!(length < 60, "{}:{} `{name}` is {length} lines long", file.path, first + 1);
                    }
                }
            }
        }
    }

    /// A function of a bundled file never shares its name with a primitive:
    /// Rhai would call the script's function for `hub.NAME(...)` inside
    /// that module.
    #[test]
    fn no_bundled_function_shadows_a_primitive() {
        let engine = crate::script::build_engine(std::path::Path::new("."), &Default::default());
        let primitives: std::collections::HashSet<String> = engine
            .gen_fn_signatures(false)
            .iter()
            .filter_map(|sig| sig.split('(').next().map(|name| name.trim_start_matches("get$").to_string()))
            .collect();
        for file in SCRIPTS.iter().chain(STDLIB) {
            for line in file.source.lines() {
                let Some(name) = line.strip_prefix("fn ").and_then(|rest| rest.split('(').next()) else { continue };
                assert!(!primitives.contains(name), "{}: `fn {name}` shadows the primitive `{name}`", file.path);
            }
        }
    }

    /// Statuses are turned into lines by `report::lines` only.
    #[test]
    fn no_bundled_file_switches_on_a_status() {
        for file in SCRIPTS.iter().chain(STDLIB) {
            assert!(!file.source.contains(".status {"), "{} has its own status switch; use report::lines", file.path);
        }
    }

    #[test]
    fn every_bundled_file_says_what_it_does() {
        for file in SCRIPTS.iter().chain(STDLIB) {
            assert!(!summary(file.source).is_empty(), "{} has no //! summary", file.path);
        }
    }
}
