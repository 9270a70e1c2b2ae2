//! Build script: reads the version of the embedded Rhai from `Cargo.lock` so
//! that `jhctl --version` can name it (rhai exports no version constant).

use std::path::{Path, PathBuf};

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let lock = dir.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let version = rhai_version(&lock).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=JHCTL_RHAI_VERSION={version}");
}

/// The `version` of the `[[package]]` named `rhai` in the lock file, if any.
fn rhai_version(lock: &Path) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == r#"name = "rhai""# {
            let version = lines.next()?.strip_prefix("version = \"")?.strip_suffix('"')?;
            return Some(version.to_owned());
        }
    }
    None
}
