//! The marketplace products every sim cloud has, seeded per region with stable image IDs.
//!
//! | product | versions | regions |
//! | --- | --- | --- |
//! | `cmjj00001` (LAMP stack) | `V1.0`, `V2.0` | all |
//! | `cmjj00002` (GPU base) | `V1.0` | China regions (`cn-*`) only |
//! | `cmjj00003` (legacy app) | `V1.0` | `cn-hangzhou` only |

use sha2::{Digest, Sha256};

use crate::model::{Image, MARKETPLACE_OWNER, Status};

/// A seeded product.
pub struct Product {
    pub code: &'static str,
    pub name: &'static str,
    pub versions: &'static [&'static str],
    pub in_region: fn(&str) -> bool,
}

/// The seeded products.
pub const PRODUCTS: &[Product] = &[
    Product {
        code: "cmjj00001",
        name: "LAMP stack (sim)",
        versions: &["V1.0", "V2.0"],
        in_region: |_| true,
    },
    Product {
        code: "cmjj00002",
        name: "GPU base (sim)",
        versions: &["V1.0"],
        in_region: |r| r.starts_with("cn-"),
    },
    Product {
        code: "cmjj00003",
        name: "Legacy app (sim)",
        versions: &["V1.0"],
        in_region: |r| r == "cn-hangzhou",
    },
];

/// 2024-01-01T00:00:00Z; later versions are a day newer each.
const SEEDED_AT_MS: u64 = 1_704_067_200_000;

fn stable_id(parts: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let digest = Sha256::digest(parts.as_bytes());
    let mut id = String::from("m-");
    for b in digest.iter().take(20) {
        id.push(char::from(CHARS[usize::from(*b) % CHARS.len()]));
    }
    id
}

/// Every marketplace image of every region.
pub fn seeded_images() -> Vec<Image> {
    let mut out = Vec::new();
    for region in imagenest_core::regions::ALIBABA_REGIONS {
        for p in PRODUCTS.iter().filter(|p| (p.in_region)(region.id)) {
            for (n, version) in p.versions.iter().enumerate() {
                out.push(Image {
                    id: stable_id(&format!("{}|{}|{}", p.code, version, region.id)),
                    region: region.id.to_string(),
                    owner: MARKETPLACE_OWNER.to_string(),
                    name: format!("{} {}", p.name, version),
                    description: String::new(),
                    size_gib: 20,
                    status: Status::Available,
                    created_ms: SEEDED_AT_MS + n as u64 * 86_400_000,
                    copy: None,
                    shared_with: Default::default(),
                    public: true,
                    product_code: Some(p.code.to_string()),
                    version: Some(version.to_string()),
                });
            }
        }
    }
    out
}
