//! `import "name"`: the bundled stdlib modules first, then `.rhai` files
//! next to the importing script.
//!
//! A bundled module is compiled once and shared by every script that
//! imports it (`manage-users` imports a dozen that import `users` and
//! `report`). Files are read at each import, so an edited file is seen at
//! once in the REPL.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

use super::bundled;

/// Resolves imports from the embedded stdlib, then from `base` (the
/// running script's folder, or the working directory).
pub struct Resolver {
    base: PathBuf,
    /// The bundled modules compiled so far, by name.
    bundled: RefCell<HashMap<String, Shared<Module>>>,
}

impl Resolver {
    /// A resolver for scripts in `base`.
    pub fn new(base: impl Into<PathBuf>) -> Self {
        Resolver { base: base.into(), bundled: RefCell::default() }
    }

    fn file(&self, source: Option<&str>, path: &str) -> PathBuf {
        let dir = source
            .map(Path::new)
            .filter(|p| p.is_file())
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.base.clone());
        let mut file = dir.join(path);
        if file.extension().is_none() {
            file.set_extension("rhai");
        }
        file
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(module) = self.bundled.borrow().get(path) {
            return Ok(module.clone());
        }
        let embedded = bundled::module(path);
        let (text, origin) = match embedded {
            Some(module) => (module.source.to_string(), module.path.to_string()),
            None => {
                let file = self.file(source, path);
                match std::fs::read_to_string(&file) {
                    Ok(text) => (text, file.display().to_string()),
                    Err(_) => return Err(Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos))),
                }
            }
        };
        let mut ast = engine
            .compile(&text)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(origin.clone(), Box::new(e.into()), pos)))?;
        ast.set_source(origin.as_str());
        let module: Shared<Module> = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(origin, e, pos)))?
            .into();
        if embedded.is_some() {
            self.bundled.borrow_mut().insert(path.to_string(), module.clone());
        }
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundled_module_is_compiled_once_and_files_are_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = Engine::new();
        engine.set_max_expr_depths(256, 256);
        let resolver = Resolver::new(dir.path());
        let first = resolver.resolve(&engine, None, "report", Position::NONE).unwrap();
        let again = resolver.resolve(&engine, None, "report", Position::NONE).unwrap();
        assert!(Shared::ptr_eq(&first, &again), "the same compiled module");

        let file = dir.path().join("mine.rhai");
        std::fs::write(&file, "export const N = 1;").unwrap();
        let before = resolver.resolve(&engine, None, "mine", Position::NONE).unwrap();
        std::fs::write(&file, "export const N = 2;").unwrap();
        let after = resolver.resolve(&engine, None, "mine", Position::NONE).unwrap();
        assert_eq!(before.get_var_value::<i64>("N"), Some(1));
        assert_eq!(after.get_var_value::<i64>("N"), Some(2), "an edited file is seen");
    }
}
