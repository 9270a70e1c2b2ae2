//! Random passwords and tokens, from rand's OS-seeded generator.

use rand::Rng;

/// Letters and digits without the look-alikes `l`, `I`, `O`, `0` and `1`.
pub const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Default length of a generated password.
pub const PASSWORD_LENGTH: usize = 12;

/// A random password of `len` characters from [`PASSWORD_ALPHABET`].
pub fn password(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())] as char).collect()
}

/// `bytes` random bytes as lower-case hex (32 bytes: 64 characters, like `openssl rand -hex 32`).
pub fn token_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_use_the_alphabet() {
        let p = password(PASSWORD_LENGTH);
        assert_eq!(p.len(), 12);
        assert!(p.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        assert!(!p.contains(['l', 'I', 'O', '0', '1']));
        assert_ne!(password(12), password(12));
    }

    #[test]
    fn tokens_are_hex() {
        let t = token_hex(32);
        assert_eq!(t.len(), 64);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
