//! The cloud regions imagenest knows by ID: Alibaba Cloud's public regions.
//!
//! The registry asks its cloud driver which regions exist; this table is the shared
//! fact the sim cloud serves and the default when a driver cannot list regions.

/// A region of the cloud: its ID (`cn-hangzhou`) and a human name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub id: &'static str,
    pub name: &'static str,
}

/// Alibaba Cloud public regions (ECS), by ID.
pub const ALIBABA_REGIONS: &[Region] = &[
    Region {
        id: "cn-qingdao",
        name: "China (Qingdao)",
    },
    Region {
        id: "cn-beijing",
        name: "China (Beijing)",
    },
    Region {
        id: "cn-zhangjiakou",
        name: "China (Zhangjiakou)",
    },
    Region {
        id: "cn-huhehaote",
        name: "China (Hohhot)",
    },
    Region {
        id: "cn-wulanchabu",
        name: "China (Ulanqab)",
    },
    Region {
        id: "cn-hangzhou",
        name: "China (Hangzhou)",
    },
    Region {
        id: "cn-shanghai",
        name: "China (Shanghai)",
    },
    Region {
        id: "cn-nanjing",
        name: "China (Nanjing - Local Region)",
    },
    Region {
        id: "cn-fuzhou",
        name: "China (Fuzhou - Local Region)",
    },
    Region {
        id: "cn-shenzhen",
        name: "China (Shenzhen)",
    },
    Region {
        id: "cn-heyuan",
        name: "China (Heyuan)",
    },
    Region {
        id: "cn-guangzhou",
        name: "China (Guangzhou)",
    },
    Region {
        id: "cn-chengdu",
        name: "China (Chengdu)",
    },
    Region {
        id: "cn-hongkong",
        name: "China (Hong Kong)",
    },
    Region {
        id: "ap-northeast-1",
        name: "Japan (Tokyo)",
    },
    Region {
        id: "ap-northeast-2",
        name: "South Korea (Seoul)",
    },
    Region {
        id: "ap-southeast-1",
        name: "Singapore",
    },
    Region {
        id: "ap-southeast-3",
        name: "Malaysia (Kuala Lumpur)",
    },
    Region {
        id: "ap-southeast-5",
        name: "Indonesia (Jakarta)",
    },
    Region {
        id: "ap-southeast-6",
        name: "Philippines (Manila)",
    },
    Region {
        id: "ap-southeast-7",
        name: "Thailand (Bangkok)",
    },
    Region {
        id: "us-east-1",
        name: "US (Virginia)",
    },
    Region {
        id: "us-west-1",
        name: "US (Silicon Valley)",
    },
    Region {
        id: "eu-west-1",
        name: "UK (London)",
    },
    Region {
        id: "eu-central-1",
        name: "Germany (Frankfurt)",
    },
    Region {
        id: "me-east-1",
        name: "UAE (Dubai)",
    },
    Region {
        id: "me-central-1",
        name: "Saudi Arabia (Riyadh)",
    },
];

/// Looks a region up by ID.
pub fn find(id: &str) -> Option<&'static Region> {
    ALIBABA_REGIONS.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in ALIBABA_REGIONS {
            assert!(seen.insert(r.id), "duplicate region {}", r.id);
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
        }
        assert!(find("cn-hangzhou").is_some());
        assert!(find("mars-1").is_none());
    }
}
