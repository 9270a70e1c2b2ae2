//! bcrypt hashes (`$2b$`, as Python's `bcrypt.hashpw` makes them), computed
//! on every core at once.

use std::num::NonZeroUsize;

/// The cost the hub's authenticator uses.
pub const DEFAULT_COST: u32 = 12;

/// Hashes each password with `cost`, spreading the work over all cores.
/// Results are in input order; an error names what went wrong (never the
/// password).
pub fn hash_all(passwords: &[&str], cost: u32) -> Vec<Result<String, String>> {
    let threads = std::thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(1).min(passwords.len().max(1));
    let chunk = passwords.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|p| hash_one(p, cost)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| vec![Err("hashing failed; this is a bug, please report it".into())])
            })
            .collect()
    })
}

fn hash_one(password: &str, cost: u32) -> Result<String, String> {
    bcrypt::hash_with_result(password, cost)
        .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
        .map_err(|e| format!("cannot hash the password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_keep_order() {
        let passwords = ["alpha\"'$(x)", "beta\nü", "gamma"];
        let hashes = hash_all(&passwords, 4);
        assert_eq!(hashes.len(), 3);
        for (p, h) in passwords.iter().zip(&hashes) {
            let h = h.as_ref().unwrap();
            assert!(h.starts_with("$2b$04$"), "{h}");
            assert!(bcrypt::verify(p, h).unwrap());
        }
    }
}
