//! What the sim cloud knows: accounts, images and copies, as plain serialisable data.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Owner of the seeded marketplace images (not an account anyone can sign as).
pub const MARKETPLACE_OWNER: &str = "marketplace";

/// A sim account: a name, its cloud account ID and one access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    /// 16 digits, derived from the name, so the same name has the same ID in every sim.
    pub account_id: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

/// Account ID of an account name: 16 decimal digits from SHA-256 of the name, first digit 1–9.
pub fn account_id_for(name: &str) -> String {
    let digest = Sha256::digest(format!("imagenest-sim-account:{name}").as_bytes());
    let mut n = u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    n = 1_000_000_000_000_000 + n % 9_000_000_000_000_000;
    n.to_string()
}

/// Image status, as ECS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Waiting,
    Creating,
    Available,
    CreateFailed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "Waiting",
            Status::Creating => "Creating",
            Status::Available => "Available",
            Status::CreateFailed => "CreateFailed",
        }
    }

    pub fn in_progress(self) -> bool {
        matches!(self, Status::Waiting | Status::Creating)
    }
}

/// How a copy came to be and how it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyInfo {
    pub source_image_id: String,
    pub source_region: String,
    /// Order of the request among all copies (queue order).
    pub seq: u64,
    pub requested_ms: u64,
    /// How long the copy runs once started.
    pub duration_ms: u64,
    /// Drawn at request time from the failure rate: the copy ends `CreateFailed`.
    pub fails: bool,
    pub started_ms: Option<u64>,
    pub finished_ms: Option<u64>,
}

/// One image in one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub region: String,
    /// Owner's account ID ([`MARKETPLACE_OWNER`] for marketplace images).
    pub owner: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub size_gib: u64,
    pub status: Status,
    pub created_ms: u64,
    #[serde(default)]
    pub copy: Option<CopyInfo>,
    #[serde(default)]
    pub shared_with: BTreeSet<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub product_code: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

impl Image {
    /// Progress in percent at `now_ms`.
    pub fn progress(&self, now_ms: u64) -> u8 {
        match self.status {
            Status::Available => 100,
            Status::Waiting => 0,
            Status::CreateFailed => 0,
            Status::Creating => {
                let Some(copy) = &self.copy else { return 0 };
                let started = copy.started_ms.unwrap_or(now_ms);
                if copy.duration_ms == 0 {
                    return 99;
                }
                let pct = now_ms.saturating_sub(started).saturating_mul(100) / copy.duration_ms;
                pct.min(99) as u8
            }
        }
    }

    pub fn is_marketplace(&self) -> bool {
        self.owner == MARKETPLACE_OWNER
    }
}

/// A fresh image ID: `m-` and 20 lowercase letters and digits.
pub fn new_image_id(rng: &mut impl rand::Rng) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::from("m-");
    for _ in 0..20 {
        id.push(char::from(CHARS[rng.random_range(0..CHARS.len())]));
    }
    id
}

/// A fresh random string of letters and digits (access keys).
pub fn random_alnum(rng: &mut impl rand::Rng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// True when `id` looks like a sim image ID.
pub fn is_image_id(id: &str) -> bool {
    id.strip_prefix("m-").is_some_and(|rest| {
        rest.len() == 20
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_real() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            assert!(is_image_id(&new_image_id(&mut rng)));
        }
        let a = account_id_for("acme");
        assert_eq!(a.len(), 16);
        assert_eq!(a, account_id_for("acme"));
        assert_ne!(a, account_id_for("delivery"));
    }
}
