//! Bearer tokens, enrolment codes and ids: how they are drawn and how they are stored.
//!
//! Tokens carry 256 random bits and codes 60, drawn from the operating system's generator
//! (through `rand`'s thread generator, a CSPRNG seeded from it). The platform keeps only the
//! SHA-256 of a token or code: high-entropy secrets need no slow hash, and a leaked database
//! then grants nothing. Codes are short enough to type: 12 characters of an alphabet without
//! look-alikes (no 0/O, 1/I/L, U), grouped by four, read case-insensitively.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

/// Prefix of device tokens (protocol: opaque token68 characters).
pub const DEVICE_TOKEN_PREFIX: &str = "pd1_";
/// Prefix of publisher tokens.
pub const PUBLISHER_TOKEN_PREFIX: &str = "pp1_";

const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_GROUPS: usize = 3;
const CODE_GROUP_LEN: usize = 4;
const ID_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstvwxyz";

/// A new random bearer token with this prefix.
pub fn new_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token or of a normalized code.
pub fn hash_secret(secret: &str) -> String {
    palier_content::demo::sha256_hex(secret.as_bytes())
}

/// A new enrolment code such as `K7PQ-9XMR-T4DW`.
pub fn new_enrolment_code() -> String {
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..CODE_GROUPS)
        .map(|_| {
            (0..CODE_GROUP_LEN)
                .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
                .collect()
        })
        .collect();
    groups.join("-")
}

/// The canonical form of a typed code: upper case, without dashes or spaces.
pub fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| !matches!(c, '-' | ' ' | '\u{a0}')).flat_map(char::to_uppercase).collect()
}

/// A new random id such as `dev-7k2m9q4x`.
pub fn new_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String =
        (0..8).map(|_| char::from(ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())])).collect();
    format!("{prefix}-{tail}")
}

/// The token of an `Authorization: Bearer <token>` header value, if it is one.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typeable_and_normalize() {
        let code = new_enrolment_code();
        assert_eq!(code.len(), 14, "{code}");
        assert_eq!(code.matches('-').count(), 2);
        assert_eq!(normalize_code(&code.to_lowercase()), code.replace('-', ""));
        assert_eq!(normalize_code("k7pq 9xmr-t4dw"), "K7PQ9XMRT4DW");
    }

    #[test]
    fn tokens_are_distinct_token68_strings() {
        let a = new_token(DEVICE_TOKEN_PREFIX);
        let b = new_token(DEVICE_TOKEN_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("pd1_") && a.len() == 4 + 43, "{a}");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_".contains(&c)));
        assert_eq!(hash_secret(&a).len(), 64);
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
