//! Random secrets (session ids, CSRF tokens, API tokens, join codes) and how
//! they are stored.
//!
//! Every secret is 256 bits from the operating system's CSPRNG. Secrets that
//! grant access (session ids, API tokens) are stored only as a SHA-256 digest:
//! a leaked `sessions` or `api_tokens` table then lets nobody in. A fast hash
//! is enough here because the input is random, not a password.

use sha2::{Digest, Sha256};

/// 32 random bytes, hex-encoded (64 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    hex::encode(bytes)
}

/// `len` characters from an alphabet without look-alikes (no 0/O, 1/I), for
/// codes people read aloud or type: 5 bits each.
pub fn random_code(len: usize) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect()
}

/// The digest stored in place of a secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time that depends only on their lengths, so a
/// guesser learns nothing from how fast a wrong token is refused.
pub fn same_secret(a: &str, b: &str) -> bool {
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Whether `value` looks like a [`random_token`] (so junk never reaches the database).
pub fn is_token_shaped(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert!(is_token_shaped(&a));
        assert_eq!(digest(&a).len(), 64);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret("", ""));
        let code = random_code(10);
        assert_eq!(code.len(), 10);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }
}
