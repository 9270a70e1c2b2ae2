//! `import "name"`: the bundled stdlib modules first, then `.rhai` files
//! next to the importing script.

use std::path::{Path, PathBuf};

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

use super::bundled;

/// Resolves imports from the embedded stdlib, then from `base` (the
/// running script's folder, or the working directory).
pub struct Resolver {
    base: PathBuf,
}

impl Resolver {
    /// A resolver for scripts in `base`.
    pub fn new(base: impl Into<PathBuf>) -> Self {
        Resolver { base: base.into() }
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
        let (text, origin) = match bundled::module(path) {
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
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(origin, e, pos)))?;
        Ok(module.into())
    }
}
