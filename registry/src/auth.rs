//! Bearer tokens: random secrets, stored as SHA-256 hashes, checked in constant time.

use axum::{extract::FromRequestParts, http::request::Parts};
use imagenest_core::{Principal, api::TokenKind};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{error::ApiError, state::AppState};

/// Prefix of every token, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "inest_";

/// A new random token secret: the prefix and 40 letters and digits (about 238 bits).
pub fn new_secret() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{TOKEN_PREFIX}{tail}")
}

/// The stored form of a secret. Tokens are long random strings, so a fast hash is enough.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The authenticated caller of an API request.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthenticated("missing bearer token: send `Authorization: Bearer <token>` (imagenest token create makes one)"))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthenticated("the Authorization header is not valid text"))?;
        let secret = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
            })?;
        let (principal, kind) = state
            .authenticate(secret)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("invalid or revoked token"))?;
        if kind != TokenKind::Api {
            return Err(ApiError::unauthenticated(
                "this token is valid only for the ROS custom resource endpoint",
            ));
        }
        Ok(Caller(principal))
    }
}

/// Compares a computed hash with the stored one without leaking where they differ.
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hash_stably() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 40);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_eq!(hash_secret(&a).len(), 64);
        assert!(hashes_match(&hash_secret(&a), &hash_secret(&a)));
        assert!(!hashes_match(&hash_secret(&a), &hash_secret(&b)));
    }
}
